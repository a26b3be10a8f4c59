"""What a propagation run returns: per-record and per-parameter figures, measured over builds
and predicted, and the diagnosis; as a table, JSON and summary fields.

Every measured figure is a :class:`Spread` over the builds (each build: a fresh model and
fresh inputs): its mean, 5%, 50% and 95% quantiles (linear interpolation), standard
deviation (ddof 1) and count. Plain Python values only: the result crosses from the child
process that ran the model to the command line without torch.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from weight_init.properties.propagation._diagnose import Diagnosis


@dataclass(frozen=True)
class Spread:
    """One figure over the builds: mean, quantiles, sd (ddof 1, 0 for one build), count."""

    mean: float
    q05: float
    q50: float
    q95: float
    sd: float
    n: int

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        a = np.asarray(values, dtype=np.float64)
        finite = bool(np.all(np.isfinite(a)))
        q = np.quantile(a, [0.05, 0.5, 0.95], method="linear" if finite else "nearest")
        sd = (
            float(np.std(a, ddof=1))
            if a.size > 1 and finite
            else (0.0 if a.size == 1 else math.nan)
        )
        return cls(float(a.mean()), float(q[0]), float(q[1]), float(q[2]), sd, int(a.size))


@dataclass(frozen=True)
class Residual:
    """A residual addition: its deeper operand (branch) and shallower (skip), their
    variances over the builds, and the branch's predicted variance."""

    branch: str
    skip: str
    branch_var: Spread | None
    skip_var: Spread | None
    predicted_branch_var: float | None


@dataclass(frozen=True)
class ModuleRecord:
    """One recorded operation, in execution order: measured spreads and predictions.

    ``status`` is ``predicted``, ``passed through`` or ``input`` and ``reason`` says why;
    ``basis`` says what the prediction started from (``model input`` or ``measured X``)."""

    index: int
    name: str
    type: str
    kind: str
    shape: tuple[int, ...]
    channel_dim: int | None
    mean: Spread
    std: Spread
    ch_sq_mean: Spread
    ch_var: Spread
    fraction: Spread | None
    fraction_kind: str | None
    grad_std: Spread | None
    predicted_mean: float | None
    predicted_std: float | None
    predicted_ch_sq_mean: float | None
    predicted_ch_var: float | None
    predicted_fraction: float | None
    predicted_grad_std: float | None
    status: str
    reason: str
    basis: str
    grad_reason: str
    residual: Residual | None = None


@dataclass(frozen=True)
class ParamRecord:
    """One parameter: shape, pooled std of its entries, gradient norm over builds, prediction."""

    name: str
    shape: tuple[int, ...]
    std: float
    grad_norm: Spread | None
    predicted_grad_norm: float | None


@dataclass(frozen=True)
class PropagationResult:
    """A model's signal propagation at initialization, measured and predicted."""

    subject: str
    builds: int
    seed: int
    mode: str
    graph: str
    input_shapes: tuple[tuple[int, ...], ...]
    records: tuple[ModuleRecord, ...]
    params: tuple[ParamRecord, ...]
    diagnosis: Diagnosis
    reproduce: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        """Whether the diagnosis passes its gate (always True without ``max_growth``)."""
        return self.diagnosis.passed

    def to_dict(self) -> dict[str, Any]:
        return _clean(asdict(self))

    def to_json(self) -> str:
        """One JSON object: the run's facts, ``records`` (one per record, execution order),
        ``params`` and ``diagnosis``. NaN and infinities are written as null."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=False, allow_nan=False)

    def format_table(self) -> str:
        """The records as a fixed-width table, then the diagnosis."""
        head = (
            f"{self.subject}: signal propagation, {self.builds} builds, seed {self.seed}, "
            f"{self.mode} mode, graph from {self.graph}"
        )
        cols = [
            "#",
            "record",
            "type",
            "mean",
            "std",
            "predicted",
            "ratio",
            "ch sq mean",
            "ch var",
            "frac",
            "grad std",
            "pred grad",
            "status",
        ]
        rows = []
        for r in self.records:
            ratio = (
                r.std.mean / r.predicted_std
                if r.predicted_std not in (None, 0.0) and r.predicted_std is not None
                else None
            )
            rows.append(
                [
                    str(r.index),
                    r.name,
                    r.type,
                    _g(r.mean.mean),
                    _g(r.std.mean),
                    _g(r.predicted_std),
                    _g(ratio),
                    _g(r.ch_sq_mean.mean),
                    _g(r.ch_var.mean),
                    "-" if r.fraction is None else f"{r.fraction.mean:.3f}",
                    _g(None if r.grad_std is None else r.grad_std.mean),
                    _g(r.predicted_grad_std),
                    r.status if r.status != "passed through" else f"passed ({r.reason})",
                ]
            )
        widths = [max(len(c), *(len(row[k]) for row in rows)) for k, c in enumerate(cols)]
        lines = [head, "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))]
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in rows]
        lines += ["", *self.diagnosis.lines()]
        if self.reproduce:
            lines.append(f"reproduce: {self.reproduce}")
        return "\n".join(lines)


def _g(x: float | None) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return f"{x:.4g}"


def _clean(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj
