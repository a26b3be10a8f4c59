"""Code under test cannot fake a pass or hang a check.

Each misbehaviour -- ``SystemExit(0)`` in the callable or at the import of its module,
``os._exit(0)``, a signal, a segfault, printing ``PASS``, a hang -- is run through the
installed ``weight-init`` command as a user runs it (a subprocess; exit code and output), for
``check``, ``check-forward``, ``identify``, ``audit`` and ``report --check``, and through the pytest
plugin's ``--weight-init-check`` items. None may exit 0 or PASS. The commands are started
together and awaited together, so the cases cost about one child's start-up.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from _levels import PASS_ALPHA
from cli_helpers import TINY_REPORT, WEIGHT_INIT

pytest_plugins = ["pytester"]


MISBEHAVING = """
import ctypes, os, signal, sys, time
import numpy as np


def good(fan_in, fan_out, rng):
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)


def sys_exit(fan_in, fan_out):
    raise SystemExit(0)


def os_exit(fan_in, fan_out):
    os._exit(0)


def killed(fan_in, fan_out):
    os.kill(os.getpid(), signal.SIGKILL)


def segfault(fan_in, fan_out):
    ctypes.string_at(0)


def prints_pass(fan_in, fan_out):
    print("PASS")
    sys.stdout.flush()
    return np.zeros((fan_in, fan_out))


def hangs(fan_in, fan_out):
    while True:
        time.sleep(1)


def bar_then_hangs(fan_in, fan_out):
    from tqdm import tqdm
    tqdm(total=1, file=sys.stderr)
    while True:
        time.sleep(1)


def factory_os_exits():
    os._exit(0)


def forward_exits(hidden_layer_sizes, init):
    raise SystemExit(0)


def forward_hangs(hidden_layer_sizes, init):
    while True:
        time.sleep(1)
"""

#: (argv after ``weight-init``, expected exit code, fragment of the one stderr line).
CASES: dict[str, tuple[list[str], int, str]] = {
    "SystemExit(0) in the callable": (
        ["check", "misbehaving:sys_exit", "--scheme", "he_normal"],
        2,
        "misbehaving:sys_exit exited (raised SystemExit(0))",
    ),
    "SystemExit(0) at import": (
        ["check", "exits_on_import:f", "--scheme", "he_normal"],
        2,
        "exited (raised SystemExit(0))",
    ),
    "os._exit(0)": (
        ["check", "misbehaving:os_exit", "--scheme", "he_normal"],
        2,
        "misbehaving:os_exit exited (exit code 0) before the check returned",
    ),
    "SIGKILL": (
        ["check", "misbehaving:killed", "--scheme", "he_normal"],
        2,
        "crashed: the check's process was killed by SIGKILL",
    ),
    "segfault": (
        ["check", "misbehaving:segfault", "--scheme", "he_normal"],
        2,
        "crashed: the check's process was killed by SIGSEGV",
    ),
    "hang": (
        ["check", "misbehaving:hangs", "--scheme", "he_normal", "--timeout", "4"],
        2,
        "misbehaving:hangs timed out: no result after 4 s (--timeout)",
    ),
    "identify, os._exit(0)": (
        ["identify", "misbehaving:os_exit"],
        2,
        "exited (exit code 0)",
    ),
    "check-forward, SystemExit(0)": (
        ["check-forward", "misbehaving:forward_exits"],
        2,
        "the forward_prop misbehaving:forward_exits exited (raised SystemExit(0))",
    ),
    "check-forward, hang": (
        ["check-forward", "misbehaving:forward_hangs", "--timeout", "4"],
        2,
        "timed out",
    ),
    "audit, os._exit(0) in the model factory": (
        ["audit", "misbehaving:factory_os_exits"],
        2,
        "the model factory misbehaving:factory_os_exits exited (exit code 0)",
    ),
    "report --check, segfault": (
        [
            "report",
            "--out",
            "report-dir",
            *TINY_REPORT,
            "--check",
            "misbehaving:segfault=he_normal",
        ],
        2,
        "killed by SIGSEGV",
    ),
}


def _start(argv: list[str], cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.Popen(
        [WEIGHT_INIT, *argv],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    (tmp_path / "misbehaving.py").write_text(MISBEHAVING)
    (tmp_path / "exits_on_import.py").write_text("raise SystemExit(0)\n\ndef f(a, b): pass\n")
    return tmp_path


def test_misbehaving_code_never_exits_0(user_dir: Path) -> None:
    started = time.monotonic()
    procs = {name: _start(argv, user_dir) for name, (argv, _, _) in CASES.items()}
    problems = []
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=600)
        _, code, fragment = CASES[name]
        lines = err.strip().splitlines()
        if proc.returncode != code or not lines or fragment not in lines[-1]:
            problems.append(f"{name}: exit {proc.returncode}, stderr {err!r}")
        if "Traceback" in out + err or out.strip():
            problems.append(f"{name}: output {out!r} {err!r}")
    assert not problems, "\n".join(problems)
    assert not (user_dir / "report-dir").exists(), "report written despite an aborted check"
    assert time.monotonic() - started < 300


def test_printing_pass_cannot_fake_a_pass(user_dir: Path) -> None:
    """What the initializer prints goes to stderr; the verdict (all zeros: FAIL) decides."""
    proc = subprocess.run(
        [WEIGHT_INIT, "check", "misbehaving:prints_pass", "--scheme", "he_normal", "--json"],
        cwd=user_dir,
        env={**os.environ, "PYTHONPATH": str(user_dir)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    import json

    assert json.loads(proc.stdout)["outcome"] == "fail"  # stdout is only our JSON
    assert "PASS" in proc.stderr


def test_pytest_plugin_items_fail_on_misbehaving_code(pytester: pytest.Pytester) -> None:
    """The items share the commands' isolation (a hang is the same timeout, tested above)."""
    pytester.makepyfile(misbehaving=MISBEHAVING)
    pytester.syspathinsert()
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--weight-init-alpha",  # the good item's pass is asserted: tests/_levels.py
        repr(PASS_ALPHA),
        "--weight-init-check",
        "misbehaving:good=he_normal",
        "--weight-init-check",
        "misbehaving:os_exit=he_normal",
        "--weight-init-check",
        "misbehaving:sys_exit=he_normal",
    )
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines_random(
        [
            "*misbehaving:os_exit exited (exit code 0)*",
            "*misbehaving:sys_exit exited (raised SystemExit(0))*",
        ]
    )


def test_a_child_has_the_parents_environment_and_standard_error_of_the_moment(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """This process has numpy, so on Linux its children are forked from a forkserver started
    at its first child (here, before the capture): each still gets the environment and the
    standard error the parent has when it starts (what the code under test prints reaches
    the capture that is active then), as a spawned child does."""
    from weight_init.app._isolation import run_isolated

    with capfd.disabled():
        run_isolated("os:getpid", "the first child")
    monkeypatch.setenv("WEIGHT_INIT_ISOLATION_PROBE", "seen")
    assert run_isolated("os:getenv", "a child", key="WEIGHT_INIT_ISOLATION_PROBE") == "seen"
    run_isolated("builtins:print", "a child", end="printed by the child\n")
    assert "printed by the child" in capfd.readouterr().err


def _run_script(user_dir: Path, name: str, source: str) -> subprocess.CompletedProcess[str]:
    """Run ``source`` as the script ``name`` in ``user_dir`` (importable from there)."""
    (user_dir / name).write_text(source)
    return subprocess.run(
        [sys.executable, name],
        cwd=user_dir,
        env={**os.environ, "PYTHONPATH": str(user_dir)},
        capture_output=True,
        text=True,
        timeout=600,
    )


#: A caller that has imported numpy (its children come from a forkserver) checking code that
#: draws a progress bar and hangs.
KILLED_AT_TIMEOUT = """
import numpy
from weight_init.app._cli import main

if __name__ == "__main__":
    argv = ["check", "misbehaving:bar_then_hangs", "--scheme", "he_normal", "--timeout", "1"]
    raise SystemExit(main(argv))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forkserver children: Linux")
def test_a_child_killed_at_its_timeout_leaves_no_leaked_semaphore(user_dir: Path) -> None:
    """tqdm's default lock is a multiprocessing one: in a forkserver's child, a named
    semaphore registered with the caller's resource tracker, which a child killed at its
    timeout never unregisters; the tracker then warned of a leaked semaphore when the caller
    exited. A forkserver's child locks bars with a thread lock."""
    proc = _run_script(user_dir, "caller.py", KILLED_AT_TIMEOUT)
    assert proc.returncode == 2, proc.stderr
    assert "no result after 1 s" in proc.stderr or "no progress for 1 s" in proc.stderr
    assert "leaked" not in proc.stderr, proc.stderr


#: A caller that has imported numpy (its children come from a forkserver) running one child
#: that spends a second of CPU time, then printing the CPU time of its waited-for children.
CPU_OF_CHILDREN = """
import numpy
from weight_init.app._isolation import run_isolated

def burn():
    import time
    while time.process_time() < 1.0:
        pass

if __name__ == "__main__":
    run_isolated("burner:burn", "a child that burns a second of CPU")
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forkserver children: Linux")
def test_a_forkserver_childs_cpu_time_counts_among_the_callers_children(user_dir: Path) -> None:
    """The forkserver is ended and waited for when its caller exits, so the CPU time of the
    children it forked reaches the caller's parent (``time weight-init audit ...``, the zoo
    table's CPU column) instead of leaving with an unwaited server: a child that spends one
    second of CPU time adds at least that to this test's children."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = _run_script(user_dir, "burner.py", CPU_OF_CHILDREN)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert proc.returncode == 0, proc.stderr
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    assert cpu >= 1.0, cpu
