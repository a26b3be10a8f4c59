"""The seed's claims as Hypothesis properties on the reference (the ``ci`` profile: 25
derandomized examples each; ``thorough``: 300 random).

Hypothesis draws the case (depth 1..30, per-layer widths incl. very unequal
neighbours, batch, activation, scheme, scale, seed); each property seeds its numpy
Generators from the drawn seed and returns a Holm-corrected Verdict at family-wise
false-fail rate ``ALPHA``. An example fails only on a rejected statistical test or
a failed exact check; inconclusive verdicts (too little power for the stated
effect) are recorded with ``hypothesis.event`` and counted by
``test_*_is_conclusive_at_default_size``.
"""

from __future__ import annotations

import math

from hypothesis import event, given, target
from hypothesis import strategies as st

from weight_init.properties import strategies as S
from weight_init.properties.assertions import assert_verdict_passes
from weight_init.properties.bounded_decay import SCHEMES as XAVIER_SCHEMES
from weight_init.properties.bounded_decay import xavier_bounded_decay
from weight_init.properties.results import Verdict
from weight_init.properties.saturation import big_init_saturates
from weight_init.properties.second_moment import (
    GLOROT_SCHEMES,
    HE_SCHEMES,
    glorot_balances,
    he_relu_keeps_second_moment,
)
from weight_init.properties.symmetry import symmetry_never_broken
from weight_init.properties.theory_agreement import agrees_with_theory
from weight_init.properties.vanishing import condition_holds, small_init_vanishes

#: Family-wise false-fail rate of each example's verdict. With 25 examples x 7
#: properties per ci run, the chance of any false alarm in a run is <= 175 * 1e-4.
ALPHA = 1e-4


def _check(verdict: Verdict) -> None:
    event(f"outcome: {verdict.outcome}")
    p_values = [t.p_value for t in verdict.tests if t.p_value is not None]
    if p_values:
        target(-math.log10(max(min(p_values), 1e-300)), label="-log10 smallest p")
    assert_verdict_passes(verdict, str(verdict.metadata.get("reproduce", "")))


@given(net=S.networks(max_depth=8), value=S.constant_values, act=S.activations, seed=S.seeds)
def test_symmetry_is_never_broken(net: S.Network, value: float, act: str, seed: int) -> None:
    v = symmetry_never_broken(
        None, value=value, activation=act, seed=seed, alpha=ALPHA, **net.kwargs()
    )
    assert all(t.p_value is None for t in v.tests)  # exact checks only
    _check(v)
    assert v.outcome == "pass"


@given(
    net=S.networks(min_depth=2, max_depth=30),
    gain=S.small_scales(),
    act=st.sampled_from(["tanh", "linear"]),
    seed=S.seeds,
)
def test_small_init_vanishes_geometrically(
    net: S.Network, gain: float, act: str, seed: int
) -> None:
    fans = [net.input_dim, *net.widths[:-1]]
    sigma = gain / math.sqrt(max(fans))
    if not condition_holds(sigma, net.widths, net.input_dim, act):
        sigma *= 0.1  # deeper into the linear regime: the claim's condition
    assert condition_holds(sigma, net.widths, net.input_dim, act)
    _check(
        small_init_vanishes(
            None, sigma=sigma, activation=act, seed=seed, alpha=ALPHA, **net.kwargs()
        )
    )


@given(net=S.networks(max_depth=8), gain=S.big_gains(), seed=S.seeds)
def test_big_init_saturates(net: S.Network, gain: float, seed: int) -> None:
    fans = [net.input_dim, *net.widths[:-1]]
    sigma = gain / math.sqrt(min(fans))
    _check(big_init_saturates(None, sigma=sigma, seed=seed, alpha=ALPHA, **net.kwargs()))


@given(net=S.networks(max_depth=30), scheme=st.sampled_from(XAVIER_SCHEMES), seed=S.seeds)
def test_xavier_tanh_decays_boundedly(net: S.Network, scheme: str, seed: int) -> None:
    _check(xavier_bounded_decay(None, scheme=scheme, seed=seed, alpha=ALPHA, **net.kwargs()))


@given(net=S.networks(max_depth=30), scheme=st.sampled_from(HE_SCHEMES), seed=S.seeds)
def test_he_relu_keeps_second_moment(net: S.Network, scheme: str, seed: int) -> None:
    _check(he_relu_keeps_second_moment(None, scheme=scheme, seed=seed, alpha=ALPHA, **net.kwargs()))


@given(
    net=S.networks(max_depth=6, constant_width=False),
    scheme=st.sampled_from(GLOROT_SCHEMES),
    seed=S.seeds,
)
def test_glorot_balances_forward_and_backward(net: S.Network, scheme: str, seed: int) -> None:
    _check(glorot_balances(None, scheme=scheme, seed=seed, alpha=ALPHA, **net.kwargs()))


@given(net=S.networks(max_depth=12), scheme=S.non_constant_schemes, act=S.activations, seed=S.seeds)
def test_every_scheme_and_activation_agrees_with_theory(
    net: S.Network, scheme: str, act: str, seed: int
) -> None:
    _check(
        agrees_with_theory(
            None, scheme=scheme, activation=act, seed=seed, alpha=ALPHA, **net.kwargs()
        )
    )


def test_each_property_is_conclusive_at_its_default_size() -> None:
    """At the default (suite) sizes every property has the power it states, and passes."""
    for fn in (
        symmetry_never_broken,
        small_init_vanishes,
        big_init_saturates,
        xavier_bounded_decay,
        he_relu_keeps_second_moment,
        glorot_balances,
        agrees_with_theory,
    ):
        v = fn(None, seed=1)
        assert v.outcome == "pass", f"{fn.__name__}(None, seed=1):\n{v.format_table()}"
