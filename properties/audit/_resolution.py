"""What a parameter's entries can detect: the power plan inverted at the sample it has.

The check's power plan (:mod:`weight_init.properties.conformance._power`) asks how many
entries a test needs to catch an effect of a given size with power ``1 - beta`` at the
per-test level ``a = alpha / (margin m)`` (``m`` the statistical tests of the Holm family).
An audit has the entries it has: ``N`` pooled entries of a parameter (or of its pooled group),
``P`` neighbour pairs. Its *resolution* is the smallest effect of each kind whose required
sample is at most what it has, found on the plan's own formulas before rounding up
(:func:`~weight_init.properties.conformance._power.smallest_effect`, Brent's method):

* std error ``e``: the smallest ``e`` with ``max(n_std(1 + e), n_std(1 - e)) <= N``
  (:func:`~weight_init.properties.conformance._power.n_for_std_ratio`, the variance test;
  i.i.d. families);
* mean shift ``d`` (in std): the smallest ``d`` with ``n_mean(d) <= N``
  (:func:`~weight_init.properties.conformance._power.n_for_mean_shift`);
* neighbour correlation ``rho``: the smallest ``rho`` with ``n_corr(rho) <= P``
  (:func:`~weight_init.properties.conformance._power.n_for_correlation`, the independence
  tests);
* for a sparse scheme, the std error of the nonzero part the KS test catches
  (:func:`~weight_init.properties.conformance._power.n_for_ks` at the distance
  ``sup |Phi(x) - Phi(x / (1 + e))|``); orthogonal schemes have their gain and shape
  checked exactly (std error 0: the Gram matrix within ``50 n eps``).

A target resolution ``R`` (``--resolution``) is reached when ``e <= R`` and
``d <= (MEAN_SHIFT / STD_ERROR) R`` (the plan's own ratio of the two effects: 2% mean
shift beside a 1% std error); :func:`entries_needed` is the sample that reaches it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from weight_init.families import Family, Orthogonal, Sparse
from weight_init.properties.audit._stream_calls import CallsResolution
from weight_init.properties.conformance import _power as pw
from weight_init.properties.conformance._checks.statistical import _ks_scale_distance

#: The default target: a std error of 10% (every named defect of the effects table at its
#: full size is larger: TensorFlow 1.x's uncorrected truncation is 12%), reached by a 16-entry
#: uniform bias alone in 80 builds (a normal one in 166) and by most weights in one.
DEFAULT_RESOLUTION = 0.10
#: Mean shift (in std) required at a std-error target of 1: the plan's ratio.
MEAN_PER_STD = pw.MEAN_SHIFT / pw.STD_ERROR


def _std_size(family: Family, a: float, power: float) -> Callable[[float], float] | None:
    """The entries a std error ``e`` needs, before rounding up (continuous in ``e``); None
    when the family's std is not tested by a sample size."""
    if family.is_iid:
        m4 = family.fourth_moment()

        def iid(e: float) -> float:
            return max(
                pw.std_ratio_size(1.0 + e, m4, a, power),
                pw.std_ratio_size(1.0 - e, m4, a, power),
            )

        return iid
    if isinstance(family, Sparse):
        return lambda e: pw.ks_size(_ks_scale_distance(1.0 + e), a, power)
    return None


def _smallest(size: Callable[[float], float], have: float, hi: float) -> float:
    """The smallest effect in ``(0, hi]`` whose sample ``size`` (before rounding up) is at
    most ``have`` (:func:`~weight_init.properties.conformance._power.smallest_effect`);
    ``inf`` when even ``hi`` needs more."""
    if have <= 0:
        return math.inf
    return pw.smallest_effect(lambda x: size(x) - have, hi)


@dataclass(frozen=True)
class Resolution:
    """What ``entries`` entries (``pairs`` neighbour pairs) detect with ``power`` at the
    family-wise ``alpha`` spent over ``n_tests`` tests: the smallest std error (relative),
    mean shift (in std) and neighbour correlation; ``inf`` when no size is detectable, nan
    when the effect does not apply (``correlation`` without pairs); ``calls``: what the tests
    between builds, of homogeneity, of the extremes and of the top direction detect
    (:func:`~weight_init.properties.audit._stream_calls.calls_resolution`)."""

    entries: int
    pairs: int
    n_tests: int
    alpha: float
    power: float
    std_error: float
    mean_shift: float
    correlation: float
    calls: CallsResolution | None = None

    def reaches(self, target: float) -> bool:
        """Whether the std error and the mean shift are within ``target`` (see module)."""
        return self.std_error <= target and self.mean_shift <= MEAN_PER_STD * target

    def describe(self) -> str:
        """``std error >= 4.8%, mean shift >= 0.096 std, neighbour correlation >= 0.041``."""
        parts = [f"std error >= {_pct(self.std_error)}", f"mean >= {_num(self.mean_shift)} std"]
        if math.isfinite(self.correlation):
            parts.append(f"neighbour correlation >= {_num(self.correlation)}")
        c = self.calls
        if c is not None:
            if not math.isnan(c.between_builds):
                parts.append(f"correlation between builds >= {_num(c.between_builds)}")
            for word, e in (("units", c.unit_halves), ("inputs", c.input_halves)):
                if not math.isnan(e):
                    parts.append(f"half the {word} at >= {_pct(e)} std error")
            if not math.isnan(c.clip_mass):
                parts.append(f"a clip of >= {_pct(c.clip_mass)} of the mass")
            if not math.isnan(c.spike):
                parts.append(f"a rank-one spike >= {_num(c.spike)}x the BBP threshold")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        def f(x: float) -> float | None:
            return x if math.isfinite(x) else None

        out = {
            "entries": self.entries,
            "pairs": self.pairs,
            "tests": self.n_tests,
            "std_error": f(self.std_error),
            "mean_shift": f(self.mean_shift),
            "correlation": f(self.correlation),
        }
        c = self.calls
        if c is not None:
            out["between_builds"] = f(c.between_builds)
            out["unit_halves"] = f(c.unit_halves)
            out["input_halves"] = f(c.input_halves)
            out["clip_mass"] = f(c.clip_mass)
            out["spike_over_bbp"] = f(c.spike)
        return out


def _pct(x: float) -> str:
    if x == 0:
        return "0 (exact)"
    return "any" if not math.isfinite(x) else f"{100.0 * x:.2g}%"


def _num(x: float) -> str:
    return "any" if not math.isfinite(x) else f"{x:.2g}"


def resolution(
    family: Family,
    entries: int,
    pairs: int,
    n_tests: int,
    alpha: float,
    power: float = pw.DEFAULT_POWER,
    margin: float = pw.DESIGN_MARGIN,
) -> Resolution:
    """The :class:`Resolution` of ``entries`` entries of ``family`` (module docstring): a
    function of its arguments alone, searched once per distinct set (parameters of one shape
    and rule share it)."""
    return _resolution(type(family), family, entries, pairs, n_tests, alpha, power, margin)


@functools.lru_cache(maxsize=1024)
def _resolution(
    kind: type,
    family: Family,
    entries: int,
    pairs: int,
    n_tests: int,
    alpha: float,
    power: float,
    margin: float,
) -> Resolution:
    """:func:`resolution` (``kind``: ``type(family)``, so that only families of one class
    share a search)."""
    a = alpha / margin / max(n_tests, 1)
    size = _std_size(family, a, power)
    if isinstance(family, Orthogonal):
        std = 0.0
    elif size is None:
        std = math.inf
    else:
        std = _smallest(size, entries, 0.999)
    mean = _smallest(lambda d: pw.mean_shift_size(d, a, power), entries, 100.0)
    corr = math.nan
    if pairs:
        corr = _smallest(lambda r: pw.correlation_size(r, a, power), pairs, 0.999)
    return Resolution(entries, pairs, n_tests, alpha, power, std, mean, corr)


def entries_needed(
    family: Family,
    target: float,
    n_tests: int,
    alpha: float,
    power: float = pw.DEFAULT_POWER,
    margin: float = pw.DESIGN_MARGIN,
) -> int:
    """Entries that reach the target resolution ``target`` (module docstring); 0 for a
    family checked exactly (constant, orthogonal's std)."""
    if not family.is_random:
        return 0
    a = alpha / margin / max(n_tests, 1)
    need = pw.n_for_mean_shift(MEAN_PER_STD * target, a, power)
    std = _std_size(family, a, power)
    if std is not None:
        need = max(need, math.ceil(std(target)))
    return int(need)
