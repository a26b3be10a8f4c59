"""The draws of one check, pooled once: every call, the well-formed ones stacked by shape,
and the standardized entries ``z = w / sd_rule`` every statistic reads.

A draw is well formed when it has the layout's shape and a real numeric dtype; a block
stacks the well-formed draws at one shape that are entirely finite. The entries of
partly non-finite draws still count in the pooled (1-D) ``z`` (their finite entries), so
the finite check and the statistics both see them. Constant schemes have no ``z``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from weight_init.properties.conformance._identify import ShapeMoments, shape_moments
from weight_init.properties.conformance._sampling import Draw
from weight_init.protocols import Seeding
from weight_init.schemes import Scheme

Array = NDArray[np.float64]


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
    for d in good:
        if np.all(np.isfinite(d.raw)):
            by_shape.setdefault((d.fan_in, d.fan_out), []).append(d)
        elif random:
            w = d.in_out(layout)
            partial.append(
                scheme.family.standardize(w[np.isfinite(w)], scheme, d.fan_in, d.fan_out)
            )
    blocks = []
    for (fi, fo), ds in by_shape.items():
        w = np.stack([d.in_out(layout) for d in ds])
        z = scheme.family.standardize(w, scheme, fi, fo)
        eps = max(machine_eps(d.raw.dtype) for d in ds)
        blocks.append(Block(fi, fo, w, z, tuple(d.seed for d in ds), eps))
    kept = tuple(d for ds in by_shape.values() for d in ds)
    flat = [b.z.ravel() for b in blocks] + partial if random else []
    z = np.concatenate(flat) if flat else np.empty(0)
    return Pool(fn, scheme, layout, seed, seeding, tuple(draws), kept, tuple(blocks), z)
