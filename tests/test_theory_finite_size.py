"""Finite-size tolerances: the derived one-layer spread against a Monte Carlo of the reference."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from _levels import ASSERTION_LEVEL
from weight_init.experiment import forward_prop
from weight_init.schemes import get_scheme
from weight_init.theory import predict
from weight_init.theory_finite_size import layer_relative_sd, measure_std_spread


@pytest.mark.parametrize(
    ("activation", "fan_in", "width", "batch"),
    [("tanh", 256, 128, 256), ("tanh", 64, 32, 128), ("linear", 48, 64, 96)],
)
def test_derived_first_layer_spread_matches_monte_carlo(
    activation: str, fan_in: int, width: int, batch: int
) -> None:
    """200 reps: the sd estimate itself has relative error ~ 1/sqrt(2*199) = 5.0%; allow 25%
    (5 standard errors: a false failure about 5.7e-7 when the derivation is exact, within
    ``ASSERTION_LEVEL``; a derivation 40% off is caught with probability 0.999)."""
    q = predict("xavier", activation, [width], fan_in).qs[0]
    derived = layer_relative_sd(q, activation, fan_in, width, batch)
    measured = measure_std_spread("xavier", activation, [width], fan_in, batch, reps=200, seed=11)
    assert measured.sd[0] == pytest.approx(derived, rel=0.25), (
        f"{activation} d={fan_in} n={width} m={batch}: derived {derived}, measured {measured.sd[0]}"
    )


def test_tolerance_covers_fresh_runs_of_the_reference() -> None:
    """The tolerance |bias| + z_{1-a/2} sd (a = 1e-3) measured from 30 runs covers the
    relative deviation from the theory of 40 *independent* runs (other seeds), layer by
    layer. A run falls outside with probability at most p0 = 2 t_29.sf(z / sqrt(1 + 1/30))
    (a prediction interval from 30 runs; the |bias| term only widens it), so over the
    40 x 5 = 200 checks the count outside is Binomial(200, <= p0); the test allows the
    largest count k with P(X > k) >= ``ASSERTION_LEVEL`` (false-fail rate <= 1e-6; k = 7). A
    tolerance from a spread that does not grow with depth fails it (23 of these 200 outside
    the first layer's spread); the bias term is too small at these widths to be seen (2
    outside without it)."""
    widths, reps, fresh = [32] * 5, 30, 40
    sp = measure_std_spread("xavier", "tanh", widths, 32, 64, reps=reps, seed=5)
    tol = np.array(sp.tolerance(1e-3))
    new = measure_std_spread("xavier", "tanh", widths, 32, 64, reps=fresh, seed=10_000)
    # the fresh runs' deviations, recovered one run at a time
    theory = np.array(predict("xavier", "tanh", widths, 32).stds)
    devs = np.array(
        [
            np.array(
                forward_prop(
                    widths,
                    get_scheme("xavier"),
                    activation="tanh",
                    n_samples=64,
                    input_dim=32,
                    seed=10_000 + r,
                    keep_activations=False,
                ).stds
            )
            / theory
            - 1.0
            for r in range(fresh)
        ]
    )
    assert np.allclose(devs.mean(axis=0), new.bias)
    z = stats.norm.isf(1e-3 / 2)
    p0 = 2 * stats.t.sf(z / np.sqrt(1 + 1 / reps), reps - 1)
    n = devs.size
    k_max = int(stats.binom.isf(ASSERTION_LEVEL, n, p0))
    outside = int(np.sum(np.abs(devs) > tol))
    assert outside <= k_max, f"{outside} of {n} fresh deviations outside {tol} (allowed {k_max})"
    assert tol[-1] > tol[0]  # spreads grow with depth
