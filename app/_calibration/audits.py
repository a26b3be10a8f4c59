"""Audits for ``weight-init calibrate --audits N``: false alarms and power at a stated resolution.

The audited model is :func:`calibration_mlp`: four ``torch.nn.Linear(8, 8)`` layers with
torch's default initialization, so every parameter follows its documented default, and the
audit pools the four weights into one group and the four biases into another (two Holm
families per audit).

For a target resolution ``R`` (``--audit-resolutions``, default 1% and 10%) the number of
builds is the fewest with which the *weights' group* reaches ``R``
(:func:`plan`: the loop's own planning, :func:`~weight_init.properties.audit._resolution.
entries_needed`), at least 2; the audit states a resolution ``e <= R`` for those rows, the
same at every repetition (it depends on the counts, not on the draws).

* a *false-alarm* audit audits the correct model at that target: every Holm family (group)
  that rejects is a false alarm, whose rate must stay at most alpha (the record keeps every
  family's p-values, so the rate at any promised alpha is recomputed, as for checks);
* a *power* audit audits the model with every weight's std ``1 - e`` times its rule (the
  shared error the pooled row claims to detect at its stated resolution ``e``; narrower, so
  that the exact bounds check of the uniform law cannot catch it in its place): the weights'
  family must reject with probability at least 0.99.
"""

from __future__ import annotations

import math
from typing import Any

#: The name an audit task's records carry.
AUDIT_IMPLEMENTATION = "audit:calibration_mlp"

#: Target resolutions calibrated by default.
RESOLUTIONS: tuple[float, ...] = (0.01, 0.10)
#: Layers and width of the calibration model.
LAYERS, WIDTH = 4, 8


def calibration_mlp(scale: float = 1.0) -> Any:
    """:data:`LAYERS` ``Linear(WIDTH, WIDTH)`` layers, torch's defaults; ``scale != 1``
    multiplies every weight (a std ``scale`` times the rule's)."""
    from torch import nn

    return narrow_weights(nn.Sequential(*(nn.Linear(WIDTH, WIDTH) for _ in range(LAYERS))), scale)


def narrow_weights(model: Any, scale: float) -> Any:
    """``model`` (a ``torch.nn.Module``) with every parameter named ``*weight`` multiplied by
    ``scale`` in place (a std ``scale`` times the rule's; nothing when ``scale == 1``)."""
    import torch

    if scale != 1.0:
        with torch.no_grad():
            for name, param in model.named_parameters():
                if name.endswith("weight"):
                    param.mul_(scale)
    return model


def plan(target: float, alpha: float) -> tuple[int, float]:
    """``(builds, e)``: the fewest builds (at least 2) with which the weights' group reaches
    ``target``, and the std error its rows state at those builds."""
    import torch

    from weight_init.properties.audit._loop import torch_sites
    from weight_init.properties.audit._resolution import entries_needed, resolution
    from weight_init.properties.audit._result import AuditOptions
    from weight_init.properties.audit._verdicts import matrix_shape, planned_tests, pooled_tests

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        _, sites = torch_sites(calibration_mlp(), AuditOptions())
    weights = [s for s in sites if s.local == "weight"]
    scheme = weights[0].checked()
    assert scheme is not None
    family = scheme.family
    shapes = [matrix_shape(s) for s in weights]
    m = sum(planned_tests(family, r, c) for r, c in shapes) + pooled_tests(shapes)
    per_build = sum(r * c for r, c in shapes)
    builds = max(2, math.ceil(entries_needed(family, target, m, alpha) / per_build))
    pairs = sum(max(r * (c - 1), (r - 1) * c) for r, c in shapes) * builds
    stated = resolution(family, per_build * builds, pairs, m, alpha)
    return builds, stated.std_error


def run_audit(target: float, defect: bool, seed: int, alpha: float) -> dict[str, Any]:
    """One calibration audit (module docstring): its settings and every Holm family's
    p-values, exact failures and decision at ``alpha``."""
    import functools

    from weight_init.properties.audit._loop import audit_torch

    builds, stated = plan(target, alpha)
    scale = 1.0 - stated if defect else 1.0
    factory = functools.partial(calibration_mlp, scale)
    report = audit_torch(
        factory, builds=builds, seed=seed, alpha=alpha, resolution=target, progress=False
    )
    return {
        "implementation": AUDIT_IMPLEMENTATION,
        "target_resolution": target,
        "builds": builds,
        "stated_std_error": stated,
        "defect_std_error": stated if defect else 0.0,
        "alpha": alpha,
        "outcome": report.outcome,
        "families": holm_families(report),
        "detected": any(p.outcome == "fail" for p in report.params if p.name.endswith("weight")),
    }


def holm_families(report: Any) -> list[dict[str, Any]]:
    """The Holm families of an audit ``report`` (a pooled group, or a parameter tested alone):
    each one's recorded p-values, exact failures, margin, outcome and stated std error, as
    a calibration record keeps them."""
    from weight_init.properties.conformance._power import DESIGN_MARGIN

    families: dict[str, dict[str, Any]] = {}
    for p in report.params:
        key = p.group or p.name
        fam = families.setdefault(
            key, {"family": key, "p_values": {}, "exact_failed": [], "margin": DESIGN_MARGIN}
        )
        if p.verdict is None:
            continue
        for t in p.verdict.tests:
            pooled = t.name.startswith("pooled ")
            name = t.name if pooled else f"{p.name}: {t.name}"
            if t.p_value is not None:
                fam["p_values"][name] = t.p_value
            elif t.passed is False:
                fam["exact_failed"].append(name)
        fam["outcome"] = "fail" if p.outcome == "fail" else fam.get("outcome", "pass")
        fam["stated_std_error"] = None if p.stated is None else p.stated.std_error
    return list(families.values())
