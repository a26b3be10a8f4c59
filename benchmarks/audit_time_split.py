"""Where one audit's time goes, step by step, against its floor (torch only, one process).

For a model of :mod:`audit_bench_models` and a build count ``N``, in this process (one torch
thread; run with ``OPENBLAS_NUM_THREADS=1``), after one untimed audit:

* **floor**: ``N`` builds in a plain loop (``torch.manual_seed(s); factory()``);
* **audit**: ``audit_torch(factory, builds=N)``, its steps timed by perf counters around
  each call (a step's time excludes the timed steps it calls): the builds (``torch_model``),
  the builds read whole (``ParamStats.add``, ``add_builds``: the random parameters' first
  builds and the constants' every build), the builds read for their comparison
  (``add_total``), the range reads (``add_unread``), the tests and verdicts
  (``param_audits``), and the rest;
* **audit, reads as no-ops**: the same audit with every read replaced by a no-op (its
  verdicts are meaningless; only its builds are timed): what the reading's footprint in the
  caches costs the builds that follow it.

With ``--weaker``, two audits whose checks are weaker than the audit's, timed whole (as is the
audit once more, for comparison), show what the time would be without them (their verdicts
are not the audit's):

* **no builds compared**: no build read for its comparison past the builds read whole (the
  checks between builds, of homogeneity and the cluster-robust mean see 2 builds, not 10);
* **no builds compared, the probe alone read whole**: that, and each zero-mean i.i.d.
  parameter that reaches its target in one build read whole in the probe only.

Each figure is the least over ``--repeats`` interleaved rounds. A fresh process's first audit
also pays one-time work (imports of the adapter, resolutions and power plans cached per
shape, the first calls of the reading): ``--first`` times it in a new process per round as
the first and the second audit of that process.

    OPENBLAS_NUM_THREADS=1 python benchmarks/audit_time_split.py [--model transformer]
        [--builds 20] [--repeats 7] [--first] [--weaker]
"""

from __future__ import annotations

import argparse
import collections
import functools
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

#: The timed steps: (label, module attribute path); the reads are methods of ParamStats.
STEPS = (
    ("builds", "_loop.torch_model"),
    ("read whole", "_stream.ParamStats.add"),
    ("read whole", "_stream.ParamStats.add_builds"),
    ("compared", "_stream.ParamStats.add_total"),
    ("range", "_stream.ParamStats.add_unread"),
    ("verdicts", "_loop.param_audits"),
)
READS = ("add", "add_builds", "add_total", "add_unread")


def _owner(path: str) -> tuple[Any, str]:
    from weight_init.properties.audit import _loop, _stream

    head, *rest = path.split(".")
    obj: Any = {"_loop": _loop, "_stream": _stream}[head]
    for part in rest[:-1]:
        obj = getattr(obj, part)
    return obj, rest[-1]


@contextmanager
def timed_steps(totals: collections.Counter[str]) -> Iterator[None]:
    """Wrap each of :data:`STEPS` to add its own time (less that of the timed steps inside
    it) to ``totals[label]``; restored on exit."""
    stack: list[float] = []  # the time of the timed calls inside the current one
    saved = []

    def wrap(label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            stack.append(0.0)
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent = time.perf_counter() - t0
                inner = stack.pop()
                totals[label] += spent - inner
                if stack:
                    stack[-1] += spent

        return timed

    for label, path in STEPS:
        owner, name = _owner(path)
        fn = getattr(owner, name)
        saved.append((owner, name, fn))
        setattr(owner, name, wrap(label, fn))
    try:
        yield
    finally:
        for owner, name, fn in reversed(saved):
            setattr(owner, name, fn)


@contextmanager
def reads_skipped() -> Iterator[None]:
    """Every read of :class:`ParamStats` a no-op (the builds alone)."""
    from weight_init.properties.audit._stream import ParamStats

    saved = {name: getattr(ParamStats, name) for name in READS}
    for name in READS:
        setattr(ParamStats, name, lambda self, *args, **kwargs: None)
    try:
        yield
    finally:
        for name, fn in saved.items():
            setattr(ParamStats, name, fn)


@contextmanager
def checks_weakened(probe_only: bool) -> Iterator[None]:
    """No build read for its comparison past those read whole (and, with ``probe_only``, the
    parameters that reach their target in one build read whole in it alone)."""
    from weight_init.properties.audit import _loop

    reads, least = _loop._reads, _loop.MIN_READS

    def whole_only(*args: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
        read, _ = reads(*args)
        return read, read

    _loop._reads = whole_only
    _loop.MIN_READS = 1 if probe_only else least
    try:
        yield
    finally:
        _loop._reads, _loop.MIN_READS = reads, least


WEAKER = {
    "no builds compared": False,
    "no builds compared, the probe alone read whole": True,
}


def split(model: str, builds: int, repeats: int, weaker: bool = False) -> dict[str, float]:
    """The least time (seconds) of each step over ``repeats`` interleaved rounds."""
    import numpy as np
    import torch

    import audit_bench_models as models
    from weight_init.properties.audit._loop import audit_torch

    torch.set_num_threads(1)
    factory = getattr(models, model)
    seeds = [int(s) for s in np.random.SeedSequence(0).generate_state(builds, np.uint32)]

    def audit() -> None:
        audit_torch(factory, builds=builds, workers=1, progress=False)

    audit()  # imports and caches
    best: dict[str, float] = {}

    def keep(name: str, value: float) -> None:
        best[name] = min(best.get(name, float("inf")), value)

    for _ in range(repeats):
        t0 = time.perf_counter()
        for s in seeds:
            torch.manual_seed(s)
            factory()
        keep("floor", time.perf_counter() - t0)
        totals: collections.Counter[str] = collections.Counter()
        with timed_steps(totals):
            t0 = time.perf_counter()
            audit()
            total = time.perf_counter() - t0
        keep("audit", total)
        for label in dict(STEPS):
            keep(label, totals[label])
        keep("rest", total - sum(totals.values()))
        skipped: collections.Counter[str] = collections.Counter()
        with timed_steps(skipped), reads_skipped():
            audit()
        keep("builds, reads as no-ops", skipped["builds"])
        if weaker:  # the audit as the weaker ones are timed: whole, no step timed
            t0 = time.perf_counter()
            audit()
            keep("audit, untimed steps", time.perf_counter() - t0)
        for name, probe_only in WEAKER.items() if weaker else ():
            with checks_weakened(probe_only):
                t0 = time.perf_counter()
                audit()
                keep(name, time.perf_counter() - t0)
    return best


def first_and_second(model: str, builds: int) -> tuple[float, float]:
    """A new process's first and second audit (seconds)."""
    code = (
        "import sys, time, json; sys.path.insert(0, sys.argv[1]); import torch; "
        "torch.set_num_threads(1); import audit_bench_models as M; "
        "from weight_init.properties.audit._loop import audit_torch; out = []\n"
        "for _ in range(2):\n"
        "    t = time.perf_counter(); audit_torch(getattr(M, sys.argv[2]), "
        "builds=int(sys.argv[3]), workers=1, progress=False); "
        "out.append(time.perf_counter() - t)\n"
        "print(json.dumps(out))"
    )
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, "-c", code, str(HERE), model, str(builds)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    first, second = json.loads(done.stdout)
    return first, second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="transformer")
    parser.add_argument("--builds", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--first", action="store_true", help="also time a new process's first audit"
    )
    parser.add_argument(
        "--weaker", action="store_true", help="also time two audits with weaker checks"
    )
    args = parser.parse_args()
    best = split(args.model, args.builds, args.repeats, args.weaker)
    floor = best["floor"]
    print(f"{args.model}, {args.builds} builds, least of {args.repeats} rounds (ms; x the floor)")
    print("| step | ms | x floor |")
    print("| --- | ---: | ---: |")
    order = ["floor", "audit", "builds", "builds, reads as no-ops", "read whole", "compared"]
    more = ("audit, untimed steps", *WEAKER) if args.weaker else ()
    for name in [*order, "range", "verdicts", "rest", *more]:
        print(f"| {name} | {best[name] * 1e3:.1f} | {best[name] / floor:.2f} |")
    if args.first:
        pairs = [first_and_second(args.model, args.builds) for _ in range(args.repeats)]
        firsts, seconds = sorted(p[0] for p in pairs), sorted(p[1] for p in pairs)
        print(
            f"new process, first audit {firsts[0] * 1e3:.1f} ms, second {seconds[0] * 1e3:.1f} "
            f"ms (least of {args.repeats})"
        )
    load = os.getloadavg()
    print(f"load {load[0]:.2f} (1 min), {load[1]:.2f} (5 min) on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
