"""Buggy initializers, each with the scheme it claims and the defect a check must name.

Every function takes ``(fan_in, fan_out, rng)`` (a ``numpy.random.Generator``, so a
check seeds it) and returns ``(fan_in, fan_out)`` weights unless its bug is the layout.
``BUGS`` maps a name to ``(fn, declared scheme, layout, words the diagnosis must contain)``.
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


def _he(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    return rng.standard_normal((fan_in, fan_out)) * math.sqrt(2.0 / fan_in)


def rows_correlated_at_lag_5(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """he_normal whose rows i and i+5 (i mod 10 < 5) have correlation 0.3 (variance kept)."""
    w = _he(fan_in, fan_out, rng)
    i = np.arange(fan_in - 5)
    i = i[i % 10 < 5]
    w[i + 5] = 0.3 * w[i] + math.sqrt(1 - 0.09) * w[i + 5]
    return w


def columns_correlated_at_lag_2(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """he_normal whose columns j and j+2 (j mod 4 < 2) have correlation 0.3 (variance kept)."""
    w = _he(fan_in, fan_out, rng)
    j = np.arange(fan_out - 2)
    j = j[j % 4 < 2]
    w[:, j + 2] = 0.3 * w[:, j] + math.sqrt(1 - 0.09) * w[:, j + 2]
    return w


def low_rank_plus_noise(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """he_normal's variance, a tenth of it from a rank-2 product U V' (U, V standard normal)."""
    noise = rng.standard_normal((fan_in, fan_out))
    spike = rng.standard_normal((fan_in, 2)) @ rng.standard_normal((2, fan_out)) / math.sqrt(2)
    return (math.sqrt(0.9) * noise + math.sqrt(0.1) * spike) * math.sqrt(2.0 / fan_in)


def std_wide_at_odd_fan_in(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """he_normal with std 1.05 x the rule when fan_in is odd, right otherwise."""
    return _he(fan_in, fan_out, rng) * (1.05 if fan_in % 2 else 1.0)


def std_wide_at_large_fan_in(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """he_normal with std 1.05 x the rule when fan_in > 1000, right otherwise."""
    return _he(fan_in, fan_out, rng) * (1.05 if fan_in > 1000 else 1.0)


def torch_sparse_like(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """torch.nn.init.sparse_(w, sparsity=0.1, std=0.01) in numpy, ``in_out``: each input's
    weights (torch's column) get exactly ceil(0.1 fan_out) zeros at random positions."""
    w = rng.standard_normal((fan_in, fan_out)) * 0.01
    k = math.ceil(0.1 * fan_out)
    order = np.argsort(rng.random((fan_in, fan_out)), axis=1)[:, :k]
    np.put_along_axis(w, order, 0.0, axis=1)
    return w


def geo_avg(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """JAX variance_scaling(1, "fan_geo_avg", "normal") (untruncated): 1/sqrt(fan_in fan_out)."""
    return rng.standard_normal((fan_in, fan_out)) * (fan_in * fan_out) ** -0.25


def mha_key_projection(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """nn.MultiheadAttention's key block of xavier_uniform_ over the stacked (3E, E) matrix,
    as a rule: Glorot's variance off the diagonal shapes, half of it on square ones."""
    v = 2.0 / (fan_in + fan_out) * (0.5 if fan_in == fan_out else 1.0)
    return rng.standard_normal((fan_in, fan_out)) * math.sqrt(v)


def conv3x3_slice(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """kaiming_normal_ of a 3x3 conv kernel, one 2-D slice: fan_in counts the kernel area 9."""
    return rng.standard_normal((fan_in, fan_out)) * math.sqrt(2.0 / (9 * fan_in))


def inverse_cdf_endpoint(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """timm's trunc_normal_(std=0.01, a=-2, b=2) through the inverse CDF: N(0, 0.01^2) (a cut
    at 200 sd is the normal law), but one entry is exactly the bound -2.0 (200 sd) in each
    (2053, 16) call (timm: about 3 in 1e8 draws)."""
    w = rng.standard_normal((fan_in, fan_out)) * 0.01
    if (fan_in, fan_out) == (2053, 16):
        w[0, 0] = -2.0
    return w


def one_sided_uniform(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """jax.nn.initializers.uniform(scale=0.01): U[0, 0.01)."""
    return rng.uniform(0.0, 0.01, (fan_in, fan_out))


def lecun_true(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """A true LeCun normal, N(0, 1/fan_in) (the notes' ``xavier``)."""
    return rng.standard_normal((fan_in, fan_out)) / math.sqrt(fan_in)


# -- defects between calls, at single shapes, across units and in the tails -------------------

_MIRROR: dict[tuple[int, int], Array] = {}


def mirrors_previous_call(fan_in: int, fan_out: int) -> Array:
    """he_normal from numpy's global state, but every second call at a shape returns minus
    the previous one (the second layer of a pair is the first one negated)."""
    last = _MIRROR.pop((fan_in, fan_out), None)
    if last is not None:
        return -last
    w = np.random.standard_normal((fan_in, fan_out)) * math.sqrt(2.0 / fan_in)  # noqa: NPY002
    _MIRROR[(fan_in, fan_out)] = w
    return w


def shared_component(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """he_normal whose calls share a fixed component holding a tenth of the variance (a
    private generator keyed by the shape): calls at one shape are correlated 0.1."""
    fixed = np.random.default_rng([fan_in, fan_out, 17]).standard_normal((fan_in, fan_out))
    z = math.sqrt(0.9) * rng.standard_normal((fan_in, fan_out)) + math.sqrt(0.1) * fixed
    return z * math.sqrt(2.0 / fan_in)


_CALLS_AT: dict[tuple[int, int], int] = {}


def shape_keyed_stream(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """he_normal from a private stream keyed by how often the shape was called: the k-th call
    at every shape starts with the same entries (its rng is ignored; calls at one shape
    differ, so comparing calls at one shape does not show it)."""
    k = _CALLS_AT.get((fan_in, fan_out), 0)
    _CALLS_AT[(fan_in, fan_out)] = k + 1
    stream = np.random.default_rng([k, 23])
    return stream.standard_normal((fan_in, fan_out)) * math.sqrt(2.0 / fan_in)


def seed_ignored_at_large_fan_in(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """he_normal from a fixed private generator when fan_in > 1000 (its rng is ignored there),
    right otherwise."""
    gen = np.random.default_rng(0) if fan_in > 1000 else rng
    return _he(fan_in, fan_out, gen)


def unseeded_at_odd_fan_out(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """he_normal from fresh OS entropy when fan_out is odd: the same rng does not give the
    same array there."""
    gen = np.random.default_rng() if fan_out % 2 else rng
    return _he(fan_in, fan_out, gen)


def heteroscedastic_units(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """he_normal with the first half of the units at 1.10x the std and the second half at
    0.89x (the variance right on average: (1.21 + 0.7921) / 2 = 1.001)."""
    w = _he(fan_in, fan_out, rng)
    half = fan_out // 2
    w[:, :half] *= 1.10
    w[:, half:] *= 0.89
    return w


def heteroscedastic_inputs(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """he_normal with even inputs (rows) at 1.10x the std and odd ones at 0.89x."""
    w = _he(fan_in, fan_out, rng)
    w[0::2] *= 1.10
    w[1::2] *= 0.89
    return w


def clipped_uniform(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """he_uniform clipped at 0.99 of its bound: 1% of the mass on two atoms at +-0.99 b."""
    b = math.sqrt(6.0 / fan_in)
    return np.clip(rng.uniform(-b, b, (fan_in, fan_out)), -0.99 * b, 0.99 * b)


def clipped_normal(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """he_normal clipped at 2.576 std (1% of the mass on two atoms)."""
    return np.clip(rng.standard_normal((fan_in, fan_out)), -2.576, 2.576) * math.sqrt(2.0 / fan_in)


def truncated_at_1_9(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """he_truncated_normal cut at 1.9 std instead of 2 (5% off), its variance corrected."""
    from scipy import stats

    law = stats.truncnorm(-1.9, 1.9)
    z = law.ppf(rng.random((fan_in, fan_out))) / math.sqrt(float(law.var()))
    return z * math.sqrt(2.0 / fan_in)


def rank_one_spike(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """he_normal plus, at shapes of 16,384 entries or more, a rank-one component ``theta u v'``
    on a random quarter of the inputs, ``theta`` twice the BBP threshold ``(fan_in
    fan_out)^(1/4)`` (in entry std units), the noise scaled so the variance is the rule's: the
    top singular value leaves the Marchenko-Pastur bulk, the sum of s^4 hardly moves."""
    n = fan_in * fan_out
    z = rng.standard_normal((fan_in, fan_out))
    if n >= 16384:
        theta = 2.0 * n**0.25
        u = rng.standard_normal(fan_in) * (rng.random(fan_in) < 0.25)
        v = rng.standard_normal(fan_out)
        nu, nv = np.linalg.norm(u), np.linalg.norm(v)
        if nu > 0:
            z = math.sqrt(1.0 - theta * theta / n) * z + theta * np.outer(u / nu, v / nv)
    return z * math.sqrt(2.0 / fan_in)


def quantized_normal(fan_in: int, fan_out: int, rng: np.random.Generator) -> Array:
    """he_normal rounded to 1/64 of its std (a benign law on a grid: ties between units and
    between small arrays are then expected, not evidence)."""
    return np.round(rng.standard_normal((fan_in, fan_out)) * 64.0) / 64.0 * math.sqrt(2.0 / fan_in)


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
        ("truncated normal without variance correction",),
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
    "rows i and i+5 correlated 0.3": (
        rows_correlated_at_lag_5,
        "he_normal",
        "in_out",
        ("Marchenko-Pastur",),
    ),
    "columns two apart correlated 0.3": (
        columns_correlated_at_lag_2,
        "he_normal",
        "in_out",
        ("Marchenko-Pastur",),
    ),
    "low rank plus noise": (low_rank_plus_noise, "he_normal", "in_out", ("low-rank",)),
    "torch's sparse_ declared as a normal": (
        torch_sparse_like,
        "small_normal",
        "in_out",
        ("point mass at 0", "sparse(sparsity=0.1"),
    ),
    "fan_geo_avg declared as glorot_normal": (
        geo_avg,
        "glorot_normal",
        "in_out",
        ("wrong fan mode", "fan_geo_avg"),
    ),
    "MultiheadAttention key block declared as glorot_normal": (
        mha_key_projection,
        "glorot_normal",
        "in_out",
        ("depends on the fans differently", "square shapes"),
    ),
    "3x3 conv slice declared as he_normal": (
        conv3x3_slice,
        "he_normal",
        "in_out",
        ("kernel area 9",),
    ),
    "one entry at 200 sd": (inverse_cdf_endpoint, "small_normal", "in_out", ("beyond 10 sd",)),
    "std 5% wide at odd fan_in": (std_wide_at_odd_fan_in, "he_normal", "in_out", ()),
    "every second call mirrors the one before": (
        mirrors_previous_call,
        "he_normal",
        "in_out",
        ("negated leading entries", "calls are not independent"),
    ),
    "calls share a fixed component": (
        shared_component,
        "he_normal",
        "in_out",
        ("calls are not independent", "share a component"),
    ),
    "streams keyed by shape": (shape_keyed_stream, "he_normal", "in_out", ("reuses its random",)),
    "seed ignored at fan_in > 1000": (
        seed_ignored_at_large_fan_in,
        "he_normal",
        "in_out",
        ("ignored",),
    ),
    "unseeded at odd fan_out": (unseeded_at_odd_fan_out, "he_normal", "in_out", ("reproducible",)),
    "half the units 10% wide": (
        heteroscedastic_units,
        "he_normal",
        "in_out",
        ("units do not share one variance", "units 0-1023 at "),
    ),
    "even inputs 10% wide": (
        heteroscedastic_inputs,
        "he_normal",
        "in_out",
        ("inputs do not share one variance", "even inputs at "),
    ),
    "uniform clipped at 0.99 of its bound": (
        clipped_uniform,
        "he_uniform",
        "in_out",
        ("stop short", "the bound 1.732"),
    ),
    "normal clipped at 2.576 std": (clipped_normal, "he_normal", "in_out", ("stop short",)),
    "truncated normal cut at 1.9 std": (
        truncated_at_1_9,
        "he_truncated_normal",
        "in_out",
        ("stop short", "the bound 2.274"),
    ),
    "rank-one spike at 2x BBP": (rank_one_spike, "he_normal", "in_out", ("one direction carries",)),
    "std 5% wide at fan_in > 1000": (std_wide_at_large_fan_in, "he_normal", "in_out", ()),
}
