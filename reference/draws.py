"""Raw draws: standard normals, uniforms, truncated normals and Haar matrices, from a numpy
``Generator``/``RandomState`` or, when ``rng`` is None, numpy's legacy global state (so
``np.random.seed`` reproduces the seed's ``np.random.randn`` draws bit for bit).

The families (:mod:`weight_init.families`) scale these draws to a scheme's variance.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from weight_init.truncated_normal import TRUNCATED_NORMAL_STD, TRUNCATION

RNG = np.random.Generator | np.random.RandomState | None
Array = NDArray[np.float64]

__all__ = [
    "TRUNCATED_NORMAL_STD",
    "TRUNCATION",
    "haar_orthogonal",
    "standard_normal",
    "truncated_standard_normal",
    "uniform",
]


def standard_normal(rng: RNG, shape: tuple[int, ...]) -> Array:
    """``N(0, 1)`` draws from ``rng`` (numpy's legacy global state when None)."""
    if rng is None:
        return np.asarray(np.random.standard_normal(shape), dtype=np.float64)  # noqa: NPY002
    return rng.standard_normal(shape)


def uniform(rng: RNG, low: float, high: float, shape: tuple[int, ...]) -> Array:
    """``U(low, high)`` draws from ``rng`` (numpy's legacy global state when None)."""
    if rng is None:
        return np.asarray(np.random.uniform(low, high, shape), dtype=np.float64)  # noqa: NPY002
    return rng.uniform(low, high, shape)


#: Entries per block when looking for draws beyond the truncation (fits in L2 cache).
_MASK_BLOCK = 1 << 15


def _beyond_truncation(z: Array) -> NDArray[np.intp]:
    """Ascending indices of ``|z| > 2`` in flat ``z``, block by block (no full-size temporaries)."""
    if z.size <= _MASK_BLOCK:
        return np.flatnonzero(np.abs(z) > TRUNCATION)
    buf = np.empty(_MASK_BLOCK)
    mask = np.empty(_MASK_BLOCK, dtype=bool)
    found = []
    for start in range(0, z.size, _MASK_BLOCK):
        block = z[start : start + _MASK_BLOCK]
        k = block.size
        np.greater(np.abs(block, out=buf[:k]), TRUNCATION, out=mask[:k])
        idx = np.flatnonzero(mask[:k])
        if idx.size:
            found.append(idx + start)
    return np.concatenate(found) if found else np.empty(0, dtype=np.intp)


def truncated_standard_normal(rng: RNG, shape: tuple[int, ...]) -> Array:
    """Standard normal truncated to [-2, 2], by vectorised rejection (4.55% redrawn per round).

    All of ``shape`` is drawn first, then the entries beyond +-2 are redrawn in index
    order, round after round, so a seed gives the same matrix however it is computed.
    """
    z = standard_normal(rng, shape).ravel()
    bad = _beyond_truncation(z)
    while bad.size:
        redraw = standard_normal(rng, (bad.size,))
        z[bad] = redraw
        bad = bad[np.abs(redraw) > TRUNCATION]
    return z.reshape(shape)


def haar_orthogonal(rng: RNG, fan_in: int, fan_out: int) -> Array:
    """A ``(fan_in, fan_out)`` matrix with Haar-distributed orthonormal columns (or rows).

    QR of a ``(max, min)`` Gaussian matrix; multiplying Q's columns by sign(diag R) makes
    the factorisation unique and Q exactly Haar (Mezzadri 2007). Without that correction
    LAPACK's sign convention biases the distribution.
    """
    big, small = max(fan_in, fan_out), min(fan_in, fan_out)
    q, r = np.linalg.qr(standard_normal(rng, (big, small)))
    signs = np.sign(np.diag(r))
    signs[signs == 0] = 1.0
    q *= signs
    return q if fan_in >= fan_out else q.T
