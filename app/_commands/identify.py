"""``weight-init identify SPEC``: estimate the variance rule, family and closest scheme.

Exit 0 after printing the identification, 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from weight_init.app._commands.check import add_candidate_arguments


def register(sub: Any) -> None:
    p = sub.add_parser(
        "identify",
        help="estimate an initializer's variance rule c*fan_in^a*fan_out^b, family and "
        "closest registered scheme",
        description="Draw from the initializer over many shapes, fit Var = c * fan_in^a * "
        "fan_out^b by weighted log-linear regression, read the family from the shape of "
        "the law, and name the registered scheme (and gain) that explains the variances.",
    )
    add_candidate_arguments(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from weight_init.app._isolation import run_isolated

    layout, result = run_isolated(
        "weight_init.app._child_tasks:identify",
        f"the initializer {args.spec}",
        args.timeout,
        spec=args.spec,
        layout=args.layout,
        seed=args.seed,
    )
    if args.json:
        print(
            json.dumps(
                {"spec": args.spec, "convention": layout, **result.to_dict()},
                indent=2,
                sort_keys=True,
            )
        )
    else:
        print(f"{args.spec} ({layout})")
        print(result.describe())
    # exit 1: nothing to identify (every call returned NaN/inf or a wrongly shaped array)
    return 0 if result.n_entries > 0 else 1
