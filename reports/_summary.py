"""``summary.json``: every number the report shows, deterministic for a given seed.

No timestamps, no paths, sorted keys, floats rounded to ``DIGITS`` significant
digits (so the file is byte-identical for the same seed, configuration and
versions). A numeric field is a number or ``null``, never a string: a non-finite
value (a test statistic of ``-inf`` when every draw lies on one side of a bound, a
NaN) is stored as ``null`` and named in the object's ``"nonfinite"`` map
(``{"statistic": "-inf"}``); inside an array it is ``null``. Each test keeps the
sentence saying what its failure would mean under ``"meaning"``; its
``"explanation"`` holds that sentence only when the test failed (else ``null``).
The structure is :data:`weight_init.reports._schema.SUMMARY_SCHEMA`.
"""

from __future__ import annotations

import json
import math
import platform
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import numpy as np

from weight_init.reports._build import Report
from weight_init.reports._experiments import ExperimentResult

if TYPE_CHECKING:
    from weight_init.properties._results import TestResult, Verdict
    from weight_init.properties.conformance._result import ConformanceResult

#: Significant digits kept in summary.json.
DIGITS = 10


def _nonfinite(value: Any) -> str | None:
    """``"nan"``, ``"inf"`` or ``"-inf"`` for a non-finite float, else None."""
    if isinstance(value, float | np.floating) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return None


def clean(value: Any) -> Any:
    """JSON-ready copy: rounded floats, lists for tuples/arrays, str keys; a non-finite float
    becomes ``null``, noted in its object's ``"nonfinite"`` map (module docstring)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        x = float(value)
        return None if _nonfinite(x) else float(f"{x:.{DIGITS}g}")
    if isinstance(value, dict):
        out = {str(k): clean(v) for k, v in value.items()}
        notes = {str(k): n for k, v in value.items() if (n := _nonfinite(v)) is not None}
        if notes:
            out["nonfinite"] = {**out.get("nonfinite", {}), **notes}
        return out
    if isinstance(value, list | tuple | np.ndarray):
        return [clean(v) for v in value]
    return str(value)


def result_dict(t: TestResult) -> dict[str, Any]:
    """One test as summary.json stores it: the numbers as they are (non-finite ones are
    noted by :func:`clean`), ``meaning`` always, ``explanation`` only for a failure."""
    d = t.to_dict()
    for key in ("statistic", "p_value", "threshold"):
        d[key] = getattr(t, key)
    d["meaning"] = t.explanation
    d["explanation"] = t.explanation if t.outcome == "fail" else None
    return d


def verdict_dict(v: Verdict | ConformanceResult) -> dict[str, Any]:
    d = v.to_dict()
    d["tests"] = [result_dict(t) for t in v.tests]
    return d


def versions() -> dict[str, str]:
    import matplotlib
    import scipy

    from weight_init import __version__

    return {
        "weight_init": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "matplotlib": matplotlib.__version__,
    }


def experiment_dict(r: ExperimentResult) -> dict[str, Any]:
    return {
        "scheme": r.scheme,
        "activation": r.activation,
        "depth": r.depth,
        "width": r.width,
        "samples": r.samples,
        "input_dim": r.input_dim,
        "seed": r.seed,
        "theory": r.theory_note,
        "layers": [asdict(layer) for layer in r.layers],
    }


def summary_dict(report: Report) -> dict[str, Any]:
    pd = report.phase
    phase = None
    if pd is not None:
        phase = {
            "sigma_w": pd.sigmas,
            "depths": pd.depths,
            "std": pd.std,
            "theory_std": pd.theory_std,
            "saturated_fraction": pd.saturated,
            "theory_saturated_fraction": pd.theory_saturated,
            "xavier_sigma_w": pd.xavier_sigma,
            "order_chaos_sigma_w": pd.boundary_sigma,
            "width": pd.config.width,
            "samples": pd.config.samples,
            "threshold": pd.threshold,
            "seed": pd.seed,
        }
    checks = [
        {
            "spec": c.spec.spec,
            "scheme": c.spec.scheme,
            "convention": c.layout,
            "outcome": c.verdict.outcome,
            "declared_rule": c.declared_rule,
            "declared_exponents": c.declared_exponents,
            "fan_fit": None if c.fan_fit is None else c.fan_fit.to_dict(),
            "verdict": verdict_dict(c.verdict),
        }
        for c in report.checks
    ]
    audits = [
        {
            "spec": a.spec.spec,
            "expect": list(a.spec.expect),
            **a.result.to_dict(),
        }
        for a in report.audits
    ]
    extra = {}
    if report.propagations:
        from weight_init.reports._propagation import summary_fields

        extra["propagations"] = [summary_fields(r) for r in report.propagations]
    return clean(
        {
            **extra,
            "experiments": [experiment_dict(r) for r in report.experiments],
            "audits": audits,
            "phase_diagram": phase,
            "property_verdicts": [verdict_dict(v) for v in report.verdicts],
            "checks": checks,
            "config": {k: v for k, v in report.config.to_dict().items() if k != "formats"},
            "versions": versions(),
        }
    )


def summary_json(report: Report) -> str:
    """The file's text: sorted keys, 1-space indent, trailing newline."""
    return json.dumps(summary_dict(report), indent=1, sort_keys=True, allow_nan=False) + "\n"
