"""A layer's law given the layer before it: the mean-field map applied to the actual input.

Given the previous layer's activations ``H`` (m x n) and iid zero-mean weights
of variance v, sample a's pre-activation at any unit is (for large n) Gaussian
with variance ``q_a = v ||H_a||^2``, and the units are iid given ``H``. So for a
unit statistic ``u_j = mean_a f(h_aj)`` the ``u_j`` are iid across units with

    E[u_j | H] = mean_a E[f(phi(sqrt(q_a) z))],  z ~ N(0, 1),

which is what the properties test, by a t-test across the layer's units: it
needs no finite-size tolerance (the condition absorbs everything upstream) and
its only approximations are the CLT in ``z_aj = sum_i H_ai W_ij`` (error
O(1/n) for non-Gaussian weights) and the t-test's normality across >= 16 units.
For orthogonal weights the units are not independent (their squared norms are
negatively correlated), which makes the across-unit variance an overestimate:
the test is conservative for them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from scipy.interpolate import CubicSpline

from weight_init.activations import Activation
from weight_init.theory import gaussian_expectation, normal_mass, saturation_intervals

Array = NDArray[np.float64]


def sample_variances(h_prev: Array, variance: float, bias_variance: float = 0.0) -> Array:
    """``q_a = v ||H_a||^2 + sigma_b^2`` for every row a of the previous layer."""
    return variance * np.einsum("ij,ij->i", h_prev, h_prev) + bias_variance


def expected_over_samples(expect: Callable[[float], float], qs: Array) -> float:
    """``mean_a expect(q_a)``; a cubic spline in log q over 33 nodes when the q_a differ.

    ``expect`` is smooth in log q, and the q_a of one layer span a narrow range
    (relative spread ~ sqrt(2 / n)), so the interpolation error is < 1e-9 relative.
    """
    lo, hi = float(np.min(qs)), float(np.max(qs))
    if hi <= 0.0:
        return expect(0.0)
    if lo <= 0.0 or hi / lo < 1.0 + 1e-9:
        return float(np.mean([expect(float(q)) for q in np.unique(qs)]))
    grid = np.geomspace(lo, hi, 33)
    spline = CubicSpline(np.log(grid), [expect(float(q)) for q in grid])
    return float(np.mean(spline(np.log(qs))))


def second_moment_fn(phi: Activation) -> Callable[[float], float]:
    """q -> E[phi(sqrt(q) z)^2]."""
    return lambda q: gaussian_expectation(lambda u: phi.phi(u) ** 2, q)


def mean_fn(phi: Activation) -> Callable[[float], float]:
    """q -> E[phi(sqrt(q) z)]."""
    return lambda q: gaussian_expectation(phi.phi, q)


def saturation_fn(phi: Activation, threshold: float) -> Callable[[float], float]:
    """q -> P(|phi(sqrt(q) z)| > threshold), from the q-independent set {u : |phi(u)| > t}."""
    intervals = saturation_intervals(phi.phi, threshold)

    def frac(q: float) -> float:
        if q == 0.0:
            return float(abs(float(phi.phi(np.zeros(1))[0])) > threshold)
        s = math.sqrt(q)
        return sum(normal_mass(a / s, b / s) for a, b in intervals)

    return frac


def tanh_derivative_sq_fn() -> Callable[[float], float]:
    """q -> E[tanh'(sqrt(q) z)^2] = E[(1 - tanh^2)^2]."""
    return lambda q: gaussian_expectation(lambda u: (1.0 - np.tanh(u) ** 2) ** 2, q)
