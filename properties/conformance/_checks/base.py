"""The interface every conformance check implements, and the result it returns.

A check is an object with a ``name`` (as tables and JSON show it), a :class:`CheckKind`
(``EXACT``: no false alarm on a correct implementation, decided on its own;
``STATISTICAL``: a p-value, uniform under the scheme, decided by Holm's procedure at the
check's family-wise level), an ``explanation`` of what a failure means, the families it
:meth:`~Check.applies` to, the effects it is powered against (:meth:`~Check.effects`, read by
:func:`weight_init.properties.conformance._plan.plan`), and :meth:`~Check.run`, which reads the
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
    """How a check is decided: exact checks decide alone; statistical ones share a
    Holm-corrected level.

    Attributes
    ----------
    EXACT
        No false alarm on a correct implementation; ``p_value`` None; decided on its own.
    STATISTICAL
        A p-value, uniform under the scheme, decided with the other statistical checks by
        Holm's procedure at the family-wise level.

    Examples
    --------
    >>> from weight_init.properties.conformance import CheckKind, registered_checks
    >>> [c.name for c in registered_checks() if c.kind is CheckKind.EXACT][:3]
    ['shape', 'dtype', 'finite']
    >>> CheckKind.STATISTICAL.value
    'statistical'
    """

    EXACT = "exact"
    STATISTICAL = "statistical"


class Evidence:
    """Base of the typed evidence a check returns beside its test (what it measured).

    The diagnosis reads it; a new check subclasses it (typically as a frozen dataclass) to
    hand its measurements over.

    Examples
    --------
    >>> from weight_init import check_initializer, get_scheme
    >>> from weight_init.properties.conformance import Evidence
    >>> result = check_initializer(get_scheme("glorot_normal"), "glorot_normal", seed=0)
    >>> all(isinstance(r.evidence, Evidence) for r in result.checks if r.evidence is not None)
    True
    """


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome: the check, its test row, its sample size and its evidence.

    Parameters
    ----------
    check : Check
        The check that ran.
    test : TestResult
        Its row of the verdict's table.
    n : int, default 0
        The number of entries a statistical check ran on (0 for an exact check).
    evidence : Evidence or None, default None
        What the check measured, for the diagnosis.

    Attributes
    ----------
    failed : bool
        The test failed (``passed is False``; an inconclusive test has not failed).

    Examples
    --------
    >>> from weight_init import check_initializer, get_scheme
    >>> result = check_initializer(get_scheme("lecun_uniform"), "lecun_uniform", seed=0)
    >>> first = result.checks[0]
    >>> first.check.name, first.test.outcome, first.failed
    ('shape', 'pass', False)
    """

    check: Check
    test: TestResult
    n: int = 0
    evidence: Evidence | None = None

    @property
    def failed(self) -> bool:
        """The test failed (``passed is False``; an inconclusive test has not failed)."""
        return self.test.passed is False

    def decided(self, passed: bool | None, threshold: float, detail: str) -> CheckResult:
        """A copy with the runner's decision (statistical checks, after Holm).

        Parameters
        ----------
        passed : bool or None
            The decision (None: inconclusive).
        threshold : float
            The Holm-adjusted level the p-value was compared with.
        detail : str
            The row's detail.

        Returns
        -------
        CheckResult
            The decided result.
        """
        return replace(
            self, test=replace(self.test, passed=passed, threshold=threshold, detail=detail)
        )


class Check(ABC):
    """A conformance check; subclass it and :func:`register_check` an instance to add one.

    A check has a ``name`` (as tables and JSON show it), a :class:`CheckKind` (``EXACT``: no
    false alarm on a correct implementation, decided on its own; ``STATISTICAL``: a p-value,
    uniform under the scheme, decided by Holm's procedure at the check's family-wise level), an
    ``explanation`` of what a failure means, the families it :meth:`applies` to, the effects
    it is powered against (:meth:`effects`, read by the power plan), and :meth:`run`, which
    reads the pooled draws (a :class:`Pool`) and returns a :class:`CheckResult`: its
    :class:`~weight_init.properties._results.TestResult` plus typed :class:`Evidence` for the
    diagnosis. A statistical check's result leaves ``passed`` undecided (None) and
    ``threshold`` at 0 until :func:`check_initializer` applies Holm. Instances are compared by
    identity.

    Attributes
    ----------
    name : str
        The check's name, unique among the registered checks.
    kind : CheckKind
        ``EXACT`` (default) or ``STATISTICAL``.
    explanation : str
        What a failure means, in one sentence.
    shrinkable : bool
        Whether :meth:`fails_on` decides from one draw (the runner then shrinks the shape).

    Examples
    --------
    An exact check that no entry lies beyond 10 of the rule's standard deviations:

    >>> import numpy as np
    >>> from weight_init import check_initializer, get_scheme
    >>> from weight_init.properties.conformance import Check, register_check, unregister_check
    >>> class WithinTen(Check):
    ...     name = "within ten sd"
    ...     explanation = "an entry lies beyond 10 of the rule's standard deviations"
    ...     def run(self, pool):
    ...         worst = float(np.abs(pool.z).max()) if pool.z.size else 0.0
    ...         return self.exact(worst, 10.0, worst <= 10.0, f"max |z| = {worst:.2f}")
    >>> check = register_check(WithinTen())
    >>> try:
    ...     result = check_initializer(get_scheme("he_normal"), "he_normal", seed=0)
    ... finally:
    ...     unregister_check(check)
    >>> result.result_of(check).test.outcome
    'pass'
    """

    name: str = ""
    kind: CheckKind = CheckKind.EXACT
    explanation: str = ""
    #: Whether :meth:`fails_on` decides from one draw (the runner then shrinks the shape).
    shrinkable: bool = False

    def applies(self, family: Family) -> bool:
        """Whether the check runs for a scheme of ``family``.

        Parameters
        ----------
        family : Family
            The scheme's family.

        Returns
        -------
        bool
            True by default.
        """
        return True

    def effects(self, family: Family, level: float, power: float) -> tuple[Effect, ...]:
        """The effects this check must catch with ``power`` at per-test ``level``.

        Parameters
        ----------
        family : Family
            The scheme's family.
        level : float
            The per-test significance level.
        power : float
            The required power.

        Returns
        -------
        tuple of Effect
            The effects the power plan sizes the sample for (none by default).
        """
        return ()

    @abstractmethod
    def run(self, pool: Pool) -> CheckResult | None:
        """Run on the pooled draws; None when there is nothing to test (too few entries).

        Parameters
        ----------
        pool : Pool
            The draws and their standardized entries.

        Returns
        -------
        CheckResult or None
            :meth:`exact` or :meth:`statistical`'s result, or None.
        """

    def fails_on(self, draw: Draw, layout: str) -> bool:
        """Whether one draw alone shows this check's failure (``shrinkable`` checks only).

        Parameters
        ----------
        draw : Draw
            One call's fans, seed and array.
        layout : str
            The array's layout, ``in_out`` or ``out_in``.

        Returns
        -------
        bool
            False by default.
        """
        return False

    def describe_failure(self, result: CheckResult) -> str:
        """A diagnosis sentence for a failed result (the diagnosis module words the built-in
        checks; a new check words its own here).

        Parameters
        ----------
        result : CheckResult
            This check's failed result.

        Returns
        -------
        str
            The sentence ("" by default: the test's explanation is shown).
        """
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
        """An exact check's result: ``statistic`` compared with ``bound``.

        Parameters
        ----------
        statistic : float
            The measured quantity.
        bound : float
            The bound it is compared with (the row's threshold).
        ok : bool
            Whether the check passed.
        detail : str, default ""
            What was measured, for the table.
        evidence : Evidence, optional
            Typed evidence for the diagnosis.

        Returns
        -------
        CheckResult
            The decided result (``p_value`` None).
        """
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
        """A statistical check's result before the runner's Holm decision.

        Parameters
        ----------
        statistic : float
            The test statistic.
        p_value : float
            Its p-value, uniform under the scheme.
        n : int
            The number of entries the test ran on (compared with the power plan's need).
        detail : str, default ""
            What was measured, for the table.
        evidence : Evidence, optional
            Typed evidence for the diagnosis.

        Returns
        -------
        CheckResult
            The undecided result (``passed`` None, ``threshold`` 0 until Holm).
        """
        test = TestResult(
            self.name, float(statistic), float(p_value), 0.0, None, self.explanation, detail
        )
        return CheckResult(self, test, n, evidence)

    def __repr__(self) -> str:
        return f"<check {self.name}>"
