"""Compute everything a report shows (no files): experiments, phase diagram, suite, checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from weight_init.properties.results import Verdict
from weight_init.reports.checks import CheckSection, run_check
from weight_init.reports.config import CheckSpec, ReportConfig
from weight_init.reports.experiments import ExperimentResult, run_experiment
from weight_init.reports.phase_diagram import PhaseDiagram, run_phase_diagram

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Report:
    config: ReportConfig
    experiments: tuple[ExperimentResult, ...]
    phase: PhaseDiagram | None
    verdicts: tuple[Verdict, ...]
    checks: tuple[CheckSection, ...]


def _quiet(_: str) -> None:
    return None


def steps(config: ReportConfig) -> int:
    """How many progress steps :func:`build_report` announces."""
    return (
        len(config.experiments)
        + (config.phase is not None)
        + bool(config.suite)
        + len(config.checks)
    )


#: ``runner(spec, seed, alpha) -> CheckSection``: how a conformance check is run.
CheckRunner = Callable[[CheckSpec, int, float], CheckSection]


def build_report(
    config: ReportConfig, progress: Progress = _quiet, check_runner: CheckRunner | None = None
) -> Report:
    """Run every part of ``config``, announcing each step through ``progress``; the checks
    through ``check_runner`` (default :func:`~weight_init.reports.checks.run_check`)."""
    runner = check_runner or run_check
    total = steps(config)
    k = 0

    def step(what: str) -> None:
        nonlocal k
        k += 1
        progress(f"[{k}/{total}] {what}")

    experiments = []
    for spec in config.experiments:
        step(
            f"experiment {spec.label}: {config.depth} x {config.width}, "
            f"{config.samples} samples, forward + backward"
        )
        experiments.append(run_experiment(spec, config))
    phase = None
    if config.phase is not None:
        p = config.phase
        step(
            f"phase diagram: {p.n_sigma} sigma_w x {p.depth} depths, width {p.width}, "
            f"{p.samples} samples"
        )
        phase = run_phase_diagram(p, config.seed, config.saturation_threshold)
    verdicts: list[Verdict] = []
    if config.suite:
        step(f"property suite (alpha {config.alpha:g} per property)")
        from weight_init.properties.suite import run_suite

        verdicts = run_suite(seed=config.seed, alpha=config.alpha)
    checks = []
    for c in config.checks:
        step(f"conformance check {c.spec} as {c.scheme}")
        checks.append(runner(c, config.seed, config.check_alpha))
    return Report(config, tuple(experiments), phase, tuple(verdicts), tuple(checks))
