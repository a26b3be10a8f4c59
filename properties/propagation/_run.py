"""``propagate``: build a torch model several times, measure and predict its propagation.

Build ``b`` (0-based) of ``builds`` runs under ``torch.random.fork_rng`` seeded with the
``b``-th word of ``numpy.random.SeedSequence(seed).generate_state(builds)`` (the audit's
seeds), so the caller's random state is untouched and the same seed gives the same figures.
Its inputs are ``inputs(s)`` (a user function of the build's seed) or, for ``input_shape``,
standard-normal float32 entries from ``numpy.random.default_rng([seed, b, 0])``. The model is
put in the stated mode (``train``: batch norm uses batch statistics and dropout drops, as in
the first training step; ``eval``: running statistics, no dropout), measured by
:func:`~._measure.measure_build`, and the builds' figures pooled (:class:`~._result.Spread`).
The prediction (:mod:`._predict`) reads the weights' variances pooled over the builds.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from weight_init.errors import (
    InitializerCallError,
    InitializerTypeError,
    InvalidInputError,
    InvalidParameterError,
    describe_exception,
)
from weight_init.properties._torch_seed import manual_seed
from weight_init.properties.propagation._diagnose import (
    DEFAULT_ALPHA,
    DEFAULT_FLAT_RATIO,
    DEFAULT_TOLERANCE,
)
from weight_init.properties.propagation._measure import (
    BuildMeasurement,
    check_inputs,
    measure_build,
)
from weight_init.properties.propagation._predict import Moments
from weight_init.properties.propagation._result import PropagationResult
from weight_init.properties.propagation._summary import summarize

DEFAULT_BUILDS = 8
MODES = ("train", "eval")


def build_seeds(builds: int, seed: int) -> list[int]:
    """The per-build seeds: ``SeedSequence(seed).generate_state(builds)`` as ints."""
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(builds, np.uint32)]


def _make_inputs(
    input_shape: Sequence[int] | None,
    inputs: Callable[..., Any] | None,
    seed: int,
    build: int,
    build_seed: int,
) -> tuple[Any, ...]:
    import torch

    if inputs is not None:
        try:
            takes = _takes_argument(inputs)
            value = inputs(build_seed) if takes else inputs()
        except (Exception, SystemExit) as exc:
            raise InitializerCallError(
                f"the input function raised {describe_exception(exc)}"
            ) from None
        return check_inputs(value)
    assert input_shape is not None
    x = np.random.default_rng([seed, build, 0]).standard_normal(tuple(input_shape))
    return (torch.from_numpy(x.astype(np.float32)),)


def _takes_argument(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return any(p.kind in kinds or p.kind is inspect.Parameter.VAR_POSITIONAL for p in params)


def _validate(
    input_shape: Sequence[int] | None,
    inputs: Callable[..., Any] | None,
    builds: int,
    mode: str,
    tolerance: float,
    alpha: float,
    max_growth: float | None,
) -> None:
    if (input_shape is None) == (inputs is None):
        raise InvalidInputError("give either input_shape or inputs (a function), not both")
    if input_shape is not None:
        shape = list(input_shape)
        if not shape or any(not isinstance(s, int) or s <= 0 for s in shape):
            raise InvalidInputError(f"input shape must be positive integers, got {input_shape!r}")
    if builds < 1:
        raise InvalidParameterError(f"builds must be at least 1, got {builds}")
    if mode not in MODES:
        raise InvalidParameterError(f"mode must be 'train' or 'eval', got {mode!r}")
    if not (0 < tolerance and math.isfinite(tolerance)):
        raise InvalidParameterError(f"tolerance must be positive, got {tolerance!r}")
    if not (0 < alpha < 1):
        raise InvalidParameterError(f"alpha must be in (0, 1), got {alpha!r}")
    if max_growth is not None and not (max_growth >= 1 and math.isfinite(max_growth)):
        raise InvalidParameterError(f"max_growth must be at least 1, got {max_growth!r}")


def _build(factory: Callable[[], Any], mode: str, run: Callable[[Any], Any], seed: int) -> Any:
    import torch

    with torch.random.fork_rng(devices=[]):
        manual_seed(torch, seed)
        try:
            model = factory()
        except (Exception, SystemExit) as exc:
            raise InitializerCallError(
                f"the model factory raised {describe_exception(exc)}"
            ) from None
        if not isinstance(model, torch.nn.Module):
            raise InitializerTypeError(
                f"the model factory returned {type(model).__name__}, not a torch.nn.Module"
            )
        model.train(mode == "train")
        return run(model)


def propagate(
    factory: Callable[[], Any],
    *,
    input_shape: Sequence[int] | None = None,
    inputs: Callable[..., Any] | None = None,
    builds: int = DEFAULT_BUILDS,
    seed: int = 0,
    mode: str = "train",
    trace: bool = True,
    tolerance: float = DEFAULT_TOLERANCE,
    alpha: float = DEFAULT_ALPHA,
    max_growth: float | None = None,
    flat_ratio: float = DEFAULT_FLAT_RATIO,
    expect: Sequence[str] = (),
    subject: str | None = None,
) -> PropagationResult:
    """Measured and predicted signal propagation of ``factory()`` at initialization, per
    recorded operation in execution order (module docstring).

    Parameters
    ----------
    factory : callable
        ``factory()`` returns a ``torch.nn.Module``; called once per build.
    input_shape : sequence of int, optional
        Standard-normal float32 inputs of this shape (the prediction starts from mean 0,
        variance 1).
    inputs : callable, optional
        Instead: ``inputs(seed)`` or ``inputs()`` returning a tensor or a tuple of tensors
        (the prediction starts from the measured input).
    builds : int, optional
        Builds of the model (8).
    seed : int, optional
        Seed of the builds, their inputs and read-outs.
    mode : {"train", "eval"}, optional
        The model's mode.
    trace : bool, optional
        Use ``torch.fx`` (True); False runs the model in module order with hooks.
    tolerance : float, optional
        Relative std the prediction may be off by before a record disagrees (0.05).
    alpha : float, optional
        Family-wise level of the disagreement tests (1e-3, Holm).
    max_growth : float, optional
        The gate: the run fails when the signal's or the gradient's whole-depth growth
        exceeds it or falls below its inverse.
    flat_ratio : float, optional
        A residual stream whose last/first variance lies within ``[1/r, r]`` is flat (1.25).
    expect : sequence of str, optional
        ``PATTERN=SCHEME[@LAYOUT]`` rules (as ``weight-init audit --expect``): a matching
        parameter is predicted with the scheme's variance at its fans (layout default:
        ``out_in`` for linear, ``torch.conv`` for convolutions; a bias takes its weight's
        fans) instead of its entries' pooled variance.
    subject : str, optional
        The model's name in the result.

    Returns
    -------
    PropagationResult
        Records, parameters, diagnosis.

    Raises
    ------
    weight_init.errors.InitializerTypeError
        The factory returned no ``torch.nn.Module``.
    weight_init.errors.InitializerCallError
        The factory (or the input function) raised.
    weight_init.errors.InvalidInputError
        The forward or backward pass raised (an input of the wrong shape), or bad inputs.

    Examples
    --------
    >>> import torch
    >>> from weight_init.properties.propagation import propagate
    >>> def model():  # the notes' "Xavier": randn / sqrt(fan_in)
    ...     lin = torch.nn.Linear(100, 100, bias=False)
    ...     torch.nn.init.normal_(lin.weight, std=0.1)
    ...     return torch.nn.Sequential(lin, torch.nn.Tanh())
    >>> result = propagate(model, input_shape=(200, 100), builds=3, expect=["*=xavier"])
    >>> tanh = result.records[-1]
    >>> round(tanh.predicted_std, 4)  # weight_init.theory.predict("xavier", "tanh", [100], 100)
    0.6279
    >>> abs(tanh.std.mean / tanh.predicted_std - 1) < 0.05
    True
    """
    _validate(input_shape, inputs, builds, mode, tolerance, alpha, max_growth)
    rules = _parse_rules(expect)
    runs: list[BuildMeasurement] = []
    shapes: tuple[tuple[int, ...], ...] = ()
    for b, s in enumerate(build_seeds(builds, seed)):

        def run(model: Any, b: int = b, s: int = s) -> BuildMeasurement:
            nonlocal shapes
            args = _make_inputs(input_shape, inputs, seed, b, s)
            shapes = tuple(tuple(int(d) for d in getattr(a, "shape", ())) for a in args)
            return measure_build(model, args, seed, b, trace=trace)

        m = _build(factory, mode, run, s)
        if runs and [n.name for n in m.nodes] != [n.name for n in runs[0].nodes]:
            raise InvalidInputError(
                f"build {b + 1} ran different operations from build 1 (the model's structure "
                "depends on its random draws); propagation compares like with like"
            )
        runs.append(m)
    return summarize(
        runs,
        subject or str(getattr(factory, "__qualname__", "model")),
        seed,
        mode,
        shapes,
        tolerance,
        alpha,
        max_growth,
        flat_ratio,
        rules,
        Moments(0.0, 1.0, 0.0, True) if input_shape is not None else None,
    )


def _parse_rules(expect: Sequence[str]) -> list[Any]:
    if not expect:
        return []
    from weight_init.properties.audit._expectations import parse_expect
    from weight_init.scheme_expressions import parse_scheme

    return [parse_expect(text, parse_scheme) for text in expect]
