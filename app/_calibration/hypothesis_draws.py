"""The property family over Hypothesis-drawn cases: ``weight-init calibrate --hypothesis N``.

Every property of ``tests/test_properties_claims.py``'s kind runs on ``N`` cases that
Hypothesis draws from the same strategies (:mod:`weight_init.properties.claims._strategies`),
drawn from ``--seed`` (the ``thorough`` profile's settings with ``max_examples = N`` and
Hypothesis' ``@seed``: another ``--seed`` explores other cases, the same one replays them),
each verdict at alpha 1e-4 on the reference. Family draw
``i`` is a false alarm when the ``i``-th case of any property fails; the rate's bounds are
exact Clopper-Pearson (:class:`weight_init.reports._calibration.Rate`). Hypothesis draws the
cases only (every statistical sample comes from the drawn ``seed``), and nothing here
targets a p-value.

This measurement is printed, not recorded in the run directory (the same ``--seed`` replays
it; ``--resume`` does not).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from weight_init.properties._results import Verdict

#: The level of each verdict (the property tests' own).
ALPHA = 1e-4
#: The profile whose settings (deadline, health checks; random) the draws use.
PROFILE = "thorough"


@dataclass(frozen=True)
class HypothesisDraws:
    """Outcomes per property over the drawn cases, and the family's false-alarm count."""

    alpha: float
    outcomes: dict[str, tuple[str, ...]]

    @property
    def family_draws(self) -> int:
        return min((len(v) for v in self.outcomes.values()), default=0)

    @property
    def family_false_alarms(self) -> int:
        n = self.family_draws
        return sum(any(v[i] == "fail" for v in self.outcomes.values()) for i in range(n))

    def describe(self) -> str:
        """One paragraph: the family's rate with its exact bound, then per property."""
        from weight_init.reports._calibration import Rate

        n, k = self.family_draws, self.family_false_alarms
        rate = Rate(k, n)
        upper = rate.upper_one_sided() if n else math.nan
        per = ", ".join(
            f"{name} {v.count('fail')} fail / {v.count('inconclusive')} inconclusive of {len(v)}"
            for name, v in self.outcomes.items()
        )
        return (
            f"hypothesis draws (alpha {self.alpha:g} per verdict): {k} of {n} family draws "
            f"with a failing property (rate {rate.rate:.4g}, upper 95% (one-sided) "
            f"{upper:.4g}); {per}"
        )


def measure(examples: int, alpha: float = ALPHA, rng_seed: int = 0) -> HypothesisDraws:
    """Run every property over ``examples`` Hypothesis cases drawn from ``rng_seed`` (the
    same cases for the same seed: Hypothesis' ``@seed``, the i-th property from
    ``rng_seed + i``); failures are recorded, not raised."""
    from hypothesis import given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st

    from weight_init.properties.claims import _profiles as profiles
    from weight_init.properties.claims import _strategies as S
    from weight_init.properties.claims._bounded_decay import SCHEMES as XS
    from weight_init.properties.claims._bounded_decay import xavier_bounded_decay
    from weight_init.properties.claims._saturation import big_init_saturates
    from weight_init.properties.claims._second_moment import (
        GLOROT_SCHEMES,
        HE_SCHEMES,
        glorot_balances,
        he_relu_keeps_second_moment,
    )
    from weight_init.properties.claims._symmetry import symmetry_never_broken
    from weight_init.properties.claims._theory_agreement import agrees_with_theory
    from weight_init.properties.claims._vanishing import condition_holds, small_init_vanishes

    outcomes: dict[str, list[str]] = {}

    def small(net: S.Network, gain: float, act: str, seed: int) -> Verdict:
        sigma = gain / math.sqrt(max([net.input_dim, *net.widths[:-1]]))
        if not condition_holds(sigma, net.widths, net.input_dim, act):
            sigma *= 0.1
        return small_init_vanishes(
            None, sigma=sigma, activation=act, seed=seed, alpha=alpha, **net.kwargs()
        )

    def big(net: S.Network, gain: float, seed: int) -> Verdict:
        sigma = gain / math.sqrt(min([net.input_dim, *net.widths[:-1]]))
        return big_init_saturates(None, sigma=sigma, seed=seed, alpha=alpha, **net.kwargs())

    runs: list[tuple[str, Callable[..., Verdict], dict[str, st.SearchStrategy[Any]]]] = [
        (
            "symmetry",
            lambda net, value, act, seed: symmetry_never_broken(
                None, value=value, activation=act, seed=seed, alpha=alpha, **net.kwargs()
            ),
            {
                "net": S.networks(max_depth=8),
                "value": S.constant_values,
                "act": S.activations,
                "seed": S.seeds,
            },
        ),
        (
            "vanishing",
            small,
            {
                "net": S.networks(min_depth=2, max_depth=30),
                "gain": S.small_scales(),
                "act": st.sampled_from(["tanh", "linear"]),
                "seed": S.seeds,
            },
        ),
        (
            "saturation",
            big,
            {"net": S.networks(max_depth=12), "gain": S.big_gains(), "seed": S.seeds},
        ),
        (
            "bounded_decay",
            lambda net, scheme, seed: xavier_bounded_decay(
                None, scheme=scheme, seed=seed, alpha=alpha, **net.kwargs()
            ),
            {"net": S.networks(max_depth=30), "scheme": st.sampled_from(XS), "seed": S.seeds},
        ),
        (
            "second_moment",
            lambda net, scheme, seed: he_relu_keeps_second_moment(
                None, scheme=scheme, seed=seed, alpha=alpha, **net.kwargs()
            ),
            {
                "net": S.networks(max_depth=30),
                "scheme": st.sampled_from(HE_SCHEMES),
                "seed": S.seeds,
            },
        ),
        (
            "glorot_balance",
            lambda net, scheme, seed: glorot_balances(
                None, scheme=scheme, seed=seed, alpha=alpha, **net.kwargs()
            ),
            {
                "net": S.networks(max_depth=6, constant_width=False),
                "scheme": st.sampled_from(GLOROT_SCHEMES),
                "seed": S.seeds,
            },
        ),
        (
            "theory_agreement",
            lambda net, scheme, act, seed: agrees_with_theory(
                None, scheme=scheme, activation=act, seed=seed, alpha=alpha, **net.kwargs()
            ),
            {
                "net": S.networks(max_depth=12),
                "scheme": S.non_constant_schemes,
                "act": S.activations,
                "seed": S.seeds,
            },
        ),
    ]
    chosen = settings(
        settings.get_profile(profiles.hypothesis_name(PROFILE)),
        max_examples=examples,
        database=None,
    )

    def make(
        name: str,
        fn: Callable[..., Verdict],
        strats: dict[str, st.SearchStrategy[Any]],
        index: int,
    ) -> Callable[[], None]:
        @hypothesis_seed(rng_seed + index)
        @chosen
        @given(**strats)
        def run(**kw: Any) -> None:
            outcomes.setdefault(name, []).append(fn(**kw).outcome)

        return run

    for index, (name, fn, strats) in enumerate(runs):
        make(name, fn, strats, index)()
    return HypothesisDraws(alpha, {k: tuple(v) for k, v in outcomes.items()})
