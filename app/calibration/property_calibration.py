"""Calibration of every property p-value on the reference: is a reported p-value a p-value?

``python -m weight_init.app.calibration.property_calibration --seeds 200
[--markdown docs/generated/calibration_properties.md]``

The markdown starts at a level-2 heading, for inclusion in a docs page
(``--8<-- "generated/calibration_properties.md"``).

Runs every registered property on the cases :func:`~weight_init.properties.claims._suite.
suite_cases` draws for seeds ``0..seeds-1`` (the reference is the subject, so every null
holds) and groups the p-values by (property case, test). For each group of n p-values:

* a point-null test (``NullKind.POINT``) must be uniform on (0, 1): the counts of
  ``p <= 0.05`` and ``p <= 0.01`` inside their binomial 99.9% bands (two-sided
  :func:`scipy.stats.binomtest`, p >= 1e-3) and a two-sided Kolmogorov-Smirnov test
  against U(0, 1) not rejecting at 1e-3;
* a composite-null test (a band or a bound, ``NullKind.COMPOSITE``) and a verdict's
  Holm-adjusted p-value (:func:`~weight_init.properties._verdict.family_p_value`) must be
  valid, ``P(p <= a) <= a``: the same counts not above their bands (one-sided binomtest)
  and a one-sided KS test (``alternative="greater"``: p-values stochastically smaller than
  uniform) not rejecting at 1e-3. (They are uniform only when the truth sits on the
  set's edge, so two-sided uniformity cannot be asked of them.)

Each check is at 1e-3 as stated; the whole table is one family, so its pass/fail is Holm's
step-down at family-wise 1e-3 over all checks (:attr:`Calibration.passed`).
"""

from __future__ import annotations

import argparse
import datetime
import platform
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy
from scipy import stats

from weight_init.properties._multiple_testing import holm_reject
from weight_init.properties._results import NullKind
from weight_init.properties._verdict import family_p_value
from weight_init.properties.claims._registry import PROPERTIES
from weight_init.properties.claims._suite import suite_cases

LEVEL = 1e-3
CUTS = (0.05, 0.01)
VERDICT = "verdict (Holm-adjusted smallest p)"


@dataclass(frozen=True)
class Row:
    """One group of p-values and its calibration checks (p-values of the checks)."""

    case: str
    test: str
    null: NullKind
    p_values: tuple[float, ...]
    binom: tuple[float, ...]  # one per CUTS
    ks: float

    @property
    def n(self) -> int:
        return len(self.p_values)

    def fraction(self, cut: float) -> float:
        return float(np.mean(np.asarray(self.p_values) <= cut))

    def band(self, cut: float) -> tuple[float, float]:
        """The 99.9% acceptance band of the fraction of p <= cut."""
        if self.null is NullKind.POINT:
            lo = stats.binom.ppf(LEVEL / 2, self.n, cut)
            hi = stats.binom.isf(LEVEL / 2, self.n, cut)
            return float(lo) / self.n, float(hi) / self.n
        return 0.0, float(stats.binom.isf(LEVEL, self.n, cut)) / self.n

    @property
    def checks(self) -> tuple[float, ...]:
        return (*self.binom, self.ks)

    @property
    def passed(self) -> bool:
        """Every check at its stated level 1e-3 (before the family's Holm correction)."""
        return all(p >= LEVEL for p in self.checks)


def check_group(case: str, test: str, null: NullKind, p_values: Sequence[float]) -> Row:
    """The binomial and KS checks of one group (see the module docstring)."""
    ps = np.clip(np.asarray(p_values, dtype=np.float64), 0.0, 1.0)
    point = null is NullKind.POINT
    side = "two-sided" if point else "greater"
    binom = tuple(
        float(stats.binomtest(int(np.sum(ps <= c)), ps.size, c, alternative=side).pvalue)
        for c in CUTS
    )
    ks = float(stats.kstest(ps, "uniform", alternative=side).pvalue)
    return Row(case, test, null, tuple(float(p) for p in ps), binom, ks)


@dataclass(frozen=True)
class Calibration:
    """Every group's row, the seeds, and the family's Holm decision at 1e-3."""

    rows: tuple[Row, ...]
    seeds: int
    exact_only: tuple[str, ...]
    seconds: float

    @property
    def rejected(self) -> list[tuple[Row, int]]:
        """(row, check index) of every check Holm rejects at family-wise 1e-3."""
        flat = [(r, i, p) for r in self.rows for i, p in enumerate(r.checks)]
        rej = holm_reject([p for _, _, p in flat], LEVEL)
        return [(r, i) for (r, i, _), bad in zip(flat, rej, strict=True) if bad]

    @property
    def passed(self) -> bool:
        return not self.rejected


def collect(seeds: int, start: int = 0, progress: bool = False) -> Calibration:
    """Run the suite's cases on the reference for ``seeds`` seeds and check every group."""
    t0 = time.perf_counter()
    groups: dict[tuple[str, str], tuple[NullKind, list[float]]] = {}
    exact_only: set[str] = set()
    for seed in range(start, start + seeds):
        seen: dict[str, int] = {}
        for name, kw in suite_cases(seed):
            seen[name] = seen.get(name, 0) + 1
            case = _label(name, seen[name], kw)
            verdict = PROPERTIES[name](None, alpha=LEVEL, **kw)
            stat = [t for t in verdict.tests if t.p_value is not None]
            if not stat:
                exact_only.add(case)
                continue
            for t in stat:
                kind = t.null or NullKind.COMPOSITE
                groups.setdefault((case, t.name), (kind, []))[1].append(float(t.p_value or 0.0))
            fp = family_p_value(verdict)
            groups.setdefault((case, VERDICT), (NullKind.COMPOSITE, []))[1].append(float(fp or 1))
        if progress:
            print(f"\rseed {seed + 1 - start}/{seeds}", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    rows = tuple(check_group(c, t, k, ps) for (c, t), (k, ps) in groups.items())
    return Calibration(rows, seeds, tuple(sorted(exact_only)), time.perf_counter() - t0)


def _label(name: str, k: int, kw: dict[str, object]) -> str:
    extra = [str(kw[key]) for key in ("scheme", "activation") if key in kw]
    return f"{name} #{k}" + (f" ({', '.join(extra)})" if extra else "")


def markdown(cal: Calibration, command: str) -> str:
    """The table of :func:`collect`'s result as a markdown document."""
    lines = [
        "## Calibration of the property p-values",
        "",
        "Generated by a command, not pasted: rerun it to refresh this file.",
        "",
        f"    {command}",
        "",
        f"Measured {datetime.date.today().isoformat()} on {cal.seeds} seeds of the reference "
        f"(Python {platform.python_version()}, numpy {np.__version__}, scipy "
        f"{scipy.__version__}; {cal.seconds:.0f} s). Every property runs on the cases "
        "`run_suite` draws from each seed, with the reference as the subject, so every null "
        "holds. Point nulls must give uniform p-values: the fractions of p <= 0.05 and "
        "p <= 0.01 inside their binomial 99.9% bands (two-sided `scipy.stats.binomtest`) "
        "and a two-sided KS test against U(0, 1) not rejecting at 1e-3. Composite nulls "
        "(bands and bounds) and the verdicts' Holm-adjusted p-values must be valid: the "
        "fractions at most the band's upper edge (one-sided binomtest) and a one-sided KS "
        "test (p-values stochastically smaller than uniform) not rejecting at 1e-3.",
        "",
        f"Each check at 1e-3: {sum(r.passed for r in cal.rows)} of {len(cal.rows)} rows "
        f"pass all three. The table as one family (Holm over all "
        f"{3 * len(cal.rows)} checks, family-wise 1e-3): "
        + ("**passes**." if cal.passed else f"**fails** ({len(cal.rejected)} checks rejected)."),
        "",
        f"Exact checks only (no p-values): {', '.join(cal.exact_only) or 'none'}.",
        "",
        "| property case | test | null | n | p <= 0.05 [99.9% band] | p <= 0.01 [99.9% band] "
        "| binomtest p (0.05, 0.01) | KS p | ok at 1e-3 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in cal.rows:
        cells = []
        for cut in CUTS:
            lo, hi = r.band(cut)
            cells.append(f"{r.fraction(cut):.3f} [{lo:.3f}, {hi:.3f}]")
        lines.append(
            f"| {r.case} | {r.test} | {r.null.value} | {r.n} | {cells[0]} | {cells[1]} "
            f"| {r.binom[0]:.3g}, {r.binom[1]:.3g} | {r.ks:.3g} | {'yes' if r.passed else 'NO'} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m weight_init.app.calibration.property_calibration",
        description="Check that every property p-value is calibrated on the reference.",
    )
    parser.add_argument("--seeds", type=int, default=200, help="suite seeds (default 200)")
    parser.add_argument("--start", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--markdown", help="write the table to this markdown file")
    args = parser.parse_args(None if argv is None else list(argv))
    if args.seeds < 1 or args.start < 0:
        parser.error("--seeds must be >= 1 and --start >= 0")
    cal = collect(args.seeds, args.start, progress=sys.stderr.isatty())
    command = "python -m weight_init.app.calibration.property_calibration " + " ".join(
        sys.argv[1:] if argv is None else list(argv)
    )
    text = markdown(cal, command.strip())
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        print(text)
    bad = [f"{r.case} / {r.test} (check {i})" for r, i in cal.rejected]
    print(
        f"{len(cal.rows)} groups over {cal.seeds} seeds: "
        + ("calibrated" if cal.passed else "NOT calibrated: " + "; ".join(bad)),
        file=sys.stderr,
    )
    return 0 if cal.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
