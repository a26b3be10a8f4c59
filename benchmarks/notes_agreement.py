"""Measure how far forward_prop's per-layer stds stray from the notes' printed figures.

For legacy seeds 0..N-1, run the notes' three experiments exactly as the notes do
(``np.random.seed(s)`` then ``forward_prop([500] * 10, init)``) and print the worst
relative deviation from the notes' printed std per experiment (layers the notes
print at >= 1e-4 for small init), beside the acceptance tolerance.

    python benchmarks/notes_agreement.py --seeds 100
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from weight_init.experiment import forward_prop

FIGURES = json.loads(
    (Path(__file__).parent.parent / "tests" / "notes" / "notes_figures.json").read_text()
)
INITS = {
    "small_random": lambda fi, fo: 0.01 * np.random.randn(fi, fo),  # noqa: NPY002
    "big_random": lambda fi, fo: np.random.randn(fi, fo),  # noqa: NPY002
    "xavier": lambda fi, fo: np.random.randn(fi, fo) / np.sqrt(fi),  # noqa: NPY002
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    args = parser.parse_args()
    print("| experiment | worst relative deviation | at seed, layer | tolerance |")
    print("| --- | --- | --- | --- |")
    for name, init in INITS.items():
        want = np.array(FIGURES[name]["stds"])
        tol = FIGURES["_tolerance"][name]
        keep = want >= tol["min_std"]
        worst, where = 0.0, (0, 0)
        for seed in range(args.seeds):
            np.random.seed(seed)  # noqa: NPY002
            stds = np.array(forward_prop([500] * 10, init, keep_activations=False).stds)
            dev = np.abs(stds[keep] / want[keep] - 1.0)
            if dev.max() > worst:
                worst, where = float(dev.max()), (seed, int(np.argmax(dev)) + 1)
        print(f"| {name} | {worst:.2%} | {where} | {tol['rtol']:.0%} |")


if __name__ == "__main__":
    main()
