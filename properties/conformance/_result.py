"""The typed result of a conformance check, like a scipy.stats result object.

:class:`ConformanceResult` is frozen: its verdict (subject, family-wise ``alpha``, the test
rows, the diagnosis), the scheme and layout it was checked against, the power plan, the
design that was drawn (:class:`Design`), every check's result with its typed evidence, the
identification of what the initializer does (with its fan fit) and the standardized sample's
quantiles (:class:`SampleQuantiles`, the data of a QQ plot). It offers the verdict-level API
(``passed``, ``outcome``, ``tests``, ``failures``, ``format_table``, ``to_dict``, ...).

``to_dict()`` keeps the JSON of earlier versions: ``subject``, ``alpha``, ``outcome``,
``diagnosis``, ``tests`` and ``metadata`` with the keys ``scheme``, ``family``, ``rule``,
``layout``, ``seed``, ``seeding``, ``alpha``, ``power``, ``plan``, ``shapes``,
``calls_per_shape``, ``n_calls``, ``n_entries``, ``variance_ratio``, ``mean_std``,
``fan_fit``, ``identification`` and ``qq`` (``kind``, ``probabilities``, ``theory``,
``sample``; empty for fan-dependent laws).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from weight_init.properties._results import Outcome, TestResult, Verdict
from weight_init.properties.conformance._checks import MEAN, VARIANCE
from weight_init.properties.conformance._checks.base import Check, CheckResult
from weight_init.properties.conformance._checks.statistical import MeanEvidence, VarianceEvidence
from weight_init.properties.conformance._identify import FanFit, Identification
from weight_init.properties.conformance._power import PowerPlan
from weight_init.protocols import Seeding
from weight_init.schemes import Scheme

#: Quantiles a result keeps of its standardized sample (at ``(i + 0.5) / QQ_POINTS``).
QQ_POINTS = 201


@dataclass(frozen=True)
class Design:
    """What was drawn: the shapes, calls per shape, the seed and how it reached ``fn``."""

    shapes: tuple[tuple[int, int], ...]
    calls_per_shape: tuple[int, ...]
    seed: int
    seeding: Seeding
    n_calls: int
    n_entries: int


@dataclass(frozen=True)
class SampleQuantiles:
    """Empirical quantiles of the pooled standardized entries ``z`` (fan-independent laws).

    ``values[i]`` is the order statistic ``z_(floor(p_i N))`` at ``p_i = (i + 0.5) / k``.
    """

    probabilities: tuple[float, ...]
    values: tuple[float, ...]

    @classmethod
    def of(cls, z: np.ndarray, points: int = QQ_POINTS, presorted: bool = False) -> SampleQuantiles:
        """The quantiles of ``z`` (already ascending when ``presorted``)."""
        p = (np.arange(points) + 0.5) / points
        zs = z if presorted else np.sort(z)
        idx = np.minimum((p * zs.size).astype(int), zs.size - 1)
        return cls(tuple(p.tolist()), tuple(zs[idx].tolist()))


@dataclass(frozen=True)
class ConformanceResult:
    """The outcome of :func:`check_initializer`, frozen, like a scipy.stats result object.

    It offers the verdict-level API (``passed``, ``outcome``, ``tests``, ``failures``,
    ``inconclusive``, ``diagnosis``, ``format_table``, ``to_dict``, ``to_json``) and the typed
    evidence behind it. ``to_dict()`` keeps the JSON of earlier versions: ``subject``,
    ``alpha``, ``outcome``, ``diagnosis``, ``tests`` and ``metadata`` with the keys ``scheme``,
    ``family``, ``rule``, ``convention`` (the layout, under its earlier name), ``seed``,
    ``seeding``, ``alpha``, ``power``, ``plan``, ``shapes``, ``calls_per_shape``, ``n_calls``,
    ``n_entries``, ``variance_ratio``, ``mean_std``, ``fan_fit``, ``identification`` and
    ``qq`` (``kind``, ``probabilities``, ``theory``, ``sample``; empty for fan-dependent
    laws).

    Attributes
    ----------
    verdict : Verdict
        The subject, the family-wise ``alpha``, the test rows and the diagnosis.
    scheme : Scheme
        The scheme the initializer was checked against.
    layout : str
        The layout of its arrays, ``in_out`` or ``out_in`` (``convention``, its earlier
        name, is a deprecated alias).
    power : float
        The power each statistical check was planned for.
    plan : PowerPlan
        The power plan: the effects each check must catch and the entries that takes.
    design : Design
        What was drawn: the shapes, calls per shape, the seed, how the seed reached the
        initializer (``rng``, ``seed`` or ``global``), the numbers of calls and entries.
    checks : tuple of CheckResult
        Every check's result with its typed evidence, in table order.
    identification : Identification or None
        What the initializer does (None when skipped, or for a constant scheme).
    quantiles : SampleQuantiles or None
        Quantiles of the standardized sample (the data of a QQ plot; i.i.d. families only).
    smallest_shape : str
        The smallest call an exact failure shows at, e.g. ``fn(2, 3)`` ("" if none).
    passed : bool
        True only when every test passed (an inconclusive test is not a pass).
    variance_ratio : float or None
        ``mean z^2``, the variance over the rule's (i.i.d. families only).
    mean_std : float or None
        The pooled mean of ``z``, the mean in units of the rule's std.

    Examples
    --------
    A registered scheme is itself an initializer (seeded through ``rng=``):

    >>> from weight_init import check_initializer, get_scheme
    >>> result = check_initializer(get_scheme("he_uniform"), "he_uniform", seed=0, alpha=1e-6)
    >>> result.passed, result.outcome, result.design.seeding
    (True, 'pass', 'rng')
    >>> round(result.variance_ratio, 2)
    1.0
    >>> result.to_dict()["metadata"]["rule"]
    'uniform, variance 2/fan_in'
    """

    verdict: Verdict
    scheme: Scheme
    layout: str
    power: float
    plan: PowerPlan
    design: Design
    checks: tuple[CheckResult, ...]
    identification: Identification | None
    quantiles: SampleQuantiles | None
    smallest_shape: str = ""

    @property
    def convention(self) -> str:
        """Deprecated: the earlier name of :attr:`layout`."""
        import warnings

        warnings.warn(
            "ConformanceResult.convention is deprecated; use .layout",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.layout

    # -- the verdict ----------------------------------------------------------------------
    @property
    def subject(self) -> str:
        """What was checked (the verdict's title)."""
        return self.verdict.subject

    @property
    def alpha(self) -> float:
        """The promised family-wise false-alarm rate."""
        return self.verdict.alpha

    @property
    def tests(self) -> Sequence[TestResult]:
        """The test rows, exact checks first, in table order."""
        return self.verdict.tests

    @property
    def diagnosis(self) -> str:
        """What a failure suggests, in words ("" when it passed)."""
        return self.verdict.diagnosis

    @property
    def failures(self) -> list[TestResult]:
        """The tests that failed."""
        return self.verdict.failures

    @property
    def inconclusive(self) -> list[TestResult]:
        """The tests too weak to decide (never counted as a pass)."""
        return self.verdict.inconclusive

    @property
    def passed(self) -> bool:
        """True only when every test passed (an inconclusive test is not a pass)."""
        return self.verdict.passed

    @property
    def outcome(self) -> Outcome:
        """``pass``, ``fail`` or ``inconclusive``, as the verdict's."""
        return self.verdict.outcome

    def format_table(self) -> str:
        """The verdict as a fixed-width text table (what ``weight-init check`` prints).

        Returns
        -------
        str
            The heading, one row per test, and each failure's explanation and the diagnosis.
        """
        return self.verdict.format_table()

    # -- typed evidence -------------------------------------------------------------------
    def result_of(self, check: Check) -> CheckResult | None:
        """The result of ``check`` (None when it did not run).

        Parameters
        ----------
        check : Check
            A registered check object.

        Returns
        -------
        CheckResult or None
            Its result, with the typed evidence.
        """
        return next((r for r in self.checks if r.check is check), None)

    @property
    def fan_fit(self) -> FanFit | None:
        """The identification's fit ``Var ~ c * fan_in^a * fan_out^b`` (None: not identified)."""
        return None if self.identification is None else self.identification.fan_fit

    @property
    def variance_ratio(self) -> float | None:
        """``mean z^2`` (the variance over the rule's), i.i.d. families only."""
        r = self.result_of(VARIANCE)
        ev = None if r is None else r.evidence
        return ev.ratio if isinstance(ev, VarianceEvidence) and math.isfinite(ev.ratio) else None

    @property
    def mean_std(self) -> float | None:
        """The pooled mean of ``z`` (the mean in units of the rule's std)."""
        r = self.result_of(MEAN)
        ev = None if r is None else r.evidence
        return ev.mean_std if isinstance(ev, MeanEvidence) and math.isfinite(ev.mean_std) else None

    # -- JSON -----------------------------------------------------------------------------
    def _qq(self) -> dict[str, Any]:
        q = self.quantiles
        if q is None:
            return {}
        return {
            "kind": "standardized",
            "probabilities": list(q.probabilities),
            "theory": self.scheme.family.ppf(np.asarray(q.probabilities)).tolist(),
            "sample": list(q.values),
        }

    @property
    def metadata(self) -> Mapping[str, Any]:
        """Read-only JSON view of the typed fields (the ``metadata`` of :meth:`to_dict`)."""
        d = self.design
        ident = self.identification
        fit = self.fan_fit
        return MappingProxyType(
            {
                "scheme": self.scheme.name,
                "family": self.scheme.family.name,
                "rule": self.scheme.describe(),
                "convention": self.layout,
                "seed": d.seed,
                "seeding": d.seeding,
                "alpha": self.alpha,
                "power": self.power,
                "plan": self.plan.describe(),
                "shapes": [list(s) for s in d.shapes],
                "calls_per_shape": list(d.calls_per_shape),
                "n_calls": d.n_calls,
                "n_entries": d.n_entries,
                "variance_ratio": self.variance_ratio,
                "mean_std": self.mean_std,
                "fan_fit": None if fit is None else fit.to_dict(),
                "identification": None if ident is None else ident.to_dict(),
                "qq": self._qq(),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON form: the verdict's (``subject``, ``alpha``, ``outcome``, ``diagnosis``,
        ``tests``) and :attr:`metadata`.

        Returns
        -------
        dict
            A JSON-serializable dict.
        """
        out = self.verdict.to_dict()
        out["metadata"] = dict(self.metadata)
        return out

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON with sorted keys.

        Returns
        -------
        str
            The JSON text.
        """
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)
