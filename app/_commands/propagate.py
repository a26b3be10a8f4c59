"""``weight-init propagate MODULE:FACTORY``: does the signal (and the gradient) survive the
model at initialization, layer by layer, and is that what its initialization predicts?

FACTORY is a callable without arguments returning a ``torch.nn.Module``. The model is built
``--builds`` times (seeded), fed standard-normal inputs of ``--input-shape`` or the user's
``--input MODULE:FN`` (``FN(seed)`` or ``FN()`` returning a tensor or a tuple of tensors),
run forward and backward (a random linear read-out), and every operation's output is
measured and predicted by mean-field rules (:mod:`weight_init.properties.propagation`). The
model's code runs in a child process (:mod:`weight_init.app._isolation`). Exit 0 when the
diagnosis passes (always, without ``--max-growth``), 1 when the signal or the gradient grows
or shrinks by more than ``--max-growth`` over the whole depth, 2 on bad input or when the
code under test misbehaves (one line on stderr).
"""

from __future__ import annotations

import argparse
import shlex
from typing import Any

from weight_init.app._commands.argtypes import (
    add_timeout_argument,
    non_negative_int,
    positive_int,
)


def shape(text: str) -> tuple[int, ...]:
    """``1000,500`` -> ``(1000, 500)``: positive integers separated by commas."""
    parts = [p.strip() for p in text.split(",")]
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected positive integers separated by commas, got {text!r}"
        ) from None
    if not dims or any(d <= 0 for d in dims):
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return dims


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text!r}")
    return value


def growth_limit(text: str) -> float:
    value = positive_float(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a factor of at least 1, got {text!r}")
    return value


def register(sub: Any) -> None:
    p = sub.add_parser(
        "propagate",
        help="measure and predict a torch model's signal propagation at initialization "
        "(exit 0 ok, 1 --max-growth exceeded)",
        description="Build MODULE:FACTORY (a callable returning a torch.nn.Module) several "
        "times, run it forward and backward (a random linear read-out), and report per "
        "operation, in execution order: mean, std, average channel squared mean and "
        "variance, saturated or dead fraction, residual-branch variance, gradient std; each "
        "beside its mean-field prediction through the model's torch.fx graph; then where "
        "they disagree, the signal's and the gradient's growth over the depth, and the "
        "residual stream's trend. Exit 0 ok, 1 the growth exceeds --max-growth, 2 bad input.",
    )
    p.add_argument("spec", metavar="MODULE:FACTORY", help="a callable returning a torch module")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--input-shape",
        type=shape,
        metavar="N,D,...",
        help="standard-normal float32 inputs of this shape (e.g. 1000,500)",
    )
    src.add_argument(
        "--input",
        metavar="MODULE:FN",
        help="the model's inputs: FN(seed) or FN() returning a tensor or a tuple of tensors",
    )
    p.add_argument("--builds", type=positive_int, default=8, help="builds of the model (8)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="seed of the builds")
    p.add_argument(
        "--eval",
        action="store_true",
        help="run the model in eval mode (running statistics, no dropout); default train mode",
    )
    p.add_argument(
        "--expect",
        action="append",
        default=[],
        metavar="PATTERN=SCHEME[@LAYOUT]",
        help="predict parameters whose dotted name matches PATTERN with SCHEME's variance "
        "(as 'weight-init audit --expect') instead of their measured variance; repeatable",
    )
    p.add_argument(
        "--max-growth",
        type=growth_limit,
        default=None,
        metavar="G",
        help="exit 1 when the signal's or the gradient's whole-depth growth exceeds G or "
        "falls below 1/G",
    )
    p.add_argument(
        "--tolerance",
        type=positive_float,
        default=0.05,
        help="relative std the prediction may be off by (finite width) before a record "
        "counts as disagreeing (0.05)",
    )
    p.add_argument("--no-trace", action="store_true", help="module order only, no torch.fx")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--out", metavar="DIR", help="write an HTML page, figures and JSON here")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="let --out replace an earlier output holding files weight-init did not write "
        "(they are deleted)",
    )
    add_timeout_argument(p)
    p.set_defaults(run=run)


def command_line(args: argparse.Namespace, builds: int) -> str:
    """The ``weight-init propagate`` command line that reproduces the run."""
    out = ["weight-init", "propagate", args.spec]
    if args.input_shape is not None:
        out += ["--input-shape", ",".join(str(d) for d in args.input_shape)]
    else:
        out += ["--input", args.input]
    out += ["--builds", str(builds), "--seed", str(args.seed)]
    if args.eval:
        out.append("--eval")
    for rule in args.expect:
        out += ["--expect", rule]
    if args.no_trace:
        out.append("--no-trace")
    return shlex.join(out)


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from weight_init.app._isolation import run_isolated

    if args.expect:  # bad rules are said before the model's code runs
        from weight_init.properties.audit._expectations import parse_expect
        from weight_init.scheme_expressions import parse_scheme

        for text in args.expect:
            parse_expect(text, parse_scheme)
    if args.out:
        from weight_init.reports._output_dir import preflight
        from weight_init.reports._propagation import PROPAGATION_KIND

        preflight(args.out, args.overwrite, PROPAGATION_KIND)  # before any work
    result = run_isolated(
        "weight_init.app._child_tasks:propagate",
        f"the model factory {args.spec}",
        args.timeout,
        spec=args.spec,
        input_shape=args.input_shape,
        input_spec=args.input,
        builds=args.builds,
        seed=args.seed,
        mode="eval" if args.eval else "train",
        expect=list(args.expect),
        tolerance=args.tolerance,
        max_growth=args.max_growth,
        trace=not args.no_trace,
    )
    result = dataclasses.replace(result, reproduce=command_line(args, result.builds))
    if args.out:
        from weight_init.reports._propagation import write_propagation

        write_propagation(result, args.out, overwrite=args.overwrite)
    print(result.to_json() if args.json else result.format_table())
    return 0 if result.passed else 1
