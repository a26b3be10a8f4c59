"""What a propagation run returns: per-record and per-parameter figures, measured over builds
and predicted, and the diagnosis; as a table, JSON and summary fields.

(About 360 lines, half of them the types' numpydoc and examples.)

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
    """One figure over the builds.

    Attributes
    ----------
    mean : float
        Mean over the builds.
    q05, q50, q95 : float
        5%, 50% and 95% quantiles (linear interpolation).
    sd : float
        Standard deviation (ddof 1; 0 for one build).
    n : int
        Builds.

    Examples
    --------
    >>> from weight_init.properties.propagation import Spread
    >>> s = Spread.of([1.0, 2.0, 3.0])
    >>> s.mean, s.q50, s.sd, s.n
    (2.0, 2.0, 1.0, 3)
    """

    mean: float
    q05: float
    q50: float
    q95: float
    sd: float
    n: int

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        """The spread of ``values``.

        Parameters
        ----------
        values : list of float
            One figure per build.

        Returns
        -------
        Spread
            Its mean, quantiles, sd and count.
        """
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
    """A residual addition: its deeper operand (the branch) and its shallower (the skip).

    Attributes
    ----------
    branch, skip : str
        The operands' records.
    branch_var, skip_var : Spread or None
        Their variances over the builds (None when the operand is not recorded).
    predicted_branch_var : float or None
        The branch's predicted variance.

    Examples
    --------
    >>> from weight_init.properties.propagation import Residual, Spread
    >>> Residual("block.conv2", "input", Spread.of([0.1, 0.2]), None, 0.15).branch
    'block.conv2'
    """

    branch: str
    skip: str
    branch_var: Spread | None
    skip_var: Spread | None
    predicted_branch_var: float | None


@dataclass(frozen=True)
class ModuleRecord:
    """One recorded operation, in execution order: measured spreads and predictions.

    Attributes
    ----------
    index : int
        Position in execution order.
    name, type, kind : str
        Module path (or scope and function), type name, and the operation's kind.
    shape : tuple of int
        The output's shape.
    channel_dim : int or None
        The channel axis the channel figures use.
    mean, std, ch_sq_mean, ch_var : Spread
        Measured: mean, std, average channel squared mean, average channel variance.
    fraction : Spread or None
        Measured saturated or dead share (``fraction_kind``), None for other operations.
    fraction_kind : str or None
        ``saturated`` or ``dead``.
    grad_std : Spread or None
        Measured std of ``dL/d(output)`` under the read-out.
    predicted_mean, predicted_std, predicted_ch_sq_mean, predicted_ch_var : float or None
        The mean-field predictions (None: passed through).
    predicted_fraction, predicted_grad_std : float or None
        Predicted degenerate share and gradient std.
    status : str
        ``predicted``, ``passed through`` or ``input``.
    reason : str
        The rule applied, or why none was.
    basis : str
        What the prediction started from: ``model input`` or ``measured X``.
    grad_reason : str
        The backward rule applied.
    residual : Residual or None
        For a residual addition, its operands.

    Examples
    --------
    >>> import torch
    >>> from weight_init.properties.propagation import propagate
    >>> def model():
    ...     return torch.nn.Sequential(torch.nn.Linear(20, 20), torch.nn.ReLU())
    >>> rec = propagate(model, input_shape=(64, 20), builds=3).records[-1]
    >>> rec.name, rec.fraction_kind, rec.status, round(rec.predicted_fraction, 2)
    ('1', 'dead', 'predicted', 0.5)
    """

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
    """One parameter's figures.

    Attributes
    ----------
    name : str
        Its dotted name.
    shape : tuple of int
        Its shape.
    std : float
        Std of its entries, pooled over the builds.
    grad_norm : Spread or None
        Frobenius norm of ``dL/dW`` under the read-out, over the builds.
    predicted_grad_norm : float or None
        The mean-field prediction (linear and convolutional layers).

    Examples
    --------
    >>> from weight_init.properties.propagation import ParamRecord, Spread
    >>> ParamRecord("0.weight", (20, 20), 0.05, Spread.of([0.1, 0.1]), 0.1).shape
    (20, 20)
    """

    name: str
    shape: tuple[int, ...]
    std: float
    grad_norm: Spread | None
    predicted_grad_norm: float | None


@dataclass(frozen=True)
class PropagationResult:
    """A model's signal propagation at initialization, measured and predicted.

    Attributes
    ----------
    subject : str
        The model's name (``MODULE:FACTORY`` on the command line).
    builds, seed : int
        Builds of the model and their seed.
    mode : str
        ``train`` or ``eval``.
    graph : str
        ``torch.fx trace`` or ``module order``.
    input_shapes : tuple of tuple of int
        The model's inputs.
    records : tuple of ModuleRecord
        One per recorded operation, in execution order.
    params : tuple of ParamRecord
        One per parameter.
    diagnosis : Diagnosis
        Disagreements, growths, the residual trend, the gate.
    reproduce : str
        The command line that reproduces the run (empty from Python).
    notes : tuple of str
        The mode, the graph and where the weights' variances came from, in words.

    Examples
    --------
    >>> import torch
    >>> from weight_init.properties.propagation import propagate
    >>> def model():
    ...     return torch.nn.Sequential(torch.nn.Linear(20, 20, bias=False), torch.nn.Tanh())
    >>> result = propagate(model, input_shape=(64, 20), builds=3, max_growth=10)
    >>> result.passed, result.mode, result.graph
    (True, 'train', 'torch.fx trace')
    """

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
        """The result as plain data.

        Returns
        -------
        dict
            Every field, nested dataclasses as dicts; NaN and infinities as None.
        """
        return _clean(asdict(self))

    def to_json(self) -> str:
        """The result as JSON.

        Returns
        -------
        str
            One object: the run's facts, ``records`` (one per record, execution order),
            ``params`` and ``diagnosis``; NaN and infinities as null.
        """
        return json.dumps(self.to_dict(), indent=2, sort_keys=False, allow_nan=False)

    def format_table(self) -> str:
        """The result as text.

        Returns
        -------
        str
            A heading line, the records as a fixed-width table, the diagnosis and the
            reproducing command.
        """
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
