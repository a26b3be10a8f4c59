"""The exact law of one weight entry under each scheme family, standardized by the rule's std.

For a scheme with rule variance ``v(fan_in, fan_out)``, a conformance check looks at
``z = w / sqrt(v)``. Under the scheme, ``z`` has a law that does not depend on the
fans, except for ``orthogonal``:

* ``normal``: ``z ~ N(0, 1)``; ``E z^4 = 3``.
* ``uniform``: ``z ~ U(-sqrt 3, sqrt 3)``; ``E z^4 = 9/5``.
* ``truncated_normal``: ``z = t / s`` with ``t ~ N(0, 1)`` truncated to [-2, 2] and
  ``s = 0.87962566103423978`` its std, so ``F(z) = (Phi(s z) - Phi(-2)) / (2 Phi(2) - 1)``
  on ``|z| <= 2/s``; ``E z^4 = E t^4 / s^4 = 2.3655...`` with
  ``E t^4 = 3 s^2 - 2 c^3 phi(c) / (2 Phi(c) - 1)``, ``c = 2``.
* ``orthogonal``: ``w = g q`` with ``q`` one coordinate of a uniform unit vector in
  ``R^n``, ``n = max(fan_in, fan_out)`` (a column of a Haar ``Q`` when fan_in >= fan_out,
  a row otherwise), so ``q^2 ~ Beta(1/2, (n-1)/2)`` and ``q`` is symmetric. With
  ``z = sqrt(n) q``: ``F(z) = 1/2 + sign(z)/2 * I_{z^2/n}(1/2, (n-1)/2)``; ``E z^4 = 3n/(n+2)``.
  For ``n = 1`` the entry is ``+-1`` (no continuous law): such shapes take part only
  in the exact checks.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy import special, stats

from weight_init.errors import InvalidParameterError
from weight_init.schemes import TRUNCATED_NORMAL_STD, TRUNCATION

#: Families whose standardized law is fan-independent.
IID_FAMILIES: tuple[str, ...] = ("normal", "uniform", "truncated_normal")

_SQRT3 = math.sqrt(3.0)
_TN_MASS = 2.0 * stats.norm.cdf(TRUNCATION) - 1.0
_TN_LOW = stats.norm.cdf(-TRUNCATION)
_TN_M4 = (
    3.0 * TRUNCATED_NORMAL_STD**2 - 2.0 * TRUNCATION**3 * stats.norm.pdf(TRUNCATION) / _TN_MASS
) / TRUNCATED_NORMAL_STD**4


def fourth_moment(family: str, n: int | None = None) -> float:
    """``E z^4`` of the standardized entry (``n`` = max fan, orthogonal only)."""
    if family == "normal":
        return 3.0
    if family == "uniform":
        return 9.0 / 5.0
    if family == "truncated_normal":
        return float(_TN_M4)
    if family == "orthogonal":
        if n is None:
            raise InvalidParameterError("the orthogonal law needs n = max(fan_in, fan_out)")
        return 3.0 * n / (n + 2.0)
    raise InvalidParameterError(f"no continuous law for family {family!r}")


def support_bound(family: str) -> float:
    """Largest possible ``|z|`` (inf for the normal; ``sqrt(n)`` for orthogonal is per shape)."""
    if family == "uniform":
        return _SQRT3
    if family == "truncated_normal":
        return TRUNCATION / TRUNCATED_NORMAL_STD
    return math.inf


def cdf(family: str, z: NDArray[np.float64], n: int | None = None) -> NDArray[np.float64]:
    """CDF of the standardized entry at ``z`` (vectorised)."""
    z = np.asarray(z, dtype=np.float64)
    if family == "normal":
        return np.asarray(special.ndtr(z))
    if family == "uniform":
        return np.clip((z + _SQRT3) / (2.0 * _SQRT3), 0.0, 1.0)
    if family == "truncated_normal":
        u = (special.ndtr(z * TRUNCATED_NORMAL_STD) - _TN_LOW) / _TN_MASS
        return np.clip(u, 0.0, 1.0)
    if family == "orthogonal":
        if n is None or n < 2:
            raise InvalidParameterError(f"the orthogonal entry law needs n >= 2, got {n}")
        x = np.clip(z * z / n, 0.0, 1.0)
        half = 0.5 * special.betainc(0.5, 0.5 * (n - 1), x)
        return np.asarray(0.5 + np.sign(z) * half)
    raise InvalidParameterError(f"no continuous law for family {family!r}")


def ppf(family: str, p: NDArray[np.float64], n: int | None = None) -> NDArray[np.float64]:
    """Quantile function of the standardized entry (inverse of :func:`cdf`)."""
    p = np.asarray(p, dtype=np.float64)
    if family == "normal":
        return np.asarray(special.ndtri(p))
    if family == "uniform":
        return (2.0 * p - 1.0) * _SQRT3
    if family == "truncated_normal":
        return np.asarray(special.ndtri(_TN_LOW + p * _TN_MASS) / TRUNCATED_NORMAL_STD)
    if family == "orthogonal":
        if n is None or n < 2:
            raise InvalidParameterError(f"the orthogonal entry law needs n >= 2, got {n}")
        q = np.abs(2.0 * p - 1.0)
        x = special.betaincinv(0.5, 0.5 * (n - 1), q)
        return np.asarray(np.sign(p - 0.5) * np.sqrt(n * x))
    raise InvalidParameterError(f"no continuous law for family {family!r}")


def ks_distance(family_a: str, family_b: str, grid: int = 20001) -> float:
    """``sup_z |F_a(z) - F_b(z)|`` between two fan-independent standardized laws."""
    z = np.linspace(-4.0, 4.0, grid)
    return float(np.max(np.abs(cdf(family_a, z) - cdf(family_b, z))))
