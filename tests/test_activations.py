"""Activations: derivatives agree with finite differences, gains with torch's documentation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from weight_init.activations import ACTIVATIONS, get_activation
from weight_init.gains import calculate_gain

# torch.nn.init.calculate_gain's documented table.
TORCH_GAINS = {
    "linear": 1.0,
    "sigmoid": 1.0,
    "tanh": 5.0 / 3.0,
    "relu": math.sqrt(2.0),
    "leaky_relu": math.sqrt(2.0 / (1 + 0.01**2)),
    "selu": 3.0 / 4.0,
}


@pytest.mark.parametrize("name", sorted(TORCH_GAINS))
def test_gains_match_torch_documentation(name: str) -> None:
    assert calculate_gain(name) == pytest.approx(TORCH_GAINS[name], rel=1e-15)
    assert ACTIVATIONS[name].gain == pytest.approx(TORCH_GAINS[name], rel=1e-15)


def test_leaky_relu_gain_with_slope_and_conv() -> None:
    assert calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    assert calculate_gain("conv2d") == 1.0


@given(
    name=st.sampled_from(sorted(ACTIVATIONS)),
    x=st.floats(-20, 20).filter(lambda v: abs(v) > 1e-4),
)
def test_derivative_matches_central_difference(name: str, x: float) -> None:
    act = ACTIVATIONS[name]
    h = 1e-6
    arr = np.array([x - h, x, x + h])
    out = act.phi(arr)
    fd = (out[2] - out[0]) / (2 * h)
    assert act.dphi(arr)[1] == pytest.approx(fd, rel=1e-5, abs=1e-8), f"{name}'({x})"


def test_callable_activation_gets_a_numerical_derivative() -> None:
    act = get_activation(np.sin)
    x = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(act.dphi(x), np.cos(x), rtol=1e-8, atol=1e-9)
    assert act.gain is None


def test_sigmoid_is_overflow_free() -> None:
    act = ACTIVATIONS["sigmoid"]
    with np.errstate(all="raise"):
        out = act.phi(np.array([-1e4, 0.0, 1e4]))
    np.testing.assert_allclose(out, [0.0, 0.5, 1.0])
