"""The interface every conformance check implements, and the result it returns.

A check is an object with a ``name`` (as tables and JSON show it), a :class:`CheckKind`
(``EXACT``: no false alarm on a correct implementation, decided on its own;
``STATISTICAL``: a p-value, uniform under the scheme, decided by Holm's procedure at the
check's family-wise level), an ``explanation`` of what a failure means, the families it
:meth:`~Check.applies` to, the effects it is powered against (:meth:`~Check.effects`, read by
:func:`weight_init.properties.conformance._power.plan`), and :meth:`~Check.run`, which reads the
pooled draws (:class:`weight_init.properties.conformance._checks.pool.Pool`) and returns a
:class:`CheckResult`:
its :class:`~weight_init.properties._results.TestResult` plus typed evidence for the diagnosis.

A statistical check's result leaves ``passed`` undecided (None) and ``threshold`` at 0 until
the runner applies Holm (:func:`weight_init.properties.conformance._runner.check_initializer`).
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from weight_init.families import Family
from weight_init.properties._results import TestResult

if TYPE_CHECKING:
    from weight_init.properties.conformance._checks.pool import Pool
    from weight_init.properties.conformance._power import Effect
    from weight_init.properties.conformance._sampling import Draw


class CheckKind(enum.Enum):
    """Exact checks decide alone; statistical ones share a Holm-corrected level."""

    EXACT = "exact"
    STATISTICAL = "statistical"


class Evidence:
    """Base of the typed evidence a check returns beside its test (what it measured)."""


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome: the check, its test row, its sample size and its evidence."""

    check: Check
    test: TestResult
    n: int = 0
    evidence: Evidence | None = None

    @property
    def failed(self) -> bool:
        return self.test.passed is False

    def decided(self, passed: bool | None, threshold: float, detail: str) -> CheckResult:
        """A copy with the runner's decision (statistical checks, after Holm)."""
        return replace(
            self, test=replace(self.test, passed=passed, threshold=threshold, detail=detail)
        )


class Check(ABC):
    """A conformance check (see the module docstring). Instances are compared by identity."""

    name: str = ""
    kind: CheckKind = CheckKind.EXACT
    explanation: str = ""
    #: Whether :meth:`fails_on` decides from one draw (the runner then shrinks the shape).
    shrinkable: bool = False

    def applies(self, family: Family) -> bool:
        """Whether the check runs for a scheme of ``family``."""
        return True

    def effects(self, family: Family, level: float, power: float) -> tuple[Effect, ...]:
        """The effects this check must catch with ``power`` at per-test ``level``."""
        return ()

    @abstractmethod
    def run(self, pool: Pool) -> CheckResult | None:
        """Run on the pooled draws; None when there is nothing to test (too few entries)."""

    def fails_on(self, draw: Draw, convention: str) -> bool:
        """Whether one draw alone shows this check's failure (``shrinkable`` checks only)."""
        return False

    def describe_failure(self, result: CheckResult) -> str:
        """A diagnosis sentence for a failed result (the diagnosis module words the built-in
        checks; a new check words its own here)."""
        return ""

    # -- building results -----------------------------------------------------------------
    def exact(
        self,
        statistic: float,
        bound: float,
        ok: bool,
        detail: str = "",
        evidence: Evidence | None = None,
    ) -> CheckResult:
        """An exact check's result: ``statistic`` compared with ``bound``."""
        test = TestResult(
            self.name, float(statistic), None, float(bound), ok, self.explanation, detail
        )
        return CheckResult(self, test, 0, evidence)

    def statistical(
        self,
        statistic: float,
        p_value: float,
        n: int,
        detail: str = "",
        evidence: Evidence | None = None,
    ) -> CheckResult:
        """A statistical check's result before the runner's Holm decision."""
        test = TestResult(
            self.name, float(statistic), float(p_value), 0.0, None, self.explanation, detail
        )
        return CheckResult(self, test, n, evidence)

    def __repr__(self) -> str:
        return f"<check {self.name}>"
