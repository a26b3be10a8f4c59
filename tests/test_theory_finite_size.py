"""Finite-size tolerances: the derived one-layer spread against a Monte Carlo of the reference."""

from __future__ import annotations

import pytest

from weight_init.theory import predict
from weight_init.theory_finite_size import layer_relative_sd, measure_std_spread


@pytest.mark.parametrize(
    ("activation", "fan_in", "width", "batch"),
    [("tanh", 256, 128, 256), ("tanh", 64, 32, 128), ("linear", 48, 64, 96)],
)
def test_derived_first_layer_spread_matches_monte_carlo(
    activation: str, fan_in: int, width: int, batch: int
) -> None:
    """120 reps: the sd estimate itself has relative error ~ 1/sqrt(2*119) = 6.5%; allow 25%."""
    q = predict("xavier", activation, [width], fan_in).qs[0]
    derived = layer_relative_sd(q, activation, fan_in, width, batch)
    measured = measure_std_spread("xavier", activation, [width], fan_in, batch, reps=120, seed=11)
    assert measured.sd[0] == pytest.approx(derived, rel=0.25), (
        f"{activation} d={fan_in} n={width} m={batch}: derived {derived}, measured {measured.sd[0]}"
    )


def test_tolerance_covers_the_measured_bias() -> None:
    sp = measure_std_spread("xavier", "tanh", [32] * 5, 32, 64, reps=30, seed=5)
    tol = sp.tolerance(1e-3)
    assert all(t >= abs(b) for t, b in zip(tol, sp.bias, strict=True))
    assert tol[-1] > tol[0]  # spreads grow with depth
