"""Claim 1 (the notes' first): under zeros or any constant init, symmetry is never broken.

Holds exactly (up to float rounding), for every depth, width, activation and
input: with ``W_l = c * ones``, every pre-activation of layer l is
``c * sum_i h_{l-1,i}``, the same for all units, so all units of a layer are
identical. The gradient of ``W_l``'s column j is ``H_{l-1}^T delta_j`` with
``delta_j`` the same for all *hidden* units j (their outgoing weights are equal
rows), so the updates are identical and the units stay identical after any
number of gradient-descent steps. (Output units facing different targets may
differ; the claim is about hidden layers, and about every layer's forward pass.)

Rounding bound for "identical": a dot product of length n carries error at most
``n eps sum_i |h_i w_i|`` (Higham 2002, 3.1); the check allows 4 times that.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from weight_init.backward import forward_backward, gradient_descent
from weight_init.errors import WeightInitError
from weight_init.properties._results import RanOn, TestResult
from weight_init.properties._subject import NOTES_INPUT_DIM
from weight_init.properties.claims import _assertions as A
from weight_init.properties.claims._registry import (
    Condition,
    Context,
    Property,
    draw_widths,
    register,
)
from weight_init.schemes import constant

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

EPS = float(np.finfo(np.float64).eps)
#: Bound on |x| for an unknown standard-normal input (P(|z| > 8) = 1.2e-15 per entry).
UNKNOWN_INPUT_BOUND = 8.0


def _column_spread(h: np.ndarray) -> float:
    return float(np.max(np.abs(h - h[:, :1]))) if h.shape[1] > 1 else 0.0


def _bound(value: float, fan_in: int, h_prev_abs_row_sum: float) -> float:
    return 4.0 * fan_in * EPS * abs(value) * h_prev_abs_row_sum + 1e-300


def _assertions(ctx: Context) -> list[TestResult]:
    """All units of every layer identical under ``constant(value)``; with the reference's
    backward pass (flexible subjects), hidden units' gradient updates identical and units
    still identical after ``steps`` gradient-descent steps. Exact checks (no p-values)."""
    run, widths, value = ctx.run, ctx.widths, float(ctx.params["value"])
    tests: list[TestResult] = []
    fans = [run.x.shape[1] if run.x is not None else NOTES_INPUT_DIM, *widths]
    for i, h in enumerate(run.acts):
        prev = run.x if i == 0 else run.acts[i - 1]
        row = (
            float(np.max(np.sum(np.abs(prev), axis=1)))
            if prev is not None
            else UNKNOWN_INPUT_BOUND * fans[0]
        )
        bound = _bound(value, fans[i], row)
        spread = _column_spread(h)
        tests.append(
            A.exact(
                f"layer {i + 1} units identical",
                spread,
                bound,
                spread <= bound,
                f"layer {i + 1}'s units differ under constant init {value:g}: symmetry was broken",
                f"max |h_j - h_1| = {spread:.3g} (rounding bound {bound:.3g})",
            )
        )
    if ctx.subject.flexible and run.x is not None and len(widths) >= 2:
        steps = int(ctx.params["steps"])
        back = _backward_checks(run.x, widths, value, run.activation, steps, ctx.seed)
        tests.extend(replace(t, ran_on=RanOn.REFERENCE) for t in back)
    return tests


def _strategy() -> SearchStrategy[dict[str, Any]]:
    from hypothesis import strategies as st

    from weight_init.properties.claims import _strategies as S

    return st.builds(
        lambda net, value, act, seed: (
            {**net.kwargs(), "value": value, "activation": act} | {"seed": seed}
        ),
        S.networks(max_depth=8),
        S.constant_values,
        S.activations,
        S.seeds,
    )


symmetry_never_broken = register(
    Property(
        name="symmetry",
        claim="Under zeros or any constant init all units of a layer are identical, in the "
        "forward pass and after any number of gradient-descent steps: symmetry is never broken.",
        condition=Condition(activations=None),
        defaults={
            "widths": (64, 32, 64),
            "value": 0.0,
            "activation": "tanh",
            "n_samples": 128,
            "input_dim": 32,
            "steps": 3,
            "seed": 0,
        },
        scheme=lambda params: constant(float(params["value"])),
        assertions=_assertions,
        suite_cases=lambda gen: [
            {"widths": draw_widths(gen, 3), "value": 0.0},
            {"widths": draw_widths(gen, 3), "value": float(gen.uniform(-0.2, 0.2))},
        ],
        strategy=_strategy,
    )
)


def _backward_checks(
    x: np.ndarray, widths: Sequence[int], value: float, activation: str, steps: int, seed: int
) -> list[TestResult]:
    """The reference's gradients and ``steps`` GD steps (random target, lr 0.01 / max |grad|)."""
    fans = [x.shape[1], *widths]
    weights = [np.full((a, b), value) for a, b in itertools.pairwise(fans)]
    target = np.random.default_rng(seed + 1).standard_normal((x.shape[0], widths[-1]))
    out: list[TestResult] = []
    grads = forward_backward(x, weights, activation, target=target)
    hidden = range(len(widths) - 1)
    scale = max(1.0, max(float(np.max(np.abs(g))) for g in grads.weight_grads))
    bound = 4.0 * max(fans) * x.shape[0] * EPS * scale
    spread = max(_column_spread(grads.weight_grads[i]) for i in hidden)
    out.append(
        A.exact(
            "hidden gradient updates identical",
            spread,
            bound,
            spread <= bound,
            "hidden units received different gradient updates under constant init",
            f"max column spread of dL/dW over hidden layers {spread:.3g} (bound {bound:.3g})",
        )
    )
    # A step size the first gradient cannot blow up (constant weights can make the
    # activations huge, e.g. leaky_relu with 0.5 * n gain per layer): 0.01 / max |dL/dW|.
    lr = 0.01 / max(1.0, max(float(np.max(np.abs(g))) for g in grads.weight_grads))
    try:
        trained = gradient_descent(
            x, weights, activation, steps=steps, learning_rate=lr, target=target
        )
        acts = forward_backward(x, trained, activation, target=target).acts
    except WeightInitError as exc:
        out.append(
            TestResult(
                f"hidden units identical after {steps} steps",
                math.nan,
                None,
                bound,
                None,
                "gradient descent diverged: symmetry after training not checked",
                str(exc),
            )
        )
        return out
    spread = max(_column_spread(acts[i]) for i in hidden)
    out.append(
        A.exact(
            f"hidden units identical after {steps} steps",
            spread,
            bound,
            spread <= bound,
            f"hidden units differ after {steps} gradient-descent steps from constant init",
            f"max unit spread over hidden layers {spread:.3g} (bound {bound:.3g})",
        )
    )
    return out
