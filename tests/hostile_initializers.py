"""Initializers that are hard on the checker rather than simply wrong: extreme but finite
magnitudes, output rounded to a grid and not reproducible at a seed, file descriptors closed
under the check. Each takes ``(fan_in, fan_out, rng)`` like :mod:`buggy_initializers`."""

from __future__ import annotations

import math
import os

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def he(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """A conforming he_normal."""
    return rng.standard_normal((fan_in, fan_out)) * math.sqrt(2.0 / fan_in)


def times_1e100(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """he_normal scaled by 1e100: finite, but its fourth moments overflow float64."""
    return he(fan_in, fan_out, rng) * 1e100


def plus_minus_1e308(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """Every entry +-1e308, the largest finite float64 magnitudes."""
    return np.where(rng.standard_normal((fan_in, fan_out)) > 0, 1e308, -1e308)


_UNSEEDED = np.random.default_rng()


def grid_unseeded(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """Draws rounded to integers, from a generator of its own (the seed is ignored: the same
    call gives different arrays, so a failing shape does not fail again)."""
    return np.round(_UNSEEDED.standard_normal((fan_in, fan_out)))


def closes_file_descriptors(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """Closes every file descriptor above stderr (the check's result pipe among them)."""
    os.closerange(3, 256)
    return he(fan_in, fan_out, rng)
