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
``weight-init calibrate --properties N`` (and over Hypothesis-drawn cases by
``--hypothesis N``); the per-test p-values' calibration by
:mod:`weight_init.app._calibration.property_calibration` (docs/calibration_properties.md).
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
    ``flexible=False`` (a notes-contract subject: tanh, unknown input) the cases its
    contract cannot run are left out.
    """
    gen = np.random.default_rng([seed, CASE_STREAM])
    cases: list[tuple[str, dict[str, Any]]] = []
    for name, prop in PROPERTIES.items():
        cases.extend((name, dict(kw)) for kw in prop.suite_cases(gen))
    for i, (_, kw) in enumerate(cases):
        kw["seed"] = int(seed) * 1000 + i
    if not flexible:
        notes_contract = Subject(lambda *a: None, "notes contract", frozenset())
        cases = [
            (n, kw)
            for n, kw in cases
            if PROPERTIES[n].condition.runnable_by(notes_contract, {**PROPERTIES[n].defaults, **kw})
        ]
    return cases


def run_suite(
    forward_prop: Callable[..., object] | None = None,
    *,
    seed: int = 0,
    alpha: float = 1e-3,
    stop_on_failure: bool = False,
) -> list[Verdict]:
    """Run every registered property on the cases drawn from ``seed``.

    Each property of :data:`PROPERTIES` is called with the implementation under test
    (``None``: the reference :func:`weight_init.experiment.forward_prop`) on the cases it
    draws from ``seed`` (nine for the built-ins; modest sizes, widths 32..128, batch 256, so
    the whole suite takes seconds), each verdict Holm-corrected at the family-wise false-fail
    rate ``alpha``. A notes-contract-only callable (no ``x``/``seed``/``activation``
    keywords) is run with numpy's legacy global state seeded from the case and tanh, on the
    cases it can run.

    Parameters
    ----------
    forward_prop : callable, optional
        The implementation under test, ``forward_prop(hidden_layer_sizes, init, **keywords)
        -> (acts, means, stds)``; None (default) runs the reference.
    seed : int, default 0
        The non-negative seed the cases are drawn from; case i gets the seed
        ``seed * 1000 + i``.
    alpha : float, default 1e-3
        The family-wise false-fail rate of each verdict, in (0, 1).
    stop_on_failure : bool, default False
        Return as soon as one verdict fails.

    Returns
    -------
    list of Verdict
        One verdict per case, in registry order; each verdict's metadata names its property,
        its case, the claim and a call that reproduces it.

    Raises
    ------
    NotCallableError
        ``forward_prop`` is neither callable nor None.
    InvalidParameterError
        ``seed`` or ``alpha`` is out of its domain.

    Notes
    -----
    One suite run has a false-alarm rate of at most ``len(cases) * alpha`` (Bonferroni over
    the verdicts). Measured by ``weight-init calibrate --properties N`` (and over
    Hypothesis-drawn cases by ``--hypothesis N``); the per-test p-values' calibration by
    :mod:`weight_init.app._calibration.property_calibration` (docs/calibration_properties.md).

    Examples
    --------
    An implementation that ignores ``init`` (it always draws Xavier weights) fails the first
    claim, that constant weights never break the symmetry between units:

    >>> from weight_init import forward_prop, get_scheme, run_suite
    >>> def own_weights(hidden_layer_sizes, init, **keywords):
    ...     return forward_prop(hidden_layer_sizes, get_scheme("xavier"), **keywords)
    >>> verdicts = run_suite(own_weights, stop_on_failure=True)
    >>> [(v.metadata["property"], v.outcome) for v in verdicts]
    [('symmetry', 'fail')]
    >>> verdicts[0].failures[0].name
    'layer 1 units identical'
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
