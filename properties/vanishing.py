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

Test per layer: two one-sided t-tests across the layer's units against the band,
and their Stouffer combination over the layers, Holm across all; the combined test
must have power >= 1/2 against a shift of ``VANISHING_EFFECT g_l^2 ms(H)`` (25%)
outside the band, or the verdict is inconclusive. The spread of each layer's statistic
is simulated from fresh weights given the same previous layer (deep near-linear layers
have inputs of effective rank ~1-2, see :mod:`weight_init.properties.assertions`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from weight_init.properties import assertions as A
from weight_init.properties.common import (
    MIN_UNITS,
    LayerSample,
    band_sample,
    combined,
    inconclusive,
    layer_rng,
    reproduce,
    run_subject,
    simulate_units,
)
from weight_init.properties.results import Verdict
from weight_init.properties.subject import UnsupportedCase
from weight_init.schemes import Scheme, variance_scaling
from weight_init.theory import predict

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


def small_init_vanishes(
    forward_prop: object = None,
    *,
    widths: Sequence[int] = (64, 64, 64, 64, 64, 64),
    sigma: float = 0.01,
    activation: str = "tanh",
    n_samples: int = 256,
    input_dim: int = 500,
    seed: int = 0,
    alpha: float = 1e-3,
) -> Verdict:
    """Claim 2 (module docstring), tested on layers 2..L with Holm across layers."""
    scheme = _scheme(sigma)
    try:
        subject, run = run_subject(
            forward_prop,
            widths,
            scheme,
            seed=seed,
            activation=activation,
            n_samples=n_samples,
            input_dim=input_dim,
        )
    except UnsupportedCase as exc:
        return inconclusive("small init vanishes", "small init", str(exc), alpha)
    g = gains(sigma, widths, run.input_dim)
    lower_factor = 1.0 if activation == "linear" else 1.0 - 2.0 * Q_LINEAR
    samples: list[LayerSample | None] = []
    for layer in range(2, len(widths) + 1):
        h_prev, h = run.acts[layer - 2], run.acts[layer - 1]
        if h.shape[1] < MIN_UNITS:
            continue
        ms = float(np.mean(np.square(h_prev)))
        top = g[layer - 1] ** 2 * ms
        u = np.mean(np.square(h), axis=0)
        samples.append(
            band_sample(
                u,
                top * lower_factor,
                top,
                VANISHING_EFFECT * top,
                name=f"layer {layer} shrinks by g",
                alpha=alpha,
                null=simulate_units(
                    h_prev, scheme, activation, h.shape[1], np.square, layer_rng(seed, layer)
                ),
                explanation=f"layer {layer}'s std ratio is not g = {g[layer - 1]:.4g} "
                f"within the linear-regime band",
                detail=f"g^2 ms(prev) = {top:.4g}",
            )
        )
    tests = combined(
        samples,
        name="all layers shrink by g",
        alpha=alpha,
        explanation="the layers' std ratios are not g within the linear-regime band",
    )
    return A.family(
        subject.name,
        tests,
        alpha,
        metadata={
            "claim": "small init vanishes",
            "condition_holds": condition_holds(sigma, widths, run.input_dim, activation),
            "reproduce": reproduce(
                "vanishing",
                widths=list(widths),
                sigma=sigma,
                activation=activation,
                n_samples=n_samples,
                input_dim=input_dim,
                seed=seed,
            ),
        },
    )
