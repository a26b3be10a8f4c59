"""Detectable effects of the conformance check, measured (docs/generated/detectable_effects.md).

Three tables, all from ``check_initializer`` at its defaults (family-wise alpha 1e-4, power
0.99, the design of ``weight_init.properties.conformance._sampling.design_shapes``):

1. detection: each buggy initializer of ``tests/buggy_initializers.py`` named below, checked
   at seeds 0..N-1; the rate of ``fail`` verdicts with its Clopper-Pearson 95% interval and
   the checks that rejected;
2. false alarms on correct schemes (the numpy reference of one scheme per i.i.d. family):
   the whole verdict's rate of ``fail`` and the ``spectrum`` check's p-values (fractions at
   or below 1e-3, 1e-2, 0.05 against their binomial 99.9% bands, and a KS test against
   U(0, 1));
3. the independence checks under Haar (orthogonal): over seeds 0..H-1, one matrix per fixed
   shape, mean t^2 and the fraction of p <= 0.05 against its binomial 99.9% band;
4. per-check wall time (min of 5 runs, seeds 0..4) of the numpy schemes, on the current
   design and on the 11-shape design of before (``OLD_SHAPES``), in the same run.

Run: ``python benchmarks/detectable_effects.py [--seeds 40] [--null-seeds 100] [--haar-seeds 400]``.

``--tails-only N`` writes ``docs/generated/anderson_darling_power.md`` instead: the power
curves of the ``anderson-darling`` and ``extremes`` tests alone against the effects ``clip``
and ``cut_early`` (:mod:`weight_init.app._calibration.effects`), each on the default design
of its scheme, at Holm's first step (p below the plan's per-test level: the threshold a test
meets when it is the one that rejects), over seeds 0..N-1 per size and 5N at the planned size.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from buggy_initializers import BUGS  # noqa: E402
from weight_init.properties.conformance._checks import (  # noqa: E402
    INPUT_INDEPENDENCE,
    SPECTRUM,
    UNIT_INDEPENDENCE,
    build_pool,
)
from weight_init.properties.conformance._plan import plan as power_plan  # noqa: E402
from weight_init.properties.conformance._runner import check_initializer  # noqa: E402
from weight_init.properties.conformance._sampling import DEFAULT_SHAPES, draw_design  # noqa: E402
from weight_init.reports._calibration import clopper_pearson  # noqa: E402
from weight_init.schemes import get_scheme  # noqa: E402

#: The earlier design (all fans multiples of 8 but one, the largest 640).
OLD_SHAPES = (
    (8, 512),
    (512, 8),
    (16, 256),
    (256, 16),
    (24, 24),
    (48, 160),
    (160, 48),
    (96, 96),
    (32, 640),
    (640, 32),
    (200, 200),
)
EFFECTS = (
    ("rows i and i+5 correlated 0.3", "correlation 0.3 between rows i, i+5 (i mod 10 < 5)"),
    ("columns two apart correlated 0.3", "correlation 0.3 between columns j, j+2 (j mod 4 < 2)"),
    ("low rank plus noise", "rank-2 product holding 10% of the variance"),
    ("std 5% wide at odd fan_in", "std 1.05x the rule at odd fan_in only"),
    ("std 5% wide at fan_in > 1000", "std 1.05x the rule at fan_in > 1000 only"),
    ("std 1% too wide", "std 1.01x the rule (the plan's smallest variance effect)"),
    ("every second call mirrors the one before", "a call at a shape negates the previous one"),
    ("calls share a fixed component", "calls at a shape correlated 0.1"),
    ("streams keyed by shape", "the k-th call at every shape starts one stream"),
    ("seed ignored at fan_in > 1000", "a fixed generator at fan_in > 1000 only"),
    ("unseeded at odd fan_out", "fresh entropy at odd fan_out only"),
    ("half the units 10% wide", "units' std 1.10x (first half) and 0.89x (second half)"),
    ("even inputs 10% wide", "inputs' std 1.10x (even) and 0.89x (odd)"),
    ("uniform clipped at 0.99 of its bound", "1% of the mass on two atoms at +-0.99 b"),
    ("normal clipped at 2.576 std", "1% of the mass on two atoms at +-2.576 std"),
    ("truncated normal cut at 1.9 std", "cut 5% early, variance corrected"),
    ("rank-one spike at 2x BBP", "rank one at 2x the BBP threshold, shapes >= 16,384 entries"),
)
NULL_SCHEMES = ("he_normal", "glorot_uniform", "glorot_truncated_normal")


def ci(k: int, n: int) -> str:
    lo, hi = clopper_pearson(k, n)
    return f"{k}/{n} ({lo:.2f}-{hi:.2f})"


def detection(n_seeds: int) -> list[str]:
    rows = [
        "| defect | effect | detected at alpha 1e-4 (95% CI) | checks that rejected (count) |",
        "|---|---|---|---|",
    ]
    for bug, effect in EFFECTS:
        fn, scheme, conv, _ = BUGS[bug]
        fails, by = 0, collections.Counter[str]()
        for seed in range(n_seeds):
            v = check_initializer(fn, scheme, conv, seed=seed)
            fails += v.outcome == "fail"
            by.update(t.name for t in v.failures)
        who = ", ".join(f"{k} {c}" for k, c in by.most_common())
        rows.append(
            f"| {bug} (`{fn.__name__}`, {scheme}) | {effect} | {ci(fails, n_seeds)} | {who} |"
        )
    return rows


def false_alarms(n_seeds: int) -> list[str]:
    rows = [
        "| scheme | checks | verdict fail | spectrum p <= 1e-3 | p <= 1e-2 | p <= 0.05 | KS p |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in NULL_SCHEMES:
        scheme = get_scheme(name)

        def fn(fan_in: int, fan_out: int, rng: np.random.Generator, s=scheme) -> np.ndarray:
            return s.sample(fan_in, fan_out, rng)

        fails, ps = 0, []
        for seed in range(n_seeds):
            v = check_initializer(fn, name, seed=seed)
            fails += v.outcome == "fail"
            ps += [r.test.p_value for r in v.checks if r.check is SPECTRUM]
        p = np.asarray(ps, dtype=float)
        cells = []
        for level in (1e-3, 1e-2, 0.05):
            lo, hi = stats.binom.interval(0.999, p.size, level)
            k = int(np.count_nonzero(p <= level))
            cells.append(f"{k} [{lo:.0f}, {hi:.0f}]")
        ks = stats.kstest(p, "uniform").pvalue
        rows.append(f"| {name} | {n_seeds} | {fails} | " + " | ".join(cells) + f" | {ks:.3g} |")
    return rows


def haar_independence(n_seeds: int) -> list[str]:
    scheme = get_scheme("orthogonal")

    def fn(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
        return scheme.sample(fan_in, fan_out, rng)

    stats_by: dict[str, tuple[list[float], list[float]]] = {
        c.name: ([], []) for c in (UNIT_INDEPENDENCE, INPUT_INDEPENDENCE)
    }
    for seed in range(n_seeds):
        draws = draw_design(fn, DEFAULT_SHAPES, [1] * len(DEFAULT_SHAPES), seed)
        pool = build_pool(fn, scheme, "in_out", draws, seed, "rng")
        for check in (UNIT_INDEPENDENCE, INPUT_INDEPENDENCE):
            r = check.run(pool)
            if r is not None and r.test.p_value is not None:
                stats_by[check.name][0].append(r.test.statistic**2)
                stats_by[check.name][1].append(r.test.p_value)
    lo, hi = stats.binom.interval(0.999, n_seeds, 0.05)
    se = 3.29 * (2.0 / n_seeds) ** 0.5
    rows = [
        f"| check | designs | mean t^2 (99.9%: 1 +- {se:.2f}) "
        f"| p <= 0.05 (band [{lo:.0f}, {hi:.0f}]) | KS p |",
        "|---|---|---|---|---|",
    ]
    for name, (t2, ps) in stats_by.items():
        p = np.asarray(ps)
        k = int(np.count_nonzero(p <= 0.05))
        ks = stats.kstest(p, "uniform").pvalue
        rows.append(f"| {name} | {p.size} | {np.mean(t2):.3f} | {k} | {ks:.3g} |")
    return rows


def per_check_time(shapes: Sequence[tuple[int, int]] | None, name: str) -> tuple[float, int]:
    scheme = get_scheme(name)

    def fn(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
        return scheme.sample(fan_in, fan_out, rng)

    check_initializer(fn, name, seed=0, shapes=shapes)
    runs, entries = [], 0
    for seed in range(5):
        t = time.perf_counter()
        v = check_initializer(fn, name, seed=seed, shapes=shapes)
        runs.append(time.perf_counter() - t)
        entries = v.design.n_entries
    return min(runs), entries


def timing() -> list[str]:
    rows = [
        "| scheme | design | min of 5 (s) | entries (seed 4) |",
        "|---|---|---|---|",
    ]
    for name in ("he_normal", "glorot_uniform", "orthogonal"):
        for label, shapes in (("old 11 shapes", OLD_SHAPES), ("new: 13 fixed + 3 drawn", None)):
            t, n = per_check_time(shapes, name)
            rows.append(f"| {name} | {label} | {t:.3f} | {n} |")
    return rows


def tail_power(n_seeds: int) -> list[str]:
    from weight_init.app._calibration.effects import EFFECTS as NAMED
    from weight_init.properties.conformance._checks import registry as C
    from weight_init.properties.conformance._runner import _draw
    from weight_init.properties.conformance._sampling import design_shapes

    rows = [
        "| effect | size s | checks | entries (median) | anderson-darling (95% CI) "
        "| extremes (95% CI) | median A^2 |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in ("clip", "cut_early"):
        effect = NAMED[name]
        scheme = get_scheme(effect.scheme)
        plan = power_plan(scheme.family)
        for size in effect.sizes:
            fn = effect.build(size)
            seeds = 5 * n_seeds if size == effect.planned else n_seeds
            ad = ex = 0
            a2s, ns = [], []
            for seed in range(seeds):
                pool, _ = _draw(fn, scheme, "in_out", plan, seed, design_shapes(seed), None)
                r_ad, r_ex = C.ANDERSON_DARLING.run(pool), C.EXTREMES.run(pool)
                assert r_ad is not None and r_ex is not None
                ad += (r_ad.test.p_value or 0.0) < plan.per_test_level
                ex += (r_ex.test.p_value or 0.0) < plan.per_test_level
                a2s.append(r_ad.test.statistic)
                ns.append(r_ad.n)
            tag = " (planned)" if size == effect.planned else ""
            rows.append(
                f"| {name} ({effect.scheme}) | {size:g}{tag}"
                f" | {seeds} | {int(np.median(ns))} | {ci(ad, seeds)} | {ci(ex, seeds)} "
                f"| {np.median(a2s):.3g} |"
            )
    return rows


def tails_page(n_seeds: int, out: Path) -> None:
    started = time.perf_counter()
    plans = [power_plan(f) for f in ("uniform", "truncated_normal")]
    parts = [
        "## Generated: the tail tests' power",
        "",
        f"Written by `python benchmarks/detectable_effects.py --tails-only {n_seeds}`; do not "
        "edit by hand. Each row: the default design of the effect's scheme at seeds 0..N-1, the "
        "fraction of designs whose test p-value is below the plan's per-test level "
        f"({plans[0].per_test_level:.3g}: Holm's first step at alpha 1e-4 / 10 over "
        f"{plans[0].n_tests} tests), with its Clopper-Pearson 95% interval.",
        "",
        *tail_power(n_seeds),
        "",
        f"Total run time {time.perf_counter() - started:.0f} s.",
        "",
    ]
    tmp = out.with_suffix(".md.tmp")
    tmp.write_text("\n".join(parts))
    tmp.replace(out)
    print(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=40)
    ap.add_argument("--null-seeds", type=int, default=100)
    ap.add_argument("--haar-seeds", type=int, default=400)
    ap.add_argument(
        "--out", type=Path, default=ROOT / "docs" / "generated" / "detectable_effects.md"
    )
    ap.add_argument("--tails-only", type=int, default=0, metavar="N")
    args = ap.parse_args()
    if args.tails_only:
        tails_page(args.tails_only, ROOT / "docs" / "generated" / "anderson_darling_power.md")
        return
    cmd = (
        f"python benchmarks/detectable_effects.py --seeds {args.seeds} "
        f"--null-seeds {args.null_seeds} --haar-seeds {args.haar_seeds}"
    )
    started = time.perf_counter()
    parts = [
        "## Generated tables",
        "",
        f"Written by `{cmd}`; do not edit by hand. Family-wise alpha 1e-4, power 0.99.",
        "",
        "### Detection over seeds 0..N-1",
        "",
        *detection(args.seeds),
        "",
        "### False alarms on correct schemes (spectrum p-values against their 99.9% bands)",
        "",
        *false_alarms(args.null_seeds),
        "",
        "### Independence checks under Haar (one orthogonal matrix per fixed shape)",
        "",
        *haar_independence(args.haar_seeds),
        "",
        "### Per-check wall time",
        "",
        *timing(),
        "",
        "### Power plan",
        "",
        "```",
        *(
            power_plan(f).describe()
            for f in ("normal", "uniform", "truncated_normal", "orthogonal")
        ),
        "```",
        "",
        f"Total run time {time.perf_counter() - started:.0f} s.",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".md.tmp")
    tmp.write_text("\n".join(parts))
    tmp.replace(args.out)
    print(args.out)


if __name__ == "__main__":
    main()
