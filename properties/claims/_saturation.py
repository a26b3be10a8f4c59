"""Claim 3 (the notes' second): big init saturates tanh and kills the local derivative.

Condition: tanh, fixed weight std sigma with every layer gain
``g_l = sigma sqrt(n_{l-1}) >= G_BIG`` (= 4).

Statements, for every layer l >= 2 (l = 1 too when the input is known), given the
previous layer H and with ``q_a = sigma^2 ||H_a||^2``:

(a) the per-unit saturated fraction ``mean_a 1{|h_aj| > 0.9}`` has expectation
    ``mean_a P(|tanh(sqrt(q_a) z)| > 0.9)`` (the theory, given H);
(b) it exceeds ``SATURATION_BOUND`` = 1/2: in mean-field every q_l is at least the
    fixed point q*(G_BIG^2) = 12.5 (the variance map is increasing in q and in g and
    starts above it), where the saturated fraction is 0.68;
(c) the mean of ``tanh'(z)^2 = (1 - h^2)^2`` is below ``DERIVATIVE_BOUND`` = 1/4
    (0.15 at q*(16)).

Tests: per layer and statement, the mean over the layer's units against the law of the
mean of units simulated from fresh weights on the same H
(:func:`weight_init.properties.claims._assertions.band_test`: (a) a point null, two-sided; (b)
and (c) one-sided bounds); per statement the two-sided Stouffer combination over the
layers; Holm across everything. The combined tests need power >= 1/2 against a shift of
``BOUND_EFFECT`` (0.1 absolute), or the verdict is inconclusive.

Note what (c) does and does not say: the local derivative factor vanishes, as the
notes say, but the backward gain ``chi = g^2 E[tanh'^2]`` is *above* 1 (2.4 at
g = 4, 12 at the notes' g = sqrt(500)): in mean-field, gradients with respect to
the pre-activations of a big-init tanh network explode through the large weights
(the chaotic phase, Poole et al. 2016) rather than vanish.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from weight_init.activations import get_activation
from weight_init.properties._results import TestResult
from weight_init.properties.claims import _conditional as C
from weight_init.properties.claims._common import (
    MIN_UNITS,
    LayerSample,
    band_sample,
    combined,
    law_test,
    layer_rng,
    previous,
    simulate_units,
    unit_means,
)
from weight_init.properties.claims._registry import (
    Condition,
    Context,
    Property,
    draw_widths,
    register,
)
from weight_init.schemes import Scheme, variance_scaling

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

Array = NDArray[np.float64]

G_BIG = 4.0
THRESHOLD = 0.9
SATURATION_BOUND = 0.5
DERIVATIVE_BOUND = 0.25
#: Shift outside a bound that (b) and (c) must detect.
BOUND_EFFECT = 0.1


def _saturated(h: Array) -> Array:
    return (np.abs(h) > THRESHOLD).astype(np.float64)


def _dtanh_sq(h: Array) -> Array:
    """tanh'(z)^2 = (1 - tanh(z)^2)^2, from the activations."""
    return (1.0 - h * h) ** 2


def _sims(
    h_prev: Array | None,
    scheme: Scheme,
    n_units: int,
    stat: Callable[[Array], Array],
    seed: int,
    layer: int,
    salt: int,
) -> Array | None:
    if h_prev is None:
        return None
    return simulate_units(h_prev, scheme, "tanh", n_units, stat, layer_rng(seed, layer, salt))


def condition_holds(sigma: float, widths: Sequence[int], input_dim: int) -> bool:
    fans = [input_dim, *widths[:-1]]
    return min(sigma * math.sqrt(n) for n in fans) >= G_BIG


def _assertions(ctx: Context) -> list[TestResult]:
    """Statements (a)-(c) on every layer with >= MIN_UNITS units (layer 1 when x is known)."""
    run, scheme, seed, alpha = ctx.run, ctx.scheme, ctx.seed, ctx.alpha
    phi = get_activation("tanh")
    laws: list[LayerSample | None] = []
    fractions: list[LayerSample | None] = []
    derivatives: list[LayerSample | None] = []
    for layer in range(1, len(ctx.widths) + 1):
        h = run.acts[layer - 1]
        if h.shape[1] < MIN_UNITS:
            continue
        h_prev = previous(run, layer)
        laws.append(
            law_test(
                run,
                layer,
                scheme,
                _saturated,
                C.saturation_fn(phi, THRESHOLD),
                what="saturated fraction",
                alpha=alpha,
                seed=seed,
                absolute_effect=BOUND_EFFECT,
            )
        )
        fractions.append(
            band_sample(
                unit_means(_saturated(h)),
                SATURATION_BOUND,
                math.inf,
                BOUND_EFFECT,
                name=f"layer {layer} saturated fraction >= {SATURATION_BOUND}",
                alpha=alpha,
                null=_sims(h_prev, scheme, h.shape[1], _saturated, seed, layer, 1),
                explanation=f"layer {layer} is not saturated (|tanh| > {THRESHOLD})",
            )
        )
        derivatives.append(
            band_sample(
                unit_means(_dtanh_sq(h)),
                -math.inf,
                DERIVATIVE_BOUND,
                BOUND_EFFECT,
                name=f"layer {layer} mean tanh'^2 <= {DERIVATIVE_BOUND}",
                alpha=alpha,
                null=_sims(h_prev, scheme, h.shape[1], _dtanh_sq, seed, layer, 2),
                explanation=f"layer {layer}'s local derivative does not vanish",
            )
        )
    return [
        *combined(
            laws,
            name="saturated fraction is the theory's",
            alpha=alpha,
            explanation="saturated fractions differ from the mean-field law",
        ),
        *combined(
            fractions,
            name=f"saturated fraction >= {SATURATION_BOUND}",
            alpha=alpha,
            explanation="the layers are not saturated",
        ),
        *combined(
            derivatives,
            name=f"mean tanh'^2 <= {DERIVATIVE_BOUND}",
            alpha=alpha,
            explanation="the local derivative does not vanish",
        ),
    ]


def _strategy() -> SearchStrategy[dict[str, Any]]:
    from hypothesis import strategies as st

    from weight_init.properties.claims import _strategies as S

    @st.composite
    def cases(draw: st.DrawFn) -> dict[str, Any]:
        net = draw(S.networks(max_depth=8))
        gain, seed = draw(S.big_gains()), draw(S.seeds)
        sigma = gain / math.sqrt(min([net.input_dim, *net.widths[:-1]]))
        return {**net.kwargs(), "sigma": sigma, "seed": seed}

    return cases()


def _scheme(sigma: float) -> Scheme:
    return variance_scaling(sigma * sigma, "fixed", "normal", name=f"normal(std={sigma:g})")


big_init_saturates = register(
    Property(
        name="saturation",
        claim="Under a big fixed-std init (every layer gain >= 4) tanh saturates: most units sit "
        "beyond |h| = 0.9, as the mean-field law says, and tanh'^2 averages below 1/4.",
        condition=Condition(activations=("tanh",)),
        defaults={
            "widths": (64,) * 4,
            "sigma": 1.0,
            "n_samples": 256,
            "input_dim": 64,
            "seed": 0,
        },
        scheme=lambda params: _scheme(float(params["sigma"])),
        assertions=_assertions,
        suite_cases=lambda gen: [{"widths": draw_widths(gen, 4), "sigma": 1.0}],
        strategy=_strategy,
        condition_holds=lambda params, input_dim: condition_holds(
            float(params["sigma"]), params["widths"], input_dim
        ),
    )
)
