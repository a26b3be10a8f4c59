"""Turn a conformance check's failed tests into named defects.

A failed test says *that* an initializer departs from its scheme; the evidence
below says *how*, and :func:`diagnose` names the known defects:

* variance ratio ``rho = mean(z^2)`` (``z = w / sd_rule``) near a known factor:
  ``0.8796^2 = 0.774`` a truncated normal without variance correction, ``1/3`` a
  uniform bound without sqrt(3), ``1/2`` or ``2`` a missing or extra gain sqrt(2),
  ``(3/5)^2`` a missing tanh gain; else "std is r x the rule";
* the fan mode whose rule explains the per-shape variances best (fan_in, fan_out,
  fan_avg, fixed) when it is not the declared one (a wrong fan mode, or fans read
  from the wrong axis, i.e. a transposed layout);
* another registered scheme that fits exactly (``torch.nn.Linear``'s default
  declared as ``he_uniform``);
* the family whose standardized law is closest (a normal drawn for a uniform scheme);
* a mean shift, diagonal sign asymmetry of an orthogonal matrix (no sign(diag R)
  correction), duplicated units, non-finite entries, a transposed or wrong shape;
* a check added through the registry words its own failure
  (:meth:`~weight_init.properties.conformance._checks.base.Check.describe_failure`).

The evidence is each check's typed evidence (:class:`Findings` reads it by check object).

"Near" means within ``max(4 se, 2%)`` of the factor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeVar

from weight_init.families import NORMAL, TRUNCATED_NORMAL, UNIFORM
from weight_init.properties._results import fmt_percent
from weight_init.properties.conformance._checks import registry as C
from weight_init.properties.conformance._checks.base import Check, CheckResult, Evidence
from weight_init.properties.conformance._checks.exact import (
    BoundsEvidence,
    DeterminismEvidence,
    DtypeEvidence,
    DuplicateEvidence,
    FiniteEvidence,
    OrthogonalityEvidence,
    RepeatEvidence,
    ShapeEvidence,
)
from weight_init.properties.conformance._checks.extremes import ExtremesEvidence
from weight_init.properties.conformance._checks.statistical import (
    OUTLIER_SD,
    CorrelationEvidence,
    DistributionEvidence,
    MeanEvidence,
    SignEvidence,
    VarianceEvidence,
)
from weight_init.properties.conformance._identify import Identification
from weight_init.schemes import SCHEMES, TRUNCATED_NORMAL_STD, Scheme

E = TypeVar("E", bound=Evidence)


@dataclass(frozen=True)
class Findings:
    """A check's results, read by check object: which failed and what each measured."""

    scheme: Scheme
    layout: str
    results: tuple[CheckResult, ...]
    identification: Identification | None = None
    smallest_shape: str = ""

    def failed(self, *checks: Check) -> bool:
        """Whether any of ``checks`` failed."""
        return any(r.failed and r.check in checks for r in self.results)

    @property
    def any_failed(self) -> bool:
        return any(r.failed for r in self.results)

    def result(self, check: Check) -> CheckResult | None:
        """The result of ``check`` (None when it did not run)."""
        return next((r for r in self.results if r.check is check), None)

    def evidence(self, check: Check, kind: type[E]) -> E | None:
        """The evidence ``check`` returned, when it is of type ``kind``."""
        for r in self.results:
            if r.check is check and isinstance(r.evidence, kind):
                return r.evidence
        return None


def _near(value: float, target: float, se: float) -> bool:
    return abs(value - target) <= max(4.0 * se, 0.02 * target)


#: Kernel areas a 2-D slice of a conv kernel leaves out of fan_in (3x3, 5x5, 7x7; 3x3x3).
KERNEL_AREAS = (9, 25, 49, 27)


def _kernel_hint(rho: float, se: float, mode: str) -> str:
    """A receptive field left out of a fan, when the variance ratio is ``1/k``, ``k`` or
    ``1/k^2`` for a kernel area ``k``."""
    if mode == "fixed":
        return ""
    for k in KERNEL_AREAS:
        if _near(rho, 1.0 / k, se):
            return (
                f"receptive field (kernel area {k}) left out of fan_in? the variance is 1/{k} "
                f"of the rule's: the initializer counts the kernel, the declared fans do not"
            )
        if _near(rho, float(k), se):
            return (
                f"receptive field (kernel area {k}) left out of fan_in? the variance is {k}x "
                f"the rule's: the declared fans count the kernel, the initializer does not"
            )
        if _near(rho, 1.0 / k**2, se):
            return f"std divided by the kernel area {k}?"
    return ""


def _ratio_reason(f: Findings, ev: VarianceEvidence) -> str:
    rho, se = ev.ratio, ev.se
    declared = f.scheme.family
    fam = f.identification.family if f.identification else declared
    head = f"variance is {rho:.3g}x the rule (std {math.sqrt(rho):.4g}x)"
    out = ev.outliers
    if out is not None:
        r = out.ratio_without
        return (
            f"{out.count} {'entry' if out.count == 1 else 'entries'} beyond "
            f"{int(OUTLIER_SD)} sd (max |z| = {out.max_abs_z:.3g}) "
            f"{'makes' if out.count == 1 else 'make'} the variance {rho:.3g}x the rule; "
            f"without {'it' if out.count == 1 else 'them'} it is {r:.3f}x"
        )
    if fam in (TRUNCATED_NORMAL, NORMAL) and _near(rho, TRUNCATED_NORMAL_STD**2, se):
        if TRUNCATED_NORMAL in (fam, declared):
            return f"{head}: looks like a truncated normal without variance correction"
    if fam == UNIFORM and _near(rho, 1.0 / 3.0, se):
        return f"{head}: looks like a uniform bound without sqrt(3) (U(-std, std))"
    if _near(rho, 0.5, se):
        return f"{head}: looks like a missing gain sqrt(2) (He's factor 2)"
    if _near(rho, 2.0, se):
        return f"{head}: looks like an extra gain sqrt(2)"
    if _near(rho, 9.0 / 25.0, se):
        return f"{head}: looks like a missing tanh gain 5/3"
    if _near(rho, 0.25, se):
        return f"{head}: looks like a missing gain 2"
    kernel = _kernel_hint(rho, se, f.scheme.rule.mode)
    if kernel:
        return f"{head}: {kernel}"
    return f"{head}: the std is {_signed_pct(math.sqrt(rho))}"


def _signed_pct(std_ratio: float) -> str:
    """``1.07 -> "7.0% too wide"``, ``0.33 -> "67% too narrow"`` (never an exponent)."""
    side = "too wide" if std_ratio > 1.0 else "too narrow"
    return f"{fmt_percent(abs(std_ratio - 1.0))} {side}"


#: How a fan mode's rule reads (``c`` is the variance over ``variance_scaling(1, mode)``'s).
_FOLLOWS = {
    "fan_in": lambda c: f"follows {c:.3g}/fan_in",
    "fan_out": lambda c: f"follows {c:.3g}/fan_out",
    "fan_avg": lambda c: f"follows {2.0 * c:.3g}/(fan_in+fan_out)",
    "fan_geo_avg": lambda c: f"follows {c:.3g}/sqrt(fan_in*fan_out) (JAX's fan_geo_avg)",
    "fixed": lambda c: f"is a fixed {c:.3g}, whatever the fans",
}


def _mode_reason(f: Findings, ev: VarianceEvidence | None) -> str:
    if ev is None:
        return ""
    declared = f.scheme.rule.mode
    fits = ev.mode_fits
    if not fits or declared not in fits:
        return ""
    best = min(fits, key=lambda k: fits[k].chi2)
    if best == declared or fits[best].chi2 * 4 > fits[declared].chi2:
        return ""
    c = fits[best].ratio  # the variance is c times variance_scaling(1, best)'s
    follows = _FOLLOWS[best](c) if best in _FOLLOWS else f"follows {c:.3g} x the {best} rule"
    text = f"wrong fan mode: the variance {follows}, the rule is {f.scheme.rule.describe()}"
    if {best, declared} == {"fan_in", "fan_out"}:
        text += " (fans read from the wrong axis, or a transposed layout)"
    return text


def _fan_reason(f: Findings, ev: VarianceEvidence) -> str:
    """The fan-rule test failed and no fan mode explains it: how the ratio varies by shape
    (square shapes apart when they differ from the others, as in a piecewise rule)."""
    rs = ev.shape_ratios
    if len(rs) < 2:
        return ""
    lo = min(rs, key=lambda r: r[2])
    hi = max(rs, key=lambda r: r[2])
    text = (
        "the variance depends on the fans differently from the rule: the ratio to the rule "
        f"runs from {lo[2]:.3g}x at fn({lo[0]}, {lo[1]}) to {hi[2]:.3g}x at fn({hi[0]}, {hi[1]})"
    )
    square = [r[2] for r in rs if r[0] == r[1]]
    other = [r[2] for r in rs if r[0] != r[1]]
    if square and other and (max(square) < min(other) or min(square) > max(other)):
        text += (
            f"; on square shapes it is {sum(square) / len(square):.3g}x, on the others "
            f"{sum(other) / len(other):.3g}x (a rule that treats square matrices apart)"
        )
    return text


def _lookalike(f: Findings) -> str:
    ident = f.identification
    if ident is None or ident.best is None:
        return ""
    best = ident.best
    if best.exact and best.name != f.scheme.name:
        s = SCHEMES.get(best.name)
        what = f" ({s.description})" if s is not None and s.description else ""
        return f"behaves exactly like {best.name}{what}" + _xavier_hint(f.scheme.name, best.name)
    return ""


#: torch's name of each Glorot scheme (:data:`weight_init.schemes.SCHEME_ALIASES`).
_TORCH_GLOROT = {"glorot_normal": "xavier_normal_", "glorot_uniform": "xavier_uniform_"}


def _xavier_hint(declared: str, behaves_like: str) -> str:
    """Checked as the notes' ``xavier`` but drawing Glorot's rule: torch's ``xavier_*_`` is
    Glorot's, the notes' Xavier is LeCun's ``randn / sqrt(fan_in)``."""
    torch_name = _TORCH_GLOROT.get(behaves_like)
    if declared != "xavier" or torch_name is None:
        return ""
    return (
        f"; torch's {torch_name} is {behaves_like}; --scheme xavier is the notes' "
        "randn/sqrt(fan_in) (LeCun's rule)"
    )


def _tails(kind: DistributionEvidence) -> str:
    """Heavy or light tails when the kurtosis is 10% or more off the family's."""
    k, m4 = kind.kurtosis, kind.family_kurtosis
    if k > 1.1 * m4:
        return f"heavy tails: kurtosis {k:.3g}, the declared law's is {m4:.3g}"
    if k < m4 / 1.1:
        return f"light tails: kurtosis {k:.3g}, the declared law's is {m4:.3g}"
    return ""


def _zeros_reason(f: Findings, kind: DistributionEvidence) -> str:
    """A point mass at 0 (exact zeros), with torch's ``sparse_`` pattern when every input
    holds ``ceil(s fan_out)`` zeros, and the std of the nonzero entries."""
    text = f"point mass at 0: {fmt_percent(kind.zeros / kind.n)} of entries are exactly 0"
    if kind.sparsity is not None:
        lo, hi = kind.sparsity
        s = _simplest_in(lo, hi)
        text += (
            f", ceil(s * fan_out) in every input with s in ({lo:.3g}, {hi:.3g}]: torch's "
            f"sparse_ (declare sparse(sparsity={s:g}, std=...))"
        )
    if math.isfinite(kind.nonzero_ratio) and f.scheme.family.atom is None:
        text += f"; the nonzero entries' std is {math.sqrt(kind.nonzero_ratio):.3f}x the rule's"
    return text


def _simplest_in(lo: float, hi: float) -> float:
    """The number in ``(lo, hi]`` with the fewest decimals (``hi`` when none has < 6)."""
    for d in range(1, 6):
        q = 10.0**d
        v = math.ceil(lo * q + 1e-9) / q
        if v <= hi + 1e-12 and v > lo:
            return v
    return hi


def _structure(f: Findings) -> list[str]:
    """Reasons from the exact checks: layout, dtype, finiteness, duplicates, orthogonality."""
    reasons: list[str] = []
    shape = f.evidence(C.SHAPE, ShapeEvidence)
    if f.failed(C.SHAPE) and shape is not None:
        if shape.transposed:
            other = "out_in" if f.layout == "in_out" else "in_out"
            reasons.append(
                f"transposed layout: the arrays are laid out {other}, not {f.layout} "
                f"(declare layout {other} if that is intended)"
            )
        else:
            reasons.append(f"wrong shape: {shape.detail}")
    dtype = f.evidence(C.DTYPE, DtypeEvidence)
    if f.failed(C.DTYPE) and dtype is not None:
        reasons.append(f"not a floating-point array: {dtype.detail}")
    fin = f.evidence(C.FINITE, FiniteEvidence)
    if f.failed(C.FINITE) and fin is not None and fin.oversized.entries:
        big = fin.oversized
        reasons.append(
            f"{big.describe()}: {big.entries} entries in {big.calls} of {fin.n_calls} calls "
            "lie beyond 1e50 standard deviations of the rule, out of any law's range"
        )
    if f.failed(C.FINITE) and fin is not None and fin.entries:
        if fin.entries == fin.total:
            how = "every entry is NaN or infinite"
        elif fin.calls == fin.n_calls:
            how = "in every call"
        else:
            how = "occasional NaN"
        reasons.append(
            f"non-finite entries: {fin.entries} NaN/inf in {fin.calls} of {fin.n_calls} "
            f"calls ({how})"
        )
    dup = f.evidence(C.DISTINCT_UNITS, DuplicateEvidence)
    if f.failed(C.DISTINCT_UNITS) and dup is not None:
        reasons.append(
            f"duplicated units: {dup.detail} (identical units get identical updates: their "
            "symmetry is never broken)"
        )
    rep = f.evidence(C.FRESH_DRAWS, RepeatEvidence)
    if f.failed(C.FRESH_DRAWS) and rep is not None:
        if rep.always:
            reasons.append("returns the same array on every call: its randomness is ignored")
        elif rep.repeats:
            reasons.append(
                f"repeats arrays across calls ({rep.repeats} of {rep.compared} calls return "
                "an earlier call's array): its randomness is partly ignored"
            )
        if rep.prefix:
            how = "negated " if rep.mirrored == rep.prefix else ""
            reasons.append(
                f"reuses its random stream: {rep.prefix} calls begin with an earlier call's "
                f"{how}leading entries ({rep.where}; the seed is ignored there, or a stream "
                "restarts)"
            )
    det = f.evidence(C.DETERMINISM, DeterminismEvidence)
    if f.failed(C.DETERMINISM) and det is not None:
        if not det.same_seed_same:
            reasons.append(f"not reproducible: the same seed gave different arrays ({det.where})")
        elif not f.failed(C.FRESH_DRAWS):
            reasons.append(f"two seeds gave the same array: the seed is ignored ({det.where})")
    if f.failed(C.CONSTANT_VALUE):
        reasons.append(f"entries are not all {f.scheme.value:g}")
    orth = f.evidence(C.ORTHOGONALITY, OrthogonalityEvidence)
    if f.failed(C.ORTHOGONALITY) and orth is not None:
        g0 = math.sqrt(f.scheme.rule.scale)
        s = orth.scale
        if orth.deviation < 1e-3 and s > 0:
            reasons.append(f"orthogonal with gain {math.sqrt(s):.4g} instead of {g0:.4g}")
        else:
            reasons.append(
                f"not orthogonal: the Gram matrix departs from gain^2 I by "
                f"{orth.deviation:.3g} (relative)"
            )
    sign = f.evidence(C.SIGN_SYMMETRY, SignEvidence)
    if f.failed(C.SIGN_SYMMETRY) and sign is not None:
        reasons.append(
            f"orthogonal without sign correction: {fmt_percent(sign.positive_fraction, 3)} of "
            "diagonal "
            f"entries are positive (Haar: 50%); multiply Q's columns by sign(diag R)"
        )
    return reasons


def _law(f: Findings) -> list[str]:
    """Reasons from the statistics: the variance and its fan rule, the family, the mean,
    the dependence between neighbours."""
    reasons: list[str] = []
    var = f.evidence(C.VARIANCE, VarianceEvidence)
    kind = f.evidence(C.DISTRIBUTION, DistributionEvidence)
    atom = kind is not None and kind.largest_atom >= max(3, 0.01 * kind.n)
    zeros = (
        kind is not None
        and atom
        and kind.zeros >= max(3, 0.01 * kind.n)
        and f.scheme.family.atom is None
    )
    if kind is not None and zeros and f.failed(C.DISTRIBUTION, C.VARIANCE, C.MEAN):
        # the atom explains the variance: name it first, and the nonzero part's std
        reasons.append(_zeros_reason(f, kind))
    else:
        mode = _mode_reason(f, var) if f.failed(C.FAN_RULE, C.VARIANCE) else ""
        if var is not None and var.outliers is not None and f.failed(C.FAN_RULE, C.VARIANCE):
            mode = _ratio_reason(f, var)  # a few extreme entries: they move every statistic
        elif not mode and f.failed(C.FAN_RULE) and var is not None:
            mode = _fan_reason(f, var)
        if mode:
            reasons.append(mode)
        elif f.failed(C.VARIANCE) and var is not None and math.isfinite(var.ratio):
            reasons.append(_ratio_reason(f, var))
    ident = f.identification
    if kind is not None and atom and not zeros and f.failed(C.DISTRIBUTION):
        reasons.append(
            f"point mass: one value holds {fmt_percent(kind.largest_atom / kind.n)} of the entries"
        )
    elif zeros:
        pass
    elif (
        kind is not None
        and f.scheme.family.component is not None
        and f.failed(C.DISTRIBUTION)
        and math.isfinite(kind.nonzero_ratio)
    ):
        r = math.sqrt(kind.nonzero_ratio)
        reasons.append(
            f"the nonzero entries' std is {r:.4g}x the rule's (std {_signed_pct(r)})"
            if abs(r - 1.0) > 0.01
            else f"the nonzero entries do not follow {f.scheme.family.component.words}"
        )
    elif ident is not None and f.failed(C.DISTRIBUTION, C.BOUNDS):
        fam = ident.family
        if fam is not None and fam != f.scheme.family:
            reasons.append(
                f"{fam.words} drawn for a {f.scheme.family.name.replace('_', ' ')} scheme"
            )
        elif f.failed(C.BOUNDS):
            bounds = f.evidence(C.BOUNDS, BoundsEvidence)
            mx = bounds.max_abs_z if bounds is not None else math.nan
            reasons.append(f"entries beyond the family's bound (max |z| = {mx:.4g})")
        elif kind is not None and f.failed(C.DISTRIBUTION) and math.isfinite(kind.kurtosis):
            tails = _tails(kind)
            if tails:
                reasons.append(tails)
    repeated = f.failed(C.FRESH_DRAWS, C.DISTINCT_UNITS)
    mean = f.evidence(C.MEAN, MeanEvidence)
    if f.failed(C.MEAN) and mean is not None and not f.failed(C.FRESH_DRAWS):
        result = f.result(C.MEAN)
        threshold = 0.0 if result is None else result.test.threshold
        if mean.robust_p is None or mean.robust_p <= threshold:
            reasons.append(f"mean shifted by {mean.mean_std:+.3g} std")
    for check in (C.UNIT_INDEPENDENCE, C.INPUT_INDEPENDENCE):
        if f.failed(check) and not repeated:
            corr = f.evidence(check, CorrelationEvidence)
            r = corr.r if corr is not None else math.nan
            axis = "units (columns)" if check is C.UNIT_INDEPENDENCE else "inputs (rows)"
            reasons.append(f"neighbouring {axis} are correlated (r = {r:.3g})")
    if f.failed(C.VARIANCE, C.FAN_RULE, C.DISTRIBUTION):
        look = _lookalike(f)
        if look:
            reasons.append(look)
    return reasons


def _extremes_explained_by_scale(f: Findings, r: CheckResult) -> bool:
    """Whether a failed ``extremes`` is the variance's failure seen again: the largest
    ``|z|`` is read at the rule's scale, so a std ``s`` times the rule's moves it by ``s``.
    Explained when, at the observed scale (``max |z| / s``), the maximum falls on the side
    of the law's median maximum opposite to where it failed (short entries that reach it,
    far entries that do not)."""
    variance = f.evidence(C.VARIANCE, VarianceEvidence)
    ev = r.evidence
    if not f.failed(C.VARIANCE) or variance is None or not isinstance(ev, ExtremesEvidence):
        return False
    std_ratio = math.sqrt(variance.ratio) if variance.ratio > 0 else math.nan
    if not math.isfinite(std_ratio) or std_ratio <= 0:
        return False
    at_scale = ev.max_abs_z / std_ratio
    return at_scale >= ev.median_max if ev.short else at_scale <= ev.median_max


def diagnose(findings: Findings) -> str:
    """One line naming the defects behind the failed checks (empty when nothing failed)."""
    f = findings
    reasons = _structure(f) + _law(f)
    for r in f.results:
        if r.check is C.TOP_DIRECTION and f.failed(C.UNIT_HOMOGENEITY, C.INPUT_HOMOGENEITY):
            continue  # unequal unit (or input) variances make a direction stand out too
        if r.check is C.EXTREMES and _extremes_explained_by_scale(f, r):
            continue  # read at the rule's scale, the maximum moves with a wrong variance
        if r.check is C.ANDERSON_DARLING and f.failed(C.VARIANCE):
            continue  # |z| is read at the rule's scale: a wrong variance moves every v
        if r.failed and r.check not in C.BUILT_IN:
            text = r.check.describe_failure(r)
            if text:
                reasons.append(text)
    if f.any_failed and not reasons:
        reasons.append("failed: " + ", ".join(sorted(r.check.name for r in f.results if r.failed)))
    if f.smallest_shape:
        reasons.append(f"smallest shape showing it: {f.smallest_shape}")
    return "; ".join(reasons)
