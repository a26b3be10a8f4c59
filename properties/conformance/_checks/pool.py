"""The draws of one check, pooled once: every call, the well-formed ones stacked by shape,
and the standardized entries ``z = w / sd_rule`` every statistic reads.

A draw is well formed when it has the layout's shape and a real numeric dtype; a block
stacks the well-formed draws at one shape whose entries are all in range: finite and
``|w| <= Z_LIMIT sd_rule``. The in-range entries of other draws still count in the pooled
(1-D) ``z``, so the finite check and the statistics both see them. Constant schemes have no
``z``.

Why :data:`Z_LIMIT` = 1e50: an entry of a law with fourth moment ``E z^4 = kappa`` exceeds
``L`` standard deviations with probability at most ``kappa / L^4`` (Markov), so at
``L = 1e50`` a correct initializer gets such an entry in ``N`` draws with probability below
``N kappa 1e-200`` (nothing at any ``N`` float64 can hold); and below it every power up to
the fourth of ``N <= 1e100`` standardized entries sums to a finite float64, so no statistic
overflows. An entry beyond it (weights scaled by 1e100, +-1e308) fails the ``finite`` check
(:class:`Oversized` says how large), never a statistic.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from weight_init.properties.conformance._identify import ShapeMoments, shape_moments
from weight_init.properties.conformance._sampling import Draw
from weight_init.protocols import Seeding
from weight_init.schemes import Scheme

Array = NDArray[np.float64]


#: Standardized entries beyond this many rule standard deviations are out of any law's range
#: (see the module docstring).
Z_LIMIT = 1e50


@dataclass(frozen=True)
class Oversized:
    """Finite entries beyond :data:`Z_LIMIT` rule standard deviations: how many, in how many
    calls, the largest ``|w|`` and ``log10`` of its ratio to the rule's standard deviation
    there (a log: the ratio itself may exceed float64)."""

    entries: int = 0
    calls: int = 0
    largest: float = 0.0
    log10_ratio: float = 0.0

    def describe(self) -> str:
        """``entries of order 1e100 (about 1e101 times the rule's std)``."""
        order = f"1e{math.floor(math.log10(self.largest))}" if self.largest > 0 else "0"
        return (
            f"entries of order {order} (about 1e{math.floor(self.log10_ratio)} times the "
            "rule's std)"
        )


def _in_range(w: Array, limit: float) -> NDArray[np.bool_]:
    """Entries that are finite and at most ``limit`` in absolute value (NaN is not)."""
    with np.errstate(invalid="ignore"):
        return np.abs(w) <= limit


def machine_eps(dtype: np.dtype[Any]) -> float:
    """Machine epsilon of a floating dtype (float64's for integer arrays)."""
    return float(np.finfo(dtype).eps) if dtype.kind in "fc" else float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class Block:
    """The well-formed, finite draws at one shape, stacked: ``w`` is (calls, fan_in, fan_out)."""

    fan_in: int
    fan_out: int
    w: Array
    z: Array
    seeds: tuple[int, ...]
    eps: float


@dataclass(frozen=True)
class Pool:
    """Everything a check reads: the subject, the scheme, every draw and the pooled entries.

    A draw is well formed when it has the layout's shape and a real numeric dtype; a block
    stacks the well-formed draws at one shape that are entirely finite. The entries of partly
    non-finite draws still count in the pooled (1-D) ``z`` (their finite entries), so the
    finite check and the statistics both see them. Constant schemes have no ``z``.

    Attributes
    ----------
    fn : callable
        The initializer under test.
    scheme : Scheme
        The scheme it is checked against.
    layout : str
        The layout of its arrays, ``in_out`` or ``out_in``.
    seed : int
        The check's seed.
    seeding : {"rng", "seed", "global"}
        How the seed reached ``fn``.
    draws : tuple of Draw
        Every call: its fans, its seed and the array it returned.
    kept : tuple of Draw
        The well-formed, entirely finite draws.
    blocks : tuple of Block
        The kept draws stacked by shape: ``w`` is ``(calls, fan_in, fan_out)``, ``z`` its
        standardized entries.
    z : ndarray
        The pooled standardized entries, ``z = w / sd_rule`` (about the scheme's mean).
    oversized : Oversized
        The finite entries beyond ``Z_LIMIT`` rule standard deviations (how many, in how
        many calls, the largest), which the ``finite`` check fails as of an impossible order.
    moments : list of ShapeMoments
        Per-shape ``mean((w - mu)^2)`` and ``mean((w - mu)^4)`` of the kept draws, ``mu`` the
        scheme's mean.
    z_sorted : ndarray
        ``z`` in ascending order, sorted once for every check that needs it.
    eps : float
        The largest machine epsilon of the kept draws' dtypes.

    Examples
    --------
    A check that only looks (it returns None: nothing to test):

    >>> from weight_init import check_initializer, get_scheme
    >>> from weight_init.properties.conformance import Check, register_check, unregister_check
    >>> seen = {}
    >>> class Peek(Check):
    ...     name = "peek"
    ...     def run(self, pool):
    ...         seen.update(scheme=pool.scheme.name, seeding=pool.seeding, z=pool.z.size > 0)
    ...         return None
    >>> check = register_check(Peek())
    >>> try:
    ...     result = check_initializer(get_scheme("he_normal"), "he_normal", seed=0)
    ... finally:
    ...     unregister_check(check)
    >>> seen
    {'scheme': 'he_normal', 'seeding': 'rng', 'z': True}
    """

    fn: Callable[..., Any]
    scheme: Scheme
    layout: str
    seed: int
    seeding: Seeding
    draws: tuple[Draw, ...]
    kept: tuple[Draw, ...]
    blocks: tuple[Block, ...]
    z: Array
    oversized: Oversized = field(default_factory=Oversized)

    @cached_property
    def moments(self) -> list[ShapeMoments]:
        """Per-shape ``mean((w - mu)^2)``, ``mean((w - mu)^4)`` of the kept draws, ``mu`` the
        scheme's mean (0 but for a scheme with a location)."""
        mu = self.scheme.mean() if self.scheme.family.is_random else 0.0
        return shape_moments(self.kept, self.layout, mu)

    @cached_property
    def z_sorted(self) -> Array:
        """``z`` in ascending order, sorted once for every check that needs it."""
        return np.sort(self.z)

    @cached_property
    def z_mean(self) -> float:
        return float(self.z.mean()) if self.z.size else 0.0

    @property
    def eps(self) -> float:
        """The largest machine epsilon of the kept draws' dtypes."""
        return max((b.eps for b in self.blocks), default=machine_eps(np.dtype(np.float64)))


def build_pool(
    fn: Callable[..., Any],
    scheme: Scheme,
    layout: str,
    draws: Sequence[Draw],
    seed: int,
    seeding: Seeding,
) -> Pool:
    """Pool ``draws`` (see the module docstring)."""
    good = [d for d in draws if d.shape_ok(layout) and d.raw.dtype.kind in "fiu"]
    by_shape: dict[tuple[int, int], list[Draw]] = {}
    partial: list[Array] = []
    random = scheme.family.is_random
    big = [0, 0, 0.0, 0.0]
    for d in good:
        sd = math.sqrt(scheme.variance(d.fan_in, d.fan_out)) if random else 0.0
        limit = Z_LIMIT * sd if sd > 0 else math.inf
        w = d.in_out(layout)
        ok = _in_range(w, limit)
        if np.all(ok):
            by_shape.setdefault((d.fan_in, d.fan_out), []).append(d)
            continue
        huge = np.isfinite(w) & ~ok
        if np.any(huge):
            largest = float(np.max(np.abs(w[huge])))
            big[0], big[1] = big[0] + int(np.count_nonzero(huge)), big[1] + 1
            if largest > big[2]:
                big[2], big[3] = largest, math.log10(largest) - math.log10(sd)
        if random:
            partial.append(scheme.family.standardize(w[ok], scheme, d.fan_in, d.fan_out))
    blocks = []
    for (fi, fo), ds in by_shape.items():
        w = np.stack([d.in_out(layout) for d in ds])
        z = scheme.family.standardize(w, scheme, fi, fo)
        eps = max(machine_eps(d.raw.dtype) for d in ds)
        blocks.append(Block(fi, fo, w, z, tuple(d.seed for d in ds), eps))
    kept = tuple(d for ds in by_shape.values() for d in ds)
    flat = [b.z.ravel() for b in blocks] + partial if random else []
    z = np.concatenate(flat) if flat else np.empty(0)
    oversized = Oversized(int(big[0]), int(big[1]), float(big[2]), float(big[3]))
    return Pool(fn, scheme, layout, seed, seeding, tuple(draws), kept, tuple(blocks), z, oversized)
