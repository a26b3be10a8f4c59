"""The ``anderson-darling`` check: a tail-weighted test of the law of ``|z|``.

**The statistic.** With ``F`` the scheme's standardized law (for a sparse scheme, the
normal law of its nonzero entries, as the ``distribution`` check reads it) and ``G(x) = P(|z|
<= x) = 1 - 2 F(-x)`` (the families' laws are symmetric), the pooled ``|z|`` are
transformed to ``v = G(|z|)``, i.i.d. uniform under the scheme, and

    A^2 = -N - (1/N) sum_i [(2i - 1) ln v_(i) + (2N + 1 - 2i) ln(1 - v_(i))]

is Anderson and Darling's statistic against that fully specified law: the Cramer-von Mises
distance ``N int (F_N - G)^2 dG`` weighted by ``1 / (G (1 - G))``, so a departure near
the bound (``G -> 1``) or near 0 weighs most. Its null law (no parameter estimated) is in
:mod:`weight_init.properties.conformance._ad_law`; ``1 - v = 2 F(-|z|)`` is computed as such,
so values near the bound keep their precision.

**Why ``|z|``.** The defects this test is for sit at the edge of the law and on both sides
at once: a clip puts ``q/2`` of the mass on an atom inside each bound, a truncated normal cut
at 1.9 sd instead of 2 (variance corrected) thins both tails. Folded, the two tails add up
in the same places of ``G``, and the noncentrality ``delta = int (G_alt - G)^2 / (G (1 -
G)) dG`` per entry doubles for a clip (``-ln(1 - q) - q`` against half of it signed) and
grows 2.3 times for the cut, so the test needs half the entries. Departures of the signed
law (a shift, a skew) are the ``mean`` and ``distribution`` (Kolmogorov-Smirnov) tests'.

**At the resolution of the draws** (as :mod:`.extremes` and :mod:`.resolution`): stored
entries are rounded, to their dtype's significand (``p`` bits) and possibly to a coarser grid
of step ``h`` (a benign law rounded to 1/64 sd), and a rounded draw moves ``v`` by up to
the mass of its cell, which ``A^2`` sums over 10^5 entries: a correct law on a coarse grid
would fail. Each entry of a shape's block lies within ``r = max(|z| 2^(1-p), g)`` of the
value it was rounded from (``g >= h`` the block's smallest gap, :func:`.resolution.grid_step`),
so when the exact p-value is below :data:`~.extremes.RESOLVE_BELOW` the check reports the
p-value of the *smallest* ``A^2`` of any values within those cells: each term of ``A^2``
is convex in its ``v_(i)`` with its minimum at ``(2i - 1)/(2N)``, so the minimum clamps that
point to the ``i``-th smallest lower and upper cell ends (a sorted sample within the cells
lies within the sorted ends). That ``A^2`` is at most the one of the unrounded draws, so its
p-value is at least theirs (valid, conservative); for float32 or float64 draws the cells are
too small to matter, on a grid of 1/64 sd the test has little power left (the variance and
extremes tests keep theirs).

**Orthogonal** matrices are not tested: their entries are dependent (every column has norm
1 exactly), so this null law, for i.i.d. draws, does not hold for them. Read with each
shape's exact marginal law it is far from uniform, on the conservative side (the norm
constraints take variance out of the empirical process): over 400 seeded designs of four
Haar matrices at each of (64, 64), (128, 32), (16, 256) and (97, 97), 86,788 entries each,
1 p-value fell at or below 0.05 and none at or below 0.01, mean p 0.66. A p-value that is
not uniform under its null does not enter the Holm family; and a defect at the edge of an
orthogonal matrix's entries (a clip, a cut) breaks its Gram matrix, which the exact
``orthogonality`` check asserts to ``50 n eps``.

**Power** (:meth:`AndersonDarlingCheck.effects`): under an alternative with ``|z|``-law
``G_alt``, ``A^2 = N int (F_N - G_alt)^2 w dG + X + N delta`` with ``w = 1/(G (1 - G))``
and ``X = 2 N int (F_N - G_alt)(G_alt - G) w dG``, a sum of ``N`` i.i.d. centred terms
``2 (phi(|z_i|) - E phi)``, ``phi(x) = int_{t >= x} (G_alt - G) w dG(t)``. The first term is
non-negative, so ``A^2 >= N delta + X`` and, ``X`` being asymptotically ``N(0, 4 N
Var phi)``, the test at critical value ``c`` (:func:`~._ad_law.ad_isf` at the per-test
level) rejects with probability at least ``1 - beta`` once
``N delta - z_beta 2 sd(phi) sqrt N >= c``:

    sqrt N >= (z_beta s + sqrt(z_beta^2 s^2 + 4 delta c)) / (2 delta),  s = 2 sd(phi).

For a clip moving a fraction ``q`` of the mass onto atoms at the ``1 - q`` point of ``G``,
``phi`` is constant on the support (``s = 0``) and ``delta = -ln(1 - q) - q``, so ``N >=
c / delta`` in closed form (family-free: the clip is defined by its mass); for the cut point
``delta`` and ``s`` are integrals over the two truncated normals, computed once on a grid
(:func:`cut_effect`). The dropped term has mean about 1 under the alternative, so the bound
is conservative; the measured power is on docs/detectable_effects.md.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from weight_init.families import Family, Sparse, TruncatedNormal
from weight_init.properties.conformance import _power as pw
from weight_init.properties.conformance._ad_law import ad_isf, ad_sf, ad_statistic
from weight_init.properties.conformance._checks.base import Check, CheckKind, CheckResult, Evidence
from weight_init.properties.conformance._checks.extremes import CLIP_MASS, CUT_ERROR, RESOLVE_BELOW
from weight_init.properties.conformance._checks.pool import Pool
from weight_init.properties.conformance._checks.resolution import effective_bits, grid_step
from weight_init.properties.conformance._tails import norm_isf

Array = np.ndarray
#: ``F`` of a standardized law, vectorised.
Law = Callable[[Array], Array]

#: The outer and inner fraction of the ``|z|`` law the evidence reports on.
EDGE = 0.01
#: An edge fraction this many binomial standard errors from :data:`EDGE` is read as thin or
#: heavy in the diagnosis.
EDGE_SE = 4.0


def clip_delta(q: float) -> float:
    """``delta = int_{1-q}^1 (1 - v)^2 / (v (1 - v)) dv = -ln(1 - q) - q`` per entry for a
    clip that moves ``q`` of the ``|z|`` law's mass onto an atom at its ``1 - q`` point."""
    return -math.log1p(-q) - q


def n_for_shift(delta: float, s: float, c: float, power: float) -> int:
    """Entries for ``N delta - z_beta s sqrt N >= c`` (module docstring)."""
    zb = norm_isf(1.0 - power)
    root = (zb * s + math.sqrt((zb * s) ** 2 + 4.0 * delta * c)) / (2.0 * delta)
    return math.ceil(root * root)


def n_required(delta: float, s: float, level: float, power: float) -> int:
    """Entries for power ``power`` at ``level``: from the limit law's critical value, then
    raised until the finite-``n`` law's critical value at that ``n`` needs no more (doubled
    should that law have no critical value at ``level``)."""
    n = n_for_shift(delta, s, ad_isf(level), power)
    for _ in range(64):
        c = ad_isf(level, n)
        if not math.isfinite(c):
            n *= 2
            continue
        more = n_for_shift(delta, s, c, power)
        if more <= n:
            break
        n = more
    return n


@functools.cache
def cut_effect(cut_error: float) -> tuple[float, float]:
    """``(delta, s)`` of a truncated normal cut at ``2 (1 - cut_error)`` sd, its variance
    corrected, against the declared cut at 2 sd, both folded (module docstring), by the
    midpoint rule on a grid of ``v`` dense towards 0 and 1."""
    from weight_init.families import TRUNCATED_NORMAL, TruncatedNormalAt

    alt = TruncatedNormalAt(2.0 * (1.0 - cut_error))
    ends = np.logspace(-12, -1, 20_001)
    v = np.unique(np.concatenate(([0.0], ends, np.linspace(0.1, 0.9, 20_001), 1.0 - ends, [1.0])))
    x = TRUNCATED_NORMAL.ppf((1.0 + v) / 2.0)
    g_alt = np.clip(2.0 * alt.cdf(x) - 1.0, 0.0, 1.0)
    g_alt[-1] = 1.0
    dv = np.diff(v)
    vm = 0.5 * (v[1:] + v[:-1])
    gm = 0.5 * (g_alt[1:] + g_alt[:-1])
    w = 1.0 / (vm * (1.0 - vm))
    delta = float(np.sum((gm - vm) ** 2 * w * dv))
    phi = np.cumsum(((gm - vm) * w * dv)[::-1])[::-1]  # phi at each cell's left end
    mass = np.diff(g_alt)
    mean = float(np.sum(mass * phi))
    var = max(0.0, float(np.sum(mass * phi * phi)) - mean * mean)
    return delta, 2.0 * math.sqrt(var)


@dataclass(frozen=True)
class AndersonDarlingEvidence(Evidence):
    """``A^2`` on ``n`` values of ``|z|``, whether it was read at the draws' resolution, and
    the fractions of them in the outer and inner :data:`EDGE` of the law of ``|z|`` (each
    :data:`EDGE` under the scheme)."""

    a2: float
    n: int
    resolved: bool
    outer: float
    inner: float


class AndersonDarlingCheck(Check):
    """See the module docstring."""

    name = "anderson-darling"
    kind = CheckKind.STATISTICAL
    explanation = "the law of |entry| is not the scheme's (Anderson-Darling, tail-weighted)"

    def applies(self, family: Family) -> bool:
        return family.is_random and (family.is_iid or family.component is not None)

    def effects(self, family: Family, level: float, power: float) -> tuple[pw.Effect, ...]:
        scale = 1.0 / (1.0 - family.sparsity) if isinstance(family, Sparse) else 1.0
        n_clip = n_required(clip_delta(CLIP_MASS), 0.0, level, power)
        out = [
            pw.Effect(
                f"{CLIP_MASS:.0%} of the mass clipped onto atoms",
                CLIP_MASS,
                self,
                math.ceil(n_clip * scale),
            )
        ]
        if isinstance(family, TruncatedNormal):
            delta, s = cut_effect(CUT_ERROR)
            out.append(
                pw.Effect(
                    f"cut {CUT_ERROR:.0%} early, variance corrected",
                    CUT_ERROR,
                    self,
                    n_required(delta, s, level, power),
                )
            )
        return tuple(out)

    def run(self, pool: Pool) -> CheckResult | None:
        folded = _fold(pool)
        if folded is None:
            return None
        x, law = folded
        n = int(x.size)
        if n < 2:
            return None
        q = law(-x)  # F(-|z|), non-increasing
        lower, upper = 1.0 - 2.0 * q, 2.0 * q
        a2 = ad_statistic(lower, upper)
        p = ad_sf(a2, n)
        resolved = False
        if p < RESOLVE_BELOW:
            a2_res = _resolved_statistic(pool, law)
            if a2_res is not None and a2_res < a2:
                a2, p, resolved = a2_res, ad_sf(a2_res, n), True
        outer = float(np.count_nonzero(upper < EDGE)) / n
        inner = float(np.count_nonzero(lower < EDGE)) / n
        detail = (
            f"A^2 = {a2:.4g} on |z| of {n} entries"
            + (" (at the draws' resolution)" if resolved else "")
            + f"; outer {EDGE:.0%} of the law holds {outer:.3%}"
        )
        ev = AndersonDarlingEvidence(a2, n, resolved, outer, inner)
        return self.statistical(a2, p, n, detail, ev)

    def describe_failure(self, result: CheckResult) -> str:
        ev = result.evidence
        if not isinstance(ev, AndersonDarlingEvidence):
            return ""
        se = math.sqrt(EDGE * (1.0 - EDGE) / ev.n) if ev.n else math.inf
        text = (
            f"the law of |entry| departs from the scheme's (Anderson-Darling A^2 = {ev.a2:.4g} "
            f"on {ev.n} entries): its outer {EDGE:.0%} holds {ev.outer:.3%} of them"
        )
        if ev.outer < EDGE - EDGE_SE * se:
            return text + " (thin tails: clipped, or cut early)"
        if ev.outer > EDGE + EDGE_SE * se:
            return text + " (heavy tails)"
        return text + f", its inner {EDGE:.0%} {ev.inner:.3%}"


def _law_of(pool: Pool) -> tuple[Family, bool] | None:
    """The continuous law the folded values follow and whether it is the family's own
    (i.i.d.) rather than a sparse family's component; None when the check does not apply."""
    family = pool.scheme.family
    if family.is_iid:
        return family, True
    if family.component is not None and isinstance(family, Sparse):
        return family.component, False
    return None


def _component_scale(pool: Pool, fan_out: int) -> float:
    """The factor taking a sparse block's ``z`` to its component's standard units."""
    family = pool.scheme.family
    return math.sqrt(1.0 - family.zero_fraction(fan_out)) if isinstance(family, Sparse) else 1.0


def _cdf(law: Family) -> Law:
    def f(x: Array) -> Array:
        return np.asarray(law.cdf(x), dtype=np.float64)

    return f


def _fold(pool: Pool) -> tuple[Array, Law] | None:
    """The sorted ``|z|`` in the law's standard units, and ``F`` of that law."""
    got = _law_of(pool)
    if got is None:
        return None
    law, own = got
    if own:  # |z| sorted from the pool's sorted z: two sorted runs, merged
        zs = pool.z_sorted
        k = int(np.searchsorted(zs, 0.0))
        x = np.sort(np.concatenate((-zs[:k][::-1], zs[k:])), kind="stable")
        return x, _cdf(law)
    parts = []
    for b in pool.blocks:
        nz = np.abs(b.z[b.z != 0])
        parts.append(nz * _component_scale(pool, b.fan_out))
    if not parts:
        return None
    return np.sort(np.concatenate(parts)), _cdf(law)


def _resolved_statistic(pool: Pool, law: Law) -> float | None:
    """The smallest ``A^2`` of values within each entry's rounding cell (module docstring)."""
    got = _law_of(pool)
    if got is None or not pool.blocks:
        return None
    _, own = got
    xs, rs = [], []
    for b in pool.blocks:
        z = b.z.ravel()
        if not own:
            z = z[z != 0]
        if not z.size:
            continue
        scale = _component_scale(pool, b.fan_out)
        g = grid_step(z)
        step = g if math.isfinite(g) else 0.0
        r = np.maximum(np.abs(z) * 2.0 ** (1 - effective_bits(b.w)), step)
        xs.append(np.abs(z) * scale)
        rs.append(r * scale)
    if own:  # entries of partly non-finite calls: at their values
        rest = pool.z[sum(b.z.size for b in pool.blocks) :]
        xs.append(np.abs(rest))
        rs.append(np.zeros(rest.size))
    x, r = np.concatenate(xs), np.concatenate(rs)
    n = x.size
    if n < 2:
        return None
    lo_x, hi_x = np.sort(np.maximum(x - r, 0.0)), np.sort(x + r)
    q_lo, q_hi = law(-lo_x), law(-hi_x)
    i = np.arange(1, n + 1, dtype=np.float64)
    best_v, best_w = (2.0 * i - 1.0) / (2.0 * n), (2.0 * (n - i) + 1.0) / (2.0 * n)
    v_lo, v_hi = 1.0 - 2.0 * q_lo, 1.0 - 2.0 * q_hi
    below, above = best_v < v_lo, best_v > v_hi
    lower = np.where(below, v_lo, np.where(above, v_hi, best_v))
    upper = np.where(below, 2.0 * q_lo, np.where(above, 2.0 * q_hi, best_w))
    return ad_statistic(lower, upper)
