"""Time of one conformance check per registered scheme, and of the commands users run.

In process: ``check_initializer(scheme, name)`` (the reference scheme checked against itself,
at the default alpha and power 0.99, so every statistical test draws the entries its power
plan asks for; an ``inconclusive`` outcome would mean it did not). Goal: a few seconds on
2 cores, stated as <= 5 s. As commands (fresh interpreter, imports included):
``weight-init check`` of the reference ``xavier`` and of ``torch:xavier_normal_`` (when
torch is installed), and ``weight-init report`` on its defaults, timed once each.

    python benchmarks/bench_check.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import Row, fmt_seconds, interleaved, markdown_table, verdict
from weight_init.properties.conformance import check_initializer
from weight_init.schemes import SCHEMES

GOAL_SECONDS = 5.0


def check_rows(repeats: int) -> list[Row]:
    rows: list[Row] = []
    for name, scheme in SCHEMES.items():
        try:
            verdict_ = check_initializer(scheme, name)
        except Exception as exc:  # a broken check is reported, not hidden
            rows.append(Row(f"check_initializer `{name}`", "default plan", f"error: {exc}", ""))
            continue
        t = interleaved({"check": lambda s=scheme, n=name: check_initializer(s, n)}, repeats, 0)
        meta = verdict_.metadata
        rows.append(
            Row(
                f"check_initializer `{name}`",
                f"{meta['n_entries']} entries, {meta['n_calls']} calls",
                f"{fmt_seconds(t['check'].min)} (median {fmt_seconds(t['check'].median)}); "
                f"outcome {verdict_.outcome}",
                f"<= {GOAL_SECONDS:g} s",
                verdict(t["check"].min, GOAL_SECONDS),
            )
        )
    return rows


def _timed(cmd: list[str], cwd: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    return time.perf_counter() - t0, proc.returncode


def command_rows(time_report: bool = True) -> list[Row]:
    exe = shutil.which("weight-init")
    if exe is None:
        return [Row("`weight-init` commands", "", "not installed (pip install -e .)", "")]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "bench_init.py").write_text(
            "from weight_init.schemes import get_scheme\nxavier = get_scheme('xavier')\n"
        )
        specs = [("bench_init:xavier", "xavier")]
        if importlib.util.find_spec("torch") is not None:
            specs.append(("torch:xavier_normal_", "glorot_normal"))
        for spec, scheme in specs:
            cmd = [exe, "check", spec, "--scheme", scheme]
            secs, rc = _timed(cmd, tmp)
            rows.append(
                Row(
                    f"`weight-init check {spec} --scheme {scheme}`",
                    "fresh interpreter",
                    f"{fmt_seconds(secs)} (exit {rc})",
                    f"<= {GOAL_SECONDS:g} s",
                    verdict(secs, GOAL_SECONDS, "interpreter and library imports included"),
                )
            )
        secs, rc = _timed([sys.executable, "-c", "import scipy.stats"], tmp)
        rows.append(
            Row(
                "`python -c 'import scipy.stats'` (the commands' import floor)",
                "fresh interpreter",
                f"{fmt_seconds(secs)} (exit {rc})",
                "(information)",
            )
        )
        if time_report:
            secs, rc = _timed([exe, "report", "--out", str(Path(tmp, "report")), "--quiet"], tmp)
            rows.append(
                Row(
                    "`weight-init report` (defaults), one run",
                    "7 schemes, 10 x 500, phase diagram, property verdicts",
                    f"{fmt_seconds(secs)} (exit {rc})",
                    "(information)",
                )
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(markdown_table(check_rows(args.repeats) + command_rows()))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
