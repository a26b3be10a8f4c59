"""Conformance sections: an initializer under test against the scheme it claims.

Runs :func:`weight_init.properties.conformance.check_initializer` (exact checks,
power-planned sample sizes, Holm-corrected tests at family-wise ``alpha``) and
keeps what the report shows: the test table, the QQ points of the standardized
weights ``w / sd_rule`` against the target law's quantiles (for orthogonal
schemes, the normal scores of the exact Haar marginal against N(0, 1)), and the
fitted fan rule ``Var[W] ~ c fan_in^a fan_out^b`` beside the declared one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from weight_init.properties.results import Verdict
from weight_init.reports.config import CheckSpec
from weight_init.schemes import Scheme, get_scheme

#: QQ points drawn (quantiles at (i + 0.5) / QQ_POINTS).
QQ_POINTS = 200


@dataclass(frozen=True)
class CheckSection:
    spec: CheckSpec
    convention: str
    verdict: Verdict
    qq_theory: list[float]
    qq_sample: list[float]
    qq_target: str
    declared_rule: str
    declared_exponents: tuple[float, float] | None
    fan_fit: dict[str, float] | None
    identification: dict[str, Any] | None

    @property
    def title(self) -> str:
        return f"{self.spec.spec} as {self.spec.scheme} ({self.convention})"


def declared_exponents(scheme: Scheme) -> tuple[float, float] | None:
    """``(a, b)`` of the declared rule when it is a power law ``c fan_in^a fan_out^b``."""
    if scheme.family in ("constant", "orthogonal"):
        return None
    return {"fan_in": (-1.0, 0.0), "fan_out": (0.0, -1.0), "fixed": (0.0, 0.0)}.get(
        scheme.rule.mode
    )


def _qq(
    verdict: Verdict, fn: Any, scheme: Scheme, convention: str, seed: int, alpha: float
) -> tuple[list[float], list[float], str]:
    qq = verdict.metadata.get("qq") or {}
    if qq.get("theory") and qq.get("sample"):
        return list(qq["theory"]), list(qq["sample"]), f"standardized {scheme.family} law"
    if scheme.family == "orthogonal":
        from weight_init.properties.conformance import standardized_sample

        z = standardized_sample(fn, scheme, convention, seed=seed, alpha=alpha)
        if z.size:
            p = (np.arange(QQ_POINTS) + 0.5) / QQ_POINTS
            idx = np.minimum((p * z.size).astype(int), z.size - 1)
            return (
                [float(v) for v in stats.norm.ppf(p)],
                [float(v) for v in z[idx]],
                "N(0, 1) (normal scores of the exact Haar marginal)",
            )
    return [], [], ""


def run_check(spec: CheckSpec, seed: int = 0, alpha: float = 1e-4) -> CheckSection:
    """Resolve ``spec.spec`` (MODULE:ATTR, torch:NAME, ...), check it against ``spec.scheme``."""
    from weight_init.properties.adapters import resolve
    from weight_init.properties.conformance import check_initializer

    scheme = get_scheme(spec.scheme)
    cand = resolve(spec.spec)
    convention = spec.convention or cand.convention or "in_out"
    verdict = check_initializer(
        cand.fn,
        scheme,
        convention,
        seed=seed,
        alpha=alpha,
        subject=f"{spec.spec} as {scheme.name} ({convention})",
    )
    theory, sample, target = _qq(verdict, cand.fn, scheme, convention, seed, alpha)
    return CheckSection(
        spec=spec,
        convention=convention,
        verdict=verdict,
        qq_theory=theory,
        qq_sample=sample,
        qq_target=target,
        declared_rule=scheme.describe(),
        declared_exponents=declared_exponents(scheme),
        fan_fit=verdict.metadata.get("fan_fit"),
        identification=verdict.metadata.get("identification"),
    )
