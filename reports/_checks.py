"""Conformance sections: an initializer under test against the scheme it claims.

Runs :func:`weight_init.properties.conformance._runner.check_initializer` (exact checks,
power-planned sample sizes, Holm-corrected tests at family-wise ``alpha``) and
keeps what the report shows: the test table, the QQ points of the standardized
weights ``w / sd_rule`` against the target law's quantiles (for orthogonal
schemes, the normal scores of the exact Haar marginal against N(0, 1)), and the
fitted fan rule ``Var[W] ~ c fan_in^a fan_out^b`` beside the declared one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from weight_init.properties.conformance._identify import FanFit, Identification
from weight_init.properties.conformance._result import ConformanceResult
from weight_init.reports._config import CheckSpec
from weight_init.scheme_expressions import parse_scheme
from weight_init.schemes import Scheme

#: QQ points drawn for fan-dependent laws (quantiles at (i + 0.5) / QQ_POINTS); i.i.d.
#: families use the result's own quantiles (201 points).
QQ_POINTS = 200


@dataclass(frozen=True)
class QQData:
    """Points of a QQ plot: theory quantiles, sample quantiles, and the target law's name."""

    theory: list[float]
    sample: list[float]
    target: str


@dataclass(frozen=True)
class CheckSection:
    spec: CheckSpec
    layout: str
    verdict: ConformanceResult
    qq: QQData | None
    declared_rule: str
    declared_exponents: tuple[float, float] | None

    @property
    def title(self) -> str:
        return f"{self.spec.spec} as {self.spec.scheme} ({self.layout})"

    @property
    def fan_fit(self) -> FanFit | None:
        return self.verdict.fan_fit

    @property
    def identification(self) -> Identification | None:
        return self.verdict.identification

    @property
    def qq_theory(self) -> list[float]:
        return [] if self.qq is None else self.qq.theory

    @property
    def qq_sample(self) -> list[float]:
        return [] if self.qq is None else self.qq.sample

    @property
    def qq_target(self) -> str:
        return "" if self.qq is None else self.qq.target


def declared_exponents(scheme: Scheme) -> tuple[float, float] | None:
    """``(a, b)`` of the declared rule when it is a power law ``c fan_in^a fan_out^b``."""
    if not scheme.family.is_iid:
        return None
    return {"fan_in": (-1.0, 0.0), "fan_out": (0.0, -1.0), "fixed": (0.0, 0.0)}.get(
        scheme.rule.mode
    )


def qq_data(
    result: ConformanceResult, fn: Callable[..., Any], seed: int, alpha: float
) -> QQData | None:
    """QQ points of a check: the result's standardized quantiles against the family's
    (i.i.d. families); for a fan-dependent law (orthogonal, the only one: Haar) the check's
    entries are regenerated and their normal scores under the exact per-shape law plotted
    against N(0, 1)."""
    scheme = result.scheme
    q = result.quantiles
    if q is not None:
        theory = scheme.family.ppf(np.asarray(q.probabilities)).tolist()
        return QQData(theory, list(q.values), f"standardized {scheme.family.name} law")
    if scheme.family.is_random and not scheme.family.is_iid:
        from weight_init.properties.conformance._runner import standardized_sample

        z = standardized_sample(fn, scheme, result.layout, seed=seed, alpha=alpha)
        if z.size:
            p = (np.arange(QQ_POINTS) + 0.5) / QQ_POINTS
            idx = np.minimum((p * z.size).astype(int), z.size - 1)
            return QQData(
                [float(v) for v in stats.norm.ppf(p)],
                [float(v) for v in z[idx]],
                "N(0, 1) (normal scores of the exact Haar marginal)",
            )
    return None


def run_check(spec: CheckSpec, seed: int = 0, alpha: float = 1e-4) -> CheckSection:
    """Resolve ``spec.spec`` (MODULE:ATTR, torch:NAME, ...), check it against ``spec.scheme``."""
    from weight_init.properties.conformance._adapters import resolve
    from weight_init.properties.conformance._runner import check_initializer

    scheme = parse_scheme(spec.scheme)
    cand = resolve(spec.spec)
    layout = spec.layout or cand.layout or "in_out"
    result = check_initializer(
        cand.fn,
        scheme,
        layout,
        seed=seed,
        alpha=alpha,
        subject=f"{spec.spec} as {scheme.name} ({layout})",
    )
    return CheckSection(
        spec=spec,
        layout=layout,
        verdict=result,
        qq=qq_data(result, cand.fn, seed, alpha),
        declared_rule=scheme.describe(),
        declared_exponents=declared_exponents(scheme),
    )
