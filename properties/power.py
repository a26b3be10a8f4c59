"""Sample sizes of a conformance check, computed up front from the effects it must catch.

A check runs ``m`` statistical tests under Holm's procedure at family-wise level
``alpha``. When one effect is present its test has the smallest p-value and is
compared with ``alpha / m`` (Holm's first step), so every power calculation below
uses the per-test level ``a = alpha / m``, two-sided where the test is, and power
``1 - beta``. ``z_x`` is the upper-x standard normal quantile.

Effects and tests (``z = w / sd_rule`` standardized entries, ``N`` of them pooled):

* **std off by a factor r** (1% too wide, r = 1.01, or too narrow, r = 0.99), *variance*
  test ``T = (mean z^2 - 1) / sqrt((m4 - 1)/N)``. Under the effect ``z = r z0``, so
  ``mean z^2 ~ N(r^2, r^4 (m4 - 1)/N)``, and the test rejects with probability
  ``1 - beta`` when ``sqrt(N) |r^2 - 1| >= (z_{a/2} + z_beta r^2) sqrt(m4 - 1)``:
  ``N >= ((z_{a/2} + z_beta r^2) sqrt(m4 - 1) / (r^2 - 1))^2`` (m4 = E z0^4 from
  :mod:`weight_init.properties.distributions`; the larger of r = 1.01 and 0.99).
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

The plan takes the maximum over the effects that apply to the declared family.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from scipy import stats

from weight_init.properties import distributions
from weight_init.schemes import TRUNCATED_NORMAL_STD

#: Effects a check must catch with the declared power.
STD_ERROR = 0.01
MEAN_SHIFT = 0.02
SIGN_BIAS = 0.1
DEFAULT_ALPHA = 1e-4
DEFAULT_POWER = 0.99

#: Statistical tests per family (see :func:`weight_init.properties.conformance.check_initializer`).
TESTS_PER_FAMILY: dict[str, int] = {
    "normal": 6,
    "uniform": 6,
    "truncated_normal": 6,
    "orthogonal": 5,
    "constant": 0,
}


def _z(tail: float) -> float:
    return float(stats.norm.isf(tail))


def n_for_std_ratio(r: float, m4: float, a: float, power: float) -> int:
    """Entries for the variance test to catch ``std = r x rule`` (two-sided level ``a``)."""
    za, zb = _z(a / 2.0), _z(1.0 - power)
    return math.ceil(((za + zb * r * r) * math.sqrt(m4 - 1.0) / (r * r - 1.0)) ** 2)


def n_for_mean_shift(d: float, a: float, power: float) -> int:
    """Entries for the mean test to catch a mean of ``d`` std."""
    return math.ceil(((_z(a / 2.0) + _z(1.0 - power)) / d) ** 2)


def n_for_ks(distance: float, a: float, power: float) -> int:
    """Entries for a KS test at level ``a`` to catch a law at sup-distance ``distance``."""
    crit = math.sqrt(math.log(2.0 / a) / 2.0)
    slack = math.sqrt(math.log(1.0 / (1.0 - power)) / 2.0)
    return math.ceil(((crit + slack) / distance) ** 2)


def n_for_sign_bias(e: float, a: float, power: float) -> int:
    """Diagonal entries for the sign test to catch a positive fraction of ``1/2 +- e``."""
    p1 = 0.5 + e
    return math.ceil(((_z(a / 2.0) * 0.5 + _z(1.0 - power) * math.sqrt(p1 * (1 - p1))) / e) ** 2)


@dataclass(frozen=True)
class Effect:
    """One effect the plan guarantees to catch: its size and the sample size it needs."""

    name: str
    size: float
    test: str
    n_required: int


@dataclass(frozen=True)
class PowerPlan:
    """Entries (and diagonal entries, orthogonal only) a check draws, and why."""

    family: str
    alpha: float
    power: float
    n_tests: int
    per_test_level: float
    n_entries: int
    n_diagonal: int
    effects: tuple[Effect, ...] = field(default_factory=tuple)

    def describe(self) -> str:
        lines = [
            f"{self.family}: {self.n_tests} tests, family-wise alpha {self.alpha:g} "
            f"(per-test level {self.per_test_level:.3g}), power {self.power:g}"
        ]
        for e in self.effects:
            lines.append(f"  {e.name} ({e.test}, effect {e.size:g}): n >= {e.n_required}")
        return "\n".join(lines)


def plan(family: str, alpha: float = DEFAULT_ALPHA, power: float = DEFAULT_POWER) -> PowerPlan:
    """The sample sizes a check of ``family`` needs to catch every effect above."""
    m = TESTS_PER_FAMILY.get(family, 0)
    if m == 0:
        return PowerPlan(family, alpha, power, 0, alpha, 0, 0)
    a = alpha / m
    effects: list[Effect] = [
        Effect(
            "mean shifted by 0.02 std", MEAN_SHIFT, "mean", n_for_mean_shift(MEAN_SHIFT, a, power)
        )
    ]
    n_diag = 0
    if family in distributions.IID_FAMILIES:
        m4 = distributions.fourth_moment(family)
        n_std = max(
            n_for_std_ratio(1.0 + STD_ERROR, m4, a, power),
            n_for_std_ratio(1.0 - STD_ERROR, m4, a, power),
        )
        effects.append(Effect("std 1% off the rule", STD_ERROR, "variance", n_std))
        effects.append(
            Effect(
                "truncated normal without variance correction",
                TRUNCATED_NORMAL_STD,
                "variance",
                n_for_std_ratio(TRUNCATED_NORMAL_STD, m4, a, power),
            )
        )
        others = [f for f in distributions.IID_FAMILIES if f != family]
        d = min(distributions.ks_distance(family, f) for f in others)
        effects.append(
            Effect("another family at the same variance", d, "KS", n_for_ks(d, a, power))
        )
    else:  # orthogonal: the variance is exact (orthogonality), the law is Haar
        n_diag = n_for_sign_bias(SIGN_BIAS, a, power)
        effects.append(
            Effect("orthogonal without sign correction", SIGN_BIAS, "sign symmetry", n_diag)
        )
    n_entries = max(e.n_required for e in effects if e.test != "sign symmetry")
    return PowerPlan(family, alpha, power, m, a, n_entries, n_diag, tuple(effects))


def required_for(test: str, plan_: PowerPlan) -> int:
    """The sample size ``plan_`` requires for ``test`` (0 when no effect is attached)."""
    needs = [e.n_required for e in plan_.effects if e.test == test]
    return max(needs) if needs else 0
