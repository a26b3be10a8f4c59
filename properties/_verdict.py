"""A family of tests as one verdict: Holm's correction, the family's p-value, the assertion.

:func:`family` applies Holm's step-down correction (family-wise false-fail rate ``alpha``,
:mod:`weight_init.properties._multiple_testing`) and returns the
:class:`~weight_init.properties._results.Verdict`; a family without any test is
inconclusive, never a pass.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from weight_init.properties._multiple_testing import holm_reject, holm_thresholds
from weight_init.properties._results import TestResult, Verdict


def family(
    subject: str,
    tests: Sequence[TestResult],
    alpha: float,
    *,
    diagnosis: str = "",
    metadata: dict[str, object] | None = None,
) -> Verdict:
    """Holm-correct the statistical tests of a family (family-wise false-fail rate <= alpha).

    Each statistical test's threshold becomes its Holm level and ``passed``
    is recomputed from the step-down rejections (inconclusive stays
    inconclusive unless rejected). Exact checks are kept as they are.
    """
    out = list(tests)
    if not out:
        out = [
            TestResult(
                "evidence",
                math.nan,
                None,
                alpha,
                None,
                "no test could run on this case (e.g. every layer narrower than the tests need)",
                "a verdict without evidence is inconclusive, never a pass",
            )
        ]
    stat_idx = [i for i, t in enumerate(out) if t.p_value is not None]
    if stat_idx:
        ps = [float(out[i].p_value or 0.0) for i in stat_idx]
        levels = holm_thresholds(ps, alpha)
        rejects = holm_reject(ps, alpha)
        for i, level, rej in zip(stat_idx, levels, rejects, strict=True):
            t = out[i]
            passed: bool | None
            if rej:
                passed = False
            else:
                passed = None if t.passed is None else True
            out[i] = replace(t, threshold=level, passed=passed)
    failed = [t.name for t in out if t.passed is False]
    diag = diagnosis or ("; ".join(f"{t.name}: {t.explanation}" for t in out if t.passed is False))
    return Verdict(subject, alpha, tuple(out), diag if failed else diagnosis, dict(metadata or {}))


def family_p_value(verdict: Verdict) -> float | None:
    """The verdict's adjusted p-value: the smallest alpha at which Holm rejects some test,
    ``min(1, m min_i p_i)`` over its m statistical tests (None without one). Valid
    (``P(p <= a) <= a`` under the family's null); conservative when the tests are dependent."""
    ps = [t.p_value for t in verdict.tests if t.p_value is not None]
    return min(1.0, len(ps) * min(ps)) if ps else None


def assert_verdict_passes(verdict: Verdict, reproduce: str = "") -> None:
    """Raise AssertionError (with the results table and a reproduction snippet) on any failure."""
    if verdict.failures:
        lines = [verdict.format_table()]
        for t in verdict.failures:
            lines.append(f"  {t.name}: {t.detail}")
        if reproduce:
            lines.append(f"reproduce: {reproduce}")
        raise AssertionError("\n".join(lines))
