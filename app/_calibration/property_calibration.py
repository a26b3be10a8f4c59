"""Calibration of every property p-value on the reference: is a reported p-value a p-value?

``weight-init calibrate --checks 0 --property-pvalues 200`` (:func:`measure`, writes
``property_pvalues.md`` in the run directory); the tails of the point-null p-values:
``weight-init calibrate --checks 0 --property-tails 20000`` (``property_tails.md``).

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

**The tails** (``--property-tails``, :func:`collect_tails`): a few hundred suite seeds give a few
p-values per group below 1e-3, too few to see a tail off by a factor 2. The tails mode
redraws every point-null layer test the suite runs (recorded by
:func:`~weight_init.properties.claims._common.recording_point_nulls` on the cases of
suite seeds ``0..cases-1``, and on :data:`EXTRA_CASES`) many times, with exactly the
suite's computation: the layer's input is kept, and each replication draws the layer's n
units and the test's simulated units afresh from the units' law (resampled from a pool of
``pool`` units simulated from that law,
:class:`~weight_init.properties.claims._common.UnitLaw`), compares their mean with the
value the property tests (the theory's), and gets the two one-sided p-values from
:class:`~weight_init.properties.claims._mean_law.MeanLaw`, vectorized over the
replications (a p-value in the tail recomputed from a second, larger sample, as
:func:`~weight_init.properties.claims._common.refine_units` draws it for the suite, with
the law's shape from that sample's empirical saddlepoint law, as the suite computes it);
the layers of each combined test are combined as
:func:`~weight_init.properties.claims._assertions.combined_band_test` does. Under the
null each tail of an equal-tailed p-value holds half the level: the counts of p <= a in
the lower tail (the mean below the value) and in the upper tail must be Binomial(N, a / 2).
Checked at a = 1e-3 and 1e-4, each tail, for the layer p-values (independent across
layers and replications) and the combined ones separately: eight two-sided binomial
tests, Holm at family-wise 1e-3; a = 1e-2 and a KS test are shown too.
"""

from __future__ import annotations

import datetime
import math
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy
from scipy import stats

from weight_init.properties._multiple_testing import holm_reject
from weight_init.properties._results import NullKind
from weight_init.properties._verdict import family_p_value
from weight_init.properties.claims._assertions import stouffer_sides
from weight_init.properties.claims._common import (
    SIM_UNITS,
    PointNullLayer,
    PointNullRecord,
    recording_point_nulls,
)
from weight_init.properties.claims._mean_law import (
    MAX_TAIL_SIMULATED,
    TAIL_SKEW_SE,
    MeanLaw,
    equal_tailed,
    refines,
    units_needed,
)
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
    #: The level of each check (the calibration's 1e-3; a test of these checks may ask less).
    level: float = LEVEL

    @property
    def n(self) -> int:
        return len(self.p_values)

    def fraction(self, cut: float) -> float:
        return float(np.mean(np.asarray(self.p_values) <= cut))

    def band(self, cut: float) -> tuple[float, float]:
        """The acceptance band of the fraction of p <= cut (99.9% at the level 1e-3)."""
        if self.null is NullKind.POINT:
            lo = stats.binom.ppf(self.level / 2, self.n, cut)
            hi = stats.binom.isf(self.level / 2, self.n, cut)
            return float(lo) / self.n, float(hi) / self.n
        return 0.0, float(stats.binom.isf(self.level, self.n, cut)) / self.n

    @property
    def checks(self) -> tuple[float, ...]:
        return (*self.binom, self.ks)

    @property
    def passed(self) -> bool:
        """Every check at its stated level (1e-3; before the family's Holm correction)."""
        return all(p >= self.level for p in self.checks)


def check_group(
    case: str, test: str, null: NullKind, p_values: Sequence[float], level: float = LEVEL
) -> Row:
    """The binomial and KS checks of one group at ``level`` (see the module docstring)."""
    ps = np.clip(np.asarray(p_values, dtype=np.float64), 0.0, 1.0)
    point = null is NullKind.POINT
    side = "two-sided" if point else "greater"
    binom = tuple(
        float(stats.binomtest(int(np.sum(ps <= c)), ps.size, c, alternative=side).pvalue)
        for c in CUTS
    )
    ks = float(stats.kstest(ps, "uniform", alternative=side).pvalue)
    return Row(case, test, null, tuple(float(p) for p in ps), binom, ks, level)


@dataclass(frozen=True)
class Calibration:
    """Every group's row, the seeds, and the family's Holm decision at ``level`` (1e-3)."""

    rows: tuple[Row, ...]
    seeds: int
    exact_only: tuple[str, ...]
    seconds: float
    level: float = LEVEL

    @property
    def rejected(self) -> list[tuple[Row, int]]:
        """(row, check index) of every check Holm rejects at family-wise ``level``."""
        flat = [(r, i, p) for r in self.rows for i, p in enumerate(r.checks)]
        rej = holm_reject([p for _, _, p in flat], self.level)
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


#: Levels at which the tails are counted; the checks are at TAIL_CHECKED, the rest shown.
TAIL_LEVELS = (1e-2, 1e-3, 1e-4)
TAIL_CHECKED = (1e-3, 1e-4)
#: Replications drawn at once (bounds the memory of the layer means and pilots).
CHUNK = 2000
#: Most simulated units resampled at once (bounds the memory: 4M floats, 32 MB).
SIMS_PER_BLOCK = 1 << 22


@dataclass(frozen=True)
class TailCount:
    """The count of p <= level in one tail of N equal-tailed p-values, against N level / 2."""

    kind: str  # "layer" or "combined"
    level: float
    side: str  # "lower" (mean below the tested value) or "upper"
    count: int
    total: int

    @property
    def expected(self) -> float:
        return self.total * self.level / 2

    @property
    def binom(self) -> float:
        """Two-sided :func:`scipy.stats.binomtest` p-value of the count."""
        return float(stats.binomtest(self.count, self.total, self.level / 2).pvalue)

    @property
    def ratio_ci(self) -> tuple[float, float]:
        """Exact (Clopper-Pearson) 95% interval of the rate over its nominal level / 2."""
        ci = stats.binomtest(self.count, self.total, self.level / 2).proportion_ci(0.95)
        return ci.low / (self.level / 2), ci.high / (self.level / 2)


@dataclass(frozen=True)
class TailGroup:
    """One group of tests (a property case's layers of one statistic, or their combination)."""

    case: str
    test: str
    kind: str
    p: np.ndarray
    lower: np.ndarray  # True where the observed mean is below the tested value


@dataclass(frozen=True)
class TailCalibration:
    """The tail counts over every replication of every recorded point-null test."""

    groups: tuple[TailGroup, ...]
    replications: int
    cases_from: int
    pool: int
    seconds: float
    #: The family-wise level of the tail checks' Holm decision (1e-3).
    level: float = LEVEL

    def counts(self, kind: str, groups: Sequence[TailGroup] | None = None) -> list[TailCount]:
        chosen = [g for g in (groups or self.groups) if g.kind == kind]
        p = np.concatenate([g.p for g in chosen])
        low = np.concatenate([g.lower for g in chosen])
        return [
            TailCount(kind, a, side, int(np.sum((p <= a) & mask)), p.size)
            for a in TAIL_LEVELS
            for side, mask in (("lower", low), ("upper", ~low))
        ]

    @property
    def checks(self) -> list[TailCount]:
        return [
            c
            for kind in ("layer", "combined")
            for c in self.counts(kind)
            if c.level in TAIL_CHECKED
        ]

    @property
    def rejected(self) -> list[TailCount]:
        checks = self.checks
        rej = holm_reject([c.binom for c in checks], self.level)
        return [c for c, bad in zip(checks, rej, strict=True) if bad]

    @property
    def passed(self) -> bool:
        return not self.rejected

    def ks(self, kind: str) -> float:
        p = np.concatenate([g.p for g in self.groups if g.kind == kind])
        return float(stats.kstest(p, "uniform").pvalue)


#: Cases recorded besides the suite's: the linear case of the vanishing claim, a point null
#: the suite's cases do not draw (the Hypothesis strategies do), whose deep near-linear
#: layers (effective rank ~1-2) have the most skewed unit statistics.
EXTRA_CASES: tuple[tuple[str, dict[str, object]], ...] = (
    ("vanishing", {"activation": "linear", "widths": (32,) * 12, "sigma": 0.01}),
)


def _record(cases_from: int) -> list[tuple[str, PointNullRecord]]:
    """The point-null layer tests of the suite's cases for seeds ``0..cases_from-1`` and of
    :data:`EXTRA_CASES` (with those seeds)."""
    out = []
    for seed in range(cases_from):
        seen: dict[str, int] = {}
        extra = [(name, {**kw, "seed": seed}) for name, kw in EXTRA_CASES]
        for name, kw in [*suite_cases(seed), *extra]:
            seen[name] = seen.get(name, 0) + 1
            with recording_point_nulls() as record:
                PROPERTIES[name](None, alpha=LEVEL, **kw)
            if record.layers:
                out.append((f"seed {seed}: " + _label(name, seen[name], kw), record))
    return out


def _tails_from(
    pool: np.ndarray,
    sizes: np.ndarray,
    mean: np.ndarray,
    layer: PointNullLayer,
    rng: np.random.Generator,
    saddlepoint: bool = False,
) -> tuple[np.ndarray, np.ndarray, dict[int, np.ndarray]]:
    """The one-sided p-values (below, above) of the means ``mean``, each against ``sizes[i]``
    simulated units resampled from ``pool`` (``saddlepoint``: the law's shape from their
    empirical saddlepoint law, as for a refined p-value); with the simulated units of the
    rows whose p-value the suite refines (row -> units), for :func:`_replicate`."""
    n = layer.law.n_units
    lo, hi = np.empty(mean.size), np.empty(mean.size)
    kept: dict[int, np.ndarray] = {}
    for size in np.unique(sizes):
        group = np.flatnonzero(sizes == size)
        step = max(1, SIMS_PER_BLOCK // int(size))
        for at in range(0, group.size, step):
            rows = group[at : at + step]
            sims = pool[rng.integers(pool.size, size=(rows.size, int(size)))]
            mean_law = MeanLaw.of(sims, n, layer.positive, saddlepoint=saddlepoint)
            lo[rows], hi[rows] = mean_law.point_tails(mean[rows], layer.expected)
            tail = refines(equal_tailed(lo[rows], hi[rows]))
            kept.update(zip(rows[tail].tolist(), sims[tail], strict=True))
    return lo, hi, kept


def _replicate(
    layer: PointNullLayer, replications: int, pool_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``replications`` draws of the layer test's one-sided p-values (below, above) under
    its null: the layer's units and the test's simulated units (as many as
    :func:`~weight_init.properties.claims._common.simulate_units` would draw, by its
    rule, and for a p-value in the tail as many more as
    :func:`~weight_init.properties.claims._common.refine_units` would) resampled from a
    pool of ``pool_size`` units of the units' law, the suite's law of the mean
    (:class:`~weight_init.properties.claims._mean_law.MeanLaw`) at the tested value."""
    law = layer.law
    pool = law.simulate(rng, pool_size)
    n = law.n_units
    first = math.ceil(SIM_UNITS / n) * n  # what simulate_units draws first for the test
    below, above = [], []
    for start in range(0, replications, CHUNK):
        r = min(CHUNK, replications - start)
        mean = pool[rng.integers(pool.size, size=(r, n))].mean(axis=1)
        pilot = pool[rng.integers(pool.size, size=(r, first))]
        need = units_needed(pilot, n)  # simulate_units' rule: the pilot sizes fresh units
        lo, hi, kept = _tails_from(pool, need, mean, layer, rng)
        if kept:  # refine_units' rule: the first fresh sample sizes the tail's
            rows = np.fromiter(kept, dtype=np.int64, count=len(kept))
            more = np.array(
                [int(units_needed(kept[i], n, TAIL_SKEW_SE, MAX_TAIL_SIMULATED)) for i in rows]
            )
            lo[rows], hi[rows], _ = _tails_from(
                pool, more, mean[rows], layer, rng, saddlepoint=True
            )
        below.append(lo)
        above.append(hi)
    return np.concatenate(below), np.concatenate(above)


def collect_tails(
    replications: int,
    cases_from: int = 2,
    pool: int = 1 << 16,
    seed: int = 0,
    progress: bool = False,
) -> TailCalibration:
    """Replicate every recorded point-null test ``replications`` times (module docstring)."""
    t0 = time.perf_counter()
    groups: list[TailGroup] = []
    recorded = _record(cases_from)
    for c, (case, record) in enumerate(recorded):
        sides = []
        for i, layer in enumerate(record.layers):
            rng = np.random.default_rng([seed, c, i, 20261207])
            lo, hi = _replicate(layer, replications, pool, rng)
            sides.append((lo, hi))
            groups.append(TailGroup(case, layer.name, "layer", equal_tailed(lo, hi), lo < hi))
        for name, idx in record.combined:
            _, p_lo, _, p_hi = stouffer_sides(
                np.stack([sides[i][0] for i in idx], axis=-1),
                np.stack([sides[i][1] for i in idx], axis=-1),
            )
            groups.append(TailGroup(case, name, "combined", equal_tailed(p_lo, p_hi), p_lo < p_hi))
        if progress:
            print(f"\rcase {c + 1}/{len(recorded)}", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    return TailCalibration(tuple(groups), replications, cases_from, pool, time.perf_counter() - t0)


def tails_markdown(cal: TailCalibration, command: str) -> str:
    """:func:`collect_tails`'s result as a markdown document (a level-2 heading first)."""
    n_layer = sum(g.kind == "layer" for g in cal.groups)
    n_comb = sum(g.kind == "combined" for g in cal.groups)
    lines = [
        "## Tails of the point-null property p-values",
        "",
        "Generated by a command, not pasted: rerun it to refresh this file.",
        "",
        f"    {command}",
        "",
        f"Measured {datetime.date.today().isoformat()} (Python {platform.python_version()}, "
        f"numpy {np.__version__}, scipy {scipy.__version__}; {cal.seconds:.0f} s). "
        f"Every point-null layer test of the suite's cases for seeds 0..{cal.cases_from - 1} "
        "and of the linear case of the vanishing claim (deep, near-linear: the most skewed "
        f"unit statistics) ({n_layer} layer tests, {n_comb} combined tests) replicated "
        f"{cal.replications} "
        "times: each replication draws the layer's units and the test's simulated units "
        f"afresh from the units' law given the recorded layer input (resampled from {cal.pool} "
        "units of that law) and computes the suite's p-value, so every null holds. An "
        "equal-tailed p-value puts half of each level in each tail: the count of p <= a "
        "with the mean below the tested value (lower) and above it (upper) must each be "
        "Binomial(N, a / 2). Checked at 1e-3 and 1e-4, each tail, layer and combined "
        "p-values apart (a combined p-value depends on its layers): eight two-sided "
        "binomial tests, Holm at family-wise 1e-3. The 95% interval (Clopper-Pearson) "
        "of the observed rate over the nominal one says what each count could have seen.",
        "",
        "The eight checks: "
        + ("**pass**." if cal.passed else f"**fail** ({len(cal.rejected)} rejected)."),
        "",
        "| p-values | a | tail | N | count | expected | ratio [95% interval] | binomtest p "
        "| checked |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for kind in ("layer", "combined"):
        for c in cal.counts(kind):
            lo, hi = c.ratio_ci
            lines.append(
                f"| {kind} | {c.level:g} | {c.side} | {c.total} | {c.count} | "
                f"{c.expected:.1f} | {c.count / c.expected:.2f} [{lo:.2f}, {hi:.2f}] | "
                f"{c.binom:.3g} | {'yes' if c.level in TAIL_CHECKED else 'shown'} |"
            )
    lines += [
        "",
        f"KS against U(0, 1) (shown, not checked: it weighs the bulk): layer p-values "
        f"{cal.ks('layer'):.3g}, combined {cal.ks('combined'):.3g}.",
        "",
        "Per test, p <= 1e-3 in each tail (expected N 5e-4 each):",
        "",
        "| case | test | kind | N | lower | upper | expected |",
        "|---|---|---|---|---|---|---|",
    ]
    for g in cal.groups:
        lo = int(np.sum((g.p <= 1e-3) & g.lower))
        hi = int(np.sum((g.p <= 1e-3) & ~g.lower))
        lines.append(
            f"| {g.case} | {g.test} | {g.kind} | {g.p.size} | {lo} | {hi} | {g.p.size * 5e-4:.1f} |"
        )
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Measured:
    """One property calibration: its markdown table, a one-line summary and whether every
    checked group is calibrated."""

    text: str
    summary: str
    passed: bool


def measure(
    seeds: int, *, tails: bool, start: int, command: str, progress: bool = False
) -> Measured:
    """``weight-init calibrate --property-pvalues N`` (``tails=False``: every property
    p-value of ``seeds`` suite seeds from ``start``) or ``--property-tails N``
    (``tails=True``: the point-null p-values' tails at 1e-3 and 1e-4 over ``seeds``
    replications of each test, replication seeds from ``start``)."""
    if tails:
        cal_t = collect_tails(seeds, seed=start, progress=progress)
        summary = (
            "tails calibrated"
            if cal_t.passed
            else "tails NOT calibrated: "
            + "; ".join(
                f"{c.kind} {c.side} tail at {c.level:g}: {c.count} vs {c.expected:.1f}"
                for c in cal_t.rejected
            )
        )
        return Measured(tails_markdown(cal_t, command), summary, cal_t.passed)
    cal = collect(seeds, start, progress=progress)
    bad = [f"{r.case} / {r.test} (check {i})" for r, i in cal.rejected]
    summary = f"{len(cal.rows)} groups over {cal.seeds} seeds: " + (
        "calibrated" if cal.passed else "NOT calibrated: " + "; ".join(bad)
    )
    return Measured(markdown(cal, command), summary, cal.passed)
