"""Claim 5: He under relu keeps the second moment; Glorot's fan_avg balances the two directions.

(a) He (``Var[W] = 2 / fan_in``) under relu, any widths. Given the previous layer H,
    ``E[relu(sqrt(q) z)^2] = q / 2`` and ``mean_a q_a = 2 ms(H)``, so the per-unit
    second moment has ``E[u_j | H] = ms(H)`` exactly: the second moment is a
    martingale across depth, preserved in expectation at every width. (Its spread
    grows like depth / width, Hanin & Rolnick 2018, which is why the property is
    stated layer by layer.) Two-sided t-test per layer, power against a 10% shift.

(b) Glorot & Bengio (2010), linear activation, unequal widths. With
    ``v = 2 / (n_in + n_out)`` the forward gain ``n_in v`` (``E[ms(Z_l) | H] = n_in v ms(H)``)
    and the backward gain ``n_out v`` (``E[ms(dL/dH_{l-1}) | dL/dZ_l] = n_out v ms(dL/dZ_l)``)
    average exactly 1: neither direction is preserved alone when the widths differ,
    but the two are balanced. Both gains are tested per layer (t-tests across units,
    forward on the subject, backward on the reference's backward pass with a
    standard-normal output gradient), and their mean is checked to be 1 exactly.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from weight_init.backward import forward_backward
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
from weight_init.properties.results import TestResult, Verdict
from weight_init.properties.subject import UnsupportedCase
from weight_init.schemes import Scheme, VarianceRule, get_scheme

HE_SCHEMES = ("he_normal", "he_uniform", "he_truncated_normal")
#: Relative shift of a layer's second moment the He property must detect (Xavier's 1/fan_in
#: under relu halves it: a shift of 0.5).
HE_EFFECT = 0.25
#: Relative shift of a gain the Glorot property must detect (LeCun's 1/fan_in in place of
#: fan_avg changes the gain by (n_out - n_in) / (n_in + n_out): 1/3 at a width ratio of 2).
GLOROT_EFFECT = 0.25
GLOROT_SCHEMES = ("glorot_normal", "glorot_uniform", "glorot_truncated_normal")


def _transposed(scheme: Scheme) -> Scheme:
    """The scheme whose ``(n_out, n_in)`` draws are ``scheme``'s ``(n_in, n_out)`` transposed
    in law: the same family with the fans swapped in the variance rule (for W^T)."""
    rule = scheme.rule
    swap = {"fan_in": "fan_out", "fan_out": "fan_in"}.get(rule.mode, rule.mode)
    return Scheme(scheme.name + "^T", scheme.family, VarianceRule(rule.scale, swap))  # type: ignore[arg-type]


def he_relu_keeps_second_moment(
    forward_prop: object = None,
    *,
    widths: Sequence[int] = (64,) * 8,
    scheme: str = "he_normal",
    n_samples: int = 256,
    input_dim: int = 64,
    seed: int = 0,
    alpha: float = 1e-3,
) -> Verdict:
    """Claim 5(a): per layer, E[mean h^2 | previous layer] = ms(previous layer)."""
    sch = get_scheme(scheme)
    try:
        subject, run = run_subject(
            forward_prop,
            widths,
            sch,
            seed=seed,
            activation="relu",
            n_samples=n_samples,
            input_dim=input_dim,
        )
    except UnsupportedCase as exc:
        return inconclusive("he relu second moment", "he relu", str(exc), alpha)
    samples: list[LayerSample | None] = []
    for layer in range(1, len(widths) + 1):
        h_prev = run.x if layer == 1 else run.acts[layer - 2]
        h = run.acts[layer - 1]
        if h_prev is None or h.shape[1] < MIN_UNITS:
            continue
        ms = float(np.mean(np.square(h_prev)))
        samples.append(
            band_sample(
                np.mean(np.square(h), axis=0),
                ms,
                ms,
                HE_EFFECT * ms,
                name=f"layer {layer} second moment preserved",
                alpha=alpha,
                null=simulate_units(
                    h_prev, sch, "relu", h.shape[1], np.square, layer_rng(seed, layer)
                ),
                explanation=f"layer {layer}'s second moment is not layer {layer - 1}'s",
                detail=f"ms(prev) = {ms:.4g}",
            )
        )
    tests = combined(
        samples,
        name="second moment preserved",
        alpha=alpha,
        explanation="the second moment is not preserved from layer to layer",
    )
    return A.family(
        subject.name,
        tests,
        alpha,
        metadata={
            "claim": "he relu second moment",
            "reproduce": reproduce(
                "second_moment",
                widths=list(widths),
                scheme=scheme,
                n_samples=n_samples,
                input_dim=input_dim,
                seed=seed,
            ),
        },
    )


def glorot_balances(
    forward_prop: object = None,
    *,
    widths: Sequence[int] = (32, 128, 32),
    scheme: str = "glorot_normal",
    n_samples: int = 256,
    input_dim: int = 128,
    seed: int = 0,
    alpha: float = 1e-3,
) -> Verdict:
    """Claim 5(b): forward gain n_in v and backward gain n_out v per layer, mean exactly 1."""
    sch = get_scheme(scheme)
    try:
        subject, run = run_subject(
            forward_prop,
            widths,
            sch,
            seed=seed,
            activation="linear",
            n_samples=n_samples,
            input_dim=input_dim,
        )
    except UnsupportedCase as exc:
        return inconclusive("glorot balance", "glorot", str(exc), alpha)
    assert run.x is not None
    fans = [run.x.shape[1], *widths]
    tests: list[TestResult] = []
    forward: list[LayerSample | None] = []
    backward: list[LayerSample | None] = []
    for layer in range(1, len(widths) + 1):
        n_in, n_out = fans[layer - 1], fans[layer]
        v = sch.variance(n_in, n_out)
        mean_gain = (n_in * v + n_out * v) / 2
        tests.append(
            A.exact(
                f"layer {layer} mean of gains",
                mean_gain,
                1.0,
                abs(mean_gain - 1.0) <= 1e-12,
                f"layer {layer}: (n_in + n_out) v / 2 != 1: not Glorot's rule",
            )
        )
        h_prev = run.x if layer == 1 else run.acts[layer - 2]
        h = run.acts[layer - 1]
        if h.shape[1] >= MIN_UNITS:
            ms = float(np.mean(np.square(h_prev)))
            forward.append(
                band_sample(
                    np.mean(np.square(h), axis=0),
                    n_in * v * ms,
                    n_in * v * ms,
                    GLOROT_EFFECT * n_in * v * ms,
                    name=f"layer {layer} forward gain n_in v = {n_in * v:.3g}",
                    alpha=alpha,
                    null=simulate_units(
                        h_prev, sch, "linear", h.shape[1], np.square, layer_rng(seed, layer)
                    ),
                    explanation=f"layer {layer}'s forward variance gain is not n_in v",
                )
            )
    # Backward, on the reference's backward pass with the same law of weights.
    gen = np.random.default_rng(seed + 7)
    weights = [sch.sample(a, b, rng=gen) for a, b in itertools.pairwise(fans)]
    g_out = gen.standard_normal((run.x.shape[0], fans[-1]))
    grads = forward_backward(run.x, weights, "linear", output_grad=g_out)
    for layer in range(1, len(widths) + 1):
        n_in, n_out = fans[layer - 1], fans[layer]
        if n_in < MIN_UNITS:
            continue
        v = sch.variance(n_in, n_out)
        delta = grads.preact_grads[layer - 1]
        back = delta @ weights[layer - 1].T  # dL/dH_{l-1}, (m, n_in)
        ms = float(np.mean(np.square(delta)))
        backward.append(
            band_sample(
                np.mean(np.square(back), axis=0),
                n_out * v * ms,
                n_out * v * ms,
                GLOROT_EFFECT * n_out * v * ms,
                name=f"layer {layer} backward gain n_out v = {n_out * v:.3g}",
                alpha=alpha,
                null=simulate_units(
                    delta, _transposed(sch), "linear", n_in, np.square, layer_rng(seed, layer, 1)
                ),
                explanation=f"layer {layer}'s backward variance gain is not n_out v",
            )
        )
    tests.extend(
        combined(
            forward,
            name="forward gains n_in v",
            alpha=alpha,
            explanation="forward variance gains are not n_in v",
        )
    )
    tests.extend(
        combined(
            backward,
            name="backward gains n_out v",
            alpha=alpha,
            explanation="backward variance gains are not n_out v",
        )
    )
    return A.family(
        subject.name,
        tests,
        alpha,
        metadata={
            "claim": "glorot balance",
            "reproduce": reproduce(
                "glorot_balance",
                widths=list(widths),
                scheme=scheme,
                n_samples=n_samples,
                input_dim=input_dim,
                seed=seed,
            ),
        },
    )
