"""Several builds of one small parameter read at once: the per-build statistics as arrays.

:class:`~weight_init.properties.audit._stream.ParamStats` reduces a build of a zero-mean
i.i.d. parameter with a few dozen array operations whatever its size: on a bias or a small
kernel their fixed cost is most of the audit's. A parameter of at most
:data:`BATCH_ENTRIES` entries is therefore read in batches of consecutive builds of the same
chunk (at most :data:`BATCH_ENTRIES` entries in all, so the float64 work arrays stay small),
stacked as one ``(B, rows, cols)`` array: each function here returns, for every build of the
stack, what the one-build pass computes for that build alone (the same values, reduced in
another order: equal to rounding), and the stream adds them in build order. Only finite
builds of a zero-mean i.i.d. scheme are read this way; any other build of a batch sends the
whole batch through the one-build pass.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from weight_init.properties.conformance._checks.resolution import SIGNIFICAND_BITS

Array = NDArray[np.float64]

#: Entries (over every build of a batch) up to which a parameter's builds are read together.
BATCH_ENTRIES = 1 << 17


class BatchScan(NamedTuple):
    """What :func:`~weight_init.properties.audit._stream._scan` reads from one build, for
    each build of a ``(B, rows, cols)`` stack (arrays over the builds)."""

    s1: Array
    s2: Array
    s4: Array
    lo: Array
    hi: Array
    zeros: NDArray[np.intp]
    mode: NDArray[np.intp]
    row_sums: Array  # (B, rows), each row reduced alike
    col_sums: Array  # (B, cols), each column accumulated alike
    row_sq: Array  # the same of the squares
    col_sq: Array
    sq: Array  # (B, rows, cols): the squares


def batch_size(entries: int, builds: int) -> int:
    """Builds of a parameter of ``entries`` entries read together (of ``builds``): at most
    :data:`BATCH_ENTRIES` entries in all; 0 when even one build holds more."""
    if entries < 1 or entries > BATCH_ENTRIES:
        return 0
    return max(1, min(builds, BATCH_ENTRIES // entries))


def batch_scan(
    w: Array, mode: float | None, first: int, step: int, squares: Array | None = None
) -> BatchScan:
    """The sums, range, zeros, entries equal to ``mode``, and the row and column sums (of the
    values and of their squares) of each build of the float64 stack ``w``, block by block of
    rows as :func:`~weight_init.properties.audit._stream._scan` reads one build (``first``
    rows, then ``step`` rows at a time): the sums of the values in the same order, those of
    the squares as products with a vector of ones (equal to rounding). ``squares``: an array
    of ``w``'s shape to hold the squares (a new one when None)."""
    b, rows, cols = w.shape
    sq = np.multiply(w, w, out=squares)
    row_sums = w.sum(axis=2)
    row_sq = sq @ ones(cols)
    col_sums, col_sq = np.zeros((b, cols)), np.zeros((b, cols))
    s1, s4 = [0.0] * b, [0.0] * b
    r = 0
    while r < rows:
        end = first if r == 0 else min(r + step, rows)
        block, squares = w[:, r:end], sq[:, r:end]
        col_sums += block.sum(axis=1)
        col_sq += ones(end - r) @ squares
        sums = row_sums[:, r:end].sum(axis=1).tolist()
        for k in range(b):
            q = squares[k].ravel()
            s1[k] += sums[k]
            s4[k] += float(np.dot(q, q))
        r = end
    s2 = [float(row_sq[k].sum()) for k in range(b)]
    flat = w.reshape(b, -1)
    zeros = _counts(flat == 0)
    equal = np.zeros(b, dtype=np.intp) if mode is None else _counts(flat == mode)
    return BatchScan(
        np.array(s1),
        np.array(s2),
        np.array(s4),
        flat.min(axis=1),
        flat.max(axis=1),
        zeros,
        equal,
        row_sums,
        col_sums,
        row_sq,
        col_sq,
        sq,
    )


_ONES = np.ones(0)


def ones(n: int) -> Array:
    """A read-only vector of ``n`` ones (the sums of squares as BLAS products): a view of
    one vector, grown to the longest asked for."""
    global _ONES
    if _ONES.size < n:
        grown = np.ones(max(n, 2 * _ONES.size))
        grown.flags.writeable = False
        _ONES = grown
    return _ONES[:n]


def _counts(hits: NDArray[np.bool_]) -> NDArray[np.intp]:
    """The true entries of each row of ``hits`` (most often none at all)."""
    if not hits.any():
        return np.zeros(hits.shape[0], dtype=np.intp)
    return np.array([np.count_nonzero(h) for h in hits], dtype=np.intp)


def fewest_bits(samples: Array, limit: int = SIGNIFICAND_BITS[-1]) -> int:
    """The smallest over the builds (rows of ``samples``) of
    :func:`~weight_init.properties.conformance._checks.resolution.effective_bits`, for values
    stored with ``limit`` significand bits (24 for float32: no value needs more, so that
    width is not read); a build whose leading entries already need more bits is not read
    further at that width."""
    head = np.frexp(samples[:, :PREFIX])[0]
    for p in SIGNIFICAND_BITS[:-1]:
        if p >= limit:
            return limit
        scaled = np.ldexp(head, p)
        rows = np.flatnonzero(np.all(scaled == np.round(scaled), axis=1))
        if rows.size:
            scaled = np.ldexp(np.frexp(samples[rows])[0], p)
            if bool(np.any(np.all(scaled == np.round(scaled), axis=1))):
                return p
    return SIGNIFICAND_BITS[-1]


#: Leading entries :func:`fewest_bits` reads first.
PREFIX = 16


def smallest_gap(samples: Array) -> float:
    """The smallest over the builds (rows of ``samples``) of
    :func:`~weight_init.properties.conformance._checks.resolution.grid_step`: the smallest
    gap between distinct values of one build (inf when no build has two)."""
    d = np.diff(np.sort(samples, axis=1), axis=1)
    positive = d[d > 0]
    return float(positive.min()) if positive.size else math.inf


def may_repeat(row_sums: Array, col_sums: Array) -> NDArray[np.bool_]:
    """:func:`~weight_init.properties.audit._stream._may_repeat` of each build from its row
    and column sums (finite)."""
    out = np.zeros(row_sums.shape[0], dtype=bool)
    for s in (row_sums, col_sums):
        if s.shape[1] >= 2:
            o = np.sort(s, axis=1)
            out |= np.any(o[:, 1:] == o[:, :-1], axis=1)
    return out


def stack(arrays: list[NDArray[Any]]) -> NDArray[Any]:
    """The builds' arrays as one ``(B, ...)`` array (their own dtype)."""
    return np.stack(arrays) if len(arrays) > 1 else np.asarray(arrays[0])[None]
