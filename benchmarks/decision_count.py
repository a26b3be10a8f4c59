"""Count the statistical decisions of a test run: how docs/error-rates.md computes the chance
that a fresh set of cases holds a false failure.

    WEIGHT_INIT_RECORD_DECISIONS=decisions.tsv pytest -p no:xdist tests/...
    python benchmarks/decision_count.py decisions.tsv

Every Holm decision of the package (in the test process and in every child it starts)
appends one line to the file named by ``WEIGHT_INIT_RECORD_DECISIONS``
(:data:`weight_init.properties._multiple_testing.RECORD_ENV`): its level, its number of
tests, whether it rejected, its smallest p-value, the test that made it and the module that
asked. Only verdicts count (a conformance check, a property verdict, a forward_prop check:
:data:`VERDICTS`). A verdict that did not reject can fail a test only by a false alarm, with
probability at most its level (Holm); their sum bounds the chance that a fresh set of cases
holds one (Bonferroni over the run). A decision that rejected is a detection the test asked
for (a buggy initializer) or a decision no test asserts; it is counted apart, with how far
its smallest p-value lies below its level.
"""

from __future__ import annotations

import argparse
import math
from collections import Counter, defaultdict
from pathlib import Path

#: The modules whose Holm decisions are verdicts (a check, a property, a forward_prop check);
#: the calibration tables re-decide recorded p-values at several levels and are left out.
VERDICTS = frozenset(
    {
        "weight_init.properties._verdict",
        "weight_init.properties.conformance._runner",
        "weight_init.properties.conformance._forward_check",
    }
)


def summarize(path: Path) -> str:
    """The markdown table of ``path``'s decisions (see the module docstring)."""
    kept: Counter[float] = Counter()
    rejected: Counter[str] = Counter()
    files: dict[str, float] = defaultdict(float)
    closest_kept, closest_rejected = math.inf, 0.0
    tabulated = 0
    for line in path.read_text().splitlines():
        level_text, m, any_rejected, smallest, test, caller = line.split("\t")
        if caller not in VERDICTS:
            tabulated += 1  # a table of recorded p-values (calibration), not a verdict
            continue
        level = float(level_text)
        ratio = float(smallest) / (level / max(int(m), 1))  # against Holm's first threshold
        if any_rejected == "1":
            margin = "p <= 1e-10 x threshold" if ratio <= 1e-10 else "p > 1e-10 x threshold"
            rejected[margin] += 1
            closest_rejected = max(closest_rejected, ratio)
            continue
        kept[level] += 1
        closest_kept = min(closest_kept, ratio)
        files[test.split("::")[0] or "(outside a test)"] += level
    total = sum(level * n for level, n in kept.items())
    rows = ["| level | decisions that did not reject | level x count |", "| --- | --- | --- |"]
    rows += [f"| {lv:g} | {n} | {lv * n:.4g} |" for lv, n in sorted(kept.items())]
    rows.append(f"| **sum** | **{sum(kept.values())}** | **{total:.4g}** |")
    rows += ["", "| test file | sum of levels |", "| --- | --- |"]
    rows += [f"| {f} | {s:.3g} |" for f, s in sorted(files.items(), key=lambda kv: -kv[1])]
    rows.append(f"| (tabulated from recorded p-values, not verdicts) | {tabulated} | - |")
    rows += ["", "| decisions that rejected | count |", "| --- | --- |"]
    rows += [f"| {m} | {n} |" for m, n in sorted(rejected.items())]
    rows.append(
        f"\nclosest to a false alarm: smallest p = {closest_kept:.3g} x Holm's first threshold "
        f"(level / tests; a verdict that did not reject); closest to a miss: smallest p = "
        f"{closest_rejected:.3g} x that threshold (a verdict that rejected)"
    )
    rows.append(f"\nchance of a false failure per fresh set of cases <= {total:.3g}")
    if total > 0:
        rows.append(f"(1 in {math.floor(1 / total)})")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("decisions", type=Path, help="the file WEIGHT_INIT_RECORD_DECISIONS named")
    print(summarize(parser.parse_args(argv).decisions))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
