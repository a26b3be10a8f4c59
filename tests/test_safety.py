"""Nothing a user types or runs can hurt them: one test per promise.

* resources: workers bounded by the tasks and the CPUs, dying with their parent even on
  SIGKILL, an interrupt stopping a report at once, one BLAS thread per worker;
* fault attribution: the code under test blamed only for what it did (extreme magnitudes
  are a FAIL, a non-reproducible initializer is a FAIL, closed file descriptors one line),
  the checker's own faults an internal error with a reproduction command, no warnings on
  the terminal, any timeout parsed;
* input parsing: corrupt run files named by line, public API argument types, scheme
  expressions wherever a scheme is, a closed stdout pipe.

The output-directory rule has its own module (``test_output_dir.py``); the drawn command
lines, ``test_cli_fuzz.py``. Subprocesses run where the process is what is tested (signals,
children, pipes), ``main()`` in this process elsewhere.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from _levels import PASS_ALPHA
from cli_helpers import TINY_REPORT, WEIGHT_INIT, one_line, run
from weight_init import errors
from weight_init.app._cli import main
from weight_init.reports._parallel import available_cpus, bounded_workers, worker_pool

TESTS = Path(__file__).resolve().parent


def children(pid: int) -> set[int]:
    """The direct children of ``pid`` (Linux /proc)."""
    out: set[int] = set()
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out.update(int(p) for p in f.read().split())
    except OSError:
        pass
    return out


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][0] != "Z"
    except OSError:
        return False


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")


# -- resources ----------------------------------------------------------------------------


def test_workers_are_bounded_by_tasks_and_cpus() -> None:
    said: list[str] = []
    cpus = available_cpus()
    assert bounded_workers(100_000, 1, said.append) == 1
    assert said == [f"--workers 100000: this machine lets us use {cpus} CPUs; using {cpus}"]
    assert bounded_workers(cpus, 1000, said.append) == cpus and len(said) == 1
    assert bounded_workers(1, 0) == 1


def test_pool_workers_run_blas_on_one_thread() -> None:
    pytest.importorskip("threadpoolctl")
    with worker_pool(2, tasks=2) as pool:
        infos = pool.submit(_blas_threads).result()
    assert infos and all(n == 1 for n in infos), infos


def _blas_threads() -> list[int]:
    import numpy  # noqa: F401  (loads the BLAS threadpoolctl reports)
    from threadpoolctl import threadpool_info

    return [int(i["num_threads"]) for i in threadpool_info() if i.get("user_api") == "blas"]


@linux_only
def test_calibrate_starts_no_more_workers_than_tasks(tmp_path: Path) -> None:
    """``--workers 100000`` for one task: one worker, a notice, a normal run."""
    proc = subprocess.Popen(
        [WEIGHT_INIT, "calibrate", "--workers", "100000", "--checks", "1", "--quiet"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    most = 0
    while proc.poll() is None:
        most = max(most, len(children(proc.pid)))
        time.sleep(0.05)
    _, err = proc.communicate()
    assert proc.returncode == 0, err
    assert "--workers 100000: this machine lets us use" in err
    assert most <= 2, f"{most} child processes for one task"


def _report_with_workers(tmp_path: Path) -> subprocess.Popen[str]:
    """The report, started with Ctrl-C's default action: a test run started in the background
    of a shell has SIGINT ignored, which a child inherits (and then rightly keeps)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # reset by exec
    try:
        return _start_report(tmp_path)
    finally:
        signal.signal(signal.SIGINT, previous)


def _start_report(tmp_path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            *(WEIGHT_INIT, "report", "--out", "r", "--quiet", "--workers", "2"),
            *("--schemes", "xavier,he_normal:relu", "--depth", "300", "--no-suite"),
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _wait_for_workers(proc: subprocess.Popen[str], n: int, settle: float = 0.5) -> set[int]:
    """The report's workers, once ``n`` are forked and ``settle`` seconds later."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        kids = children(proc.pid)
        if len(kids) >= n:
            time.sleep(settle)  # 0.5 s: the workers have started their pieces
            return kids
        time.sleep(0.002 if settle == 0 else 0.05)
    pytest.fail("the report's workers did not start")


@linux_only
def test_report_workers_die_with_the_report_on_sigkill(tmp_path: Path) -> None:
    proc = _report_with_workers(tmp_path)
    workers = _wait_for_workers(proc, 2)
    proc.kill()  # what the OOM killer sends: no handler runs
    proc.communicate()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(p) for p in workers):
        time.sleep(0.05)
    left = [p for p in workers if alive(p)]
    for pid in left:  # do not leave them to the machine if the promise is broken
        os.kill(pid, signal.SIGKILL)
    assert not left, f"workers {left} outlived their parent"


#: A caller that has imported numpy (so its children come from a forkserver) and runs a
#: child that waits ten minutes.
_WAITING_CALLER = """
import numpy
from weight_init.app._isolation import run_isolated
if __name__ == "__main__":
    run_isolated("multiprocessing.connection:wait", "a waiter", object_list=[], timeout=600)
"""


@linux_only
def test_a_forkserver_child_dies_with_its_caller_on_sigkill(tmp_path: Path) -> None:
    script = tmp_path / "caller.py"
    script.write_text(_WAITING_CALLER)
    proc = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path)
    deadline, grandchildren = time.monotonic() + 120, set()
    while time.monotonic() < deadline and not grandchildren and proc.poll() is None:
        time.sleep(0.05)
        grandchildren = {g for c in children(proc.pid) for g in children(c)}
    assert grandchildren, "no child was forked from the forkserver"
    time.sleep(0.2)
    proc.kill()  # no handler runs
    proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(p) for p in grandchildren):
        time.sleep(0.05)
    left = [p for p in grandchildren if alive(p)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"children {left} outlived their caller"


@linux_only
@pytest.mark.parametrize("settle", [0.5, 0.0, 0.0, 0.0], ids=["running", "forking", "2", "3"])
def test_ctrl_c_stops_a_report_within_two_seconds(tmp_path: Path, settle: float) -> None:
    """At any moment: while the workers run their pieces, or as they are being forked
    (before the Ctrl-C was held there, about half of such interrupts hung the report or
    ended in a traceback; three tries)."""
    proc = _report_with_workers(tmp_path)
    workers = _wait_for_workers(proc, 2, settle)
    start = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
    _, err = proc.communicate(timeout=60)
    took = time.monotonic() - start
    assert proc.returncode == 130 and err.strip() == "weight-init: interrupted", err
    assert took < 2.0, f"took {took:.1f} s to stop"
    assert not any(alive(p) for p in workers)
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "staging directory left"


# -- fault attribution ----------------------------------------------------------------------


def check(spec: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return run("check", spec, "--scheme", "he_normal", *extra, cwd=TESTS, timeout=600)


@pytest.mark.parametrize(
    ("name", "order"), [("times_1e100", "1e100"), ("plus_minus_1e308", "1e308")]
)
def test_extreme_finite_weights_fail_with_their_order_of_magnitude(name: str, order: str) -> None:
    proc = check(f"hostile_initializers:{name}")
    assert proc.returncode == 1, proc.stderr
    assert f"diagnosis: entries of order {order} " in proc.stdout, proc.stdout
    assert "Warning" not in proc.stderr and proc.stderr.strip() == "", proc.stderr
    ident = run("identify", f"hostile_initializers:{name}", cwd=TESTS)
    assert ident.returncode == 0 and f"entries of order {order} " in ident.stdout
    assert "nan" not in ident.stdout and "Warning" not in ident.stderr


def test_a_non_reproducible_initializer_is_a_fail_not_our_error(tmp_path: Path) -> None:
    """Its failing shape does not fail again (the smallest-shape search found that
    unreliable): the verdict stands, FAIL; and the search leaves nothing (Hypothesis's
    cache) in the user's directory."""
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    proc = subprocess.run(
        [WEIGHT_INIT, "check", "hostile_initializers:grid_unseeded", "--scheme", "he_normal"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 1, proc.stderr
    assert "not reproducible" in proc.stdout and "Flaky" not in proc.stdout + proc.stderr
    assert list(tmp_path.iterdir()) == [], "the check wrote into the working directory"


def test_closing_the_checks_descriptors_is_one_line() -> None:
    proc = check("hostile_initializers:closes_file_descriptors")
    assert proc.returncode == 2
    assert "closed the check's result pipe" in one_line(proc)


def test_a_timeout_of_any_size_is_a_limit_not_an_overflow() -> None:
    for value in ("1e9", "1e300", "none"):
        proc = check("hostile_initializers:he", "--timeout", value)
        assert proc.returncode == 0, (value, proc.stderr)
    assert "positive number" in one_line(check("hostile_initializers:he", "--timeout", "nan"))


def test_the_plugins_timeout_takes_any_size() -> None:
    from weight_init.app._pytest_plugin import _timeout

    assert _timeout("1e9") == 1e9 and _timeout("none") == float("inf")


def test_an_exception_in_our_code_is_an_internal_error_with_a_reproduction() -> None:
    """A child task of ours that raises (here a TypeError at its call): our bug, said so."""
    from weight_init.app._isolation import run_isolated

    with pytest.raises(errors.InternalError) as info:
        run_isolated("weight_init.app._child_tasks:resolve", "the initializer x:y", 60, nope=1)
    message = str(info.value)
    assert message.startswith("internal error in weight-init (not in the code under test")
    assert "TypeError" in message and "Reproduce with: " in message and "no verdict" in message


def test_the_command_line_reports_its_own_fault_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import weight_init.app._commands.experiment as experiment

    def broken(args: object) -> int:
        return int(1 / 0)

    monkeypatch.setattr(experiment, "run", broken)
    assert main(["experiment", "--init", "xavier"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("weight-init: internal error in weight-init") and "\n" not in err
    assert (
        "ZeroDivisionError" in err and "Reproduce with: weight-init experiment --init xavier" in err
    )


def test_an_exception_from_the_users_own_file_is_theirs(tmp_path: Path) -> None:
    """The traceback's innermost frame outside the libraries is the user's: not ours."""
    from weight_init.app._faults import raised_by_us

    module = tmp_path / "users_code.py"
    module.write_text("def f():\n    raise RuntimeError('theirs')\n")
    namespace: dict[str, Callable[[], None]] = {}
    exec(compile(module.read_text(), str(module), "exec"), namespace)
    with pytest.raises(RuntimeError) as info:
        namespace["f"]()
    assert not raised_by_us(info.value)
    with pytest.raises(TypeError) as ours:  # raised inside weight-init's own function
        bounded_workers("2", 1)  # type: ignore[arg-type]
    assert raised_by_us(ours.value)


# -- input parsing ----------------------------------------------------------------------------


GOOD = {
    "task_id": "false_alarm-0",
    "kind": "false_alarm",
    "seed": 0,
    "outcome": "pass",
    "implementation": "scheme:he_normal",
    "scheme": "he_normal",
    "p_values": {"mean": 0.5},
    "wall_seconds": 0.1,
    "cpu_seconds": 0.1,
}


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe\x00binary", "not JSON"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "task_id"}).encode(), "'task_id'"),
        (b"[1, 2, 3]", "a JSON list, not an object"),
        (json.dumps({**GOOD, "p_values": {"mean": "x"}}).encode(), "p-value"),
    ],
)
def test_a_corrupt_record_is_named_by_its_line(
    tmp_path: Path, line: bytes, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "run"
    assert (
        main(["calibrate", "--checks", "1", "--workers", "1", "--quiet", "--out", str(run_dir)])
        == 0
    )
    with (run_dir / "records.jsonl").open("ab") as f:
        f.write(line + b"\n")
    capsys.readouterr()
    for argv in (
        [
            "calibrate",
            "--checks",
            "1",
            "--workers",
            "1",
            "--quiet",
            "--out",
            str(run_dir),
            "--resume",
        ],
        ["report", "--calibration", str(run_dir)],
    ):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert "records.jsonl line 2: " in err and problem in err and "\n" not in err, err


@pytest.mark.parametrize("content", [b"{broken", b"[]", b"\xff"])
def test_a_bad_run_json_is_refused_in_one_line(
    tmp_path: Path, content: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "run"
    args = ["calibrate", "--checks", "0", "--quiet", "--out", str(run_dir)]
    assert main(args) == 0
    (run_dir / "run.json").write_bytes(content)
    capsys.readouterr()
    assert main([*args, "--resume"]) == 2
    err = capsys.readouterr().err.strip()
    assert "run.json" in err and "\n" not in err, err


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"alpha": "0.01"}, "alpha"),
        ({"power": "high"}, "power"),
        ({"seed": 1.5}, "seed"),
        ({"n_entries": "100"}, "n_entries"),
        ({"shapes": [(2, "3")]}, "shapes"),
        ({"scheme": 3}, "scheme"),
    ],
)
def test_public_api_arguments_are_type_checked(kwargs: dict[str, object], word: str) -> None:
    from hostile_initializers import he
    from weight_init.properties.conformance import check_initializer

    call: dict[str, object] = {"scheme": "he_normal", **kwargs}
    with pytest.raises(errors.WeightInitError, match=word):
        check_initializer(he, **call)  # type: ignore[arg-type]


def test_scheme_expressions_are_accepted_wherever_a_scheme_is(tmp_path: Path) -> None:
    from hostile_initializers import he
    from weight_init.app._commands.report import check_spec, scheme_list
    from weight_init.app._pytest_plugin import parse_check_option
    from weight_init.properties.conformance import check_initializer

    expr = "variance_scaling(2, fan_in, normal)"
    assert scheme_list(f"xavier,{expr}:relu,normal(std=0.02)") == [
        ("xavier", None),
        (expr, "relu"),
        ("normal(std=0.02)", None),
    ]
    assert check_spec("m:f=normal(std=0.02)") == ("m:f", "normal(std=0.02)")
    assert parse_check_option(f"m:f={expr}@out_in") == ("m:f", expr, "out_in")
    verdict = check_initializer(
        he, expr, n_entries=20_000, shapes=[(64, 32), (128, 16)], alpha=PASS_ALPHA
    )
    assert verdict.outcome in ("pass", "inconclusive")
    out = tmp_path / "r"
    tiny = [a if a != "xavier" else expr for a in TINY_REPORT]
    assert main(["report", "--out", str(out), *tiny, "--format", "json"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert [e["scheme"] for e in summary["experiments"]] == [expr]


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "hostile_initializers:he", "--scheme", "he_normal", "--json"],
        [  # 5000 lines: more than a pipe holds, so the write meets the closed pipe
            *("experiment", "--init", "xavier", "--depth", "5000"),
            *("--width", "10", "--samples", "10", "--input-dim", "10"),
        ],
    ],
)
def test_a_closed_stdout_pipe_is_a_quiet_exit(argv: list[str]) -> None:
    proc = subprocess.Popen(
        [WEIGHT_INIT, *argv], cwd=TESTS, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # what `| head -1` does
    err = proc.stderr.read().decode()
    proc.wait(timeout=600)
    assert proc.returncode in (0, 141) and err == "", err
    if argv[0] == "experiment":
        assert proc.returncode == 141
