"""The typed result of a conformance check, like a scipy.stats result object.

:class:`ConformanceResult` is frozen: its verdict (subject, family-wise ``alpha``, the test
rows, the diagnosis), the scheme and layout it was checked against, the power plan, the
design that was drawn (:class:`Design`), every check's result with its typed evidence, the
identification of what the initializer does (with its fan fit) and the standardized sample's
quantiles (:class:`SampleQuantiles`, the data of a QQ plot). It offers the verdict-level API
(``passed``, ``outcome``, ``tests``, ``failures``, ``format_table``, ``to_dict``, ...).

``to_dict()`` keeps the JSON of earlier versions: ``subject``, ``alpha``, ``outcome``,
``diagnosis``, ``tests`` and ``metadata`` with the keys ``scheme``, ``family``, ``rule``,
``convention``, ``seed``, ``seeding``, ``alpha``, ``power``, ``plan``, ``shapes``,
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
    """The outcome of :func:`weight_init.properties.conformance._runner.check_initializer`."""

    verdict: Verdict
    scheme: Scheme
    convention: str
    power: float
    plan: PowerPlan
    design: Design
    checks: tuple[CheckResult, ...]
    identification: Identification | None
    quantiles: SampleQuantiles | None
    smallest_shape: str = ""

    # -- the verdict ----------------------------------------------------------------------
    @property
    def subject(self) -> str:
        return self.verdict.subject

    @property
    def alpha(self) -> float:
        return self.verdict.alpha

    @property
    def tests(self) -> Sequence[TestResult]:
        return self.verdict.tests

    @property
    def diagnosis(self) -> str:
        return self.verdict.diagnosis

    @property
    def failures(self) -> list[TestResult]:
        return self.verdict.failures

    @property
    def inconclusive(self) -> list[TestResult]:
        return self.verdict.inconclusive

    @property
    def passed(self) -> bool:
        """True only when every test passed (an inconclusive test is not a pass)."""
        return self.verdict.passed

    @property
    def outcome(self) -> Outcome:
        return self.verdict.outcome

    def format_table(self) -> str:
        return self.verdict.format_table()

    # -- typed evidence -------------------------------------------------------------------
    def result_of(self, check: Check) -> CheckResult | None:
        """The result of ``check`` (None when it did not run)."""
        return next((r for r in self.checks if r.check is check), None)

    @property
    def fan_fit(self) -> FanFit | None:
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
                "convention": self.convention,
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
        out = self.verdict.to_dict()
        out["metadata"] = dict(self.metadata)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)
