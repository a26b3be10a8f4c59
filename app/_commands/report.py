"""``weight-init report``: the statistical report (experiments, theory, phase diagram, verdicts).

Writes ``index.html`` (figures beside it in ``figures/``), ``report.md`` and
``summary.json`` into ``--out`` atomically. Exit 0 when written; 1 when written but
a ``--check`` initializer did not conform or an ``--audit`` model has a parameter that did
not pass; 2 on bad flags, an unwritable ``--out``, or a model factory that raised, exited or
crashed (one line on stderr, nothing written).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Executor
from typing import Any

from weight_init.activations import ACTIVATIONS, activation_names
from weight_init.app._commands.argtypes import (
    add_timeout_argument,
    non_negative_int,
    positive_int,
    scheme_text,
    split_top_level,
)

DEFAULT_OUT = "weight-init-report"


def _items(text: str) -> list[str]:
    items = [t.strip() for t in split_top_level(text, ",")]
    if not items or any(not t for t in items):
        raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}")
    return items


def _activation(name: str) -> str:
    if name not in ACTIVATIONS:
        raise argparse.ArgumentTypeError(
            f"unknown activation {name!r}; choose one of {', '.join(activation_names())}"
        )
    return name


def scheme_list(text: str) -> list[tuple[str, str | None]]:
    """``SCHEME[:ACTIVATION],...`` -> [(scheme, activation or None)]; a SCHEME is a
    registered name or a scheme expression (commas inside its parentheses do not split)."""
    out: list[tuple[str, str | None]] = []
    for item in _items(text):
        parts = split_top_level(item, ":")
        scheme, act = ":".join(parts[:-1]) if len(parts) > 1 else item, parts[-1]
        out.append((scheme_text(scheme), _activation(act.strip()) if len(parts) > 1 else None))
    return out


def activation_list(text: str) -> list[str]:
    return [_activation(a) for a in _items(text)]


def format_list(text: str) -> tuple[str, ...]:
    from weight_init.reports._config import FORMATS

    items = _items(text)
    bad = [f for f in items if f not in FORMATS]
    if bad:
        raise argparse.ArgumentTypeError(
            f"unknown format {bad[0]!r}; choose from {', '.join(FORMATS)}"
        )
    return tuple(f for f in FORMATS if f in items)


def check_spec(text: str) -> tuple[str, str]:
    """``SPEC=SCHEME`` (the first ``=`` separates: a SPEC has none, a scheme expression may;
    SPEC as for ``weight-init check``)."""
    spec, sep, scheme = text.partition("=")
    if not sep or not spec or not scheme.strip():
        raise argparse.ArgumentTypeError(
            f"expected SPEC=SCHEME (e.g. torch:xavier_normal_=glorot_normal), got {text!r}"
        )
    return spec, scheme_text(scheme)


def audit_spec(text: str) -> str:
    """``MODULE:FACTORY`` (checked for its form here; imported only in a child process)."""
    module, sep, factory = text.partition(":")
    if not sep or not module.strip() or not factory.strip():
        raise argparse.ArgumentTypeError(f"expected MODULE:FACTORY, got {text!r}")
    return text


def propagate_spec(text: str) -> tuple[str, tuple[int, ...]]:
    """``MODULE:FACTORY=N,C,...`` -> ``(MODULE:FACTORY, shape)`` (the form only; the module is
    imported in a child process)."""
    from weight_init.app._commands.propagate import shape

    spec, sep, dims = text.rpartition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected MODULE:FACTORY=N,C,..., got {text!r}")
    return audit_spec(spec), shape(dims)


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def register(sub: Any) -> None:
    from weight_init.reports._config import PhaseConfig, ReportConfig

    d, dp = ReportConfig(), PhaseConfig()
    p = sub.add_parser(
        "report",
        help="write the statistical report (HTML, Markdown, JSON) of the notes' experiments",
        description="Reproduce the notes' experiments under several schemes with the "
        "mean-field prediction beside each, a tanh phase diagram over sigma_w x depth, the "
        "property verdicts and optional conformance checks; write index.html, report.md and "
        "summary.json into --out. Exit 0 written, 1 written but a --check did not conform, "
        "2 bad flags or unwritable --out.",
    )
    p.add_argument(
        "--schemes",
        type=scheme_list,
        default=None,
        metavar="LIST",
        help="comma-separated SCHEME or SCHEME:ACTIVATION, a SCHEME a registered name or an "
        "expression such as 'variance_scaling(2, fan_in, normal)' (default: "
        + ",".join(f"{e.scheme}:{e.activation}" for e in d.experiments)
        + ")",
    )
    p.add_argument(
        "--activations",
        type=activation_list,
        default=None,
        metavar="LIST",
        help="run every --schemes entry without an explicit :ACTIVATION under each of these "
        "(default: tanh, or the default pairing when --schemes is not given)",
    )
    p.add_argument("--depth", type=positive_int, default=d.depth, help="layers (default 10)")
    p.add_argument("--width", type=positive_int, default=d.width, help="units (default 500)")
    p.add_argument(
        "--samples", type=positive_int, default=d.samples, help="input rows (default 1000)"
    )
    p.add_argument(
        "--input-dim", type=positive_int, default=d.input_dim, help="input columns (default 500)"
    )
    p.add_argument("--seed", type=non_negative_int, default=d.seed, help="seed (default 0)")
    p.add_argument(
        "--out",
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"output directory, replaced atomically (default {DEFAULT_OUT}/); a symlink is "
        "followed only to a directory weight-init wrote; refused if it holds files "
        "weight-init did not write",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an earlier report in --out even though it holds files the report did "
        "not write (they are deleted)",
    )
    p.add_argument(
        "--format",
        type=format_list,
        default=d.formats,
        metavar="LIST",
        help="comma-separated subset of html,md,json (default all)",
    )
    p.add_argument(
        "--check",
        type=check_spec,
        nargs="+",
        action="extend",
        default=[],
        metavar="SPEC=SCHEME",
        help="add a conformance section: SPEC is MODULE:ATTR, torch:NAME, jax:NAME or "
        "keras:NAME (as for 'weight-init check'), SCHEME the scheme it claims (a registered "
        "name or an expression)",
    )
    p.add_argument(
        "--check-alpha",
        type=positive_float,
        default=d.check_alpha,
        help="family-wise false-alarm rate of each check (default 1e-4)",
    )
    p.add_argument(
        "--audit",
        type=audit_spec,
        action="append",
        default=[],
        metavar="MODULE:FACTORY",
        help="add a model audit section: FACTORY is a callable returning a torch.nn.Module "
        "(as for 'weight-init audit'); repeatable",
    )
    p.add_argument(
        "--expect",
        action="append",
        default=[],
        metavar="PATTERN=SCHEME[@LAYOUT]",
        help="audit rule for every --audit model: parameters whose dotted name matches the "
        "shell PATTERN must follow SCHEME (fans from LAYOUT); first match wins; repeatable",
    )
    p.add_argument(
        "--audit-builds",
        type=positive_int,
        default=None,
        metavar="N",
        help="builds of each --audit model (default: what its power plan needs, 20 to 500)",
    )
    p.add_argument(
        "--propagate",
        type=propagate_spec,
        action="append",
        default=[],
        metavar="MODULE:FACTORY=N,C,...",
        help="add a signal propagation section: the torch model of FACTORY on standard-normal "
        "inputs of that shape, 8 builds (as 'weight-init propagate'); repeatable",
    )
    p.add_argument("--no-phase", action="store_true", help="skip the phase diagram")
    p.add_argument(
        "--phase-sigmas", type=positive_int, default=dp.n_sigma, help="sigma_w grid points"
    )
    p.add_argument("--phase-depth", type=positive_int, default=dp.depth, help="max depth")
    p.add_argument("--phase-width", type=positive_int, default=dp.width, help="width")
    p.add_argument("--phase-samples", type=positive_int, default=dp.samples, help="samples")
    p.add_argument("--no-suite", action="store_true", help="skip the property verdicts")
    engine = p.add_mutually_exclusive_group()
    engine.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        metavar="K",
        help="local worker processes for the computations (default: up to 2, the cores "
        "available; 1: all in this process; never more than the pieces of work, and a "
        "value above the cores is capped to them with a notice)",
    )
    engine.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="run the computations (experiments, one task per phase-diagram sigma_w, the "
        "suite) on a Dask cluster, e.g. tcp://HOST:8786, as 'weight-init calibrate' does "
        "(needs the dask extra: pip install '.[dask]' in a clone); figures are drawn here",
    )
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    add_timeout_argument(p)
    p.add_argument(
        "--calibration",
        default=None,
        metavar="DIR",
        help="instead: render a 'weight-init calibrate' run in DIR (DIR/calibration.md, figures)",
    )
    p.set_defaults(run=run)


def config_from_args(args: argparse.Namespace) -> Any:
    from weight_init.reports._config import (
        AuditSpec,
        CheckSpec,
        ExperimentSpec,
        PhaseConfig,
        PropagateSpec,
        ReportConfig,
    )

    d = ReportConfig()
    if args.schemes is None and args.activations is None:
        experiments = d.experiments
    else:
        pairs = args.schemes or [(e.scheme, None) for e in d.experiments]
        acts = args.activations or ["tanh"]
        experiments = tuple(
            ExperimentSpec(s, a)
            for s, fixed in pairs
            for a in ([fixed] if fixed is not None else acts)
        )
    if args.check_alpha >= 1:
        from weight_init.app._cli import UsageError

        raise UsageError(
            f"weight-init report: argument --check-alpha: must be < 1, got {args.check_alpha:g}"
        )
    phase = None
    if not args.no_phase:
        phase = PhaseConfig(
            n_sigma=args.phase_sigmas,
            depth=args.phase_depth,
            width=args.phase_width,
            samples=args.phase_samples,
        )
    return ReportConfig(
        experiments=experiments,
        depth=args.depth,
        width=args.width,
        samples=args.samples,
        input_dim=args.input_dim,
        seed=args.seed,
        phase=phase,
        suite=not args.no_suite,
        checks=tuple(CheckSpec(spec, scheme) for spec, scheme in args.check),
        audits=tuple(AuditSpec(spec, tuple(args.expect), args.audit_builds) for spec in args.audit),
        propagations=tuple(PropagateSpec(spec, shape) for spec, shape in args.propagate),
        formats=args.format,
        check_alpha=args.check_alpha,
    )


def _bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} PiB"


def check_memory(config: Any) -> None:
    """Refuse, before any work, sizes whose arrays cannot fit in this machine's memory.

    Float64 arrays an experiment holds at once: the weights (``depth`` matrices up to
    ``max(width, input_dim) x width``) and the activations kept for the backward pass
    (``depth`` of ``samples x width``); the phase diagram holds one ``samples x width``
    activation and one ``width x width`` weight matrix at a time."""
    from weight_init.app._cli import UsageError

    w, d, n = config.width, config.depth, config.samples
    need = 8.0 * d * (max(w, config.input_dim) * w + n * w)
    what = f"--width {w} --depth {d} --samples {n}"
    if config.phase is not None:
        p = config.phase
        phase = 8.0 * (2 * p.samples * p.width + p.width * p.width)
        if phase > need:
            need, what = phase, f"--phase-width {p.width} --phase-samples {p.samples}"
    try:
        total = float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return
    if need > total:
        raise UsageError(
            f"weight-init report: {what} needs about {_bytes(need)} of float64 arrays; "
            f"this machine has {_bytes(total)}"
        )


@contextlib.contextmanager
def _compute_engine(scheduler: str | None) -> Iterator[Executor | None]:
    """The Dask cluster's executor for ``--scheduler`` (the engine of ``weight-init
    calibrate``), else None: the report's local pool."""
    if scheduler is None:
        yield None
        return
    from weight_init.app._calibration.engine import open_executor

    with open_executor(None, scheduler) as (executor, _):
        yield executor


def run(args: argparse.Namespace) -> int:
    if args.scheduler is not None:
        try:
            import distributed  # noqa: F401
        except ImportError:
            from weight_init.app._calibration.engine import DASK_HINT, DaskMissingError

            raise DaskMissingError(DASK_HINT) from None
    if args.calibration is not None:
        from weight_init.app._commands.calibrate import render

        return render(args.calibration)
    from weight_init.app._isolation import run_isolated
    from weight_init.reports._output_dir import preflight
    from weight_init.reports._render import generate

    config = config_from_args(args)
    if args.expect and not args.audit:
        from weight_init.app._cli import UsageError

        raise UsageError("weight-init report: --expect applies to --audit models; none given")
    if args.expect:  # bad rules are said before any model's code runs
        from weight_init.properties.audit._loop import parse_expect

        for text in args.expect:
            parse_expect(text)
    check_memory(config)
    preflight(args.out, args.overwrite)  # before any work
    for c in config.checks:  # resolve each SPEC (imports the user's module) in a child
        run_isolated(
            "weight_init.app._child_tasks:resolve",
            f"the initializer {c.spec}",
            args.timeout,
            spec=c.spec,
        )

    def isolated_check(spec: Any, seed: int, alpha: float) -> Any:
        return run_isolated(
            "weight_init.app._child_tasks:report_check",
            f"the initializer {spec.spec}",
            args.timeout,
            spec=spec,
            seed=seed,
            alpha=alpha,
        )

    def isolated_audit(spec: Any, seed: int, alpha: float) -> Any:
        return run_isolated(
            "weight_init.app._child_tasks:report_audit",
            f"the model factory {spec.spec}",
            args.timeout,
            spec=spec,
            seed=seed,
            alpha=alpha,
        )

    def isolated_propagation(spec: Any, seed: int) -> Any:
        return run_isolated(
            "weight_init.app._child_tasks:report_propagation",
            f"the model factory {spec.spec}",
            args.timeout,
            spec=spec,
            seed=seed,
        )

    start = time.perf_counter()

    def progress(message: str) -> None:
        if not args.quiet:
            print(
                f"weight-init report: {message} ({time.perf_counter() - start:.1f} s)",
                file=sys.stderr,
                flush=True,
            )

    workers = args.workers
    if workers is not None:
        from weight_init.reports._build import pool_tasks
        from weight_init.reports._parallel import bounded_workers, stderr_notice

        workers = bounded_workers(workers, pool_tasks(config), stderr_notice("weight-init report"))
    with _compute_engine(args.scheduler) as compute:
        report = generate(
            config,
            args.out,
            progress,
            workers,
            overwrite=args.overwrite,
            check_runner=isolated_check,
            audit_runner=isolated_audit,
            propagate_runner=isolated_propagation,
            compute=compute,
        )
    progress(f"wrote {args.out}/ ({', '.join(config.formats)})")
    bad = [c for c in report.checks if c.verdict.outcome != "pass"]
    for c in bad:
        print(f"weight-init report: {c.title}: {c.verdict.outcome.upper()}", file=sys.stderr)
    bad_audits = [a for a in report.audits if not a.passed]
    for a in bad_audits:
        failing = [p.name for p in a.result.params if p.outcome in ("fail", "inconclusive")]
        print(
            f"weight-init report: audit {a.title} ({', '.join(failing)})",
            file=sys.stderr,
        )
    return 1 if bad or bad_audits else 0
