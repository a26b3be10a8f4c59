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
  correction), duplicated units, non-finite entries, a transposed or wrong shape.

"Near" means within ``max(4 se, 2%)`` of the factor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from weight_init.properties.identify import Identification, SchemeMatch
from weight_init.schemes import SCHEMES, TRUNCATED_NORMAL_STD, Scheme

_FAMILY_WORDS = {
    "normal": "an (untruncated) normal",
    "uniform": "a uniform",
    "truncated_normal": "a truncated normal",
    "orthogonal": "an orthogonal matrix",
    "constant": "a constant",
}


@dataclass
class Evidence:
    """What a check measured, beyond pass/fail (filled by :mod:`.conformance`)."""

    scheme: Scheme
    convention: str
    failed: set[str] = field(default_factory=set)
    variance_ratio: float = math.nan
    variance_ratio_se: float = math.nan
    mean_std: float = math.nan
    mode_fits: dict[str, SchemeMatch] = field(default_factory=dict)
    identification: Identification | None = None
    transposed: bool = False
    bad_shape: str = ""
    bad_dtype: str = ""
    nonfinite_entries: int = 0
    nonfinite_calls: int = 0
    n_calls: int = 0
    duplicated: str = ""
    max_abs_z: float = math.nan
    orthogonal_scale: float = math.nan
    orthogonal_deviation: float = math.nan
    diagonal_positive: float = math.nan
    correlations: dict[str, float] = field(default_factory=dict)
    smallest_shape: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _near(value: float, target: float, se: float) -> bool:
    return abs(value - target) <= max(4.0 * se, 0.02 * target)


def _ratio_reason(ev: Evidence) -> str:
    rho, se = ev.variance_ratio, ev.variance_ratio_se
    fam = ev.identification.family if ev.identification else ev.scheme.family
    head = f"variance is {rho:.3g}x the rule (std {math.sqrt(rho):.4g}x)"
    if fam in ("truncated_normal", "normal") and _near(rho, TRUNCATED_NORMAL_STD**2, se):
        if fam == "truncated_normal" or ev.scheme.family == "truncated_normal":
            return f"{head}: looks like a truncated normal without variance correction"
    if fam == "uniform" and _near(rho, 1.0 / 3.0, se):
        return f"{head}: looks like a uniform bound without sqrt(3) (U(-std, std))"
    if _near(rho, 0.5, se):
        return f"{head}: looks like a missing gain sqrt(2) (He's factor 2)"
    if _near(rho, 2.0, se):
        return f"{head}: looks like an extra gain sqrt(2)"
    if _near(rho, 9.0 / 25.0, se):
        return f"{head}: looks like a missing tanh gain 5/3"
    if _near(rho, 0.25, se):
        return f"{head}: looks like a missing gain 2"
    pct = 100.0 * (math.sqrt(rho) - 1.0)
    side = "too wide" if pct > 0 else "too narrow"
    return f"{head}: the std is {abs(pct):.2g}% {side}"


def _mode_reason(ev: Evidence) -> str:
    declared = ev.scheme.rule.mode if ev.scheme.family != "orthogonal" else "max"
    fits = ev.mode_fits
    if not fits or declared not in fits:
        return ""
    best = min(fits, key=lambda k: fits[k].chi2)
    if best == declared or fits[best].chi2 * 4 > fits[declared].chi2:
        return ""
    c = fits[best].ratio
    rule = {"fan_in": "fan_in", "fan_out": "fan_out", "fan_avg": "(fan_in+fan_out)/2"}
    text = (
        f"wrong fan mode: the variance follows {c:.3g}/{rule.get(best, best)}, "
        f"the rule is {ev.scheme.rule.describe()}"
    )
    if {best, declared} == {"fan_in", "fan_out"}:
        text += " (fans read from the wrong axis, or a transposed layout)"
    return text


def _lookalike(ev: Evidence) -> str:
    ident = ev.identification
    if ident is None or ident.best is None:
        return ""
    best = ident.best
    if best.exact and best.name != ev.scheme.name:
        s = SCHEMES.get(best.name)
        what = f" ({s.description})" if s is not None and s.description else ""
        return f"behaves exactly like {best.name}{what}"
    return ""


def diagnose(ev: Evidence) -> str:
    """One line naming the defects behind the failed tests (empty when nothing failed)."""
    f = ev.failed
    reasons: list[str] = []
    if "shape" in f:
        if ev.transposed:
            other = "out_in" if ev.convention == "in_out" else "in_out"
            reasons.append(
                f"transposed layout: the arrays are laid out {other}, not {ev.convention} "
                f"(declare convention {other} if that is intended)"
            )
        else:
            reasons.append(f"wrong shape: {ev.bad_shape}")
    if "dtype" in f:
        reasons.append(f"not a floating-point array: {ev.bad_dtype}")
    if "finite" in f:
        reasons.append(
            f"non-finite entries: {ev.nonfinite_entries} NaN/inf in {ev.nonfinite_calls} "
            f"of {ev.n_calls} calls (occasional NaN)"
        )
    if "distinct units" in f:
        reasons.append(f"duplicated units: {ev.duplicated}; symmetry is not broken")
    if "constant value" in f:
        reasons.append(f"entries are not all {ev.scheme.value:g}")
    if "orthogonality" in f:
        g0 = math.sqrt(ev.scheme.rule.scale)
        s = ev.orthogonal_scale
        if ev.orthogonal_deviation < 1e-3 and s > 0:
            reasons.append(f"orthogonal with gain {math.sqrt(s):.4g} instead of {g0:.4g}")
        else:
            reasons.append(
                f"not orthogonal: the Gram matrix departs from gain^2 I by "
                f"{ev.orthogonal_deviation:.3g} (relative)"
            )
    if "sign symmetry" in f:
        reasons.append(
            f"orthogonal without sign correction: {ev.diagonal_positive:.1%} of diagonal "
            f"entries are positive (Haar: 50%); multiply Q's columns by sign(diag R)"
        )
    mode = _mode_reason(ev) if {"fan rule", "variance"} & f else ""
    if mode:
        reasons.append(mode)
    elif "variance" in f and math.isfinite(ev.variance_ratio):
        reasons.append(_ratio_reason(ev))
    ident = ev.identification
    if ident is not None and {"distribution", "bounds"} & f:
        fam = ident.family
        if fam not in ("unknown", ev.scheme.family) and fam in _FAMILY_WORDS:
            reasons.append(
                f"{_FAMILY_WORDS[fam]} drawn for a {ev.scheme.family.replace('_', ' ')} scheme"
            )
        elif "bounds" in f:
            reasons.append(f"entries beyond the family's bound (max |z| = {ev.max_abs_z:.4g})")
    if "mean" in f:
        reasons.append(f"mean shifted by {ev.mean_std:+.3g} std")
    for name in ("unit independence", "input independence"):
        if name in f and "distinct units" not in f:
            r = ev.correlations.get(name, math.nan)
            axis = "units (columns)" if name == "unit independence" else "inputs (rows)"
            reasons.append(f"neighbouring {axis} are correlated (r = {r:.3g})")
    if f and ({"variance", "fan rule", "distribution"} & f):
        look = _lookalike(ev)
        if look:
            reasons.append(look)
    if f and not reasons:
        reasons.append("failed: " + ", ".join(sorted(f)))
    if ev.smallest_shape:
        reasons.append(f"smallest shape showing it: {ev.smallest_shape}")
    return "; ".join(reasons)
