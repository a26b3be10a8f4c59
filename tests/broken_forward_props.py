# ruff: noqa: NPY002  (the notes' contract: the input comes from numpy's legacy global state)
"""forward_props with the notes' contract: a faithful copy of the notes' code and broken ones.

Each follows ``forward_prop(hidden_layer_sizes, init) -> (acts, means, stds)`` and draws
its input as the notes do (``np.random.randn(1000, 500)``); ``BROKEN`` maps a name to
``(fn, words the check's diagnosis must contain)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Result = tuple[dict[int, Any], list[float], list[float]]


def notes_forward_prop(hidden_layer_sizes: list[int], init: Callable[..., Any]) -> Result:
    """The notes' code, unchanged in substance."""
    x = np.random.randn(1000, 500)
    acts: dict[int, Any] = {}
    h = x
    for i, fan_out in enumerate(hidden_layer_sizes):
        fan_in = h.shape[1]
        w = init(fan_in, fan_out)
        h = np.tanh(h @ w)
        acts[i] = h
    means = [float(np.mean(acts[i])) for i in acts]
    stds = [float(np.std(acts[i])) for i in acts]
    return acts, means, stds


def no_activation(hidden_layer_sizes: list[int], init: Callable[..., Any]) -> Result:
    """Forgets the tanh (a linear network)."""
    h = np.random.randn(1000, 500)
    acts: dict[int, Any] = {}
    for i, fan_out in enumerate(hidden_layer_sizes):
        h = h @ init(h.shape[1], fan_out)
        acts[i] = h
    return acts, [float(a.mean()) for a in acts.values()], [float(a.std()) for a in acts.values()]


def ignores_init(hidden_layer_sizes: list[int], init: Callable[..., Any]) -> Result:
    """Draws its own 0.01 * randn weights instead of calling init."""
    h = np.random.randn(1000, 500)
    acts: dict[int, Any] = {}
    for i, fan_out in enumerate(hidden_layer_sizes):
        h = np.tanh(h @ (0.01 * np.random.randn(h.shape[1], fan_out)))
        acts[i] = h
    return acts, [float(a.mean()) for a in acts.values()], [float(a.std()) for a in acts.values()]


def std_per_unit(hidden_layer_sizes: list[int], init: Callable[..., Any]) -> Result:
    """Reports the average per-unit std (over samples) instead of the layer's std."""
    acts, means, _ = notes_forward_prop(hidden_layer_sizes, init)
    return acts, means, [float(np.mean(np.std(a, axis=0))) for a in acts.values()]


def stds_shifted(hidden_layer_sizes: list[int], init: Callable[..., Any]) -> Result:
    """Off by one: reports the input's std for layer 1 and drops the last layer's."""
    acts, means, stds = notes_forward_prop(hidden_layer_sizes, init)
    return acts, means, [1.0, *stds[:-1]]


def own_input(hidden_layer_sizes: list[int], init: Callable[..., Any]) -> Result:
    """Correct maths on a standard-normal input from its own generator (a valid variant)."""
    h = np.random.default_rng(12345).standard_normal((1000, 500))
    acts: dict[int, Any] = {}
    for i, fan_out in enumerate(hidden_layer_sizes):
        h = np.tanh(h @ init(h.shape[1], fan_out))
        acts[i] = h
    return acts, [float(a.mean()) for a in acts.values()], [float(a.std()) for a in acts.values()]


def own_input_with_bias(hidden_layer_sizes: list[int], init: Callable[..., Any]) -> Result:
    """Own input and a bias of 0.5 added before the tanh."""
    h = np.random.default_rng(12345).standard_normal((1000, 500))
    acts: dict[int, Any] = {}
    for i, fan_out in enumerate(hidden_layer_sizes):
        h = np.tanh(h @ init(h.shape[1], fan_out) + 0.5)
        acts[i] = h
    return acts, [float(a.mean()) for a in acts.values()], [float(a.std()) for a in acts.values()]


def missing_last_layer(hidden_layer_sizes: list[int], init: Callable[..., Any]) -> Result:
    """Returns acts without the last layer."""
    acts, means, stds = notes_forward_prop(hidden_layer_sizes, init)
    acts.pop(len(hidden_layer_sizes) - 1)
    return acts, means, stds


def residual_when_square(hidden_layer_sizes: list[int], init: Callable[..., Any]) -> Result:
    """Adds a residual connection whenever a layer's width equals its input's (a square
    weight matrix): correct at every other width, wrong at the notes' own configuration."""
    h = np.random.randn(1000, 500)
    acts: dict[int, Any] = {}
    for i, fan_out in enumerate(hidden_layer_sizes):
        out = np.tanh(h @ init(h.shape[1], fan_out))
        h = out + h if h.shape[1] == fan_out else out
        acts[i] = h
    return acts, [float(a.mean()) for a in acts.values()], [float(a.std()) for a in acts.values()]


BROKEN: dict[str, tuple[Callable[..., Any], tuple[str, ...]]] = {
    "no activation": (no_activation, ("std vs reference",)),
    "ignores init": (ignores_init, ("init calls",)),
    "std per unit": (std_per_unit, ("self-consistency",)),
    "stds shifted": (stds_shifted, ("self-consistency",)),
    "own input with bias": (own_input_with_bias, ("std vs reference",)),
    "missing last layer": (missing_last_layer, ("contract",)),
    "residual when square": (residual_when_square, ("std vs reference",)),
}
