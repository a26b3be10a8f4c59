"""The ``between calls`` check: calls with different seeds are independent draws.

Every other statistic looks inside one matrix; an initializer whose calls share a fixed
component, whose second call is minus (or a copy of) the first, or whose streams restart
so calls at different shapes share their leading entries passes them all. This check reads
the calls the design already makes, in call order, and compares each call with the next at
matched positions, under the null that calls with different seeds are independent:

* ``entries``: ``S = sum_k sum_i z_k[i] z_{k+1}[i]`` over consecutive calls ``k, k+1`` (any
  two shapes: ``i`` runs over the first ``min(size)`` entries of both arrays in the layout
  they were returned in, where a stream that restarts puts its shared prefix), ``z`` the
  standardized entries centred at the pooled mean. Under independence every product has mean
  0, products of different pairs are uncorrelated (a chain ``z_a z_b``, ``z_b z_c`` has
  ``E z_a z_b^2 z_c = 0``; within a pair the entries of one matrix enter only through
  ``E z_a[i] z_a[i'] E z_b[i] z_b[i'] = 0`` for ``i != i'``, also for Haar matrices, whose
  law is invariant under sign flips of rows), so ``t = S / sqrt(sum products^2) ~ N(0, 1)``
  (self-normalized, as the neighbour-independence tests).
* ``unit norms`` / ``input norms`` (consecutive calls at one shape): the squared norms of
  the units (columns) or inputs (rows) of each matrix, centred at the matrix's mean, and the
  same self-normalized sum of products of matched units. Centring makes the ``n`` centred
  norms of one matrix exchangeable with covariance ``c (I - J/n)``, so ``Var S = (n-1) c^2``
  per pair while ``E sum products^2 = (n-1)^2 c^2 / n``: the variance estimate is
  multiplied by ``n / (n - 1)``. Shapes whose norms are constant (the columns of a tall
  orthogonal matrix) add nothing.

The three statistics are uncorrelated under the null (every cross moment has a lone
odd factor), and jointly normal in the limit, so the check's p-value is Sidak's
``1 - (1 - min p)^k`` over the ``k`` that ran: uniform under the null.

Power (:meth:`BetweenCallsCheck.effects`): a correlation ``rho`` between calls moves
``t`` by ``rho sqrt(P)`` for ``P`` products, so ``P >= ((z_{a/2k} + z_beta) / rho)^2``;
a call that mirrors or repeats the previous one adds ``-+n`` at unit variance per entry,
far beyond that. A repeated or mirrored call anywhere in the design (not only the next one)
is the exact ``fresh draws`` check's.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from weight_init.families import Family
from weight_init.properties.conformance import _power as pw
from weight_init.properties.conformance._checks.base import Check, CheckKind, CheckResult, Evidence
from weight_init.properties.conformance._checks.pool import Array, Pool
from weight_init.properties.conformance._sampling import DEFAULT_SHAPES
from weight_init.properties.conformance._tails import norm_isf, normal_two_sided

#: The correlation between calls the plan guarantees to catch.
CALL_CORRELATION = 0.1


@dataclass(frozen=True)
class BetweenCallsEvidence(Evidence):
    """Per statistic (``entries``, ``unit norms``, ``input norms``): the correlation between
    consecutive calls at matched positions and its ``t``; ``pairs`` of calls compared,
    ``same_shape`` of them at one shape; ``unit``: what a call is (a model audit's calls are
    its ``builds``)."""

    correlations: tuple[tuple[str, float, float], ...]
    pairs: int
    same_shape: int
    unit: str = "calls"


def _raw_order(z: Array, layout: str) -> Array:
    """A block's standardized ``(calls, fan_in, fan_out)`` entries in the layout returned,
    each call flattened."""
    zz = z if layout == "in_out" else np.swapaxes(z, 1, 2)
    return zz.reshape(zz.shape[0], -1)


def products_needed(rho: float, a: float, power: float, k: int = 3) -> int:
    """Products for the entries statistic to catch a correlation ``rho`` (two-sided level
    ``a / k``, Sidak over ``k`` statistics)."""
    return math.ceil(products_size(rho, a, power, k))


def products_size(rho: float, a: float, power: float, k: int = 3) -> float:
    """:func:`products_needed` before rounding up."""
    return ((norm_isf(a / (2.0 * k)) + norm_isf(1.0 - power)) / rho) ** 2


def design_products(shapes: Sequence[tuple[int, int]], counts: Sequence[int]) -> int:
    """Products of consecutive calls of a design calling ``shapes`` ``counts`` times, in order."""
    sizes = [fi * fo for fi, fo in shapes]
    within = sum((c - 1) * n for c, n in zip(counts, sizes, strict=True))
    across = sum(min(a, b) for a, b in itertools.pairwise(sizes))
    return within + across


class BetweenCallsCheck(Check):
    """See the module docstring."""

    name = "between calls"
    kind = CheckKind.STATISTICAL
    explanation = (
        "calls with different seeds are not independent: entries or unit norms at matched "
        "positions agree (or mirror each other) from call to call"
    )

    def applies(self, family: Family) -> bool:
        return family.is_random

    def effects(self, family: Family, level: float, power: float) -> tuple[pw.Effect, ...]:
        """The entry target of the default design (:data:`DEFAULT_SHAPES`) whose consecutive
        calls hold the products a correlation of :data:`CALL_CORRELATION` needs (1: calling
        each shape once does, consecutive calls at different shapes comparing their common
        prefix)."""
        need = products_needed(CALL_CORRELATION, level, power)
        n = pw.smallest_target(lambda c: design_products(DEFAULT_SHAPES, c) >= need, DEFAULT_SHAPES)
        what = f"calls correlated {CALL_CORRELATION:g} (a shared component)"
        return (pw.Effect(what, CALL_CORRELATION, self, n),)

    def run(self, pool: Pool) -> CheckResult | None:
        if not pool.kept or pool.z.size < 2:
            return None
        mean = pool.z_mean
        flat = [_raw_order(b.z - mean, pool.layout) for b in pool.blocks]
        # pool.kept lists the blocks' draws block by block, in each block's order
        slots = [(bi, k) for bi, b in enumerate(pool.blocks) for k in range(b.z.shape[0])]
        where = {id(d): slot for d, slot in zip(pool.kept, slots, strict=True)}
        seq = [where[id(d)] for d in pool.draws if id(d) in where]
        s_e, v_e, sq_e, pairs, same = 0.0, 0.0, 0.0, 0, 0
        for (ba, ka), (bb, kb) in itertools.pairwise(seq):
            za, zb = flat[ba][ka], flat[bb][kb]
            m = min(za.size, zb.size)
            prod = za[:m] * zb[:m]
            s_e += float(prod.sum())
            v_e += float(prod @ prod)
            sq_e += 0.5 * float(za[:m] @ za[:m] + zb[:m] @ zb[:m])
            pairs += 1
            same += int(ba == bb)
        stats: list[tuple[str, float, float]] = []
        if v_e > 0:
            stats.append(("entries", s_e / math.sqrt(v_e), s_e / sq_e if sq_e else math.nan))
        for axis, label in ((1, "unit norms"), (2, "input norms")):
            t_r = _norm_statistic(pool, axis, mean)
            if t_r is not None:
                stats.append((label, *t_r))
        if not stats:
            return None
        k = len(stats)
        p_min = min(normal_two_sided(t) for _, t, _ in stats)
        p = -math.expm1(k * math.log1p(-p_min)) if p_min < 1.0 else 1.0
        worst = min(stats, key=lambda s: normal_two_sided(s[1]))
        detail = (
            f"{worst[0]}: r = {worst[2]:.3g} between consecutive calls (t = {worst[1]:.3g}), "
            f"{pairs} pairs ({same} at one shape); Sidak over {k}"
        )
        ev = BetweenCallsEvidence(tuple((n, r, t) for n, t, r in stats), pairs, same)
        return self.statistical(worst[1], p, int(pool.z.size), detail, ev)

    def describe_failure(self, result: CheckResult) -> str:
        ev = result.evidence
        if not isinstance(ev, BetweenCallsEvidence) or not ev.correlations:
            return ""
        name, r, _ = max(ev.correlations, key=lambda c: abs(c[2]))
        calls, call = ev.unit, ev.unit[:-1]
        if name == "entries":
            how = (
                f"a {call} mirrors (negates) part of the one before it"
                if r < 0
                else f"successive {calls} share a component"
            )
            return (
                f"{calls} are not independent: entries at matched positions of successive "
                f"{calls} are correlated r = {r:.3g} ({how})"
            )
        what = "units (columns)" if name == "unit norms" else "inputs (rows)"
        return (
            f"{calls} are not independent: the norms of matched {what} are correlated r = "
            f"{r:.3g} from {call} to {call} (a per-{what.split()[0][:-1]} scale fixed across "
            f"{calls})"
        )


def _norm_statistic(pool: Pool, axis: int, mean: float) -> tuple[float, float] | None:
    """``(t, r)`` of the squared norms along ``axis`` (1: units, columns; 2: inputs, rows) of
    consecutive calls at one shape (see the module docstring)."""
    s, v, sq = 0.0, 0.0, 0.0
    for b in pool.blocks:
        if b.z.shape[0] < 2:
            continue
        c = b.z - mean
        norms = np.sum(c * c, axis=axis)  # (calls, n): a unit's norm sums over its inputs
        n = norms.shape[1]
        if n < 2:
            continue
        norms = norms - norms.mean(axis=1, keepdims=True)
        prod = norms[:-1] * norms[1:]
        s += float(prod.sum())
        v += float(np.sum(prod * prod)) * n / (n - 1.0)
        sq += float(np.sum(norms * norms))
    if v <= 0 or sq <= 0:
        return None
    return s / math.sqrt(v), s / sq
