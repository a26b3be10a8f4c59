"""Statistical checks on the ``N`` pooled standardized entries ``z = w / sd_rule``; the runner
decides them together at family-wise level ``alpha`` (Holm).

* ``mean``: ``sum z / sqrt N ~ N(0, 1)`` (exact variance N for i.i.d. entries and also for
  Haar matrices, whose entries are uncorrelated with ``E q^2 = 1/n``, and
  ``Var(1' Q 1) = min(fans)`` for a ``max x min`` Haar ``Q``);
* ``variance`` (i.i.d. families): ``(mean z^2 - 1) / sqrt((m4 - 1)/N) ~ N(0, 1)``;
* ``fan rule`` (i.i.d. families): heterogeneity of the per-shape variance ratios,
  ``sum_k n_k (rho_k / rho - 1)^2 / (kappa - 1) ~ chi^2(K - 1)``, with the observed
  kurtosis ``kappa``, so it tests the dependence on the fans, not the level;
* ``sign symmetry`` (orthogonal): the count of positive diagonal entries is
  Binomial(k, 1/2) under Haar (exact binomial test);
* ``distribution``: Kolmogorov-Smirnov of the probability-integral transform of every
  entry under the scheme's exact law (:mod:`weight_init.families`; for orthogonal,
  per shape with ``n = max fan``) against U(0, 1);
* ``unit independence`` / ``input independence``: the sum of products of neighbouring
  entries along rows / columns over its standard deviation: self-normalized,
  ``S / sqrt(sum products^2)``, for i.i.d. families; the exact Haar variance
  ``n k (n-k)/(n+2)`` per matrix for orthogonal (:class:`IndependenceCheck`).

Effects each is powered against: :mod:`weight_init.properties.conformance._power`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from weight_init.families import Family, Orthogonal, Sparse, iid_families, ks_distance
from weight_init.properties.conformance import _power as pw
from weight_init.properties.conformance._checks.base import Check, CheckKind, CheckResult, Evidence
from weight_init.properties.conformance._checks.pool import Pool
from weight_init.properties.conformance._identify import (
    SchemeMatch,
    ks_statistic,
    kurtosis,
    match_scheme,
)
from weight_init.properties.conformance._tails import (
    binomial_two_sided_half,
    ks_sf,
    norm_sf,
    normal_two_sided,
    t_sf,
)
from weight_init.schemes import MODES, TRUNCATED_NORMAL_STD, variance_scaling


def two_sided(t: float) -> float:
    """``P(|Z| >= |t|)`` for a standard normal Z."""
    return normal_two_sided(t)


def ks_pvalue(d: float, n: int) -> float:
    """P-value of a one-sample KS distance ``d`` on ``n`` points (exact up to 20,000)."""
    return ks_sf(d, n)


@dataclass(frozen=True)
class MeanEvidence(Evidence):
    """The pooled mean of ``z``, and the p-value of the same mean under a cluster-robust
    variance (None with fewer than 3 matrices): with ``S_c`` the sum of matrix c's ``n_c``
    entries, ``t = sum S_c / sqrt(sum (S_c - n_c zbar)^2)`` against Student's t with
    ``C - 1`` degrees of freedom. It does not assume unit variance nor independent entries
    within a matrix (only independent calls), so a wrong variance or correlated rows do not
    move it; the diagnosis names a mean shift only when it also rejects."""

    mean_std: float
    robust_p: float | None = None


#: An entry this many rule standard deviations out is an outlier for the diagnosis
#: (``P(|z| > 10) = 1.5e-23`` for a normal; bounded families stop at 2.3).
OUTLIER_SD = 10.0
#: At most this many outliers are "a few".
MAX_OUTLIERS = 10


@dataclass(frozen=True)
class Outliers:
    """The ``count`` entries beyond ``OUTLIER_SD`` (at most :data:`MAX_OUTLIERS` are looked
    at), the largest ``|z|``, and ``mean z^2`` of the other entries."""

    count: int
    max_abs_z: float
    ratio_without: float


@dataclass(frozen=True)
class VarianceEvidence(Evidence):
    """``ratio = mean z^2`` with its standard error, how each fan mode fits, the ratio per
    shape ``(fan_in, fan_out, mean z^2)``, and a few extreme outliers (None when none)."""

    ratio: float
    se: float
    mode_fits: Mapping[str, SchemeMatch]
    shape_ratios: tuple[tuple[int, int, float], ...] = ()
    outliers: Outliers | None = None


@dataclass(frozen=True)
class DistributionEvidence(Evidence):
    """What kind of departure: ``zeros`` exact zeros and the ``largest_atom`` (the most
    repeated value's count) among ``n`` entries; the sample kurtosis ``mean w^4 / (mean
    w^2)^2`` per shape, pooled, beside the family's ``E z^4`` (i.i.d. families; nan else).

    ``sparsity``: when every input (row, ``in_out``) of every matrix at a shape holds the
    same number ``k`` of zeros and one interval ``(lo, hi]`` of ``s`` gives
    ``k = ceil(s fan_out)`` at every shape (torch's ``sparse_``), that interval; and
    ``nonzero_ratio``, ``mean z^2`` over the nonzero entries (a sparse scheme's in units of
    its nonzero part's std: 1 under the scheme)."""

    n: int
    zeros: int
    largest_atom: int
    kurtosis: float
    family_kurtosis: float
    sparsity: tuple[float, float] | None = None
    nonzero_ratio: float = math.nan


@dataclass(frozen=True)
class SignEvidence(Evidence):
    positive_fraction: float


@dataclass(frozen=True)
class CorrelationEvidence(Evidence):
    r: float


class _Statistical(Check):
    kind = CheckKind.STATISTICAL

    def applies(self, family: Family) -> bool:
        return family.is_random


class MeanCheck(_Statistical):
    name = "mean"
    explanation = "the entries' mean is not 0"

    def effects(self, family: Family, level: float, power: float) -> tuple[pw.Effect, ...]:
        n = pw.n_for_mean_shift(pw.MEAN_SHIFT, level, power)
        return (pw.Effect("mean shifted by 0.02 std", pw.MEAN_SHIFT, self, n),)

    def run(self, pool: Pool) -> CheckResult | None:
        z, n = pool.z, int(pool.z.size)
        if n < 2:
            return None
        mean = pool.z_mean
        t = float(z.sum() / math.sqrt(n))
        ev = MeanEvidence(mean, _cluster_robust_p(pool))
        return self.statistical(t, two_sided(t), n, f"mean z = {mean:.4g}", ev)


def _cluster_robust_p(pool: Pool) -> float | None:
    """Two-sided p-value of the mean with one cluster per matrix (see :class:`MeanEvidence`)."""
    sums = [b.z.sum(axis=(1, 2)) for b in pool.blocks]
    if sum(s.size for s in sums) < 3:
        return None
    s_c = np.concatenate(sums)
    n_c = np.concatenate([np.full(b.z.shape[0], b.fan_in * b.fan_out) for b in pool.blocks])
    zbar = float(s_c.sum() / n_c.sum())
    var = float(np.sum((s_c - n_c * zbar) ** 2))
    if var <= 0:
        return None
    t = float(s_c.sum()) / math.sqrt(var)
    return 2 * t_sf(abs(t), s_c.size - 1)


class VarianceCheck(_Statistical):
    name = "variance"
    explanation = "the entries' variance is not the rule's"

    def applies(self, family: Family) -> bool:
        return family.is_iid

    def effects(self, family: Family, level: float, power: float) -> tuple[pw.Effect, ...]:
        m4 = family.fourth_moment()
        n_std = max(
            pw.n_for_std_ratio(1.0 + pw.STD_ERROR, m4, level, power),
            pw.n_for_std_ratio(1.0 - pw.STD_ERROR, m4, level, power),
        )
        n_tn = pw.n_for_std_ratio(TRUNCATED_NORMAL_STD, m4, level, power)
        return (
            pw.Effect("std 1% off the rule", pw.STD_ERROR, self, n_std),
            pw.Effect(
                "truncated normal without variance correction", TRUNCATED_NORMAL_STD, self, n_tn
            ),
        )

    def run(self, pool: Pool) -> CheckResult | None:
        z, n = pool.z, int(pool.z.size)
        if n < 2:
            return None
        family = pool.scheme.family
        rho = float(np.mean(z * z))
        se = math.sqrt((family.fourth_moment() - 1.0) / n)
        t = (rho - 1.0) / se
        kappa = kurtosis(pool.moments)
        fits = {
            mode: match_scheme(pool.moments, variance_scaling(1.0, mode, family), kappa)
            for mode in MODES
        }
        detail = f"mean z^2 = {rho:.5g} (std {math.sqrt(rho):.5g}x the rule)"
        ratios = tuple(
            (m.fan_in, m.fan_out, m.m2 / pool.scheme.variance(m.fan_in, m.fan_out))
            for m in pool.moments
            if pool.scheme.variance(m.fan_in, m.fan_out) > 0
        )
        ev = VarianceEvidence(rho, se, fits, ratios, _outliers(pool.z_sorted, rho))
        return self.statistical(t, two_sided(t), n, detail, ev)


def _outliers(z_sorted: np.ndarray, rho: float) -> Outliers | None:
    """At most :data:`MAX_OUTLIERS` entries beyond :data:`OUTLIER_SD` times the std of the
    others (``sqrt`` of their ``mean z^2``) that account for at least half of the variance's
    departure from the rule (None otherwise): a few impossible values, not a wide law."""
    n = z_sorted.size
    lo = int(np.searchsorted(z_sorted, -OUTLIER_SD, side="left"))
    hi = int(np.searchsorted(z_sorted, OUTLIER_SD, side="right"))
    count = lo + n - hi
    if not 0 < count <= MAX_OUTLIERS or count >= n:
        return None
    far = np.concatenate((z_sorted[:lo], z_sorted[hi:]))
    without = (rho * n - float(np.sum(far * far))) / (n - far.size)
    far = far[np.abs(far) > OUTLIER_SD * math.sqrt(max(without, 1.0))]
    if not far.size:
        return None
    without = (rho * n - float(np.sum(far * far))) / (n - far.size)
    if abs(rho - without) < 0.5 * abs(rho - 1.0):
        return None
    return Outliers(int(far.size), float(np.max(np.abs(far))), without)


class FanRuleCheck(_Statistical):
    name = "fan rule"
    explanation = "the variance does not scale with the fans as the rule does"

    def applies(self, family: Family) -> bool:
        return family.is_iid

    def run(self, pool: Pool) -> CheckResult | None:
        moments = pool.moments
        if pool.z.size < 2 or len(moments) < 2:
            return None
        fit = match_scheme(moments, pool.scheme, kurtosis(moments))
        detail = f"chi2 {fit.chi2:.4g} on {fit.df} df over {len(moments)} shapes"
        return self.statistical(fit.chi2, fit.p_value, int(pool.z.size), detail)


class SignSymmetryCheck(_Statistical):
    name = "sign symmetry"
    explanation = "diagonal signs are not fair coins: the matrix is not Haar distributed"

    def applies(self, family: Family) -> bool:
        return isinstance(family, Orthogonal)

    def effects(self, family: Family, level: float, power: float) -> tuple[pw.Effect, ...]:
        n = pw.n_for_sign_bias(pw.SIGN_BIAS, level, power)
        return (pw.Effect("orthogonal without sign correction", pw.SIGN_BIAS, self, n, "diagonal"),)

    def run(self, pool: Pool) -> CheckResult | None:
        if pool.z.size < 2:
            return None
        diag = [np.diagonal(b.w, axis1=1, axis2=2) for b in pool.blocks]
        pos = sum(int(np.count_nonzero(dg > 0)) for dg in diag)
        tot = sum(int(dg.size) for dg in diag)
        if not tot:
            return None
        p = binomial_two_sided_half(pos, tot)
        detail = f"{pos} of {tot} diagonal entries > 0"
        return self.statistical(pos / tot, p, tot, detail, SignEvidence(pos / tot))


class DistributionCheck(_Statistical):
    name = "distribution"
    explanation = "the entries do not follow the scheme's distribution"

    def effects(self, family: Family, level: float, power: float) -> tuple[pw.Effect, ...]:
        if family.component is not None:  # the continuous part's std off (sparse)
            d = _ks_scale_distance(1.0 + COMPONENT_STD_ERROR)
            n = pw.n_for_ks(d, level, power)
            what = f"the nonzero entries' std {COMPONENT_STD_ERROR:.0%} off"
            return (pw.Effect(what, d, self, n, label="KS"),)
        others = [f for f in iid_families() if f != family]
        if not family.is_iid or not others:
            return ()
        d = min(ks_distance(family, f) for f in others)
        n = pw.n_for_ks(d, level, power)
        return (pw.Effect("another family at the same variance", d, self, n, label="KS"),)

    def run(self, pool: Pool) -> CheckResult | None:
        if pool.z.size < 2:
            return None
        family = pool.scheme.family
        if family.is_iid:  # a CDF is non-decreasing: F(sorted z) is the sorted PIT
            us = np.maximum.accumulate(np.asarray(family.cdf(pool.z_sorted), dtype=np.float64))
        else:  # a fan-dependent law (orthogonal, sparse): the family's PIT per shape
            parts = [family.pit(b.z, b.fan_in, b.fan_out) for b in pool.blocks]
            us = np.sort(np.concatenate(parts)) if parts else np.empty(0)
        if not us.size:
            return None
        u = us
        d = ks_statistic(us, lambda x: x)
        n = int(u.size)
        return self.statistical(d, ks_pvalue(d, n), n, f"KS D = {d:.4g}", _kind(pool, us))


#: Relative error of the continuous part's std the KS test of a family with an atom is
#: powered against (sparse: no variance test applies to a fan-dependent mixture).
COMPONENT_STD_ERROR = 0.05


def _ks_scale_distance(r: float) -> float:
    """``sup_x |Phi(x) - Phi(x / r)|``, attained at ``x = r sqrt(2 ln r / (r^2 - 1))``."""
    x = r * math.sqrt(2.0 * math.log(r) / (r * r - 1.0))
    return float(norm_sf(x / r) - norm_sf(x))  # Phi(x) - Phi(x / r)


def _kind(pool: Pool, us: np.ndarray) -> DistributionEvidence:
    """Atoms (runs of equal sorted PIT values strictly inside (0, 1): a CDF saturates at 0
    and 1 beyond the support or in far tails, which the bounds check judges) and tails."""
    z, family = pool.z, pool.scheme.family
    inner = us[(us > 0.0) & (us < 1.0)]
    starts = np.flatnonzero(np.concatenate(([True], inner[1:] != inner[:-1], [True])))
    largest = int(np.max(np.diff(starts))) if inner.size else 0
    kurt, m4 = math.nan, math.nan
    if family.is_iid:  # per shape, so a variance wrong by shape is not read as a tail
        kurt = kurtosis(pool.moments)
        m4 = family.fourth_moment()
    zeros = int(np.count_nonzero(z == 0))
    parts = []
    for b in pool.blocks:  # nonzero entries over the rule's std of the nonzero part
        nz = b.z[b.z != 0]
        if isinstance(family, Sparse):
            nz = nz * math.sqrt(1.0 - family.zero_fraction(b.fan_out))
        parts.append(nz)
    nz = np.concatenate(parts) if parts else np.empty(0)
    nonzero_ratio = float(np.mean(nz * nz)) if nz.size else math.nan
    sparsity = _sparsity(pool) if zeros else None
    return DistributionEvidence(int(us.size), zeros, largest, kurt, m4, sparsity, nonzero_ratio)


def _sparsity(pool: Pool) -> tuple[float, float] | None:
    """The interval of ``s`` with ``ceil(s fan_out)`` zeros in every input (see
    :class:`DistributionEvidence`), None when the zeros do not follow that pattern."""
    lo, hi = 0.0, 1.0
    for b in pool.blocks:
        counts = np.count_nonzero(b.w == 0, axis=2)
        k = int(counts.flat[0]) if counts.size else 0
        if not counts.size or np.any(counts != k) or k == 0:
            return None
        lo, hi = max(lo, (k - 1) / b.fan_out), min(hi, k / b.fan_out)
    return (lo, hi) if lo < hi else None


class IndependenceCheck(_Statistical):
    """Neighbouring entries along ``axis`` (1: within a row, across units; 0: across rows).

    ``S`` sums the products of neighbouring entries ``z_a z_b`` (pairs ``(i, j), (i, j+1)``
    for ``axis=1``, ``(i, j), (i+1, j)`` for ``axis=0``) over every matrix.

    * i.i.d. families: entries centred at the pooled mean; the products of a chain are
      uncorrelated (``E z_1 z_2^2 z_3 = 0``), so ``Var S = sum E prod^2`` and
      ``t = S / sqrt(sum prod^2) ~ N(0, 1)``.
    * Orthogonal (Haar): ``z = sqrt(n) Q`` with ``n = max(fans)``, ``k = min(fans)``, and the
      products are neither independent nor of the variance ``sum prod^2`` estimates. Along
      the short side each sum ``sum_a q_aj q_a,j+1`` is the inner product of two orthonormal
      columns (rows), exactly 0: that direction has no variance and is left to the exact
      orthogonality check. Along the long side (length n), summing over the other index
      gives ``S = n sum_a P_a,a+1`` with ``P = Q Q'`` (or ``Q'Q``) a Haar-random rank-k
      projection of R^n. With ``E u_al^2 u_bl^2 = 1/(n(n+2))`` and, for ``a != b, l != m``,
      ``E u_al u_bl u_am u_bm = -1/((n-1) n (n+2))`` (entries of a Haar matrix U),
      ``E P_ab^2 = k/(n(n+2)) - k(k-1)/((n-1) n (n+2)) = k(n-k)/(n(n-1)(n+2))``; and
      ``E P_ab P_cd = 0`` for ``{a,b} != {c,d}`` (``D Q`` has Q's law for every diagonal
      sign matrix D, which flips the product's sign). So ``E S = 0`` and
      ``Var S = n^2 (n-1) E P_ab^2 = n k (n-k) / (n+2)`` per matrix, exactly; matrices are
      independent, and ``t = S / sqrt(sum Var S) ~ N(0, 1)`` (uncentred: the mean is 0 by
      the law). Square shapes (``n = k``, ``P = I``) add nothing. The self-normalized form
      had about a third of this variance at the default design (measured in
      ``tests/test_conformance_haar.py``).
    """

    def __init__(self, axis: int) -> None:
        self.axis = axis
        self.name = "unit independence" if axis == 1 else "input independence"
        what = "units (columns)" if axis == 1 else "inputs (rows)"
        self.explanation = f"neighbouring {what} are correlated"

    def run(self, pool: Pool) -> CheckResult | None:
        n = int(pool.z.size)
        if n < 2:
            return None
        if isinstance(pool.scheme.family, Orthogonal):
            return self._run_haar(pool, n)
        axis, mean = self.axis, pool.z_mean
        s, v, sq = 0.0, 0.0, 0.0
        for b in pool.blocks:
            if b.z.shape[axis + 1] < 2:
                continue
            c = b.z - mean
            a, bb = self._pairs(c)
            prod = a * bb
            s += float(prod.sum())
            v += float((prod * prod).sum())
            sq += float((a * a).sum())
        if v <= 0:
            return None
        t = s / math.sqrt(v)
        r = s / sq if sq else math.nan
        detail = f"r = {s / sq:.4g}" if sq else ""
        return self.statistical(t, two_sided(t), n, detail, CorrelationEvidence(r))

    def _pairs(self, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The neighbouring entries of stacked ``(calls, fan_in, fan_out)`` matrices."""
        if self.axis == 1:
            return c[:, :, :-1], c[:, :, 1:]
        return c[:, :-1, :], c[:, 1:, :]

    def _run_haar(self, pool: Pool, n_entries: int) -> CheckResult | None:
        """The Haar form (see the class docstring): only blocks whose paired side is the
        long one (``fan_out > fan_in`` for units, ``fan_in > fan_out`` for inputs)."""
        s, var, sq = 0.0, 0.0, 0.0
        for b in pool.blocks:
            long_side = b.fan_out if self.axis == 1 else b.fan_in
            n, k = max(b.fan_in, b.fan_out), min(b.fan_in, b.fan_out)
            if long_side != n or n == k:
                continue
            a, bb = self._pairs(b.z)
            s += float((a * bb).sum())
            sq += float((a * a).sum())
            var += b.z.shape[0] * n * k * (n - k) / (n + 2.0)
        if var <= 0:
            return None
        t = s / math.sqrt(var)
        r = s / sq if sq else math.nan
        detail = f"r = {r:.4g} (Haar variance)"
        return self.statistical(t, two_sided(t), n_entries, detail, CorrelationEvidence(r))
