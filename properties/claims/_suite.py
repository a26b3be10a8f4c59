"""The property family: every registered claim run on cases derived from one seed.

The properties live in :data:`weight_init.properties.claims._registry.PROPERTIES` (name ->
:class:`~weight_init.properties.claims._registry.Property`); each is called with the
implementation under test first (``None``: the reference
:func:`weight_init.experiment.forward_prop`) and returns a
:class:`~weight_init.properties._results.Verdict` whose tests are Holm-corrected at the
family-wise false-fail rate ``alpha``.

:func:`run_suite` runs every property on the cases it draws from ``seed`` (nine for the
built-ins), each verdict at ``alpha``; one suite run then has a false-alarm rate of at most
``len(cases) * alpha`` (Bonferroni over the verdicts). Measured by
:mod:`weight_init.app.calibration.false_alarm`; the per-test p-values' calibration by
:mod:`weight_init.app.calibration.property_calibration` (docs/calibration_properties.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from weight_init.errors import InvalidParameterError, NotCallableError
from weight_init.properties._results import Verdict
from weight_init.properties._subject import Subject
from weight_init.properties.claims._registry import PROPERTIES, Property

#: Second word of the suite's case generator, ``default_rng([seed, CASE_STREAM])``.
CASE_STREAM = 20261129


def suite_cases(seed: int, flexible: bool = True) -> list[tuple[str, dict[str, Any]]]:
    """The cases :func:`run_suite` runs, derived from ``seed``: every property's
    ``suite_cases`` in registry order from one Generator; case i gets ``seed * 1000 + i``.

    Sizes are modest (widths 32..128, batch 256) so the whole suite takes seconds. With
    ``flexible=False`` (a seed-contract subject: tanh, unknown input) the cases its
    contract cannot run are left out.
    """
    gen = np.random.default_rng([seed, CASE_STREAM])
    cases: list[tuple[str, dict[str, Any]]] = []
    for name, prop in PROPERTIES.items():
        cases.extend((name, dict(kw)) for kw in prop.suite_cases(gen))
    for i, (_, kw) in enumerate(cases):
        kw["seed"] = int(seed) * 1000 + i
    if not flexible:
        seed_contract = Subject(lambda *a: None, "seed contract", frozenset())
        cases = [
            (n, kw)
            for n, kw in cases
            if PROPERTIES[n].condition.runnable_by(seed_contract, {**PROPERTIES[n].defaults, **kw})
        ]
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
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InvalidParameterError(f"seed must be a non-negative integer, got {seed!r}")
    if not 0.0 < alpha < 1.0:
        raise InvalidParameterError(f"alpha must be in (0, 1), got {alpha!r}")
    subject = Subject.of(forward_prop)
    out: list[Verdict] = []
    for name, kwargs in suite_cases(int(seed), subject.flexible):
        verdict = PROPERTIES[name](subject, alpha=alpha, **kwargs)
        out.append(verdict)
        if stop_on_failure and verdict.outcome == "fail":
            break
    return out


__all__ = ["PROPERTIES", "Property", "run_suite", "suite_cases"]
