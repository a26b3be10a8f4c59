"""Named defects of a correct scheme, each with a size, for the power curves of the check.

An effect builds a defective initializer ``fn(fan_in, fan_out, rng) -> (fan_in, fan_out)``
from a registered scheme and a size ``s >= 0``; at ``s = 0`` it is the scheme itself (the
curve starts at the false-alarm rate). ``planned`` is the size at which the power plan of
:mod:`weight_init.properties.conformance._power` promises detection probability 0.99 at alpha 1e-4
(``None``: the plan names no size for this effect). With ``sd`` the rule's standard deviation
and ``z`` a standard draw of the scheme's family:

* ``std_off``: ``w = (1 + s) sd z`` (planned: the plan's 1% std error);
* ``mean_shift``: ``w = sd (z + s)`` (planned: 0.02 sd);
* ``uncorrected_truncation``: a normal truncated at 2 sd whose variance correction is a
  fraction ``s`` missing, ``w = sd t / 0.8796^(1 - s)`` (``s = 1``: TensorFlow 1.x; planned);
* ``other_family``: each entry from the normal instead of the declared truncated normal of the
  same variance with probability ``s`` (KS distance ``0.0167 s``; planned at ``s = 1``);
* ``fan_mode``: He's gain with the fan exponent moved towards fan_out,
  ``Var w = 2 / (fan_in^(1 - s) fan_out^s)`` (``s = 1``: mode='fan_out');
* ``missing_gain``: He's gain ``sqrt 2`` missing a fraction ``s``, ``Var w = 2^(1 - s) / fan_in``
  (planned where the std is 1% off, ``s = -2 log2 0.99``);
* ``dependence``: neighbouring units (columns) an AR(1) chain of correlation ``s`` at the
  rule's variance;
* ``clip``: the declared law clipped at its ``1 - s/2`` quantile, a fraction ``s`` of the mass
  on two atoms just inside the bound (``s = 0.01``: a uniform clipped at 0.99 of its bound;
  planned: the ``extremes`` and ``anderson-darling`` tests' 1%);
* ``cut_early``: a normal cut at ``2 (1 - s)`` sd instead of 2, its variance corrected
  (planned: the 5% error in the cut point of the same two tests).

Adding an effect is one class and one entry of :data:`EFFECTS`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from weight_init.draws import (
    TRUNCATED_NORMAL_STD,
    truncated_standard_normal,
    truncated_standard_normal_at,
)
from weight_init.properties.conformance import _power as plan
from weight_init.properties.conformance._checks.extremes import CLIP_MASS, CUT_ERROR
from weight_init.schemes import SCHEMES

Initializer = Callable[..., NDArray[np.float64]]


@dataclass(frozen=True)
class Effect(ABC):
    """A defect of ``scheme`` with a size: ``build(size)`` gives the defective initializer."""

    name: str
    scheme: str
    sizes: tuple[float, ...]
    planned: float | None
    label: str

    def build(self, size: float) -> Initializer:
        sch = SCHEMES[self.scheme]

        def fn(fan_in: int, fan_out: int, rng: np.random.Generator) -> NDArray[np.float64]:
            return self.draw(size, fan_in, fan_out, sch.std(fan_in, fan_out), rng)

        return fn

    @abstractmethod
    def draw(
        self, size: float, fan_in: int, fan_out: int, sd: float, rng: np.random.Generator
    ) -> NDArray[np.float64]:
        """A ``(fan_in, fan_out)`` draw of the defect at ``size`` (``sd``: the rule's std)."""


class StdOff(Effect):
    def draw(self, size: float, fi: int, fo: int, sd: float, rng: Any) -> NDArray[np.float64]:
        return SCHEMES[self.scheme].sample(fi, fo, rng) * (1.0 + size)


class MeanShift(Effect):
    def draw(self, size: float, fi: int, fo: int, sd: float, rng: Any) -> NDArray[np.float64]:
        return SCHEMES[self.scheme].sample(fi, fo, rng) + size * sd


class UncorrectedTruncation(Effect):
    def draw(self, size: float, fi: int, fo: int, sd: float, rng: Any) -> NDArray[np.float64]:
        t = truncated_standard_normal(rng, (fi, fo))
        return t * (sd / TRUNCATED_NORMAL_STD ** (1.0 - size))


@dataclass(frozen=True)
class OtherFamily(Effect):
    other: str = "glorot_normal"

    def draw(self, size: float, fi: int, fo: int, sd: float, rng: Any) -> NDArray[np.float64]:
        declared = SCHEMES[self.scheme].sample(fi, fo, rng)
        other = SCHEMES[self.other].sample(fi, fo, rng)
        return np.where(rng.random((fi, fo)) < size, other, declared)


class FanMode(Effect):
    def draw(self, size: float, fi: int, fo: int, sd: float, rng: Any) -> NDArray[np.float64]:
        return rng.standard_normal((fi, fo)) * math.sqrt(2.0 / (fi ** (1.0 - size) * fo**size))


class MissingGain(Effect):
    def draw(self, size: float, fi: int, fo: int, sd: float, rng: Any) -> NDArray[np.float64]:
        return SCHEMES[self.scheme].sample(fi, fo, rng) * 2.0 ** (-size / 2.0)


class Dependence(Effect):
    def draw(self, size: float, fi: int, fo: int, sd: float, rng: Any) -> NDArray[np.float64]:
        from scipy import signal

        e = rng.standard_normal((fi, fo))
        c = math.sqrt(1.0 - size * size)
        e[:, 0] /= c  # x_0 = e_0, x_j = s x_(j-1) + c e_j: stationary, unit variance
        x: NDArray[np.float64] = signal.lfilter([c], [1.0, -size], e, axis=1)
        return x * sd


class Clip(Effect):
    def draw(self, size: float, fi: int, fo: int, sd: float, rng: Any) -> NDArray[np.float64]:
        sch = SCHEMES[self.scheme]
        w = sch.sample(fi, fo, rng)
        if size <= 0:
            return w
        edge = float(sch.family.ppf(np.asarray([1.0 - size / 2.0]))[0]) * sd
        return np.clip(w, -edge, edge)


class CutEarly(Effect):
    def draw(self, size: float, fi: int, fo: int, sd: float, rng: Any) -> NDArray[np.float64]:
        from weight_init.families import TruncatedNormalAt

        law = TruncatedNormalAt(2.0 * (1.0 - size))
        t = truncated_standard_normal_at(rng, (fi, fo), law.cut)
        return t * (sd / law.std_of_cut)


_GAIN_1PCT = -2.0 * math.log2(1.0 - plan.STD_ERROR)

EFFECTS: dict[str, Effect] = {
    e.name: e
    for e in (
        StdOff(
            "std_off",
            "he_normal",
            (0.0, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03),
            plan.STD_ERROR,
            "std too wide by a fraction s (he_normal)",
        ),
        MeanShift(
            "mean_shift",
            "he_normal",
            (0.0, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05),
            plan.MEAN_SHIFT,
            "mean shifted by s sd (he_normal)",
        ),
        UncorrectedTruncation(
            "uncorrected_truncation",
            "he_truncated_normal",
            (0.0, 0.02, 0.04, 0.06, 0.08, 0.12, 1.0),
            1.0,
            "fraction s of the truncation's variance correction missing (he_truncated_normal)",
        ),
        OtherFamily(
            "other_family",
            "glorot_truncated_normal",
            (0.0, 0.25, 0.5, 0.75, 1.0),
            1.0,
            "fraction s of entries normal, declared truncated normal (glorot_truncated_normal)",
        ),
        FanMode(
            "fan_mode",
            "he_normal",
            (0.0, 0.005, 0.01, 0.02, 0.05, 1.0),
            None,
            "variance 2 / (fan_in^(1-s) fan_out^s), declared he_normal",
        ),
        MissingGain(
            "missing_gain",
            "he_normal",
            (0.0, 0.01, 0.02, round(_GAIN_1PCT, 4), 0.04, 0.06, 1.0),
            round(_GAIN_1PCT, 4),
            "He's gain sqrt(2) missing a fraction s (he_normal)",
        ),
        Dependence(
            "dependence",
            "he_normal",
            (0.0, 0.0025, 0.005, 0.01, 0.02, 0.05),
            None,
            "neighbouring units AR(1)-correlated s (he_normal)",
        ),
        Clip(
            "clip",
            "he_uniform",
            (0.0, 0.0025, 0.005, 0.0075, 0.01, 0.02),
            CLIP_MASS,
            "a fraction s of the mass clipped onto two atoms inside the bound (he_uniform)",
        ),
        CutEarly(
            "cut_early",
            "he_truncated_normal",
            (0.0, 0.01, 0.02, 0.03, 0.05, 0.08),
            CUT_ERROR,
            "cut at 2 (1 - s) sd instead of 2, variance corrected (he_truncated_normal)",
        ),
    )
}
