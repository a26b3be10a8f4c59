"""The law of a layer's mean: exact where an exact law is known, each tail at its level.

Fast and deterministic. The tail counts over the suite's own layer tests are measured by
``weight-init calibrate --property-tails N``
(docs/generated/calibration_property_tails.md).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from weight_init.properties.claims import _assertions as A
from weight_init.properties.claims._common import (
    SIM_UNITS,
    SimulatedUnits,
    band_sample,
    recording_point_nulls,
    refine_units,
    simulate_units,
)
from weight_init.properties.claims._mean_law import (
    MAX_SIMULATED,
    MAX_TAIL_SIMULATED,
    TAIL_FLOOR,
    TAIL_P,
    TAIL_SKEW_SE,
    MeanLaw,
    SimulatedMoments,
    equal_tailed,
    pearson3_sf,
    refines,
    saddlepoint_mixture_sf,
    skewness_se,
    standardized,
    student_mixture_sf,
    units_needed,
)
from weight_init.properties.claims._registry import PROPERTIES
from weight_init.schemes import get_scheme

SKEWS = (-2.0, -0.4, -1e-3, 0.0, 1e-3, 0.4, 2.0)


@pytest.mark.parametrize("skew", SKEWS)
def test_pearson3_is_scipys_in_both_tails(skew: float) -> None:
    z = np.linspace(-6.0, 6.0, 49)
    want_sf = stats.pearson3.sf(z, skew)
    np.testing.assert_allclose(pearson3_sf(z, skew), want_sf, rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(
        pearson3_sf(-z, -skew), stats.pearson3.cdf(z, skew), rtol=1e-9, atol=1e-300
    )


@pytest.mark.parametrize(("dof", "rtol"), [(3.0, 2e-5), (10.0, 1e-6), (30.0, 1e-8), (511.0, 1e-10)])
def test_the_mixture_over_the_estimated_sd_is_students_t(dof: float, rtol: float) -> None:
    """A normal mean over a standard error whose square is chi2_dof / dof: Student's t, in
    both tails down to p ~ 1e-9 (the Gauss-Hermite rule of the mixture: 1e-5 relative at
    3 degrees of freedom, 1e-10 at the properties' ~500)."""
    t = np.array([0.0, 1.0, 2.0, 3.3, 4.0, 5.0, 6.0])
    np.testing.assert_allclose(student_mixture_sf(t, 0.0, dof), stats.t.sf(t, dof), rtol=rtol)
    np.testing.assert_allclose(student_mixture_sf(-t, 0.0, dof), stats.t.sf(-t, dof), rtol=rtol)


def _exact_moments(sign: float, shape: float) -> SimulatedMoments:
    """Units ``sign * Gamma(shape)`` with their exact moments (count huge: no simulation
    error)."""
    arr = np.asarray
    return SimulatedMoments(
        mean=arr(sign * shape),
        sd=arr(math.sqrt(shape)),
        skew=arr(sign * 2.0 / math.sqrt(shape)),
        kurtosis=arr(6.0 / shape),
        count=10**12,
    )


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_both_tails_are_the_exact_law_for_gamma_units_of_either_skew(sign: float) -> None:
    """The mean of n units ``sign * Gamma(k)`` is ``sign * Gamma(n k) / n`` exactly, a Pearson
    III law with skewness ``sign * 2 / sqrt(n k)``: with the exact moments both tails of
    the law are that law's, to 1e-5 relative, at the 1e-2, 1e-4 and 1e-6 quantiles. (A right
    tail from one law and a left tail from another, or a negative skewness read as none,
    misses one tail many times over: the normal law's lower tail at the exact 1e-4
    quantile is 29 times too heavy for a right-skewed mean here.)"""
    shape, n = 0.75, 24
    exact = stats.gamma(n * shape, scale=1.0 / n)  # law of the mean of n Gamma(k) units
    law = MeanLaw(_exact_moments(sign, shape), n, positive=False)
    centre = sign * shape
    for q in (1e-2, 1e-4, 1e-6):
        lo_g, hi_g = exact.ppf(q), exact.isf(q)
        if sign > 0:
            below, above = law.point_tails(lo_g, centre)[0], law.point_tails(hi_g, centre)[1]
        else:
            below, above = law.point_tails(-hi_g, centre)[0], law.point_tails(-lo_g, centre)[1]
        np.testing.assert_allclose([below, above], [q, q], rtol=1e-5)
    # The tails computed one at a time agree with the pair.
    x = centre - 3.0 * float(law.se(centre))
    assert float(law.tail(x, centre, above=False)) == pytest.approx(
        float(law.point_tails(x, centre)[0]), rel=1e-9
    )


def _weighted_chi2_mean_cdf(c: float, n: int, big: float, small: float, lower: bool) -> float:
    """``P(mean <= c)`` (``lower``) or ``P(mean >= c)`` for the mean of n units ``big X +
    small Y``, X, Y ~ chi2_1 (the mean is ``(big chi2_n + small chi2_n) / n``), by
    quadrature over the first chi-square."""
    a, b = big / n, small / n
    if lower:

        def inner(x: float) -> float:
            return float(stats.chi2.cdf((c - a * x) / b, n) * stats.chi2.pdf(x, n))

        return float(integrate.quad(inner, 0.0, c / a, limit=200, epsabs=0.0, epsrel=1e-10)[0])

    def inner_sf(x: float) -> float:
        return float(stats.chi2.sf((c - a * x) / b, n) * stats.chi2.pdf(x, n))

    part = integrate.quad(inner_sf, 0.0, c / a, limit=200, epsabs=0.0, epsrel=1e-10)[0]
    return float(part + stats.chi2.sf(c / a, n))


def test_the_saddlepoint_law_follows_both_tails_where_pearson3_cannot() -> None:
    """Units ``X + 0.3 Y`` (X, Y ~ chi2_1: a deep near-linear layer's second moment, excess
    kurtosis 10.2 against the gamma law's 9.8 at its skewness), the mean of n = 32: at the
    exact 1e-2, 1e-4 and 1e-6 quantiles of each tail the empirical saddlepoint law of
    2^18 simulated units gives the level to 8% (measured: within 4%), while Pearson III
    with the exact moments gives 0.82 of it in the lower tail at 1e-4 and 0.50 at 1e-6
    (its lower bound cuts the tail: p-values too small, rejections too many)."""
    n, big, small = 32, 1.0, 0.3
    mu = big + small
    var = 2.0 * (big**2 + small**2)
    skew = 8.0 * (big**3 + small**3) / var**1.5
    kurt = 48.0 * (big**4 + small**4) / var**2
    exact = SimulatedMoments(
        np.asarray(mu), np.asarray(math.sqrt(var)), np.asarray(skew), np.asarray(kurt), 10**12
    )
    rng = np.random.default_rng(3)
    sims = big * rng.chisquare(1, 1 << 18) + small * rng.chisquare(1, 1 << 18)
    law = MeanLaw.of(sims, n, positive=False, saddlepoint=True)
    pearson = MeanLaw(exact, n, positive=False)
    for q in (1e-2, 1e-4, 1e-6):
        lo = optimize.brentq(
            lambda c, q=q: _weighted_chi2_mean_cdf(c, n, big, small, True) - q, 1e-6, mu
        )
        hi = optimize.brentq(
            lambda c, q=q: _weighted_chi2_mean_cdf(c, n, big, small, False) - q, mu, 10 * mu
        )
        below, above = law.point_tails(lo, mu)[0], law.point_tails(hi, mu)[1]
        np.testing.assert_allclose([below / q, above / q], [1.0, 1.0], rtol=0.08)
        if q <= 1e-4:
            assert float(pearson.point_tails(lo, mu)[0]) < 0.9 * q


@pytest.mark.parametrize("dof", [3.0, 30.0, 511.0])
def test_the_saddlepoint_mixture_of_normal_units_is_students_t(dof: float) -> None:
    """The empirical saddlepoint law of 2^16 normal units, mixed over the estimated sd: the
    Student t law in both tails to 3% down to p ~ 1e-7 (the units' sample skewness, 0.01,
    moves the tails of a mean of 200 by under 1%), as :func:`student_mixture_sf` is."""
    x = standardized(np.random.default_rng(2).standard_normal(1 << 16))
    t = np.array([0.0, 0.5, 2.0, 3.3, 5.0])
    np.testing.assert_allclose(
        saddlepoint_mixture_sf(t, x, 200, dof), stats.t.sf(t, dof), rtol=0.03
    )
    np.testing.assert_allclose(
        saddlepoint_mixture_sf(t, -x, 200, dof), stats.t.sf(t, dof), rtol=0.03
    )


def test_the_saddlepoint_law_is_the_same_for_units_of_any_scale() -> None:
    """Units scaled by 1e-170 (a vanishing network's: their squares underflow) give the
    same standardized units as the units themselves, and units scaled by 1e-100 (their
    second moment's square underflows) the same tails."""
    sims = np.random.default_rng(6).gamma(0.5, 1.0, size=2048)
    np.testing.assert_allclose(standardized(sims * 1e-170), standardized(sims), atol=1e-12)
    big = MeanLaw.of(sims, 32, positive=True, saddlepoint=True)
    tiny = MeanLaw.of(sims * 1e-100, 32, positive=True, saddlepoint=True)
    values = 0.5 + float(big.se(0.5)) * np.array([-3.0, 3.0])
    np.testing.assert_allclose(
        np.stack(tiny.point_tails(values * 1e-100, 0.5e-100)),
        np.stack(big.point_tails(values, 0.5)),
        rtol=1e-9,
    )


def test_the_saddlepoint_law_gives_both_tails_as_one_law() -> None:
    """With the saddlepoint shape, ``P(below) + P(above) = 1`` at every value, the tail
    computed alone agrees with the pair, and nothing is below 0 or above 1, in both
    directions of the mean and beyond the support (a mean below every simulated unit is
    reached only through the sd's simulation error: below 1e-12 here)."""
    rng = np.random.default_rng(4)
    sims = rng.gamma(0.5, 1.0, size=4096)
    law = MeanLaw.of(sims, 32, positive=True, saddlepoint=True)
    edge = 0.5
    se = float(law.se(edge))
    values = edge + se * np.array([-4.5, -3.0, -1.0, -1e-3, 0.0, 1e-3, 1.0, 3.0, 6.0])
    below, above = law.point_tails(values, edge)
    np.testing.assert_allclose(below + above, 1.0, rtol=1e-12)
    assert np.all((below >= 0) & (below <= 1) & (above >= 0) & (above <= 1))
    assert np.all(np.diff(below) > 0)
    for v, b, a in zip(values, below, above, strict=True):
        assert float(law.tail(v, edge, above=False)) == pytest.approx(float(b), rel=1e-9)
        assert float(law.tail(v, edge, above=True)) == pytest.approx(float(a), rel=1e-9)
    assert float(law.point_tails(-0.01, edge)[0]) < 1e-12


def test_a_negative_skew_is_not_read_as_none_by_band_test() -> None:
    """band_test with simulated units of negative skewness: its lower-tail p-value is the
    left-skewed law's (heavier on the left than the normal), not the normal's."""
    rng = np.random.default_rng(11)
    sims = -rng.gamma(0.75, 1.0, size=200_000)
    n = 24
    se = math.sqrt(0.75 / n)
    mean = -0.75 - 3.5 * se
    u = np.full(n, mean)
    res = A.band_test(u, -0.75, -0.75, name="t", alpha=1e-3, effect=None, explanation="", null=sims)
    exact = stats.gamma(n * 0.75, scale=1.0 / n).sf(-mean)  # P(mean <= observed)
    assert res.p_below == pytest.approx(exact, rel=0.05)
    assert res.p_below > 2.0 * stats.norm.cdf(-3.5)
    assert res.result.p_value == pytest.approx(2.0 * res.p_below, rel=1e-9)


def _tail_counts(sign: float, reps: int, level: float) -> tuple[int, int]:
    """Point-null p-values of MeanLaw with moments from m = 512 simulated units, for units
    ``sign * Gamma(0.75)`` (chi-square-like, skewness 2.3) and n = 32: counts of p <= level
    with the mean below and above its expectation."""
    rng = np.random.default_rng([7, int(sign > 0)])
    n, m, shape = 32, 512, 0.75
    mean = sign * rng.gamma(n * shape, 1.0 / n, size=reps)  # the mean of n units, exactly
    sims = sign * rng.gamma(shape, 1.0, size=(reps, m))
    law = MeanLaw(SimulatedMoments.of(sims), n, positive=sign > 0)
    below, above = law.point_tails(mean, sign * shape)
    p = equal_tailed(below, above)
    low = below < above
    return int(np.sum((p <= level) & low)), int(np.sum((p <= level) & ~low))


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_each_tail_holds_half_the_level_with_a_simulated_spread(sign: float) -> None:
    """20,000 point-null p-values at 2e-3 (20 expected per tail): each tail's count inside
    its two-sided binomial 99.9% band (7-38), for right- and left-skewed units, with the
    sd and skewness estimated from 512 simulated units. (The law before this one, a
    normal law for the left-skewed units, put 2.4 times the rate in their lower tail at
    1e-2.)"""
    reps, level = 20_000, 2e-3
    lo_band = stats.binom.ppf(5e-4, reps, level / 2)
    hi_band = stats.binom.isf(5e-4, reps, level / 2)
    lower, upper = _tail_counts(sign, reps, level)
    assert lo_band <= lower <= hi_band, f"lower tail {lower} outside [{lo_band}, {hi_band}]"
    assert lo_band <= upper <= hi_band, f"upper tail {upper} outside [{lo_band}, {hi_band}]"


def test_combined_point_null_sides_are_mirror_images() -> None:
    """For point nulls the two one-sided p-values of a layer are complements (one law), so
    the two Stouffer sides are too."""
    rng = np.random.default_rng(5)
    parts = [
        A.band_test(
            rng.gamma(2.0, 0.5, 32),
            1.0,
            1.0,
            name=f"l{i}",
            alpha=1e-3,
            effect=None,
            explanation="",
            null=rng.gamma(2.0, 0.5, 512),
            positive=True,
        )
        for i in range(4)
    ]
    for part in parts:
        assert part.p_below + part.p_above == pytest.approx(1.0, abs=1e-12)
    _, p_lo, _, p_hi = A.stouffer_sides([p.p_below for p in parts], [p.p_above for p in parts])
    assert float(p_lo) + float(p_hi) == pytest.approx(1.0, abs=1e-9)


def test_skewness_se_is_the_leave_one_out_jackknife() -> None:
    x = np.random.default_rng(3).gamma(0.3, size=(2, 200))
    for row, got in zip(x, skewness_se(x), strict=True):
        loo = np.array([stats.skew(np.delete(row, i)) for i in range(row.size)])
        want = math.sqrt((row.size - 1) / row.size * np.sum((loo - loo.mean()) ** 2))
        assert got == pytest.approx(want, rel=1e-9)


def test_heavy_tailed_units_are_simulated_afresh_until_their_skewness_is_precise() -> None:
    """A rank-one input under He/relu: each unit's second moment is chi-square(1)-like
    (skewness ~2.8), and a pilot of 512 units does not pin the skewness of the mean of 64
    units to SKEW_SE: the fresh sample it sizes is a power of two times larger. A
    full-rank input under tanh draws a fresh sample of the pilot's size."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 1)) @ rng.standard_normal((1, 64))
    he = get_scheme("he_normal")
    heavy = simulate_units(x, he, "relu", 64, np.square, np.random.default_rng(1))
    assert SIM_UNITS < heavy.size <= MAX_SIMULATED
    assert heavy.size == SIM_UNITS * 2 ** round(math.log2(heavy.size / SIM_UNITS))
    pilot = simulate_units(x, he, "relu", 64, np.square, np.random.default_rng(1), total=64)
    assert int(units_needed(pilot, 64)) > 0
    full = rng.standard_normal((256, 64))
    light = simulate_units(full, he, "tanh", 64, np.square, np.random.default_rng(2))
    assert light.size == SIM_UNITS
    assert int(units_needed(light, 64)) == SIM_UNITS


def test_the_suite_records_its_point_null_layer_tests() -> None:
    """recording_point_nulls sees each point-null layer test with the law its units come
    from, and which of them a combined test combines."""
    with recording_point_nulls() as record:
        PROPERTIES["second_moment"](None, widths=(64,) * 3, seed=0)
    assert [layer.name for layer in record.layers] == [
        f"layer {i} second moment preserved" for i in (1, 2, 3)
    ]
    assert record.combined == [("second moment preserved", [0, 1, 2])]
    assert all(layer.law.activation == "relu" and layer.positive for layer in record.layers)


def _rank_one_relu(n_units: int = 64) -> tuple[np.ndarray, SimulatedUnits]:
    """Heavy-tailed units: a rank-one input under He/relu (each unit's second moment is
    chi-square(1)-like, skewness ~2.8)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 1)) @ rng.standard_normal((1, 64))
    sims = simulate_units(
        x, get_scheme("he_normal"), "relu", n_units, np.square, np.random.default_rng(1)
    )
    return x, sims


def test_a_tail_is_refined_from_a_fresh_sample_sized_for_the_tighter_target() -> None:
    """refine_units sizes a fresh sample from the first one as simulate_units sizes the
    first from its pilot, for TAIL_SKEW_SE: a power of two times the first sample's size,
    at most MAX_TAIL_SIMULATED; the units are new draws of the same law."""
    _, sims = _rank_one_relu()
    assert sims.law is not None and sims.rng is not None
    more = refine_units(sims)
    want = int(units_needed(np.asarray(sims), 64, TAIL_SKEW_SE, MAX_TAIL_SIMULATED))
    assert more.size == want and sims.size <= more.size <= MAX_TAIL_SIMULATED
    assert more.size == sims.size * 2 ** round(math.log2(more.size / sims.size))
    assert more.law is sims.law
    assert not np.array_equal(np.asarray(more[: sims.size]), np.asarray(sims))
    # an array computed from simulated units is not draws of their law: no refinement
    assert (np.asarray(sims) * 2.0).view(SimulatedUnits).law is None
    assert (sims * 2.0).law is None
    with pytest.raises(ValueError, match="simulate_units"):
        refine_units(np.zeros(8).view(SimulatedUnits))


def test_refines_is_the_tail_band() -> None:
    p = np.array([0.0, TAIL_FLOOR / 2, TAIL_FLOOR, 1e-4, TAIL_P / 2, TAIL_P, 0.5])
    assert refines(p).tolist() == [False, False, True, True, True, False, False]


@pytest.mark.parametrize(("shift", "tail"), [(0.0, False), (3.2, True), (40.0, False)])
def test_a_point_null_in_the_tail_is_tested_against_the_refined_sample(
    shift: float, tail: bool
) -> None:
    """band_sample on simulated units: a point-null p-value outside the tail band is the
    first sample's; inside it, the test is redone against refine_units' sample from the
    same generator state (the reported unit count says which)."""
    _, sims = _rank_one_relu()
    base = np.asarray(sims)
    edge = float(base.mean())
    sd = float(base.std(ddof=1)) / math.sqrt(64)
    u = np.random.default_rng(5).choice(base, 64) - base[:64].mean() + edge + shift * sd
    state = sims.rng.bit_generator.state if sims.rng is not None else None

    def run(null: np.ndarray) -> A.BandTest:
        return band_sample(
            u, edge, edge, 0.1, name="l", alpha=1e-3, explanation="", null=null, positive=True
        ).test

    def direct(null: np.ndarray, saddlepoint: bool = False) -> A.BandTest:
        return A.band_test(
            u,
            edge,
            edge,
            name="l",
            alpha=1e-3,
            effect=None,
            explanation="",
            null=null,
            positive=True,
            saddlepoint=saddlepoint,
        )

    first = direct(base)
    got = run(sims)
    p = first.result.p_value
    assert p is not None and bool(refines(p)) is tail
    if not tail:
        assert got.result.p_value == p
        assert f"from {sims.size} simulated units" in got.result.detail
    else:
        assert sims.rng is not None and state is not None
        sims.rng.bit_generator.state = state
        more = refine_units(sims)
        assert f"from {more.size} simulated units" in got.result.detail
        want = direct(np.asarray(more), saddlepoint=True)
        assert got.result.p_value == want.result.p_value
        assert "empirical saddlepoint law" in got.result.detail
    # a plain array of units is never refined
    assert run(base).result.p_value == p


@pytest.mark.parametrize("scale", [1.0, 1e-160, 1e-250, 1e-310])
def test_simulated_moments_do_not_depend_on_the_scale(scale: float) -> None:
    """A vanishing network's units are tiny: their skewness and kurtosis are scipy's at any
    scale, down to subnormal deviations (``m2 ** 2`` underflows from about 1e-154), with
    no division, overflow or invalid-value warning (the suite runs with warnings as errors);
    constant sims have 0."""
    sims = np.random.default_rng(0).gamma(2.0, size=(3, 500))
    with np.errstate(divide="raise", over="raise", invalid="raise"):
        m = SimulatedMoments.of(sims * scale)
        const = SimulatedMoments.of(np.full((2, 5), 1e-200))
    np.testing.assert_allclose(m.skew, stats.skew(sims, axis=-1), rtol=1e-12)
    np.testing.assert_allclose(m.kurtosis, stats.kurtosis(sims, axis=-1), rtol=1e-12)
    assert np.all(const.skew == 0.0) and np.all(const.kurtosis == 0.0)
