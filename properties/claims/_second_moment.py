"""Claim 5: He under relu keeps the second moment; Glorot's fan_avg balances the two directions.

(a) He (``Var[W] = 2 / fan_in``) under relu, any widths. Given the previous layer H,
    ``E[relu(sqrt(q) z)^2] = q / 2`` and ``mean_a q_a = 2 ms(H)``, so the per-unit
    second moment has ``E[u_j | H] = ms(H)`` exactly: the second moment is a
    martingale across depth, preserved in expectation at every width. (Its spread
    grows like depth / width, Hanin & Rolnick 2018, which is why the property is
    stated layer by layer.)

(b) Glorot & Bengio (2010), linear activation, unequal widths. With
    ``v = 2 / (n_in + n_out)`` the forward gain ``n_in v`` (``E[ms(Z_l) | H] = n_in v ms(H)``)
    and the backward gain ``n_out v`` (``E[ms(dL/dH_{l-1}) | dL/dZ_l] = n_out v ms(dL/dZ_l)``)
    average exactly 1: neither direction is preserved alone when the widths differ,
    but the two are balanced. The forward gains are tested on the subject, the backward
    gains on the reference's backward pass with the same law of weights and a
    standard-normal output gradient, and the mean of the two gains is checked to be 1
    exactly from the scheme's variance rule alone.

Tests: each layer's per-unit second moment against its point value (a point null: the
two-sided test of :func:`weight_init.properties.claims._assertions.band_test`, the spread from
units simulated with fresh weights on the same input), the two-sided Stouffer combination
over the layers, Holm across everything; the combined tests need power >= 1/2 against a
relative shift of ``HE_EFFECT`` / ``GLOROT_EFFECT`` (25%), or the verdict is inconclusive.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from weight_init.backward import forward_backward
from weight_init.properties._results import RanOn, TestResult
from weight_init.properties.claims import _assertions as A
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
    Contract,
    Property,
    draw_widths,
    register,
    scheme_param,
)
from weight_init.schemes import Scheme, VarianceRule

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

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


def _he_assertions(ctx: Context) -> list[TestResult]:
    """Claim 5(a): per layer, E[mean h^2 | previous layer] = ms(previous layer)."""
    run = ctx.run
    samples: list[LayerSample | None] = []
    for layer in range(1, len(ctx.widths) + 1):
        h_prev = run.x if layer == 1 else run.acts[layer - 2]
        h = run.acts[layer - 1]
        if h_prev is None or h.shape[1] < MIN_UNITS:
            continue
        ms = float(np.mean(np.square(h_prev)))
        null = simulate_units(
            h_prev, ctx.scheme, "relu", h.shape[1], np.square, layer_rng(ctx.seed, layer)
        )
        samples.append(
            band_sample(
                np.mean(np.square(h), axis=0),
                ms,
                ms,
                HE_EFFECT * ms,
                name=f"layer {layer} second moment preserved",
                alpha=ctx.alpha,
                null=null,
                explanation=f"layer {layer}'s second moment is not layer {layer - 1}'s",
                detail=f"ms(prev) = {ms:.4g}",
            )
        )
    return combined(
        samples,
        name="second moment preserved",
        alpha=ctx.alpha,
        explanation="the second moment is not preserved from layer to layer",
    )


def _gain_sample(
    h_prev: np.ndarray, h: np.ndarray, gain: float, scheme: Scheme, ctx: Context, **kw: Any
) -> LayerSample:
    ms = float(np.mean(np.square(h_prev)))
    return band_sample(
        np.mean(np.square(h), axis=0),
        gain * ms,
        gain * ms,
        GLOROT_EFFECT * gain * ms,
        alpha=ctx.alpha,
        null=simulate_units(h_prev, scheme, "linear", h.shape[1], np.square, kw.pop("rng")),
        **kw,
    )


def _glorot_assertions(ctx: Context) -> list[TestResult]:
    """Claim 5(b): forward gain n_in v and backward gain n_out v per layer, mean exactly 1."""
    run, sch, alpha = ctx.run, ctx.scheme, ctx.alpha
    assert run.x is not None  # the flexible contract (the property's condition)
    fans = [run.x.shape[1], *ctx.widths]
    tests: list[TestResult] = []
    forward: list[LayerSample | None] = []
    backward: list[LayerSample | None] = []
    for layer in range(1, len(fans)):
        n_in, n_out = fans[layer - 1], fans[layer]
        v = sch.variance(n_in, n_out)
        mean_gain = (n_in * v + n_out * v) / 2
        exact = A.exact(
            f"layer {layer} mean of gains",
            mean_gain,
            1.0,
            abs(mean_gain - 1.0) <= 1e-12,
            f"layer {layer}: (n_in + n_out) v / 2 != 1: not Glorot's rule",
        )
        tests.append(replace(exact, ran_on=RanOn.SCHEME))
        h_prev = run.x if layer == 1 else run.acts[layer - 2]
        if n_out >= MIN_UNITS:
            forward.append(
                _gain_sample(
                    h_prev,
                    run.acts[layer - 1],
                    n_in * v,
                    sch,
                    ctx,
                    rng=layer_rng(ctx.seed, layer),
                    name=f"layer {layer} forward gain n_in v = {n_in * v:.3g}",
                    explanation=f"layer {layer}'s forward variance gain is not n_in v",
                )
            )
    # Backward, on the reference's backward pass with the same law of weights.
    gen = np.random.default_rng(ctx.seed + 7)
    weights = [sch.sample(a, b, rng=gen) for a, b in itertools.pairwise(fans)]
    g_out = gen.standard_normal((run.x.shape[0], fans[-1]))
    grads = forward_backward(run.x, weights, "linear", output_grad=g_out)
    for layer in range(1, len(fans)):
        n_in, n_out = fans[layer - 1], fans[layer]
        if n_in < MIN_UNITS:
            continue
        delta = grads.preact_grads[layer - 1]
        gain = n_out * sch.variance(n_in, n_out)
        backward.append(
            _gain_sample(
                delta,
                delta @ weights[layer - 1].T,  # dL/dH_{l-1}, (m, n_in)
                gain,
                _transposed(sch),
                ctx,
                rng=layer_rng(ctx.seed, layer, 1),
                name=f"layer {layer} backward gain n_out v = {gain:.3g}",
                explanation=f"layer {layer}'s backward variance gain is not n_out v",
            )
        )
    tests += combined(
        forward,
        name="forward gains n_in v",
        alpha=alpha,
        explanation="forward variance gains are not n_in v",
    )
    back = combined(
        backward,
        name="backward gains n_out v",
        alpha=alpha,
        explanation="backward variance gains are not n_out v",
    )
    return tests + [replace(t, ran_on=RanOn.REFERENCE) for t in back]


def _strategy(schemes: tuple[str, ...], **net: Any) -> SearchStrategy[dict[str, Any]]:
    from hypothesis import strategies as st

    from weight_init.properties.claims import _strategies as S

    return st.builds(
        lambda n, scheme, seed: {**n.kwargs(), "scheme": scheme, "seed": seed},
        S.networks(**net),
        st.sampled_from(schemes),
        S.seeds,
    )


he_relu_keeps_second_moment = register(
    Property(
        name="second_moment",
        claim="Under He's 2/fan_in and relu each layer's second moment equals the previous "
        "layer's in expectation, at every width.",
        condition=Condition(activations=("relu",)),
        defaults={
            "widths": (64,) * 8,
            "scheme": "he_normal",
            "n_samples": 256,
            "input_dim": 64,
            "seed": 0,
        },
        scheme=scheme_param,
        assertions=_he_assertions,
        suite_cases=lambda gen: [{"widths": draw_widths(gen, 6), "scheme": "he_normal"}],
        strategy=lambda: _strategy(HE_SCHEMES, max_depth=30),
    )
)

glorot_balances = register(
    Property(
        name="glorot_balance",
        claim="Under Glorot's 2/(fan_in + fan_out) and a linear network the forward gain "
        "n_in v and the backward gain n_out v average exactly 1.",
        condition=Condition(activations=("linear",), contract=Contract.FLEXIBLE),
        defaults={
            "widths": (32, 128, 32),
            "scheme": "glorot_normal",
            "n_samples": 256,
            "input_dim": 128,
            "seed": 0,
        },
        scheme=scheme_param,
        assertions=_glorot_assertions,
        suite_cases=lambda gen: [{"widths": [32, 128, 48], "scheme": "glorot_normal"}],
        strategy=lambda: _strategy(GLOROT_SCHEMES, max_depth=6, constant_width=False),
    )
)
