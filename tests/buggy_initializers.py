"""Buggy initializers, each with the scheme it claims and the defect a check must name.

Every function takes ``(fan_in, fan_out, rng)`` (a ``numpy.random.Generator``, so a
check seeds it) and returns ``(fan_in, fan_out)`` weights unless its bug is the layout.
``BUGS`` maps a name to ``(fn, declared scheme, convention, words the diagnosis must contain)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from weight_init.schemes import truncated_standard_normal

Array = NDArray[np.float64]


def wrong_fan_mode(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """he_normal computed with fan_out instead of fan_in."""
    return rng.standard_normal((fan_in, fan_out)) * math.sqrt(2.0 / fan_out)


def missing_gain(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """he_normal without ReLU's gain sqrt(2): variance 1/fan_in."""
    return rng.standard_normal((fan_in, fan_out)) * math.sqrt(1.0 / fan_in)


def uniform_without_sqrt3(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """glorot_uniform with bound std instead of sqrt(3) std: variance a third of the rule."""
    a = math.sqrt(2.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, (fan_in, fan_out))


def normal_for_uniform(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """glorot_uniform's variance, but drawn from a normal."""
    return rng.standard_normal((fan_in, fan_out)) * math.sqrt(2.0 / (fan_in + fan_out))


def truncated_without_correction(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """TensorFlow 1.x's glorot_normal: truncated at 2 sigma, sigma not divided by 0.8796."""
    sigma = math.sqrt(2.0 / (fan_in + fan_out))
    return truncated_standard_normal(rng, (fan_in, fan_out)) * sigma


def std_one_percent_wide(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """he_normal with std 1.01 x the rule."""
    return rng.standard_normal((fan_in, fan_out)) * 1.01 * math.sqrt(2.0 / fan_in)


def mean_shifted(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """he_normal plus 0.02 std."""
    std = math.sqrt(2.0 / fan_in)
    return (rng.standard_normal((fan_in, fan_out)) + 0.02) * std


def orthogonal_without_sign_correction(
    fan_in: int, fan_out: int, rng: np.random.Generator
) -> Array:
    """QR of a Gaussian matrix, Q taken as LAPACK returns it (not Haar)."""
    big, small = max(fan_in, fan_out), min(fan_in, fan_out)
    q, _ = np.linalg.qr(rng.standard_normal((big, small)))
    return q if fan_in >= fan_out else q.T


def duplicated_units(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """he_normal drawn for half the units, the other half copies them."""
    half = rng.standard_normal((fan_in, (fan_out + 1) // 2)) * math.sqrt(2.0 / fan_in)
    return np.concatenate([half, half], axis=1)[:, :fan_out]


def wrong_shape(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """he_normal with a square (fan_in, fan_in) shape."""
    return rng.standard_normal((fan_in, fan_in)) * math.sqrt(2.0 / fan_in)


def transposed_layout(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """he_normal returned (fan_out, fan_in) to a check expecting (fan_in, fan_out)."""
    return rng.standard_normal((fan_out, fan_in)) * math.sqrt(2.0 / fan_in)


def occasional_nan(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """he_normal that puts a NaN at a random entry in about one call in five."""
    w = rng.standard_normal((fan_in, fan_out)) * math.sqrt(2.0 / fan_in)
    if rng.random() < 0.2:
        w[rng.integers(fan_in), rng.integers(fan_out)] = np.nan
    return w


def linear_default(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """torch.nn.Linear's default, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), in numpy."""
    a = 1.0 / math.sqrt(fan_in)
    return rng.uniform(-a, a, (fan_in, fan_out))


def same_array(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """he_normal from a generator seeded with 0 at every call: its rng is ignored."""
    return np.random.default_rng(0).standard_normal((fan_in, fan_out)) * math.sqrt(2.0 / fan_in)


def heavy_tails(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """he_normal's variance, drawn from Student's t with 5 degrees of freedom (kurtosis 9)."""
    return rng.standard_t(5, (fan_in, fan_out)) * math.sqrt(2.0 / fan_in * 3.0 / 5.0)


def point_mass_at_zero(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """he_normal's variance, but a tenth of the entries dropped to exactly 0."""
    w = rng.standard_normal((fan_in, fan_out)) * math.sqrt(2.0 / fan_in / 0.9)
    w[rng.random((fan_in, fan_out)) < 0.1] = 0.0
    return w


def all_nan(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """Every entry NaN."""
    return np.full((fan_in, fan_out), np.nan)


Bug = tuple[Callable[..., Any], str, str, tuple[str, ...]]

BUGS: dict[str, Bug] = {
    "wrong fan mode": (wrong_fan_mode, "he_normal", "in_out", ("wrong fan mode", "fan_out")),
    "missing gain": (missing_gain, "he_normal", "in_out", ("missing gain",)),
    "uniform bound without sqrt(3)": (
        uniform_without_sqrt3,
        "glorot_uniform",
        "in_out",
        ("without sqrt(3)",),
    ),
    "normal drawn for a uniform scheme": (
        normal_for_uniform,
        "glorot_uniform",
        "in_out",
        ("normal drawn for a uniform scheme",),
    ),
    "truncated normal without variance correction": (
        truncated_without_correction,
        "glorot_truncated_normal",
        "in_out",
        ("0.77", "truncated normal without variance correction"),
    ),
    "std 1% too wide": (std_one_percent_wide, "he_normal", "in_out", ("% too wide",)),
    "mean shifted by 0.02 std": (mean_shifted, "he_normal", "in_out", ("mean shifted",)),
    "orthogonal without sign correction": (
        orthogonal_without_sign_correction,
        "orthogonal",
        "in_out",
        ("without sign correction",),
    ),
    "duplicated units": (duplicated_units, "he_normal", "in_out", ("duplicated units",)),
    "wrong shape": (wrong_shape, "he_normal", "in_out", ("wrong shape",)),
    "transposed layout": (transposed_layout, "he_normal", "in_out", ("transposed layout",)),
    "occasional NaN": (occasional_nan, "he_normal", "in_out", ("occasional NaN",)),
    "same array on every call": (
        same_array,
        "he_normal",
        "in_out",
        ("returns the same array on every call",),
    ),
    "heavy tails": (heavy_tails, "he_normal", "in_out", ("heavy tails", "kurtosis")),
    "point mass at 0": (point_mass_at_zero, "he_normal", "in_out", ("point mass at 0",)),
    "every entry NaN": (all_nan, "he_normal", "in_out", ("every entry is NaN",)),
    "nn.Linear's default declared as he_uniform": (
        linear_default,
        "he_uniform",
        "in_out",
        ("torch_linear_default",),
    ),
}
