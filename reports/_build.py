"""Compute everything a report shows (no files): experiments, phase diagram, suite, checks.

The experiments, the phase diagram and the property suite are independent and each
seeded from the configuration alone; they run on the executor given (a pool of
worker processes, :mod:`weight_init.reports._parallel`, or a Dask cluster's executor:
any :class:`concurrent.futures.Executor`), the phase diagram as one task per
``sigma_w``, longest first, and are
collected in the configuration's order, so the report does not depend on the
scheduling. Conformance checks run here, in this process, meanwhile: the code under
test is the user's (it may import torch, print, or crash), and a crash of a pool
worker would break the pool for every other piece.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import TYPE_CHECKING

from weight_init.reports._config import ReportConfig
from weight_init.reports._experiments import ExperimentResult, run_experiment
from weight_init.reports._parallel import InlineExecutor
from weight_init.reports._phase_diagram import PhaseDiagram, PhaseRow, assemble, phase_row

if TYPE_CHECKING:
    from weight_init.properties._results import Verdict
    from weight_init.properties.propagation._result import PropagationResult
    from weight_init.reports._audits import AuditSection
    from weight_init.reports._checks import CheckSection
    from weight_init.reports._config import AuditSpec, CheckSpec, PropagateSpec

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Report:
    """Everything a report shows, computed (no files): what :func:`build_report` returns.

    Attributes
    ----------
    config : ReportConfig
        The configuration it was computed from.
    experiments : tuple of ExperimentResult
        Each experiment's per-layer statistics, in the configuration's order.
    phase : PhaseDiagram or None
        The tanh phase diagram (None when not configured).
    verdicts : tuple of Verdict
        The property suite's verdicts (empty when not configured).
    checks : tuple of CheckSection
        The conformance checks' sections.
    audits : tuple of AuditSection, default ()
        The model audits' sections.
    propagations : tuple of PropagationResult, default ()
        The models' signal propagation runs (``--propagate``).

    Examples
    --------
    >>> from weight_init.reports import ReportConfig, build_report
    >>> from weight_init.reports._config import ExperimentSpec
    >>> config = ReportConfig(
    ...     experiments=(ExperimentSpec("xavier"),), depth=3, width=32, samples=64, input_dim=32,
    ...     phase=None, suite=False,
    ... )
    >>> report = build_report(config)
    >>> [e.spec.label for e in report.experiments], report.phase, report.verdicts
    (['xavier / tanh'], None, ())
    """

    config: ReportConfig
    experiments: tuple[ExperimentResult, ...]
    phase: PhaseDiagram | None
    verdicts: tuple[Verdict, ...]
    checks: tuple[CheckSection, ...]
    audits: tuple[AuditSection, ...] = ()
    propagations: tuple[PropagationResult, ...] = ()


def _quiet(_: str) -> None:
    return None


def steps(config: ReportConfig) -> int:
    """How many progress steps :func:`build_report` announces."""
    return (
        len(config.experiments)
        + (config.phase is not None)
        + bool(config.suite)
        + len(config.checks)
        + len(config.audits)
        + len(config.propagations)
    )


def pool_tasks(config: ReportConfig) -> int:
    """The most pieces a report runs on its pool at once: the computations (each
    experiment, each phase-diagram row, the suite) or, after them, the figures (an overview,
    two per experiment, two of the phase diagram, one per check); the bound on its workers."""
    phase_rows = config.phase.n_sigma if config.phase is not None else 0
    compute = len(config.experiments) + phase_rows + bool(config.suite)
    figures = 1 + 2 * len(config.experiments) + 2 * (config.phase is not None) + len(config.checks)
    return max(1, compute, figures)


#: ``runner(spec, seed, alpha) -> CheckSection``: how a conformance check is run.
CheckRunner = Callable[["CheckSpec", int, float], "CheckSection"]

#: ``runner(spec, seed, alpha) -> AuditSection``: how a model audit is run.
AuditRunner = Callable[["AuditSpec", int, float], "AuditSection"]

#: ``runner(spec, seed) -> PropagationResult``: how a model's propagation is run.
PropagateRunner = Callable[["PropagateSpec", int], "PropagationResult"]


def _suite(seed: int, alpha: float) -> list[Verdict]:
    from weight_init.properties.claims._suite import run_suite

    return run_suite(seed=seed, alpha=alpha)


def build_report(
    config: ReportConfig,
    progress: Progress = _quiet,
    pool: Executor | None = None,
    check_runner: CheckRunner | None = None,
    audit_runner: AuditRunner | None = None,
    propagate_runner: PropagateRunner | None = None,
) -> Report:
    """Compute every part of ``config``: experiments, phase diagram, suite, checks, audits,
    propagations.

    The experiments, the phase diagram and the property suite are independent and each seeded
    from the configuration alone; they run on ``pool``, the phase diagram as one task per
    ``sigma_w``, longest first, and are collected in the configuration's order, so the report
    does not depend on the scheduling. Conformance checks, audits and propagations run in this
    process meanwhile: the code under test is the user's (it may import torch, print, or
    crash), and a crash of a pool worker would break the pool for every other piece.

    Parameters
    ----------
    config : ReportConfig
        What the report runs.
    progress : callable, optional
        ``progress(message)``, called as each step finishes (``[k/n] what``).
    pool : concurrent.futures.Executor, optional
        Where the experiments, the phase diagram and the suite run: a pool of worker
        processes (:mod:`weight_init.reports._parallel`), a Dask cluster's executor, or any
        :class:`concurrent.futures.Executor`; None: inline.
    check_runner : callable, optional
        ``runner(spec, seed, alpha) -> CheckSection``: how a conformance check is run
        (default :func:`~weight_init.reports._checks.run_check`, in this process).
    audit_runner : callable, optional
        ``runner(spec, seed, alpha) -> AuditSection``: how a model audit is run (default
        :func:`~weight_init.reports._audits.run_audit`).
    propagate_runner : callable, optional
        ``runner(spec, seed) -> PropagationResult``: how a model's signal propagation is run
        (default :func:`~weight_init.reports._propagation.run_propagation`).

    Returns
    -------
    Report
        Everything the report shows; :func:`write_files` writes it.

    Examples
    --------
    >>> from weight_init.reports import ReportConfig, build_report
    >>> from weight_init.reports._config import ExperimentSpec
    >>> config = ReportConfig(
    ...     experiments=(ExperimentSpec("small_normal"),), depth=3, width=32, samples=64,
    ...     input_dim=32, phase=None, suite=False,
    ... )
    >>> report = build_report(config, progress=print)
    [1/1] experiment small_normal / tanh: 3 x 32, 64 samples, forward + backward
    """
    pool = pool or InlineExecutor()
    total = steps(config)
    k = 0

    def done(what: str) -> None:
        nonlocal k
        k += 1
        progress(f"[{k}/{total}] {what}")

    phase_futures: list[Future[PhaseRow]] = []
    if config.phase is not None:  # one task per sigma_w: rows spread over the workers
        phase_futures = [
            pool.submit(phase_row, config.phase, config.seed, i, config.saturation_threshold)
            for i in range(config.phase.n_sigma)
        ]
    exp_futures = [pool.submit(run_experiment, spec, config) for spec in config.experiments]
    suite_future = pool.submit(_suite, config.seed, config.alpha) if config.suite else None
    checks = []
    if config.checks:
        from weight_init.reports._checks import run_check

        runner = check_runner or run_check
        for c in config.checks:
            checks.append(runner(c, config.seed, config.check_alpha))
            done(f"conformance check {c.spec} as {c.scheme}")
    audits = []
    if config.audits:
        from weight_init.reports._audits import run_audit

        arunner = audit_runner or run_audit
        for a in config.audits:
            audits.append(arunner(a, config.seed, config.check_alpha))
            done(f"model audit {a.spec}")
    propagations = []
    if config.propagations:
        from weight_init.reports._propagation import run_propagation

        prunner = propagate_runner or run_propagation
        for pr in config.propagations:
            propagations.append(prunner(pr, config.seed))
            done(f"signal propagation {pr.spec}")
    experiments = []
    for spec, fut in zip(config.experiments, exp_futures, strict=True):
        experiments.append(fut.result())
        done(
            f"experiment {spec.label}: {config.depth} x {config.width}, "
            f"{config.samples} samples, forward + backward"
        )
    phase = None
    if config.phase is not None:
        p = config.phase
        rows = [f.result() for f in phase_futures]
        phase = assemble(p, config.seed, config.saturation_threshold, rows)
        done(
            f"phase diagram: {p.n_sigma} sigma_w x {p.depth} depths, width {p.width}, "
            f"{p.samples} samples"
        )
    verdicts: list[Verdict] = []
    if suite_future is not None:
        verdicts = suite_future.result()
        done(f"property suite (alpha {config.alpha:g} per property)")
    return Report(
        config,
        tuple(experiments),
        phase,
        tuple(verdicts),
        tuple(checks),
        tuple(audits),
        tuple(propagations),
    )
