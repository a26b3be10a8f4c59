"""Claim 4: Xavier (the seed's, variance 1/fan_in) under tanh decays boundedly, never geometrically.

Condition: tanh and a scheme with ``fan_in Var[W] = 1`` at every layer (``xavier``,
``lecun_normal``, ``lecun_uniform``, ``lecun_truncated_normal``), any widths.

Statements, for every layer l >= 2, given the previous layer H (|h| < 1, so every
``q_a = ||H_a||^2 / n <= 1``), for the per-unit second moment ``u_j = mean_a h_aj^2``:

(a) ``R1 ms(H) <= E[u_j | H] <= ms(H)``, with ``R1 = E[tanh(z)^2] = 0.3943``: the
    ratio of consecutive layers' rms lies in (r_min, 1], ``r_min = sqrt(R1) = 0.628``,
    because ``E[tanh(sqrt(q) z)^2] / q`` decreases in q and q <= 1;
(b) ``E[u_j | H]`` is the mean-field value ``mean_a E[tanh(sqrt(q_a) z)^2]`` (two-sided):
    the theory's map, whose iterates decay like ``1 / sqrt(2 l)`` (polynomially:
    ``std_l sqrt(2 l) -> 1``, 1.02 at l = 10, 1.001 at l = 1000; see tests/test_theory.py);
(c) saturation stays low: the fraction of ``|h| > 0.9`` is at most
    ``P(|tanh(z)| > 0.9) = 0.141``, its value at q = 1, the largest q possible.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from weight_init.properties import assertions as A
from weight_init.properties.common import (
    LAW_EFFECT,
    MIN_UNITS,
    LayerSample,
    band_sample,
    combined,
    inconclusive,
    layer_rng,
    reproduce,
    run_subject,
    second_moment_law,
    simulate_units,
    unit_means,
)
from weight_init.properties.results import Verdict
from weight_init.properties.subject import UnsupportedCase
from weight_init.schemes import get_scheme
from weight_init.theory import gaussian_expectation, saturated_fraction

SCHEMES = ("xavier", "lecun_normal", "lecun_uniform", "lecun_truncated_normal")
R1 = gaussian_expectation(lambda u: np.tanh(u) ** 2, 1.0)
SATURATION_AT_Q1 = saturated_fraction(np.tanh, 1.0, 0.9)


def _saturated(h: NDArray[np.float64]) -> NDArray[np.float64]:
    return (np.abs(h) > 0.9).astype(np.float64)


def xavier_bounded_decay(
    forward_prop: object = None,
    *,
    widths: Sequence[int] = (64,) * 10,
    scheme: str = "xavier",
    n_samples: int = 256,
    input_dim: int = 64,
    seed: int = 0,
    alpha: float = 1e-3,
) -> Verdict:
    """Claim 4 (module docstring); Holm across layers and statements."""
    sch = get_scheme(scheme)
    try:
        subject, run = run_subject(
            forward_prop,
            widths,
            sch,
            seed=seed,
            activation="tanh",
            n_samples=n_samples,
            input_dim=input_dim,
        )
    except UnsupportedCase as exc:
        return inconclusive("xavier bounded decay", "bounded decay", str(exc), alpha)
    ratios: list[LayerSample | None] = []
    laws: list[LayerSample | None] = []
    saturations: list[LayerSample | None] = []
    for layer in range(2, len(widths) + 1):
        h_prev, h = run.acts[layer - 2], run.acts[layer - 1]
        if h.shape[1] < MIN_UNITS:
            continue
        ms = float(np.mean(np.square(h_prev)))
        ratios.append(
            band_sample(
                np.mean(np.square(h), axis=0),
                R1 * ms,
                ms,
                LAW_EFFECT * ms,
                name=f"layer {layer} rms ratio in (r_min, 1]",
                alpha=alpha,
                null=simulate_units(
                    h_prev, sch, "tanh", h.shape[1], np.square, layer_rng(seed, layer, 1)
                ),
                explanation=f"layer {layer}'s rms ratio to layer {layer - 1} is outside "
                f"({R1**0.5:.3f}, 1]",
                detail=f"ms(prev) = {ms:.4g}",
            )
        )
        laws.append(second_moment_law(run, layer, sch, alpha, seed))
        saturations.append(
            band_sample(
                unit_means(_saturated(h)),
                -math.inf,
                SATURATION_AT_Q1,
                LAW_EFFECT,
                name=f"layer {layer} saturation <= {SATURATION_AT_Q1:.3f}",
                alpha=alpha,
                null=simulate_units(
                    h_prev, sch, "tanh", h.shape[1], _saturated, layer_rng(seed, layer, 2)
                ),
                explanation=f"layer {layer} saturates more than tanh can at q <= 1",
            )
        )
    tests = [
        *combined(
            ratios,
            name="rms ratios in (r_min, 1]",
            alpha=alpha,
            explanation="consecutive rms ratios leave (r_min, 1]",
        ),
        *combined(
            laws,
            name="second moments follow the theory",
            alpha=alpha,
            explanation="second moments differ from the mean-field law",
        ),
        *combined(
            saturations,
            name=f"saturation <= {SATURATION_AT_Q1:.3f}",
            alpha=alpha,
            explanation="saturation is not low",
        ),
    ]
    return A.family(
        subject.name,
        tests,
        alpha,
        metadata={
            "claim": "xavier bounded decay",
            "reproduce": reproduce(
                "bounded_decay",
                widths=list(widths),
                scheme=scheme,
                n_samples=n_samples,
                input_dim=input_dim,
                seed=seed,
            ),
        },
    )
