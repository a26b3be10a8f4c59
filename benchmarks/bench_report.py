"""Benchmark: the default ``weight-init report`` on 2 cores (goal: <= 12 s wall).

Runs, interleaved in rounds (one untimed warm-up round), each in a fresh interpreter
pinned to at most 2 CPUs:

- the floor ``python -c "import numpy, scipy.special"`` (interpreter and numpy start-up),
- ``python -m weight_init.app._cli report --out TMP`` on its defaults (2 worker processes),
- the same with ``WEIGHT_INIT_JOBS=1`` (everything in one process, the same content),

and prints wall time (min, median) and CPU time (user + sys of the command and its
workers, which a machine busy with other work inflates less than wall time) for each,
the speed-up of the pool over one process, the wall time above the floor, and the goal
verdict. When the wall time misses but ``CPU / 2`` (the wall time of this CPU work on two
idle cores) meets it, the verdict says so. Asserts nothing.

    python benchmarks/bench_report.py [--repeats 3] [-- extra report flags]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

from harness import Row, commands, fmt_seconds, markdown_table, verdict

GOAL_SECONDS = 12.0


def _verdict(wall: float, cpu: float, load: float) -> str:
    """The goal on wall time; on a miss, whether ``cpu / 2`` (two idle cores) would meet it."""
    out = verdict(wall, GOAL_SECONDS)
    if wall > GOAL_SECONDS and cpu / 2 <= GOAL_SECONDS:
        out += f" at load {load:.1f}; CPU / 2 = {cpu / 2:.1f} s meets it (re-run quiet)"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("extra", nargs="*", help="extra flags for weight-init report")
    args = parser.parse_args()
    cpus = sorted(os.sched_getaffinity(0))[:2] if hasattr(os, "sched_getaffinity") else []
    if cpus:
        os.sched_setaffinity(0, cpus)  # inherited by the children
    load_before = os.getloadavg()[0]
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        report = [py, "-m", "weight_init.app._cli", "report", "--quiet", "--out", f"{tmp}/r"]
        report += args.extra
        t = commands(
            {
                "floor": [py, "-c", "import numpy, scipy.special"],
                "pool": report,
                "one": ["env", "WEIGHT_INIT_JOBS=1", *report],
            },
            args.repeats,
            warmup=0,
        )
    load_after = os.getloadavg()[0]
    pool, one, fl = t["pool"], t["one"], t["floor"]
    cpu_pool = min(pool.cpu)
    rows = [
        Row(
            "`weight-init report` (defaults), 2 workers",
            f"{args.repeats} runs",
            f"wall {fmt_seconds(pool.min)} (median {fmt_seconds(pool.median)}), "
            f"CPU {cpu_pool:.1f} s; {pool.min - fl.min:.1f} s above the floor",
            f"<= {GOAL_SECONDS:g} s wall",
            _verdict(pool.min, cpu_pool, max(load_before, load_after)),
        ),
        Row(
            "`WEIGHT_INIT_JOBS=1 weight-init report` (defaults), one process",
            f"{args.repeats} runs, same content",
            f"wall {fmt_seconds(one.min)} (median {fmt_seconds(one.median)}), "
            f"CPU {min(one.cpu):.1f} s; pool speed-up {one.min / pool.min:.2f}x wall",
            "(same-run baseline)",
        ),
        Row(
            "floor `python -c 'import numpy, scipy.special'`",
            f"{len(fl.runs)} runs",
            f"wall {fmt_seconds(fl.min)}, CPU {min(fl.cpu):.2f} s",
            "(floor)",
        ),
    ]
    print(
        f"weight-init report {' '.join(args.extra) or '(defaults)'}; CPUs {cpus or 'all'}; "
        f"load average {load_before:.1f} before, {load_after:.1f} after"
    )
    print(markdown_table(rows))


if __name__ == "__main__":
    main()
