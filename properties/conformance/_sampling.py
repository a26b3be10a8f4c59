"""Drawing weight matrices from a candidate initializer, seeded and over a design of shapes.

A candidate is any callable ``fn(fan_in, fan_out)`` returning something
``numpy.asarray`` accepts (torch tensors and JAX arrays included), laid out
``(fan_in, fan_out)`` (``in_out``) or ``(fan_out, fan_in)`` (``out_in``). Each call
gets its own seed from ``numpy.random.SeedSequence(seed)``, passed as
:func:`weight_init.protocols.seeding_of` says:

* ``fn`` takes an ``rng`` keyword: a ``numpy.random.Generator`` seeded with it;
* else a ``seed`` keyword: the int (the adapters in :mod:`.adapters` take this one);
* else numpy's legacy global state, :mod:`random` and (if imported) torch's default
  generator are seeded with it around the call and restored afterwards.
"""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from weight_init.errors import InitializerCallError, InitializerTypeError, describe_exception
from weight_init.host_arrays import to_host
from weight_init.properties._torch_seed import manual_seed
from weight_init.protocols import Seeding, seeding_of

#: How a seed reaches the initializer (:func:`weight_init.protocols.seeding_of`).
SeedMode = Seeding

#: The fixed shapes ``(fan_in, fan_out)`` of a check: very unequal fans both ways (fan_in vs
#: fan_out vs fan_avg and a transposed layout differ by up to 128x), square ones, odd and
#: prime fans on both sides (17, 47, 97, 199, 251, 257, 2053; 31), fans >= 2048 on both
#: sides, and sizes whose log fans are not collinear, so ``c fan_in^a fan_out^b`` is
#: identifiable. :func:`design_shapes` adds shapes drawn per check.
DEFAULT_SHAPES: tuple[tuple[int, int], ...] = (
    (8, 512),
    (512, 8),
    (17, 257),
    (251, 16),
    (24, 24),
    (47, 160),
    (160, 48),
    (97, 97),
    (32, 640),
    (640, 31),
    (199, 200),
    (2053, 16),
    (16, 2048),
)

#: Shapes drawn per check on top of :data:`DEFAULT_SHAPES`.
N_DRAWN_SHAPES = 3
#: Drawn shapes hold at most this many entries (a check's time stays bounded).
MAX_DRAWN_ENTRIES = 2**16


def drawn_shapes(seed: int, k: int = N_DRAWN_SHAPES) -> tuple[tuple[int, int], ...]:
    """``k`` shapes drawn from the check's ``seed`` (its own stream, ``SeedSequence(seed)``'s
    first child, so the weights' call seeds do not depend on it): ``log2 a ~ U(1, 11)``,
    ``log2 b ~ U(1, min(11, 16 - log2 a))``, rounded, swapped with probability 1/2; so fans
    run over every integer in [2, 2048], odd and prime ones included, with at most
    :data:`MAX_DRAWN_ENTRIES` entries. (Hypothesis cannot draw them: a check runs inside
    Hypothesis tests, which forbid a nested search; these are cases, not samples.)"""
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    out = []
    for _ in range(k):
        la = rng.uniform(1.0, 11.0)
        lb = rng.uniform(1.0, min(11.0, math.log2(MAX_DRAWN_ENTRIES) - la))
        a, b = round(2.0**la), round(2.0**lb)
        out.append((a, b) if rng.random() < 0.5 else (b, a))
    return tuple(out)


def design_shapes(seed: int) -> tuple[tuple[int, int], ...]:
    """A check's shapes: :data:`DEFAULT_SHAPES` then :func:`drawn_shapes` of its seed."""
    return DEFAULT_SHAPES + drawn_shapes(seed)


@contextmanager
def global_seed(seed: int) -> Iterator[None]:
    """Seed numpy's legacy state, :mod:`random` and torch (if imported); restore them after."""
    np_state = np.random.get_state()  # noqa: NPY002
    py_state = random.getstate()
    torch: Any = sys.modules.get("torch")
    torch_state = torch.get_rng_state() if torch is not None else None
    np.random.seed(seed % 2**32)  # noqa: NPY002
    random.seed(seed)
    if torch is not None:
        manual_seed(torch, seed)
    try:
        yield
    finally:
        np.random.set_state(np_state)  # noqa: NPY002
        random.setstate(py_state)
        if torch is not None and torch_state is not None:
            torch.set_rng_state(torch_state)


def to_numpy(value: object, where: str) -> NDArray[Any]:
    """``value`` as a numpy array (:func:`weight_init.host_arrays.to_host`: torch tensors
    detached and copied from any device, bfloat16 widened exactly); a non-numeric result
    is a type error."""
    try:
        arr = to_host(value)
    except Exception as exc:
        raise InitializerTypeError(
            f"{where} returned {type(value).__name__}, not an array ({describe_exception(exc)})"
        ) from None
    if arr.dtype.kind not in "biufc":
        raise InitializerTypeError(
            f"{where} returned {type(value).__name__} of dtype {arr.dtype}, not a numeric array"
        )
    return arr


def call(
    fn: Callable[..., Any], fan_in: int, fan_out: int, seed: int, mode: SeedMode
) -> NDArray[Any]:
    """One seeded call ``fn(fan_in, fan_out)``; its exceptions become InitializerCallError."""
    where = f"fn({fan_in}, {fan_out})"
    try:
        if mode == "rng":
            out = fn(fan_in, fan_out, rng=np.random.default_rng(seed))
        elif mode == "seed":
            out = fn(fan_in, fan_out, seed=seed)
        else:
            with global_seed(seed):
                out = fn(fan_in, fan_out)
    except Exception as exc:
        raise InitializerCallError(f"{where} raised {describe_exception(exc)}") from None
    return to_numpy(out, where)


@dataclass(frozen=True)
class Draw:
    """One call: the fans, the seed, the raw array as returned and its layout."""

    fan_in: int
    fan_out: int
    seed: int
    raw: NDArray[Any]

    def expected_shape(self, layout: str) -> tuple[int, int]:
        fi, fo = self.fan_in, self.fan_out
        return (fi, fo) if layout == "in_out" else (fo, fi)

    def shape_ok(self, layout: str) -> bool:
        return tuple(self.raw.shape) == self.expected_shape(layout)

    def in_out(self, layout: str) -> NDArray[np.float64]:
        """The weights as float64 ``(fan_in, fan_out)`` (only when :meth:`shape_ok`)."""
        w = self.raw if layout == "in_out" else self.raw.T
        return np.asarray(w.real if w.dtype.kind == "c" else w, dtype=np.float64)


def calls_per_shape(
    shapes: Sequence[tuple[int, int]], n_entries: int, n_diagonal: int = 0, minimum: int = 1
) -> list[int]:
    """Calls at each shape so the design holds about ``n_entries`` entries, split evenly
    across shapes, and at least ``n_diagonal`` diagonal entries (``min(fans)`` per call):
    any shortfall is made up at the shape with the most diagonal entries per entry drawn
    (the squarest, smallest one), not by scaling every shape."""
    k = len(shapes)
    counts = [max(minimum, math.ceil(n_entries / (k * fi * fo))) for fi, fo in shapes]
    diag = sum(c * min(s) for c, s in zip(counts, shapes, strict=True))
    if diag < n_diagonal:
        best = max(range(k), key=lambda i: min(shapes[i]) / (shapes[i][0] * shapes[i][1]))
        counts[best] += math.ceil((n_diagonal - diag) / min(shapes[best]))
    return counts


def call_seeds(seed: int, n: int) -> list[int]:
    """``n`` distinct 32-bit call seeds: the first ``n`` distinct words of
    ``SeedSequence(seed).generate_state``. Plain words would repeat one with probability
    about ``n^2 / 2^33`` (5e-4 for a kernel design of 2,112 calls), and two calls with the
    same seed return the same array: a "fresh draws" false alarm. The stream's prefix does
    not depend on its length, so the seeds of a design without repeats are its plain words."""
    ss = np.random.SeedSequence(seed)
    length = n
    while True:
        words = ss.generate_state(length, dtype=np.uint32)
        distinct = list(dict.fromkeys(int(w) for w in words))
        if len(distinct) >= n:
            return distinct[:n]
        length += n - len(distinct) + 8


def draw_design(
    fn: Callable[..., Any],
    shapes: Sequence[tuple[int, int]],
    counts: Sequence[int],
    seed: int,
) -> list[Draw]:
    """Call ``fn`` ``counts[k]`` times at ``shapes[k]``, each call seeded from ``seed`` with a
    seed of its own (:func:`call_seeds`)."""
    mode = seeding_of(fn)
    total = sum(counts)
    seeds = call_seeds(seed, total)
    draws: list[Draw] = []
    i = 0
    for (fi, fo), c in zip(shapes, counts, strict=True):
        for _ in range(c):
            s = int(seeds[i])
            draws.append(Draw(fi, fo, s, call(fn, fi, fo, s, mode)))
            i += 1
    return draws
