"""The streamed state of the checks that compare builds, units, extremes and directions.

In an audit the *calls* of :func:`~weight_init.properties.conformance.check_initializer` are
the builds of the model: each build draws every parameter afresh under its own seed. The
checks ``between calls``, ``unit homogeneity``, ``input homogeneity``, ``extremes`` and
``top direction`` (:mod:`weight_init.properties.conformance._checks`) are computed here from
state that does not grow with the number of builds; :class:`CallStats` is one parameter's
(``add`` one build, ``merge`` the builds that follow in build order), kept by
:class:`~weight_init.properties.audit._stream.ParamStats`:

* **between builds**: each build's standardized entries at matched positions (the leading
  :data:`CALL_ENTRIES` of the matrix view, centred at that build's own mean), and its unit
  (column) and input (row) squared norms, centred at the build's mean norm. Consecutive
  builds ``k, k + 1`` add the sums ``S = sum a b``, ``V = sum (a b)^2`` and ``sum (a^2 +
  b^2) / 2`` of their matched products; a stream keeps its first and its last build's
  vectors, so two streams merged in build order add the one pair that straddles them, and
  the sums are those of the sequential stream (the chunks are fixed by the build count: the
  verdicts do not depend on the workers). Builds with different seeds are independent, so
  every product has mean 0 whatever the law (a build centred at its own mean still has
  exchangeable entries, mean 0 each), products of different pairs are uncorrelated, and
  ``t = S / sqrt(V)`` is asymptotically ``N(0, 1)``; for the norms ``V`` is multiplied by
  ``n / (n - 1)`` (``n`` centred norms of one matrix have covariance ``c (I - J / n)``:
  :mod:`~weight_init.properties.conformance._checks.between_calls`). The check's p-value is
  Sidak's over the statistics that ran. Unlike the conformance check (which centres at the
  pooled mean), the entries are centred build by build and the norms are of the raw
  standardized entries: a mean shift, the same in every build but drawn afresh, is the mean
  test's and does not correlate builds here.
* **homogeneity**: each build's unit (and input) squared norms of the whole matrix are
  ranked within the build and Kruskal-Wallis' ``H`` over the four groups (halves x
  parity) is added with its exact null mean and variance
  (:mod:`~weight_init.properties.conformance._checks.homogeneity`), with the groups'
  relative variances for the diagnosis: a sum over builds, as the conformance check's
  over calls at one shape.
* **extremes**: the largest ``|z|`` and the entries are the stream's (``max_abs_z``,
  ``n``); kept here is the resolution of the draws: the fewest significand bits and the
  smallest gap between distinct standardized values of each build's leading
  :data:`RESOLUTION_ENTRIES` entries. On a subsample both err towards a coarser resolution
  (fewer bits, a gap at least the grid step): the p-value at that resolution is at least
  the exact one.
* **top direction**: the split-sample statistic of the leading block of at most
  :data:`SPIKE_ROWS` x :data:`SPIKE_COLS` entries of each build (a sub-matrix of an i.i.d.
  matrix is i.i.d.: the ``F`` law of
  :mod:`~weight_init.properties.conformance._checks.spike` is exact for normal entries);
  the sums over builds, one shape. A spike of a matrix larger than the block is seen in the
  block at a fraction of its strength: the resolution states it in the whole matrix's BBP
  units for a delocalized spike.

A finite build of a zero-mean i.i.d. scheme is read once: the stream's pass over it
(:class:`~weight_init.properties.audit._stream.ParamStats`) hands over its float64 leading
rows and its row and column sums of squares (:class:`MainPass`), from which the samples and
the norms above are taken (the same values, summed in another order: equal to rounding).
The top direction needs only the largest eigenpair of the block's smaller Gram matrix
(LAPACK's ``dsyevr`` for that one pair), and Kruskal-Wallis only the groups' rank sums.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy import special
from scipy.linalg import lapack

from weight_init.families import Family, Orthogonal
from weight_init.properties.audit._scratch import SCRATCH
from weight_init.properties.audit._stream_batch import fewest_bits, smallest_gap
from weight_init.properties.conformance._checks import registry as C
from weight_init.properties.conformance._checks.base import CheckResult
from weight_init.properties.conformance._checks.between_calls import (
    BetweenCallsEvidence,
    products_size,
)
from weight_init.properties.conformance._checks.extremes import (
    RESOLVE_BELOW,
    ExtremesEvidence,
    _log_g,
)
from weight_init.properties.conformance._checks.homogeneity import (
    MIN_VECTORS,
    N_GROUPS,
    HomogeneityEvidence,
    groups,
    halves_noncentrality,
    kruskal_wallis,
    kw_variance,
)
from weight_init.properties.conformance._checks.resolution import effective_bits, grid_step
from weight_init.properties.conformance._checks.spike import (
    MIN_SIDE,
    SpikeEvidence,
    spike_resolution,
)
from weight_init.properties.conformance._power import smallest_effect
from weight_init.properties.conformance._tails import chi2_sf, norm_isf, normal_two_sided
from weight_init.schemes import Scheme

Array = NDArray[np.float64]

#: Matched positions per build of the between-builds entries statistic (the leading entries
#: of the matrix view), and the sample the draws' resolution is read on.
CALL_ENTRIES = 1 << 13
#: Entries per build the draws' resolution is read on (fewer entries: fewer bits and a larger
#: gap, the conservative side).
RESOLUTION_ENTRIES = 1 << 10
#: The top direction's bounded block: at most this many rows (split in two halves) ...
SPIKE_ROWS = 128
#: ... and this many columns of each build's matrix.
SPIKE_COLS = 1024
#: Entries per block of the norms' pass over a build (its float64 scratch stays small).
NORM_BLOCK = 1 << 15


@dataclass
class Link:
    """Sums of the products of consecutive builds' vectors at matched positions."""

    s: float = 0.0
    v: float = 0.0
    sq: float = 0.0
    products: int = 0
    pairs: int = 0

    def add(self, a: Array | None, b: Array | None, centred_norms: bool) -> None:
        """Add the products of ``a`` (the earlier build's) and ``b`` at their common leading
        positions; ``centred_norms``: ``V`` times ``n / (n - 1)`` (module docstring)."""
        if a is None or b is None:
            return
        m = min(a.size, b.size)
        if m < 2:
            return
        x, y = a[:m], b[:m]
        prod = x * y
        factor = m / (m - 1.0) if centred_norms else 1.0
        self.s += float(prod.sum())
        self.v += float(prod @ prod) * factor
        self.sq += 0.5 * float(x @ x + y @ y)
        self.products += m
        self.pairs += 1

    def add_chain(
        self, stack: Array | None, vectors: list[Array | None], centred_norms: bool
    ) -> None:
        """:meth:`add` of each consecutive pair of ``vectors`` in order (``stack``: the same
        vectors as the rows of one array when none is None, read at once)."""
        if stack is None or stack.shape[1] < 2:
            for a, b in itertools.pairwise(vectors):
                self.add(a, b, centred_norms)
            return
        m = stack.shape[1]
        x, y = stack[:-1], stack[1:]
        prod = x * y
        factor = m / (m - 1.0) if centred_norms else 1.0
        s = prod.sum(axis=1).tolist()
        v = np.einsum("ij,ij->i", prod, prod).tolist()
        norms = np.einsum("ij,ij->i", stack, stack)
        sq = (norms[:-1] + norms[1:]).tolist()
        for k in range(len(s)):
            self.s += s[k]
            self.v += v[k] * factor
            self.sq += 0.5 * sq[k]
            self.products += m
            self.pairs += 1

    def merge(self, o: Link) -> None:
        """Add another stream's sums."""
        self.s += o.s
        self.v += o.v
        self.sq += o.sq
        self.products += o.products
        self.pairs += o.pairs

    def statistic(self) -> tuple[float, float] | None:
        """``(t, r)``: the self-normalized sum and the correlation; None without products."""
        if self.v <= 0 or self.sq <= 0:
            return None
        return self.s / math.sqrt(self.v), self.s / self.sq


Vectors = tuple[Array | None, Array | None, Array | None]


class MainPass(NamedTuple):
    """What the stream's one pass over a finite build of a zero-mean scheme already holds
    (:class:`~weight_init.properties.audit._stream.ParamStats`), so that :meth:`CallStats.add`
    reads no entry twice: the raw values as float64 and their sums of squares."""

    lead: Array  # the leading rows of the build's matrix (at least :func:`_leading`'s)
    col_sq: Array  # sum over rows of w^2, per column
    row_sq: Array  # sum over columns of w^2, per row


@dataclass
class Homogeneity:
    """Kruskal-Wallis over the builds (module docstring), one axis."""

    h: float = 0.0
    mean: float = 0.0
    var: float = 0.0
    tested: int = 0
    n: int = 0
    f: int = 0
    acc: Array = field(default_factory=lambda: np.zeros((2, 2)))
    cnt: Array = field(default_factory=lambda: np.zeros((2, 2)))

    def add(self, s: Array, per_vector: int) -> None:
        """Add one build's squared norms ``s`` (each over ``per_vector`` entries)."""
        nv = s.size
        if nv < MIN_VECTORS:
            return
        g, sizes, var = _kw_layout(nv)
        h = _kruskal_wallis(s, g, sizes)
        if h is None:  # tied norms: mid-ranks and the tie correction
            hs, _, _ = kruskal_wallis(s[None])
            h = float(hs[0])
        self.h += h
        self.mean += N_GROUPS - 1.0
        self.var += var
        self.tested += 1
        self.n, self.f = nv, per_vector
        mean = float(s.mean())
        rel = np.bincount(g, weights=s, minlength=N_GROUPS) / (mean if mean > 1e-300 else 1e-300)
        # groups: 2 * (second half) + (odd position)
        first, second = rel[0] + rel[1], rel[2] + rel[3]
        even, odd = rel[0] + rel[2], rel[1] + rel[3]
        self.acc += (
            (first / (sizes[0] + sizes[1]), second / (sizes[2] + sizes[3])),
            (even / (sizes[0] + sizes[2]), odd / (sizes[1] + sizes[3])),
        )
        self.cnt += 1

    def add_builds(self, s: Array, per_vector: int) -> None:
        """:meth:`add` of each row of ``s`` (one build's squared norms each), in order."""
        nb, nv = s.shape
        if nv < MIN_VECTORS:
            return
        g, sizes, var = _kw_layout(nv)
        order = np.argsort(s, axis=1)
        ordered = np.sort(s, axis=1)
        tied = np.any(ordered[:, 1:] == ordered[:, :-1], axis=1)
        offset = N_GROUPS * np.arange(nb)[:, None]
        ranks = np.broadcast_to(np.arange(1.0, nv + 1.0), (nb, nv))
        sums = np.bincount(
            (g[order] + offset).ravel(), weights=ranks.ravel(), minlength=N_GROUPS * nb
        ).reshape(nb, N_GROUPS)
        hs = 12.0 / (nv * (nv + 1.0)) * np.sum(sums * sums / sizes, axis=1) - 3.0 * (nv + 1.0)
        means = s.mean(axis=1)
        grouped = np.bincount(
            (g[None, :] + offset).ravel(), weights=s.ravel(), minlength=N_GROUPS * nb
        ).reshape(nb, N_GROUPS)
        for k in np.flatnonzero(tied).tolist():
            h_all, _, _ = kruskal_wallis(s[k][None])
            hs[k] = float(h_all[0])
        for h in hs.tolist():
            self.h += h
            self.mean += N_GROUPS - 1.0
            self.var += var
        self.tested += nb
        rel = grouped / np.maximum(means, 1e-300)[:, None]
        first, second = rel[:, 0] + rel[:, 1], rel[:, 2] + rel[:, 3]
        even, odd = rel[:, 0] + rel[:, 2], rel[:, 1] + rel[:, 3]
        self.acc += (
            (
                float(np.sum(first / (sizes[0] + sizes[1]))),
                float(np.sum(second / (sizes[2] + sizes[3]))),
            ),
            (
                float(np.sum(even / (sizes[0] + sizes[2]))),
                float(np.sum(odd / (sizes[1] + sizes[3]))),
            ),
        )
        self.cnt += nb
        self.n, self.f = nv, per_vector

    def merge(self, o: Homogeneity) -> None:
        """Add another stream's sums."""
        self.h += o.h
        self.mean += o.mean
        self.var += o.var
        self.tested += o.tested
        self.n, self.f = self.n or o.n, self.f or o.f
        self.acc = self.acc + o.acc
        self.cnt = self.cnt + o.cnt


@functools.lru_cache(maxsize=256)
def _kw_layout(n: int) -> tuple[NDArray[np.intp], Array, float]:
    """:func:`groups` of ``n`` vectors, the group sizes and the exact null ``Var H``."""
    g = groups(n).astype(np.intp)
    sizes = np.bincount(g, minlength=N_GROUPS).astype(np.float64)
    return g, sizes, kw_variance(n, [int(c) for c in sizes])


def _kruskal_wallis(s: Array, g: NDArray[np.intp], sizes: Array) -> float | None:
    """Kruskal-Wallis' ``H`` of one build's norms ``s`` over the groups ``g`` (the same as
    :func:`~weight_init.properties.conformance._checks.homogeneity.kruskal_wallis`); None
    when two norms tie."""
    n = s.size
    order = np.argsort(s)  # without ties every order is the stable one: the ranks are exact
    ordered = s[order]
    if np.any(ordered[1:] == ordered[:-1]):
        return None
    # the entry of rank i + 1 adds i + 1 to its group's sum (integers: the sums are exact)
    sums = np.bincount(g[order], weights=np.arange(1.0, n + 1.0), minlength=N_GROUPS)
    return float(12.0 / (n * (n + 1.0)) * np.sum(sums * sums / sizes) - 3.0 * (n + 1.0))


def _split(z: Array) -> tuple[float, float, int, int]:
    """:func:`~weight_init.properties.conformance._checks.spike.split_statistics` of one
    matrix: ``(T, |A|^2, n_B, n_A)``."""
    a, b = z[0::2], z[1::2]
    p, q = a.shape
    wide = p <= q
    gram = a @ a.T if wide else a.T @ a
    top = _top_vector(gram)
    v = a.T @ top if wide else top
    norm = float(np.linalg.norm(v))
    t = b @ (v / norm if norm > 0 else v)
    # |A|^2 is the Gram matrix's trace (either Gram: the same sum of squares)
    return float(t @ t), float(np.trace(gram)), int(b.shape[0]), int(a.size)


def _splits(z: Array) -> tuple[list[float], list[float], int, int]:
    """:func:`_split` of each matrix of the stack ``z`` (``(B, rows, cols)``): the ``T`` and
    ``|A|^2`` of each, and ``n_B``, ``n_A`` (the same for all)."""
    a, b = z[:, 0::2], z[:, 1::2]
    p, q = a.shape[1], a.shape[2]
    wide = p <= q
    at = np.swapaxes(a, 1, 2)
    gram = a @ at if wide else at @ a
    tops = np.stack([_top_vector(np.ascontiguousarray(g)) for g in gram])
    v = np.einsum("bpq,bp->bq", a, tops) if wide else tops
    norm = np.linalg.norm(v, axis=1)
    unit = v / np.where(norm > 0, norm, 1.0)[:, None]
    t = np.einsum("bpq,bq->bp", b, unit)
    return (
        np.einsum("bp,bp->b", t, t).tolist(),
        np.einsum("bii->b", gram).tolist(),
        int(b.shape[1]),
        int(p * q),
    )


def _top_vector(gram: Array) -> Array:
    """A unit eigenvector of the largest eigenvalue of the symmetric ``gram``: LAPACK's
    ``dsyevr`` for that one eigenpair (the full solver's vector, to rounding, at a fraction
    of its cost), the full solver when it reports a failure."""
    k = gram.shape[0]
    _, vecs, _, _, info = lapack.dsyevr(gram, compute_v=1, range="I", il=k, iu=k, overwrite_a=0)
    if info != 0:
        return np.asarray(np.linalg.eigh(gram)[1][:, -1], dtype=np.float64)
    return np.asarray(vecs[:, 0], dtype=np.float64)


@dataclass
class CallStats:
    """One parameter's state for the checks of this module (module docstring)."""

    builds: int = 0
    first: Vectors | None = None
    last: Vectors | None = None
    entries: Link = field(default_factory=Link)
    unit_norms: Link = field(default_factory=Link)
    input_norms: Link = field(default_factory=Link)
    units: Homogeneity = field(default_factory=Homogeneity)
    inputs: Homogeneity = field(default_factory=Homogeneity)
    bits: int = 53
    gap: float = math.inf
    sp_t: float = 0.0
    sp_a2: float = 0.0
    sp_nb: int = 0
    sp_na: int = 0
    sp_builds: int = 0
    sp_shape: tuple[int, int] = (0, 0)

    def add(
        self,
        m: NDArray[Any],
        scheme: Scheme | None,
        main: MainPass | None = None,
        whole: bool = True,
    ) -> None:
        """Fold one build's 2-D view ``m`` of a parameter checked against ``scheme`` (only
        finite builds of a random family with a positive variance count); ``main``: what
        the stream's pass over a finite build of a zero-mean scheme already holds;
        ``whole``: False for a build past the parameter's sample, which only the checks
        between builds and of homogeneity read (the extremes' resolution and the top
        direction are those of the builds read whole, as the stream's extremes are)."""
        if scheme is None or not scheme.family.is_random or m.dtype.kind not in "fiu":
            return
        rows, cols = int(m.shape[0]), int(m.shape[1])
        var = scheme.variance(rows, cols)
        if not var > 0 or not m.size:
            return
        family = scheme.family
        sd, mu = math.sqrt(var), float(family.mean(scheme))
        lead = _leading(m)
        lead64 = main.lead if main is not None and not mu else None  # raw float64 leading rows
        if mu:
            z_lead = (np.asarray(lead, dtype=np.float64) - mu) / sd
        else:
            src = lead if lead64 is None else lead64[: lead.shape[0]]
            z_lead = np.multiply(src, 1.0 / sd, dtype=np.float64)
        total = float(z_lead.sum())  # not finite when an entry is not (or on overflow)
        if not math.isfinite(total):
            return
        norms: tuple[Array | None, Array | None]
        if lead64 is not None and main is not None:  # the main pass's sums of squares
            scale = 1.0 / (sd * sd)
            norms = (main.col_sq * scale, main.row_sq * scale)
        else:
            norms = _norms(m, mu, sd)
        col_ss, row_ss = norms
        if col_ss is None or row_ss is None:
            return  # a non-finite entry beyond the leading sample
        self.builds += 1
        e = z_lead.ravel() - total / z_lead.size if z_lead.size >= 2 else None
        vec: Vectors = (e, _centred(col_ss), _centred(row_ss))
        if self.last is not None:
            self._link(self.last, vec)
        if self.first is None:
            self.first = vec
        self.last = vec
        if not family.is_iid:
            return
        self.units.add(col_ss, rows)
        self.inputs.add(row_ss, cols)
        if not whole:
            return
        sample = np.ravel(lead if lead64 is None else lead64)[:RESOLUTION_ENTRIES]
        self.bits = min(self.bits, effective_bits(sample))
        self.gap = min(self.gap, grid_step(np.ravel(z_lead)[:RESOLUTION_ENTRIES]))
        side = min(rows, SPIKE_ROWS)
        if side <= z_lead.shape[0]:
            block = z_lead[:SPIKE_ROWS, :SPIKE_COLS]
        elif lead64 is not None and side <= lead64.shape[0]:
            block = np.divide(lead64[:SPIKE_ROWS, :SPIKE_COLS], sd)
        elif mu:
            block = (np.asarray(m[:SPIKE_ROWS, :SPIKE_COLS], dtype=np.float64) - mu) / sd
        else:
            part = m[:SPIKE_ROWS, :SPIKE_COLS]
            block = SCRATCH.get("block", int(part.size)).reshape(part.shape)
            np.divide(part, sd, out=block, dtype=np.float64)
        if block.shape[0] // 2 >= MIN_SIDE and block.shape[1] >= MIN_SIDE:
            t, a2, nb, na = _split(block)
            self._add_splits([t], [a2], nb, na, block.shape)

    def add_builds(
        self,
        w: Array,
        lead: Array,
        col_sq: Array,
        row_sq: Array,
        scheme: Scheme,
        bits: int = 53,
        scaled: Array | None = None,
    ) -> None:
        """:meth:`add` of finite builds of a zero-mean i.i.d. ``scheme`` stacked in the float64
        ``w`` (``(B, rows, cols)``), with the main pass's leading rows ``lead`` and sums of
        squares ``col_sq`` (``(B, cols)``) and ``row_sq`` (``(B, rows)``); ``bits``: the
        significand bits of the stored dtype (no value needs more); ``scaled``: ``lead / sd``
        when the caller has it (the same quotients: not divided again)."""
        nb, rows, cols = w.shape
        sd = math.sqrt(scheme.variance(rows, cols))
        call_rows = int(_leading(w[0]).shape[0])
        head = lead[:, :call_rows]
        z_lead = SCRATCH.get("between", int(head.size)).reshape(head.shape)
        np.multiply(head, 1.0 / sd, out=z_lead)
        flat = z_lead.reshape(nb, -1)
        totals = flat.sum(axis=1)
        scale = 1.0 / (sd * sd)
        col_ss, row_ss = col_sq * scale, row_sq * scale
        self.builds += nb
        e = flat - (totals / flat.shape[1])[:, None] if flat.shape[1] >= 2 else None
        cols_all, cols_c = _centred_rows(col_ss)
        rows_all, rows_c = _centred_rows(row_ss)
        vecs: list[Vectors] = [
            (None if e is None else e[k], cols_c[k], rows_c[k]) for k in range(nb)
        ]
        if self.last is not None:
            self._link(self.last, vecs[0])
        if nb > 1:
            self.entries.add_chain(e, [v[0] for v in vecs], False)
            self.unit_norms.add_chain(cols_all, cols_c, True)
            self.input_norms.add_chain(rows_all, rows_c, True)
        if self.first is None:
            self.first = vecs[0]
        self.last = vecs[-1]
        self.units.add_builds(col_ss, rows)
        self.inputs.add_builds(row_ss, cols)
        self.bits = min(self.bits, fewest_bits(lead.reshape(nb, -1)[:, :RESOLUTION_ENTRIES], bits))
        self.gap = min(self.gap, smallest_gap(flat[:, :RESOLUTION_ENTRIES]))
        side = min(rows, SPIKE_ROWS)
        if side <= call_rows:
            block = z_lead[:, :SPIKE_ROWS, :SPIKE_COLS]
        elif side <= lead.shape[1]:
            src = lead if scaled is None else scaled
            block = src[:, :SPIKE_ROWS, :SPIKE_COLS]
            if scaled is None:
                block = np.divide(block, sd)
        else:
            part = w[:, :SPIKE_ROWS, :SPIKE_COLS]
            block = SCRATCH.get("block", int(part.size)).reshape(part.shape)
            np.divide(part, sd, out=block)
        if block.shape[1] // 2 >= MIN_SIDE and block.shape[2] >= MIN_SIDE:
            ts, a2s, n_b, n_a = _splits(block)
            self._add_splits(ts, a2s, n_b, n_a, block.shape[1:])

    def _add_splits(
        self,
        ts: list[float],
        a2s: list[float],
        n_b: int,
        n_a: int,
        shape: tuple[int, ...],
    ) -> None:
        """Add the top direction's statistics of builds in order (``T`` and ``|A|^2`` of
        each; ``n_B``, ``n_A`` and the block's ``shape``, the same for all)."""
        for t, a2 in zip(ts, a2s, strict=True):
            self.sp_t += t
            self.sp_a2 += a2
            self.sp_nb += n_b
            self.sp_na += n_a
            self.sp_builds += 1
        self.sp_shape = (int(shape[0]), int(shape[1]))

    def _link(self, a: Vectors, b: Vectors) -> None:
        self.entries.add(a[0], b[0], False)
        self.unit_norms.add(a[1], b[1], True)
        self.input_norms.add(a[2], b[2], True)

    def merge(self, o: CallStats) -> None:
        """Fold ``o`` (the builds after this stream's, in build order) into this one."""
        if not o.builds:
            return
        if self.last is not None and o.first is not None:
            self._link(self.last, o.first)
        self.first = self.first if self.first is not None else o.first
        self.last = o.last
        self.builds += o.builds
        for name in ("entries", "unit_norms", "input_norms", "units", "inputs"):
            getattr(self, name).merge(getattr(o, name))
        self.bits = min(self.bits, o.bits)
        self.gap = min(self.gap, o.gap)
        self.sp_t += o.sp_t
        self.sp_a2 += o.sp_a2
        self.sp_nb += o.sp_nb
        self.sp_na += o.sp_na
        self.sp_builds += o.sp_builds
        self.sp_shape = self.sp_shape if self.sp_builds - o.sp_builds else o.sp_shape


#: Norms whose spread is at most this fraction of their mean are constant (the rows of a wide
#: orthogonal matrix, to rounding): they add nothing.
CONSTANT_NORMS = 1e-9


def _centred(norms: Array) -> Array | None:
    """Squared norms centred at their mean; None for fewer than two or constant ones."""
    if norms.size < 2:
        return None
    mean = float(norms.mean())
    c = norms - mean
    return None if float(np.max(np.abs(c))) <= CONSTANT_NORMS * abs(mean) else c


def _centred_rows(norms: Array) -> tuple[Array | None, list[Array | None]]:
    """:func:`_centred` of each row of ``norms``: the rows as one array (None when one of
    them is None) and each row."""
    if norms.shape[1] < 2:
        return None, [None] * norms.shape[0]
    means = norms.mean(axis=1)
    c = norms - means[:, None]
    constant = np.max(np.abs(c), axis=1) <= CONSTANT_NORMS * np.abs(means)
    rows: list[Array | None] = [None if constant[k] else c[k] for k in range(norms.shape[0])]
    return (None if constant.any() else c), rows


def _leading(m: NDArray[Any]) -> NDArray[Any]:
    """The leading rows of ``m`` holding at most :data:`CALL_ENTRIES` entries (at least one
    row)."""
    if m.size <= CALL_ENTRIES:
        return m
    return m[: max(1, CALL_ENTRIES // max(m.shape[1], 1))]


def _norms(m: NDArray[Any], mu: float, sd: float) -> tuple[Array | None, Array | None]:
    """The squared norms of the standardized columns and rows of ``m``, block by block of
    rows in float64 (None: a non-finite entry)."""
    rows, cols = m.shape
    col = np.zeros(cols)
    row = np.empty(rows)
    step = max(1, NORM_BLOCK // max(cols, 1))
    for r in range(0, rows, step):
        b = np.asarray(m[r : r + step], dtype=np.float64)
        if mu:
            b = b - mu
        col += np.einsum("ij,ij->j", b, b)
        row[r : r + step] = np.einsum("ij,ij->i", b, b)
    scale = 1.0 / (sd * sd)
    col *= scale
    row *= scale
    if not math.isfinite(float(col.sum()) + float(row.sum())):
        return None, None
    return col, row


# -- results ---------------------------------------------------------------------------------
def calls_results(cs: CallStats, scheme: Scheme, max_abs_z: float, n: int) -> list[CheckResult]:
    """The checks of this module that apply to ``scheme``'s family, undecided, in the
    registry's order (``max_abs_z``, ``n``: the stream's largest ``|z|`` and entries)."""
    family = scheme.family
    out: list[CheckResult | None] = [_between(cs, n)]
    if family.is_iid:
        out.append(_homogeneity(C.UNIT_HOMOGENEITY, cs.units))
        out.append(_homogeneity(C.INPUT_HOMOGENEITY, cs.inputs))
        out.append(_extremes(cs, family, max_abs_z, n))
        out.append(_spike(cs))
    return [r for r in out if r is not None]


def _between(cs: CallStats, n: int) -> CheckResult | None:
    stats: list[tuple[str, float, float]] = []
    for label, link in (
        ("entries", cs.entries),
        ("unit norms", cs.unit_norms),
        ("input norms", cs.input_norms),
    ):
        tr = link.statistic()
        if tr is not None:
            stats.append((label, *tr))
    if not stats:
        return None
    k = len(stats)
    p_min = min(normal_two_sided(t) for _, t, _ in stats)
    p = -math.expm1(k * math.log1p(-p_min)) if p_min < 1.0 else 1.0
    worst = min(stats, key=lambda s: normal_two_sided(s[1]))
    pairs = cs.entries.pairs or max(cs.unit_norms.pairs, cs.input_norms.pairs)
    detail = (
        f"{worst[0]}: r = {worst[2]:.3g} between consecutive builds (t = {worst[1]:.3g}), "
        f"{pairs} pairs of builds; Sidak over {k}"
    )
    ev = BetweenCallsEvidence(tuple((s, r, t) for s, t, r in stats), pairs, pairs, "builds")
    return C.BETWEEN_CALLS.statistical(worst[1], p, n, detail, ev)


def _homogeneity(check: Any, hg: Homogeneity) -> CheckResult | None:
    if not hg.tested or hg.var <= 0:
        return None
    c = hg.var / (2.0 * hg.mean)
    p = chi2_sf(hg.h / c, hg.mean / c)
    stds = np.sqrt(hg.acc / np.maximum(hg.cnt, 1))
    halves = (float(stds[0, 0]), float(stds[0, 1]))
    parity = (float(stds[1, 0]), float(stds[1, 1]))
    shape = (hg.f, hg.n) if check is C.UNIT_HOMOGENEITY else (hg.n, hg.f)
    ev = HomogeneityEvidence(halves, parity, shape, hg.n, halves, parity)
    detail = (
        f"Kruskal-Wallis sum H = {hg.h:.4g} over {hg.tested} builds (null mean {hg.mean:.4g}, "
        f"sd {math.sqrt(hg.var):.3g}); halves at {halves[0]:.3f}x / {halves[1]:.3f}x std"
    )
    stat = (hg.h - hg.mean) / math.sqrt(hg.var)
    return check.statistical(stat, p, hg.tested, detail, ev)


def _extremes(cs: CallStats, family: Family, m: float, n: int) -> CheckResult | None:
    if n < 2 or not cs.builds:
        return None
    bound = family.support_bound

    def tails(r: float) -> tuple[float, float]:
        short = n * _log_g(family, min(m + r, bound))
        beyond = n * _log_g(family, m - r)
        return math.exp(short), -math.expm1(beyond)

    p_short, p_beyond = tails(0.0)
    if min(p_short, p_beyond) < RESOLVE_BELOW / 2:
        p_short, p_beyond = tails(max(m * 2.0 ** (1 - cs.bits), cs.gap))
    p = min(1.0, 2.0 * min(p_short, p_beyond))
    target = -math.expm1(math.log(0.5) / n)
    med = float(family.ppf(np.asarray([1.0 - target / 2.0]))[0])
    short = p_short <= p_beyond
    detail = f"max |z| = {m:.5g} over {n} entries (median of the maximum {med:.5g})"
    return C.EXTREMES.statistical(m, p, n, detail, ExtremesEvidence(m, med, bound, short, n))


def _spike(cs: CallStats) -> CheckResult | None:
    if not cs.sp_builds or cs.sp_a2 <= 0:
        return None
    f = (cs.sp_t / cs.sp_nb) / (cs.sp_a2 / cs.sp_na)
    p = float(special.fdtrc(cs.sp_nb, cs.sp_na, f))
    r, c = cs.sp_shape
    detail = (
        f"top direction of the even rows holds {f:.4g}x the bulk's share in the odd ones "
        f"on the leading {r} x {c} block ({cs.sp_builds} builds)"
    )
    n = cs.sp_builds * r * c
    return C.TOP_DIRECTION.statistical(f, p, n, detail, SpikeEvidence((r, c), f, cs.sp_builds))


# -- planning and resolution -----------------------------------------------------------------
def calls_tests(family: Family, rows: int, cols: int) -> int:
    """How many of this module's tests a ``rows x cols`` parameter's family holds (each build
    finite, at least two builds)."""
    if not family.is_random or rows * cols < 1:
        return 0
    if isinstance(family, Orthogonal) or not family.is_iid:
        return int(rows * cols >= 2)
    if rows * cols == 1:
        return 1  # the extremes over the builds; nothing to match between them
    block_rows, block_cols = min(rows, SPIKE_ROWS), min(cols, SPIKE_COLS)
    return (
        2
        + (cols >= MIN_VECTORS)
        + (rows >= MIN_VECTORS)
        + (block_rows // 2 >= MIN_SIDE and block_cols >= MIN_SIDE)
    )


@dataclass(frozen=True)
class CallsResolution:
    """What this module's tests detect with the power at the per-test level (nan: not
    tested): the correlation between builds at matched entries, the std factor ``1 + e`` of
    half the units (inputs) with the other half compensating (``e``), the mass a clip moves
    onto atoms, and a rank-one spike in multiples of the whole matrix's BBP threshold."""

    between_builds: float = math.nan
    unit_halves: float = math.nan
    input_halves: float = math.nan
    clip_mass: float = math.nan
    spike: float = math.nan


def calls_resolution(
    cs: CallStats, family: Family, n: int, a: float, power: float, rows: int, cols: int
) -> CallsResolution:
    """The :class:`CallsResolution` of a parameter's stream at the per-test level ``a``
    (the inverse of each check's power plan at the sample it has; ``n`` the entries). Each
    search is a function of a few counts and levels: parameters of one shape and rule share
    it (computed once, :func:`functools.lru_cache`)."""
    k = sum(link.v > 0 for link in (cs.entries, cs.unit_norms, cs.input_norms)) or 1
    p = cs.entries.products
    between = _between_resolution(p, k, a, power) if p else math.nan
    if not family.is_iid:
        return CallsResolution(between_builds=between)
    m4 = family.fourth_moment()

    def halves(hg: Homogeneity) -> float:
        if not hg.tested:
            return math.nan
        return _halves_resolution(hg.tested, hg.n, hg.f, m4, a, power)

    clip = -math.expm1(math.log(a / 2.0) / n) if n >= 2 else math.nan
    spike = math.nan
    if cs.sp_builds:
        shape = cs.sp_shape
        over = _spike_resolution(cs.sp_builds, shape, a, power)
        # a delocalized spike of the whole matrix shows in the block at a fraction
        over *= ((rows * cols) / (shape[0] * shape[1])) ** 0.25
        spike = over
    return CallsResolution(between, halves(cs.units), halves(cs.inputs), clip, spike)


@functools.lru_cache(maxsize=1024)
def _between_resolution(products: int, k: int, a: float, power: float) -> float:
    """The smallest correlation between builds that ``products`` matched products detect
    (Sidak over ``k`` statistics)."""
    return smallest_effect(lambda r: products_size(r, a, power, k) - products, 0.999)


@functools.lru_cache(maxsize=1024)
def _halves_resolution(tested: int, n: int, f: int, m4: float, a: float, power: float) -> float:
    """The smallest std error ``e`` of half of ``n`` vectors (of ``f`` entries each) that
    Kruskal-Wallis summed over ``tested`` builds detects."""
    za, zb = norm_isf(a), norm_isf(1.0 - power)
    df = tested * (N_GROUPS - 1)

    def gap(e: float) -> float:  # the noncentrality missing at e (decreasing)
        r2 = math.sqrt(max(2.0 - (1.0 + e) ** 2, 0.0))
        lam = tested * halves_noncentrality(n, f, m4, 1.0 + e, r2)
        return za * math.sqrt(2 * df) + zb * math.sqrt(2 * (df + 2 * lam)) - lam

    return smallest_effect(gap, math.sqrt(2.0) - 1.0)


@functools.lru_cache(maxsize=1024)
def _spike_resolution(builds: int, shape: tuple[int, int], a: float, power: float) -> float:
    """The smallest spike (in the block's BBP units) the top direction detects on ``builds``
    blocks of ``shape`` (:func:`~weight_init.properties.conformance._checks.spike.spike_power`:
    the non-central ``F`` law over the overlap's spread)."""
    return spike_resolution(shape, builds, a, power)
