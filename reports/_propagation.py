"""A propagation run as pictures and a page: the notes' std-per-layer plot for the user's
model, Brock et al.'s signal propagation plots, the gradient plot, a table and the diagnosis.

Figures (Matplotlib's Agg canvas, deterministic PNGs, :mod:`~weight_init.reports._figure_style`):

``std.png``
    each record's std (log scale): measured markers (mean over builds) in a band (5-95%
    over builds), the mean-field prediction as a dashed line (gaps where passed through);
``brock.png``
    per block (each residual addition, else each linear or convolutional layer) the
    average channel squared mean, the average channel variance and the residual-branch
    variance, measured and predicted (Brock, De & Smith 2021, Figure 1);
``gradient.png``
    each record's gradient std (log), measured in its band and predicted.

:func:`propagation_blocks` lays out the section (headings, figures, the table, the
diagnosis; also a section of ``weight-init report --propagate``); :func:`run_propagation`
runs one ``--propagate`` spec; :func:`write_propagation` writes ``index.html``,
``summary.json`` (the :func:`summary_fields`), ``propagation.json`` (the whole result) and
``figures/`` through
:func:`weight_init.reports._output_dir.staged` (kind ``propagation``): nothing half-written,
no user file replaced, the rule of every output directory.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from weight_init.properties.propagation._result import ModuleRecord, PropagationResult, Spread
from weight_init.reports._blocks import Block, Code, Heading, Image, Para, Table
from weight_init.reports._figure_style import (
    EXP_STYLE,
    THEORY_STYLE,
    masked,
    new_figure,
    positive,
    save,
    title,
)

MEASURED = "C0"
FIGURES = ("std.png", "brock.png", "gradient.png")


def _band(ax: Axes, xs: Sequence[int], spreads: Sequence[Spread | None], log: bool) -> None:
    lo = masked([None if s is None else s.q05 for s in spreads], log)
    hi = masked([None if s is None else s.q95 for s in spreads], log)
    ax.fill_between(xs, lo, hi, color=MEASURED, alpha=0.2, linewidth=0, label="5-95% of builds")


def _series(
    ax: Axes,
    xs: Sequence[int],
    measured: Sequence[Spread | None],
    predicted: Sequence[float | None],
    log: bool,
) -> None:
    _band(ax, xs, measured, log)
    ax.plot(
        xs,
        masked([None if s is None else s.mean for s in measured], log),
        color=MEASURED,
        label="measured (mean over builds)",
        **{**EXP_STYLE, "linestyle": "none"},
    )
    if any(p is not None for p in predicted):
        ax.plot(xs, masked(predicted, log), label="mean-field prediction", **THEORY_STYLE)


def _labels(ax: Axes, names: Sequence[str]) -> None:
    step = max(1, math.ceil(len(names) / 14))
    ticks = list(range(0, len(names), step))
    ax.set_xticks(ticks)
    ax.set_xticklabels([names[i][-18:] for i in ticks], rotation=60, ha="right", fontsize=7)
    ax.grid(True, alpha=0.3)


def _log_ok(*series: Sequence[float | None]) -> bool:
    return any(positive(s) for s in series)


def std_figure(result: PropagationResult) -> Figure:
    """Std per record, log scale: measured in its band over builds, predicted dashed."""
    recs = list(result.records)
    fig = new_figure(10, 4.6, left=1.0, bottom=1.3)
    ax = fig.add_subplot(1, 1, 1)
    xs = list(range(len(recs)))
    pred = [r.predicted_std if r.status == "predicted" else None for r in recs]
    if _log_ok([r.std.mean for r in recs], pred):
        ax.set_yscale("log")
    _series(ax, xs, [r.std for r in recs], pred, ax.get_yscale() == "log")
    ax.set_ylabel("std of the output")
    _labels(ax, [r.name for r in recs])
    ax.legend(fontsize=8, loc="best")
    title(ax, f"{result.subject}: activation std by operation ({result.mode} mode)")
    return fig


def _blocks(result: PropagationResult) -> list[ModuleRecord]:
    adds = [r for r in result.records if r.residual is not None]
    if adds:
        return adds
    return [r for r in result.records if r.kind in ("linear", "conv")]


def brock_figure(result: PropagationResult) -> Figure:
    """Brock et al.'s three panels per block: average channel squared mean, average channel
    variance, residual-branch variance (the last empty without residual additions)."""
    blocks = _blocks(result)
    fig = new_figure(12, 4.0, bottom=1.2, wspace=0.35)
    xs = list(range(len(blocks)))
    names = [b.name for b in blocks]
    panels: list[tuple[str, list[Spread | None], list[float | None]]] = [
        (
            "avg channel squared mean",
            [b.ch_sq_mean for b in blocks],
            [b.predicted_ch_sq_mean if b.status == "predicted" else None for b in blocks],
        ),
        (
            "avg channel variance",
            [b.ch_var for b in blocks],
            [b.predicted_ch_var if b.status == "predicted" else None for b in blocks],
        ),
        (
            "residual-branch variance",
            [None if b.residual is None else b.residual.branch_var for b in blocks],
            [None if b.residual is None else b.residual.predicted_branch_var for b in blocks],
        ),
    ]
    for k, (label, measured, predicted) in enumerate(panels):
        ax = fig.add_subplot(1, 3, k + 1)
        means = [None if s is None else s.mean for s in measured]
        log = _log_ok(means, predicted) and _span(means, predicted) > 100
        if log:
            ax.set_yscale("log")
        if any(s is not None for s in measured):
            _series(ax, xs, measured, predicted, log)
        else:
            ax.text(0.5, 0.5, "no residual additions", ha="center", transform=ax.transAxes)
        _labels(ax, names)
        title(ax, label, fontsize=10)
        if k == 0:
            ax.legend(fontsize=7, loc="best")
    return fig


def _span(*series: Sequence[float | None]) -> float:
    pos = [v for s in series for v in positive(s)]
    return max(pos) / min(pos) if pos else 1.0


def gradient_figure(result: PropagationResult) -> Figure:
    """Gradient std per record (log): measured in its band over builds, predicted dashed."""
    recs = [r for r in result.records if r.grad_std is not None]
    fig = new_figure(10, 4.6, left=1.0, bottom=1.3)
    ax = fig.add_subplot(1, 1, 1)
    xs = list(range(len(recs)))
    pred = [r.predicted_grad_std for r in recs]
    if _log_ok([r.grad_std.mean for r in recs if r.grad_std is not None], pred):
        ax.set_yscale("log")
    _series(ax, xs, [r.grad_std for r in recs], pred, ax.get_yscale() == "log")
    ax.set_ylabel("std of dL/d(output)")
    _labels(ax, [r.name for r in recs])
    if recs:
        ax.legend(fontsize=8, loc="best")
    title(ax, "gradient std by operation (random linear read-out)")
    return fig


def _num(x: float | None) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{x:.4g}"


def summary_fields(result: PropagationResult) -> dict[str, Any]:
    """The run's summary: facts, growths, residual trend, disagreements, gate."""
    d = result.diagnosis
    return {
        "subject": result.subject,
        "builds": result.builds,
        "seed": result.seed,
        "mode": result.mode,
        "graph": result.graph,
        "records": len(result.records),
        "predicted": sum(r.status == "predicted" for r in result.records),
        "passed_through": sum(r.status == "passed through" for r in result.records),
        "disagreements": sum(x.outcome == "disagrees" for x in d.disagreements),
        "signal_growth": None if d.signal is None else _finite(d.signal.ratio),
        "gradient_growth": None if d.gradient is None else _finite(d.gradient.ratio),
        "residual_stream": None if d.residual is None else d.residual.shape,
        "predicted_residual_stream": None if d.residual is None else d.residual.predicted_shape,
        "max_growth": d.max_growth,
        "passed": result.passed,
        "reproduce": result.reproduce,
    }


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def figure_names(prefix: str = "") -> list[str]:
    """The section's figure files, ``prefix`` before each (``propagation1-std.png``)."""
    return [prefix + name for name in FIGURES]


def draw_figures(result: PropagationResult, directory: Path, prefix: str = "") -> list[str]:
    """Draw the three figures into ``directory``; returns their file names."""
    names = figure_names(prefix)
    for name, build in zip(names, (std_figure, brock_figure, gradient_figure), strict=True):
        save(build(result), directory / name)
    return names


def propagation_blocks(
    result: PropagationResult, figures: str = "figures", level: int = 1, prefix: str = ""
) -> list[Block]:
    """The section: headings (from ``level``), the three figures (``figures/PREFIXname``),
    the table of records, the diagnosis."""
    std, brock, grad = (f"{figures}/{name}" for name in figure_names(prefix))
    anchor = prefix.rstrip("-") or "propagation"
    blocks: list[Block] = [
        Heading(level, f"Signal propagation: {result.subject}", anchor),
        Para(
            f"{result.builds} builds, seed {result.seed}; "
            + "; ".join(result.notes)
            + ". Measured: each operation's output in execution order, mean over builds with "
            "its 5-95% band; predicted: mean-field rules through the model's graph "
            "(`weight_init.properties.propagation`)."
        ),
        Heading(level + 1, "Activation std", f"{anchor}-std"),
        Image(std, "Activation std per operation: measured and predicted"),
        Heading(level + 1, "Signal propagation plots", f"{anchor}-brock"),
        Image(
            brock,
            "Average channel squared mean, average channel variance and residual-branch "
            "variance per block (Brock, De & Smith 2021)",
        ),
        Heading(level + 1, "Gradients", f"{anchor}-gradients"),
        Image(grad, "Gradient std per operation: measured and predicted"),
        Heading(level + 1, "Records", f"{anchor}-records"),
    ]
    rows = []
    for r in result.records:
        ratio = (
            r.std.mean / r.predicted_std if r.predicted_std and r.status == "predicted" else None
        )
        rows.append(
            [
                str(r.index),
                r.name,
                r.type,
                _num(r.std.mean),
                _num(r.predicted_std),
                _num(ratio),
                _num(r.ch_sq_mean.mean),
                _num(r.ch_var.mean),
                _num(None if r.grad_std is None else r.grad_std.mean),
                _num(r.predicted_grad_std),
                r.status,
                r.reason,
            ]
        )
    header = ["#", "record", "type", "std", "predicted", "ratio", "ch sq mean", "ch var"]
    header += ["grad std", "pred grad", "status", "why"]
    blocks.append(Table(header, rows))
    blocks.append(Heading(level + 1, "Diagnosis", f"{anchor}-diagnosis"))
    blocks.append(Code("\n".join(result.diagnosis.lines())))
    if result.reproduce:
        blocks.append(Para(f"Reproduce: `{result.reproduce}`"))
    return blocks


#: The kind of output directory ``weight-init propagate --out`` writes
#: (:mod:`weight_init.reports._output_dir`).
PROPAGATION_KIND = "propagation"


def write_propagation(result: PropagationResult, out: Path | str, overwrite: bool = False) -> Path:
    """Write the page, figures and JSON into ``out`` (atomically, :mod:`.output_dir`);
    returns the directory."""
    from weight_init.reports._html import render_html
    from weight_init.reports._output_dir import staged, target_of

    with staged(out, overwrite, PROPAGATION_KIND) as tmp:
        figs = tmp / "figures"
        figs.mkdir()
        draw_figures(result, figs)
        blocks = propagation_blocks(result)
        (tmp / "index.html").write_text(
            render_html(blocks, f"weight-init propagate {result.subject}"), encoding="utf-8"
        )
        summary = {"propagation": summary_fields(result)}
        (tmp / "summary.json").write_text(
            json.dumps(summary, indent=2, sort_keys=True, allow_nan=False) + "\n",
            encoding="utf-8",
        )
        (tmp / "propagation.json").write_text(result.to_json() + "\n", encoding="utf-8")
    return target_of(out, PROPAGATION_KIND)


def run_propagation(spec: Any, seed: int) -> PropagationResult:
    """``report --propagate MODULE:FACTORY=SHAPE`` in this process (the command line runs it
    isolated): ``spec`` a :class:`~weight_init.reports._config.PropagateSpec`."""
    import dataclasses
    import shlex

    from weight_init.properties.conformance._adapters import resolve
    from weight_init.properties.propagation import propagate

    result = propagate(
        resolve(spec.spec).fn,
        input_shape=spec.input_shape,
        builds=spec.builds,
        seed=seed,
        subject=spec.spec,
    )
    shape = ",".join(str(d) for d in spec.input_shape)
    cmd = ["weight-init", "propagate", spec.spec, "--input-shape", shape]
    cmd += ["--builds", str(spec.builds), "--seed", str(seed)]
    return dataclasses.replace(result, reproduce=shlex.join(cmd))
