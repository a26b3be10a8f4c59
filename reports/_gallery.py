"""Draw every figure of a report into ``figures/`` and record where each one went.

:func:`figure_plan` lists every figure a report shows (file name, the function that
builds it, its arguments) in one place; :func:`draw_all` draws them, one call each on
the executor given (worker processes, see :mod:`weight_init.reports._parallel`),
waits for every call (re-raising its exception) and returns the :class:`Gallery`.
The layout test builds the same plan without saving.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from weight_init.reports import _figures as figures
from weight_init.reports import _phase_figures as phase_figures
from weight_init.reports._build import Report
from weight_init.reports._figure_style import draw
from weight_init.reports._parallel import InlineExecutor

FIGURE_DIR = "figures"


class FigureKind(Enum):
    """What a figure shows (the values of the per-experiment ones are the Gallery keys)."""

    OVERVIEW = "overview"
    LAYERS = "layers"
    HIST = "hist"
    PHASE = "phase"
    PHASE_SLICES = "phase_slices"
    QQ = "qq"


@dataclass(frozen=True)
class PlannedFigure:
    """One figure: its file name in ``figures/``, its kind, the experiment or check it
    belongs to (``index``; -1 for none), and ``build(*args) -> Figure``."""

    name: str
    kind: FigureKind
    index: int
    build: Callable[..., Figure]
    args: tuple[Any, ...]


@dataclass
class Gallery:
    """Paths relative to the report directory (POSIX separators, as HTML and Markdown want)."""

    overview: str | None = None
    experiments: list[dict[str, str]] = field(default_factory=list)
    phase: str | None = None
    phase_slices: str | None = None
    checks: list[str | None] = field(default_factory=list)

    def all(self) -> list[str]:
        out = [p for p in (self.overview, self.phase, self.phase_slices) if p]
        out += [p for d in self.experiments for p in d.values()]
        out += [p for p in self.checks if p]
        return out


def figure_plan(report: Report) -> list[PlannedFigure]:
    """Every figure of ``report``, in the order the report shows them."""
    k = FigureKind
    plan: list[PlannedFigure] = []
    if report.experiments:
        plan.append(
            PlannedFigure(
                "overview_std.png", k.OVERVIEW, -1, figures.overview_figure, (report.experiments,)
            )
        )
    for i, r in enumerate(report.experiments):
        plan.append(
            PlannedFigure(f"{r.spec.slug}_layers.png", k.LAYERS, i, figures.layers_figure, (r,))
        )
        plan.append(
            PlannedFigure(f"{r.spec.slug}_hist.png", k.HIST, i, figures.histograms_figure, (r,))
        )
    if report.phase is not None:
        plan.append(
            PlannedFigure(
                "phase_diagram.png", k.PHASE, -1, phase_figures.heatmaps_figure, (report.phase,)
            )
        )
        plan.append(
            PlannedFigure(
                "phase_slices.png", k.PHASE_SLICES, -1, phase_figures.slices_figure, (report.phase,)
            )
        )
    for i, c in enumerate(report.checks):
        if c.qq_theory:
            args = (c.qq_theory, c.qq_sample, f"QQ: {c.title}", f"quantile of the {c.qq_target}")
            plan.append(PlannedFigure(f"check{i + 1}_qq.png", k.QQ, i, figures.qq_figure, args))
    return plan


def draw_all(
    report: Report,
    directory: Path,
    progress: Callable[[str], None] = lambda _: None,
    pool: Executor | None = None,
) -> Gallery:
    """Write the PNGs of :func:`figure_plan` under ``directory / FIGURE_DIR`` (on ``pool``;
    None: inline)."""
    pool = pool or InlineExecutor()
    fig_dir = directory / FIGURE_DIR
    fig_dir.mkdir(parents=True, exist_ok=True)
    progress(f"drawing figures into {FIGURE_DIR}/")
    plan = figure_plan(report)
    pending: list[Future[None]] = [
        pool.submit(draw, p.build, *p.args, path=fig_dir / p.name) for p in plan
    ]
    g = Gallery(experiments=[{} for _ in report.experiments], checks=[None] * len(report.checks))
    for p in plan:
        rel = f"{FIGURE_DIR}/{p.name}"
        if p.kind is FigureKind.OVERVIEW:
            g.overview = rel
        elif p.kind is FigureKind.PHASE:
            g.phase = rel
        elif p.kind is FigureKind.PHASE_SLICES:
            g.phase_slices = rel
        elif p.kind is FigureKind.QQ:
            g.checks[p.index] = rel
        else:
            g.experiments[p.index][p.kind.value] = rel
    for fut in pending:
        fut.result()
    return g
