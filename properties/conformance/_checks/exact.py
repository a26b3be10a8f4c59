"""Exact checks: no false alarm on a correct implementation (``p_value`` None).

* ``shape``: ``(fan_in, fan_out)`` for ``in_out``, ``(fan_out, fan_in)`` for ``out_in``;
* ``dtype``: floating; ``finite``: no NaN or infinity, and no entry beyond
  :data:`~weight_init.properties.conformance._checks.pool.Z_LIMIT` (1e50) rule standard
  deviations (a correct draw reaches it with probability below ``N kappa 1e-200``; the
  moments of such entries overflow float64);
* ``constant value`` (constant schemes): every entry equals the scheme's value;
* ``bounds`` (bounded families): ``|z| <= bound`` (``sqrt 3`` uniform, ``2 / 0.8796``
  truncated normal) with ``8 eps`` relative slack for rounding;
* ``distinct units``: no two equal rows or columns in any matrix (bytewise);
* ``orthogonality`` (orthogonal): ``max |G / g^2 - I| <= 50 n eps`` for the Gram matrix G
  of the smaller side, ``n = max(fans)``;
* ``determinism`` (when ``fn`` takes ``rng`` or ``seed``): the same seed gives the same
  array, another seed a different one (unless the scheme is constant), at the design's
  smallest shape (a shape the initializer was called at: ``shapes=`` may restrict them);
* ``fresh draws`` (random families): no two calls at one shape (different seeds) return
  the same array, bytewise; two draws of a continuous law coincide with probability 0;
* ``zeros per input`` (sparse): each input's weights (a row, ``in_out``) hold exactly
  ``ceil(sparsity * fan_out)`` zeros (:class:`ZerosPerInputCheck`, registered after the
  built-in checks and wording its own failure).

Vectors made only of a family's atom (all-zero columns of a sparse matrix, which a small
``fan_in`` makes likely) are left out of the distinct-units comparison.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from weight_init.families import Family, Orthogonal, Sparse
from weight_init.properties._results import fmt_percent
from weight_init.properties.conformance._checks.base import Check, CheckResult, Evidence
from weight_init.properties.conformance._checks.pool import Array, Oversized, Pool
from weight_init.properties.conformance._checks.resolution import (
    SUP_DENSITY,
    effective_bits,
    ties_plausible,
    value_mass,
)
from weight_init.properties.conformance._sampling import Draw, call


@dataclass(frozen=True)
class ShapeEvidence(Evidence):
    detail: str
    transposed: bool


@dataclass(frozen=True)
class DtypeEvidence(Evidence):
    detail: str


@dataclass(frozen=True)
class FiniteEvidence(Evidence):
    """Non-finite ``entries`` in ``calls`` of ``n_calls``; ``total`` floating entries;
    finite entries out of any law's range in ``oversized``."""

    entries: int
    calls: int
    n_calls: int
    total: int
    oversized: Oversized = field(default_factory=Oversized)


@dataclass(frozen=True)
class DuplicateEvidence(Evidence):
    detail: str


@dataclass(frozen=True)
class BoundsEvidence(Evidence):
    max_abs_z: float


@dataclass(frozen=True)
class OrthogonalityEvidence(Evidence):
    scale: float
    deviation: float


@dataclass(frozen=True)
class DeterminismEvidence(Evidence):
    """``same_seed_same``: every shape's call repeated with its seed returned the same array;
    ``other_seed_differs``: at the shapes called once, a call with another seed returned a
    different one; ``where`` names the first shape that failed, ``shapes`` how many were
    tried."""

    same_seed_same: bool
    other_seed_differs: bool
    where: str = ""
    shapes: int = 0


class ShapeCheck(Check):
    name = "shape"
    shrinkable = True
    explanation = "the array does not have the layout's shape for these fans"

    def run(self, pool: Pool) -> CheckResult:
        conv, draws = pool.layout, pool.draws
        bad = [d for d in draws if not d.shape_ok(conv)]
        if not bad:
            return self.exact(0, 0, True)
        d = bad[0]
        transposed = all(tuple(b.raw.shape) == b.expected_shape(conv)[::-1] for b in bad) and any(
            b.fan_in != b.fan_out for b in bad
        )
        detail = (
            f"fn({d.fan_in}, {d.fan_out}) returned shape {tuple(d.raw.shape)}, expected "
            f"{d.expected_shape(conv)} ({conv}); {len(bad)} of {len(draws)} calls"
        )
        return self.exact(len(bad), 0, False, detail, ShapeEvidence(detail, transposed))

    def fails_on(self, draw: Draw, layout: str) -> bool:
        return not draw.shape_ok(layout)


class DtypeCheck(Check):
    name = "dtype"
    shrinkable = True
    explanation = "the array is not floating point"

    def run(self, pool: Pool) -> CheckResult:
        nonfloat = [d for d in pool.draws if d.raw.dtype.kind != "f"]
        if not nonfloat:
            return self.exact(0, 0, True)
        d0 = nonfloat[0]
        detail = f"fn({d0.fan_in}, {d0.fan_out}) returned dtype {d0.raw.dtype}"
        return self.exact(len(nonfloat), 0, False, detail, DtypeEvidence(detail))

    def fails_on(self, draw: Draw, layout: str) -> bool:
        return draw.raw.dtype.kind != "f"


class FiniteCheck(Check):
    name = "finite"
    explanation = "some entries are NaN, infinite, or beyond 1e50 rule standard deviations"

    def run(self, pool: Pool) -> CheckResult:
        entries, calls, total, first = 0, 0, 0, ""
        for d in pool.draws:
            if d.raw.dtype.kind in "fc":
                total += int(d.raw.size)
                k = int(np.count_nonzero(~np.isfinite(d.raw)))
                if k:
                    entries += k
                    calls += 1
                    first = first or f"fn({d.fan_in}, {d.fan_out}) with seed {d.seed}"
        detail = f"{entries} non-finite entries in {calls} calls, first {first}" if first else ""
        big = pool.oversized
        if big.entries:
            detail = "; ".join(
                x for x in (detail, f"{big.entries} {big.describe()} in {big.calls} calls") if x
            )
        ev = FiniteEvidence(entries, calls, len(pool.draws), total, big)
        bad = entries + big.entries
        return self.exact(bad, 0, bad == 0, detail, ev)


class ConstantValueCheck(Check):
    name = "constant value"
    explanation = "the entries are not the scheme's constant"

    def applies(self, family: Family) -> bool:
        return not family.is_random

    def run(self, pool: Pool) -> CheckResult | None:
        if not pool.kept:
            return None
        value = pool.scheme.value
        dev = max((float(np.max(np.abs(b.w - value))) for b in pool.blocks), default=0.0)
        return self.exact(dev, 0.0, dev == 0.0, f"max |w - value| = {dev:.3g}")


class BoundsCheck(Check):
    name = "bounds"
    explanation = "some entries lie outside the family's support"

    def applies(self, family: Family) -> bool:
        return family.is_random and math.isfinite(family.support_bound)

    def run(self, pool: Pool) -> CheckResult | None:
        if not pool.kept:
            return None
        bound = pool.scheme.family.support_bound
        mx = float(np.max(np.abs(pool.z))) if pool.z.size else 0.0
        lim = bound * (1.0 + 8.0 * pool.eps)
        detail = f"max |w| / sd_rule = {mx:.6g}, bound {bound:.6g}"
        return self.exact(mx, lim, mx <= lim, detail, BoundsEvidence(mx))


def duplicated_matrices(
    w: Array, atom: float | None = None, z: Array | None = None
) -> tuple[np.ndarray, str]:
    """Which matrices of a ``(calls, r, k)`` stack repeat a column or a row (exact, bytewise)
    where such a tie is implausible at the resolution the values are drawn at
    (:func:`~weight_init.properties.conformance._checks.resolution.ties_plausible`, with the
    value mass of the stack's standardized values ``z``, or of the dtype alone when ``z`` is
    None: one draw, as shrinking reads, is too few values to bound a grid step; checked only
    for the matrices that do repeat one); vectors whose entries all equal ``atom`` (when
    given) do not count."""
    flags = np.zeros(w.shape[0], dtype=bool)
    what = ""
    mass: float | None = None
    for axis, name in ((2, "columns (units)"), (1, "rows (inputs)")):
        if w.shape[axis] < 2:
            continue
        vecs = np.ascontiguousarray(np.swapaxes(w, 1, 2) if axis == 2 else w)
        n_vec, length = vecs.shape[1], vecs.shape[2]
        keys = vecs.view(np.dtype((np.void, length * vecs.itemsize))).reshape(-1, n_vec)
        order = np.argsort(keys, axis=1)
        keys = np.take_along_axis(keys, order, axis=1)
        same = keys[:, 1:] == keys[:, :-1]
        if atom is not None:  # the pair's vector is all atom: not a duplicated unit
            pure = np.take_along_axis(np.all(vecs == atom, axis=2), order, axis=1)
            same &= ~pure[:, 1:]
        dup = np.any(same, axis=1)
        if dup.any() and mass is None:
            # without the block's standardized values (one draw, shrinking), the dtype alone
            mass = value_mass(z, w) if z is not None else 2.0 ** -effective_bits(w)
        for i in np.flatnonzero(dup):
            dup[i] = not ties_plausible(n_vec, length, mass if mass is not None else 1.0)
        if np.any(dup & ~flags) and not what:
            what = name
        flags |= dup
    return flags, what


class DistinctUnitsCheck(Check):
    name = "distinct units"
    shrinkable = True
    explanation = "two units (columns) or inputs (rows) are identical: symmetry is not broken"

    def applies(self, family: Family) -> bool:
        return family.is_random

    def run(self, pool: Pool) -> CheckResult | None:
        if not pool.kept:
            return None
        count, first, n_mats = 0, "", 0
        for b in pool.blocks:
            n_mats += b.w.shape[0]
            flags, what = duplicated_matrices(b.w, pool.scheme.family.atom, b.z)
            if flags.any():
                count += int(flags.sum())
                first = first or f"fn({b.fan_in}, {b.fan_out}) repeats {what}"
        detail = f"{count} of {n_mats} matrices, e.g. {first}" if count else ""
        ev = DuplicateEvidence(detail) if count else None
        return self.exact(count, 0, count == 0, detail, ev)

    def fails_on(self, draw: Draw, layout: str) -> bool:
        if not draw.shape_ok(layout):
            return False
        flags, _ = duplicated_matrices(draw.in_out(layout)[None])
        return bool(flags[0])


class OrthogonalityCheck(Check):
    name = "orthogonality"
    explanation = "the matrix is not gain times an orthonormal matrix"

    def applies(self, family: Family) -> bool:
        return isinstance(family, Orthogonal)

    def run(self, pool: Pool) -> CheckResult | None:
        if not pool.kept:
            return None
        g2 = pool.scheme.rule.scale
        worst, worst_scale, worst_tol, where = 0.0, g2, 0.0, ""
        deviation, rel = math.nan, 0.0
        for b in pool.blocks:
            tall = b.fan_in >= b.fan_out
            wt = np.swapaxes(b.w, 1, 2)
            g = wt @ b.w if tall else b.w @ wt
            scale = np.einsum("cjj->c", g) / g.shape[1]
            eye = np.eye(g.shape[1])
            dev = np.max(
                np.abs(g / np.where(scale > 0, scale, 1.0)[:, None, None] - eye), axis=(1, 2)
            )
            err = np.maximum(dev, np.abs(scale / g2 - 1.0))
            tol = 50.0 * max(b.fan_in, b.fan_out) * b.eps
            k = int(np.argmax(err))
            if err[k] / tol > rel:
                rel = float(err[k] / tol)
                worst, worst_scale, worst_tol = float(err[k]), float(scale[k]), tol
                where = f"fn({b.fan_in}, {b.fan_out}): max |G/g^2 - I| = {err[k]:.3g}"
                deviation = float(dev[k])
        ev = OrthogonalityEvidence(worst_scale, deviation)
        return self.exact(worst, worst_tol, rel <= 1.0, where, ev)


class DeterminismCheck(Check):
    """At every shape of the design: the design's first call there, repeated with its seed,
    returns the same array (bytewise); at the shapes the design calls once, a call with
    another seed returns a different one (a tie counts only where the resolution of the
    draws makes it implausible, :func:`~.resolution.ties_plausible`). Shapes called more
    than once are the fresh-draws check's. One or two extra calls per shape."""

    name = "determinism"
    explanation = "the same seed does not give the same weights (or another seed the same)"

    def run(self, pool: Pool) -> CheckResult | None:
        mode = pool.seeding
        if mode == "global" or not pool.draws:
            return None
        fn, random = pool.fn, pool.scheme.family.is_random
        first: dict[tuple[int, int], Draw] = {}
        calls: dict[tuple[int, int], int] = {}
        for d in pool.draws:
            first.setdefault((d.fan_in, d.fan_out), d)
            calls[(d.fan_in, d.fan_out)] = calls.get((d.fan_in, d.fan_out), 0) + 1
        others = np.random.SeedSequence([pool.seed, 1]).generate_state(len(first))
        same, differ, where = True, True, ""
        for (shape, d), other in zip(first.items(), others, strict=True):
            fi, fo = shape
            again = call(fn, fi, fo, d.seed, mode)
            if again.shape != d.raw.shape or not np.array_equal(again, d.raw, equal_nan=True):
                same = False
                where = where or f"fn({fi}, {fo}, {mode}={d.seed}) twice: different arrays"
            if not random or calls[shape] > 1:
                continue
            s2 = int(other)
            if s2 == d.seed:
                s2 = (s2 + 1) % 2**32
            c = call(fn, fi, fo, s2, mode)
            if c.shape == d.raw.shape and np.array_equal(c, d.raw, equal_nan=True):
                mass = value_mass(c / max(float(np.std(c)), 1e-300), c) if c.size > 1 else 1.0
                if not ties_plausible(2, int(c.size), mass):
                    differ = False
                    where = where or f"fn({fi}, {fo}, {mode}=...) seeds {d.seed}, {s2}: same array"
        ok = same and differ
        shapes = list(first)
        detail = (
            f"{len(shapes)} shapes, fn{shapes[0]} to fn{shapes[-1]}, each repeated with its seed"
        ) + (f"; {where}" if where else "")
        ev = DeterminismEvidence(same, differ, where, len(first))
        return self.exact(float(not ok), 0.0, ok, detail, ev)


@dataclass(frozen=True)
class RepeatEvidence(Evidence):
    """``repeats`` of ``compared`` calls returned an array an earlier call (same shape,
    another seed) had returned; ``always`` when every repeated shape gave one array only;
    ``prefix`` calls (not counted in ``repeats``) began with an earlier call's leading
    entries, ``mirrored`` of them negated, ``where`` the first such pair."""

    repeats: int
    compared: int
    always: bool
    prefix: int = 0
    mirrored: int = 0
    where: str = ""


#: Leading entries of each call compared with every earlier call's (and their negation).
PREFIX = 16


class FreshDrawsCheck(Check):
    """Calls with different seeds return different arrays, and no call begins with an
    earlier call's leading entries or their negation (a stream restarted or reused, at any
    shape): independent draws of a continuous law coincide with probability 0, and a law on
    a grid with a probability the check bounds at the observed resolution
    (:func:`~.resolution.ties_plausible`); a tie counts only where it is implausible."""

    name = "fresh draws"
    explanation = (
        "calls with different seeds returned the same array, or the same (or negated) leading "
        "entries: randomness is ignored or reused"
    )

    def applies(self, family: Family) -> bool:
        return family.is_random

    def run(self, pool: Pool) -> CheckResult | None:
        repeats, compared, always, first = 0, 0, True, ""
        masses: list[float] = []

        def mass() -> float:  # asked only when some leading entries tie
            if not masses:
                masses.append(max((value_mass(b.z, b.w) for b in pool.blocks), default=1.0))
            return masses[0]

        for b in pool.blocks:
            if b.w.shape[0] < 2:
                continue
            # a repeat counts only between calls with different seeds (the design's seeds
            # are distinct, but a caller's own pool may not be)
            by_array: dict[bytes, set[int]] = {}
            for m, s in zip(b.w, b.seeds, strict=True):
                by_array.setdefault(m.tobytes(), set()).add(s)
            n_seeds = len(set(b.seeds))
            compared += n_seeds - 1
            repeated = sum(len(seeds) - 1 for seeds in by_array.values())
            free = min(int(b.w[0].size), pool.scheme.family.free_entries(b.fan_in, b.fan_out))
            if repeated and ties_plausible(n_seeds, free, value_mass(b.z, b.w)):
                repeated = 0
            repeats += repeated
            always = always and len(by_array) == 1
            if repeated:
                first = first or f"fn({b.fan_in}, {b.fan_out})"
        prefix, mirrored, where = _prefix_repeats(pool, mass)
        if not compared and not pool.kept:
            return None
        bad = repeats + prefix
        detail = ""
        if repeats:
            detail = f"{repeats} of {compared} calls repeat an earlier array, e.g. {first}"
        if prefix:
            detail += ("; " if detail else "") + (
                f"{prefix} calls begin with an earlier call's leading entries "
                f"({mirrored} negated), e.g. {where}"
            )
        ev = RepeatEvidence(repeats, compared, always and repeats > 0, prefix, mirrored, where)
        return self.exact(bad, 0, bad == 0, detail, ev)


#: Grid the leading entries are compared on, after dividing them by their root mean square.
PREFIX_GRID = 1e-6


def _prefix_repeats(pool: Pool, mass: Callable[[], float]) -> tuple[int, int, str]:
    """Calls (well formed, finite) whose first ``min(PREFIX, size)`` entries other than the
    family's atom, in the layout returned, are proportional to an earlier call's (a stream
    reused at another shape and scaled by another rule) or to their negation, where such a
    tie is implausible; full repeats at one shape are left to the caller. The entries are
    divided by their root mean square and compared on a grid of :data:`PREFIX_GRID`: a
    value then has mass at most ``max(q, 4 SUP_DENSITY PREFIX_GRID)`` (``q = mass()``, asked
    only when some leading entries tie) and the scale takes one entry's freedom, so ``L``
    entries tie with probability at most that to the ``L - 1``. Returns the count, how many
    were negated, and the first pair."""
    family = pool.scheme.family
    atom = family.atom
    heads: list[tuple[Draw, np.ndarray]] = []
    for d in pool.kept:
        v = np.asarray(d.raw, dtype=np.float64).ravel()
        if atom is not None:
            v = v[v != atom]
        heads.append((d, v[:PREFIX]))
    lengths = sorted({h.size for _, h in heads if h.size > 1})
    count, neg, where = 0, 0, ""
    flagged: set[int] = set()
    for length in lengths:
        group = [(d, h[:length]) for d, h in heads if h.size >= length]
        seen: dict[bytes, Draw] = {}
        hits: list[tuple[Draw, Draw, bool]] = []
        for d, h in group:
            rms = math.sqrt(float(np.mean(h * h)))
            if rms == 0.0:
                continue
            key = np.round(h / (rms * PREFIX_GRID)).astype(np.int64)
            hit, negated = seen.get(key.tobytes()), False
            if hit is None:
                hit, negated = seen.get((-key).tobytes()), True
            if hit is not None and id(d) not in flagged:
                full = hit.raw.shape == d.raw.shape and np.array_equal(hit.raw, d.raw)
                if not full:  # a full repeat at one shape is counted as a repeat
                    hits.append((d, hit, negated))
            seen.setdefault(key.tobytes(), d)
        q = max(mass(), 4.0 * SUP_DENSITY * PREFIX_GRID) if hits else 1.0
        for d, hit, negated in hits:
            # each pair by its own freedom: the fewer free entries of its two draws
            free = min(
                family.free_entries(d.fan_in, d.fan_out),
                family.free_entries(hit.fan_in, hit.fan_out),
                length - 1,
            )
            if ties_plausible(len(group), free, q, pairs_factor=2.0):
                continue
            flagged.add(id(d))
            count += 1
            neg += int(negated)
            where = where or (
                f"fn({d.fan_in}, {d.fan_out}) {'negates' if negated else 'repeats'} "
                f"the first {length} entries of fn({hit.fan_in}, {hit.fan_out})"
            )
    return count, neg, where


@dataclass(frozen=True)
class ZerosEvidence(Evidence):
    """Inputs whose zero count is not ``ceil(sparsity * fan_out)``: ``bad`` of ``inputs``, the
    first at ``where`` with ``found`` zeros instead of ``expected``; ``fraction`` is the
    observed share of exact zeros, ``expected_fraction`` the family's over the design."""

    bad: int
    inputs: int
    where: str
    found: int
    expected: int
    fraction: float
    expected_fraction: float


class ZerosPerInputCheck(Check):
    name = "zeros per input"
    explanation = "an input's weights do not hold exactly ceil(sparsity * fan_out) zeros"

    def applies(self, family: Family) -> bool:
        return isinstance(family, Sparse)

    def run(self, pool: Pool) -> CheckResult | None:
        family = pool.scheme.family
        if not pool.kept or not isinstance(family, Sparse):
            return None
        bad, inputs, zeros, total, expected_zeros = 0, 0, 0, 0, 0
        where, found, expected = "", 0, 0
        for b in pool.blocks:
            k = family.zeros(b.fan_out)
            counts = family.zeros_per_input(b.w)
            wrong = counts != k
            bad += int(wrong.sum())
            inputs += int(counts.size)
            zeros += int(counts.sum())
            total += int(b.w.size)
            expected_zeros += k * int(counts.size)
            if wrong.any() and not where:
                where = f"fn({b.fan_in}, {b.fan_out})"
                found, expected = int(counts[wrong].flat[0]), k
        detail = f"{bad} of {inputs} inputs, e.g. {where}: {found} zeros, not {expected}"
        ev = ZerosEvidence(
            bad,
            inputs,
            where,
            found,
            expected,
            zeros / total if total else 0.0,
            expected_zeros / total if total else 0.0,
        )
        return self.exact(bad, 0, bad == 0, detail if bad else "", ev)

    def describe_failure(self, result: CheckResult) -> str:
        ev = result.evidence
        if not isinstance(ev, ZerosEvidence):
            return ""
        return (
            f"{fmt_percent(ev.fraction)} of entries are exactly 0, not "
            f"{fmt_percent(ev.expected_fraction)}: {ev.bad} of {ev.inputs} inputs do not hold "
            f"ceil(sparsity * fan_out) zeros (e.g. {ev.where}: {ev.found}, not {ev.expected})"
        )
