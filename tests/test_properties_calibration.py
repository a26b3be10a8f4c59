"""Every property p-value is a p-value: the calibration checks, and (slow) the measurement.

The checks of :mod:`weight_init.app._calibration.property_calibration` are tested on
synthetic p-values (fast); the measurement over 200 seeds of the reference is
``@pytest.mark.slow`` (``tox -e calibration``, or ``pytest -m slow``).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from _levels import ASSERTION_LEVEL
from weight_init.app._calibration.property_calibration import (
    LEVEL,
    Calibration,
    TailCalibration,
    TailGroup,
    check_group,
    collect,
    collect_tails,
    markdown,
    tails_markdown,
)
from weight_init.properties._results import NullKind

N = 200


def _uniform(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(size=N)


def test_uniform_p_values_pass_both_kinds_of_check() -> None:
    """200 uniform p-values pass both kinds of check, asked at ``ASSERTION_LEVEL`` (each
    check's false-fail rate; the calibration's own level is 1e-3)."""
    for null in NullKind:
        assert check_group("c", "t", null, _uniform(1), level=ASSERTION_LEVEL).passed


def test_undoubled_point_null_p_values_fail() -> None:
    """The undoubled point-null defect: the smaller one-sided p of a point null,
    min(U, 1 - U), never exceeds 1/2 and rejects twice as often as it says; the uniformity
    checks catch it."""
    u = _uniform(2)
    row = check_group("c", "t", NullKind.POINT, np.minimum(u, 1 - u))
    assert not row.passed and row.ks < 1e-3


def test_conservative_p_values_are_valid_for_a_composite_null_only() -> None:
    """p = U^(1/2) (stochastically larger than uniform): valid, so a composite null passes;
    not uniform, so a point null fails."""
    ps = np.sqrt(_uniform(3))
    assert check_group("c", "t", NullKind.COMPOSITE, ps, level=ASSERTION_LEVEL).passed
    assert not check_group("c", "t", NullKind.POINT, ps).passed


def test_the_family_decision_is_holm_over_all_checks() -> None:
    """Five uniform groups pass Holm at ``ASSERTION_LEVEL``; an undoubled group among them is
    the one rejected (its KS p-value is below 1e-20)."""
    level = ASSERTION_LEVEL
    good = [check_group("c", f"t{i}", NullKind.POINT, _uniform(10 + i), level) for i in range(5)]
    cal = Calibration(tuple(good), N, (), 0.0, level)
    assert cal.passed and "**passes**" in markdown(cal, "cmd")
    u = _uniform(20)
    bad = check_group("c", "bad", NullKind.POINT, np.minimum(u, 1 - u), level)
    cal = Calibration((*good, bad), N, (), 0.0, level)
    assert not cal.passed and {r.test for r, _ in cal.rejected} == {"bad"}


def _tail_calibration(p: np.ndarray, lower: np.ndarray, level: float = LEVEL) -> TailCalibration:
    group = TailGroup("c", "t", "layer", p, lower)
    combined = TailGroup("c", "all", "combined", p[: p.size // 4], lower[: p.size // 4])
    return TailCalibration((group, combined), p.size, 1, 0, 0.0, level)


def test_the_tail_checks_pass_uniform_p_values_and_catch_a_one_tail_excess() -> None:
    """1,600,000 equal-tailed p-values of a symmetric law pass the eight tail checks (asked
    at ``ASSERTION_LEVEL``); the same with the upper tail's p-values below 1e-3 multiplied
    1.5 times (the lower tail thinned to keep the total, as a law with the wrong skewness
    does) fail, in the upper tail at the calibration's 1e-3: 1200 against 800 expected, 14
    standard errors, where Holm's first threshold is 3.8 (a fresh seed misses it only if
    the upper count falls 6.8 standard errors short: about 1e-11)."""
    rng = np.random.default_rng(4)
    z = rng.standard_normal(1_600_000)
    p = 2.0 * stats.norm.sf(np.abs(z))
    cal = _tail_calibration(p, z < 0, ASSERTION_LEVEL)
    assert cal.passed, [(c.kind, c.level, c.side, c.count) for c in cal.rejected]
    text = tails_markdown(cal, "cmd")
    assert "**pass**" in text and "| layer | 0.001 | upper |" in text
    skewed = p.copy()
    upper = np.flatnonzero((p > 1e-3) & (p < 1e-2) & (z > 0))
    lower = np.flatnonzero((p <= 1e-3) & (z < 0))
    n_move = int(0.5 * np.sum((p <= 1e-3) & (z > 0)))
    skewed[upper[:n_move]] = rng.uniform(0.0, 1e-3, n_move)
    skewed[lower[: n_move // 2]] = 0.5
    bad = _tail_calibration(skewed, z < 0)
    assert not bad.passed
    assert ("layer", 1e-3, "upper") in {(c.kind, c.level, c.side) for c in bad.rejected}


def test_the_tails_mode_replicates_the_suites_point_null_tests() -> None:
    """A small run of the tails mode (one suite seed, 100 replications): every point-null
    layer test and combined test of the suite's cases is replicated, and each count is of
    all its p-values."""
    cal = collect_tails(100, cases_from=1, pool=2048)
    kinds = {g.kind for g in cal.groups}
    assert kinds == {"layer", "combined"}
    layers = sum(g.kind == "layer" for g in cal.groups)
    assert layers >= 30 and all(g.p.size == 100 for g in cal.groups)
    assert {c.total for c in cal.counts("layer")} == {100 * layers}
    assert len(cal.checks) == 8
    assert all(0.0 <= float(g.p.min()) and float(g.p.max()) <= 1.0 for g in cal.groups)


@pytest.mark.slow
def test_every_property_p_value_is_calibrated_on_the_reference() -> None:
    """Over 200 seeds of the reference (the suite's cases): every point-null test uniform,
    every composite-null test and verdict p-value valid, each check at 1e-3 (binomial
    99.9% bands for p <= 0.05 and p <= 0.01, KS at 1e-3), Holm over the whole table at
    family-wise 1e-3."""
    cal = collect(200)
    failing = [f"{r.case} / {r.test}: check {i}, {r.checks}" for r, i in cal.rejected]
    assert cal.passed, "\n".join(failing)
    assert {r.null for r in cal.rows} == set(NullKind)
    assert cal.exact_only  # symmetry: exact checks only


@pytest.mark.slow
def test_point_null_tails_are_calibrated() -> None:
    """Every point-null layer test of suite seeds 0-1 replicated 20,000 times (about 1.6
    million layer p-values, 360,000 combined): each tail's count of p <= 1e-3 and of
    p <= 1e-4 is Binomial(N, a / 2) by two-sided binomtest, Holm over the eight at
    family-wise 1e-3 (minutes of CPU: ``weight-init calibrate --checks 0
    --property-tails 20000``)."""
    cal = collect_tails(20_000)
    assert cal.passed, [(c.kind, c.level, c.side, c.count, c.expected) for c in cal.rejected]
