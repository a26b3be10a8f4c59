"""The conformance checks' results computed from streamed statistics (:mod:`._stream`).

Each function here is the streamed twin of one check's ``run`` on the single-shape pool the
audit used to build (:mod:`weight_init.properties.conformance._checks`): the same statistic,
p-value, detail and typed evidence, from the sums :class:`~._stream.ParamStats` kept, so the
diagnosis (:func:`~weight_init.properties.conformance._diagnosis.diagnose`) reads them as
it reads a check's. The exceptions are stated where they are: the Kolmogorov-Smirnov
distance is read at the grid's edges (a lower bound, conservative p-value; the gap is at most
:func:`ks_grid_error`), the spectrum and the top direction use their bounded samples, the
checks between builds (the builds are the calls) centre each build at its own mean and the
extremes read the draws' resolution on a subsample (:mod:`._stream_calls`), the determinism
check does not apply (the builds are seeded globally), and a check added with
``register_check`` is not run by the audit.

A *pooled group* (parameters sharing a rule and an i.i.d. family) adds the same statistical
tests on the union of its members' standardized entries (:func:`pooled_results`), plus the
fan-rule test across members: ``X^2 = sum_k n_k (rho_k / rho - 1)^2 / (kappa - 1)`` on
``K - 1`` degrees of freedom, ``rho_k`` member ``k``'s ``mean z^2``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np

from weight_init.families import Family, Orthogonal, Sparse
from weight_init.properties._multiple_testing import holm_reject, holm_thresholds
from weight_init.properties.audit._stream import KS_BINS, KS_RANGE, ParamStats, grid_edges
from weight_init.properties.audit._stream_calls import calls_results
from weight_init.properties.conformance._checks import registry as C
from weight_init.properties.conformance._checks.base import CheckResult
from weight_init.properties.conformance._checks.exact import (
    BoundsEvidence,
    DtypeEvidence,
    DuplicateEvidence,
    FiniteEvidence,
    OrthogonalityEvidence,
    RepeatEvidence,
    ZerosEvidence,
)
from weight_init.properties.conformance._checks.spectrum import (
    SpectrumEvidence,
    rectangle_cumulants,
)
from weight_init.properties.conformance._checks.statistical import (
    MAX_OUTLIERS,
    OUTLIER_SD,
    CorrelationEvidence,
    DistributionEvidence,
    MeanEvidence,
    Outliers,
    SignEvidence,
    VarianceEvidence,
    ks_pvalue,
    two_sided,
)
from weight_init.properties.conformance._identify import ShapeMoments, kurtosis, match_scheme
from weight_init.properties.conformance._tails import (
    binomial_two_sided_half,
    pearson3_sf,
    t_sf,
)
from weight_init.schemes import MODES, Scheme, variance_scaling

_EDGES = grid_edges(KS_BINS, KS_RANGE)

#: Conformance checks the audit does not stream: ``anderson-darling`` only (its ``A^2`` sums
#: a weight of each entry's rank, so it needs the whole sorted sample, which the audit's
#: streamed sums and binned counts do not keep; a binned ``A^2`` would have another null
#: law). ``between calls``, ``unit homogeneity``, ``input homogeneity``, ``extremes`` and
#: ``top direction`` are computed from
#: :class:`~weight_init.properties.audit._stream_calls.CallStats` (the builds are the calls;
#: their module docstring states where they differ from the checks on pooled calls), and the
#: determinism check does not apply (the builds are seeded globally). A parameter's row does
#: not claim to have detected what the test not streamed detects.
NOT_STREAMED: frozenset[str] = frozenset({"anderson-darling"})


def _where(st: ParamStats) -> str:
    return f"fn({st.rows}, {st.cols})"


# -- exact checks ------------------------------------------------------------------------------
def exact_results(st: ParamStats, scheme: Scheme) -> list[CheckResult]:
    """The exact checks that apply to ``scheme``'s family, in the registry's order."""
    family = scheme.family
    out = [C.SHAPE.exact(0, 0, True)]
    if st.nonfloat:
        detail = f"{_where(st)} returned dtype {st.nonfloat_dtype}"
        out.append(C.DTYPE.exact(st.nonfloat, 0, False, detail, DtypeEvidence(detail)))
    else:
        out.append(C.DTYPE.exact(0, 0, True))
    detail = ""
    if st.nonfinite_entries:
        detail = (
            f"{st.nonfinite_entries} non-finite entries in {st.nonfinite_builds} calls, first "
            f"{_where(st)} in build {st.first_nonfinite}"
        )
    builds = st.builds + st.scanned
    ev = FiniteEvidence(st.nonfinite_entries, st.nonfinite_builds, builds, st.float_total)
    out.append(C.FINITE.exact(st.nonfinite_entries, 0, st.nonfinite_entries == 0, detail, ev))
    kept = st.kept > 0
    if not family.is_random:
        if kept:
            dev = st.max_dev_constant
            out.append(C.CONSTANT_VALUE.exact(dev, 0.0, dev == 0.0, f"max |w - value| = {dev:.3g}"))
        return out
    if kept and math.isfinite(family.support_bound):
        bound = family.support_bound
        mx = max(st.max_abs_z, st.scan_abs_z)  # every build's range, past the sample too
        lim = bound * (1.0 + 8.0 * st.eps)
        detail = f"max |w| / sd_rule = {mx:.6g}, bound {bound:.6g}"
        out.append(C.BOUNDS.exact(mx, lim, mx <= lim, detail, BoundsEvidence(mx)))
    if kept:
        count = st.duplicated
        detail = (
            f"{count} of {st.kept} matrices, e.g. {_where(st)} repeats {st.duplicated_what}"
            if count
            else ""
        )
        dup = DuplicateEvidence(detail) if count else None
        out.append(C.DISTINCT_UNITS.exact(count, 0, count == 0, detail, dup))
    if kept and isinstance(family, Orthogonal):
        ok = st.orth_rel <= 1.0
        scale = st.orth_scale if math.isfinite(st.orth_scale) else scheme.rule.scale
        where = f"{_where(st)}: max |G/g^2 - I| = {st.orth_err:.3g}" if st.orth_rel > 0 else ""
        ev_o = OrthogonalityEvidence(scale, st.orth_dev)
        out.append(C.ORTHOGONALITY.exact(st.orth_err, st.orth_tol, ok, where, ev_o))
    seen = sum(st.digests.values())  # the builds read whole and those read to compare them
    if seen >= 2:
        repeats = seen - len(st.digests)
        compared = seen - 1
        always = len(st.digests) == 1
        detail = f"{repeats} of {compared} calls repeat an earlier array, e.g. {_where(st)}"
        ev_r = RepeatEvidence(repeats, compared, always and repeats > 0)
        out.append(C.FRESH_DRAWS.exact(repeats, 0, repeats == 0, detail if repeats else "", ev_r))
    if kept and isinstance(family, Sparse):
        k = family.zeros(st.cols)
        bad = st.zeros_bad
        detail = (
            f"{bad} of {st.zeros_inputs} inputs, e.g. {_where(st)}: {st.zeros_found} zeros, not {k}"
        )
        total = st.zeros_total
        ev_z = ZerosEvidence(
            bad,
            st.zeros_inputs,
            _where(st),
            st.zeros_found,
            k,
            st.zeros_in_w / total if total else 0.0,
            k * st.zeros_inputs / total if total else 0.0,
        )
        out.append(C.ZEROS_PER_INPUT.exact(bad, 0, bad == 0, detail if bad else "", ev_z))
    return out


# -- statistical checks ------------------------------------------------------------------------
def ks_grid_error(family: Family, n: int | None = None) -> float:
    """The largest mass the family's law puts in one bin of the KS grid: the exact distance
    exceeds the grid's by at most this."""
    return float(np.max(np.diff(_cdf_at_edges(family, n, 0))))


def _cdf_at_edges(family: Family, n: int | None, cols: int) -> np.ndarray:
    """The CDF of ``family``'s standardized law (of ``n``; a sparse scheme's nonzero entries
    at ``cols`` columns) at the KS grid's edges: a function of the law alone, computed once
    per law and read-only (keyed by the family's class too: equal families of one class
    have one law)."""
    if not isinstance(family, Sparse):
        cols = 0  # the law does not depend on it
    return _law_at_edges(type(family), family, n, cols)


@functools.lru_cache(maxsize=64)
def _law_at_edges(kind: type, family: Family, n: int | None, cols: int) -> np.ndarray:
    """:func:`_cdf_at_edges` (``kind``: ``type(family)``)."""
    if isinstance(family, Sparse):
        from scipy import special

        p = family.zero_fraction(cols)
        out = np.asarray(special.ndtr(_EDGES * math.sqrt(1.0 - p)), dtype=np.float64)
    else:
        out = np.asarray(family.cdf(_EDGES, n), dtype=np.float64)
    out.setflags(write=False)
    return out


def _ks(hist: np.ndarray, cdf_at_edges: np.ndarray) -> tuple[float, int]:
    """``max_edges |F_n(e) - F(e)|`` and ``n`` from grid counts (tails at both ends)."""
    n = int(hist.sum())
    if not n:
        return math.nan, 0
    below = np.cumsum(hist)[:-1] / n  # F_n at each edge (entries < edge k: counts 0..k)
    return float(np.max(np.abs(below - cdf_at_edges))), n


def _moments(st: ParamStats) -> list[ShapeMoments]:
    if not st.k_n:
        return []
    return [ShapeMoments(st.rows, st.cols, st.k_n, st.k_m2 / st.k_n, st.k_m4 / st.k_n)]


def _outliers(st: ParamStats, n: int, rho: float) -> Outliers | None:
    """:func:`~weight_init.properties.conformance._checks.statistical._outliers` from the
    entries beyond :data:`OUTLIER_SD` the stream kept."""
    count = st.far_count
    if not 0 < count <= MAX_OUTLIERS or count >= n:
        return None
    far = np.asarray(st.far)
    without = (rho * n - float(np.sum(far * far))) / (n - far.size)
    far = far[np.abs(far) > OUTLIER_SD * math.sqrt(max(without, 1.0))]
    if not far.size:
        return None
    without = (rho * n - float(np.sum(far * far))) / (n - far.size)
    if abs(rho - without) < 0.5 * abs(rho - 1.0):
        return None
    return Outliers(int(far.size), float(np.max(np.abs(far))), without)


def _mean(n: int, s1: float, robust: float | None) -> CheckResult | None:
    if n < 2:
        return None
    mean = s1 / n
    t = s1 / math.sqrt(n)
    return C.MEAN.statistical(
        t, two_sided(t), n, f"mean z = {mean:.4g}", MeanEvidence(mean, robust)
    )


def _robust(count: int, s: float, s2: float, n_c: float, ns: float, n2: float) -> float | None:
    """The cluster-robust mean's p-value (one cluster per build and member)."""
    if count < 3 or n_c <= 0:
        return None
    zbar = s / n_c
    var = s2 - 2.0 * zbar * ns + zbar * zbar * n2
    if var <= 0:
        return None
    t = s / math.sqrt(var)
    return 2 * t_sf(abs(t), count - 1)


def _independence(check: C.IndependenceCheck, pairs_list, mu: float, n: int, haar: bool):  # type: ignore[no-untyped-def]
    if n < 2:
        return None
    if haar:
        s = sum(p.haar_s for p in pairs_list)
        var = sum(p.haar_var for p in pairs_list)
        sq = sum(p.haar_sq for p in pairs_list)
        if var <= 0:
            return None
        t = s / math.sqrt(var)
        r = s / sq if sq else math.nan
        return check.statistical(
            t, two_sided(t), n, f"r = {r:.4g} (Haar variance)", CorrelationEvidence(r)
        )
    s = v = sq = 0.0
    for p in pairs_list:
        if p.n:
            a, b, c = p.centred(mu)
            s, v, sq = s + a, v + b, sq + c
    if v <= 0:
        return None
    t = s / math.sqrt(v)
    r = s / sq if sq else math.nan
    detail = f"r = {s / sq:.4g}" if sq else ""
    return check.statistical(t, two_sided(t), n, detail, CorrelationEvidence(r))


def _spectrum(members: Sequence[tuple[ParamStats, Family]]) -> CheckResult | None:
    u_sum = skew_sum = num = den = 0.0
    m = 0
    for st, family in members:
        if not st.sp_m or not st.sp_entries:
            continue
        n1, n2 = st.sp_shape
        var, k3 = rectangle_cumulants(n1, n2)
        s2 = st.sp_z2 / st.sp_entries
        if s2 <= 0:
            continue
        r_sum = st.sp_r / (s2 * s2)
        u_sum += r_sum / math.sqrt(var)
        skew_sum += st.sp_m * k3 / var**1.5
        m += st.sp_m
        num += 4.0 * r_sum
        den += st.sp_m * n1 * n2 * (n1 + n2 - 2.0 + family.fourth_moment())
    if m == 0:
        return None
    u = u_sum / math.sqrt(m)
    skew = skew_sum / m**1.5
    excess = num / den
    detail = f"sum s^4 {excess:+.3g} relative to Marchenko-Pastur over {m} matrices"
    n = sum(st.rows * st.cols * st.kept for st, _ in members)
    return C.SPECTRUM.statistical(
        u, pearson3_sf(u, skew), n, detail, SpectrumEvidence(excess, skew)
    )


def statistical_results(st: ParamStats, scheme: Scheme) -> list[CheckResult]:
    """The statistical checks of one parameter, undecided (Holm decides them)."""
    family = scheme.family
    if not family.is_random or not st.kept:
        return []
    out: list[CheckResult | None] = []
    n = st.n
    robust = _robust(
        st.c_count,
        st.c_s,
        st.c_s2,
        st.c_count * st.rows * st.cols,
        st.c_s * st.rows * st.cols,
        st.c_count * float(st.rows * st.cols) ** 2,
    )
    out.append(_mean(n, st.s1, robust))
    moments = _moments(st)
    if family.is_iid and n >= 2:
        rho = st.s2 / n
        se = math.sqrt((family.fourth_moment() - 1.0) / n)
        t = (rho - 1.0) / se
        kappa = kurtosis(moments)
        fits = (
            {
                mode: match_scheme(moments, variance_scaling(1.0, mode, family), kappa)
                for mode in MODES
            }
            if moments
            else {}
        )
        detail = f"mean z^2 = {rho:.5g} (std {math.sqrt(rho):.5g}x the rule)"
        ratios = tuple(
            (m.fan_in, m.fan_out, m.m2 / scheme.variance(m.fan_in, m.fan_out))
            for m in moments
            if scheme.variance(m.fan_in, m.fan_out) > 0
        )
        ev = VarianceEvidence(rho, se, fits, ratios, _outliers(st, n, rho))
        out.append(C.VARIANCE.statistical(t, two_sided(t), n, detail, ev))
    if isinstance(family, Orthogonal) and st.sign_tot and n >= 2:
        pos, tot = st.sign_pos, st.sign_tot
        detail = f"{pos} of {tot} diagonal entries > 0"
        out.append(
            C.SIGN_SYMMETRY.statistical(
                pos / tot, binomial_two_sided_half(pos, tot), tot, detail, SignEvidence(pos / tot)
            )
        )
    out.append(_distribution(st, scheme))
    haar = isinstance(family, Orthogonal)
    mu = st.s1 / n if n else 0.0
    out.append(_independence(C.UNIT_INDEPENDENCE, [st.units], mu, n, haar))
    out.append(_independence(C.INPUT_INDEPENDENCE, [st.inputs], mu, n, haar))
    if family.is_iid:
        out.append(_spectrum([(st, family)]))
    out.extend(calls_results(st.calls, scheme, st.max_abs_z, n))
    return [r for r in out if r is not None]


def _distribution(st: ParamStats, scheme: Scheme) -> CheckResult | None:
    family = scheme.family
    if st.n < 2 or st.ks_hist is None:
        return None
    n_law = None if family.is_iid else family.law_parameter(st.rows, st.cols)
    if isinstance(family, Orthogonal) and max(st.rows, st.cols) < 2:
        return None
    d, n = _ks(st.ks_hist, _cdf_at_edges(family, n_law, st.cols))
    if not n:
        return None
    kurt, m4 = math.nan, math.nan
    moments = _moments(st)
    if family.is_iid:
        kurt = kurtosis(moments)
        m4 = family.fourth_moment()
    zeros = st.zero_count
    largest = max(1, st.mode_count, zeros)
    sparsity = None
    if zeros and st.sparsity_ok and isinstance(family, Sparse):
        lo, hi = st.sparsity_lo, st.sparsity_hi
        sparsity = (lo, hi) if lo < hi else None
    nz_ratio = st.nz_s2 / st.nz_n if st.nz_n else math.nan
    ev = DistributionEvidence(n, zeros, largest, kurt, m4, sparsity, nz_ratio)
    return C.DISTRIBUTION.statistical(d, ks_pvalue(d, n), n, f"KS D = {d:.4g}", ev)


def pooled_results(members: Sequence[tuple[ParamStats, Scheme]]) -> list[CheckResult]:
    """The statistical checks on a group's pooled standardized entries, and the fan-rule
    test across its members (module docstring); i.i.d. families only."""
    kept = [(st, sch) for st, sch in members if st.kept and st.n]
    if len(kept) < 2:
        return []
    family = kept[0][1].family
    n = sum(st.n for st, _ in kept)
    s1 = sum(st.s1 for st, _ in kept)
    s2 = sum(st.s2 for st, _ in kept)
    out: list[CheckResult | None] = []
    cells = [(st.c_count, float(st.rows * st.cols), st.c_s, st.c_s2) for st, _ in kept]
    robust = _robust(
        sum(c for c, _, _, _ in cells),
        sum(s for _, _, s, _ in cells),
        sum(q for _, _, _, q in cells),
        sum(c * k for c, k, _, _ in cells),
        sum(k * s for _, k, s, _ in cells),
        sum(c * k * k for c, k, _, _ in cells),
    )
    out.append(_mean(n, s1, robust))
    # z-space moments per member: m2 = mean z^2, m4 = mean z^4 of its kept builds
    zm = []
    for st, sch in kept:
        var = sch.variance(st.rows, st.cols)
        if st.k_n and var > 0:
            zm.append(
                ShapeMoments(
                    st.rows, st.cols, st.k_n, st.k_m2 / st.k_n / var, st.k_m4 / st.k_n / var**2
                )
            )
    rho = s2 / n
    se = math.sqrt((family.fourth_moment() - 1.0) / n)
    t = (rho - 1.0) / se
    ratios = tuple((m.fan_in, m.fan_out, m.m2) for m in zm)
    far = ParamStats()
    far.far_count = sum(st.far_count for st, _ in kept)
    far.far = [x for st, _ in kept for x in st.far][: MAX_OUTLIERS + 1]
    detail = f"mean z^2 = {rho:.5g} (std {math.sqrt(rho):.5g}x the rule)"
    ev = VarianceEvidence(rho, se, {}, ratios, _outliers(far, n, rho))
    out.append(C.VARIANCE.statistical(t, two_sided(t), n, detail, ev))
    if len(zm) >= 2:
        unit = variance_scaling(1.0, "fixed", family)
        fit = match_scheme(zm, unit, kurtosis(zm))
        detail = f"chi2 {fit.chi2:.4g} on {fit.df} df over {len(zm)} parameters"
        out.append(C.FAN_RULE.statistical(fit.chi2, fit.p_value, n, detail))
    hist = sum(st.ks_hist for st, _ in kept if st.ks_hist is not None)
    if isinstance(hist, np.ndarray):
        d, nk = _ks(hist, _cdf_at_edges(family, None, 0))
        if nk:
            kurt = kurtosis(zm) if zm else math.nan
            zeros = sum(st.zero_count for st, _ in kept)
            ev_d = DistributionEvidence(nk, zeros, max(1, zeros), kurt, family.fourth_moment())
            out.append(C.DISTRIBUTION.statistical(d, ks_pvalue(d, nk), nk, f"KS D = {d:.4g}", ev_d))
    mu = s1 / n
    out.append(_independence(C.UNIT_INDEPENDENCE, [st.units for st, _ in kept], mu, n, False))
    out.append(_independence(C.INPUT_INDEPENDENCE, [st.inputs for st, _ in kept], mu, n, False))
    out.append(_spectrum([(st, family) for st, _ in kept]))
    return [r for r in out if r is not None]


def decide(results: Sequence[CheckResult], level: float) -> list[CheckResult]:
    """Holm at ``level`` over ``results`` (one family): each passes unless rejected."""
    if not results:
        return []
    ps = [r.test.p_value or 0.0 for r in results]
    rejected = holm_reject(ps, level)
    thresholds = holm_thresholds(ps, level)
    return [
        r.decided(not rej, thr, f"{r.test.detail}; n = {r.n}")
        for r, rej, thr in zip(results, rejected, thresholds, strict=True)
    ]


def pairs_of(st: ParamStats) -> int:
    """Neighbour pairs the larger of the two independence tests reads."""
    return max(st.units.n, st.inputs.n)
