"""The notes' experiments, measured and predicted, layer by layer.

For each (scheme, activation) one network of ``depth`` bias-free layers of
``width`` units is drawn from ``seed`` and run forward and backward
(:func:`weight_init.backward.backward_prop`, which draws the input and the weights
exactly as :func:`weight_init.experiment.forward_prop` does, so the per-layer
means and stds are the reference's). The backward pass uses a linear read-out
``L = sum(G * H_L)`` with ``G_ij ~ N(0, 1) / m`` (m samples), which probes how
gradients propagate without depending on the output's scale.

Theory (:func:`weight_init.theory.predict`, mean field) gives each layer's
activation mean, std and saturated fraction, and, under the gradient-independence
approximation (Schoenholz et al. 2017), the gradients::

    E[delta_L^2]      = E[G^2] E[phi'(z_L)^2]
    E[delta_{l-1}^2]  = n_l v_l E[delta_l^2] E[phi'(z_{l-1})^2]
    E||dL/dW_l||_F^2  = n_{l-1} n_l m E[h_{l-1}^2] E[delta_l^2]

with ``delta_l = dL/dZ_l``, ``v_l = Var[W_l]``, ``z_l ~ N(0, q_l)`` and
``E[h_0^2] = 1``. (Cross-sample terms vanish because the rows of G are
independent and zero-mean.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from weight_init.activations import get_activation
from weight_init.backward import backward_prop
from weight_init.errors import InvalidParameterError
from weight_init.experiment import layer_moments
from weight_init.reports._config import ExperimentSpec, ReportConfig
from weight_init.scheme_expressions import parse_scheme
from weight_init.theory import Prediction, gaussian_expectation, predict

#: Histogram ranges of bounded activations (the notes' is (-1, 1) for tanh).
BOUNDED_RANGES: dict[str, tuple[float, float]] = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}


@dataclass(frozen=True)
class Histogram:
    """Counts of one layer's activations in ``len(edges) - 1`` equal bins; exact zeros are
    counted apart (``zero_fraction``) when they are a point mass (ReLU), else binned."""

    edges: list[float]
    counts: list[int]
    zero_fraction: float
    zeros_binned: bool


@dataclass(frozen=True)
class LayerResult:
    """Layer ``layer`` (1-based): measured and predicted statistics (None: no prediction)."""

    layer: int
    mean: float
    std: float
    saturated_fraction: float
    preact_grad_std: float
    weight_grad_norm: float
    theory_mean: float | None
    theory_std: float | None
    theory_saturated_fraction: float | None
    theory_preact_grad_std: float | None
    theory_weight_grad_norm: float | None
    histogram: Histogram

    @property
    def std_ratio(self) -> float | None:
        """``std / theory_std`` (None when the theory is 0 or absent)."""
        if self.theory_std is None or self.theory_std == 0.0:
            return None
        return self.std / self.theory_std


@dataclass(frozen=True)
class ExperimentResult:
    spec: ExperimentSpec
    depth: int
    width: int
    samples: int
    input_dim: int
    seed: int
    layers: tuple[LayerResult, ...]
    theory_note: str

    @property
    def scheme(self) -> str:
        return self.spec.scheme

    @property
    def activation(self) -> str:
        return self.spec.activation


def output_gradient(samples: int, width: int, seed: int) -> NDArray[np.float64]:
    """The read-out ``G``: i.i.d. N(0, 1) / samples from ``default_rng([seed, 1])``."""
    return np.random.default_rng([seed, 1]).standard_normal((samples, width)) / samples


def gradient_theory(
    pred: Prediction,
    activation: str,
    fans: list[int],
    variances: list[float],
    samples: int,
    input_variance: float = 1.0,
) -> tuple[list[float], list[float]]:
    """Predicted ``std(dL/dZ_l)`` and ``||dL/dW_l||_F`` per layer (module docstring)."""
    phi = get_activation(activation)
    depth = len(pred.layers)
    dphi2 = [gaussian_expectation(lambda u: phi.dphi(u) ** 2, q) for q in pred.qs]
    e_delta2 = [0.0] * depth
    e_delta2[-1] = dphi2[-1] / samples**2
    for l in range(depth - 1, 0, -1):  # 0-based: layer l+1 feeds layer l
        e_delta2[l - 1] = fans[l + 1] * variances[l] * e_delta2[l] * dphi2[l - 1]
    h2 = [input_variance, *pred.second_moments]
    norms = [math.sqrt(fans[l] * fans[l + 1] * samples * h2[l] * e_delta2[l]) for l in range(depth)]
    return [math.sqrt(e) for e in e_delta2], norms


def histogram_range(activation: str, acts: list[NDArray[Any]]) -> tuple[float, float]:
    """The notes' (-1, 1) for tanh, (0, 1) for sigmoid, else the 0.1%..99.9% quantiles of all
    layers' non-zero activations (widened to include 0)."""
    if activation in BOUNDED_RANGES:
        return BOUNDED_RANGES[activation]
    lo, hi = 0.0, 0.0
    for h in acts:
        nz = h[h != 0.0]
        if nz.size:
            q = np.quantile(nz, [0.001, 0.999])
            lo, hi = min(lo, float(q[0])), max(hi, float(q[1]))
    if hi - lo <= 0.0:
        return -1.0, 1.0
    return lo, hi


def histogram(h: NDArray[Any], bins: int, rng: tuple[float, float]) -> Histogram:
    flat = h.ravel()
    zero = float(np.mean(flat == 0.0))
    apart = 0.0 < zero < 1.0 and zero > 0.05
    data = flat[flat != 0.0] if apart else flat
    counts, edges = np.histogram(data, bins=bins, range=rng)
    return Histogram([float(e) for e in edges], [int(c) for c in counts], zero, not apart)


def _theory(spec: ExperimentSpec, config: ReportConfig) -> tuple[Prediction | None, str]:
    widths = (config.width,) * config.depth
    try:
        pred = predict(
            parse_scheme(spec.scheme),
            spec.activation,
            widths,
            config.input_dim,
            saturation_threshold=config.saturation_threshold,
        )
    except InvalidParameterError as exc:
        return None, f"no mean-field prediction: {exc}"
    return pred, "mean-field (infinite-width) prediction, weight_init.theory.predict"


def run_experiment(spec: ExperimentSpec, config: ReportConfig) -> ExperimentResult:
    """Run ``spec`` at the configuration's size and seed; measure and predict every layer."""
    scheme = parse_scheme(spec.scheme)
    sizes = [config.width] * config.depth
    grads = backward_prop(
        sizes,
        scheme,
        activation=spec.activation,
        n_samples=config.samples,
        input_dim=config.input_dim,
        seed=config.seed,
        output_grad=output_gradient(config.samples, config.width, config.seed),
    )
    pred, note = _theory(spec, config)
    fans = [config.input_dim, *sizes]
    if pred is not None:
        variances = [scheme.variance(fans[i], fans[i + 1]) for i in range(config.depth)]
        g_std, g_norm = gradient_theory(pred, spec.activation, fans, variances, config.samples)
    rng = histogram_range(spec.activation, grads.acts)
    layers = []
    for i, h in enumerate(grads.acts):
        mean, std = layer_moments(h)
        p = pred.layers[i] if pred is not None else None
        layers.append(
            LayerResult(
                layer=i + 1,
                mean=mean,
                std=std,
                saturated_fraction=float(np.mean(np.abs(h) > config.saturation_threshold)),
                preact_grad_std=float(np.std(grads.preact_grads[i])),
                weight_grad_norm=float(np.linalg.norm(grads.weight_grads[i])),
                theory_mean=None if p is None else p.mean,
                theory_std=None if p is None else p.std,
                theory_saturated_fraction=None if p is None else p.saturated_fraction,
                theory_preact_grad_std=None if pred is None else g_std[i],
                theory_weight_grad_norm=None if pred is None else g_norm[i],
                histogram=histogram(h, config.histogram_bins, rng),
            )
        )
    return ExperimentResult(
        spec,
        config.depth,
        config.width,
        config.samples,
        config.input_dim,
        config.seed,
        tuple(layers),
        note,
    )
