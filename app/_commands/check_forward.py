"""``weight-init check-forward MODULE:ATTR``: check a forward_prop with the notes' contract.

Exit 0 when it agrees with the reference, 1 when not (a table and the reason), 2 on bad input.
"""

from __future__ import annotations

import argparse
from typing import Any

from weight_init.app._commands.argtypes import (
    activation_name,
    add_timeout_argument,
    non_negative_int,
    positive_int,
)
from weight_init.app._commands.check import probability


def register(sub: Any) -> None:
    p = sub.add_parser(
        "check-forward",
        help="check a forward_prop(hidden_layer_sizes, init) -> (acts, means, stds) "
        "against the reference (exit 0 agrees, 1 not)",
        description="Run the forward_prop over drawn layer sizes with recording "
        "initializers, on the notes' input (replayed from np.random.seed) or an explicit "
        "x= when it accepts one, and compare its activations, means and stds with the "
        "reference's on the same input and weights (or, when its input cannot be replayed, "
        "with reference runs on the same weights), then the notes' property suite. "
        "Exit 0 agrees, 1 not, 2 bad input.",
    )
    p.add_argument("spec", metavar="MODULE:ATTR", help="the forward_prop to check")
    p.add_argument(
        "--activation", type=activation_name, default="tanh", help="activation (default tanh)"
    )
    p.add_argument("--samples", type=positive_int, default=1000, help="input rows (default 1000)")
    p.add_argument(
        "--input-dim", type=positive_int, default=500, help="input columns (default 500)"
    )
    p.add_argument("--seed", type=non_negative_int, default=0, help="seed of the cases (default 0)")
    p.add_argument(
        "--alpha", type=probability, default=1e-4, help="family-wise false-alarm rate (1e-4)"
    )
    p.add_argument(
        "--no-properties",
        action="store_true",
        help="skip the notes' property suite (only compare with the reference)",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    add_timeout_argument(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from weight_init.app._isolation import run_isolated

    verdict = run_isolated(
        "weight_init.app._child_tasks:check_forward",
        f"the forward_prop {args.spec}",
        args.timeout,
        spec=args.spec,
        activation=args.activation,
        n_samples=args.samples,
        input_dim=args.input_dim,
        seed=args.seed,
        alpha=args.alpha,
        properties=not args.no_properties,
    )
    print(verdict.to_json() if args.json else verdict.format_table())
    return 0 if verdict.passed else 1
