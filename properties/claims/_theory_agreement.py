"""Claim 6: each layer's statistics agree with the mean-field theory, for every registered
scheme x activation.

Condition: a registered non-constant scheme, a registered activation, layers of at
least ``MIN_UNITS`` = 16 units (narrower layers are not tested) and fan_in >= 16 (the
CLT in ``z = sum_i h_i w_i``).

Statement, per layer l, given the previous layer H (the input x for l = 1 when it
is known) with ``q_a = Var[W_l] ||H_a||^2``: the per-unit second moment and mean of
the activations have expectations ``mean_a E[phi(sqrt(q_a) z)^2]`` and
``mean_a E[phi(sqrt(q_a) z)]`` (with the Edgeworth correction for non-Gaussian weights,
:mod:`weight_init.properties.claims._conditional`): the theory's variance map applied to the
layer's actual input. This conditional form needs no finite-size tolerance; the marginal
agreement with :func:`weight_init.theory.predict` at the notes' configuration is
checked in ``tests/test_theory.py``.
Also exact: the reported means and stds are those of the returned activations.

Tests: per layer, the mean over units against the law of the mean of units simulated
from fresh weights on the same H (point nulls: the two-sided test of
:func:`weight_init.properties.claims._assertions.band_test`); per statistic the two-sided
Stouffer combination over the layers, which must have power >= 1/2 against a shift of
``LAW_EFFECT`` (20%) of the second moment and of 20% of the layer's rms for the mean;
Holm across all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from weight_init.properties._results import TestResult
from weight_init.properties.claims._common import (
    LayerSample,
    combined,
    mean_law,
    reported_statistics,
    second_moment_law,
)
from weight_init.properties.claims._registry import (
    Condition,
    Context,
    Property,
    draw_widths,
    register,
    scheme_param,
)

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

#: Smallest fan_in at which a layer is compared with the theory (the CLT in z).
MIN_FAN_IN = 16


def _assertions(ctx: Context) -> list[TestResult]:
    """Claim 6 (module docstring)."""
    run, sch, alpha, seed = ctx.run, ctx.scheme, ctx.alpha, ctx.seed
    tests: list[TestResult] = [reported_statistics(run)]
    fans = [run.input_dim, *ctx.widths]
    seconds: list[LayerSample | None] = []
    means: list[LayerSample | None] = []
    for layer in range(1, len(ctx.widths) + 1):
        if fans[layer - 1] < MIN_FAN_IN:
            continue
        seconds.append(second_moment_law(run, layer, sch, alpha, seed))
        means.append(mean_law(run, layer, sch, alpha, seed))
    tests += combined(
        seconds,
        name="second moments follow the theory",
        alpha=alpha,
        explanation="the layers' second moments differ from the mean-field law",
    )
    tests += combined(
        means,
        name="means follow the theory",
        alpha=alpha,
        explanation="the layers' means differ from the mean-field law",
    )
    return tests


def _strategy() -> SearchStrategy[dict[str, Any]]:
    from hypothesis import strategies as st

    from weight_init.properties.claims import _strategies as S

    return st.builds(
        lambda net, scheme, act, seed: (
            {**net.kwargs(), "scheme": scheme, "activation": act} | {"seed": seed}
        ),
        S.networks(max_depth=12),
        S.non_constant_schemes,
        S.activations,
        S.seeds,
    )


agrees_with_theory = register(
    Property(
        name="theory_agreement",
        claim="For every registered scheme and activation each layer's per-unit second moment "
        "and mean are the mean-field law applied to the layer's actual input.",
        condition=Condition(activations=None),
        defaults={
            "widths": (64, 32, 128, 64),
            "scheme": "xavier",
            "activation": "tanh",
            "n_samples": 256,
            "input_dim": 64,
            "seed": 0,
        },
        scheme=scheme_param,
        assertions=_assertions,
        suite_cases=lambda gen: [
            {"widths": draw_widths(gen, 4), "scheme": "glorot_uniform"},
            {"widths": draw_widths(gen, 4), "scheme": "lecun_normal", "activation": "selu"},
        ],
        strategy=_strategy,
    )
)
