"""Tail probabilities and quantiles a conformance check needs, from :mod:`scipy.special`.

``weight-init check`` is a command a person waits for, and ``import scipy.stats`` alone
costs 0.5-1.5 s on a loaded 2-core machine (it pulls in scipy.optimize, scipy.linalg,
scipy.sparse...), while the check itself takes about 0.1 s. The check's hot path needs only
p-values and quantiles of a handful of laws, and :mod:`scipy.stats` computes each of them
with one :mod:`scipy.special` function: the functions below call that same function, so
they return the same numbers as the ``scipy.stats`` expression named in each docstring
(tests/test_tails.py compares them on a grid). Elsewhere (reports, calibration, the
property suite) the project keeps using :mod:`scipy.stats` and its result objects, as the
project prefers a well-kept library; this module is for the check's hot path only.

Conventions: ``sf(x) = P(X > x)`` (upper tail), ``isf(q)`` its inverse; all functions take
and return Python floats.
"""

from __future__ import annotations

import math

from scipy import special

__all__ = [
    "binomial_two_sided_half",
    "chi2_sf",
    "ks_sf",
    "norm_isf",
    "norm_sf",
    "normal_two_sided",
    "pearson3_sf",
    "t_ppf",
    "t_sf",
]

#: Below this ``|skew|`` scipy's pearson3 is the standard normal (its own cut-off).
PEARSON3_NORMAL_SKEW = 0.000016
#: Largest ``n`` for which :func:`ks_sf` uses the exact finite-``n`` law.
KS_EXACT_MAX_N = 20_000


def norm_sf(x: float) -> float:
    """``P(Z > x)`` for a standard normal ``Z``: ``Phi(-x)`` = ``special.ndtr(-x)``
    (= ``scipy.stats.norm.sf(x)``)."""
    return float(special.ndtr(-x))


def norm_isf(q: float) -> float:
    """The upper-``q`` standard normal quantile ``z_q`` (``P(Z > z_q) = q``):
    ``-Phi^-1(q)`` = ``-special.ndtri(q)`` (= ``scipy.stats.norm.isf(q)``)."""
    return float(-special.ndtri(q))


def normal_two_sided(t: float) -> float:
    """``P(|Z| >= |t|) = 2 Phi(-|t|)`` (= ``2 * scipy.stats.norm.sf(abs(t))``)."""
    return float(2 * special.ndtr(-abs(t)))


def t_sf(x: float, df: float) -> float:
    """``P(T > x)`` for Student's t with ``df`` degrees of freedom: ``special.stdtr(df, -x)``
    (the t law is symmetric; = ``scipy.stats.t.sf(x, df)``)."""
    return float(special.stdtr(df, -x))


def t_ppf(q: float, df: float) -> float:
    """The ``q`` quantile of Student's t with ``df`` degrees of freedom:
    ``special.stdtrit(df, q)`` (= ``scipy.stats.t.ppf(q, df)`` for ``0 < q < 1``)."""
    return float(special.stdtrit(df, q))


def chi2_sf(x: float, df: float) -> float:
    """``P(X > x)`` for a chi-squared ``X`` with ``df`` degrees of freedom, the regularized
    upper incomplete gamma ``Q(df/2, x/2)`` = ``special.chdtrc(df, x)``
    (= ``scipy.stats.chi2.sf(x, df)``)."""
    return float(special.chdtrc(df, x))


def ks_sf(d: float, n: int) -> float:
    """P-value of a one-sample two-sided Kolmogorov-Smirnov distance ``d`` on ``n`` points.

    ``n <= 20,000``: the exact law of ``D_n`` (``scipy.stats.kstwo.sf(d, n)``; scipy.stats
    is imported here, on first use, as scipy computes it in Python, not in scipy.special).
    Larger ``n``: Kolmogorov's limit law ``P(sqrt(n) D_n > y) -> K(y) = 2 sum_k (-1)^(k-1)
    exp(-2 k^2 y^2)`` at Stephens' corrected ``y = d (sqrt n + 0.12 + 0.11 / sqrt n)``,
    ``special.kolmogorov(y)`` (= ``scipy.stats.kstwobign.sf(y)``). A check's default plan
    pools far more than 20,000 entries, so its hot path never imports scipy.stats."""
    if n <= KS_EXACT_MAX_N:
        from scipy import stats

        return float(stats.kstwo.sf(d, n))
    return float(special.kolmogorov(d * (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n))))


def binomial_two_sided_half(k: int, n: int) -> float:
    """Exact two-sided binomial test of ``k`` successes in ``n`` trials against ``p = 1/2``.

    The p-value of ``scipy.stats.binomtest(k, n, 0.5)`` ("two-sided": the probability of
    every count no more likely than ``k``): Binomial(n, 1/2) is symmetric about ``n/2``, so
    with ``m = min(k, n - k)`` the counts no more likely than ``k`` are ``<= m`` and
    ``>= n - m``, and ``p = min(1, P(X <= m) + P(X >= n - m))`` with the binomial tails
    as regularized incomplete beta functions, ``P(X <= m) = 1 - I_{1/2}(m + 1, n - m)``
    (``special.betaincc``) and ``P(X >= n - m) = I_{1/2}(n - m, m + 1)``
    (``special.betainc``), the routines scipy.stats.binom's own cdf/sf call (Boost's
    ``ibetac``/``ibeta``), so the p-value agrees with binomtest's to about 1e-13 relative
    (1 when ``2k = n``). The two tails are equal by symmetry; below about 1e-250 ``ibetac``
    underflows to 0 where ``ibeta`` does not (and binomtest returns 0), so ``p`` is twice
    the larger: exact there too, to 1e-9 relative of the log-space sum of the pmf."""
    if not 0 <= k <= n or n < 1:
        raise ValueError(f"need 0 <= k <= n and n >= 1, got k={k}, n={n}")
    if 2 * k == n:
        return 1.0
    m = min(k, n - k)
    low = special.betaincc(m + 1, n - m, 0.5)
    high = special.betainc(n - m, m + 1, 0.5)
    return min(1.0, 2.0 * float(max(low, high)))


def pearson3_sf(x: float, skew: float) -> float:
    """``P(X > x)`` for the standardized Pearson type III law with skewness ``skew``
    (= ``scipy.stats.pearson3.sf(x, skew)``).

    With ``beta = 2 / skew``, ``alpha = beta^2`` and ``zeta = -alpha / beta``,
    ``beta (X - zeta)`` is Gamma(alpha, 1): for ``skew > 0``, ``P(X > x) = Q(alpha, t)``
    at ``t = beta (x - zeta)`` (``special.gammaincc``; 1 below the support, ``t <= 0``);
    for ``skew < 0`` the axis is reflected and ``P(X > x) = P(alpha, t)``
    (``special.gammainc``; 0 for ``t <= 0``). Below ``|skew| = 1.6e-5`` it is the standard
    normal's ``Phi(-x)``, as in scipy."""
    if abs(skew) < PEARSON3_NORMAL_SKEW:
        return norm_sf(x)
    beta = 2.0 / skew
    alpha = beta * beta
    zeta = -alpha / beta
    t = beta * (x - zeta)
    if skew > 0:
        return 1.0 if t <= 0 else float(special.gammaincc(alpha, t))
    return 0.0 if t <= 0 else float(special.gammainc(alpha, t))
