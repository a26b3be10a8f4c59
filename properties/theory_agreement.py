"""Claim 6: each layer's statistics agree with the mean-field theory, for every registered
scheme x activation.

Condition: a registered non-constant scheme, a registered activation, layers of at
least ``MIN_UNITS`` = 16 units (narrower layers are not tested: the t-test across
units needs them) and fan_in >= 16 (the CLT in ``z = sum_i h_i w_i``).

Statement, per layer l, given the previous layer H (the input x for l = 1 when it
is known) with ``q_a = Var[W_l] ||H_a||^2``: the per-unit second moment and mean of
the activations have expectations ``mean_a E[phi(sqrt(q_a) z)^2]`` and
``mean_a E[phi(sqrt(q_a) z)]``: the theory's variance map applied to the layer's
actual input. This conditional form needs no finite-size tolerance; the marginal
agreement with :func:`weight_init.theory.predict` at the seed's configuration is
checked in ``tests/test_theory.py`` (Xavier/tanh, layer 10: within 2%).
Also exact: the reported means and stds are those of the returned activations.

Tests: two-sided t-tests across units, power required against a 10% shift of the
second moment and a shift of the mean by 10% of the layer's rms; Holm across all.
"""

from __future__ import annotations

from collections.abc import Sequence

from weight_init.properties import assertions as A
from weight_init.properties.common import (
    LayerSample,
    combined,
    inconclusive,
    mean_law,
    reported_statistics,
    reproduce,
    run_subject,
    second_moment_law,
)
from weight_init.properties.results import TestResult, Verdict
from weight_init.properties.subject import UnsupportedCase
from weight_init.schemes import get_scheme


def agrees_with_theory(
    forward_prop: object = None,
    *,
    widths: Sequence[int] = (64, 32, 128, 64),
    scheme: str = "xavier",
    activation: str = "tanh",
    n_samples: int = 256,
    input_dim: int = 64,
    seed: int = 0,
    alpha: float = 1e-3,
) -> Verdict:
    """Claim 6 (module docstring)."""
    sch = get_scheme(scheme)
    try:
        subject, run = run_subject(
            forward_prop,
            widths,
            sch,
            seed=seed,
            activation=activation,
            n_samples=n_samples,
            input_dim=input_dim,
        )
    except UnsupportedCase as exc:
        return inconclusive("theory agreement", "theory", str(exc), alpha)
    tests: list[TestResult] = [reported_statistics(run)]
    fans = [run.input_dim, *widths]
    seconds: list[LayerSample | None] = []
    means: list[LayerSample | None] = []
    for layer in range(1, len(widths) + 1):
        if fans[layer - 1] < 16:
            continue
        seconds.append(second_moment_law(run, layer, sch, alpha, seed))
        means.append(mean_law(run, layer, sch, alpha, seed))
    tests.extend(
        combined(
            seconds,
            name="second moments follow the theory",
            alpha=alpha,
            explanation="the layers' second moments differ from the mean-field law",
        )
    )
    tests.extend(
        combined(
            means,
            name="means follow the theory",
            alpha=alpha,
            explanation="the layers' means differ from the mean-field law",
        )
    )
    return A.family(
        subject.name,
        tests,
        alpha,
        metadata={
            "claim": "theory agreement",
            "reproduce": reproduce(
                "theory_agreement",
                widths=list(widths),
                scheme=scheme,
                activation=activation,
                n_samples=n_samples,
                input_dim=input_dim,
                seed=seed,
            ),
        },
    )
