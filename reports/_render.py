"""Generate a report end to end: stage ``--out``, compute, draw, write, move into place."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path

from weight_init.reports._build import (
    AuditRunner,
    CheckRunner,
    PropagateRunner,
    Report,
    build_report,
    pool_tasks,
)
from weight_init.reports._config import ReportConfig
from weight_init.reports._document import build_document
from weight_init.reports._gallery import Gallery, draw_all
from weight_init.reports._html import render_html
from weight_init.reports._markdown import render_markdown
from weight_init.reports._output_dir import preflight, staged
from weight_init.reports._parallel import worker_pool
from weight_init.reports._summary import summary_json

#: File names inside the report directory.
INDEX, MARKDOWN, SUMMARY = "index.html", "report.md", "summary.json"


def write_files(
    report: Report,
    directory: Path,
    progress: Callable[[str], None] = lambda _: None,
    pool: Executor | None = None,
) -> list[str]:
    """Write the configured formats of ``report`` into ``directory``.

    HTML and Markdown draw the figures (``figures/``) first; JSON is ``summary.json``, a
    function of the configuration and the versions. Files of those names in ``directory`` are
    replaced: ``weight-init report`` writes into a staging directory it then moves into place.

    Parameters
    ----------
    report : Report
        What :func:`build_report` computed.
    directory : pathlib.Path
        An existing directory.
    progress : callable, optional
        ``progress(message)``, called as each figure is drawn.
    pool : concurrent.futures.Executor, optional
        Where the figures are drawn (None: inline).

    Returns
    -------
    list of str
        The names written, relative to ``directory``.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> from weight_init.reports import ReportConfig, build_report, write_files
    >>> from weight_init.reports._config import ExperimentSpec
    >>> config = ReportConfig(
    ...     experiments=(ExperimentSpec("xavier"),), depth=3, width=32, samples=64, input_dim=32,
    ...     phase=None, suite=False, formats=("json",),
    ... )
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     written = write_files(build_report(config), pathlib.Path(tmp))
    ...     summary = json.loads((pathlib.Path(tmp) / "summary.json").read_text())
    >>> written, summary["config"]["depth"]
    (['summary.json'], 3)
    """
    formats = report.config.formats
    written: list[str] = []
    gallery: Gallery | None = None
    if "html" in formats or "md" in formats:
        gallery = draw_all(report, directory, progress, pool)
        written += gallery.all()
        if report.propagations:
            from weight_init.reports._propagation import draw_figures

            for i, result in enumerate(report.propagations):
                names = draw_figures(result, directory / "figures", f"propagation{i + 1}-")
                written += [f"figures/{n}" for n in names]
    blocks = build_document(report, gallery)
    if "html" in formats:
        (directory / INDEX).write_text(render_html(blocks), encoding="utf-8")
        written.append(INDEX)
    if "md" in formats:
        (directory / MARKDOWN).write_text(render_markdown(blocks), encoding="utf-8")
        written.append(MARKDOWN)
    if "json" in formats:
        (directory / SUMMARY).write_text(summary_json(report), encoding="utf-8")
        written.append(SUMMARY)
    return written


def generate(
    config: ReportConfig,
    out: Path | str,
    progress: Callable[[str], None] = lambda _: None,
    jobs: int | None = None,
    *,
    overwrite: bool = False,
    check_runner: CheckRunner | None = None,
    compute: Executor | None = None,
    audit_runner: AuditRunner | None = None,
    propagate_runner: PropagateRunner | None = None,
) -> Report:
    """Build the report of ``config`` and write it atomically to ``out``, running the
    independent pieces on ``jobs`` worker processes (None: up to 2, the CPUs available;
    1: all in this process; never more than the pieces nor the CPUs). The content does not
    depend on ``jobs``.

    An unusable ``out`` and bad ``--check`` specs fail before any computation. The checks run
    through ``check_runner`` (the command line's runs each in a child process and has
    validated the specs itself); by default in this process, after resolving every spec.
    The model audits likewise through ``audit_runner``, the propagations through
    ``propagate_runner`` (default: in this process).

    ``compute``, when given, runs the computations (experiments, phase-diagram rows, the
    suite) instead of the local pool, e.g. a Dask cluster's executor for a phase diagram at
    scale; the figures are still drawn and written here, on the local pool."""
    preflight(out, overwrite)
    if config.checks and check_runner is None:
        from weight_init.properties.conformance._adapters import resolve

        for c in config.checks:
            resolve(c.spec)
    with staged(out, overwrite) as tmp, worker_pool(jobs, pool_tasks(config)) as pool:
        report = build_report(
            config, progress, compute or pool, check_runner, audit_runner, propagate_runner
        )
        write_files(report, tmp, progress, pool)
    return report
