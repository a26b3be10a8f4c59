"""Claim 2: small init vanishes geometrically, shrinking by ``g_l = sigma sqrt(fan_in) phi'(0)``.

Condition (``condition_holds``): activation tanh or linear (phi(0) = 0, phi'(0) = 1,
``|phi(u)| <= |u|``), fixed weight std sigma with every layer gain
``g_l = sigma sqrt(n_{l-1}) < 1``, and the theory's layer-2 pre-activation variance
``q_2 <= Q_LINEAR / 2`` (the linear regime; q only shrinks after that when all g_l < 1).

Statement, for every layer l >= 2, given the previous layer H (m x n, rows H_a):
with ``q_a = sigma^2 ||H_a||^2`` and ``ms(H)`` its mean square, the per-unit second
moment ``u_j = mean_a h_aj^2`` has

    g_l^2 ms(H) (1 - 2 Q_LINEAR) <= E[u_j | H] <= g_l^2 ms(H),

because ``q (1 - 2q) <= E[tanh(sqrt(q) z)^2] <= q`` for q <= Q_LINEAR (the
alternating series ``q - 2q^2 + 17/3 q^3 - ...``) and the mean of q_a is
``g_l^2 ms(H)``; for linear the band is the point ``g_l^2 ms(H)``. So the std ratio
of consecutive layers is g_l to within ``Q_LINEAR`` and the std vanishes at least
as fast as ``prod g_l``: geometrically.

Dropping the condition makes it false: at g >= 1 the variance grows (or, at g = 1,
decays only like 1/l) and leaves the linear regime, where tanh shrinks it below
``g^2 (1 - 2 Q_LINEAR)``; ``tests/test_properties_counterexample.py`` shows the
Hypothesis search finding such a case.

Test per layer: the band test of :func:`weight_init.properties.claims._assertions.band_test`
across the layer's units (a point null for linear, whose band is a point: two-sided),
and the two-sided Stouffer combination over the layers, Holm across all; the combined
test must have power >= 1/2 against a shift of ``VANISHING_EFFECT g_l^2 ms(H)`` (25%)
outside the band, or the verdict is inconclusive. The spread of each layer's statistic
is simulated from fresh weights given the same previous layer (deep near-linear layers
have inputs of effective rank ~1-2, see :mod:`weight_init.properties.claims._assertions`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from weight_init.properties._results import TestResult
from weight_init.properties.claims._common import (
    MIN_UNITS,
    LayerSample,
    band_sample,
    combined,
    layer_rng,
    simulate_units,
)
from weight_init.properties.claims._registry import (
    Condition,
    Context,
    Params,
    Property,
    draw_widths,
    register,
)
from weight_init.schemes import Scheme, variance_scaling
from weight_init.theory import predict

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

#: Pre-activation variance up to which tanh counts as linear (relative error 2 Q_LINEAR = 10%).
Q_LINEAR = 0.05
ACTIVATIONS = ("tanh", "linear")
#: Shift of a layer's second moment outside the band, relative to g^2 ms(H), that the
#: combined test must detect: leaving the linear regime at g >= 1 shrinks tanh's second
#: moment by 2q, over 25% once q > 0.13.
VANISHING_EFFECT = 0.25


def gains(sigma: float, widths: Sequence[int], input_dim: int) -> list[float]:
    """``g_l = sigma sqrt(n_{l-1})`` (phi'(0) = 1 for tanh and linear)."""
    fans = [input_dim, *widths[:-1]]
    return [sigma * math.sqrt(n) for n in fans]


def condition_holds(sigma: float, widths: Sequence[int], input_dim: int, activation: str) -> bool:
    """The claim's condition (module docstring)."""
    if activation not in ACTIVATIONS or max(gains(sigma, widths, input_dim)) >= 1.0:
        return False
    if len(widths) < 2:
        return True
    q2 = predict(_scheme(sigma), activation, widths[:2], input_dim).qs[1]
    return q2 <= Q_LINEAR / 2


def _scheme(sigma: float) -> Scheme:
    return variance_scaling(sigma * sigma, "fixed", "normal", name=f"normal(std={sigma:g})")


def _assertions(ctx: Context) -> list[TestResult]:
    """Layers 2..L: the band test of each layer's second moment, and their combination."""
    run, sigma, activation = ctx.run, float(ctx.params["sigma"]), ctx.run.activation
    g = gains(sigma, ctx.widths, run.input_dim)
    lower_factor = 1.0 if activation == "linear" else 1.0 - 2.0 * Q_LINEAR
    samples: list[LayerSample | None] = []
    for layer in range(2, len(ctx.widths) + 1):
        h_prev, h = run.acts[layer - 2], run.acts[layer - 1]
        if h.shape[1] < MIN_UNITS:
            continue
        ms = float(np.mean(np.square(h_prev)))
        top = g[layer - 1] ** 2 * ms
        null = simulate_units(
            h_prev, ctx.scheme, activation, h.shape[1], np.square, layer_rng(ctx.seed, layer)
        )
        samples.append(
            band_sample(
                np.mean(np.square(h), axis=0),
                top * lower_factor,
                top,
                VANISHING_EFFECT * top,
                name=f"layer {layer} shrinks by g",
                alpha=ctx.alpha,
                null=null,
                explanation=f"layer {layer}'s std ratio is not g = {g[layer - 1]:.4g} "
                f"within the linear-regime band",
                detail=f"g^2 ms(prev) = {top:.4g}",
            )
        )
    return combined(
        samples,
        name="all layers shrink by g",
        alpha=ctx.alpha,
        explanation="the layers' std ratios are not g within the linear-regime band",
    )


def _strategy() -> SearchStrategy[dict[str, Any]]:
    from hypothesis import strategies as st

    from weight_init.properties.claims import _strategies as S

    @st.composite
    def cases(draw: st.DrawFn) -> dict[str, Any]:
        net = draw(S.networks(min_depth=2, max_depth=30))
        gain, act, seed = draw(S.small_scales()), draw(st.sampled_from(ACTIVATIONS)), draw(S.seeds)
        sigma = gain / math.sqrt(max([net.input_dim, *net.widths[:-1]]))
        if not condition_holds(sigma, net.widths, net.input_dim, act):
            sigma *= 0.1  # deeper into the linear regime: the claim's condition
        return {**net.kwargs(), "sigma": sigma, "activation": act, "seed": seed}

    return cases()


def _holds(params: Params, input_dim: int) -> bool:
    return condition_holds(
        float(params["sigma"]), params["widths"], input_dim, str(params["activation"])
    )


small_init_vanishes = register(
    Property(
        name="vanishing",
        claim="Under a small fixed-std init with every layer gain g_l < 1 in the linear regime, "
        "each layer's std is the previous one's times g_l: the signal vanishes geometrically.",
        condition=Condition(activations=ACTIVATIONS),
        defaults={
            "widths": (64,) * 6,
            "sigma": 0.01,
            "activation": "tanh",
            "n_samples": 256,
            "input_dim": 500,
            "seed": 0,
        },
        scheme=lambda params: _scheme(float(params["sigma"])),
        assertions=_assertions,
        suite_cases=lambda gen: [{"widths": draw_widths(gen, 6), "sigma": 0.01}],
        strategy=_strategy,
        condition_holds=_holds,
    )
)
