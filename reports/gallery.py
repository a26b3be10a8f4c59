"""Draw every figure of a report into ``figures/`` and record where each one went.

Each figure is drawn by one call on the executor given (worker processes, see
:mod:`weight_init.reports.parallel`); the names are fixed before any is drawn and
every call is waited for (its exception re-raised) before :func:`draw_all` returns."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from pathlib import Path

from weight_init.reports import figures
from weight_init.reports.build import Report
from weight_init.reports.parallel import InlineExecutor

FIGURE_DIR = "figures"


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


def draw_all(
    report: Report,
    directory: Path,
    progress: Callable[[str], None] = lambda _: None,
    pool: Executor | None = None,
) -> Gallery:
    """Write the PNGs under ``directory / FIGURE_DIR`` (on ``pool``; None: inline)."""
    pool = pool or InlineExecutor()
    pending: list[Future[None]] = []
    fig_dir = directory / FIGURE_DIR
    fig_dir.mkdir(parents=True, exist_ok=True)
    g = Gallery()

    def rel(name: str) -> tuple[Path, str]:
        return fig_dir / name, f"{FIGURE_DIR}/{name}"

    progress(f"drawing figures into {FIGURE_DIR}/")
    if report.experiments:
        path, g.overview = rel("overview_std.png")
        pending.append(pool.submit(figures.overview_std, report.experiments, path))
    for r in report.experiments:
        entry: dict[str, str] = {}
        for kind, draw in (
            ("layers", figures.experiment_layers),
            ("hist", figures.experiment_histograms),
        ):
            path, entry[kind] = rel(f"{r.spec.slug}_{kind}.png")
            pending.append(pool.submit(draw, r, path))
        g.experiments.append(entry)
    if report.phase is not None:
        path, g.phase = rel("phase_diagram.png")
        pending.append(pool.submit(figures.phase_heatmaps, report.phase, path))
        path, g.phase_slices = rel("phase_slices.png")
        pending.append(pool.submit(figures.phase_slices, report.phase, path))
    for i, c in enumerate(report.checks):
        if c.qq_theory:
            path, name = rel(f"check{i + 1}_qq.png")
            pending.append(
                pool.submit(
                    figures.qq_plot,
                    c.qq_theory,
                    c.qq_sample,
                    f"QQ: {c.title}",
                    f"quantile of the {c.qq_target}",
                    path,
                )
            )
            g.checks.append(name)
        else:
            g.checks.append(None)
    for fut in pending:
        fut.result()
    return g
