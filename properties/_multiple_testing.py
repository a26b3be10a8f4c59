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

#: When this environment variable names a file, every Holm decision appends one line to it
#: (level, number of tests, 1 if any was rejected, the smallest p-value, the running pytest
#: test, the module that asked): how docs/error-rates.md counts the statistical decisions of
#: a test run. Child processes inherit it, so decisions made in a command's child are
#: counted too.
RECORD_ENV = "WEIGHT_INIT_RECORD_DECISIONS"


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


def holm_reject(p_values: Sequence[float], alpha: float) -> list[bool]:
    """Holm's step-down rejections, in input order (family-wise error rate <= alpha)."""
    _check_alpha(alpha)
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    reject = [False] * m
    for rank, i in enumerate(order):
        if p_values[i] <= alpha / (m - rank):
            reject[i] = True
        else:
            break
    record = os.environ.get(RECORD_ENV)
    if record:
        caller = str(sys._getframe(1).f_globals.get("__name__", ""))
        _record(record, alpha, p_values, any(reject), caller)
    return reject


def _record(
    path: str, alpha: float, p_values: Sequence[float], rejected: bool, caller: str
) -> None:
    """Append one decision to ``path`` (one short write: whole lines even from many
    processes)."""
    test = os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]
    smallest = min(p_values, default=1.0)
    line = f"{alpha!r}\t{len(p_values)}\t{int(rejected)}\t{smallest!r}\t{test}\t{caller}\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def bonferroni_threshold(m: int, alpha: float) -> float:
    """Per-test level ``alpha / m`` (family-wise error rate <= alpha)."""
    _check_alpha(alpha)
    if m <= 0:
        raise InvalidParameterError(f"number of tests must be positive, got {m}")
    return alpha / m


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise InvalidParameterError(f"alpha must be in (0, 1), got {alpha}")
