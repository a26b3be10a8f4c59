"""Both tails of the property suite's point-null p-values on the reference, over seeds.

``run_suite(None, seed=s)`` for each seed of a range; every test with a point null (a
layer's statistic against its exact value, and the Stouffer combinations of such layers)
gives one p-value. A per-layer test's side is the sign of its statistic (``(mean - value) /
se``); a combination's side is not recorded, so combinations count in the total only.
Under the claims each p-value is uniform: each tail of a per-layer test holds ``a / 2`` of
the p-values below ``a``. Records go to ``--out`` (JSON Lines, one seed a line, appended, so
runs over disjoint seed ranges concatenate); ``--report`` prints the counts at 1e-3 and 1e-4
with their Poisson 99% intervals, and a KS test of every p-value against U(0, 1).

    python benchmarks/property_tails.py --seeds 0:300 --out tails.jsonl
    python benchmarks/property_tails.py --report tails.jsonl
    python benchmarks/property_tails.py --synthetic 20000

``--synthetic N`` measures the band test alone on units drawn from known laws (:data:`LAWS`):
``n = 64`` units and ``m = 512`` simulated ones per draw, as a layer of the suite has.

``--cost FIRST:LAST`` measures what the refined tests' empirical saddlepoint law costs: the
CPU time of ``run_suite`` per seed with it and without it (the refined test then takes the
Pearson III law, the floor), the two interleaved seed by seed in one process (the order
alternating, after one warm-up run), with the verdicts that differ and the p-values that
moved.

    python benchmarks/property_tails.py --cost 0:60
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
from scipy import stats

from weight_init.properties._results import NullKind
from weight_init.properties.claims._suite import run_suite


def measure(first: int, last: int, out: Path) -> None:
    with out.open("a") as f:
        for seed in range(first, last):
            tests = [
                [v.metadata.get("property", v.subject), t.name, t.p_value, t.statistic]
                for v in run_suite(None, seed=seed)
                for t in v.tests
                if t.p_value is not None and t.null is NullKind.POINT
            ]
            f.write(json.dumps({"seed": seed, "tests": tests}) + "\n")
            f.flush()


def report(paths: list[Path]) -> str:
    seeds, layer, combined = 0, [], []
    for path in paths:
        for line in path.read_text().splitlines():
            rec = json.loads(line)
            seeds += 1
            for _, name, p, stat in rec["tests"]:
                (layer if name.startswith("layer") else combined).append((p, stat))
    lines = [
        f"{seeds} seeds, {len(layer)} per-layer and {len(combined)} combined point-null p-values",
        "",
        "| level | per-layer above | per-layer below | expected each (99% interval) "
        "| combined | expected |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for a in (1e-3, 1e-4):
        above = sum(1 for p, s in layer if p < a and s > 0)
        below = sum(1 for p, s in layer if p < a and s <= 0)
        mu = len(layer) * a / 2
        lo, hi = stats.poisson.interval(0.99, mu)
        comb = sum(1 for p, _ in combined if p < a)
        lines.append(
            f"| {a:g} | {above} | {below} | {mu:.1f} ({lo:.0f}-{hi:.0f}) | {comb} "
            f"| {len(combined) * a:.1f} |"
        )
    ps = np.array([p for p, _ in layer + combined])
    lines += [
        "",
        f"KS of every p-value against U(0, 1): p = {stats.kstest(ps, 'uniform').pvalue:.3g}",
    ]
    return "\n".join(lines)


#: Laws of a unit's statistic for the synthetic measurement: (draw, exact mean, positive).
LAWS = {
    "chi-square 1": (lambda g, k: g.chisquare(1, k), 1.0, True),
    "3 chi2_1 + chi2_1 + 0.5 chi2_1": (
        lambda g, k: 3 * g.chisquare(1, k) + g.chisquare(1, k) + 0.5 * g.chisquare(1, k),
        4.5,
        True,
    ),
    "lognormal(0, 0.75)": (lambda g, k: g.lognormal(0.0, 0.75, k), float(np.exp(0.28125)), True),
    "10 - chi-square 2": (lambda g, k: 10.0 - g.chisquare(2, k), 8.0, False),
}


def synthetic(draws: int, n: int = 64, m: int = 512, seed: int = 2027) -> str:
    """The band test's one-sided p-values on ``n`` units and ``m`` simulated units i.i.d.
    from each law of :data:`LAWS` with its exact mean: counts below 5e-4 and 5e-5 per tail."""
    from weight_init.properties.claims._assertions import band_test

    lines = [
        "| law | p_above < 5e-4 | p_below < 5e-4 | p_above < 5e-5 | p_below < 5e-5 "
        "| expected (99% interval) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, (draw, mean, positive) in LAWS.items():
        g = np.random.default_rng(seed)
        k = [0, 0, 0, 0]
        for _ in range(draws):
            u, sims = draw(g, n), draw(g, m)
            bt = band_test(
                u,
                mean,
                mean,
                name="t",
                alpha=1e-3,
                effect=None,
                explanation="",
                null=sims,
                positive=positive,
            )
            k[0] += bt.p_above < 5e-4
            k[1] += bt.p_below < 5e-4
            k[2] += bt.p_above < 5e-5
            k[3] += bt.p_below < 5e-5
        e3, e4 = draws * 5e-4, draws * 5e-5
        i3, i4 = stats.poisson.interval(0.99, e3), stats.poisson.interval(0.99, e4)
        lines.append(
            f"| {name} | {k[0]} | {k[1]} | {k[2]} | {k[3]} | {e3:g} ({i3[0]:.0f}-{i3[1]:.0f}); "
            f"{e4:g} ({i4[0]:.0f}-{i4[1]:.0f}) |"
        )
    return "\n".join(lines)


def cost(first: int, last: int) -> str:
    """CPU seconds of ``run_suite`` per seed with and without the saddlepoint law (module
    docstring)."""
    import time

    from weight_init.properties.claims import _assertions as A

    with_law = A.band_test

    def without_law(*args: object, **kw: object) -> object:
        kw.pop("saddlepoint", None)
        return with_law(*args, **kw)  # type: ignore[arg-type]

    cpu = {"with": 0.0, "without": 0.0}
    changed, moved = [], []
    run_suite(None, seed=first)  # warm-up
    for seed in range(first, last):
        got = {}
        for mode in ("with", "without") if seed % 2 else ("without", "with"):
            A.band_test = with_law if mode == "with" else without_law  # type: ignore[assignment]
            t0 = time.process_time()
            got[mode] = run_suite(None, seed=seed)
            cpu[mode] += time.process_time() - t0
        A.band_test = with_law
        for new, old in zip(got["with"], got["without"], strict=True):
            if new.outcome != old.outcome:
                changed.append(f"seed {seed} {new.subject}: {old.outcome} -> {new.outcome}")
            for tn, to in zip(new.tests, old.tests, strict=True):
                if tn.p_value != to.p_value and tn.name.startswith("layer"):
                    moved.append((to.p_value, tn.p_value, seed, tn.name))
    k = last - first
    lines = [
        f"run_suite over seeds {first}..{last - 1}: CPU per seed {cpu['with'] / k:.3f} s with "
        f"the saddlepoint law, {cpu['without'] / k:.3f} s without (ratio "
        f"{cpu['with'] / cpu['without']:.3f})",
        f"verdicts that differ: {len(changed)}" + "".join(f"\n  {c}" for c in changed),
        f"refined layer p-values: {len(moved)}",
    ]
    if moved:
        worst = max(moved, key=lambda m: abs(math.log(m[1] / m[0])))
        lines.append(
            f"largest change: seed {worst[2]} {worst[3]}: {worst[0]:.3g} -> {worst[1]:.3g}"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0:100", help="FIRST:LAST (LAST excluded)")
    ap.add_argument("--out", type=Path, default=Path("property-tails.jsonl"))
    ap.add_argument("--report", type=Path, nargs="*", help="print the counts of these records")
    ap.add_argument("--synthetic", type=int, default=0, help="draws per synthetic law")
    ap.add_argument("--write", type=Path, help="also write the table there (docs/generated/)")
    ap.add_argument("--cost", help="FIRST:LAST: the saddlepoint law's CPU cost per seed")
    args = ap.parse_args()
    if args.cost:
        first, last = (int(x) for x in args.cost.split(":"))
        print(cost(first, last))
        return
    if args.synthetic or args.report:
        if args.synthetic:
            text = synthetic(args.synthetic)
            cmd = f"python benchmarks/property_tails.py --synthetic {args.synthetic}"
        else:
            text = report(args.report)
            names = " ".join(p.name for p in args.report)
            cmd = f"python benchmarks/property_tails.py --report {names}"
        print(text)
        if args.write:
            head = f"Written by `{cmd}`; do not edit by hand.\n\n"
            tmp = args.write.with_suffix(".md.tmp")
            tmp.write_text(head + text + "\n")
            tmp.replace(args.write)
        return
    first, last = (int(x) for x in args.seeds.split(":"))
    measure(first, last, args.out)


if __name__ == "__main__":
    main()
