"""Benchmark: the default ``weight-init report`` on 2 cores (goal: under a minute).

Runs the README's command in a fresh interpreter (``python -m weight_init.app.cli report
--out TMP``, i.e. everything: imports, experiments, phase diagram, property suite,
figures, files) ``--repeats`` times, pinned to at most 2 CPUs, and prints wall time
(min and median), the CPU time of the child (user + sys, which a machine busy with
other work inflates less than wall time), the load average before each run and the
per-step times of the last run from its progress lines. Asserts nothing.

    python benchmarks/bench_report.py [--repeats 3] [-- extra report flags]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_SECONDS = 60.0


def run_once(extra: list[str]) -> tuple[float, float, str]:
    """``(wall, cpu, stderr)`` of one report run into a fresh temporary directory."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "weight_init.app.cli", "report", "--out", f"{tmp}/r", *extra]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"report failed (exit {proc.returncode}): {proc.stderr.strip()}")
        n_png = len(list(Path(tmp, "r", "figures").glob("*.png")))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stderr + f"({n_png} figures)\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("extra", nargs="*", help="extra flags for weight-init report")
    args = parser.parse_args()
    cpus = sorted(os.sched_getaffinity(0))[:2] if hasattr(os, "sched_getaffinity") else []
    if cpus:
        os.sched_setaffinity(0, cpus)  # inherited by the child
    walls, cpus_used, loads = [], [], []
    stderr = ""
    for _ in range(args.repeats):
        loads.append(os.getloadavg()[0])
        wall, cpu, stderr = run_once(args.extra)
        walls.append(wall)
        cpus_used.append(cpu)
    print(f"weight-init report {' '.join(args.extra) or '(defaults)'}")
    print(f"  CPUs allowed        : {cpus or 'all'} (os.cpu_count() = {os.cpu_count()})")
    print(f"  load average before : {', '.join(f'{x:.1f}' for x in loads)}")
    print(
        f"  wall time (s)       : min {min(walls):.1f}, median {statistics.median(walls):.1f}"
        f"  runs {', '.join(f'{w:.1f}' for w in walls)}"
    )
    print(
        f"  CPU time (s)        : min {min(cpus_used):.1f}, median "
        f"{statistics.median(cpus_used):.1f}"
    )
    met = "met" if min(walls) < GOAL_SECONDS else "NOT met"
    print(f"  goal                : wall < {GOAL_SECONDS:.0f} s on 2 cores: {met}")
    print("  last run's steps (elapsed at the start of each):")
    for line in stderr.splitlines():
        m = re.match(r"weight-init report: (.*)", line)
        print(f"    {m.group(1) if m else line}")


if __name__ == "__main__":
    main()
