"""Wall time of the default test run: what a developer waits for after ``tox``'s ``py`` env.

The command is the ``py`` env's own (``pytest -n auto --dist worksteal``, here ``-n 2`` on
the 2-core goal machine), run from the repository root with the environment tox sets
(``OPENBLAS_NUM_THREADS=1``, ``MPLBACKEND=Agg``) and without ``CI``, so it is the default
selection (``slow`` deselected, see tests/conftest.py). Goal: at most 3 minutes
wall on 2 idle cores. The figure excludes tox's environment setup (installing the wheel and
its dependencies: about 40 s on a first run, seconds afterwards).

    python benchmarks/bench_suite.py [--repeats 1] [--markdown docs/generated/bench_suite.md]

With ``--repeats N`` the run is repeated and each run is a row (the machine's load is
printed before and after: a row measured while other jobs ran says so).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

from harness import Row, load, publish, verdict

ROOT = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 180.0


def suite_rows(workers: int = 2) -> list[Row]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg")
    cmd = [sys.executable, "-m", "pytest", "-q", "-n", str(workers), "--dist", "worksteal"]
    cmd += ["-p", "no:cacheprovider"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr.strip()
    counts = re.sub(r"=+|\bin [0-9.]+s.*$", "", tail).strip()
    result = f"{wall:.0f} s wall, {cpu:.0f} s CPU; {counts}"
    if proc.returncode != 0:
        return [Row("default test run", f"{workers} workers", f"{result} (exit {proc.returncode})")]
    return [
        Row(
            f"default test run (`pytest -n {workers} --dist worksteal`, tox's `py` command, "
            "CI unset)",
            f"{workers} workers, slow deselected",
            result,
            f"<= {GOAL_SECONDS:.0f} s",
            verdict(wall / GOAL_SECONDS, 1.0, "docs/benchmarks.md, The default test run"),
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--markdown", type=Path, metavar="PATH", help="also write the output to PATH"
    )
    args = parser.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = []
    rows: list[Row] = []
    for _ in range(args.repeats):
        before = load()
        rows += suite_rows()
        lines.append(f"Run {len(lines) + 1}: {before} before, {load()} after.")
    publish("benchmarks/bench_suite.py", started, rows, lines, args.markdown)


if __name__ == "__main__":
    main()
