"""The zoo table of ``docs/zoo.md``: each zoo model audited as a user runs the command.

For every case of ``tests/audit_models_zoo.py`` (``ZOO``) it runs, from ``tests/``,

    weight-init audit audit_models_zoo:NAME --preset PRESET --builds B --seed 0 --alpha 1e-6 --json

and, with the case's deliberately wrong rule added, ``--builds 20``; it records the outcome,
the count of parameters per outcome, the aliases and quirks the audit named, which
parameters the wrong rule failed, and the wall and CPU time of each command (the command's own
start-up and ``import torch`` included, as a user waits for it; the CPU time is the command's
and its child processes', which a shared machine's load does not inflate as it does the wall
time). The table states the machine's cores and its one-minute load average, sampled before
the run and after each command. It writes the Markdown table to ``docs/generated/zoo.md``
(needs torch, torchvision, transformers and timm: ``tox -e zoo``'s environment).

    python benchmarks/zoo_table.py [--out docs/generated/zoo.md] [--only NAME ...]

(``--only``: measure those rows again and keep the file's other rows.)
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
sys.path.insert(0, str(TESTS))

from audit_models_zoo import ZOO, ZooCase  # noqa: E402

ALPHA = "1e-6"
WRONG_BUILDS = 20
OUTCOMES = ("pass", "inconclusive", "fail", "skipped", "unchecked")
#: The one-minute load average before the run and after each command.
LOADS: list[float] = []


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(case: ZooCase, builds: int, *rules: str) -> tuple[dict[str, Any], str, str]:
    exe = shutil.which("weight-init", path=os.path.dirname(sys.executable)) or "weight-init"
    cmd = [exe, "audit", f"audit_models_zoo:{case.name}", "--preset", case.preset]
    for rule in rules:
        cmd += ["--expect", rule]
    cmd += ["--builds", str(builds), "--seed", "0", "--alpha", ALPHA, "--json"]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    t0, cpu0 = time.perf_counter(), _children_cpu()
    out = subprocess.run(cmd, cwd=TESTS, env=env, capture_output=True, text=True, check=False)
    wall, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    LOADS.append(os.getloadavg()[0])
    if out.returncode not in (0, 1):
        raise SystemExit(f"{case.name}: exit {out.returncode}: {out.stderr.strip()}")
    shown = " ".join(c if " " not in c and "*" not in c else repr(c) for c in cmd[1:])
    return json.loads(out.stdout), f"{wall:.0f} s (CPU {cpu:.0f} s)", shown


def _quirks(report: dict[str, Any]) -> str:
    named: Counter[str] = Counter()
    for p in report["parameters"]:
        for q in p["quirks"]:
            named[q.split(":")[0] if q.startswith(("tied", "outliers")) else q] += 1
    return "; ".join(f"{q} ({n})" if n > 1 else q for q, n in sorted(named.items())) or "-"


def _endpoint(p: dict[str, Any]) -> bool:
    """A failure the ``trunc_normal_`` endpoint finding alone explains (as the zoo test)."""
    return (
        p["outcome"] == "fail"
        and str(p["expected"]).startswith("truncated_normal(")
        and (p["exact_failure"] or "").startswith("outliers:")
        and "(at -2;" in p["exact_failure"]
    )


def _row(case: ZooCase) -> str:
    report, wall, _ = _run(case, case.builds)
    wrong, wall_wrong, _ = _run(case, WRONG_BUILDS, case.wrong)
    counts = Counter(p["outcome"] for p in report["parameters"])
    cells = " / ".join(str(counts.get(o, 0)) for o in OUTCOMES)
    failed = {p["name"] for p in wrong["parameters"] if p["outcome"] == "fail"}
    atoms = {p["name"] for p in wrong["parameters"] if _endpoint(p)} - set(case.wrong_fails)
    exact = failed - atoms == set(case.wrong_fails)
    verdict = f"{len(failed - atoms)} failed, {'exactly the' if exact else 'NOT the'} rule's"
    if atoms:
        verdict += f" (and {len(atoms)} trunc_normal_ endpoint outlier{'s' * (len(atoms) > 1)})"
    aliases = len(report["aliases"])
    outcome = report["outcome"]
    fails = [p for p in report["parameters"] if p["outcome"] == "fail"]
    if fails and all(_endpoint(p) for p in fails):
        outcome += " (the trunc_normal_ endpoint only)"
    return (
        f"| `{case.name}` | {case.preset} | {case.builds} | {outcome} | {cells} | "
        f"{aliases} | {_quirks(report)} | {wall} | `{case.wrong}` | {verdict} | {wall_wrong} |"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "generated" / "zoo.md"))
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args(argv)
    cases = [c for c in ZOO if args.only is None or c.name in args.only]
    versions = ", ".join(
        f"{d} {importlib.metadata.version(d)}"
        for d in ("torch", "torchvision", "transformers", "timm")
    )
    LOADS.append(os.getloadavg()[0])
    out = Path(args.out)
    kept = {}
    if args.only is not None and out.exists():  # refresh the named rows, keep the others
        for line in out.read_text(encoding="utf-8").splitlines():
            if line.startswith("| `"):
                kept[line.split("`")[1]] = line
    rows = []
    for case in ZOO:
        if case in cases:
            rows.append(_row(case))
            print(rows[-1], flush=True)
        elif case.name in kept:
            rows.append(kept[case.name])
    load = (
        f"between {min(LOADS):.1f} and {max(LOADS):.1f} (mean {sum(LOADS) / len(LOADS):.1f}; "
        f"sampled before the run and after each of its {len(LOADS) - 1} commands)"
    )
    lines = [
        f"Measured with {versions}; seed 0, family-wise alpha {ALPHA} per parameter; "
        f"outcomes are pass / inconclusive / fail / skipped / unchecked parameters; the "
        f"wrong rule runs at {WRONG_BUILDS} builds; times are wall seconds of each command "
        "(start-up and imports included) and, in parentheses, the CPU seconds of the command "
        f"and its child processes, on a shared machine of {os.cpu_count()} cores whose "
        f"one-minute load average was {load}. Written by `python benchmarks/zoo_table.py`.",
        "",
        "| model | preset | builds | outcome | parameters | aliases | quirks named | time "
        "| wrong rule | its failures | time |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    out.write_text("\n".join([*lines, *rows]) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
