"""The ``spectrum`` check: dependence between rows or columns at any lag, and low-rank
structure, seen in the second moment of each matrix's singular-value spectrum.

For an ``n1 x n2`` matrix Z of i.i.d. entries (mean 0, variance 1) the spectrum of
``Z'Z`` follows the Marchenko-Pastur law; its second moment ``sum_k s_k^4 = tr((Z'Z)^2)``
splits, by which of the four indices of ``sum_{i,i',j,j'} z_ij z_i'j z_ij' z_i'j'`` agree, as

    tr((Z'Z)^2) = sum_i r_i^2 + sum_j c_j^2 - sum z^4 + 4 R,
    R = sum_{i<i', j<j'} z_ij z_i'j z_ij' z_i'j'          (every 2x2 "rectangle"),

with ``r_i``, ``c_j`` the squared norms of row i and column j. The row and column norms
carry the marginal law (variance, kurtosis: the variance, fan-rule and distribution checks
judge them); ``R`` carries the rest of the spectrum's spread. Under i.i.d. entries of a
symmetric law each rectangle product has a lone factor unless two rectangles coincide, so

* ``E R = 0`` whatever the law's variance and kurtosis;
* ``Var R = C(n1,2) C(n2,2) sigma^8`` (distinct rectangles are uncorrelated);
* ``E R^3 = 6 [C(n1,3) C(n2,2) + C(n1,2) C(n2,3)] sigma^12``: three rectangles cover each
  of their entries exactly twice only as a row triangle ``{a,b},{b,c},{a,c}`` on one column
  pair or a column triangle on one row pair (3! orders each); no fourth moment enters.

Dependence makes ``R`` positive: rows i, i' with correlation rho add ``C(n2,2) rho^2`` to
``E R`` (and columns likewise), at any distance between them; a rank-r spike ``U V'``
holding a fraction s of the variance adds about ``C(n1,2) C(n2,2) s^2 / r``. So the test is
one-sided (upper).

The entries are not centred (the law's mean is 0; a large mean shift is a rank-one
``mu 1 1'`` and counts as low-rank structure) and each shape's block is divided by its
mean square squared (``s^4``, over all calls at that shape), so a wrong variance, or one
wrong at some shapes only, does not move it. Flipping the sign of one entry flips every
rectangle product it is in and leaves ``s`` alone, so ``E R / s^4 = 0`` exactly under a
symmetric law, and ``s^2`` over the block's ``>= 10^3`` entries leaves ``Var R`` as above up
to ``O(1/entries)``. (Centring each matrix at its own mean, as a first version did, biases
``R`` by ``O(1)``: harmless for a 200 x 200 matrix, a false alarm at p = 3e-6 for 1,395
draws of a 5 x 2 one.) ``u_m = R_m / (s^4 sqrt(Var R_m))`` is standardized per matrix,
and the pooled ``U = sum u_m / sqrt(M)`` over the ``M`` matrices has mean 0, variance 1
and skewness ``sum gamma_m / M^{3/2}`` (``gamma_m`` the matrix's exact skewness above: up
to ``sqrt(8 / C(k,2))`` for a thin ``k x n`` matrix, a chi-square-like right tail). The
p-value is the upper tail of the Pearson type III law with those three cumulants
(:data:`scipy.stats.pearson3`), not the normal's, which would understate it at small
levels. Measured false-alarm and detection rates:
``docs/detectable_effects.md``.

Orthogonal schemes need no such test: their exact spectrum (every singular value equal
to the gain) is what the exact ``orthogonality`` check asserts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from weight_init.families import Family
from weight_init.properties.conformance import _power as pw
from weight_init.properties.conformance._checks.base import Check, CheckKind, CheckResult, Evidence
from weight_init.properties.conformance._checks.pool import Pool
from weight_init.properties.conformance._sampling import DEFAULT_SHAPES
from weight_init.properties.conformance._tails import norm_isf, pearson3_sf

#: Correlation between paired rows (or columns) the plan guarantees to catch.
PAIR_CORRELATION = 0.3
#: Fraction of the variance held by a rank-2 spike the plan guarantees to catch.
SPIKE_FRACTION = 0.1


def rectangle_cumulants(n1: int, n2: int) -> tuple[float, float]:
    """``(Var R, E R^3)`` of the rectangle sum of an ``n1 x n2`` unit-variance i.i.d.
    matrix (symmetric law); see the module docstring."""
    c1, c2 = math.comb(n1, 2), math.comb(n2, 2)
    return float(c1 * c2), 6.0 * (math.comb(n1, 3) * c2 + c1 * math.comb(n2, 3))


def rectangle_sums(z: np.ndarray) -> np.ndarray:
    """``R`` of each matrix in a ``(calls, n1, n2)`` stack (uncentred, unscaled)."""
    zt = np.swapaxes(z, 1, 2)
    gram = z @ zt if z.shape[1] <= z.shape[2] else zt @ z
    f = np.sum(gram * gram, axis=(1, 2))
    sq = z * z
    rows = np.sum(np.sum(sq, axis=2) ** 2, axis=1)
    cols = np.sum(np.sum(sq, axis=1) ** 2, axis=1)
    q4 = np.sum(sq * sq, axis=(1, 2))
    return np.asarray((f - rows - cols + q4) / 4.0)


@dataclass(frozen=True)
class SpectrumEvidence(Evidence):
    """``excess``: the pooled ``4 R`` over the i.i.d. expectation of ``sum s_k^4``
    (``n1 n2 (n1 + n2 - 2 + m4)`` per matrix), i.e. how much wider the spectrum is than
    Marchenko-Pastur's, relatively; ``skew`` of the null law the p-value used."""

    excess: float
    skew: float


def _pair_score(shape: tuple[int, int], rho: float, along_rows: bool) -> float:
    """``E u_m`` of one matrix whose rows (or columns) are correlated ``rho`` in pairs."""
    n1, n2 = shape
    var, _ = rectangle_cumulants(n1, n2)
    gain = (n1 // 2) * math.comb(n2, 2) if along_rows else (n2 // 2) * math.comb(n1, 2)
    return gain * rho * rho / math.sqrt(var)


def _spike_score(shape: tuple[int, int], s: float, rank: int) -> float:
    var, _ = rectangle_cumulants(*shape)
    return math.sqrt(var) * s * s / rank


def entries_for_scores(
    scores: Sequence[float], shapes: Sequence[tuple[int, int]], a: float, power: float
) -> int:
    """Entries a design of ``shapes`` with equal entries per shape needs so that
    ``U = sum u_m / sqrt(M)`` reaches ``z_a + z_beta`` (normal approximation, null variance):
    with ``E/(n1 n2)`` matrices per shape, ``E U = sqrt(E) sum_k (score_k / (n1 n2)) /
    sqrt(sum_k 1/(n1 n2))``."""
    inv = [1.0 / (fi * fo) for fi, fo in shapes]
    c = sum(sc * w for sc, w in zip(scores, inv, strict=True)) / math.sqrt(sum(inv))
    target = norm_isf(a) + norm_isf(1.0 - power)
    return math.ceil(len(shapes) * (target / c) ** 2)


class SpectrumCheck(Check):
    """See the module docstring."""

    name = "spectrum"
    kind = CheckKind.STATISTICAL
    explanation = (
        "the singular values spread wider than Marchenko-Pastur's law: rows or columns are "
        "dependent (at some lag) or the matrix has low-rank structure"
    )

    def applies(self, family: Family) -> bool:
        return family.is_iid

    def effects(self, family: Family, level: float, power: float) -> tuple[pw.Effect, ...]:
        """For the fixed part of the default design (:data:`DEFAULT_SHAPES`), one-sided at
        ``level``; the per-check drawn shapes come on top."""
        shapes = DEFAULT_SHAPES
        rho, s = PAIR_CORRELATION, SPIKE_FRACTION
        rows = entries_for_scores([_pair_score(x, rho, True) for x in shapes], shapes, level, power)
        cols = entries_for_scores(
            [_pair_score(x, rho, False) for x in shapes], shapes, level, power
        )
        spike = entries_for_scores([_spike_score(x, s, 2) for x in shapes], shapes, level, power)
        return (
            pw.Effect(f"rows correlated {rho:g} in pairs, any lag", rho, self, rows),
            pw.Effect(f"columns correlated {rho:g} in pairs, any lag", rho, self, cols),
            pw.Effect(f"rank-2 spike holding {s:g} of the variance", s, self, spike),
        )

    def run(self, pool: Pool) -> CheckResult | None:
        u_sum, skew_sum, m, excess_num, excess_den = 0.0, 0.0, 0, 0.0, 0.0
        m4 = pool.scheme.family.fourth_moment()
        for b in pool.blocks:
            if min(b.fan_in, b.fan_out) < 2:
                continue
            var, k3 = rectangle_cumulants(b.fan_in, b.fan_out)
            s2 = float(np.mean(b.z * b.z))
            if s2 <= 0:
                continue
            r = rectangle_sums(b.z) / (s2 * s2)
            u_sum += float(r.sum()) / math.sqrt(var)
            skew_sum += r.size * k3 / var**1.5
            m += r.size
            excess_num += 4.0 * float(r.sum())
            excess_den += r.size * b.fan_in * b.fan_out * (b.fan_in + b.fan_out - 2.0 + m4)
        if m == 0:
            return None
        u = u_sum / math.sqrt(m)
        skew = skew_sum / m**1.5
        p = pearson3_sf(u, skew)
        excess = excess_num / excess_den
        detail = f"sum s^4 {excess:+.3g} relative to Marchenko-Pastur over {m} matrices"
        n = int(sum(b.z.size for b in pool.blocks))
        return self.statistical(u, p, n, detail, SpectrumEvidence(excess, skew))

    def describe_failure(self, result: CheckResult) -> str:
        ev = result.evidence
        excess = f" ({ev.excess:+.2g} in sum s_k^4)" if isinstance(ev, SpectrumEvidence) else ""
        return (
            "the spectrum is wider than Marchenko-Pastur's" + excess + ": rows or columns are "
            "dependent (at some lag, not only neighbours) or the weights have low-rank structure"
        )
