"""The cost of ``propagate``: time as a ratio to one plain forward and backward pass.

Two ratios per model, each against a floor measured in the same run, interleaved
(:func:`harness.interleaved`):

* measured pass: one build's :func:`~weight_init.properties.propagation._measure.measure_build`
  (the fx interpreter, streamed statistics of every output and gradient, parameter norms) on
  an already built model, against the same model's plain ``sum(G * model(x)).backward()``
  on the same inputs and read-out ``G``;
* end to end: ``propagate(factory, builds=1)`` (building, tracing, measuring, the mean-field
  prediction and the diagnosis) against building the model plus the plain pass.

The goal is at most 3x for both. Torch runs on one thread (``torch.set_num_threads(1)``):
on a shared, loaded machine two threads of these small models mostly wait for each other.
Models (``tests/propagation_models.py``): the notes' MLP (1000 x 500 input, 10 tanh layers of
500), the plain CNN (64 x 3 x 32 x 32), the normalizer-free ResNet (64 x 3 x 16 x 16) and the
pre-LN transformer at width 32 (8 x 16 x 32 tokens: so small that the fixed cost per
operation, about a tenth of a millisecond of Python, dominates) and 256 (16 x 64 x 256).

With ``--markdown PATH`` it also writes, for the docs, the command, the machine, the diagnosis
of three example runs (the notes' MLP, the normalizer-free ResNet, the post-activation
BatchNorm ResNet; 8 builds, seed 0) and the table.

    python benchmarks/bench_propagate.py [--repeats 5] [--markdown docs/generated/propagation.md]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from harness import (
    Row,
    Timing,
    fmt_ratio,
    fmt_seconds,
    interleaved,
    machine,
    markdown_table,
    verdict,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

#: The goal for both ratios.
RATIO_GOAL = 3.0


def _cases() -> list[tuple[str, Callable[[], Any], tuple[int, ...]]]:
    import propagation_models as pm

    return [
        ("notes' MLP (10 x 500 tanh)", pm.notes_mlp, pm.NOTES_INPUT),
        ("plain CNN", pm.plain_cnn, (64, 3, 32, 32)),
        ("NF-ResNet (8 blocks)", pm.nf_resnet, (64, 3, 16, 16)),
        ("pre-LN transformer (6 blocks, d 32)", pm.pre_ln_transformer, pm.TRANSFORMER_INPUT),
        ("pre-LN transformer (6 blocks, d 256)", _wide_transformer, (16, 64, 256)),
    ]


def _wide_transformer() -> Any:
    from torch import nn

    import propagation_models as pm

    return nn.Sequential(*[pm.TransformerBlock(256, 8, pre=True) for _ in range(6)])


def _plain(model: Any, x: Any, g: Any) -> None:
    for p in model.parameters():
        p.grad = None
    (g * model(x)).sum().backward()


def _timings(
    factory: Callable[[], Any],
    shape: tuple[int, ...],
    repeats: int,
    propagate: Callable[..., Any],
    measure_build: Callable[..., Any],
) -> dict[str, Timing]:
    """The four candidates of one model, interleaved."""
    import torch

    torch.manual_seed(0)
    model = factory()
    x = torch.from_numpy(np.random.default_rng([0, 0, 0]).standard_normal(shape).astype(np.float32))
    with torch.no_grad():
        out_shape = tuple(model(x).shape)
    g = torch.from_numpy(
        np.random.default_rng([0, 0, 1]).standard_normal(out_shape) / out_shape[0]
    ).float()

    def built() -> None:
        torch.manual_seed(0)
        _plain(factory(), x, g)

    return interleaved(
        {
            "plain": lambda: _plain(model, x, g),
            "measure": lambda: measure_build(model, (x,), 0, 0),
            "built": built,
            "propagate": lambda: propagate(factory, input_shape=shape, builds=1),
        },
        repeats,
    )


def propagate_rows(repeats: int) -> list[Row]:
    """One pair of rows per model (module docstring)."""
    import torch

    from weight_init.properties.propagation import propagate
    from weight_init.properties.propagation._measure import measure_build

    torch.set_num_threads(1)
    rows: list[Row] = []
    for label, factory, shape in _cases():
        t = _timings(factory, shape, repeats, propagate, measure_build)
        size = "x".join(str(d) for d in shape)
        for what, num, den in (
            ("measured pass / forward+backward", "measure", "plain"),
            ("propagate(builds=1) / build+forward+backward", "propagate", "built"),
        ):
            r = t[num].ratio(t[den])
            rows.append(
                Row(
                    f"{what}: {label}",
                    f"input {size}, 1 thread",
                    f"{fmt_ratio(r)}; {fmt_seconds(t[num].min)} vs {fmt_seconds(t[den].min)}",
                    f"<= {RATIO_GOAL:g}x",
                    verdict(r[0], RATIO_GOAL, cpu=r[2]),
                )
            )
    return rows


#: The example runs: (label, factory name in tests/propagation_models.py, input shape).
EXAMPLES: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("the notes' MLP", "notes_mlp", (1000, 500)),
    ("normalizer-free ResNet", "nf_resnet", (16, 3, 8, 8)),
    ("post-activation BatchNorm ResNet", "bn_resnet", (16, 3, 8, 8)),
)


def example_runs() -> str:
    """The diagnosis of each :data:`EXAMPLES` run, as the command prints it."""
    import propagation_models as pm
    from weight_init.properties.propagation import propagate

    out = []
    for label, name, shape in EXAMPLES:
        r = propagate(getattr(pm, name), input_shape=shape, builds=8, seed=0)
        cmd = f"weight-init propagate propagation_models:{name} --input-shape "
        cmd += ",".join(str(d) for d in shape)
        out.append(f"{label} (`{cmd}`, run from `tests/`):\n\n```text")
        out += r.diagnosis.lines()
        out.append("```\n")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--markdown", type=Path, default=None, metavar="PATH")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    parts = [
        f"Run `python benchmarks/bench_propagate.py --repeats {args.repeats}`.\n",
        machine() + "\n",
    ]
    if args.markdown is not None:
        parts.append(example_runs())
    parts.append(markdown_table(propagate_rows(args.repeats)))
    text = "\n".join(parts)
    print(text)
    if args.markdown is not None:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(text + "\n")


if __name__ == "__main__":
    main()
