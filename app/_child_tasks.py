"""What runs inside the child process of :mod:`weight_init.app._isolation`.

Each function resolves the user's ``SPEC`` (importing the user's module is itself code under
test) and runs one check, returning a picklable result object; the parent turns it into
output and an exit code. Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CommandOutput:
    """What a command prints on stdout, rendered in the child, and whether the check passed
    (exit 0 or 1): the parent unpickles this small object, not a Verdict, so it never
    imports numpy or the checks."""

    passed: bool
    text: str


def resolve(spec: str) -> str | None:
    """Resolve ``spec`` (imports the user's module); return its default layout."""
    from weight_init.properties.conformance._adapters import resolve as _resolve

    return _resolve(spec).layout


def check(
    spec: str | Callable[..., Any],
    scheme: str,
    layout: str | None,
    seed: int,
    alpha: float,
    subject: str | None = None,
) -> Any:
    """``check_initializer`` on ``spec`` (a SPEC string or a picklable callable) -> Verdict."""
    from weight_init.properties.conformance._adapters import resolve as _resolve
    from weight_init.properties.conformance._runner import check_initializer

    if isinstance(spec, str):
        cand = _resolve(spec)
        conv = layout or cand.layout or "in_out"
        fn = cand.fn
        subject = subject or f"{spec} as {scheme} ({conv})"
    else:
        fn, conv = spec, layout or "in_out"
    return check_initializer(fn, scheme, conv, seed=seed, alpha=alpha, subject=subject)


def check_command(
    spec: str, scheme: Any, layout: str | None, seed: int, alpha: float, as_json: bool
) -> CommandOutput:
    """``weight-init check``: validate ``scheme`` (a name or an expression, as the command
    line's ``--scheme``; a bad one is a :class:`~weight_init.errors.UsageError` worded as
    argparse words it, raised before the user's module is imported), run :func:`check`, and
    render its table or JSON."""
    verdict = check(spec, _scheme_argument(scheme), layout, seed, alpha)
    text = verdict.to_json() if as_json else verdict.format_table()
    return CommandOutput(bool(verdict.passed), text)


def _scheme_argument(scheme: Any) -> Any:
    if not isinstance(scheme, str):
        return scheme
    import argparse

    from weight_init.app._commands.argtypes import scheme_name
    from weight_init.errors import UsageError

    try:
        return scheme_name(scheme)
    except argparse.ArgumentTypeError as exc:
        raise UsageError(f"weight-init check: argument --scheme: {exc}") from None


def identify(spec: str, layout: str | None, seed: int) -> tuple[str, Any]:
    """``identify`` on ``spec`` -> (layout used, Identification)."""
    from weight_init.properties.conformance._adapters import resolve as _resolve
    from weight_init.properties.conformance._identify import identify as _identify

    cand = _resolve(spec)
    conv = layout or cand.layout or "in_out"
    return conv, _identify(cand.fn, conv, seed=seed)


def check_forward(spec: str, **kwargs: Any) -> Any:
    """``check_forward_prop`` on the forward_prop ``spec`` -> Verdict."""
    from weight_init.properties.conformance._adapters import resolve as _resolve
    from weight_init.properties.conformance._forward_check import check_forward_prop

    return check_forward_prop(_resolve(spec).fn, subject=spec, **kwargs)


def report_check(spec: Any, seed: int, alpha: float) -> Any:
    """One report conformance section (:func:`weight_init.reports._checks.run_check`)."""
    from weight_init.reports._checks import run_check

    return run_check(spec, seed, alpha)


def audit(
    spec: str,
    builds: int | None,
    seed: int,
    expect: list[str],
    alpha: float,
    preset: str | None = None,
    resolution: float = 0.10,
    max_builds: int = 500,
    pool: bool = True,
    workers: int = 1,
    scheduler: str | None = None,
) -> Any:
    """``audit_model`` on the model factory ``spec`` (any framework it handles) -> its report;
    builds 1 .. K-1 on ``workers`` local processes or the Dask cluster at ``scheduler``
    (:func:`weight_init.app._calibration.engine.open_executor`, ``calibrate``'s executor);
    each step (a build inline, a batch of builds on workers, the tests) is reported to the
    parent (its timeout bounds one step)."""
    from weight_init.app._isolation import beat
    from weight_init.errors import OwnFaultError, WeightInitError, describe_exception
    from weight_init.properties.audit._frameworks import audit_spec

    options: dict[str, Any] = {
        "resolution": resolution,
        "max_builds": max_builds,
        "pool": pool,
        "preset": preset,
        "on_step": beat,
    }
    try:
        if workers <= 1 and scheduler is None:
            return audit_spec(spec, expect, builds=builds, seed=seed, alpha=alpha, **options)
        from weight_init.app._calibration.engine import open_executor

        with open_executor(workers, scheduler) as (executor, slots):
            return audit_spec(
                spec,
                expect,
                builds=builds,
                seed=seed,
                alpha=alpha,
                executor=executor,
                slots=slots,
                **options,
            )
    except WeightInitError:
        raise  # bad input, or the model's own failure, already worded
    except Exception as exc:  # the factory's exceptions are AuditErrors: this one is ours
        raise OwnFaultError(
            f"weight-init's audit of {spec} failed: {describe_exception(exc)} (a fault in "
            "weight-init, not in the model; please report it)"
        ) from None


def report_audit(spec: Any, seed: int, alpha: float) -> Any:
    """One report audit section (:func:`weight_init.reports._audits.run_audit`)."""
    from weight_init.reports._audits import run_audit

    return run_audit(spec, seed, alpha)


def propagate(
    spec: str,
    input_shape: tuple[int, ...] | None,
    input_spec: str | None,
    builds: int,
    seed: int,
    mode: str,
    expect: list[str],
    tolerance: float,
    max_growth: float | None,
    trace: bool,
) -> Any:
    """``propagate`` on the model factory ``spec`` (and the input function ``input_spec``)
    -> its :class:`~weight_init.properties.propagation.PropagationResult`."""
    from weight_init.properties.conformance._adapters import resolve as _resolve
    from weight_init.properties.propagation import propagate as _propagate

    factory = _resolve(spec).fn
    inputs = None if input_spec is None else _resolve(input_spec).fn
    return _propagate(
        factory,
        input_shape=input_shape,
        inputs=inputs,
        builds=builds,
        seed=seed,
        mode=mode,
        expect=expect,
        tolerance=tolerance,
        max_growth=max_growth,
        trace=trace,
        subject=spec,
    )


def report_propagation(spec: Any, seed: int) -> Any:
    """One report propagation section (:func:`weight_init.reports._propagation.run_propagation`)."""
    from weight_init.reports._propagation import run_propagation

    return run_propagation(spec, seed)
