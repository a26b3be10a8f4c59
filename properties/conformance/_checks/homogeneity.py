"""The ``unit homogeneity`` and ``input homogeneity`` checks: every unit (column) of a matrix,
and every input (row), has the same variance.

A scheme gives every entry the same law, so within one matrix the squared norms of the
units, ``S_j = sum_i z_ij^2``, are exchangeable; an initializer that draws half the units
10% wide and the other half 11% narrow keeps the variance right on average and passes the
variance test. The test is rank-based, so it needs no moment of the law: within each matrix
with at least :data:`MIN_VECTORS` units, the units fall in four groups (first or second
half, even or odd position), and Kruskal-Wallis's ``H`` compares the groups' mean ranks of
``S_j``. Under exchangeability every ranking is equally likely, whatever the law, so ``H``
has the exact moments ``E H = K - 1`` and (Kruskal and Wallis 1952, no ties)

    Var H = 2 (K - 1) - 2 (3 K^2 - 6 K + n (2 K^2 - 6 K + 1)) / (5 n (n + 1))
            - (6 / 5) sum_g 1 / n_g

(ties, which a law on a coarse grid can make, are handled by mid-ranks and the usual
correction ``1 - sum (t^3 - t) / (n^3 - n)``). Matrices are independent; the pooled
``sum H`` is referred to the scaled chi-square ``c chi^2_nu`` with those two moments
(Satterthwaite); ``H`` is bounded, its right tail lighter than the chi-square's, so the
p-value errs on the side of fewer rejections.

Power (:func:`halves_noncentrality`): with half the units at std ``r1`` and half at ``r2``
the wide half's mean rank exceeds the narrow half's by ``n (p - 1/2)``, ``p = P(S_wide >
S_narrow)``, which adds ``3 n (p - 1/2)^2`` to ``E H``; ``p`` from the normal approximation
of ``S`` (mean ``f r^2``, variance ``f r^4 (m4 - 1)`` over ``f`` entries).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from weight_init.families import Family
from weight_init.properties.conformance import _power as pw
from weight_init.properties.conformance._checks.base import Check, CheckKind, CheckResult, Evidence
from weight_init.properties.conformance._checks.pool import Array, Pool
from weight_init.properties.conformance._sampling import DEFAULT_SHAPES
from weight_init.properties.conformance._tails import chi2_sf, norm_isf, norm_sf

#: Units (or inputs) a matrix needs to enter the test (two per group).
MIN_VECTORS = 8
#: Groups: half (first, second) x position (even, odd).
N_GROUPS = 4
#: The per-half std factors the plan guarantees to catch (the variance right on average).
HALF_STDS = (1.10, 0.89)


def groups(n: int) -> Array:
    """Group of each of ``n`` positions: ``2 * (second half) + (odd position)``."""
    j = np.arange(n)
    return (2 * (j >= n // 2) + (j % 2)).astype(np.intp)


def kw_variance(n: int, sizes: list[int]) -> float:
    """Exact ``Var H`` of Kruskal-Wallis under exchangeability (no ties; module docstring)."""
    k = len(sizes)
    return (
        2.0 * (k - 1)
        - 2.0 * (3 * k * k - 6 * k + n * (2 * k * k - 6 * k + 1)) / (5.0 * n * (n + 1))
        - 1.2 * sum(1.0 / s for s in sizes)
    )


def mid_ranks(x: Array) -> tuple[Array, Array]:
    """Ranks (1-based, mid-ranks for ties) along the last axis of ``(m, n)`` and each row's
    tie correction ``1 - sum (t^3 - t) / (n^3 - n)``."""
    m, n = x.shape
    order = np.argsort(x, axis=1, kind="stable")
    xs = np.take_along_axis(x, order, axis=1)
    ranks = np.empty_like(x, dtype=np.float64)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(1.0, n + 1.0), (m, n)), axis=1)
    corr = np.ones(m)
    tied = np.flatnonzero(np.any(xs[:, 1:] == xs[:, :-1], axis=1))
    for r in tied:
        _, inv, counts = np.unique(x[r], return_inverse=True, return_counts=True)
        sums = np.bincount(inv, weights=ranks[r])
        ranks[r] = (sums / counts)[inv]
        corr[r] = 1.0 - float(np.sum(counts**3 - counts)) / (n**3 - n)
    return ranks, corr


def kruskal_wallis(s: Array) -> tuple[Array, float, float]:
    """``H`` of each row of ``(m, n)`` norms over :func:`groups`, with the exact null mean
    and variance of one row's ``H``."""
    _m, n = s.shape
    g = groups(n)
    sizes = np.bincount(g, minlength=N_GROUPS)
    ranks, corr = mid_ranks(s)
    sums = np.stack([ranks[:, g == k].sum(axis=1) for k in range(N_GROUPS)], axis=1)
    h = 12.0 / (n * (n + 1.0)) * np.sum(sums * sums / sizes, axis=1) - 3.0 * (n + 1.0)
    h = np.where(corr > 0, h / np.where(corr > 0, corr, 1.0), 0.0)
    return h, float(N_GROUPS - 1), kw_variance(n, [int(c) for c in sizes])


def halves_noncentrality(n: int, f: int, m4: float, r1: float, r2: float) -> float:
    """``E H - (K - 1)`` for one matrix of ``n`` vectors of ``f`` entries, half at std ``r1``
    and half at ``r2`` (module docstring)."""
    v1, v2 = r1 * r1, r2 * r2
    sd = math.sqrt(f * (m4 - 1.0) * (v1 * v1 + v2 * v2))
    p = 1.0 - norm_sf(f * abs(v1 - v2) / sd)
    return 3.0 * n * (p - 0.5) ** 2


@dataclass(frozen=True)
class HomogeneityEvidence(Evidence):
    """The pooled std of each half (first, second) and each position (even, odd) relative to
    the matrix's own, over every tested matrix; and the same halves at ``shape``, the tested
    shape with the most vectors (``n`` of them): ``shape_halves``."""

    halves: tuple[float, float]
    parity: tuple[float, float]
    shape: tuple[int, int]
    n: int
    shape_halves: tuple[float, float]
    shape_parity: tuple[float, float]


class HomogeneityCheck(Check):
    """See the module docstring; ``axis`` 1 compares units (columns), 0 inputs (rows)."""

    kind = CheckKind.STATISTICAL

    def __init__(self, axis: int) -> None:
        self.axis = axis
        self.word = "units" if axis == 1 else "inputs"
        self.name = "unit homogeneity" if axis == 1 else "input homogeneity"
        what = "units (columns)" if axis == 1 else "inputs (rows)"
        self.explanation = f"some {what} of a matrix have a different variance from the others"

    def applies(self, family: Family) -> bool:
        return family.is_iid

    def _norms(self, z: Array) -> Array:
        """Squared norms ``(calls, vectors)``: a unit sums over its inputs (axis 1)."""
        return np.sum(z * z, axis=1 if self.axis == 1 else 2)

    def _sizes(self, shape: tuple[int, int]) -> tuple[int, int]:
        """``(vectors, entries per vector)`` of a ``(fan_in, fan_out)`` matrix."""
        fi, fo = shape
        return (fo, fi) if self.axis == 1 else (fi, fo)

    def effects(self, family: Family, level: float, power: float) -> tuple[pw.Effect, ...]:
        """The entry target of the default design at which ``sum H`` reaches the level with
        the power (normal approximation of the noncentral sum)."""
        m4 = family.fourth_moment()
        za, zb = norm_isf(level), norm_isf(1.0 - power)

        def ok(counts: list[int]) -> bool:
            df, lam = 0.0, 0.0
            for c, sh in zip(counts, DEFAULT_SHAPES, strict=True):
                nv, f = self._sizes(sh)
                if nv >= MIN_VECTORS:
                    df += c * (N_GROUPS - 1)
                    lam += c * halves_noncentrality(nv, f, m4, *HALF_STDS)
            return lam >= za * math.sqrt(2 * df) + zb * math.sqrt(2 * (df + 2 * lam))

        n = pw.smallest_target(ok, DEFAULT_SHAPES)
        r1, r2 = HALF_STDS
        what = f"half the {self.word} at {r1:.2f}x the std, half at {r2:.2f}x"
        return (pw.Effect(what, r1 - 1.0, self, n),)

    def run(self, pool: Pool) -> CheckResult | None:
        h_sum, mean, var, tested = 0.0, 0.0, 0.0, 0
        acc = np.zeros((2, 2))  # [halves|parity, first|second] sums of relative variance
        cnt = np.zeros((2, 2))
        best: tuple[int, tuple[int, int], Array] | None = None
        for b in pool.blocks:
            nv, _ = self._sizes((b.fan_in, b.fan_out))
            if nv < MIN_VECTORS:
                continue
            s = self._norms(b.z)
            h, mu, v = kruskal_wallis(s)
            h_sum += float(h.sum())
            mean += mu * h.size
            var += v * h.size
            tested += h.size
            rel = s / np.maximum(s.mean(axis=1, keepdims=True), 1e-300)
            g = groups(nv)
            halves = [rel[:, g < 2].mean(axis=1), rel[:, g >= 2].mean(axis=1)]
            parity = [rel[:, g % 2 == 0].mean(axis=1), rel[:, g % 2 == 1].mean(axis=1)]
            for i, part in enumerate((halves, parity)):
                for j, x in enumerate(part):
                    acc[i, j] += float(x.sum())
                    cnt[i, j] += x.size
            if best is None or nv > best[0]:
                best = (nv, (b.fan_in, b.fan_out), rel)
        if not tested or var <= 0 or best is None:
            return None
        c = var / (2.0 * mean)
        nu = mean / c
        p = chi2_sf(h_sum / c, nu)
        stds = np.sqrt(acc / np.maximum(cnt, 1))
        nv, shape, rel = best
        g = groups(nv)
        sh = (
            math.sqrt(float(rel[:, g < 2].mean())),
            math.sqrt(float(rel[:, g >= 2].mean())),
        )
        sp = (
            math.sqrt(float(rel[:, g % 2 == 0].mean())),
            math.sqrt(float(rel[:, g % 2 == 1].mean())),
        )
        ev = HomogeneityEvidence(
            (float(stds[0, 0]), float(stds[0, 1])),
            (float(stds[1, 0]), float(stds[1, 1])),
            shape,
            nv,
            sh,
            sp,
        )
        detail = (
            f"Kruskal-Wallis sum H = {h_sum:.4g} over {tested} matrices (null mean {mean:.4g}, "
            f"sd {math.sqrt(var):.3g}); halves at {ev.halves[0]:.3f}x / {ev.halves[1]:.3f}x std"
        )
        return self.statistical((h_sum - mean) / math.sqrt(var), p, tested, detail, ev)

    def describe_failure(self, result: CheckResult) -> str:
        ev = result.evidence
        if not isinstance(ev, HomogeneityEvidence):
            return ""
        fi, fo = ev.shape
        n, w = ev.n, self.word
        if abs(ev.halves[0] - ev.halves[1]) >= abs(ev.parity[0] - ev.parity[1]):
            a, b = ev.shape_halves
            h = n // 2
            where = f"{w} 0-{h - 1} at {a:.2f}x std, {h}-{n - 1} at {b:.2f}x"
            pooled = f"first halves {ev.halves[0]:.3f}x, second halves {ev.halves[1]:.3f}x"
        else:
            a, b = ev.shape_parity
            where = f"even {w} at {a:.2f}x std, odd {w} at {b:.2f}x"
            pooled = f"even {ev.parity[0]:.3f}x, odd {ev.parity[1]:.3f}x"
        return (
            f"the {w} do not share one variance: at fn({fi}, {fo}) {where} "
            f"(of the matrix's own std; over every matrix {pooled})"
        )
