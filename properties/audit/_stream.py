"""One streaming pass over a parameter's value in each build: the statistics every test reads.

A parameter's audit used to pool its ``K`` builds (``K x numel`` entries in memory) and run the
checks of :func:`~weight_init.properties.conformance.check_initializer` on the pool. Every
statistic those checks compute on a single-shape pool is a sum over builds, a maximum, or a
count, so :class:`ParamStats` keeps only these (``add`` one build, ``merge`` two partial
streams) and :mod:`~weight_init.properties.audit._tests` computes the same test statistics
from them:

* exact: the entries' ``sum z`` and ``sum z^2`` (mean and variance tests), the per-build
  sums ``S_c`` as ``sum S_c``, ``sum S_c^2`` (the cluster-robust mean), the raw moments
  ``sum (w - mu)^2``, ``sum (w - mu)^4`` (kurtosis, fan-mode fits), the neighbour products
  of both independence tests expanded in powers of the pooled mean (``sum ab``, ``sum a``,
  ``sum b``, ``sum a^2 b^2``, ``sum ab(a + b)``, ``sum a^2 + b^2``, ``sum a + b``,
  ``sum a^2``: the centred sums are polynomials in the mean, evaluated at the end), the sign
  count of an orthogonal diagonal, the worst Gram deviation, the maximum ``|z|``, non-finite
  and zero counts, repeated units per build, the zeros per input of a sparse scheme, the
  entries beyond :data:`OUTLIER_SD` (at most :data:`MAX_OUTLIERS` + 1 kept);
* fresh draws: one 16-byte BLAKE2 digest per build (of the whole array up to
  :data:`DIGEST_ENTRIES` entries, else of a fixed stride sample of that many plus the
  exclusive or of every entry's bits: equal arrays have equal digests whichever path read
  them, and two draws of a continuous law that agree on all of these have probability 0):
  ``O(builds)`` bytes, the only state that grows with the builds;
* the Kolmogorov-Smirnov test: counts of ``z`` on a grid of :data:`KS_BINS` equal bins over
  ``[-KS_RANGE, KS_RANGE]`` (plus the two tails). The empirical CDF is exact at every grid
  edge, so ``D_grid = max_edges |F_n(e) - F(e)| <= D`` and ``D <= D_grid + max_bin F-mass``
  (:attr:`~weight_init.properties.audit._tests.KS_GRID_ERROR`, at most 4e-4 for the
  registered families): the p-value of ``D_grid`` is never smaller than the exact one
  (conservative under the null, the level is kept);
* the family identification: counts of ``w / ref`` (``ref`` the probe build's root mean
  square) on :data:`ID_BINS` bins over ``[-ID_RANGE, ID_RANGE]``, KS distances to each
  family read at the edges (a lower bound within the largest bin's mass of the exact one);
* the spectrum test on a bounded sample: the leading ``min(rows, SPECTRUM_SIDE) x
  min(cols, SPECTRUM_LONG)`` block of each build's matrix (a sub-matrix of an i.i.d. matrix
  is i.i.d., so the null law is exact; the cost per build is at most ``SPECTRUM_SIDE``
  multiply-adds per entry). A matrix inside those bounds is tested whole, as before.

The largest atom (the diagnosis's point mass) is the count of the probe build's most
repeated value over every build (and of 0): an exact count of that value, not a search for
every repeated value.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from weight_init.families import Family, Orthogonal, Sparse
from weight_init.layouts import get_layout
from weight_init.properties.audit._scratch import SCRATCH as _SCRATCH
from weight_init.properties.audit._stream_batch import (
    BATCH_ENTRIES,
    BatchScan,
    batch_scan,
    may_repeat,
    ones,
    stack,
)
from weight_init.properties.audit._stream_calls import CallStats, MainPass
from weight_init.properties.conformance._checks.exact import duplicated_matrices
from weight_init.properties.conformance._checks.pool import machine_eps
from weight_init.properties.conformance._checks.statistical import MAX_OUTLIERS, OUTLIER_SD
from weight_init.schemes import Scheme

Array = NDArray[np.float64]

#: Bins of the standardized entries' grid for the Kolmogorov-Smirnov test.
KS_BINS = 1 << 14
KS_RANGE = 8.0
#: Bins of the self-scaled entries' grid for the family identification.
ID_BINS = 1 << 12
ID_RANGE = 8.0
#: The spectrum test's bounded sample: at most this many rows (the shorter side) ...
SPECTRUM_SIDE = 32
#: ... and this many columns of each build's matrix.
SPECTRUM_LONG = 2048
#: Entries per build (leading rows of the matrix) the KS and independence tests read.
SAMPLE_ENTRIES = 1 << 15
#: Standard deviations of a normal rule beyond which an entry is counted as an outlier
#: (:mod:`~weight_init.properties.audit._quirks`).
FAR_SDS = 8.0
#: Distinct outlier values kept (the smallest), for the row's message.
FAR_KEPT = 3
#: Arrays up to this many entries are digested whole; larger ones by a stride sample.
DIGEST_ENTRIES = 1 << 10


@dataclass(frozen=True)
class Target:
    """How one parameter (or one block of it) is reduced in every build.

    ``index``: its position in a build's parameter list; ``block``: ``(i, n)``, block ``i``
    of ``n`` equal splits along the last axis (``(0, 1)``: the whole array); ``scheme``: the
    expected scheme at the parameter's fans (None: unchecked, identification only);
    ``layout``: for an orthogonal 2-D parameter, the layout whose matrix view is checked;
    ``id_scale``: the scale of the identification grid (the probe build's root mean square),
    None when the KS grid of a zero-mean expected scheme within a factor 2 of it serves;
    ``mode_value``: the probe build's most repeated value (None when no value repeats);
    ``drop_rows``: rows along the first axis left out of the statistics (declared exactly
    zero, checked by :attr:`ParamStats.row_zero`); ``track_rows``: keep, per row of the first
    axis, whether it was exactly zero in every build; ``outlier``: ``(mean, sd)`` of a normal
    rule, whose entries beyond :data:`FAR_SDS` sd are counted (None: not counted)."""

    index: int
    block: tuple[int, int]
    scheme: Scheme | None
    layout: str | None
    id_scale: float | None
    mode_value: float | None
    drop_rows: tuple[int, ...] = ()
    track_rows: bool = False
    outlier: tuple[float, float] | None = None

    def view(self, raw: NDArray[Any]) -> NDArray[Any]:
        """This target's part of one build's array, as the 2-D matrix the checks read."""
        a = np.asarray(raw)
        if self.drop_rows and a.ndim:
            a = np.delete(a, list(self.drop_rows), axis=0)
        i, n = self.block
        if n > 1:
            a = np.split(a, n, axis=-1)[i]
        layout = self._matrix_layout(a)
        if layout:
            return get_layout(layout).matrix(a)
        return a.reshape(a.shape[0], -1) if a.ndim >= 2 else a.reshape(1, -1)

    def _matrix_layout(self, a: NDArray[Any]) -> str | None:
        """The layout through whose matrix :meth:`view` reads the 2-D ``a`` (an orthogonal
        scheme's); None when it reads ``a``'s rows."""
        family = self.scheme.family if self.scheme is not None else None
        return self.layout if isinstance(family, Orthogonal) and a.ndim == 2 else None

    def keeps_rows(self, a: NDArray[Any]) -> bool:
        """Whether :meth:`view` of ``a`` holds its rows (along the first axis) as they are,
        one row of the view each."""
        return (
            a.ndim >= 2 and not self.drop_rows and self.block[1] == 1 and not self._matrix_layout(a)
        )


@dataclass
class Pairs:
    """Neighbour products along one axis (see the module docstring), uncentred."""

    n: int = 0
    ab: float = 0.0
    a: float = 0.0
    b: float = 0.0
    a2b2: float = 0.0
    ab_apb: float = 0.0
    a2pb2: float = 0.0
    apb: float = 0.0
    a2: float = 0.0
    # orthogonal (Haar) form: uncentred sums and the exact null variance
    haar_s: float = 0.0
    haar_sq: float = 0.0
    haar_var: float = 0.0

    def add(
        self, fq: Array, shape: tuple[int, int], total: float, total2: float, axis: int
    ) -> None:
        """The products of neighbours of the 2-D ``z`` of ``shape`` along ``axis`` (1: within
        a row; 0: across rows), from ``fq``, the ``(2, z.size)`` rows ``z`` and ``z * z``
        flattened (``total = sum z``, ``total2 = sum z^2``): the four sums of products of
        shifted flat views in one matrix product; pairs that would wrap from the end of one
        row to the start of the next are subtracted."""
        rows, cols = shape
        if shape[axis] < 2:
            return
        k = 1 if axis == 1 else cols
        g = fq[:, :-k] @ fq[:, k:].T  # [[sum ab, sum a b^2], [sum a^2 b, sum a^2 b^2]]
        ab, a2b2 = float(g[0, 0]), float(g[1, 1])
        cross = float(g[1, 0]) + float(g[0, 1])
        z, sq = fq[0].reshape(shape), fq[1].reshape(shape)
        if axis == 1:
            last, first = z[:, -1], z[:, 0]
            if rows > 1:  # wrapped pairs (row i's last, row i+1's first)
                lw, fw = last[:-1], first[1:]
                lq, fq2 = sq[:-1, -1], sq[1:, 0]
                ab -= float(np.dot(lw, fw))
                a2b2 -= float(np.dot(lq, fq2))
                cross -= float(np.dot(lq, fw)) + float(np.dot(lw, fq2))
            n = rows * (cols - 1)
        else:
            last, first = z[-1, :], z[0, :]
            n = (rows - 1) * cols
        sa, sb = total - float(last.sum()), total - float(first.sum())
        a2 = total2 - float(np.dot(last, last))
        b2 = total2 - float(np.dot(first, first))
        self.n += n
        self.ab += ab
        self.a += sa
        self.b += sb
        self.a2b2 += a2b2
        self.ab_apb += cross
        self.a2 += a2
        self.a2pb2 += a2 + b2
        self.apb += sa + sb

    def add_stack(
        self, fq: Array, shape: tuple[int, int, int], totals: tuple[float, float], axis: int
    ) -> None:
        """:meth:`add` of each of ``B`` builds' matrices stacked in ``fq`` (the ``(2, size)``
        rows ``z`` and ``z * z`` of a ``(B, rows, cols)`` stack, flattened; ``totals``: the
        sums of the two rows): the stack as one ``(B rows, cols)`` matrix, less the pairs
        across rows that straddle two builds."""
        nb, rows, cols = shape
        if axis == 0 and rows < 2:
            return
        total, total2 = totals
        self.add(fq, (nb * rows, cols), total, total2, axis)
        if axis == 1 or nb < 2 or cols < 1:
            return
        z, sq = fq[0].reshape(shape), fq[1].reshape(shape)
        last, first = z[:-1, -1, :], z[1:, 0, :]
        lq, fq2 = sq[:-1, -1, :], sq[1:, 0, :]
        sl, sf = float(last.sum()), float(first.sum())
        ql, qf = float(lq.sum()), float(fq2.sum())
        self.n -= (nb - 1) * cols
        self.ab -= float(np.einsum("ij,ij->", last, first))
        self.a2b2 -= float(np.einsum("ij,ij->", lq, fq2))
        self.ab_apb -= float(np.einsum("ij,ij->", lq, first)) + float(
            np.einsum("ij,ij->", last, fq2)
        )
        self.a -= sl
        self.b -= sf
        self.a2 -= ql
        self.a2pb2 -= ql + qf
        self.apb -= sl + sf

    def add_haar(self, z: Array, axis: int) -> None:
        fi, fo = z.shape
        long_side = fo if axis == 1 else fi
        n, k = max(fi, fo), min(fi, fo)
        if long_side != n or n == k:
            return
        a, b = (z[:, :-1], z[:, 1:]) if axis == 1 else (z[:-1, :], z[1:, :])
        self.haar_s += float(np.sum(a * b))
        self.haar_sq += float(np.sum(a * a))
        self.haar_var += n * k * (n - k) / (n + 2.0)
        self.n += int(a.size)

    def merge(self, o: Pairs) -> None:
        mine, theirs = self.__dict__, o.__dict__
        for f in _PAIR_SUMS:
            mine[f] += theirs[f]

    def centred(self, mu: float) -> tuple[float, float, float]:
        """``(sum (a-mu)(b-mu), sum ((a-mu)(b-mu))^2, sum (a-mu)^2)``."""
        s = self.ab - mu * self.apb + mu * mu * self.n
        v = (
            self.a2b2
            - 2.0 * mu * self.ab_apb
            + mu * mu * (self.a2pb2 + 4.0 * self.ab)
            - 2.0 * mu**3 * self.apb
            + mu**4 * self.n
        )
        sq = self.a2 - 2.0 * mu * self.a + mu * mu * self.n
        return s, v, sq


@dataclass
class ParamStats:
    """The running statistics of one target over the builds seen so far (module docstring)."""

    rows: int = 0
    cols: int = 0
    builds: int = 0
    # dtype and finiteness
    nonfloat: int = 0
    nonfloat_dtype: str = ""
    nonfinite_entries: int = 0
    nonfinite_builds: int = 0
    first_nonfinite: int = -1
    float_total: int = 0
    kept: int = 0
    eps: float = 0.0
    # standardized entries z (every finite entry)
    n: int = 0
    s1: float = 0.0
    s2: float = 0.0
    zero_count: int = 0
    max_abs_z: float = 0.0
    far: list[float] = field(default_factory=list)
    far_count: int = 0
    ks_hist: NDArray[np.int64] | None = None
    # kept builds: moments of w - mu, cluster sums
    k_n: int = 0
    k_m2: float = 0.0
    k_m4: float = 0.0
    c_count: int = 0
    c_s: float = 0.0
    c_s2: float = 0.0
    # raw w (identification)
    r_n: int = 0
    r_s2: float = 0.0
    r_s4: float = 0.0
    w_min: float = math.inf
    w_max: float = -math.inf
    mode_count: int = 0
    id_hist: NDArray[np.int64] | None = None
    # structure
    max_dev_constant: float = 0.0
    duplicated: int = 0
    duplicated_what: str = ""
    digests: dict[bytes, int] = field(default_factory=dict)
    orth_rel: float = 0.0
    orth_err: float = 0.0
    orth_scale: float = math.nan
    orth_tol: float = 0.0
    orth_dev: float = math.nan
    sign_pos: int = 0
    sign_tot: int = 0
    # sparse
    zeros_bad: int = 0
    zeros_inputs: int = 0
    zeros_found: int = 0
    zeros_total: int = 0
    zeros_in_w: int = 0
    sparsity_lo: float = 0.0
    sparsity_hi: float = 1.0
    sparsity_ok: bool = True
    nz_n: int = 0
    nz_s2: float = 0.0
    # neighbour products and spectrum
    units: Pairs = field(default_factory=Pairs)
    inputs: Pairs = field(default_factory=Pairs)
    sp_r: float = 0.0
    sp_z2: float = 0.0
    sp_entries: int = 0
    sp_m: int = 0
    sp_shape: tuple[int, int] = (0, 0)
    # structure real init code adds (exact, on the raw array of every build)
    row_zero: NDArray[np.bool_] | None = None  # rows of the first axis 0 in every build
    any_nonzero: bool = False
    raw_size: int = 0
    beyond_count: int = 0  # entries beyond FAR_SDS sd of a normal rule
    beyond_values: list[float] = field(default_factory=list)  # the smallest FAR_KEPT distinct
    beyond_worst: float = 0.0  # (w - mean) / sd of the farthest of them
    # between builds, homogeneity, extremes' resolution, top direction (:mod:`._stream_calls`)
    calls: CallStats = field(default_factory=CallStats)
    # builds past the sample, read for their range only (:meth:`add_unread`)
    scanned: int = 0
    scan_abs_z: float = 0.0  # the largest |z| in them (the bounds check)

    # -- one build ---------------------------------------------------------------------------
    def add(self, raw: NDArray[Any], target: Target) -> None:
        """Reduce one build's value of ``target`` into the running statistics."""
        a = np.asarray(raw)
        m = target.view(a)
        self.rows, self.cols = int(m.shape[0]), int(m.shape[1])
        scheme = target.scheme
        scan = None
        if m.dtype.kind in "fiu" and _scanned_sd(scheme, m) is not None:
            scan = _scan(m, target.mode_value)
            if not all(math.isfinite(x) for x in scan[:3]):
                scan = None
        self._raw(a, target, None if scan is None else (scan.zeros, scan.row_sq))
        # the checks between builds read the pass's float64 sample and sums of squares
        main = None if scan is None else MainPass(_lead(m), scan.col_sq, scan.row_sq)
        self.calls.add(m, scheme, main)
        self.builds += 1
        if m.dtype.kind != "f":
            self.nonfloat += 1
            self.nonfloat_dtype = self.nonfloat_dtype or str(m.dtype)
        if m.dtype.kind not in "fiu":
            return  # not numeric: the dtype check says so, nothing else is read
        if m.dtype.kind == "f":
            self.float_total += int(m.size)
        if scan is not None and scheme is not None:
            self._iid(m, scan, target, scheme)
            self._beyond(m, target, (scan.lo, scan.hi))
            return
        if scheme is not None and not scheme.family.is_random and self._constant(m, target, scheme):
            return
        w = m.astype(np.float64)  # a new array: the build's own values are never written
        finite_all = bool(np.isfinite(w).all())
        if not finite_all:
            bad = int(m.size - np.count_nonzero(np.isfinite(w)))
            self.nonfinite_entries += bad
            self.nonfinite_builds += 1
            if self.first_nonfinite < 0:
                self.first_nonfinite = self.builds - 1
        bounds = self._slow(m, w, target, finite_all)
        self._beyond(m, target, bounds if finite_all else None)

    # -- a build past the sample -------------------------------------------------------------
    def add_unread(self, raw: NDArray[Any], target: Target) -> None:
        """A build past the parameter's sample (the builds its resolution needs,
        :func:`~weight_init.properties.audit._loop._reads`): only the exact facts one entry
        decides, from the build's range (a minimum and a maximum over the values as built):
        non-finite entries, an entry beyond a bounded law's support (``bounds``), beyond
        :data:`FAR_SDS` sd of a normal rule (outliers), the dtype, rows of zeros and
        all-zero builds. The statistical tests and the repeated units read the sample alone,
        the checks between builds the builds :meth:`add_total` read too."""
        a = np.asarray(raw)
        self._unread(a, target.view(a), target)

    def _unread(
        self, a: NDArray[Any], m: NDArray[Any], target: Target, seen: _Norms | None = None
    ) -> None:
        """:meth:`add_unread` of the array ``a`` whose view is ``m``; ``seen``: its
        :func:`_norm_scan` when the caller read every entry (all finite)."""
        index = self.builds + self.scanned  # this build's position in the stream
        self.scanned += 1
        if m.dtype.kind != "f":
            self.nonfloat += 1
            self.nonfloat_dtype = self.nonfloat_dtype or str(m.dtype)
        if m.dtype.kind not in "fiu" or not m.size:
            self._raw(a, target)
            return
        if m.dtype.kind == "f":
            self.float_total += int(m.size)
        lo, hi = (seen.lo, seen.hi) if seen is not None else _range(m)
        whole = not target.drop_rows and target.block[1] == 1  # m holds every entry of a
        # a nonzero (or NaN) bound is a nonzero entry of a; an all-zero view is all of a only
        # when it holds every entry (else _raw reads a)
        nonzero = True if not lo == hi == 0.0 else False if whole else None
        self._raw(a, target, None if seen is None or nonzero is None else (0, seen.row_sq), nonzero)
        bounds: tuple[float, float] | None = (lo, hi)
        if not (math.isfinite(lo) and math.isfinite(hi)):
            bounds = None
            finite = np.isfinite(m)
            self.nonfinite_entries += int(m.size - np.count_nonzero(finite))
            self.nonfinite_builds += 1
            if self.first_nonfinite < 0:
                self.first_nonfinite = index
            kept = m[finite]
            lo, hi = (float(kept.min()), float(kept.max())) if kept.size else (0.0, 0.0)
        scheme = target.scheme
        if scheme is not None and scheme.family.is_random:
            rows, cols = int(m.shape[0]), int(m.shape[1])
            z = scheme.family.standardize(np.array([lo, hi]), scheme, rows, cols)
            self.scan_abs_z = max(self.scan_abs_z, float(np.max(np.abs(z))))
        self._beyond(m, target, bounds)

    # -- a build the checks between builds compare, past the sample ---------------------------
    def add_total(self, raw: NDArray[Any], target: Target) -> None:
        """A build past the parameter's sample among those the checks between builds compare
        (:func:`~weight_init.properties.audit._loop._reads`): :meth:`add_unread`'s exact
        facts and, of a finite float build of a zero-mean i.i.d. scheme, what compares it
        with the other builds, from one :func:`_norm_scan` of its entries: its total
        ``sum z`` (one cluster of the cluster-robust mean), its digest (the fresh draws), and
        its leading entries and norms for the checks between builds and of homogeneity
        (:meth:`~._stream_calls.CallStats.add` with ``whole=False``: the extremes'
        resolution and the top direction read the builds read whole)."""
        a = np.asarray(raw)
        m = target.view(a)
        scheme = target.scheme
        sd = _scanned_sd(scheme, m) if m.dtype.kind == "f" and m.size else None
        seen = None if sd is None else _norm_scan(m)
        if seen is not None and not all(math.isfinite(x) for x in seen[:3]):
            seen = None
        self._unread(a, m, target, seen)
        if seen is None or sd is None or scheme is None:
            return
        total = seen.s1 / sd
        self.c_count += 1
        self.c_s += total
        self.c_s2 += total * total
        self.calls.add(m, scheme, MainPass(_lead(m), seen.col_sq, seen.row_sq), whole=False)
        self._add_digest(m)

    # -- several builds ----------------------------------------------------------------------
    def add_builds(self, raws: Sequence[NDArray[Any]], target: Target) -> None:
        """Reduce consecutive builds' values of ``target``, in build order: the statistics
        :meth:`add` gives them one by one (sums in another order: equal to rounding). Finite
        float builds of a zero-mean i.i.d. scheme of at most
        :data:`~._stream_batch.BATCH_ENTRIES` entries in all are read as one stack
        (:mod:`~._stream_batch`); any other batch build by build."""
        arrays = [np.asarray(r) for r in raws]
        views = [target.view(a) for a in arrays]
        if self._constant_builds(arrays, views, target):
            return
        w = self._batchable(views, target)
        scan = None
        if w is not None:
            first = int(_leading(views[0]).shape[0])
            step = max(1, MOMENT_BLOCK // max(int(w.shape[2]), 1))
            squares = _SCRATCH.get("stack squares", int(w.size)).reshape(w.shape)
            scan = batch_scan(w, target.mode_value, first, step, squares)
        if (
            w is None
            or scan is None
            or target.scheme is None
            or not all(bool(np.isfinite(x).all()) for x in (scan.s1, scan.s2, scan.s4))
        ):
            for a in arrays:
                self.add(a, target)
            return
        for k, a in enumerate(arrays):
            self._raw(a, target, (int(scan.zeros[k]), scan.row_sq[k]))
        self._iid_builds(views, w, scan, target, target.scheme)
        for k, m in enumerate(views):
            self._beyond(m, target, (float(scan.lo[k]), float(scan.hi[k])))

    def _constant_builds(
        self, arrays: Sequence[NDArray[Any]], views: Sequence[NDArray[Any]], target: Target
    ) -> bool:
        """:meth:`add` of builds of a constant scheme each of whose views holds one finite
        float value bit for bit (:meth:`_constant`), read at once; False (nothing read) when
        the scheme is random or one build is not such."""
        scheme = target.scheme
        if scheme is None or scheme.family.is_random or not views:
            return False
        first = views[0]
        if (
            first.dtype.kind != "f"
            or first.dtype.itemsize not in (2, 4, 8)
            or not first.size
            or any(v.dtype != first.dtype or v.shape != first.shape for v in views)
        ):
            return False
        bits = stack(list(views)).view(np.dtype(f"u{first.dtype.itemsize}"))
        bits = bits.reshape(len(views), -1)
        if not bool((bits == bits[:, :1]).all()):
            return False
        values = [float(v.flat[0]) for v in views]
        if not all(math.isfinite(v) for v in values):
            return False
        n = int(first.size)
        sums: dict[float, tuple[float, float]] = {}
        self.rows, self.cols = int(first.shape[0]), int(first.shape[1])
        eps = _eps(first.dtype)
        for a, v in zip(arrays, values, strict=True):
            self._raw(a, target)
            self.builds += 1
            self.float_total += n
            if v not in sums:
                sums[v] = _constant_sums(v, n)
            self._add_constant(v, n, sums[v], int(_leading(first).size), eps, target, scheme)
        return True

    def _batchable(self, views: Sequence[NDArray[Any]], target: Target) -> Array | None:
        """The float64 ``(B, rows, cols)`` stack of the views when :meth:`add_builds` may read
        them at once (every view a float array of one dtype, a zero-mean i.i.d. scheme with a
        positive variance, at most :data:`~._stream_batch.BATCH_ENTRIES` entries); else
        None."""
        scheme = target.scheme
        if scheme is None or not views:
            return None
        family = scheme.family
        first = views[0]
        if (
            isinstance(family, (Sparse, Orthogonal))
            or first.dtype.kind != "f"
            or first.size * len(views) > BATCH_ENTRIES
            or not first.size
            or any(v.dtype != first.dtype for v in views)
            or _scanned_sd(scheme, first) is None
        ):
            return None
        w = _SCRATCH.get("stack", len(views) * int(first.size)).reshape(len(views), *first.shape)
        for k, v in enumerate(views):
            np.copyto(w[k], v, casting="unsafe")  # exact: every float format fits float64
        return w

    def _iid_builds(
        self,
        views: Sequence[NDArray[Any]],
        w: Array,
        scan: BatchScan,
        target: Target,
        scheme: Scheme,
    ) -> None:
        """:meth:`_iid` (and :meth:`add`'s bookkeeping) of finite builds stacked in ``w``."""
        nb, rows, cols = w.shape
        first = views[0]
        size = rows * cols
        self.rows, self.cols = rows, cols
        family = scheme.family
        sd = math.sqrt(scheme.variance(rows, cols))
        lead_rows = int(_leading(first).shape[0])
        lead = w[:, :lead_rows]
        bits = int(np.finfo(first.dtype).nmant) + 1
        fq = _SCRATCH.get("pairs", 2 * int(lead.size)).reshape(2, -1)
        scaled = fq[0].reshape(lead.shape)  # z of the bounded sample
        np.divide(lead, sd, out=scaled)
        self.calls.add_builds(w, lead, scan.col_sq, scan.row_sq, scheme, bits, scaled)
        self.builds += nb
        self.float_total += nb * size
        s1w, s2w, s4w = scan.s1.tolist(), scan.s2.tolist(), scan.s4.tolist()
        lo, hi = scan.lo.tolist(), scan.hi.tolist()
        zeros, modes = scan.zeros.tolist(), scan.mode.tolist()
        eps = _eps(first.dtype)
        for k in range(nb):
            total, total2 = s1w[k] / sd, s2w[k] / (sd * sd)
            self.r_n += size
            self.r_s2 += s2w[k]
            self.r_s4 += s4w[k]
            self.w_min = min(self.w_min, lo[k])
            self.w_max = max(self.w_max, hi[k])
            self.mode_count += modes[k]
            # _entries: every standardized entry
            self.n += size
            self.s1 += total
            self.s2 += total2
            self.zero_count += zeros[k]
            big = max(hi[k], -lo[k]) / sd
            self.max_abs_z = max(self.max_abs_z, big)
            if big > OUTLIER_SD:
                z = np.divide(np.ravel(views[k]), sd, dtype=np.float64)
                far = z[np.abs(z) > OUTLIER_SD]
                self.far_count += int(far.size)
                if len(self.far) <= MAX_OUTLIERS:
                    self.far.extend(float(v) for v in far[: MAX_OUTLIERS + 1 - len(self.far)])
            self.nz_n += size - zeros[k]
            self.nz_s2 += total2
            self.kept += 1
            self.eps = max(self.eps, eps)
            self.k_n += size
            self.k_m2 += s2w[k]
            self.k_m4 += s4w[k]
            self.c_count += 1
            self.c_s += total
            self.c_s2 += total * total
        bounds = (min(lo), max(hi))
        self.ks_hist = _count(self.ks_hist, lead, KS_BINS, KS_RANGE, 1.0 / sd, bounds)
        if target.id_scale is not None:
            self.id_hist = _count(
                self.id_hist, lead, ID_BINS, ID_RANGE, 1 / target.id_scale, bounds
            )
        # _structure
        repeats = may_repeat(scan.row_sums, scan.col_sums)
        for k in np.flatnonzero(repeats).tolist():
            flags, what = duplicated_matrices(w[k][None], family.atom)
            if flags[0]:
                self.duplicated += 1
                self.duplicated_what = self.duplicated_what or what
        for m in views:
            self._add_digest(m)
        np.multiply(fq[0], fq[0], out=fq[1])
        zq = fq[1].reshape(lead.shape)
        totals = float(fq[0].sum()), float(fq[1].sum())
        self.units.add_stack(fq, lead.shape, totals, 1)
        self.inputs.add_stack(fq, lead.shape, totals, 0)
        if min(rows, cols) >= 2:
            wide = rows <= cols
            side = (SPECTRUM_SIDE, SPECTRUM_LONG) if wide else (SPECTRUM_LONG, SPECTRUM_SIDE)
            if min(side[0], rows) <= lead_rows:  # the block lies in the bounded sample
                sub, sub2 = scaled[:, : side[0], : side[1]], zq[:, : side[0], : side[1]]
            else:
                part = w[:, : side[0], : side[1]]
                sub = _SCRATCH.get("block", int(part.size)).reshape(part.shape)
                np.divide(part, sd, out=sub)
                sub2 = _SCRATCH.get("square", int(part.size)).reshape(part.shape)
                np.multiply(sub, sub, out=sub2)
            self.sp_shape = (int(sub.shape[1]), int(sub.shape[2]))
            for r, z2 in zip(*_rectangles(sub, sub2), strict=True):
                self.sp_r += r
                self.sp_z2 += z2
                self.sp_entries += int(sub.shape[1] * sub.shape[2])
                self.sp_m += 1

    def _raw(
        self,
        a: NDArray[Any],
        target: Target,
        scanned: tuple[int, Array] | None = None,
        nonzero: bool | None = None,
    ) -> None:
        """The exact structure of the whole array: ``track_rows`` (skipped once no row can
        be zero in every build any more; only the rows still zero in every build so far are
        read) and whether any entry is nonzero. ``scanned``: the exact zeros and the float64
        rows' sums of squares of ``target.view(a)`` when every entry is finite
        (:func:`_scan`): when the view keeps ``a``'s rows they answer both (a row of zeros
        sums to 0; a row that sums to 0 is read again, as a square may underflow).
        ``nonzero``: whether an entry of ``a`` is nonzero, when the caller knows."""
        if a.dtype.kind not in "fiub":
            return
        self.raw_size = int(a.size)
        known = scanned if scanned is not None and target.keeps_rows(a) else None
        if a.size and not self.any_nonzero:
            if nonzero is None:
                nonzero = known[0] < a.size if known is not None else bool(np.any(a))
            self.any_nonzero = nonzero
        if target.track_rows and a.ndim >= 1 and a.shape[0]:
            if self.row_zero is None or self.row_zero.any():
                rows = a.reshape(a.shape[0], -1)
                zero: NDArray[np.bool_]
                if self.row_zero is not None:  # only the rows that may still be zero
                    zero = self.row_zero.copy()
                elif known is not None:
                    zero = np.asarray(known[1] == 0)
                else:  # every row, without a temporary the size of the array
                    zero = np.logical_not(rows.any(axis=1))
                if self.row_zero is not None or known is not None:
                    if zero.any():
                        zero[zero] = np.logical_not(rows[zero].any(axis=1))
                self.row_zero = zero

    def _beyond(self, m: NDArray[Any], target: Target, bounds: tuple[float, float] | None) -> None:
        """The entries of the kept view ``m`` beyond :data:`FAR_SDS` sd of a normal rule;
        ``bounds``: ``(min, max)`` of ``m`` when every entry is finite (the deviation is
        monotone in the value, so none is beyond when neither bound is), else None."""
        if target.outlier is None or m.dtype.kind != "f":
            return
        mean, sd = target.outlier
        if bounds is not None:
            lo, hi = bounds
            if abs((lo - mean) / sd) <= FAR_SDS and abs((hi - mean) / sd) <= FAR_SDS:
                return
        dev = (m.astype(np.float64) - mean) / sd
        far = m[np.abs(dev) > FAR_SDS]
        if far.size:
            self.beyond_count += int(far.size)
            worst = float(dev.flat[int(np.argmax(np.abs(dev)))])
            self.beyond_worst = _signed_max(self.beyond_worst, worst)
            kept = sorted(set(self.beyond_values) | set(far.astype(np.float64).tolist()))
            self.beyond_values = kept[:FAR_KEPT]

    def _constant(self, m: NDArray[Any], target: Target, scheme: Scheme) -> bool:
        """A build of a constant scheme whose entries are all one finite float value (bit for
        bit): the general path's statistics in closed form, the sums over the same array of
        squares; False (nothing read) for any other build."""
        if m.dtype.kind != "f" or m.dtype.itemsize not in (2, 4, 8) or not m.size:
            return False
        bits = m.view(np.dtype(f"u{m.dtype.itemsize}"))
        first = bits.flat[0]
        v = float(m.flat[0])
        if not math.isfinite(v) or not bool((bits == first).all()):
            return False
        n = int(m.size)
        sums = _constant_sums(v, n)
        self._add_constant(v, n, sums, int(_leading(m).size), _eps(m.dtype), target, scheme)
        return True

    def _add_constant(
        self,
        v: float,
        n: int,
        sums: tuple[float, float],
        leading: int,
        eps: float,
        target: Target,
        scheme: Scheme,
    ) -> None:
        """Add one build of ``n`` entries all equal to ``v`` (``sums``: :func:`_constant_sums`;
        ``leading``: the size of its leading entries) to the statistics."""
        s2, s4 = sums
        self.r_n += n
        self.r_s2 += s2
        self.r_s4 += s4
        self.w_min = min(self.w_min, v)
        self.w_max = max(self.w_max, v)
        if target.mode_value is not None and v == target.mode_value:
            self.mode_count += n
        if target.id_scale is not None:
            if self.id_hist is None:
                self.id_hist = np.zeros(ID_BINS + 2, dtype=np.int64)
            j = _bin(v, ID_BINS, ID_RANGE, 1.0 / target.id_scale)
            self.id_hist[j] += leading
        self.kept += 1
        self.eps = max(self.eps, eps)
        self.max_dev_constant = max(self.max_dev_constant, float(abs(v - scheme.value)))

    def _iid(
        self,
        m: NDArray[Any],
        scan: _Scan,
        target: Target,
        scheme: Scheme,
    ) -> None:
        """A finite build of a zero-mean i.i.d. scheme: the moments of every entry from the raw
        values' sums (``z = w / sd``, :func:`_scan`), the rest on the bounded samples."""
        family = scheme.family
        sd = math.sqrt(scheme.variance(self.rows, self.cols))
        total_w, s2w, s4w = scan.s1, scan.s2, scan.s4
        total, total2 = total_w / sd, s2w / (sd * sd)
        self.r_n += int(m.size)
        self.r_s2 += s2w
        self.r_s4 += s4w
        lo, hi = scan.lo, scan.hi
        self.w_min = min(self.w_min, lo)
        self.w_max = max(self.w_max, hi)
        self.mode_count += scan.mode
        zeros = scan.zeros
        big = max(hi, -lo) / sd
        lead = _lead(m)  # _leading(m) in float64, as _scan left it
        self._entries(m, sd, total, total2, family, self.cols, big, zeros, (lo, hi), lead)
        if target.id_scale is not None:
            self.id_hist = _count(
                self.id_hist, lead, ID_BINS, ID_RANGE, 1 / target.id_scale, (lo, hi)
            )
        self.kept += 1
        self.eps = max(self.eps, _eps(m.dtype))
        self.k_n += int(m.size)
        self.k_m2 += s2w
        self.k_m4 += s4w
        self.c_count += 1
        self.c_s += total
        self.c_s2 += total * total
        self._structure(m, m, sd, scheme, family, lead, scan)

    def _slow(
        self, m: NDArray[Any], w: Array, target: Target, finite_all: bool
    ) -> tuple[float, float] | None:
        """Unchecked, constant, non-i.i.d., located, degenerate or partly non-finite builds:
        the general path, on the standardized entries; returns ``(min, max)`` of the finite
        entries (None when there are none)."""
        flat = w if finite_all else w[np.isfinite(w)]
        bounds = self._raw_moments(flat, target)
        scheme = target.scheme
        if scheme is None:
            return bounds
        family = scheme.family
        if not family.is_random:
            if finite_all:
                self.kept += 1
                self.eps = max(self.eps, _eps(m.dtype))
                dev = float(np.max(np.abs(w - scheme.value))) if w.size else 0.0
                self.max_dev_constant = max(self.max_dev_constant, dev)
            return bounds
        rows, cols = w.shape
        z = family.standardize(w if finite_all else flat, scheme, rows, cols)
        total = float(z.sum())
        total2 = float(np.sum(z * z))
        self._entries(z, 1.0, total, total2, family, cols)
        if not finite_all:
            return bounds
        mu = scheme.mean()
        c = w - mu if mu else w
        c2 = c * c
        self.kept += 1
        self.eps = max(self.eps, _eps(m.dtype))
        self.k_n += int(c.size)
        self.k_m2 += float(c2.sum())
        self.k_m4 += float(np.dot(c2.ravel(), c2.ravel()))
        self.c_count += 1
        self.c_s += total
        self.c_s2 += total * total
        self._structure(m, z, 1.0, scheme, family)
        return bounds

    def _raw_moments(self, flat: Array, target: Target) -> tuple[float, float] | None:
        if not flat.size:
            return None
        w2 = (flat * flat).ravel()
        self.r_n += int(flat.size)
        self.r_s2 += float(w2.sum())
        self.r_s4 += float(np.dot(w2, w2))
        bounds = self._range(flat, target)
        if target.id_scale is not None:
            sample = _leading(flat) if flat.ndim == 2 else flat[:SAMPLE_ENTRIES]
            self.id_hist = _count(
                self.id_hist, sample, ID_BINS, ID_RANGE, 1.0 / target.id_scale, bounds
            )
        return bounds

    def _range(self, m: NDArray[Any], target: Target) -> tuple[float, float]:
        lo, hi = float(m.min()), float(m.max())
        self.w_min = min(self.w_min, lo)
        self.w_max = max(self.w_max, hi)
        if target.mode_value is not None:
            self.mode_count += int(np.count_nonzero(m == target.mode_value))
        return lo, hi

    def _entries(
        self,
        x: Array,
        sd: float,
        total: float,
        total2: float,
        family: Family,
        cols: int,
        big: float | None = None,
        zeros: int | None = None,
        bounds: tuple[float, float] | None = None,
        lead: Array | None = None,
    ) -> None:
        """Every finite standardized entry ``z = x / sd``: mean, variance, zeros, outliers
        (``big``: the largest ``|z|``, ``zeros``: the exact zeros, ``bounds``: ``(min, max)``
        of ``x``, ``lead``: the bounded sample :func:`_leading` ``(x)`` in float64, when the
        caller has them); the KS grid of the bounded sample."""
        self.n += int(x.size)
        self.s1 += total
        self.s2 += total2
        if zeros is None:
            zeros = int(np.count_nonzero(x == 0))
        self.zero_count += zeros
        if x.size:
            if big is None:
                bounds = float(x.min()), float(x.max())
                big = max(bounds[1], -bounds[0]) / sd
            self.max_abs_z = max(self.max_abs_z, big)
            if big > OUTLIER_SD:
                z = np.divide(np.ravel(x), sd, dtype=np.float64)
                far = z[np.abs(z) > OUTLIER_SD]
                self.far_count += int(far.size)
                if len(self.far) <= MAX_OUTLIERS:
                    self.far.extend(float(v) for v in far[: MAX_OUTLIERS + 1 - len(self.far)])
        sample = lead if lead is not None else _leading(x) if x.ndim == 2 else x[:SAMPLE_ENTRIES]
        if isinstance(family, Sparse):
            ks = sample[sample != 0]
            nz = np.divide(np.ravel(x)[np.ravel(x) != 0], sd, dtype=np.float64)
            p = family.zero_fraction(cols)
            self.nz_n += int(nz.size)
            self.nz_s2 += (1.0 - p) * float(np.dot(nz, nz))
        else:
            ks = sample
            self.nz_n += int(x.size) - zeros
            self.nz_s2 += total2
        self.ks_hist = _count(self.ks_hist, ks, KS_BINS, KS_RANGE, 1.0 / sd, bounds)

    def _structure(
        self,
        m: NDArray[Any],
        x: Array,
        sd: float,
        scheme: Scheme,
        family: Family,
        lead: Array | None = None,
        scan: _Scan | None = None,
    ) -> None:
        """The per-build structure checks of a finite build whose standardized entries are
        ``x / sd`` (``m``: the values as built; ``lead``: :func:`_leading` ``(x)`` in float64,
        and ``scan``, the :func:`_scan` of ``m``, when the caller has them)."""
        rows, cols = x.shape
        if _may_repeat(m, None if scan is None else (scan.row_sums, scan.col_sums)):
            flags, what = duplicated_matrices(np.asarray(m, dtype=np.float64)[None], family.atom)
            if flags[0]:
                self.duplicated += 1
                self.duplicated_what = self.duplicated_what or what
        self._add_digest(m)
        if isinstance(family, Orthogonal):
            self._orthogonal(np.asarray(m, dtype=np.float64), scheme)
            z = np.divide(x, sd, dtype=np.float64)
            self.units.add_haar(z, 1)
            self.inputs.add_haar(z, 0)
            return
        if isinstance(family, Sparse):
            self._sparse(np.asarray(m, dtype=np.float64), family)
        sample = _leading(x) if lead is None else lead
        fq = _SCRATCH.get("pairs", 2 * int(sample.size)).reshape(2, -1)
        zs = fq[0].reshape(sample.shape)
        np.divide(sample, sd, out=zs, dtype=np.float64)
        np.multiply(fq[0], fq[0], out=fq[1])
        sq = fq[1].reshape(sample.shape)
        t1, t2 = float(fq[0].sum()), float(fq[1].sum())
        self.units.add(fq, zs.shape, t1, t2, 1)
        self.inputs.add(fq, zs.shape, t1, t2, 0)
        if family.is_iid and min(rows, cols) >= 2:
            wide = rows <= cols
            side = (SPECTRUM_SIDE, SPECTRUM_LONG) if wide else (SPECTRUM_LONG, SPECTRUM_SIDE)
            if min(side[0], rows) <= zs.shape[0]:  # the block lies in the bounded sample
                sub, sub2 = zs[: side[0], : side[1]], sq[: side[0], : side[1]]
            else:
                part = x[: side[0], : side[1]]
                sub = _SCRATCH.get("block", int(part.size)).reshape(part.shape)
                np.divide(part, sd, out=sub, dtype=np.float64)
                sub2 = _SCRATCH.get("square", int(part.size)).reshape(part.shape)
                np.multiply(sub, sub, out=sub2)
            self.sp_shape = (int(sub.shape[0]), int(sub.shape[1]))
            r, z2 = _rectangle(sub, sub2)
            self.sp_r += r
            self.sp_z2 += z2
            self.sp_entries += int(sub.size)
            self.sp_m += 1

    def _add_digest(self, m: NDArray[Any]) -> None:
        """Count one build's :func:`_digest` (the fresh draws)."""
        key = _digest(m)
        self.digests[key] = self.digests.get(key, 0) + 1

    def _orthogonal(self, w: Array, scheme: Scheme) -> None:
        rows, cols = w.shape
        g2 = scheme.rule.scale
        g = w.T @ w if rows >= cols else w @ w.T
        scale = float(np.trace(g)) / g.shape[0]
        dev = float(np.max(np.abs(g / (scale if scale > 0 else 1.0) - np.eye(g.shape[0]))))
        err = max(dev, abs(scale / g2 - 1.0))
        tol = 50.0 * max(rows, cols) * self.eps
        if err / tol > self.orth_rel:
            self.orth_rel, self.orth_err, self.orth_scale = err / tol, err, scale
            self.orth_tol, self.orth_dev = tol, dev
        elif self.orth_tol == 0.0:
            self.orth_tol = tol
        d = np.diagonal(w)
        self.sign_pos += int(np.count_nonzero(d > 0))
        self.sign_tot += int(d.size)

    def _sparse(self, w: Array, family: Sparse) -> None:
        cols = w.shape[1]
        k = family.zeros(cols)
        counts = family.zeros_per_input(w)
        wrong = counts != k
        self.zeros_bad += int(wrong.sum())
        self.zeros_inputs += int(counts.size)
        if wrong.any() and not self.zeros_found:
            self.zeros_found = int(counts[wrong].flat[0]) or -1
        self.zeros_in_w += int(counts.sum())
        self.zeros_total += int(w.size)
        c0 = int(counts.flat[0]) if counts.size else 0
        if not counts.size or np.any(counts != c0) or c0 == 0:
            self.sparsity_ok = False
        else:
            self.sparsity_lo = max(self.sparsity_lo, (c0 - 1) / cols)
            self.sparsity_hi = min(self.sparsity_hi, c0 / cols)

    # -- two partial streams -----------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        """The state a worker sends back, with the grids as their nonzero bins only (a
        chunk's sample touches few of the 16,386): exact, and a fraction of the bytes."""
        state = dict(self.__dict__)
        for f in _GRIDS:
            h = state[f]
            if h is not None:
                nz = np.flatnonzero(h)
                state[f] = (int(h.size), nz, h[nz])
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for f in _GRIDS:
            v = state[f]
            if isinstance(v, tuple):
                size, nz, counts = v
                h = np.zeros(size, dtype=np.int64)
                h[nz] = counts
                state[f] = h
        self.__dict__.update(state)

    def merge(self, o: ParamStats) -> None:
        """Fold ``o`` (the builds after this stream's, in build order) into this one."""
        if o.builds + o.scanned == 0:
            return
        if self.builds + self.scanned == 0:
            self.__dict__.update(_copy(o).__dict__)
            return
        own, theirs = self.__dict__, o.__dict__
        for f in _ADDED:
            own[f] += theirs[f]
        if self.first_nonfinite < 0 and o.first_nonfinite >= 0:
            before = self.builds + self.scanned - o.builds - o.scanned
            self.first_nonfinite = before + o.first_nonfinite
        self.nonfloat_dtype = self.nonfloat_dtype or o.nonfloat_dtype
        self.duplicated_what = self.duplicated_what or o.duplicated_what
        self.zeros_found = self.zeros_found or o.zeros_found
        self.eps = max(self.eps, o.eps)
        self.max_abs_z = max(self.max_abs_z, o.max_abs_z)
        self.scan_abs_z = max(self.scan_abs_z, o.scan_abs_z)
        self.max_dev_constant = max(self.max_dev_constant, o.max_dev_constant)
        self.w_min, self.w_max = min(self.w_min, o.w_min), max(self.w_max, o.w_max)
        self.far = (self.far + o.far)[: MAX_OUTLIERS + 1]
        for key, count in o.digests.items():
            self.digests[key] = self.digests.get(key, 0) + count
        if o.orth_rel > self.orth_rel:
            self.orth_rel, self.orth_err, self.orth_scale = o.orth_rel, o.orth_err, o.orth_scale
            self.orth_tol, self.orth_dev = o.orth_tol, o.orth_dev
        self.sparsity_ok = self.sparsity_ok and o.sparsity_ok
        self.sparsity_lo = max(self.sparsity_lo, o.sparsity_lo)
        self.sparsity_hi = min(self.sparsity_hi, o.sparsity_hi)
        self.units.merge(o.units)
        self.inputs.merge(o.inputs)
        self.sp_shape = self.sp_shape if self.sp_m else o.sp_shape
        self.ks_hist = _sum(self.ks_hist, o.ks_hist)
        self.id_hist = _sum(self.id_hist, o.id_hist)
        self.rows, self.cols = self.rows or o.rows, self.cols or o.cols
        self.raw_size = self.raw_size or o.raw_size
        self.any_nonzero = self.any_nonzero or o.any_nonzero
        if o.row_zero is not None:
            mine = self.row_zero
            self.row_zero = o.row_zero.copy() if mine is None else mine & o.row_zero
        self.beyond_count += o.beyond_count
        self.beyond_worst = _signed_max(self.beyond_worst, o.beyond_worst)
        self.beyond_values = sorted(set(self.beyond_values) | set(o.beyond_values))[:FAR_KEPT]
        self.calls.merge(o.calls)


#: The fields of :class:`ParamStats` that two streams add.
_ADDED = (
    "builds nonfloat nonfinite_entries nonfinite_builds float_total kept n s1 s2 "
    "zero_count far_count k_n k_m2 k_m4 c_count c_s c_s2 r_n r_s2 r_s4 mode_count "
    "duplicated sign_pos sign_tot zeros_bad zeros_inputs zeros_in_w zeros_total "
    "nz_n nz_s2 sp_r sp_z2 sp_entries sp_m scanned"
).split()
_PAIR_SUMS = "n ab a b a2b2 ab_apb a2pb2 apb a2 haar_s haar_sq haar_var".split()
#: The fields of :class:`ParamStats` that are count grids (:func:`_count`).
_GRIDS = ("ks_hist", "id_hist")


def _signed_max(a: float, b: float) -> float:
    """Whichever of ``a`` and ``b`` is farther from 0 (``a`` on a tie)."""
    return b if abs(b) > abs(a) else a


def _copy(o: ParamStats) -> ParamStats:
    import copy

    return copy.deepcopy(o)


def _sum(a: NDArray[np.int64] | None, b: NDArray[np.int64] | None) -> NDArray[np.int64] | None:
    """``a + b`` (either may be None), in ``a``'s own buffer when there is one."""
    if a is None:
        return None if b is None else b.copy()
    if b is not None:
        a += b
    return a


def _count(
    hist: NDArray[np.int64] | None,
    x: Array,
    bins: int,
    half: float,
    scale: float = 1.0,
    bounds: tuple[float, float] | None = None,
) -> NDArray[np.int64]:
    """Add ``scale x`` to ``bins`` equal bins over ``[-half, half]`` plus a lower and an
    upper tail (index 0 and ``bins + 1``): bin ``j`` (1-based) holds ``[e_{j-1}, e_j)``.
    ``bounds``: ``(min, max)`` of a superset of ``x`` (finite), when known: the bin position
    is monotone in the value, so when both bounds fall inside the grid no entry is clipped."""
    k = bins / (2.0 * half)
    c, off = scale * k, half * k + 1.0
    y = _SCRATCH.get("positions", int(np.size(x)))  # no copy of a strided x
    np.multiply(x, c, out=y.reshape(np.shape(x)), dtype=np.float64)
    y += off
    if bounds is None or not all(0.0 <= b * c + off <= bins + 1.0 for b in bounds):
        np.clip(y, 0.0, bins + 1.0, out=y)
    idx = _SCRATCH.index("bins", y.size)
    np.copyto(idx, y, casting="unsafe")  # truncated toward 0, as astype
    if hist is None and idx.size >= bins // 8:
        return np.bincount(idx, minlength=bins + 2).astype(np.int64, copy=False)
    out = np.zeros(bins + 2, dtype=np.int64) if hist is None else hist
    if idx.size < bins // 8:
        np.add.at(out, idx, 1)
    else:
        out += np.bincount(idx, minlength=bins + 2)
    return out


def _bin(v: float, bins: int, half: float, scale: float = 1.0) -> int:
    """The index :func:`_count` gives the finite value ``v`` (the same float64 steps)."""
    k = bins / (2.0 * half)
    y = min(max(v * (scale * k) + (half * k + 1.0), 0.0), bins + 1.0)
    return int(y)


#: Entries per block of :func:`_scan` (its float64 scratch stays in the cache).
MOMENT_BLOCK = 1 << 15


class _Scan(NamedTuple):
    """What :func:`_scan` reads from every entry of a 2-D array in one pass of float64
    blocks."""

    s1: float
    s2: float
    s4: float
    lo: float
    hi: float
    zeros: int
    mode: int  # entries equal to the mode value (0 without one)
    row_sums: Array  # float64, each row reduced alike
    col_sums: Array  # float64, each column accumulated alike, block after block
    row_sq: Array  # the same of the squares
    col_sq: Array


def _blocks(m: NDArray[Any]) -> Iterator[tuple[int, int, Array]]:
    """The 2-D ``m`` as float64 blocks of whole rows in the scratch (each in the cache while
    it is read): ``(start, end, block)`` of rows ``start .. end - 1``; the first block is
    :func:`_leading` ``(m)``, left in the scratch buffer ``"lead"`` (:func:`_lead`), the
    others of about :data:`MOMENT_BLOCK` entries."""
    rows, cols = m.shape
    first = int(_leading(m).shape[0])
    step = max(1, MOMENT_BLOCK // max(cols, 1))
    r = 0
    while r < rows:
        end = first if r == 0 else min(r + step, rows)
        c = m[r:end]
        b = _SCRATCH.get("lead" if r == 0 else "block", c.size).reshape(c.shape)
        np.copyto(b, c, casting="unsafe")
        yield r, end, b
        r = end


def _scan(m: NDArray[Any], mode: float | None) -> _Scan:
    """``sum w``, ``sum w^2``, ``sum w^4`` of the 2-D ``m`` in float64, its minimum, maximum,
    exact zeros, entries equal to ``mode`` and its row and column sums (of the values and of
    their squares), from whole-row float64 blocks in the cache (:func:`_blocks`: the array
    is read once). Non-finite entries make the sums non-finite. The sums of the values
    reduce every row (and every column) alike, so that equal rows have equal sums
    (:func:`_may_repeat`); the sums of squares (the norms, and ``sum w^2`` as their sum) are
    products with a vector of ones (BLAS: faster, in an order of its own)."""
    rows, cols = m.shape
    s1 = s4 = 0.0
    lo, hi = math.inf, -math.inf
    zeros = equal = 0
    row_sums, row_sq = np.empty(rows), np.empty(rows)
    col_sums, col_sq = np.zeros(cols), np.zeros(cols)
    q = _SCRATCH.get("square", _block_size(m))
    for r, end, b in _blocks(m):
        f = b.ravel()
        rs = np.sum(b, axis=1, out=row_sums[r:end])
        s1 += float(rs.sum())  # every entry once: the block's row sums added
        sq = q[: f.size]
        np.multiply(f, f, out=sq)
        s4 += float(np.dot(sq, sq))
        lo, hi = min(lo, float(f.min())), max(hi, float(f.max()))
        zeros += int(np.count_nonzero(f == 0))
        if mode is not None:
            equal += int(np.count_nonzero(f == mode))
        col_sums += b.sum(axis=0)
        sq2 = sq.reshape(b.shape)
        np.matmul(sq2, ones(cols), out=row_sq[r:end])  # the norms: BLAS, any order
        col_sq += ones(end - r) @ sq2
    s2 = float(row_sq.sum())
    return _Scan(s1, s2, s4, lo, hi, zeros, equal, row_sums, col_sums, row_sq, col_sq)


def _scanned_sd(scheme: Scheme | None, m: NDArray[Any]) -> float | None:
    """The rule's sd at the shape of the 2-D view ``m`` when one pass of sums reads its builds
    (:func:`_scan`, :func:`_norm_scan`, :func:`~._stream_batch.batch_scan`): a zero-mean
    i.i.d. scheme with a positive variance there; else None."""
    if scheme is None or not scheme.family.is_iid or scheme.mean():
        return None
    var = scheme.variance(int(m.shape[0]), int(m.shape[1]))
    return math.sqrt(var) if var > 0 else None


def _block_size(m: NDArray[Any]) -> int:
    """The most entries of one of :func:`_blocks` ``(m)``."""
    cols = int(m.shape[1])
    return max(int(_leading(m).shape[0]), max(1, MOMENT_BLOCK // max(cols, 1))) * cols


class _Norms(NamedTuple):
    """What :func:`_norm_scan` reads from every entry of a 2-D array."""

    s1: float
    lo: float
    hi: float
    row_sq: Array  # float64 sums of the squares, per row
    col_sq: Array  # ... per column


def _norm_scan(m: NDArray[Any]) -> _Norms:
    """``sum w`` of the 2-D ``m`` in float64, its minimum, maximum and its rows' and
    columns' sums of squares, from :func:`_blocks` (the leading rows left in the scratch
    as :func:`_scan` leaves them): what compares a build with the others
    (:meth:`ParamStats.add_total`), at a fraction of :func:`_scan`'s reductions. Non-finite
    entries make the sums non-finite."""
    rows, cols = m.shape
    s1 = 0.0
    lo, hi = math.inf, -math.inf
    row_sq, col_sq = np.empty(rows), np.zeros(cols)
    q = _SCRATCH.get("square", _block_size(m))
    for r, end, b in _blocks(m):
        f = b.ravel()
        s1 += float(np.dot(f, ones(f.size)))
        lo, hi = min(lo, float(f.min())), max(hi, float(f.max()))
        sq = q[: f.size].reshape(b.shape)
        np.multiply(b, b, out=sq)
        np.matmul(sq, ones(cols), out=row_sq[r:end])
        col_sq += ones(end - r) @ sq
    return _Norms(s1, lo, hi, row_sq, col_sq)


#: Entries per block of :func:`_range` (two reductions of a block while it is in the cache).
RANGE_BLOCK = 1 << 16


def _range(m: NDArray[Any]) -> tuple[float, float]:
    """``(min, max)`` of the non-empty ``m`` (NaN when an entry is), block by block of
    :data:`RANGE_BLOCK` entries of the values as built: the second reduction reads the cache,
    not memory."""
    flat = np.ravel(m)
    lo, hi = math.inf, -math.inf
    for i in range(0, flat.size, RANGE_BLOCK):
        c = flat[i : i + RANGE_BLOCK]
        a, b = float(c.min()), float(c.max())
        if a != a or b != b:  # NaN: the range is NaN, as a whole reduction's
            return math.nan, math.nan
        lo, hi = min(lo, a), max(hi, b)
    return lo, hi


def _lead(m: NDArray[Any]) -> Array:
    """The float64 copy of :func:`_leading` ``(m)`` that :func:`_scan` left in the scratch
    buffer."""
    lead = _leading(m)
    return _SCRATCH.get("lead", int(lead.size)).reshape(lead.shape)


def _leading(z: Array) -> Array:
    """The leading rows of a 2-D ``z`` holding at most :data:`SAMPLE_ENTRIES` entries (at
    least two rows): the bounded sample of the KS and independence tests."""
    if z.ndim != 2 or z.size <= SAMPLE_ENTRIES:
        return z
    return z[: max(2, SAMPLE_ENTRIES // max(z.shape[1], 1))]


def _may_repeat(m: NDArray[Any], sums: tuple[Array, Array] | None = None) -> bool:
    """Whether two rows or two columns of ``m`` might be equal: identical vectors have
    bitwise identical sums (the same reduction order for every row, and for every column,
    accumulated in float32 or wider so that distinct vectors rarely tie), so distinct row
    sums and distinct column sums rule a repeat out; otherwise the exact comparison
    decides (a tie of distinct vectors costs that comparison, never a verdict). ``sums``:
    the row and column sums when the caller has them (:func:`_scan`)."""
    rows, cols = m.shape
    if sums is None:
        acc = None if m.dtype.kind == "f" and m.dtype.itemsize >= 4 else np.float64
        sums = (m.sum(axis=1, dtype=acc), m.sum(axis=0, dtype=acc))
    if rows >= 2 and _ties(sums[0]):
        return True
    return cols >= 2 and _ties(sums[1])


def _rectangle(z: Array, sq: Array) -> tuple[float, float]:
    """:func:`~weight_init.properties.conformance._checks.spectrum.rectangle_sums` of one
    matrix (``R = (|G|_F^2 - sum_i r_i^2 - sum_j c_j^2 + sum z^4) / 4``, ``G`` the smaller
    Gram matrix, ``r`` and ``c`` the row and column sums of ``sq = z^2``) and ``sum z^2``."""
    gram = z @ z.T if z.shape[0] <= z.shape[1] else z.T @ z
    g = gram.ravel()
    rows, cols, q = sq @ ones(sq.shape[1]), ones(sq.shape[0]) @ sq, np.ravel(sq)
    f = float(np.dot(g, g)) - float(np.dot(rows, rows)) - float(np.dot(cols, cols))
    return (f + float(np.dot(q, q))) / 4.0, float(rows.sum())


def _rectangles(z: Array, sq: Array) -> tuple[list[float], list[float]]:
    """:func:`_rectangle` of each matrix of the ``(B, rows, cols)`` stacks ``z`` and ``sq``:
    the Gram matrices and the row and column sums of the whole stack at once (each matrix's
    as its own: the same products and sums), the dot products matrix by matrix."""
    zt = np.swapaxes(z, 1, 2)
    grams = z @ zt if z.shape[1] <= z.shape[2] else zt @ z
    rows, cols = sq @ ones(sq.shape[2]), ones(sq.shape[1]) @ sq
    rects, totals = [], []
    for k in range(z.shape[0]):
        g, r, c, q = grams[k].ravel(), rows[k], cols[k], np.ravel(sq[k])
        f = float(np.dot(g, g)) - float(np.dot(r, r)) - float(np.dot(c, c))
        rects.append((f + float(np.dot(q, q))) / 4.0)
        totals.append(float(r.sum()))
    return rects, totals


def _ties(v: Array) -> bool:
    """Whether two entries of ``v`` are equal (two NaNs count as equal, as in
    ``np.unique``)."""
    s = np.sort(v)
    return bool(np.any(s[1:] == s[:-1])) or (s.size >= 2 and bool(np.isnan(s[-2])))


_EPS: dict[np.dtype[Any], float] = {}


def _eps(dtype: np.dtype[Any]) -> float:
    """:func:`~weight_init.properties.conformance._checks.pool.machine_eps`, once per dtype."""
    e = _EPS.get(dtype)
    if e is None:
        e = _EPS[dtype] = machine_eps(dtype)
    return e


def _constant_sums(v: float, n: int) -> tuple[float, float]:
    """The sums of ``w^2`` and ``w^4`` over ``n`` entries equal to ``v``, as the general path
    adds them (the same array of squares, in the same order: bit for bit)."""
    w2 = np.full(n, v * v)
    return float(w2.sum()), float(np.dot(w2, w2))


def _digest(m: NDArray[Any]) -> bytes:
    """A 16-byte digest of one build's array: of the whole array up to
    :data:`DIGEST_ENTRIES` entries, else of a fixed stride sample of that many entries and
    the exclusive or of every entry's bits (module docstring): exact, so equal arrays have
    equal digests whatever read them; the sample is taken in memory order (a contiguous
    array, or its transpose, is not copied)."""
    h = hashlib.blake2b(digest_size=16)
    if m.size <= DIGEST_ENTRIES or m.dtype.itemsize not in (1, 2, 4, 8):
        h.update(np.ascontiguousarray(m).tobytes())
        return h.digest()
    flat = np.ravel(m, order="K")  # in memory order: a view of a contiguous array
    h.update(np.ascontiguousarray(flat[:: m.size // DIGEST_ENTRIES][:DIGEST_ENTRIES]).tobytes())
    bits = m.view(np.dtype(f"u{m.dtype.itemsize}"))
    h.update(np.asarray(np.bitwise_xor.reduce(bits, axis=None)).tobytes())
    return h.digest()


def grid_edges(bins: int, half: float) -> Array:
    """The ``bins + 1`` edges of :func:`_count`'s grid."""
    return np.linspace(-half, half, bins + 1)


def probe_target(
    index: int,
    block: tuple[int, int],
    scheme: Scheme | None,
    layout: str | None,
    value: NDArray[Any],
    drop_rows: tuple[int, ...] = (),
    track_rows: bool = False,
    outlier: tuple[float, float] | None = None,
) -> Target:
    """The :class:`Target` of a parameter whose probe-build value is ``value`` (the whole
    array; ``block`` selects its part): the identification grid's scale from the root mean
    square of every entry, the most repeated value from the bounded sample; ``drop_rows``,
    ``track_rows``, ``outlier`` as in :class:`Target`."""
    bare = Target(index, block, scheme, layout, None, None, drop_rows)
    view = bare.view(value)
    numeric = view.dtype.kind in "fiu"
    s2 = float(np.einsum("ij,ij->", view, view, dtype=np.float64)) if numeric else 0.0
    rms = math.sqrt(s2 / view.size) if view.size and math.isfinite(s2) else 0.0
    mode: float | None = None
    sample = np.ravel(_leading(view) if view.ndim == 2 else view)
    if sample.size and sample.dtype.kind in "fiu":
        sample = sample[np.isfinite(sample)]
        vals, counts = np.unique(sample, return_counts=True)
        if counts.size:
            k = int(np.argmax(counts))
            mode = float(vals[k]) if counts[k] >= 2 else None
    scale: float | None = rms if rms > 0 else 1.0
    if scheme is not None and scheme.family.is_random and not scheme.mean() and rms > 0:
        sd = math.sqrt(scheme.variance(int(view.shape[0]), int(view.shape[1])))
        if sd > 0 and 0.5 <= rms / sd <= 2.0:
            scale = None  # the KS grid, read in units of sd, serves the identification
    return Target(index, block, scheme, layout, scale, mode, drop_rows, track_rows, outlier)
