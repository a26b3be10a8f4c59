"""Exact checks of the reference schemes: shapes, dtypes, variance rules, bounds, orthogonality,
determinism. (The distributional conformance tests live in the conformance suite.)"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from weight_init.schemes import (
    SCHEME_ALIASES,
    SCHEMES,
    TRUNCATED_NORMAL_STD,
    canonical_name,
    constant,
    get_scheme,
    orthogonal,
    scheme_names,
    variance_scaling,
)

fans = st.integers(1, 64)
seeds = st.integers(0, 2**32 - 1)

EXPECTED_VARIANCE = {
    "zeros": lambda fi, fo: 0.0,
    "small_normal": lambda fi, fo: 1e-4,
    "big_normal": lambda fi, fo: 1.0,
    "xavier": lambda fi, fo: 1 / fi,
    "lecun_normal": lambda fi, fo: 1 / fi,
    "lecun_uniform": lambda fi, fo: 1 / fi,
    "glorot_normal": lambda fi, fo: 2 / (fi + fo),
    "glorot_uniform": lambda fi, fo: 2 / (fi + fo),
    "he_normal": lambda fi, fo: 2 / fi,
    "he_uniform": lambda fi, fo: 2 / fi,
    "lecun_truncated_normal": lambda fi, fo: 1 / fi,
    "glorot_truncated_normal": lambda fi, fo: 2 / (fi + fo),
    "he_truncated_normal": lambda fi, fo: 2 / fi,
    "orthogonal": lambda fi, fo: 1 / max(fi, fo),
    "torch_linear_default": lambda fi, fo: 1 / (3 * fi),
}


def test_every_registered_scheme_has_a_documented_rule() -> None:
    assert set(scheme_names()) == set(EXPECTED_VARIANCE)


def test_truncated_normal_std_constant() -> None:
    assert stats.truncnorm(-2, 2).std() == pytest.approx(TRUNCATED_NORMAL_STD, rel=1e-15)


@given(name=st.sampled_from(sorted(SCHEMES)), fan_in=fans, fan_out=fans, seed=seeds)
def test_shape_dtype_finiteness_variance_rule_and_determinism(
    name: str, fan_in: int, fan_out: int, seed: int
) -> None:
    scheme = get_scheme(name)
    assert scheme.variance(fan_in, fan_out) == pytest.approx(
        EXPECTED_VARIANCE[name](fan_in, fan_out), rel=1e-12
    ), f"{name} at ({fan_in}, {fan_out})"
    w = scheme(fan_in, fan_out, rng=np.random.default_rng(seed))
    assert w.shape == (fan_in, fan_out) and w.dtype == np.float64
    assert np.isfinite(w).all()
    again = scheme(fan_in, fan_out, rng=np.random.default_rng(seed))
    np.testing.assert_array_equal(w, again, err_msg=f"{name}: same seed, different weights")
    w32 = scheme.sample(fan_in, fan_out, rng=np.random.default_rng(seed), dtype=np.float32)
    assert w32.dtype == np.float32


@given(
    name=st.sampled_from(["lecun_uniform", "glorot_uniform", "he_uniform", "torch_linear_default"]),
    fan_in=fans,
    fan_out=fans,
    seed=seeds,
)
def test_uniform_bounds_are_sqrt3_std(name: str, fan_in: int, fan_out: int, seed: int) -> None:
    scheme = get_scheme(name)
    bound = math.sqrt(3 * scheme.variance(fan_in, fan_out))
    w = scheme(fan_in, fan_out, rng=np.random.default_rng(seed))
    assert np.abs(w).max() <= bound, f"{name}: entry beyond sqrt(3 var) = {bound}"


@given(
    name=st.sampled_from(
        ["lecun_truncated_normal", "glorot_truncated_normal", "he_truncated_normal"]
    ),
    fan_in=fans,
    fan_out=fans,
    seed=seeds,
)
def test_truncated_normal_bounds(name: str, fan_in: int, fan_out: int, seed: int) -> None:
    scheme = get_scheme(name)
    sigma = scheme.std(fan_in, fan_out) / TRUNCATED_NORMAL_STD
    w = scheme(fan_in, fan_out, rng=np.random.default_rng(seed))
    assert np.abs(w).max() <= 2 * sigma


@given(fan_in=fans, fan_out=fans, seed=seeds, gain=st.floats(0.1, 3.0))
def test_orthogonal_is_orthogonal(fan_in: int, fan_out: int, seed: int, gain: float) -> None:
    w = orthogonal(gain)(fan_in, fan_out, rng=np.random.default_rng(seed)) / gain
    small = min(fan_in, fan_out)
    gram = w.T @ w if fan_in >= fan_out else w @ w.T
    np.testing.assert_allclose(
        gram,
        np.eye(small),
        atol=1e-10,
        err_msg=f"orthogonal({gain}) at ({fan_in}, {fan_out}), seed {seed}",
    )


def test_constant_and_zeros() -> None:
    np.testing.assert_array_equal(get_scheme("zeros")(3, 4), np.zeros((3, 4)))
    np.testing.assert_array_equal(constant(0.5)(2, 2), np.full((2, 2), 0.5))


def test_variance_scaling_builds_the_named_rules() -> None:
    he = variance_scaling(2.0, "fan_in", "normal")
    glorot = variance_scaling(1.0, "fan_avg", "uniform")
    assert he.variance(50, 10) == get_scheme("he_normal").variance(50, 10)
    assert glorot.variance(50, 10) == get_scheme("glorot_uniform").variance(50, 10)
    assert variance_scaling(3.0, "fan_out").variance(7, 12) == pytest.approx(3 / 12)
    assert variance_scaling(0.25, "fixed").variance(7, 12) == 0.25
    assert variance_scaling(1.0, distribution="untruncated_normal").family == "normal"


def test_legacy_global_state_is_used_without_rng() -> None:
    np.random.seed(5)  # noqa: NPY002
    a = get_scheme("he_uniform")(6, 3)
    np.random.seed(5)  # noqa: NPY002
    b = get_scheme("he_uniform")(6, 3)
    np.testing.assert_array_equal(a, b)


def test_torch_names_are_aliases_of_the_glorot_and_he_schemes() -> None:
    """torch's names find the registered Glorot/He scheme itself (no second copy), wherever a
    scheme name is read; ``xavier`` stays the notes' LeCun rule."""
    import argparse

    from weight_init.app._commands.argtypes import scheme_name
    from weight_init.scheme_expressions import parse_scheme

    want = {
        "xavier_normal": "glorot_normal",
        "xavier_uniform": "glorot_uniform",
        "kaiming_normal": "he_normal",
        "kaiming_uniform": "he_uniform",
    }
    assert dict(SCHEME_ALIASES) == want
    for alias, name in want.items():
        assert get_scheme(alias) is SCHEMES[name] and canonical_name(alias) == name
        assert parse_scheme(alias) is SCHEMES[name] and scheme_name(alias) == name
        assert alias not in SCHEMES and alias not in scheme_names()
    assert get_scheme("xavier").rule.mode == "fan_in" and canonical_name("xavier") == "xavier"
    assert str(parse_scheme("kaiming_normal * gain('tanh')")).startswith("kaiming_normal")
    with pytest.raises(argparse.ArgumentTypeError):
        scheme_name("xavier_normal_")
