"""Shared pieces of the benchmarks: interleaved timing, the machine description, the table.

Timing: the candidates of one comparison run in rounds, each round calling every candidate
once in turn (after one untimed warm-up round), so a burst of load from elsewhere hits all
of them alike; a ratio is quoted from the minima (the least disturbed runs) and from the
medians. Nothing here asserts a time: the table states goals and says whether they are met.
"""

from __future__ import annotations

import ctypes
import glob
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds of repeated runs of one candidate, and their process CPU seconds."""

    runs: tuple[float, ...]
    cpu: tuple[float, ...] = ()

    @property
    def min(self) -> float:
        return min(self.runs)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    def ratio(self, base: Timing) -> tuple[float, float, float]:
        """``(min / base.min, median / base.median, min CPU / base's min CPU)``.

        CPU time (all threads of this process) does not count time spent waiting for a
        core another process holds, so on a loaded machine it corroborates a wall ratio.
        """
        cpu = min(self.cpu) / min(base.cpu) if self.cpu and base.cpu and min(base.cpu) else 0.0
        return self.min / base.min, self.median / base.median, cpu


def interleaved(
    candidates: Mapping[str, Callable[[], object]], repeats: int, warmup: int = 1
) -> dict[str, Timing]:
    """Time each candidate ``repeats`` times, round-robin, after ``warmup`` untimed rounds."""
    runs: dict[str, list[float]] = {name: [] for name in candidates}
    cpus: dict[str, list[float]] = {name: [] for name in candidates}
    for r in range(warmup + repeats):
        for name, fn in candidates.items():
            c0 = time.process_time()
            t0 = time.perf_counter()
            fn()
            dt = time.perf_counter() - t0
            dc = time.process_time() - c0
            if r >= warmup:
                runs[name].append(dt)
                cpus[name].append(dc)
    return {name: Timing(tuple(runs[name]), tuple(cpus[name])) for name in candidates}


def fmt_seconds(s: float) -> str:
    if s >= 1.0:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.1f} ms"
    return f"{s * 1e6:.0f} us"


def fmt_ratio(r: tuple[float, float, float]) -> str:
    """Wall min ratio, then the median and CPU-time ratios in parentheses."""
    return f"{r[0]:.3f}x (median {r[1]:.3f}x, CPU {r[2]:.3f}x)"


@dataclass(frozen=True)
class Row:
    """One line of the table: what was measured, at what size, the figure, the goal, met?"""

    measurement: str
    size: str
    result: str
    goal: str = ""
    verdict: str = ""


def verdict(value: float, goal: float, why: str = "", cpu: float | None = None) -> str:
    """``met`` or ``missed by X%`` (with the reason) for a figure whose goal is ``<= goal``.

    The verdict is on ``value`` (a wall-clock ratio of minima); when it misses but the
    CPU-time ratio ``cpu`` meets the goal, the miss is flagged as likely load from elsewhere.
    """
    if value <= goal:
        return "met"
    miss = f"missed by {value / goal - 1:.1%}"
    if cpu is not None and 0.0 < cpu <= goal:
        miss += f" (CPU-time ratio {cpu:.3f}x meets it: likely other load; re-run quiet)"
    return f"{miss}: {why}" if why else miss


def markdown_table(rows: list[Row]) -> str:
    lines = [
        "| measurement | size | result | goal | met? |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [f"| {r.measurement} | {r.size} | {r.result} | {r.goal} | {r.verdict} |" for r in rows]
    return "\n".join(lines)


def _openblas() -> str | None:
    """Kernel and threads of numpy's bundled scipy-openblas (as picked at load time), if any."""
    libdir = Path(np.__file__).parent.parent / "numpy.libs"
    for path in glob.glob(str(libdir / "libscipy_openblas*.so*")):
        lib = ctypes.CDLL(path)
        for suffix in ("64_", ""):
            core = getattr(lib, f"scipy_openblas_get_corename{suffix}", None)
            threads = getattr(lib, f"scipy_openblas_get_num_threads{suffix}", None)
            if core is not None and threads is not None:
                core.restype = ctypes.c_char_p
                return f"kernel {core().decode()}, {threads()} threads"
    return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _blas() -> str:
    try:
        cfg = np.show_config(mode="dicts")  # type: ignore[no-untyped-call]
        blas = cfg["Build Dependencies"]["blas"]
        name = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # older numpy: no dict mode
        name = "unknown"
    core = _openblas()
    return f"{name} ({core})" if core else name


def machine() -> str:
    """One markdown paragraph: cores, CPU, Python, numpy, BLAS and its kernel, OPENBLAS_* env."""
    env = {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS_", "OMP_", "MKL_"))}
    env_s = ", ".join(f"{k}={v}" for k, v in sorted(env.items())) or "none set"
    return (
        f"Machine: {len(os.sched_getaffinity(0))} cores (nproc), CPU `{_cpu_model()}`, "
        f"Python {platform.python_version()}, numpy {np.__version__}, BLAS {_blas()}; "
        f"OPENBLAS_/OMP_/MKL_ environment: {env_s}."
    )


def load() -> str:
    """The machine's load averages and cores, for a table measured on shared cores."""
    one, five, _ = os.getloadavg()
    return f"load {one:.2f} (1 min), {five:.2f} (5 min) on {len(os.sched_getaffinity(0))} cores"


def commit() -> str:
    """`` (at commit X)`` of the checkout the benchmarks run from ("" outside git)."""
    import subprocess

    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parent,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""
    return f" (at commit {out})" if out else ""


def publish(
    script: str, started: str, rows: list[Row], notes: list[str], markdown: Path | None
) -> None:
    """Print a benchmark's table headed by its command line, commit and machine and followed
    by ``notes`` (its load lines), and write the same text to ``markdown`` when given."""
    text = "\n".join(
        [
            f"Run {started}: `python {' '.join([script, *sys.argv[1:]])}`" + commit(),
            "",
            machine(),
            "",
            markdown_table(rows),
            "",
            *notes,
        ]
    )
    print(text)
    if markdown is not None:
        markdown.write_text(text + "\n")


def commands(
    cmds: Mapping[str, list[str]],
    repeats: int,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    warmup: int = 1,
) -> dict[str, Timing]:
    """Wall and CPU seconds (user + sys of the child and its children) of each command in a
    fresh process, ``repeats`` times round-robin after ``warmup`` untimed rounds."""
    import resource
    import subprocess

    runs: dict[str, list[float]] = {name: [] for name in cmds}
    cpus: dict[str, list[float]] = {name: [] for name in cmds}
    full_env = {**os.environ, **(env or {})}
    for r in range(warmup + repeats):
        for name, cmd in cmds.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, check=False)
            dt = time.perf_counter() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if proc.returncode not in (0, 1):
                err = proc.stderr.decode(errors="replace").strip()[-300:]
                raise RuntimeError(f"{name}: exit {proc.returncode}: {err}")
            dc = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            if r >= warmup:
                runs[name].append(dt)
                cpus[name].append(dc)
    return {name: Timing(tuple(runs[name]), tuple(cpus[name])) for name in cmds}
