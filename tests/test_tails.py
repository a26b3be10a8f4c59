"""The check's scipy.special tail functions (:mod:`weight_init.properties.conformance._tails`)
return the
numbers of the scipy.stats expressions they replace, on grids covering the arguments a check
uses (deterministic grids: no sampling, nothing statistical is asserted here)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from weight_init.properties.conformance import _tails as tails

#: Same numbers: both sides call the same scipy.special function, so agreement is exact up
#: to the last bits of float conversion. The binomial p-value sums Boost's incomplete beta
#: tails where binomtest sums Boost's binomial cdf/sf (the same functions through another
#: entry point): agreement to 1e-12 relative, above float64's smallest normal numbers.
EXACT = {"rtol": 1e-15, "atol": 0.0}
ULPS = {"rtol": 1e-12, "atol": 1e-290}

XS = [*np.linspace(-40.0, 40.0, 161), -1e-9, 0.0, 1e-9, 5.3, 8.2, 37.5]
QS = [1e-300, 1e-100, 1e-20, 5e-7, 1e-5, 1e-4 / 14, 0.01, 0.05, 0.3, 0.5, 0.7, 0.99, 1 - 1e-9]


@pytest.mark.parametrize("x", XS)
def test_normal_tails_match_scipy_stats(x: float) -> None:
    np.testing.assert_allclose(tails.norm_sf(x), stats.norm.sf(x), **EXACT)
    np.testing.assert_allclose(tails.normal_two_sided(x), 2 * stats.norm.sf(abs(x)), **EXACT)


@pytest.mark.parametrize("q", QS)
def test_normal_quantile_matches_scipy_stats(q: float) -> None:
    np.testing.assert_allclose(tails.norm_isf(q), stats.norm.isf(q), **EXACT)


@pytest.mark.parametrize("df", [1, 2, 3, 9, 30, 136, 1000, 10**6])
def test_t_and_chi2_tails_match_scipy_stats(df: int) -> None:
    for x in XS:
        np.testing.assert_allclose(tails.t_sf(x, df), stats.t.sf(x, df), **EXACT)
        if x >= 0:
            for y in (x, x * x, x * 50.0):
                np.testing.assert_allclose(tails.chi2_sf(y, df), stats.chi2.sf(y, df), **EXACT)


@pytest.mark.parametrize("n", [20_001, 50_000, 231_730, 324_423, 10**7])
def test_ks_asymptotic_tail_matches_kstwobign(n: int) -> None:
    for d in np.geomspace(1e-5, 0.5, 60):
        y = d * (np.sqrt(n) + 0.12 + 0.11 / np.sqrt(n))
        np.testing.assert_allclose(tails.ks_sf(float(d), n), stats.kstwobign.sf(y), **EXACT)


@pytest.mark.parametrize("n", [2, 10, 137, 5000, 20_000])
def test_ks_exact_tail_is_kstwo(n: int) -> None:
    for d in np.linspace(0.001, 0.99, 40):
        np.testing.assert_allclose(tails.ks_sf(float(d), n), stats.kstwo.sf(d, n), **EXACT)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 10, 11, 64, 101, 640, 2001, 6400, 40_001])
def test_binomial_two_sided_half_matches_binomtest(n: int) -> None:
    ks = sorted({*range(min(n, 40) + 1), *np.linspace(0, n, 41).astype(int).tolist()})
    for k in ks:
        got = tails.binomial_two_sided_half(k, n)
        want = stats.binomtest(k, n, 0.5).pvalue
        np.testing.assert_allclose(got, want, **ULPS, err_msg=f"k={k}, n={n}")


def test_binomial_two_sided_half_refuses_impossible_counts() -> None:
    with pytest.raises(ValueError, match="0 <= k <= n"):
        tails.binomial_two_sided_half(5, 4)


@pytest.mark.parametrize(
    "skew", [-2.0, -0.3, -0.01, -1e-5, 0.0, 1e-5, 1.6e-5, 3e-5, 0.004, 0.05, 0.3, 1.0, 4.0]
)
def test_pearson3_tail_matches_scipy_stats(skew: float) -> None:
    for x in [*XS, -2.0 / skew if skew else 0.0]:
        np.testing.assert_allclose(
            tails.pearson3_sf(x, skew), stats.pearson3.sf(x, skew), **EXACT, err_msg=f"x={x}"
        )


def test_truncation_constants_match_scipy_stats() -> None:
    """The truncated normal's constants (families) use scipy.special, as scipy.stats does."""
    from weight_init.draws import TRUNCATED_NORMAL_STD, TRUNCATION
    from weight_init.families import _truncation_constants

    c, std = TRUNCATION, TRUNCATED_NORMAL_STD
    mass = 2.0 * stats.norm.cdf(c) - 1.0
    m4 = (3.0 * std**2 - 2.0 * c**3 * stats.norm.pdf(c) / mass) / std**4
    want = (mass, stats.norm.cdf(-c), m4)
    assert _truncation_constants() == tuple(float(v) for v in want)
