"""Structured results shared by the property suite and the conformance checks.

A :class:`TestResult` is one statistical or exact test; a :class:`Verdict`
collects a family of them under one family-wise false-alarm rate ``alpha``
(Holm-corrected thresholds, see :mod:`weight_init.properties._multiple_testing`).
``passed is None`` means the test was too weak to decide (for example a sample
too small for the requested power): it is reported as ``inconclusive`` and never
counted as a pass.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any, Literal

Outcome = Literal["pass", "fail", "inconclusive"]


def fmt_percent(fraction: float, digits: int = 2) -> str:
    """``fraction`` as a percentage with ``digits`` significant digits and never an exponent:
    ``1.0 -> "100%"``, ``2.5 -> "250%"``, ``0.0562 -> "5.6%"``, ``1.2e-5 -> "0.0012%"``."""
    p = 100.0 * fraction
    if not math.isfinite(p):
        return f"{p}%"
    if p == 0:
        return "0%"
    mag = math.floor(math.log10(abs(p)))
    decimals = max(0, digits - 1 - mag)
    rounded = round(p, decimals)
    if decimals and abs(rounded) >= 10.0 ** (mag + 1):  # 9.99 rounds to 10.0: one digit less
        decimals -= 1
        rounded = round(p, decimals)
    if decimals == 0:
        return f"{int(rounded)}%"
    return f"{rounded:.{decimals}f}%"


class RanOn(str, Enum):
    """What a test ran on: the code under test, the reference, or the scheme alone (its
    variance rule or law, with no forward pass)."""

    SUBJECT = "subject"
    REFERENCE = "reference"
    SCHEME = "scheme"


class NullKind(str, Enum):
    """A statistical test's null hypothesis: one value (its p-value is uniform on (0, 1) under
    the null) or a set (a band or a bound: the p-value is valid, P(p <= a) <= a, and uniform
    only at the set's edge)."""

    POINT = "point"
    COMPOSITE = "composite"


@dataclass(frozen=True)
class TestResult:
    """One test: its statistic, p-value (None for exact checks) and the threshold it met or not.

    Parameters
    ----------
    name : str
        The test's name, as tables and JSON show it.
    statistic : float
        The test statistic (an exact check: the quantity compared with ``threshold``).
    p_value : float or None
        The p-value of a statistical test; None for an exact check.
    threshold : float
        The Holm-adjusted significance level of a statistical test (reject when
        ``p_value < threshold``), or the bound an exact check compares ``statistic`` with.
    passed : bool or None
        True (pass), False (fail) or None: too weak to decide (e.g. a sample too small for the
        requested power), reported as ``inconclusive`` and never counted as a pass.
    explanation : str
        What a failure means, in one sentence.
    detail : str, default ""
        What was measured, for the table and the JSON.
    ran_on : RanOn or None, default None
        What the test ran on: the code under test, the reference, or the scheme alone (None:
        not stated).
    null : NullKind or None, default None
        The kind of null hypothesis of a statistical test: a point (the p-value is uniform
        under it) or a composite set (the p-value is valid, ``P(p <= a) <= a``); None for an
        exact check or not stated.

    Attributes
    ----------
    outcome : {"pass", "fail", "inconclusive"}
        ``passed`` as a word.

    Examples
    --------
    >>> from weight_init import TestResult
    >>> t = TestResult("mean", 0.27, 0.78, 1e-4, True, "the entries do not have mean 0")
    >>> t.outcome
    'pass'
    >>> t.to_dict()["p_value"]
    0.78
    """

    __test__ = False  # not a pytest test class

    name: str
    statistic: float
    p_value: float | None
    threshold: float
    passed: bool | None
    explanation: str
    detail: str = ""
    #: What the test ran on (None: not stated).
    ran_on: RanOn | None = None
    #: The kind of null hypothesis of a statistical test (None: exact check or not stated).
    null: NullKind | None = None

    @property
    def outcome(self) -> Outcome:
        """``pass``, ``fail``, or ``inconclusive`` (``passed is None``)."""
        if self.passed is None:
            return "inconclusive"
        return "pass" if self.passed else "fail"

    def to_dict(self) -> dict[str, Any]:
        """JSON form: the fields, with ``outcome`` added, the enums as their values and a
        non-finite number as None (NaN) or its string (``inf``).

        Returns
        -------
        dict
            A JSON-serializable dict.
        """
        d = asdict(self)
        d["outcome"] = self.outcome
        for key in ("ran_on", "null"):
            d[key] = None if d[key] is None else d[key].value
        for key in ("statistic", "p_value", "threshold"):
            value = d[key]
            if isinstance(value, float) and not math.isfinite(value):
                d[key] = None if math.isnan(value) else str(value)
        return d


@dataclass(frozen=True)
class Verdict:
    """A family of tests on one subject, with the family-wise false-alarm rate ``alpha``.

    The statistical tests' thresholds are Holm-corrected so that, when the subject is correct,
    the chance that any of them fails is at most ``alpha``.

    Parameters
    ----------
    subject : str
        What was tested, as the table's heading shows it.
    alpha : float
        The family-wise false-alarm rate.
    tests : sequence of TestResult
        The family's tests.
    diagnosis : str, default ""
        What a failure suggests, in words.
    metadata : dict, default {}
        JSON-ready facts of the run (the property and its case, the design, ...).

    Attributes
    ----------
    outcome : {"pass", "fail", "inconclusive"}
        ``fail`` if any test failed, else ``inconclusive`` if any test was inconclusive, else
        ``pass``.
    passed : bool
        True only when every test passed (an inconclusive test is not a pass).
    failures, inconclusive : list of TestResult
        The tests that failed, and those that could not decide.

    Examples
    --------
    >>> from weight_init import TestResult, Verdict
    >>> mean = TestResult("mean", 0.27, 0.78, 1e-4, True, "the entries do not have mean 0")
    >>> variance = TestResult("variance", 0.81, 0.42, 5e-5, None, "wrong variance", "n = 120")
    >>> v = Verdict("my_init as he_normal", 1e-4, [mean, variance])
    >>> v.outcome, v.passed
    ('inconclusive', False)
    >>> print(v.format_table())
    my_init as he_normal: INCONCLUSIVE (family-wise alpha 0.0001)
    test      statistic  p-value  threshold  outcome
    --------  ---------  -------  ---------  ------------
    mean      0.27       0.78     0.0001     pass
    variance  0.81       0.42     5e-05      inconclusive
    """

    subject: str
    alpha: float
    tests: Sequence[TestResult]
    diagnosis: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def failures(self) -> list[TestResult]:
        """The tests that failed."""
        return [t for t in self.tests if t.passed is False]

    @property
    def inconclusive(self) -> list[TestResult]:
        """The tests too weak to decide (never counted as a pass)."""
        return [t for t in self.tests if t.passed is None]

    @property
    def passed(self) -> bool:
        """True only when every test passed (an inconclusive test is not a pass)."""
        return all(t.passed is True for t in self.tests)

    @property
    def outcome(self) -> Outcome:
        """``fail`` if a test failed, else ``inconclusive`` if one did not decide, else ``pass``."""
        if self.failures:
            return "fail"
        return "inconclusive" if self.inconclusive else "pass"

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``subject``, ``alpha``, ``outcome``, ``diagnosis``, ``metadata``, ``tests``.

        Returns
        -------
        dict
            A JSON-serializable dict.
        """
        return {
            "subject": self.subject,
            "alpha": self.alpha,
            "outcome": self.outcome,
            "diagnosis": self.diagnosis,
            "metadata": self.metadata,
            "tests": [t.to_dict() for t in self.tests],
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON with sorted keys.

        Returns
        -------
        str
            The JSON text.
        """
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    def format_table(self) -> str:
        """The verdict as a fixed-width text table.

        Returns
        -------
        str
            The heading (subject, outcome, family-wise alpha), one row per test (statistic,
            p-value, threshold, outcome), then each failure's explanation and the diagnosis.
        """
        rows = [("test", "statistic", "p-value", "threshold", "outcome")]
        for t in self.tests:
            p = "-" if t.p_value is None else f"{t.p_value:.3g}"
            rows.append((t.name, f"{t.statistic:.6g}", p, f"{t.threshold:.3g}", t.outcome))
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        head = f"{self.subject}: {self.outcome.upper()} (family-wise alpha {self.alpha:g})"
        tail = [f"  {t.name}: {t.explanation}" for t in self.failures]
        if self.diagnosis:
            tail.append(f"diagnosis: {self.diagnosis}")
        return "\n".join([head, *lines, *tail])
