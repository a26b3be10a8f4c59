"""The property family: every claim of the seed notes as a checked statement.

``PROPERTIES`` maps a short name to each property function; every one takes the
implementation under test first (``None``: the reference
:func:`weight_init.experiment.forward_prop`) and returns a
:class:`~weight_init.properties.results.Verdict` whose tests are Holm-corrected
at the family-wise false-fail rate ``alpha``.

:func:`run_suite` runs them all on nine cases derived from ``seed``, each verdict
at ``alpha``; one suite run then has a false-alarm rate of at most ``9 * alpha``
(Bonferroni over the verdicts). Measured by :mod:`weight_init.app.calibration.false_alarm`:
1 of 200 seeds at alpha = 1e-3 (bound 0.009).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np

from weight_init.errors import InvalidParameterError, NotCallableError
from weight_init.properties.bounded_decay import xavier_bounded_decay
from weight_init.properties.results import Verdict
from weight_init.properties.saturation import big_init_saturates
from weight_init.properties.second_moment import glorot_balances, he_relu_keeps_second_moment
from weight_init.properties.subject import Subject
from weight_init.properties.symmetry import symmetry_never_broken
from weight_init.properties.theory_agreement import agrees_with_theory
from weight_init.properties.vanishing import small_init_vanishes

Property = Callable[..., Verdict]

PROPERTIES: dict[str, Property] = {
    "symmetry": symmetry_never_broken,
    "vanishing": small_init_vanishes,
    "saturation": big_init_saturates,
    "bounded_decay": xavier_bounded_decay,
    "second_moment": he_relu_keeps_second_moment,
    "glorot_balance": glorot_balances,
    "theory_agreement": agrees_with_theory,
}

#: Properties that need keyword options (activation other than tanh, an explicit input).
NEEDS_OPTIONS = ("second_moment", "glorot_balance")


def suite_cases(seed: int, flexible: bool = True) -> list[tuple[str, dict[str, object]]]:
    """The cases :func:`run_suite` runs, derived from ``seed`` (widths drawn, unequal).

    Sizes are modest (widths 32..128, batch 256) so the whole suite takes seconds;
    a seed-contract subject gets its fixed 1000 x 500 input and tanh.
    """
    gen = np.random.default_rng([seed, 20261129])

    def widths(depth: int, lo: int = 32, hi: int = 128) -> list[int]:
        return [int(w) for w in gen.integers(lo, hi + 1, size=depth)]

    cases: list[tuple[str, dict[str, object]]] = [
        ("symmetry", {"widths": widths(3), "value": 0.0}),
        ("symmetry", {"widths": widths(3), "value": float(gen.uniform(-0.2, 0.2))}),
        ("vanishing", {"widths": widths(6), "sigma": 0.01}),
        ("saturation", {"widths": widths(4), "sigma": 1.0}),
        ("bounded_decay", {"widths": widths(10), "scheme": "xavier"}),
        ("second_moment", {"widths": widths(6), "scheme": "he_normal"}),
        ("glorot_balance", {"widths": [32, 128, 48], "scheme": "glorot_normal"}),
        ("theory_agreement", {"widths": widths(4), "scheme": "glorot_uniform"}),
        (
            "theory_agreement",
            {"widths": widths(4), "scheme": "lecun_normal", "activation": "selu"},
        ),
    ]
    if not flexible:
        cases = [(n, kw) for n, kw in cases if n not in NEEDS_OPTIONS and "activation" not in kw]
    for i, (_, kw) in enumerate(cases):
        kw["seed"] = int(seed) * 1000 + i
    return cases


def run_suite(
    forward_prop: Callable[..., object] | None = None,
    *,
    seed: int = 0,
    alpha: float = 1e-3,
    stop_on_failure: bool = False,
) -> list[Verdict]:
    """Run every property on the cases of :func:`suite_cases` (``forward_prop=None``: reference).

    A seed-contract-only callable (no ``x``/``seed``/``activation`` keywords) is run
    with numpy's legacy global state seeded from the case and tanh, on the cases
    it can run. Each verdict's metadata names its property and case. With
    ``stop_on_failure`` it returns as soon as one verdict fails.
    """
    if forward_prop is not None and not callable(forward_prop):
        raise NotCallableError(
            f"forward_prop must be callable or None, got {type(forward_prop).__name__}"
        )
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise InvalidParameterError(f"seed must be a non-negative integer, got {seed!r}")
    subject = Subject.of(forward_prop)
    out: list[Verdict] = []
    for name, kwargs in suite_cases(seed, subject.flexible):
        verdict = PROPERTIES[name](subject, alpha=alpha, **kwargs)
        verdict.metadata.setdefault("property", name)
        verdict.metadata.setdefault("case", dict(kwargs))
        out.append(verdict)
        if stop_on_failure and verdict.outcome == "fail":
            break
    return out
