"""``weight-init check SPEC --scheme NAME``: does an initializer conform to a registered scheme?

Exit 0 when every test passes, 1 when a test fails or is inconclusive (a table and the
diagnosis on stdout), 2 on bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
from typing import Any

from weight_init.app._commands.argtypes import add_timeout_argument, non_negative_int

SPEC_HELP = (
    "the initializer: MODULE:ATTR (imported from the current directory or sys.path, "
    "called as fn(fan_in, fan_out)), or torch:NAME (torch.nn.init.NAME, e.g. xavier_normal_; "
    "torch:Linear for nn.Linear's default), jax:NAME (jax.nn.initializers), "
    "keras:NAME (keras.initializers)"
)


def probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {text!r}")
    return value


def add_candidate_arguments(p: argparse.ArgumentParser) -> None:
    """SPEC, --layout and --seed, shared by ``check`` and ``identify``."""
    p.add_argument("spec", metavar="SPEC", help=SPEC_HELP)
    p.add_argument(
        "--layout",
        choices=("in_out", "out_in"),
        default=None,
        help="layout of the returned array: in_out = (fan_in, fan_out), out_in = "
        "(fan_out, fan_in); default: the framework's (torch out_in, jax/keras in_out), "
        "else in_out",
    )
    # the flag's earlier name, kept working and out of the help
    p.add_argument(
        "--convention", dest="layout", choices=("in_out", "out_in"), help=argparse.SUPPRESS
    )
    p.add_argument(
        "--seed", type=non_negative_int, default=0, help="seed of every draw (default 0)"
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    add_timeout_argument(p)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "check",
        help="check an initializer against a registered scheme (exit 0 conforms, 1 not)",
        description="Call the initializer over many shapes and test shape, dtype, "
        "finiteness, bounds, distinct units, mean, variance, fan rule, distribution and "
        "independence against SCHEME, with a family-wise false-alarm rate ALPHA (Holm) "
        "and power 0.99 against a 1% std error, a 0.02 std mean shift and an uncorrected "
        "truncated normal. Exit 0 conforming, 1 not conforming, 2 bad input.",
    )
    add_candidate_arguments(p)
    p.add_argument(  # validated in the child (child_tasks.check_command): no numpy here
        "--scheme",
        required=True,
        metavar="NAME",
        help="registered scheme the initializer claims to implement, e.g. glorot_normal",
    )
    p.add_argument(
        "--alpha",
        type=probability,
        default=1e-4,
        help="family-wise false-alarm rate of the check (default 1e-4)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the check in the child, which also validates ``--scheme`` and renders the table
    or JSON: this process imports neither numpy nor the checks (a person waits for
    ``weight-init check``; importing them twice, here and in the child, would cost about
    0.2 s of the 0.3 s the command may take beyond its imports)."""
    from weight_init.app._isolation import run_isolated

    output = run_isolated(
        "weight_init.app._child_tasks:check_command",
        f"the initializer {args.spec}",
        args.timeout,
        spec=args.spec,
        scheme=args.scheme,
        layout=args.layout,
        seed=args.seed,
        alpha=args.alpha,
        as_json=args.json,
    )
    print(output.text)
    return 0 if output.passed else 1
