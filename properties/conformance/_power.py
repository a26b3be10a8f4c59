"""Sample sizes of a conformance check, computed up front from the effects it must catch.

**The promised rate and the level spent.** A check promises a family-wise false-alarm
rate of at most ``alpha`` (1e-4 by default). It runs its ``m`` statistical tests under
Holm's procedure at the *design level* ``level = alpha / margin`` (``margin`` =
:data:`DESIGN_MARGIN` = 10 by default). Holm with continuous, exactly calibrated p-values
rejects a correct implementation with probability close to its level, so a check run at
``alpha`` itself would have a false-alarm rate of about ``alpha``, which no finite
calibration can bound at or below ``alpha`` with 95% confidence (the upper bound lies
above the point estimate). At ``alpha / 10`` the promise holds with a margin that a
recorded run demonstrates: 0 false alarms in 30,000 checks, or 1 in 47,400, bounds the
rate by 1e-4 at 95% (one-sided Clopper-Pearson; ``weight-init calibrate``, see
docs/calibration.md). The power below is planned at the design level, so the margin
costs entries (about 15% more at 1e-4), not power. ``margin=1`` gives an exact-size check.

When one effect is present its test has the smallest p-value and is compared with
``level / m`` (Holm's first step), so every power calculation below uses the per-test
level ``a = level / m``, two-sided where the test is, and power ``1 - beta``. ``z_x`` is
the upper-x standard normal quantile.

Effects and tests (``z = w / sd_rule`` standardized entries, ``N`` of them pooled):

* **std off by a factor r** (1% too wide, r = 1.01, or too narrow, r = 0.99), *variance*
  test ``T = (mean z^2 - 1) / sqrt((m4 - 1)/N)``. Under the effect ``z = r z0``, so
  ``mean z^2 ~ N(r^2, r^4 (m4 - 1)/N)``, and the test rejects with probability
  ``1 - beta`` when ``sqrt(N) |r^2 - 1| >= (z_{a/2} + z_beta r^2) sqrt(m4 - 1)``:
  ``N >= ((z_{a/2} + z_beta r^2) sqrt(m4 - 1) / (r^2 - 1))^2`` (m4 = E z0^4 from
  :mod:`weight_init.families`; the larger of r = 1.01 and 0.99).
* **mean shifted by d std** (d = 0.02), *mean* test ``T = sum z / sqrt(N) ~ N(d sqrt N, 1)``:
  ``N >= ((z_{a/2} + z_beta) / d)^2``. (For Haar orthogonal matrices the entries are
  dependent, but ``Var(sum z) = N`` still holds exactly: see :mod:`.conformance`.)
* **uncorrected truncated normal** (TensorFlow 1.x: truncated at 2 sigma without dividing
  sigma by 0.8796), the variance test with ``r = 0.87962566``: the same formula.
* **wrong family at the right variance**, *Kolmogorov-Smirnov* test, effect
  ``D = sup |F - G|`` (normal vs truncated normal: 0.0167, the smallest pair). The
  level-``a`` critical value is at most ``sqrt(ln(2/a)/2) / sqrt(N)`` (Dvoretzky-Kiefer-
  Wolfowitz-Massart), and at the point where ``|F - G| = D`` the empirical CDF is within
  ``sqrt(ln(1/beta)/2) / sqrt(N)`` of G with probability ``1 - beta`` (Hoeffding), so
  ``N >= ((sqrt(ln(2/a)/2) + sqrt(ln(1/beta)/2)) / D)^2``.
* **orthogonal without the sign(diag R) correction**, *sign* test: under Haar the signs of
  the diagonal entries are independent fair coins (``Q`` and ``D Q`` have the same law for
  every sign matrix ``D``), so the count of positive ones is Binomial(k, 1/2); the effect
  to catch is a fraction ``1/2 +- e`` (e = 0.1; NumPy's LAPACK QR without the correction
  gives 0.15, e = 0.35): ``k >= ((z_{a/2}/2 + z_beta sqrt(p1 (1 - p1))) / e)^2``.

The plan takes the maximum over the effects that apply to the declared family; each
statistical check (:mod:`weight_init.properties.conformance._checks`) states its own effects, so the
plan asks the checks, and ``m`` is the number of statistical checks that apply.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from weight_init.errors import InvalidParameterError
from weight_init.properties.conformance._tails import norm_isf

if TYPE_CHECKING:
    from weight_init.properties.conformance._checks.base import Check

#: Effects a check must catch with the declared power.
STD_ERROR = 0.01
MEAN_SHIFT = 0.02
SIGN_BIAS = 0.1
DEFAULT_ALPHA = 1e-4
DEFAULT_POWER = 0.99
#: Holm runs at ``alpha / DESIGN_MARGIN``: the promised rate ``alpha`` with a margin a
#: calibration run can demonstrate (module docstring).
DESIGN_MARGIN = 10.0


def _z(tail: float) -> float:
    return norm_isf(tail)


def n_for_std_ratio(r: float, m4: float, a: float, power: float) -> int:
    """Entries for the variance test to catch ``std = r x rule`` (two-sided level ``a``)."""
    return math.ceil(std_ratio_size(r, m4, a, power))


def std_ratio_size(r: float, m4: float, a: float, power: float) -> float:
    """:func:`n_for_std_ratio` before rounding up (continuous in ``r``: what
    :func:`smallest_effect` searches)."""
    za, zb = _z(a / 2.0), _z(1.0 - power)
    return ((za + zb * r * r) * math.sqrt(m4 - 1.0) / (r * r - 1.0)) ** 2


def n_for_mean_shift(d: float, a: float, power: float) -> int:
    """Entries for the mean test to catch a mean of ``d`` std."""
    return math.ceil(mean_shift_size(d, a, power))


def mean_shift_size(d: float, a: float, power: float) -> float:
    """:func:`n_for_mean_shift` before rounding up."""
    return ((_z(a / 2.0) + _z(1.0 - power)) / d) ** 2


def n_for_ks(distance: float, a: float, power: float) -> int:
    """Entries for a KS test at level ``a`` to catch a law at sup-distance ``distance``."""
    return math.ceil(ks_size(distance, a, power))


def ks_size(distance: float, a: float, power: float) -> float:
    """:func:`n_for_ks` before rounding up."""
    crit = math.sqrt(math.log(2.0 / a) / 2.0)
    slack = math.sqrt(math.log(1.0 / (1.0 - power)) / 2.0)
    return ((crit + slack) / distance) ** 2


def n_for_correlation(rho: float, a: float, power: float) -> int:
    """Neighbour pairs for an independence test to catch a correlation ``rho`` between
    neighbouring entries (two-sided level ``a``): Gaussian entries, lag-1 correlation
    ``rho`` (AR(1)), ``t = S / sqrt(sum products^2)`` with ``E S = rho P``, the normalizer
    ``sqrt(P (1 + 2 rho^2))`` and ``Var S = P (1 + 5 rho^2)`` to order ``rho^2`` (products of
    overlapping pairs are correlated ``2 rho^2``), so
    ``P >= ((z_{a/2} sqrt(1 + 2 rho^2) + z_beta sqrt(1 + 5 rho^2)) / rho)^2``."""
    return math.ceil(correlation_size(rho, a, power))


def correlation_size(rho: float, a: float, power: float) -> float:
    """:func:`n_for_correlation` before rounding up."""
    za, zb = _z(a / 2.0), _z(1.0 - power)
    r2 = rho * rho
    return ((za * math.sqrt(1.0 + 2.0 * r2) + zb * math.sqrt(1.0 + 5.0 * r2)) / rho) ** 2


def n_for_sign_bias(e: float, a: float, power: float) -> int:
    """Diagonal entries for the sign test to catch a positive fraction of ``1/2 +- e``."""
    p1 = 0.5 + e
    return math.ceil(((_z(a / 2.0) * 0.5 + _z(1.0 - power) * math.sqrt(p1 * (1 - p1))) / e) ** 2)


def smallest_target(ok: Callable[[list[int]], bool], shapes: Sequence[tuple[int, int]]) -> int:
    """The smallest entry target ``n`` whose design ``calls_per_shape(shapes, n)`` makes
    ``ok(counts)`` true (``ok`` monotone in the calls): 1 when calling every shape once
    suffices, as it does for tests that compare calls or read the largest shapes."""
    from weight_init.properties.conformance._sampling import calls_per_shape

    def good(n: int) -> bool:
        return ok(calls_per_shape(shapes, n))

    if good(1):
        return 1
    lo, hi = 1, 2
    while not good(hi):
        lo, hi = hi, hi * 2
        if hi > 2**40:
            raise InvalidParameterError("no design of these shapes reaches the planned power")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if good(mid) else (mid, hi)
    return hi


def smallest_effect(
    gap: Callable[[float], float], hi: float, rtol: float = 2.0**-50, lo: float | None = None
) -> float:
    """The smallest effect ``x`` in ``(0, hi]`` with ``gap(x) <= 0``, for ``gap`` continuous
    and decreasing where it changes sign (the sample an effect needs, before rounding up, less
    the sample at hand; or the power planned less the power reached): what a sample detects.
    ``inf`` when ``gap(hi) > 0``. The root is bracketed by halving from ``hi`` and located
    by Brent's method (:func:`scipy.optimize.brentq`, to the relative ``rtol``) in a handful
    of evaluations; the answer is the root's upper end (the root plus twice the tolerance),
    checked to meet the condition (within about ``4 rtol`` of the root). Below ``hi 2^-60``
    (the condition holds at any size: an exact test) that bound is returned. ``lo``: a
    bracket the caller has found, ``gap(lo) > 0`` and ``gap(hi) <= 0`` (not evaluated
    again).

    Examples
    --------
    The smallest mean shift (in std) 10,000 entries detect at level 1e-6 with power 0.99:

    >>> from weight_init.properties.conformance._power import mean_shift_size
    >>> d = smallest_effect(lambda x: mean_shift_size(x, 1e-6, 0.99) - 10_000, 100.0)
    >>> round(d, 4)
    0.0722
    """
    from scipy.optimize import brentq

    top = hi
    if lo is None:
        if not gap(hi) <= 0:
            return math.inf
        lo = 0.5 * hi
        floor = hi * 2.0**-60
        while gap(lo) <= 0:
            if lo <= floor:
                return lo
            top, lo = lo, 0.5 * lo
    tol = rtol * lo  # relative to the root (within a factor 2 of ``lo``)
    x = float(brentq(gap, lo, top, xtol=tol, rtol=rtol))
    x = min(top, x + 2.0 * (tol + rtol * x))
    return x if gap(x) <= 0 else top


#: What a sample size counts: pooled entries, or diagonal entries (orthogonal sign test).
Unit = Literal["entries", "diagonal"]


@dataclass(frozen=True)
class Effect:
    """One effect the plan guarantees to catch: its size, its check and the sample it needs."""

    name: str
    size: float
    check: Check
    n_required: int
    unit: Unit = "entries"
    #: The test's name in the plan's text when it differs from the check's (``KS``).
    label: str = ""

    @property
    def test(self) -> str:
        """The test powered against this effect, as the plan's text names it."""
        return self.label or self.check.name


@dataclass(frozen=True)
class PowerPlan:
    """Entries (and diagonal entries, orthogonal only) a check draws, and why.

    ``alpha`` is the promised family-wise false-alarm rate, ``margin`` the factor it is
    spent with: Holm runs at :attr:`level` ``= alpha / margin``, each test's power is
    planned at ``per_test_level = level / n_tests``."""

    family: str
    alpha: float
    power: float
    n_tests: int
    per_test_level: float
    n_entries: int
    n_diagonal: int
    effects: tuple[Effect, ...] = field(default_factory=tuple)
    margin: float = DESIGN_MARGIN

    @property
    def level(self) -> float:
        """The family-wise level Holm runs at: ``alpha / margin``."""
        return self.alpha / self.margin

    def describe(self) -> str:
        lines = [
            f"{self.family}: {self.n_tests} tests, family-wise false-alarm rate <= "
            f"{self.alpha:g} (Holm at {self.level:.3g} = alpha / {self.margin:g}; per-test "
            f"level {self.per_test_level:.3g}), power {self.power:g}"
        ]
        for e in self.effects:
            lines.append(f"  {e.name} ({e.test}, effect {e.size:g}): n >= {e.n_required}")
        return "\n".join(lines)

    def required(self, check: Check) -> int:
        """The sample size this plan requires for ``check`` (0 when no effect is attached)."""
        needs = [e.n_required for e in self.effects if e.check is check]
        return max(needs) if needs else 0
