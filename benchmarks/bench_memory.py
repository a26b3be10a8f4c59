"""Peak memory of forward_prop by depth, one fresh subprocess per run.

Each child imports numpy and weight_init, starts ``tracemalloc`` (numpy reports its array
buffers to it), runs ``forward_prop([width] * depth, xavier, seed=0, keep_activations=...)``
with weights drawn lazily by the scheme, and prints the traced peak (what the run itself
allocated at its worst moment) and the process's peak RSS (``VmHWM``, which also counts
the interpreter and the loaded libraries). Statistics-only mode should not grow with depth:
goal, 100 layers <= 1.5x the peak of 10 layers. Keeping every activation grows linearly;
it is shown for contrast.

    python benchmarks/bench_memory.py [--width 500]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from harness import Row, markdown_table, verdict

GOAL = 1.5
CHILD = """
import json, resource, sys, tracemalloc
import numpy as np
from weight_init.experiment import forward_prop
from weight_init.schemes import get_scheme
width, depth, keep = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "keep"
tracemalloc.start()
forward_prop([width] * depth, get_scheme("xavier"), seed=0, keep_activations=keep)
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
# VmHWM belongs to this process image; ru_maxrss on Linux keeps the parent's across exec.
try:
    status = open("/proc/self/status").read().split("VmHWM:")[1]
    rss = int(status.split()[0]) * 1024
except (OSError, IndexError):
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"traced_peak": peak, "max_rss": rss}))
"""


def measure(width: int, depth: int, keep: bool) -> dict[str, int]:
    """Traced peak and max RSS (bytes) of one forward_prop run in a fresh interpreter."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(width), str(depth), "keep" if keep else "stats"],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, int] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def mib(b: float) -> str:
    return f"{b / 2**20:.1f} MiB"


def memory_rows(width: int = 500, depths: tuple[int, int] = (10, 100)) -> list[Row]:
    rows: list[Row] = []
    shallow, deep = depths
    size = f"width {width}, 1000 samples, depth {shallow} vs {deep}"
    for keep in (False, True):
        a, b = measure(width, shallow, keep), measure(width, deep, keep)
        ratio = b["traced_peak"] / a["traced_peak"]
        rss_ratio = b["max_rss"] / a["max_rss"]
        result = (
            f"traced peak {mib(a['traced_peak'])} -> {mib(b['traced_peak'])} ({ratio:.2f}x); "
            f"max RSS {mib(a['max_rss'])} -> {mib(b['max_rss'])} ({rss_ratio:.2f}x)"
        )
        if keep:
            rows.append(Row("peak memory, keeping activations (contrast)", size, result, "-", ""))
        else:
            rows.append(
                Row(
                    "peak memory, statistics only (keep_activations=False)",
                    size,
                    result,
                    f"traced peak <= {GOAL}x",
                    verdict(ratio, GOAL),
                )
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=500)
    args = parser.parse_args()
    print(markdown_table(memory_rows(args.width)))


if __name__ == "__main__":
    main()
