"""Running ``weight-init`` for the CLI tests: as a user runs it (the installed console script
in a subprocess: :func:`run`), or, where the subprocess is not what a test is about,
``weight_init.app._cli.main`` in this process (:func:`run_main`: the same exit code, stdout
and stderr, without an interpreter's start-up and imports per call). Isolation, exit codes of
the process, timeouts and signals stay subprocess tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

#: The console script installed beside this interpreter (``weight-init`` on PATH otherwise).
WEIGHT_INIT = shutil.which("weight-init", path=os.path.dirname(sys.executable)) or "weight-init"

#: A report that takes about a second (no phase diagram, no property suite, one scheme).
TINY_REPORT = [
    "--quiet",
    "--no-phase",
    "--no-suite",
    "--schemes",
    "xavier",
    "--depth",
    "2",
    "--width",
    "20",
    "--samples",
    "50",
    "--input-dim",
    "20",
]


def run(
    *argv: str, cwd: Path | str | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """``weight-init ARGV...`` to completion, text output captured."""
    return subprocess.run(
        [WEIGHT_INIT, *argv], capture_output=True, text=True, timeout=timeout, cwd=cwd
    )


def run_main(
    capsys: Any, *argv: str, cwd: Path | str | None = None
) -> subprocess.CompletedProcess[str]:
    """``weight_init.app._cli.main(ARGV)`` in this process, in ``cwd``, output captured by
    pytest's ``capsys``; shaped like :func:`run`'s result."""
    from weight_init.app._cli import main

    capsys.readouterr()
    before = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        code = main(list(argv))
    finally:
        os.chdir(before)
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(["weight-init", *argv], code, out, err)


def tiny_report(
    out: Path | str, *extra: str, cwd: Path | str | None = None
) -> subprocess.CompletedProcess[str]:
    """``weight-init report --out OUT`` on :data:`TINY_REPORT` plus ``extra``."""
    return run("report", "--out", str(out), *TINY_REPORT, *extra, cwd=cwd)


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a refused run (asserting there is one and no traceback)."""
    err = proc.stderr.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, proc.stderr
    return err
