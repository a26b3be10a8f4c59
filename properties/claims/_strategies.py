"""Hypothesis strategies for the property suite: cases, never statistical samples.

Hypothesis draws the *case* (depth, per-layer widths, batch size, activation,
scheme, scale, seed); every random number inside a property comes from a numpy
Generator seeded with the drawn ``seed``. Network sizes are capped so one
forward pass costs at most ``MAX_COST`` multiply-adds
(``batch * sum_l n_{l-1} n_l``): about 20 ms, so a 25-example property runs in
seconds.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from hypothesis import strategies as st

from weight_init.activations import activation_names
from weight_init.schemes import SCHEMES

MAX_COST = 4e7
#: Widths drawn per layer: very unequal neighbours (16 next to 256) are common.
WIDTHS = (16, 24, 32, 48, 64, 96, 128, 192, 256)
BATCHES = (64, 128, 256, 512)

seeds = st.integers(min_value=0, max_value=2**31 - 1)
activations = st.sampled_from(activation_names())
non_constant_schemes = st.sampled_from([n for n, s in SCHEMES.items() if s.family.is_random])


@dataclass(frozen=True)
class Network:
    """A drawn case: layer widths, input dimension and batch size."""

    widths: tuple[int, ...]
    input_dim: int
    n_samples: int

    @property
    def cost(self) -> int:
        fans = (self.input_dim, *self.widths)
        return self.n_samples * sum(a * b for a, b in itertools.pairwise(fans))

    def kwargs(self) -> dict[str, object]:
        return {
            "widths": list(self.widths),
            "input_dim": self.input_dim,
            "n_samples": self.n_samples,
        }


@st.composite
def networks(
    draw: st.DrawFn,
    *,
    min_depth: int = 1,
    max_depth: int = 30,
    min_width: int = 16,
    max_width: int = 256,
    constant_width: bool | None = None,
) -> Network:
    """Depth in [min_depth, max_depth], widths from WIDTHS within bounds (constant or per
    layer), batch from BATCHES; the batch, then the widths, shrink until the cost fits."""
    depth = draw(st.integers(min_depth, max_depth))
    choices = [w for w in WIDTHS if min_width <= w <= max_width]
    constant = draw(st.booleans()) if constant_width is None else constant_width
    if constant:
        widths = [draw(st.sampled_from(choices))] * depth
    else:
        widths = draw(st.lists(st.sampled_from(choices), min_size=depth, max_size=depth))
    input_dim = draw(st.sampled_from(choices))
    batch = draw(st.sampled_from(BATCHES))
    net = Network(tuple(widths), input_dim, batch)
    while net.cost > MAX_COST and net.n_samples > BATCHES[0]:
        net = Network(net.widths, net.input_dim, net.n_samples // 2)
    while net.cost > MAX_COST:
        smaller = tuple(max(choices[0], w // 2) for w in net.widths)
        if smaller == net.widths:
            break
        net = Network(smaller, max(choices[0], net.input_dim // 2), net.n_samples)
    return net


def small_scales(max_gain: float = 0.95) -> st.SearchStrategy[float]:
    """A gain ``g`` in [0.05, max_gain]; the property turns it into sigma = g / sqrt(max fan)."""
    return st.floats(min_value=0.05, max_value=max_gain)


def big_gains(min_gain: float = 4.0, max_gain: float = 30.0) -> st.SearchStrategy[float]:
    """A minimum layer gain ``sigma sqrt(min fan)`` for big init."""
    return st.floats(min_value=min_gain, max_value=max_gain)


constant_values = st.one_of(st.just(0.0), st.floats(min_value=-0.5, max_value=0.5))
