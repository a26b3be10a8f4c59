"""Weight drawing per scheme against numpy's own Generator call of the same size.

Baselines (same Generator type, same shape, float64): ``rng.standard_normal`` for normal
schemes and for truncated normals (whose floor is 1 / (1 - 0.0455) = 1.048x: rejection
redraws the 4.55% of draws beyond 2 sigma, and the mask costs extra passes),
``rng.uniform`` for uniform ones, ``np.full`` for constants, and for ``orthogonal``
numpy's own ``np.linalg.qr`` of a ``standard_normal`` matrix (the sign(diag R) correction
is the only extra work). Goal: within 1.10x of the baseline (truncated normal: 1.25x).

    python benchmarks/bench_sampling.py [--repeats 9]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import numpy as np

from harness import Row, fmt_ratio, fmt_seconds, interleaved, markdown_table, verdict
from weight_init.schemes import SCHEMES, Scheme

GOAL = 1.10
GOAL_TRUNCATED = 1.25
SHAPES: tuple[tuple[int, int], ...] = ((500, 500), (2048, 2048))
#: Largest side for orthogonal (its QR grows as n^3).
ORTHOGONAL_MAX = 1024


def baseline(scheme: Scheme, shape: tuple[int, int], rng: np.random.Generator) -> Callable[[], Any]:
    """numpy's own call of the same size for this scheme's family."""
    if scheme.family == "constant":
        return lambda: np.full(shape, scheme.value)
    if scheme.family == "uniform":
        return lambda: rng.uniform(-1.0, 1.0, shape)
    if scheme.family == "orthogonal":
        big, small = max(shape), min(shape)
        return lambda: np.linalg.qr(rng.standard_normal((big, small)))
    return lambda: rng.standard_normal(shape)


def _baseline_name(scheme: Scheme) -> str:
    return {
        "constant": "np.full",
        "uniform": "rng.uniform",
        "orthogonal": "np.linalg.qr(rng.standard_normal)",
    }.get(scheme.family, "rng.standard_normal")


def sampling_rows(repeats: int, shapes: tuple[tuple[int, int], ...] = SHAPES) -> list[Row]:
    rows: list[Row] = []
    for shape in shapes:
        for name, scheme in SCHEMES.items():
            rows.append(_row(repeats, name, scheme, shape))
    return rows


def _row(repeats: int, name: str, scheme: Scheme, shape: tuple[int, int]) -> Row:
    rng = np.random.default_rng(0)
    if scheme.family == "orthogonal":  # O(n^3) QR: 2048 would take minutes for no new fact
        shape = (min(shape[0], ORTHOGONAL_MAX), min(shape[1], ORTHOGONAL_MAX))
    fi, fo = shape
    reps = max(3, repeats // 3) if scheme.family == "orthogonal" and fi > 500 else repeats
    t = interleaved(
        {"scheme": lambda: scheme.sample(fi, fo, rng), "numpy": baseline(scheme, shape, rng)},
        reps,
    )
    r = t["scheme"].ratio(t["numpy"])
    goal = GOAL_TRUNCATED if scheme.family == "truncated_normal" else GOAL
    why = ""
    if scheme.family == "truncated_normal":
        why = "rejection: 4.8% redraws plus the |z| > 2 mask passes"
    return Row(
        f"draw `{name}` / `{_baseline_name(scheme)}`",
        f"{fi} x {fo}",
        f"{fmt_ratio(r)}; {fmt_seconds(t['scheme'].min)}",
        f"<= {goal:.2f}x",
        verdict(r[0], goal, why, cpu=r[2]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--truncated-only", action="store_true")
    args = parser.parse_args()
    rows = sampling_rows(args.repeats)
    if args.truncated_only:
        rows = [r for r in rows if "truncated" in r.measurement]
    print(markdown_table(rows))


if __name__ == "__main__":
    main()
