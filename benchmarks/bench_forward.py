"""forward_prop against the bare loop, and float32 against float64.

The bare loop is the physical floor with the same output: ``H = tanh(H @ W)`` over the same
precomputed weights, computing each layer's ``H.mean()`` and ``H.std()``. forward_prop is fed
the same weights in order by an init that replays them, so weight drawing is excluded from both
sides (bench_sampling.py measures it). Both must give the same statistics, bit for bit; this is
checked before anything is timed. A third candidate, the loop without statistics, shows what
the statistics cost.

float32: forward_prop(dtype=float32) over float32 copies of the weights against float64, for
speed; and, for agreement, the notes' three random experiments under both dtypes.

    python benchmarks/bench_forward.py [--repeats 7]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from harness import Row, fmt_ratio, fmt_seconds, interleaved, markdown_table, verdict
from weight_init.experiment import forward_prop
from weight_init.schemes import get_scheme

#: The goal for forward_prop / bare loop.
RATIO_GOAL = 1.10
#: Stated float32 tolerance below the edge of chaos (see agreement_rows).
FLOAT32_RTOL = 1e-6
#: (label, width, depth, samples): the notes' size and the wide one.
SIZES: tuple[tuple[str, int, int, int], ...] = (
    ("the notes' 10 x 500, 1000 samples", 500, 10, 1000),
    ("10 x 2048, 1000 samples", 2048, 10, 1000),
)


def replay(weights: Sequence[NDArray[Any]]) -> Callable[[int, int], NDArray[Any]]:
    """An init returning ``weights`` in order (drawing excluded from the timing)."""
    it: Iterator[NDArray[Any]] = iter(weights)
    return lambda fan_in, fan_out: next(it)


def bare_loop(
    x: NDArray[Any], weights: Sequence[NDArray[Any]], stats: bool = True, keep: bool = False
) -> tuple[list[float], list[float]]:
    """``H = tanh(H @ W)``, with each layer's mean and std; ``keep`` stores every ``H``
    in a dict as the notes' loop does (the price of keeping activations: fresh memory)."""
    h = x
    acts: dict[int, NDArray[Any]] = {}
    means: list[float] = []
    stds: list[float] = []
    for i, w in enumerate(weights):
        h = np.tanh(h @ w)
        if stats:
            means.append(float(h.mean()))
            stds.append(float(h.std()))
        if keep:
            acts[i] = h
    return means, stds


def setup(width: int, depth: int, samples: int, dtype: type = np.float64) -> tuple[Any, list[Any]]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((samples, 500)).astype(dtype)
    fans = [500] + [width] * depth
    xavier = get_scheme("xavier")
    ws = [xavier.sample(fans[i], fans[i + 1], rng).astype(dtype) for i in range(depth)]
    return x, ws


def ratio_rows(repeats: int, sizes: Sequence[tuple[str, int, int, int]] = SIZES) -> list[Row]:
    return [row for size in sizes for row in _ratio_rows_at(repeats, *size)]


def _ratio_rows_at(repeats: int, label: str, width: int, depth: int, samples: int) -> list[Row]:
    rows: list[Row] = []
    x, ws = setup(width, depth, samples)
    sizes_ = [width] * depth
    got = forward_prop(sizes_, replay(ws), x=x)
    want = bare_loop(x, ws)
    if (got.means, got.stds) != want:
        raise AssertionError(f"forward_prop's statistics differ from the bare loop's at {label}")
    t = interleaved(
        {
            "bare_keep": lambda: bare_loop(x, ws, keep=True),
            "fp": lambda: forward_prop(sizes_, replay(ws), x=x),
            "bare": lambda: bare_loop(x, ws),
            "fp_stats_only": lambda: forward_prop(sizes_, replay(ws), x=x, keep_activations=False),
            "floor": lambda: bare_loop(x, ws, stats=False),
        },
        repeats,
    )
    for name, base, what in (
        ("fp", "bare_keep", "forward_prop / bare loop, both keeping every layer (float64)"),
        ("fp_stats_only", "bare", "forward_prop(keep_activations=False) / bare loop"),
    ):
        r = t[name].ratio(t[base])
        rows.append(
            Row(
                what,
                label,
                f"{fmt_ratio(r)}; bare loop {fmt_seconds(t[base].min)}",
                f"<= {RATIO_GOAL:.2f}x",
                verdict(r[0], RATIO_GOAL, cpu=r[2]),
            )
        )
    r = t["bare"].ratio(t["floor"])
    rows.append(
        Row(
            "bare loop with stats / without (what mean and std cost)",
            label,
            fmt_ratio(r),
            "(information)",
        )
    )
    return rows


def float32_rows(repeats: int) -> list[Row]:
    rows = [row for size in SIZES for row in _speed32_at(repeats, *size)]
    return rows + agreement_rows()


def _speed32_at(repeats: int, label: str, width: int, depth: int, samples: int) -> list[Row]:
    rows: list[Row] = []
    x, ws = setup(width, depth, samples)
    x32, ws32 = x.astype(np.float32), [w.astype(np.float32) for w in ws]
    sizes_ = [width] * depth
    t = interleaved(
        {
            "f64": lambda: forward_prop(sizes_, replay(ws), x=x, keep_activations=False),
            "f32": lambda: forward_prop(
                sizes_, replay(ws32), x=x32, dtype=np.float32, keep_activations=False
            ),
        },
        repeats,
    )
    r = t["f32"].ratio(t["f64"])
    rows.append(
        Row(
            "forward_prop time, float32 / float64",
            label,
            f"{fmt_ratio(r)}; float64 {fmt_seconds(t['f64'].min)}",
            "(information)",
        )
    )
    return rows


def agreement_rows() -> list[Row]:
    """float32 vs float64 statistics of the notes' experiment, per regime.

    Deviation per layer: ``max(|std32 / std64 - 1|, |mean32 - mean64| / std64)``. Below the
    edge of chaos float32's rounding (unit roundoff 6e-8 per operation) adds up about
    linearly with depth: 10 layers stay below 1e-6. In the chaotic regime (``big_normal``,
    tanh's chi > 1) every layer multiplies a perturbation, so the trajectories of
    individual units part; the statistics then still agree within the std's own
    sampling error over N entries, 1/sqrt(2N) (1.0e-3 at N = 5e5).
    """
    rows: list[Row] = []
    n = 1000 * 500
    for regime, schemes, tol, tol_s in (
        (
            "ordered/critical",
            ("small_normal", "xavier", "he_normal", "orthogonal", "glorot_uniform"),
            FLOAT32_RTOL,
            f"<= {FLOAT32_RTOL:.0e}",
        ),
        ("chaotic", ("big_normal",), 1.0 / np.sqrt(2 * n), "<= 1/sqrt(2N) = 1.0e-03"),
    ):
        worst, where = 0.0, ""
        for scheme in schemes:
            for seed in range(3):
                kw: dict[str, Any] = {"seed": seed, "keep_activations": False}
                a = forward_prop([500] * 10, get_scheme(scheme), **kw)
                b = forward_prop([500] * 10, get_scheme(scheme), dtype=np.float32, **kw)
                for layer, (m64, s64, m32, s32) in enumerate(
                    zip(a.means, a.stds, b.means, b.stds, strict=True), start=1
                ):
                    dev = max(abs(s32 / s64 - 1.0), abs(m32 - m64) / s64)
                    if dev > worst:
                        worst, where = dev, f"{scheme}, seed {seed}, layer {layer}"
        rows.append(
            Row(
                f"float32 vs float64 stats, {regime}: worst max(rel. std diff, mean diff / std)",
                f"10 x 500, 1000 samples; {', '.join(schemes)}; seeds 0-2",
                f"{worst:.1e} (at {where})",
                tol_s,
                verdict(worst, tol),
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    print(markdown_table(ratio_rows(args.repeats) + float32_rows(args.repeats)))


if __name__ == "__main__":
    main()
