"""Claim 4: Xavier (the notes', variance 1/fan_in) under tanh decays boundedly, never geometrically.

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

Tests: per layer and statement, the mean over the layer's units against the law of the
mean of units simulated from fresh weights on the same H
(:func:`weight_init.properties.claims._assertions.band_test`: (a) a band, (b) a point null,
two-sided, (c) a bound); per statement the two-sided Stouffer combination over the
layers; Holm across everything.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from weight_init.properties._results import TestResult
from weight_init.properties.claims._common import (
    LAW_EFFECT,
    MIN_UNITS,
    LayerSample,
    band_sample,
    combined,
    layer_rng,
    second_moment_law,
    simulate_units,
    unit_means,
)
from weight_init.properties.claims._registry import (
    Condition,
    Context,
    Property,
    draw_widths,
    register,
    scheme_param,
)
from weight_init.theory import gaussian_expectation, saturated_fraction

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

SCHEMES = ("xavier", "lecun_normal", "lecun_uniform", "lecun_truncated_normal")
R1 = gaussian_expectation(lambda u: np.tanh(u) ** 2, 1.0)
SATURATION_AT_Q1 = saturated_fraction(np.tanh, 1.0, 0.9)


def _saturated(h: NDArray[np.float64]) -> NDArray[np.float64]:
    return (np.abs(h) > 0.9).astype(np.float64)


def _assertions(ctx: Context) -> list[TestResult]:
    """Statements (a)-(c) on layers 2..L; Holm across layers and statements."""
    run, sch, seed, alpha = ctx.run, ctx.scheme, ctx.seed, ctx.alpha
    ratios: list[LayerSample | None] = []
    laws: list[LayerSample | None] = []
    saturations: list[LayerSample | None] = []
    for layer in range(2, len(ctx.widths) + 1):
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
    return [
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


def _strategy() -> SearchStrategy[dict[str, Any]]:
    from hypothesis import strategies as st

    from weight_init.properties.claims import _strategies as S

    return st.builds(
        lambda net, scheme, seed: {**net.kwargs(), "scheme": scheme, "seed": seed},
        S.networks(max_depth=30),
        st.sampled_from(SCHEMES),
        S.seeds,
    )


xavier_bounded_decay = register(
    Property(
        name="bounded_decay",
        claim="Under Xavier's 1/fan_in and tanh the rms decays boundedly, never geometrically: "
        "each layer keeps between sqrt(E tanh(z)^2) and all of the previous layer's rms, "
        "follows the mean-field law, and saturates little.",
        condition=Condition(activations=("tanh",)),
        defaults={
            "widths": (64,) * 10,
            "scheme": "xavier",
            "n_samples": 256,
            "input_dim": 64,
            "seed": 0,
        },
        scheme=scheme_param,
        assertions=_assertions,
        suite_cases=lambda gen: [{"widths": draw_widths(gen, 10), "scheme": "xavier"}],
        strategy=_strategy,
    )
)
