"""Dropping a claim's condition lets the Hypothesis search find a counterexample.

Claim 2 (small init vanishes, shrinking by g per layer) holds when every layer gain
``g_l = sigma sqrt(n_{l-1})`` is below 1 (and the pre-activations start in the linear
regime). Let the search draw gains up to 3 instead: it must find a case where the
property fails on the reference, and that case must lie outside the condition. This
is the evidence that the property is not vacuous and that its boundary is where the
module docstring says it is.
"""

from __future__ import annotations

import math

from hypothesis import Phase, find, settings
from hypothesis import strategies as st

from weight_init.properties.claims import _strategies as S
from weight_init.properties.claims._vanishing import condition_holds, small_init_vanishes

ALPHA = 1e-4


def _sigma(net: S.Network, gain: float) -> float:
    return gain / math.sqrt(max([net.input_dim, *net.widths[:-1]]))


def test_small_init_property_has_a_counterexample_without_its_gain_condition() -> None:
    cases = st.tuples(
        S.networks(min_depth=2, max_depth=12, max_width=128),
        st.floats(min_value=0.05, max_value=3.0),
        st.sampled_from(["tanh"]),
        S.seeds,
    )

    def fails(case: tuple[S.Network, float, str, int]) -> bool:
        net, gain, act, seed = case
        v = small_init_vanishes(
            None, sigma=_sigma(net, gain), activation=act, seed=seed, alpha=ALPHA, **net.kwargs()
        )
        return v.outcome == "fail"

    net, gain, act, seed = find(
        cases,
        fails,
        settings=settings(
            max_examples=300,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.generate],
        ),
    )
    sigma = _sigma(net, gain)
    assert not condition_holds(sigma, net.widths, net.input_dim, act), (
        f"the property failed inside its condition: widths={net.widths}, sigma={sigma}, seed={seed}"
    )
    print(
        f"counterexample: widths={net.widths} input_dim={net.input_dim} gain={gain:.3g} seed={seed}"
    )
