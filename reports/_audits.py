"""Audit sections: what each parameter of a torch model got at initialization.

Runs :func:`weight_init.properties.audit._frameworks.audit_spec` (the model factory built ``builds``
times under seeds from ``SeedSequence(seed)``, each parameter's pooled draws identified and
checked against its ``--expect`` rule or its layer's documented default, Holm-corrected tests
at family-wise ``alpha`` per parameter with the power plan of ``check``; fewer entries than
the plan needs is ``inconclusive``). The report shows one row per parameter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from weight_init.properties.audit._result import AuditReport, ParamAudit
from weight_init.reports._config import AuditSpec


@dataclass(frozen=True)
class AuditSection:
    """One ``--audit`` of a report: what was asked and the audit's result."""

    spec: AuditSpec
    result: AuditReport

    @property
    def title(self) -> str:
        return f"{self.spec.spec}: {self.result.outcome.upper()}"

    @property
    def passed(self) -> bool:
        return self.result.passed


def identified_text(p: ParamAudit) -> str:
    """The identified family, its KS distance and the ``c/fan`` rule when one fits."""
    if p.family == "constant":
        return f"constant {p.identified}"
    head = (
        p.family
        if not math.isfinite(p.family_distance)
        else (f"{p.family} (KS {p.family_distance:.3g})")
    )
    return f"{head} {p.identified}".strip()


def fan_rule_text(p: ParamAudit) -> str:
    """The layout's fan rule that matches the pooled variance, with the fit of the expected
    scheme at the parameter's fans (pooled mean w^2 over the scheme's variance)."""
    rule = p.fan_rule or "-"
    if math.isfinite(p.expected_ratio):
        return f"{rule}; mean w^2 / expected = {p.expected_ratio:.4g}"
    return rule


def run_audit(spec: AuditSpec, seed: int = 0, alpha: float = 1e-4) -> AuditSection:
    """Resolve ``spec.spec`` (imports the user's module: the caller isolates it) and audit it."""
    from weight_init.properties.audit._frameworks import audit_spec

    result = audit_spec(
        spec.spec,
        spec.expect,
        builds=spec.builds,
        seed=seed,
        alpha=alpha,
        rules_must_match=False,  # one set of rules for every audited model
    )
    return AuditSection(spec, result)
