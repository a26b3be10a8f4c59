"""The check's scipy.special tail functions (:mod:`weight_init.properties.conformance._tails`)
return the numbers of the scipy.stats expressions they replace, for any argument a check can
give them: each is a Hypothesis property against scipy.stats over drawn arguments, with the
edge cases as explicit examples (both sides of 0, the far tails, the exact-law/limit-law
switch of the KS p-value, Pearson III's normal limit and its support's edge). Hypothesis
draws arguments only: nothing statistical is asserted here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import special, stats

from weight_init.properties.conformance import _tails as tails

#: Same numbers: both sides call the same scipy.special function, so agreement is exact up
#: to the last bits of float conversion. The binomial p-value sums Boost's incomplete beta
#: tails where binomtest sums Boost's binomial cdf/sf (the same functions through another
#: entry point): agreement to 1e-12 relative, above float64's smallest normal numbers.
EXACT = {"rtol": 1e-15, "atol": 0.0}
ULPS = {"rtol": 1e-12, "atol": 1e-290}
#: Where binomtest's p-value is trusted (below it, it underflows to 0 early).
NEGLIGIBLE = 1e-200

#: Cheap pure functions: many drawn arguments per property.
MANY = settings(max_examples=300, deadline=None)

#: Statistics as a check computes them: z and t scores, chi-squared values, out to 40 sd.
xs = st.floats(-40.0, 40.0, allow_nan=False)
#: Upper-tail probabilities, log-uniform down to 1e-300 (Holm levels reach 1e-6 and below).
qs = st.floats(-300.0, math.log10(1 - 1e-9)).map(lambda e: 10.0**e)
#: Degrees of freedom, log-uniform from 1 to 10^6.
dfs = st.floats(0.0, 6.0).map(lambda e: max(1, round(10.0**e)))


@MANY
@given(x=xs)
@example(x=-40.0)
@example(x=-1e-9)
@example(x=0.0)
@example(x=1e-9)
@example(x=5.3)
@example(x=8.2)
@example(x=37.5)
@example(x=40.0)
def test_normal_tails_match_scipy_stats(x: float) -> None:
    np.testing.assert_allclose(tails.norm_sf(x), stats.norm.sf(x), **EXACT)
    np.testing.assert_allclose(tails.normal_two_sided(x), 2 * stats.norm.sf(abs(x)), **EXACT)


@MANY
@given(q=qs)
@example(q=1e-300)
@example(q=1e-100)
@example(q=1e-20)
@example(q=5e-7)
@example(q=1e-5)
@example(q=1e-4 / 14)
@example(q=0.5)
@example(q=0.99)
@example(q=1 - 1e-9)
def test_normal_quantile_matches_scipy_stats(q: float) -> None:
    np.testing.assert_allclose(tails.norm_isf(q), stats.norm.isf(q), **EXACT)


@MANY
@given(x=xs, df=dfs)
@example(x=0.0, df=1)
@example(x=-40.0, df=2)
@example(x=37.5, df=3)
@example(x=8.2, df=9)
@example(x=5.3, df=30)
@example(x=1e-9, df=136)
@example(x=-1e-9, df=1000)
@example(x=40.0, df=10**6)
def test_t_and_chi2_tails_match_scipy_stats(x: float, df: int) -> None:
    np.testing.assert_allclose(tails.t_sf(x, df), stats.t.sf(x, df), **EXACT)
    if x >= 0:
        for y in (x, x * x, x * 50.0):
            np.testing.assert_allclose(tails.chi2_sf(y, df), stats.chi2.sf(y, df), **EXACT)


@MANY
@given(q=st.floats(1e-12, 1 - 1e-12), df=dfs)
@example(q=0.5, df=1)
@example(q=0.99, df=2)
@example(q=1 - 1e-4 / 40, df=7)
def test_t_quantile_matches_scipy_stats(q: float, df: int) -> None:
    np.testing.assert_allclose(tails.t_ppf(q, df), stats.t.ppf(q, df), **EXACT)


@MANY
@given(
    n=st.integers(tails.KS_EXACT_MAX_N + 1, 10**7),
    d=st.floats(math.log10(1e-5), math.log10(0.5)).map(lambda e: 10.0**e),
)
@example(n=tails.KS_EXACT_MAX_N + 1, d=1e-5)
@example(n=50_000, d=0.5)
@example(n=231_730, d=0.003)
@example(n=10**7, d=4e-4)
def test_ks_asymptotic_tail_matches_kstwobign(n: int, d: float) -> None:
    y = d * (np.sqrt(n) + 0.12 + 0.11 / np.sqrt(n))
    np.testing.assert_allclose(tails.ks_sf(float(d), n), stats.kstwobign.sf(y), **EXACT)


@settings(max_examples=100, deadline=None)
@given(n=st.integers(2, tails.KS_EXACT_MAX_N), d=st.floats(0.001, 0.99))
@example(n=2, d=0.001)
@example(n=10, d=0.99)
@example(n=137, d=0.2)
@example(n=5000, d=0.02)
@example(n=tails.KS_EXACT_MAX_N, d=0.01)
def test_ks_exact_tail_is_kstwo(n: int, d: float) -> None:
    np.testing.assert_allclose(tails.ks_sf(float(d), n), stats.kstwo.sf(d, n), **EXACT)


@st.composite
def counts(draw: st.DrawFn) -> tuple[int, int]:
    """``(k, n)``: n log-uniform in 1..40,001 (odd and even), k anywhere in 0..n, often
    in the tails (where the p-value is small) or at the centre (where it is 1)."""
    n = draw(st.floats(0.0, math.log10(40_001)).map(lambda e: max(1, round(10.0**e))))
    k = draw(
        st.one_of(
            st.integers(0, n),
            st.integers(0, min(n, 40)),
            st.integers(max(0, n - 40), n),
            st.sampled_from([n // 2, (n + 1) // 2]),
        )
    )
    return k, n


@MANY
@given(kn=counts())
@example(kn=(0, 1))
@example(kn=(1, 2))
@example(kn=(0, 40_001))
@example(kn=(20_000, 40_001))
@example(kn=(320, 640))
@example(kn=(5, 11))
@example(kn=(2001, 2001))
@example(kn=(29, 1155))
@example(kn=(1037, 1075))
def test_binomial_two_sided_half_matches_binomtest(kn: tuple[int, int]) -> None:
    """Equal to binomtest's p-value to 1e-12 relative wherever that is at least
    :data:`NEGLIGIBLE`. Below it binomtest underflows (it returns 0 at k = 1037, n = 1075,
    where the p-value is 7.9e-254; found by this property), so there the p-value is compared
    with the log-space sum of the binomial pmf (to 1e-9 relative: gammaln's rounding)."""
    k, n = kn
    got = tails.binomial_two_sided_half(k, n)
    want = stats.binomtest(k, n, 0.5).pvalue
    if want >= NEGLIGIBLE:
        np.testing.assert_allclose(got, want, **ULPS, err_msg=f"k={k}, n={n}")
        return
    m = min(k, n - k)
    i = np.arange(m + 1)
    log_pmf = special.gammaln(n + 1) - special.gammaln(i + 1) - special.gammaln(n - i + 1)
    exact = math.exp(math.log(2.0) + float(special.logsumexp(log_pmf)) - n * math.log(2.0))
    np.testing.assert_allclose(got, exact, rtol=1e-9, atol=1e-305, err_msg=f"k={k}, n={n}")


def test_binomial_two_sided_half_refuses_impossible_counts() -> None:
    with pytest.raises(ValueError, match="0 <= k <= n"):
        tails.binomial_two_sided_half(5, 4)


#: Skewness: anywhere in [-4, 4], and near 0 on both sides of the normal limit (1.6e-5).
skews = st.one_of(
    st.floats(-4.0, 4.0),
    st.floats(-8.0, -3.0).map(lambda e: 10.0**e),
    st.floats(-8.0, -3.0).map(lambda e: -(10.0**e)),
)


@MANY
@given(x=xs, skew=skews, at_the_edge=st.booleans())
@example(x=0.0, skew=0.0, at_the_edge=False)
@example(x=1.0, skew=1e-5, at_the_edge=False)
@example(x=1.0, skew=-1e-5, at_the_edge=False)
@example(x=1.0, skew=1.6e-5, at_the_edge=True)
@example(x=2.0, skew=3e-5, at_the_edge=False)
@example(x=-1.0, skew=0.004, at_the_edge=True)
@example(x=8.2, skew=-2.0, at_the_edge=False)
@example(x=-40.0, skew=4.0, at_the_edge=True)
@example(x=37.5, skew=-0.3, at_the_edge=True)
def test_pearson3_tail_matches_scipy_stats(x: float, skew: float, at_the_edge: bool) -> None:
    """At ``x`` or at the support's edge ``-2 / skew`` (where the tail is exactly 0 or 1)."""
    if at_the_edge:
        x = -2.0 / skew if skew else 0.0
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
