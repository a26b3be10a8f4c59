"""The tanh phase diagram: final-layer std and saturated fraction over sigma_w x depth.

Weights ``W_ij ~ N(0, sigma_w^2 / fan_in)`` (``variance_scaling(sigma_w**2, "fan_in",
"normal")``), no bias, a standard-normal input of width ``width``. One forward
pass per ``sigma_w`` records every depth 1..D (the layer-d statistics of a
D-layer network are those of a d-layer one drawn from the same stream), next to
the mean-field prediction of :func:`weight_init.theory.predict`.

Marked lines: the notes' Xavier (sigma_w = 1) and the order/chaos boundary
``chi_1 = sigma_w^2 E[phi'(z)^2] = 1`` at the fixed point
(:func:`weight_init.theory.order_chaos_boundary`). Without bias, tanh's fixed
point for sigma_w <= 1 is q* = 0, where chi_1 = sigma_w^2: the two lines
coincide at sigma_w = 1. Below it the activations decay to 0 (polynomially,
std ~ 1/sqrt(2 l), exactly at sigma_w = 1; geometrically below); above it they
converge to a non-zero fixed point and saturate increasingly.
"""

from __future__ import annotations

import math
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from weight_init.experiment import forward_prop
from weight_init.reports._config import PhaseConfig
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


@dataclass(frozen=True)
class PhaseRow:
    """One ``sigma_w`` of the grid: measured and predicted std and saturated fraction at
    every depth 1..D."""

    index: int
    sigma: float
    std: list[float]
    saturated: list[float]
    theory_std: list[float]
    theory_saturated: list[float]


def phase_row(config: PhaseConfig, seed: int, index: int, threshold: float = 0.9) -> PhaseRow:
    """Row ``index`` of the grid, from the generator ``default_rng([seed, index])`` alone (so
    rows can run on any worker in any order). The forward pass keeps one layer at a time:
    memory is ``O(samples x width + width^2)`` whatever the depth."""
    s = config.sigmas()[index]
    widths = [config.width] * config.depth
    scheme = variance_scaling(s * s, "fan_in", "normal", name=f"sigma_w={s:.4g}")
    saturated: list[float] = []

    def observe(_: int, h: np.ndarray) -> None:
        saturated.append(float(np.mean(np.abs(h) > threshold)))

    run = forward_prop(
        widths,
        scheme,
        activation="tanh",
        n_samples=config.samples,
        input_dim=config.width,
        rng=np.random.default_rng([seed, index]),
        keep_activations=False,
        observe=observe,
    )
    pred = predict(scheme, "tanh", widths, config.width, saturation_threshold=threshold)
    return PhaseRow(
        index,
        s,
        [float(v) for v in run.stds],
        saturated,
        list(pred.stds),
        list(pred.saturated_fractions),
    )


def assemble(
    config: PhaseConfig, seed: int, threshold: float, rows: list[PhaseRow]
) -> PhaseDiagram:
    """The diagram of ``rows`` (one per grid point, in any order)."""
    rows = sorted(rows, key=lambda r: r.index)
    if [r.index for r in rows] != list(range(config.n_sigma)):
        raise ValueError(f"phase rows {[r.index for r in rows]} do not cover the grid")
    boundary = math.sqrt(order_chaos_boundary("tanh", 0.0))
    return PhaseDiagram(
        config,
        seed,
        threshold,
        [r.sigma for r in rows],
        [r.std for r in rows],
        [r.saturated for r in rows],
        [r.theory_std for r in rows],
        [r.theory_saturated for r in rows],
        1.0,
        boundary,
    )


def run_phase_diagram(
    config: PhaseConfig, seed: int = 0, threshold: float = 0.9, pool: Executor | None = None
) -> PhaseDiagram:
    """Measure and predict the grid (module docstring): row ``i`` uses seed ``[seed, i]``;
    the rows run on ``pool`` (any ``concurrent.futures`` executor: local processes or a Dask
    cluster's) or, without one, here."""
    if pool is None:
        rows = [phase_row(config, seed, i, threshold) for i in range(config.n_sigma)]
    else:
        jobs = [pool.submit(phase_row, config, seed, i, threshold) for i in range(config.n_sigma)]
        rows = [f.result() for f in jobs]
    return assemble(config, seed, threshold, rows)
