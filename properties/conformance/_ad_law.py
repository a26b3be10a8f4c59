"""The null law of the Anderson-Darling statistic for a fully specified continuous law.

For ``n`` i.i.d. draws with continuous CDF ``F`` and ``u_(1) <= ... <= u_(n)`` the sorted
``F(x_i)``,

    A^2 = -n - (1/n) sum_i [(2i - 1) ln u_(i) + (2n + 1 - 2i) ln(1 - u_(i))],

whose law does not depend on ``F`` (it is a functional of the uniform empirical process).
No parameter is estimated here, so this is *not* the law :func:`scipy.stats.anderson` uses
(it estimates the location and scale and tabulates critical values for that case), and
:func:`scipy.stats.goodness_of_fit` would simulate it; scipy 1.17 has no p-value of ``A^2``
for a specified law, so it is computed here from its published forms (tests/
test_conformance_anderson_darling.py compares them with simulation and with the classical
tables).

**The limit law** (``n -> inf``; Anderson and Darling 1954, eq. (2.6), the form evaluated by
Marsaglia and Marsaglia 2004, "Evaluating the Anderson-Darling distribution", J. Stat.
Softw. 9(2)):

    P(A^2 <= z) = sqrt(2 pi) / z sum_{j >= 0} a_j exp(-(4j+1)^2 pi^2 / (8z))
                  int_0^inf exp(z / (8 (w^2 + 1)) - (4j+1)^2 pi^2 w^2 / (8z)) dw,
    a_j = (-1)^j (4j + 1) Gamma(j + 1/2) / (Gamma(1/2) j!),

summed here while the terms matter (``(4j+1)^2 pi^2 / (8z) <= 50 + z/8``), each integral by
the trapezoidal rule on ``w = s / sqrt(c_j)``, ``s`` in [0, 8] (the integrand is analytic
and decays like ``exp(-s^2)``, where the trapezoidal rule converges geometrically). Its
mean and variance come out as the limit law's, 1 and ``2 (pi^2 - 9) / 3``, to 1e-6, and
its upper points as tabulated (2.4924 at 5%, 3.8781 at 1%). Marsaglia's fast ADinf
polynomial is *not* used: its upper
tail, fitted on ``P(A^2 <= z)``, is off by orders of magnitude where a check decides (at
``z = 12`` it gives 2e-8 for 1.7e-6), and the series' ``1 - P(A^2 <= z)`` loses relative
precision below 1e-12. Beyond :data:`TAIL_FROM` the upper tail is therefore its own
asymptotic expansion: ``A^2 = sum_j Y_j / (j (j + 1))`` with ``Y_j`` i.i.d. chi-squared(1)
(the Karhunen-Loeve form), the largest weight ``1/2`` alone, so

    P(A^2 > z) = sqrt(3) erfc(sqrt z) (1 + 11 / (36 z) + O(z^-2)),

``sqrt 3 = prod_{j >= 2} (1 - 2 / (j (j + 1)))^(-1/2)`` (the product telescopes to 1/3) and
``11/36`` half the tilted mean ``sum_{j >= 2} 1 / ((j - 1)(j + 2)) = 11/18`` of the other
terms. At ``z = 15`` (``P = 7.6e-8``) it agrees with the series to 3e-4 relative, and it
lies above it (conservative).

**Finite n** (Marsaglia and Marsaglia 2004, ``errfix``): ``P(A^2_n <= z) = x + e(n, x)``
with ``x`` the limit law's CDF and ``e`` their fitted correction, of order ``1/n``, applied
where ``P(A^2 > z) >= P_FIT = 1e-3``. Further out their fit is not used as it stands: its
upper branch ``e = g(x)/n`` does not vanish at ``x = 1`` (``g(1) = -0.0006``, a residual of
the fit), so every p-value would be at least ``0.0006/n``, an absolute floor that says
nothing about the tail and would, at small levels, demand ``n > 0.0006 / level``. The tail
keeps instead the correction's relative size at ``P_FIT``, ``p = p_inf (1 + k/n)`` with
``k = -g(1 - P_FIT) / P_FIT = 1.065`` (continuous at ``P_FIT``; the finite-``n`` tail is
the heavier one there). At the ``n`` of a check (10^5 and more) the factor is within 1e-5
of 1.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import special

__all__ = ["ad_isf", "ad_sf", "ad_statistic"]

#: From this ``z`` on the upper tail is the asymptotic expansion (module docstring).
TAIL_FROM = 15.0
#: Below this upper tail the finite-``n`` correction is relative (module docstring).
P_FIT = 1e-3
#: Trapezoid nodes per series term, on ``s`` in [0, :data:`S_MAX`].
NODES = 2001
S_MAX = 8.0


def _limit_cdf(z: float) -> float:
    """``P(A^2 <= z)`` of the limit law by the Anderson-Darling series (module docstring)."""
    if z <= 0.0:
        return 0.0
    s = np.linspace(0.0, S_MAX, NODES)
    total = 0.0
    j = 0
    while True:
        c = (4 * j + 1) ** 2 * math.pi**2 / (8.0 * z)
        if c > 50.0 + z / 8.0:
            break
        log_a = special.gammaln(j + 0.5) - special.gammaln(0.5) - special.gammaln(j + 1.0)
        a = (-1) ** j * (4 * j + 1) * math.exp(log_a)
        w2 = s * s / c
        integral = float(np.trapezoid(np.exp(z / (8.0 * (w2 + 1.0)) - s * s), s)) / math.sqrt(c)
        total += a * math.exp(-c) * integral
        j += 1
    return min(1.0, max(0.0, math.sqrt(2.0 * math.pi) / z * total))


def _limit_sf(z: float) -> float:
    """``P(A^2 > z)`` of the limit law."""
    if z >= TAIL_FROM:
        return math.sqrt(3.0) * float(special.erfc(math.sqrt(z))) * (1.0 + 11.0 / (36.0 * z))
    return 1.0 - _limit_cdf(z)


def _errfix(n: int, x: float) -> float:
    """Marsaglia and Marsaglia's (2004) correction ``e(n, x)`` to the limit CDF ``x``."""
    if x > 0.8:
        g = (
            -130.2137
            + (745.2337 - (1705.091 - (1950.646 - (1116.360 - 255.7844 * x) * x) * x) * x) * x
        )
        return g / n
    c = 0.01265 + 0.1757 / n
    if x < c:
        t = x / c
        t = math.sqrt(t) * (1.0 - t) * (49.0 * t - 102.0)
        return t * (0.0037 / (n * n) + 0.00078 / n + 0.00006) / n
    t = (x - c) / (0.8 - c)
    t = -0.00022633 + (6.54034 - (14.6538 - (14.458 - (8.259 - 1.91864 * t) * t) * t) * t) * t
    return t * (0.04213 / n + 0.01365 / (n * n)) / n


def ad_sf(z: float, n: int | None = None) -> float:
    """``P(A^2 > z)`` for ``n`` draws of a fully specified continuous law (the limit law
    when ``n`` is None).

    Parameters
    ----------
    z : float
        The statistic.
    n : int, optional
        The sample size (``errfix`` correction); None for the limit law.

    Returns
    -------
    float
        The upper-tail probability, in [0, 1].

    Examples
    --------
    >>> from weight_init.properties.conformance._ad_law import ad_sf
    >>> round(ad_sf(2.492), 4), round(ad_sf(3.857), 4)
    (0.05, 0.0102)
    """
    if not z > 0.0:
        return 1.0
    if not math.isfinite(z):
        return 0.0
    p = _limit_sf(z)
    if n is not None:
        if p >= P_FIT:
            p -= _errfix(int(n), 1.0 - p)
        else:
            p *= 1.0 - _errfix(int(n), 1.0 - P_FIT) / P_FIT
    return min(1.0, max(0.0, p))


@functools.cache
def ad_isf(q: float, n: int | None = None) -> float:
    """The ``z`` with ``ad_sf(z, n) = q``, to 1e-9 relative.

    Secant steps on ``ln ad_sf(z, n) - ln q`` (nearly linear in ``z`` in the upper tail)
    from the tail expansion's inverse, ``z_0 = erfcinv(q / sqrt 3)^2``; bisection if they do
    not settle (``ad_sf`` is non-increasing).

    Parameters
    ----------
    q : float
        An upper-tail probability in (0, 1).
    n : int, optional
        The sample size; None for the limit law.

    Returns
    -------
    float
        The critical value.

    Examples
    --------
    >>> from weight_init.properties.conformance._ad_law import ad_isf
    >>> round(ad_isf(0.05), 4)
    2.4924
    """
    target = math.log(q)

    def f(z: float) -> float:
        p = ad_sf(z, n)
        return math.log(p) - target if p > 0 else -math.inf

    z0 = max(0.1, float(special.erfcinv(q / math.sqrt(3.0))) ** 2)
    z1 = 1.05 * z0
    f0, f1 = f(z0), f(z1)
    for _ in range(30):
        if not (math.isfinite(f0) and math.isfinite(f1)) or f1 == f0:
            break
        z0, z1 = z1, max(1e-3, z1 - f1 * (z1 - z0) / (f1 - f0))
        f0, f1 = f1, f(z1)
        if abs(z1 - z0) <= 1e-9 * z1:
            return z1
    lo, hi = 0.0, 1.0
    while ad_sf(hi, n) > q:
        lo, hi = hi, 2.0 * hi
    while hi - lo > 1e-9 * hi:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if ad_sf(mid, n) > q else (lo, mid)
    return hi


def ad_statistic(lower: np.ndarray, upper: np.ndarray) -> float:
    """``A^2`` from the sorted ``u_(i)`` (``lower``) and ``1 - u_(i)`` (``upper``), the latter
    passed separately so a value near 1 keeps its precision (inf when some ``u`` is 0 or 1).

    Parameters
    ----------
    lower : ndarray
        ``u_(1) <= ... <= u_(n)``.
    upper : ndarray
        ``1 - u_(i)``, in the same order.

    Returns
    -------
    float
        The statistic.
    """
    n = lower.size
    i = np.arange(1, n + 1, dtype=np.float64)
    with np.errstate(divide="ignore"):
        s = np.dot(2.0 * i - 1.0, np.log(lower)) + np.dot(2.0 * (n - i) + 1.0, np.log(upper))
    return float(-n - s / n)
