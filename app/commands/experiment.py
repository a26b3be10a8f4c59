"""``weight-init experiment``: the seed's experiment for one scheme, printed the seed's way."""

from __future__ import annotations

import argparse
from typing import Any

from weight_init.app.commands.argtypes import (
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
        help="run the seed's forward_prop experiment for one initializer scheme",
        description="Propagate a standard-normal input through DEPTH bias-free layers of WIDTH "
        "units initialised by SCHEME and print each layer's activation mean and std.",
    )
    p.add_argument(
        "--init",
        required=True,
        type=scheme_name,
        metavar="SCHEME",
        help="registered scheme name, e.g. xavier, small_normal, he_normal",
    )
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
    result = forward_prop(
        [args.width] * args.depth,
        get_scheme(args.init),
        activation=args.activation,
        n_samples=args.samples,
        input_dim=args.input_dim,
        seed=args.seed,
        dtype=args.dtype,
        keep_activations=False,
    )
    if getattr(args, "theory", False):
        from weight_init.theory import predict

        widths = [args.width] * args.depth
        theory = predict(args.init, args.activation, widths, args.input_dim).stds
        for i, (mean, std) in enumerate(zip(result.means, result.stds, strict=True)):
            print(THEORY_LINE % (i + 1, mean, std, theory[i]))
        return 0
    for i, (mean, std) in enumerate(zip(result.means, result.stds, strict=True)):
        print(LINE % (i + 1, mean, std))
    return 0
