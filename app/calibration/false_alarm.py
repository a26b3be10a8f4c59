"""Measure the false-alarm rate of the whole property family on the reference.

``python -m weight_init.app.calibration.false_alarm --seeds 200 [--alpha 1e-3] [--hypothesis]``

* Suite: :func:`weight_init.properties.claims._suite.run_suite` on the reference for seeds
  ``0..seeds-1`` (each seed draws fresh widths and data); a seed is a false alarm
  when any verdict fails. The family-wise bound is ``verdicts x alpha`` (Bonferroni
  over the verdicts of one suite run, each Holm-corrected inside).
* ``--hypothesis``: every property of ``tests/test_properties_claims.py``'s kind run on
  the cases the ``thorough`` Hypothesis profile draws (300 random examples each, the
  same strategies) at the tests' alpha 1e-4; the family draw i is a false alarm when
  the i-th case of any property fails.

Prints counts, rates and exact (Clopper-Pearson) 95% upper bounds, plus how many
verdicts were inconclusive.
"""

from __future__ import annotations

import argparse
import math
import time
from collections import Counter
from collections.abc import Callable

from scipy import stats

from weight_init.properties._results import Verdict
from weight_init.properties.claims._suite import run_suite


def clopper_pearson_upper(k: int, n: int, level: float = 0.95) -> float:
    """One-sided exact upper confidence bound for a binomial rate."""
    if k >= n:
        return 1.0
    return float(stats.beta.ppf(level, k + 1, n - k))


def measure_suite(seeds: int, alpha: float) -> dict[str, object]:
    fails = 0
    per_property: Counter[str] = Counter()
    inconclusive: Counter[str] = Counter()
    verdicts = 0
    examples: list[str] = []
    for seed in range(seeds):
        vs = run_suite(None, seed=seed, alpha=alpha)
        verdicts = len(vs)
        bad = [v for v in vs if v.outcome == "fail"]
        for v in vs:
            if v.outcome == "inconclusive":
                inconclusive[str(v.metadata["property"])] += 1
        if bad:
            fails += 1
            for v in bad:
                per_property[str(v.metadata["property"])] += 1
                examples.append(f"seed {seed}: {v.metadata['property']}: {v.diagnosis}")
    return {
        "seeds": seeds,
        "verdicts_per_seed": verdicts,
        "alpha": alpha,
        "false_alarms": fails,
        "rate": fails / seeds,
        "upper95": clopper_pearson_upper(fails, seeds),
        "bound": min(1.0, verdicts * alpha),
        "per_property": dict(per_property),
        "inconclusive": dict(inconclusive),
        "examples": examples[:10],
    }


def measure_hypothesis(profile: str = "thorough", alpha: float = 1e-4) -> dict[str, object]:
    """Each property over the profile's drawn cases; failures recorded, not raised."""
    import math as _m

    from hypothesis import given, settings
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

    profiles.load(profile)
    outcomes: dict[str, list[str]] = {}

    def record(name: str, v: Verdict) -> None:
        outcomes.setdefault(name, []).append(v.outcome)

    def small(net: S.Network, gain: float, act: str, seed: int) -> Verdict:
        sigma = gain / _m.sqrt(max([net.input_dim, *net.widths[:-1]]))
        if not condition_holds(sigma, net.widths, net.input_dim, act):
            sigma *= 0.1
        return small_init_vanishes(
            None,
            sigma=sigma,
            activation=act,
            seed=seed,
            alpha=alpha,
            **net.kwargs(),
        )

    def big(net: S.Network, gain: float, seed: int) -> Verdict:
        sigma = gain / _m.sqrt(min([net.input_dim, *net.widths[:-1]]))
        return big_init_saturates(None, sigma=sigma, seed=seed, alpha=alpha, **net.kwargs())

    runs: list[tuple[str, Callable[..., Verdict], dict[str, st.SearchStrategy[object]]]] = [
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

    def make(name: str, fn: Callable[..., Verdict], strats: dict[str, st.SearchStrategy[object]]):  # type: ignore[no-untyped-def]
        @settings(settings.get_profile(profiles.hypothesis_name(profile)))
        @given(**strats)
        def check(**kw: object) -> None:
            record(name, fn(**kw))

        return check

    for name, fn, strats in runs:
        make(name, fn, strats)()
    n = min(len(v) for v in outcomes.values())
    family = sum(any(outcomes[k][i] == "fail" for k in outcomes) for i in range(n))
    return {
        "profile": profile,
        "alpha": alpha,
        "cases_per_property": {k: len(v) for k, v in outcomes.items()},
        "fails_per_property": {k: v.count("fail") for k, v in outcomes.items()},
        "inconclusive_per_property": {k: v.count("inconclusive") for k, v in outcomes.items()},
        "family_draws": n,
        "family_false_alarms": family,
        "family_rate": family / n if n else math.nan,
        "family_upper95": clopper_pearson_upper(family, n),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m weight_init.app.calibration.false_alarm")
    parser.add_argument("--seeds", type=int, default=200, help="suite runs (seeds 0..N-1)")
    parser.add_argument("--alpha", type=float, default=1e-3, help="per-verdict alpha of run_suite")
    parser.add_argument(
        "--hypothesis",
        action="store_true",
        help="also run every property over the thorough profile's drawn cases (alpha 1e-4)",
    )
    parser.add_argument("--profile", default="thorough", help="Hypothesis profile for --hypothesis")
    args = parser.parse_args(argv)
    t0 = time.time()
    res = measure_suite(args.seeds, args.alpha)
    print(
        f"suite: {res['false_alarms']} of {res['seeds']} seeds with a failing verdict "
        f"(rate {res['rate']:.4f}, 95% upper bound {res['upper95']:.4f}; "
        f"Bonferroni bound {res['bound']:.4f} = {res['verdicts_per_seed']} verdicts x alpha "
        f"{res['alpha']:g}); per property {res['per_property']}; "
        f"inconclusive {res['inconclusive']} [{time.time() - t0:.0f} s]"
    )
    for line in res["examples"]:  # type: ignore[attr-defined]
        print("  " + line)
    if args.hypothesis:
        t1 = time.time()
        h = measure_hypothesis(args.profile)
        print(
            f"hypothesis ({h['profile']}, alpha {h['alpha']:g}): {h['family_false_alarms']} of "
            f"{h['family_draws']} family draws with a failing property "
            f"(rate {h['family_rate']:.4f}, "
            f"95% upper bound {h['family_upper95']:.4f}); cases {h['cases_per_property']}; "
            f"fails {h['fails_per_property']}; inconclusive {h['inconclusive_per_property']} "
            f"[{time.time() - t1:.0f} s]"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
