"""The tanh phase diagram: final-layer std and saturated fraction over sigma_w x depth.

Weights ``W_ij ~ N(0, sigma_w^2 / fan_in)`` (``variance_scaling(sigma_w**2, "fan_in",
"normal")``), no bias, a standard-normal input of width ``width``. One forward
pass per ``sigma_w`` records every depth 1..D (the layer-d statistics of a
D-layer network are those of a d-layer one drawn from the same stream), next to
the mean-field prediction of :func:`weight_init.theory.predict`.

Marked lines: the seed's Xavier (sigma_w = 1) and the order/chaos boundary
``chi_1 = sigma_w^2 E[phi'(z)^2] = 1`` at the fixed point
(:func:`weight_init.theory.order_chaos_boundary`). Without bias, tanh's fixed
point for sigma_w <= 1 is q* = 0, where chi_1 = sigma_w^2: the two lines
coincide at sigma_w = 1. Below it the activations decay to 0 (polynomially,
std ~ 1/sqrt(2 l), exactly at sigma_w = 1; geometrically below); above it they
converge to a non-zero fixed point and saturate increasingly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from weight_init.experiment import forward_prop
from weight_init.reports.config import PhaseConfig
from weight_init.schemes import variance_scaling
from weight_init.theory import order_chaos_boundary, predict


@dataclass(frozen=True)
class PhaseDiagram:
    """``std[i][d]``, ``saturated[i][d]``: sigma ``sigmas[i]``, depth ``d + 1`` (same for
    the ``theory_`` arrays)."""

    config: PhaseConfig
    seed: int
    threshold: float
    sigmas: list[float]
    std: list[list[float]]
    saturated: list[list[float]]
    theory_std: list[list[float]]
    theory_saturated: list[list[float]]
    xavier_sigma: float
    boundary_sigma: float

    @property
    def depths(self) -> list[int]:
        return list(range(1, self.config.depth + 1))

    def max_abs_std_error(self) -> float:
        """Largest ``|std - theory_std|`` over the grid."""
        return max(
            abs(a - b)
            for row, trow in zip(self.std, self.theory_std, strict=True)
            for a, b in zip(row, trow, strict=True)
        )


def run_phase_diagram(config: PhaseConfig, seed: int = 0, threshold: float = 0.9) -> PhaseDiagram:
    """Measure and predict the grid (module docstring); sigma ``i`` uses seed ``[seed, i]``."""
    sigmas = config.sigmas()
    widths = [config.width] * config.depth
    std, sat, tstd, tsat = [], [], [], []
    for i, s in enumerate(sigmas):
        scheme = variance_scaling(s * s, "fan_in", "normal", name=f"sigma_w={s:.4g}")
        rng = np.random.default_rng([seed, i])
        run = forward_prop(
            widths,
            scheme,
            activation="tanh",
            n_samples=config.samples,
            input_dim=config.width,
            rng=rng,
        )
        std.append([float(v) for v in run.stds])
        sat.append([float(np.mean(np.abs(run.acts[d]) > threshold)) for d in range(config.depth)])
        pred = predict(scheme, "tanh", widths, config.width, saturation_threshold=threshold)
        tstd.append(pred.stds)
        tsat.append(pred.saturated_fractions)
    boundary = math.sqrt(order_chaos_boundary("tanh", 0.0))
    return PhaseDiagram(config, seed, threshold, sigmas, std, sat, tstd, tsat, 1.0, boundary)
