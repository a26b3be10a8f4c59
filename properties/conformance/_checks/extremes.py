"""The ``extremes`` check: the largest ``|z|`` lies where the law of the maximum puts it.

For ``N`` i.i.d. entries with ``G(x) = P(|z| <= x)`` the largest ``|z|``, ``M``, has
``P(M <= x) = G(x)^N`` exactly, so ``G(M)^N`` is uniform on (0, 1) under the scheme and

* ``p_short = G(M)^N`` is small when the entries stop short of where the law reaches: a
  clip (1% of the mass on two atoms just inside a uniform's bound: ``p = 0.99^N``), a
  truncated normal cut at 1.9 std instead of 2 (its variance corrected), a normal clipped
  at its 99% point;
* ``p_beyond = 1 - G(M)^N`` is small when an entry lies further out than ``N`` draws reach
  (heavy tails, a stray value; a bounded family's entry beyond its bound is also the exact
  ``bounds`` check's).

The check's p-value is ``min(1, 2 min(p_short, p_beyond))``, uniform under the scheme.

**At the resolution of the draws.** Stored entries are rounded (to the dtype, or to a
coarser grid a sampler may use), and a bounded law's largest value can fall one grid step
short of the bound without any defect. Each shape's block is therefore judged at its
resolution ``r`` (the larger of the spacing of its dtype's significand at ``M`` and the
smallest gap between its distinct standardized values, an upper bound on any grid step):
``p_short = prod_b G(min(M + r_b, bound))^{N_b}`` and ``p_beyond = 1 - prod_b G(M -
r_b)^{N_b}``, each at least the exact one (conservative by one grid step), whenever the
exact p-value is below :data:`RESOLVE_BELOW` (above it one grid step cannot bring it near a
Holm threshold, and the exact one is reported).

Power (:meth:`ExtremesCheck.effects`): when a fraction ``q`` of the law's mass lies beyond
every entry the defect can produce, ``p_short <= (1 - q)^N``, so ``N >= ln(a/2) / ln(1 -
q)`` entries catch it with certainty at level ``a``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from weight_init.families import Family, TruncatedNormal
from weight_init.properties.conformance import _power as pw
from weight_init.properties.conformance._checks.base import Check, CheckKind, CheckResult, Evidence
from weight_init.properties.conformance._checks.pool import Pool
from weight_init.properties.conformance._checks.resolution import effective_bits, grid_step

#: Fraction of the mass a clip moves onto atoms that the plan guarantees to catch.
CLIP_MASS = 0.01
#: Relative error of a truncated normal's cut point (variance corrected) to catch.
CUT_ERROR = 0.05


def n_for_missing_mass(q: float, a: float) -> int:
    """Entries for ``p_short <= (1 - q)^N`` to fall below ``a / 2``."""
    return math.ceil(math.log(a / 2.0) / math.log1p(-q))


def _outer_mass(family: Family, x: float) -> float:
    """``P(|z| > x)`` under ``family`` (symmetric laws)."""
    return float(2.0 * (1.0 - family.cdf(np.asarray([x]))[0]))


def _log_g(family: Family, x: float) -> float:
    """``log P(|z| <= x)``."""
    if x <= 0:
        return -math.inf
    q = min(1.0, _outer_mass(family, x))
    return math.log1p(-q) if q < 1.0 else -math.inf


@dataclass(frozen=True)
class ExtremesEvidence(Evidence):
    """The largest ``|z|``, where ``N`` draws of the law put it (the median of the maximum),
    the family's bound (inf when unbounded) and which side the p-value came from."""

    max_abs_z: float
    median_max: float
    bound: float
    short: bool
    n: int


class ExtremesCheck(Check):
    """See the module docstring."""

    name = "extremes"
    kind = CheckKind.STATISTICAL
    explanation = "the largest |entry| is not where the law puts the largest of N draws"

    def applies(self, family: Family) -> bool:
        return family.is_iid and family.is_random

    def effects(self, family: Family, level: float, power: float) -> tuple[pw.Effect, ...]:
        out = [
            pw.Effect(
                f"{CLIP_MASS:.0%} of the mass clipped onto atoms",
                CLIP_MASS,
                self,
                n_for_missing_mass(CLIP_MASS, level),
            )
        ]
        if isinstance(family, TruncatedNormal):
            from weight_init.families import TruncatedNormalAt

            early = TruncatedNormalAt(2.0 * (1.0 - CUT_ERROR))
            q = _outer_mass(family, early.support_bound)
            out.append(
                pw.Effect(
                    f"cut {CUT_ERROR:.0%} early, variance corrected",
                    CUT_ERROR,
                    self,
                    n_for_missing_mass(q, level),
                )
            )
        return tuple(out)

    def run(self, pool: Pool) -> CheckResult | None:
        family = pool.scheme.family
        n = int(pool.z.size)
        if n < 2 or not pool.blocks:
            return None
        m = float(max(abs(pool.z_sorted[0]), abs(pool.z_sorted[-1])))
        bound = family.support_bound
        p_short, p_beyond = _tails(family, pool, m, n, resolved=False)
        if min(p_short, p_beyond) < RESOLVE_BELOW / 2:  # one grid step may matter here
            p_short, p_beyond = _tails(family, pool, m, n, resolved=True)
        p = min(1.0, 2.0 * min(p_short, p_beyond))
        # the median of the maximum: G(x)^N = 1/2
        target = -math.expm1(math.log(0.5) / n)
        med = float(family.ppf(np.asarray([1.0 - target / 2.0]))[0])
        short = p_short <= p_beyond
        detail = f"max |z| = {m:.5g} over {n} entries (median of the maximum {med:.5g})"
        ev = ExtremesEvidence(m, med, bound, short, n)
        return self.statistical(m, p, n, detail, ev)

    def describe_failure(self, result: CheckResult) -> str:
        ev = result.evidence
        if not isinstance(ev, ExtremesEvidence):
            return ""
        if ev.short:
            reach = (
                f"the bound {ev.bound:.4g}" if math.isfinite(ev.bound) else f"{ev.median_max:.4g}"
            )
            return (
                f"the entries stop short: max |z| = {ev.max_abs_z:.4g} where {ev.n} draws of "
                f"the law reach {reach} (clipped, or cut early)"
            )
        return (
            f"an entry lies too far out: max |z| = {ev.max_abs_z:.4g} where {ev.n} draws of "
            f"the law reach about {ev.median_max:.4g} (heavy tails or a stray value)"
        )


#: Below this exact (two-sided) p-value the check recomputes it at the draws' resolution.
RESOLVE_BELOW = 0.01


def _tails(family: Family, pool: Pool, m: float, n: int, resolved: bool) -> tuple[float, float]:
    """``(p_short, p_beyond)`` for the largest ``|z|`` ``m`` of ``n`` entries, each block
    moved one grid step towards the null when ``resolved``."""
    bound = family.support_bound
    log_short, log_beyond = 0.0, 0.0
    for b in pool.blocks:
        r = _resolution(b.z, m, b.w) if resolved else 0.0
        log_short += b.z.size * _log_g(family, min(m + r, bound))
        log_beyond += b.z.size * _log_g(family, m - r)
    rest = n - sum(b.z.size for b in pool.blocks)  # finite entries of partly finite calls
    if rest:
        log_short += rest * _log_g(family, min(m, bound))
        log_beyond += rest * _log_g(family, m)
    return math.exp(log_short), -math.expm1(log_beyond)


def _resolution(z: np.ndarray, m: float, w: np.ndarray) -> float:
    """The grid step of a block's standardized entries near ``m`` (module docstring)."""
    bits = effective_bits(w)
    return max(m * 2.0 ** (1 - bits), grid_step(z))
