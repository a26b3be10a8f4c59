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
"""

from __future__ import annotations

import argparse
import json
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0:100", help="FIRST:LAST (LAST excluded)")
    ap.add_argument("--out", type=Path, default=Path("property-tails.jsonl"))
    ap.add_argument("--report", type=Path, nargs="*", help="print the counts of these records")
    ap.add_argument("--synthetic", type=int, default=0, help="draws per synthetic law")
    ap.add_argument("--write", type=Path, help="also write the table there (docs/generated/)")
    args = ap.parse_args()
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
