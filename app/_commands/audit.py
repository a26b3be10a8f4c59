"""``weight-init audit MODULE:FACTORY``: what did each parameter of a model get?

FACTORY is a callable without arguments returning a ``torch.nn.Module``, a *built* Keras 3
model or layer, a tuple ``(flax.linen.Module, *example_inputs)`` (the audit calls
``module.init(jax.random.PRNGKey(s), *example_inputs)`` per build), a tuple
``(hk.Transformed, *example_inputs)``, or a callable ``make(key) -> eqx.Module`` /
``make(rngs) -> nnx.Module``; see :mod:`weight_init.properties.audit._frameworks` and
:mod:`weight_init.properties.audit._jax_modules`.

Builds the model several times with different seeds, reduces each parameter's draws to the
statistics its tests need in one pass per build, and checks them against ``--expect
PATTERN=SCHEME[@LAYOUT]`` rules or the layer type's documented default
(:mod:`weight_init.properties.audit._loop`). Each checked row states what its entries detect
(``--resolution``, default 10% std error); exit 0 when every checked parameter conforms at the
target resolution, 1 when one fails or cannot reach it within ``--max-builds`` (inconclusive;
a table on stdout), 2 on bad input (one line on stderr). ``--workers K`` builds on K local
processes, ``--scheduler ADDRESS`` on a Dask cluster (the executor of ``calibrate``); the
verdicts do not depend on either.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from weight_init.app._commands.argtypes import (
    add_timeout_argument,
    fraction,
    non_negative_int,
    positive_int,
)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "audit",
        help="audit every parameter of a torch, Keras, Flax, Haiku or Equinox model's "
        "initialization "
        "(exit 0 conforms, 1 not)",
        description="Build MODULE:FACTORY several times with different seeds, pool each "
        "parameter's draws, and report per parameter its shape, layout, "
        "fans, identified family and rule, closest registered scheme and a verdict against "
        "--expect rules or the layer's documented default. Exit 0 every checked parameter "
        "conforms, 1 one does not or is inconclusive, 2 bad input. FACTORY() returns a "
        "torch.nn.Module (seeded by torch.manual_seed per build), a built Keras 3 model or "
        "layer (keras.backend.clear_session() and keras.utils.set_random_seed per build; "
        "KERAS_BACKEND defaults to the first installed of tensorflow, jax, torch), or a tuple "
        "(flax.linen.Module, *example_inputs) (module.init(jax.random.PRNGKey(seed), "
        "*example_inputs) per build), a tuple (hk.Transformed, *example_inputs) "
        "(transformed.init(jax.random.PRNGKey(seed), *example_inputs) per build), or a "
        "callable make(key) -> eqx.Module / make(rngs) -> nnx.Module (make(PRNGKey(seed)) "
        "/ make(nnx.Rngs(seed)) per build).",
    )
    p.add_argument(
        "spec",
        metavar="MODULE:FACTORY",
        help="a callable returning a torch module, a built Keras model, "
        "(flax.linen.Module, *example_inputs), (hk.Transformed, *example_inputs), or "
        "make(key) -> eqx.Module / make(rngs) -> nnx.Module",
    )
    p.add_argument(
        "--expect",
        action="append",
        default=[],
        metavar="PATTERN=RULE[@LAYOUT]",
        help="parameters whose name (torch, Equinox, NNX: dotted; Keras, Flax, Haiku: paths "
        "with /) matches the "
        "shell PATTERN must follow RULE: a scheme expression (numbers may be arithmetic: "
        "normal(std=0.02/sqrt(24))), SCHEME + zero_rows(0) (rows exactly 0), or skip "
        "(fans from LAYOUT, e.g. torch.conv, keras.conv, flax.conv); the first matching "
        "rule wins; a pattern that matches no parameter, or only a tied alias, is an error; "
        "repeatable",
    )
    p.add_argument(
        "--preset",
        choices=("transformers", "timm", "torchvision"),
        default=None,
        help="expect what the library's own init draws (torch models): transformers reads the "
        "model's config (initializer_range, n_layer, initializer_factor, pad_token_id) and "
        "its family's _init_weights; timm and torchvision their model families' init; "
        "--expect rules override it",
    )
    p.add_argument(
        "--builds",
        type=positive_int,
        default=None,
        help="number of builds (default: the fewest with which every checked parameter, "
        "alone or in its pooled group, reaches --resolution; at least 10, at most "
        "--max-builds)",
    )
    p.add_argument(
        "--resolution",
        type=fraction,
        default=0.10,
        metavar="R",
        help="std error every checked parameter must detect with power 0.99 to pass, e.g. "
        "1%% (the check's design) or 10%% (default); a mean shift of 2R std is required too",
    )
    p.add_argument(
        "--max-builds",
        type=positive_int,
        default=500,
        metavar="N",
        help="most builds the automatic count may choose (default 500); a parameter that "
        "cannot reach --resolution within them is inconclusive",
    )
    p.add_argument(
        "--no-pooling",
        action="store_true",
        help="test every parameter alone (default: parameters sharing a rule, a layer type "
        "and an i.i.d. family are also tested together, one Holm family per group)",
    )
    engine = p.add_mutually_exclusive_group()
    engine.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        metavar="K",
        help="local worker processes building the model (default 1: in the audit's process)",
    )
    engine.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="build on a Dask cluster, e.g. tcp://HOST:8786 (needs weight-init[dask]; the "
        "workers import MODULE:FACTORY)",
    )
    p.add_argument("--seed", type=non_negative_int, default=0, help="seed of the builds")
    p.add_argument(
        "--alpha", type=float, default=1e-4, help="family-wise false-alarm rate per parameter"
    )
    p.add_argument("--json", action="store_true", help="print the audit as JSON")
    add_timeout_argument(p, "build or parameter check of a torch model")
    p.set_defaults(run=run)


def arguments(
    spec: str,
    expect: Sequence[str] = (),
    *,
    preset: str | None = None,
    builds: int | None = None,
    resolution: float | str | None = None,
    max_builds: int | None = None,
    pool: bool = True,
    seed: int | None = None,
    alpha: float | None = None,
    timeout: float | None = None,
) -> argparse.Namespace:
    """The command's arguments for these options, parsed by the command's own parser (the
    pytest fixture's path: its options are validated, defaulted and worded as the command
    line's); ``None``: the command's default. Bad input is a
    :class:`~weight_init.errors.UsageError` worded as ``weight-init audit`` words it."""
    from weight_init.app._cli import build_parser

    argv = ["audit"]
    for rule in expect:
        argv.append(f"--expect={rule}")
    given = {
        "--preset": preset,
        "--builds": builds,
        "--resolution": resolution,
        "--max-builds": max_builds,
        "--seed": seed,
        "--alpha": alpha,
        "--timeout": timeout,
    }
    argv += [f"{flag}={value}" for flag, value in given.items() if value is not None]
    if not pool:
        argv.append("--no-pooling")
    return build_parser("audit").parse_args([*argv, "--", spec])


def task(args: argparse.Namespace) -> dict[str, Any]:
    """The keywords of :func:`weight_init.app._child_tasks.audit` for ``args`` (the command
    line's or :func:`arguments`'), checked before the model's code runs: the level, every
    ``--expect`` rule, Dask for ``--scheduler``."""
    from weight_init.app._commands.check import probability
    from weight_init.properties.audit._loop import parse_expect

    try:
        alpha = probability(str(args.alpha))
    except argparse.ArgumentTypeError as exc:
        from weight_init.app._cli import UsageError

        raise UsageError(f"weight-init audit: argument --alpha: {exc}") from None
    for text in args.expect:  # bad rules are said before the model's code runs
        parse_expect(text)
    if args.scheduler is not None:
        from weight_init.app._calibration.engine import DASK_HINT, DaskMissingError

        try:
            import distributed  # noqa: F401
        except ImportError:
            raise DaskMissingError(DASK_HINT) from None
    return {
        "spec": args.spec,
        "builds": args.builds,
        "seed": args.seed,
        "expect": list(args.expect),
        "alpha": alpha,
        "preset": args.preset,
        "resolution": args.resolution,
        "max_builds": args.max_builds,
        "pool": not args.no_pooling,
        "workers": args.workers,
        "scheduler": args.scheduler,
    }


def run(args: argparse.Namespace) -> int:
    from weight_init.app._isolation import run_isolated

    report = run_isolated(
        "weight_init.app._child_tasks:audit",
        f"the model factory {args.spec}",
        args.timeout,
        daemon=args.workers <= 1,  # --workers: the child starts the worker processes
        **task(args),
    )
    print(report.to_json() if args.json else report.format_table())
    return 0 if report.passed else 1
