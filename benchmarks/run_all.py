"""Run every benchmark; print one markdown table: every goal, met or by how much missed.

    python benchmarks/run_all.py                  # everything, about 10-15 minutes on 2 quiet cores
    python benchmarks/run_all.py --quick          # fewer repeats, the notes' size only
    tox -e bench                                  # the same, in its own environment
    python benchmarks/run_all.py --markdown docs/generated/benchmarks.md   # also for the docs
    python benchmarks/run_all.py --suite          # also time the default test run (minutes)
    python benchmarks/run_all.py --audit          # also the audit against its floor (minutes)

Timings are wall clock, min and median of interleaved repeats in one process (see
harness.py); ratios are quoted from both. The load average before and after is printed: a
machine busy with other work makes medians, and to a lesser degree minima, unreliable, so
``--wait-quiet S`` first waits up to S seconds for the 1-minute load to fall below 0.5.
Nothing here is part of the default test run.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import bench_audit
import bench_check
import bench_forward
import bench_memory
import bench_propagate
import bench_sampling
import bench_suite
from harness import Row, machine, markdown_table

#: The report engineer's benchmark of ``weight-init report`` (run after the table if present).
BENCH_REPORT = Path(__file__).with_name("bench_report.py")


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def wait_quiet(limit: float, threshold: float = 0.5) -> None:
    deadline = time.monotonic() + limit
    while os.getloadavg()[0] >= threshold and time.monotonic() < deadline:
        time.sleep(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats (default 7)")
    parser.add_argument("--quick", action="store_true", help="3 repeats, the notes' size only")
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="S")
    parser.add_argument(
        "--suite",
        action="store_true",
        help="also time the default test run (bench_suite.py; needs the test extras and torch)",
    )
    parser.add_argument(
        "--audit",
        action="store_true",
        help="also time weight-init audit against its floor (bench_audit.py; needs torch)",
    )
    parser.add_argument(
        "--markdown",
        type=Path,
        metavar="PATH",
        help="also write the output to PATH (the docs include docs/generated/benchmarks.md)",
    )
    args = parser.parse_args()
    repeats = 3 if args.quick else args.repeats
    wait_quiet(args.wait_quiet)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_before = _load()
    t0 = time.perf_counter()

    sizes = bench_forward.SIZES[:1] if args.quick else bench_forward.SIZES
    shapes = bench_sampling.SHAPES[:1] if args.quick else bench_sampling.SHAPES
    rows: list[Row] = []
    rows += bench_forward.ratio_rows(repeats, sizes)
    rows += bench_memory.memory_rows()
    rows += bench_forward.float32_rows(repeats) if not args.quick else []
    rows += bench_forward.agreement_rows() if args.quick else []
    rows += bench_sampling.sampling_rows(max(repeats, 9), shapes)
    rows += bench_check.check_rows(max(1, repeats // 2))
    rows += bench_check.kernel_rows(max(1, repeats // 2))
    rows += bench_check.command_rows(time_report=not BENCH_REPORT.exists())
    if importlib.util.find_spec("torch") is not None:
        rows += bench_propagate.propagate_rows(max(1, repeats // 2))
    rows += bench_suite.suite_rows() if args.suite else []
    rows += (
        bench_audit.audit_rows(bench_audit.MODELS, 20, 1 if args.quick else 2) if args.audit else []
    )

    out = [
        f"Run {started}: `python {' '.join(['benchmarks/run_all.py', *sys.argv[1:]])}`\n",
        machine(),
        f"Load average (1/5/15 min) before {load_before}, after {_load()}; "
        f"{time.perf_counter() - t0:.0f} s in all.\n",
        markdown_table(rows),
    ]
    print("\n".join(out), flush=True)
    if BENCH_REPORT.exists():
        timed = subprocess.run(
            [sys.executable, str(BENCH_REPORT)], check=False, capture_output=True, text=True
        )
        sys.stderr.write(timed.stderr)
        report = f"\nReport time, `python benchmarks/{BENCH_REPORT.name}`:\n\n```\n"
        report += timed.stdout.rstrip() + "\n```"
        print(report)
        out.append(report)
    if args.markdown is not None:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
