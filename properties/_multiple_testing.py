"""Family-wise error control: Holm's step-down procedure and Bonferroni.

Holm (1979): sort the m p-values ``p_(1) <= ... <= p_(m)``; reject
``H_(1..k)`` where k is the largest index with ``p_(j) <= alpha / (m - j + 1)``
for all ``j <= k``. The family-wise error rate is at most ``alpha`` under any
dependence between the tests.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from weight_init.errors import InvalidParameterError
from weight_init.properties._decision_log import LOG_ENV, log_decision


def holm_thresholds(p_values: Sequence[float], alpha: float) -> list[float]:
    """The Holm level each test is compared with, in input order.

    Test i, of 0-based rank r in ascending p-value order, is compared with
    ``alpha / (m - r)``. Comparing alone is not Holm's procedure: a test is
    rejected only if it and every smaller p-value pass (the step-down stop that
    :func:`holm_reject` enforces). These levels are what result tables report
    as a test's threshold.
    """
    _check_alpha(alpha)
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    thresholds = [0.0] * m
    for rank, i in enumerate(order):
        thresholds[i] = alpha / (m - rank)
    return thresholds


def holm_reject(p_values: Sequence[float], alpha: float, *, log: bool = True) -> list[bool]:
    """Holm's step-down rejections, in input order (family-wise error rate <= alpha).

    The decision is appended to the decision log when ``WEIGHT_INIT_DECISION_LOG`` names one
    (:mod:`weight_init.properties._decision_log`); ``log=False`` for a table that re-decides
    recorded p-values and asserts no outcome.
    """
    _check_alpha(alpha)
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    reject = [False] * m
    for rank, i in enumerate(order):
        if p_values[i] <= alpha / (m - rank):
            reject[i] = True
        else:
            break
    path = os.environ.get(LOG_ENV) if log else None
    if path:
        caller = str(sys._getframe(1).f_globals.get("__name__", ""))
        log_decision(path, alpha, p_values, any(reject), caller)
    return reject


def bonferroni_threshold(m: int, alpha: float) -> float:
    """Per-test level ``alpha / m`` (family-wise error rate <= alpha)."""
    _check_alpha(alpha)
    if m <= 0:
        raise InvalidParameterError(f"number of tests must be positive, got {m}")
    return alpha / m


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise InvalidParameterError(f"alpha must be in (0, 1), got {alpha}")
