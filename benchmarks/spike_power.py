"""The top direction's stated power against simulation: the overlap's spread and the power.

The audit states, per parameter, the smallest rank-one spike (in BBP units) its ``top
direction`` test detects with power 0.99 (:func:`~weight_init.properties.conformance.
_checks.spike.spike_power`: the non-central ``F`` law of the split statistic, averaged over
the overlap of ``A``'s top direction with the spike's). This script measures the two things
that law rests on, with seeded simulations of normal matrices plus a spike ``theta u v'``
(``u``, ``v`` random signs):

1. ``--overlaps N``: the overlap's sampling sd at ``N`` draws per case, times
   ``sqrt(min(p, q))``, for ``p x q`` blocks of 32 x 32 to 128 x 512 at 1.3x to 3x the
   threshold; :data:`~weight_init.properties.conformance._checks.spike.OVERLAP_SD` must
   bound it;
2. ``--power N``: at the spike where the law states power 0.99 (level 1e-3), the fraction of
   ``N`` simulated tests that reject, for four (shape, builds) cases; the statement holds
   when the fraction is at least 0.99 within its binomial error.

    python benchmarks/spike_power.py --overlaps 300 --power 600
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np
from scipy import special

from weight_init.properties.conformance._checks.spike import (
    OVERLAP_SD,
    overlap,
    simulated_rejections,
    spike_resolution,
)

LEVEL = 1e-3
BLOCKS = ((32, 32), (64, 64), (32, 512), (64, 512), (64, 128), (128, 64))
CASES = (((128, 512), 2), ((128, 128), 2), ((64, 32), 10), ((128, 128), 10))


def overlaps(draws: int, rng: np.random.Generator) -> float:
    """Print the overlap's sd times ``sqrt(min(p, q))`` per block and spike; the largest."""
    print("| block | spike (x BBP) | mean overlap | its law | sd x sqrt(min(p, q)) |")
    print("| --- | --- | --- | --- | --- |")
    worst = 0.0
    for p, q in BLOCKS:
        for over in (1.3, 1.6, 2.0, 3.0):
            energy = over**2 * math.sqrt(2 * p * q) * p / (2 * p)
            got = np.empty(draws)
            for k in range(draws):
                u = rng.choice([-1.0, 1.0], p) / math.sqrt(p)
                v = rng.choice([-1.0, 1.0], q) / math.sqrt(q)
                a = rng.standard_normal((p, q)) + math.sqrt(energy) * np.outer(u, v)
                got[k] = (np.linalg.svd(a, full_matrices=False)[2][0] @ v) ** 2
            scaled = float(got.std()) * math.sqrt(min(p, q))
            worst = max(worst, scaled)
            law = overlap(p, q, energy, right=True)
            print(f"| {p} x {q} | {over} | {got.mean():.3f} | {law:.3f} | {scaled:.3f} |")
    print(f"largest: {worst:.3f} (OVERLAP_SD = {OVERLAP_SD})")
    return worst


def power(sims: int, rng: np.random.Generator) -> None:
    """Print the simulated power at the stated 0.99 spike of each case."""
    print("| block | builds | stated 0.99 at (x BBP) | simulated power | 95% lower bound |")
    print("| --- | --- | --- | --- | --- |")
    for shape, calls in CASES:
        over = spike_resolution(shape, calls, LEVEL, 0.99)
        hits = simulated_rejections(shape, over, calls, LEVEL, sims, rng)
        low = special.betaincinv(hits, sims - hits + 1, 0.05) if hits else 0.0
        n1, n2 = shape
        print(f"| {n1} x {n2} | {calls} | {over:.3f} | {hits / sims:.3f} | {low:.3f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--overlaps", type=int, default=300, help="draws per block and spike")
    parser.add_argument("--power", type=int, default=600, help="simulated tests per case")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    if args.overlaps:
        overlaps(args.overlaps, rng)
    if args.power:
        power(args.power, rng)
    return 0


if __name__ == "__main__":
    sys.exit(main())
