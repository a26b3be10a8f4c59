"""Raw draws: standard normals, uniforms, truncated normals and Haar matrices, from a numpy
``Generator``/``RandomState`` or, when ``rng`` is None, numpy's legacy global state (so
``np.random.seed`` reproduces the notes' ``np.random.randn`` draws bit for bit).

The families (:mod:`weight_init.families`) scale these draws to a scheme's variance.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from weight_init.truncated_normal import (
    TRUNCATED_NORMAL_STD,
    TRUNCATION,
    truncated_standard_normal_fast,
)

RNG = np.random.Generator | np.random.RandomState | None
Array = NDArray[np.float64]

__all__ = [
    "TRUNCATED_NORMAL_STD",
    "TRUNCATION",
    "haar_orthogonal",
    "standard_normal",
    "truncated_standard_normal",
    "truncated_standard_normal_at",
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


def truncated_standard_normal(rng: RNG, shape: tuple[int, ...], scale: float = 1.0) -> Array:
    """Standard normal truncated to [-2, 2], times ``scale``: the exact fused-block
    rejection sampler of :mod:`weight_init.truncated_normal` (one normal draw per entry plus
    4.8% redraws, scaled in cache; a seed gives the same matrix however it is reshaped)."""
    return truncated_standard_normal_fast(rng, shape, scale)


def truncated_standard_normal_at(rng: RNG, shape: tuple[int, ...], cut: float) -> Array:
    """Standard normal truncated to ``[-cut, cut]``, exactly: all of ``shape`` drawn first,
    then the entries beyond ``+-cut`` redrawn in index order, round after round (a round
    keeps a fraction ``2 Phi(cut) - 1`` of its draws)."""
    z = standard_normal(rng, shape).ravel()
    bad = np.flatnonzero(np.abs(z) > cut)
    while bad.size:
        fresh = standard_normal(rng, (bad.size,))
        z[bad] = fresh
        bad = bad[np.abs(fresh) > cut]
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
