"""``weight-init experiment``: the notes' experiment for one scheme, printed the notes' way.

When the signal leaves float64's range (e.g. ``--scheme big_normal --activation relu --depth
400``: the std grows about 16x per layer and passes 1.8e308 near layer 150) the layers past
that point hold inf/NaN, which says nothing about the scheme. The command then prints no
table, and says in one line on stderr at which layer the signal overflowed and what the
last finite std was, exit 2 (a configuration float64 cannot compute); numpy's overflow
warnings are not shown.
"""

from __future__ import annotations

import argparse
from typing import Any

from weight_init.app._commands.argtypes import (
    activation_name,
    non_negative_int,
    positive_int,
    scheme_name,
)
from weight_init.experiment import forward_prop
from weight_init.schemes import get_scheme

LINE = "Hidden layer %d had mean %f and std %f"
THEORY_LINE = LINE + " (theory std %f)"


def register(sub: Any) -> None:
    p = sub.add_parser(
        "experiment",
        help="run the notes' forward_prop experiment for one initializer scheme",
        description="Propagate a standard-normal input through DEPTH bias-free layers of WIDTH "
        "units initialised by SCHEME and print each layer's activation mean and std.",
    )
    p.add_argument(
        "--scheme",
        type=scheme_name,
        metavar="SCHEME",
        help="registered scheme name (required), e.g. xavier, small_normal, he_normal",
    )
    # the flag's earlier name, kept working and out of the help
    p.add_argument("--init", dest="scheme", type=scheme_name, help=argparse.SUPPRESS)
    p.add_argument("--depth", type=positive_int, default=10, help="number of layers (default 10)")
    p.add_argument("--width", type=positive_int, default=500, help="units per layer (default 500)")
    p.add_argument(
        "--activation", type=activation_name, default="tanh", help="activation name (default tanh)"
    )
    p.add_argument("--samples", type=positive_int, default=1000, help="input rows (default 1000)")
    p.add_argument(
        "--input-dim", type=positive_int, default=500, help="input columns (default 500)"
    )
    p.add_argument(
        "--seed",
        type=non_negative_int,
        default=0,
        help="seed of numpy.random.default_rng (default 0)",
    )
    p.add_argument(
        "--dtype",
        choices=("float64", "float32"),
        default="float64",
        help="compute dtype; statistics are accumulated in float64",
    )
    p.add_argument(
        "--theory",
        action="store_true",
        help="print the mean-field prediction of each layer's std beside it "
        "(weight_init.theory.predict)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.scheme is None:
        from weight_init.errors import UsageError

        raise UsageError("weight-init experiment: the following arguments are required: --scheme")
    import math

    import numpy as np

    from weight_init.errors import InvalidParameterError

    with np.errstate(over="ignore", invalid="ignore"):
        result = forward_prop(
            [args.width] * args.depth,
            get_scheme(args.scheme),
            activation=args.activation,
            n_samples=args.samples,
            input_dim=args.input_dim,
            seed=args.seed,
            dtype=args.dtype,
            keep_activations=False,
        )
    bad = [
        i
        for i, (m, s) in enumerate(zip(result.means, result.stds, strict=True))
        if not (math.isfinite(m) and math.isfinite(s))
    ]
    if bad:
        first = bad[0]
        last = f"; the std at layer {first} was {result.stds[first - 1]:.3g}" if first else ""
        raise InvalidParameterError(
            f"the signal overflowed float64 at layer {first + 1} of {args.depth} "
            f"(mean {result.means[first]:.3g}, std {result.stds[first]:.3g}){last}: "
            f"nothing printed; use --depth {max(first, 1)} or less, or a smaller scheme"
        )
    if getattr(args, "theory", False):
        from weight_init.theory import predict

        widths = [args.width] * args.depth
        theory = predict(args.scheme, args.activation, widths, args.input_dim).stds
        for i, (mean, std) in enumerate(zip(result.means, result.stds, strict=True)):
            print(THEORY_LINE % (i + 1, mean, std, theory[i]))
        return 0
    for i, (mean, std) in enumerate(zip(result.means, result.stds, strict=True)):
        print(LINE % (i + 1, mean, std))
    return 0
