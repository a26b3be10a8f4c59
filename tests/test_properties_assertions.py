"""The statistical helpers: sizes hold on synthetic data, power is reported, Holm is applied."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from _levels import ASSERTION_LEVEL
from weight_init.properties._results import NullKind, TestResult
from weight_init.properties.claims import _assertions as A


def _rejection_rate(alpha: float, use_null: bool, reps: int = 8000) -> float:
    """Units chi-square-like with 1.5 degrees of freedom (a rank-1.5 layer input), n = 16."""
    rng = np.random.default_rng(123)
    shape, n = 0.75, 16
    rejected = 0
    for _ in range(reps):
        u = rng.gamma(shape, 1.0 / shape, size=n)
        null = rng.gamma(shape, 1.0 / shape, size=512) if use_null else None
        res = A.mean_within_band(
            u,
            1.0,
            1.0,
            name="t",
            alpha=alpha,
            effect=None,
            explanation="",
            null=null,
            positive=True,
        )
        rejected += res.passed is False
    return rejected / reps


def test_simulated_spread_keeps_the_size_where_the_t_test_does_not() -> None:
    """At a point null and alpha = 0.02 (two-sided): the gamma law with a simulated spread
    rejects at about the nominal rate (over 8000 reps at most the one-sided binomial bound
    at ``ASSERTION_LEVEL``, about 0.028); the t-test with the sample's own sd rejects far
    more often (its left tail is too heavy for chi-square-like units: 0.065 to 0.075 where
    the gamma law's is 0.020 to 0.022, so twice the gamma law's rate lies at least 4.9
    standard errors of the difference below it: both assertions fail on a fresh seed with
    probability about 1e-6 or less, and a law as anti-conservative as the t-test is above
    the bound with probability near 1)."""
    gamma_rate = _rejection_rate(0.02, use_null=True)
    t_rate = _rejection_rate(0.02, use_null=False)
    hi = stats.binom.isf(ASSERTION_LEVEL, 8000, 0.02) / 8000
    assert gamma_rate <= hi, f"gamma-law rejection rate {gamma_rate} above {hi}"
    assert t_rate > 2 * gamma_rate, f"t-test {t_rate} vs gamma {gamma_rate}"


def _point_null_p_values(reps: int, layers: int) -> tuple[np.ndarray, np.ndarray]:
    """Layer p-values and their Stouffer combination at a point null that holds (normal
    units, spread simulated): both must be uniform on (0, 1)."""
    rng = np.random.default_rng(7)
    single, comb = [], []
    for _ in range(reps):
        parts = [
            A.band_test(
                rng.normal(1.0, 0.3, 32),
                1.0,
                1.0,
                name="l",
                alpha=1e-3,
                effect=None,
                explanation="",
                null=rng.normal(1.0, 0.3, 512),
            )
            for _ in range(layers)
        ]
        single.append(parts[0].result.p_value)
        res = A.combined_band_test(parts, [0.1] * layers, name="c", alpha=1e-3, explanation="")
        comb.append(res.p_value)
    return np.array(single, dtype=float), np.array(comb, dtype=float)


def test_point_null_p_values_are_uniform() -> None:
    """A point-null p-value reported as the smaller one-sided p would never exceed 1/2.
    Over 1000 reps each p-value (one layer, and 4 layers combined) is uniform: KS against
    U(0, 1) does not reject at ``ASSERTION_LEVEL`` (critical distance 0.085; the undoubled
    p-value is 0.5 off), the fraction of p <= 0.05 lies in its binomial band (two-sided
    binomtest, p >= ``ASSERTION_LEVEL``: a doubled rate, 0.1, is caught with power 0.93)
    and some p-values exceed 1/2."""
    single, comb = _point_null_p_values(1000, 4)
    for ps in (single, comb):
        assert stats.kstest(ps, "uniform").pvalue >= ASSERTION_LEVEL
        assert stats.binomtest(int(np.sum(ps <= 0.05)), ps.size, 0.05).pvalue >= ASSERTION_LEVEL
        assert np.mean(ps > 0.5) > 0.3
    res = A.band_test([1.0, 1.2, 0.9], 1.0, 1.0, name="t", alpha=0.05, effect=None, explanation="")
    assert res.result.null is NullKind.POINT


def test_band_p_value_is_one_sided_far_from_the_other_edge() -> None:
    """A band much wider than the standard error: the p-value is the nearer edge's one-sided
    p (the far edge adds nothing); a bound (one infinite edge) is one-sided."""
    u = np.random.default_rng(3).normal(1.0, 0.1, 64)
    band = A.band_test(u, 1.0, 100.0, name="b", alpha=0.05, effect=None, explanation="")
    bound = A.band_test(u, 1.0, np.inf, name="b", alpha=0.05, effect=None, explanation="")
    assert band.result.p_value == pytest.approx(band.p_below, rel=1e-9)
    assert bound.result.p_value == pytest.approx(bound.p_below, rel=1e-9)
    assert band.result.null is bound.result.null is NullKind.COMPOSITE


def test_band_test_detects_a_shift_and_reports_power() -> None:
    rng = np.random.default_rng(0)
    u = rng.normal(1.3, 0.1, size=64)
    res = A.mean_within_band(
        u, 0.9, 1.1, name="band", alpha=1e-3, effect=0.1, explanation="outside"
    )
    assert res.passed is False and res.p_value is not None and res.p_value < 1e-3
    inside = A.mean_within_band(
        rng.normal(1.0, 0.1, size=64),
        0.9,
        1.1,
        name="band",
        alpha=1e-3,
        effect=0.1,
        explanation="outside",
    )
    assert inside.passed is True and "power" in inside.detail


def test_too_weak_a_test_is_inconclusive_not_passed() -> None:
    rng = np.random.default_rng(1)
    res = A.mean_within_band(
        rng.normal(1.0, 1.0, size=4),
        1.0,
        1.0,
        name="weak",
        alpha=1e-3,
        effect=0.01,
        explanation="x",
    )
    assert res.passed is None and res.outcome == "inconclusive"


def test_family_applies_holm() -> None:
    tests = [
        TestResult("a", 0.0, 0.0004, 1e-3, True, ""),
        TestResult("b", 0.0, 0.0006, 1e-3, True, ""),
        TestResult("c", 0.0, None, 0.0, True, "exact"),
    ]
    v = A.family("s", tests, 1e-3)
    # Holm with m = 2: 0.0004 <= 0.0005 rejects, then 0.0006 <= 0.001 rejects.
    assert [t.passed for t in v.tests] == [False, False, True]
    assert v.tests[0].threshold == pytest.approx(5e-4)
    v2 = A.family("s", [tests[1], TestResult("d", 0.0, 0.5, 1e-3, True, "")], 1e-3)
    assert [t.passed for t in v2.tests] == [True, True]  # 0.0006 > 0.0005: stop


def test_combined_band_test_accumulates_evidence_over_layers() -> None:
    rng = np.random.default_rng(2)
    parts = [
        A.band_test(
            rng.normal(1.05, 0.2, 32),
            1.0,
            1.0,
            name=f"l{i}",
            alpha=1e-3,
            effect=None,
            explanation="",
        )
        for i in range(30)
    ]
    single = min(p.result.p_value or 1.0 for p in parts)
    comb = A.combined_band_test(parts, [0.05] * 30, name="all", alpha=1e-3, explanation="")
    assert comb.p_value is not None and comb.p_value < single


def test_units_needed() -> None:
    assert A.units_needed(cv=0.5, effect=0.1, alpha=1e-3, power=0.9) == pytest.approx(
        ((3.2905 + 1.2816) * 5) ** 2, rel=0.01
    )
