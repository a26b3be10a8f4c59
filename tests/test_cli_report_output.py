"""Report directories never lose a user's files: ``weight-init report``'s exit code and its one
line on stderr, from ``main`` in this process, and as a user runs it (a subprocess) where a
signal or a killed process is what is tested."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli_helpers import TINY_REPORT, WEIGHT_INIT, one_line, run_main, tiny_report
from weight_init.reports._output_dir import MARKER, remove_leftovers


def report(
    out: Path | str, *extra: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The tiny report, written as JSON only."""
    return tiny_report(out, "--format", "json", *extra, cwd=cwd)


def report_here(
    capsys: pytest.CaptureFixture[str], out: Path | str, *extra: str
) -> subprocess.CompletedProcess[str]:
    """:func:`report` through ``main`` in this process."""
    return run_main(capsys, "report", "--out", str(out), *TINY_REPORT, "--format", "json", *extra)


def test_rerun_refuses_to_delete_the_users_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r"
    assert report_here(capsys, out).returncode == 0
    (out / "notes.txt").write_text("mine\n")
    (out / "mydata").mkdir()
    (out / "mydata" / "x.csv").write_text("1,2\n")
    proc = report_here(capsys, out)
    assert proc.returncode == 2
    err = one_line(proc)
    assert "notes.txt" in err and "mydata/" in err and "--overwrite" in err, err
    assert (out / "notes.txt").read_text() == "mine\n" and (out / "mydata" / "x.csv").exists()
    # A report's own files are replaced without a flag; the user's go only with --overwrite.
    (out / "notes.txt").unlink()
    shutil.rmtree(out / "mydata")
    assert report_here(capsys, out, "--seed", "1").returncode == 0
    (out / "notes.txt").write_text("mine\n")
    assert report_here(capsys, out, "--overwrite").returncode == 0
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "summary.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"], "temporary directories left"


def test_symlinked_out_writes_to_the_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "real"
    link = tmp_path / "link"
    assert report_here(capsys, target).returncode == 0
    before = (target / "summary.json").read_text()
    link.symlink_to(target, target_is_directory=True)
    assert report_here(capsys, link, "--seed", "1").returncode == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert (target / "summary.json").read_text() != before, "the target was left stale"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"]


def test_sigterm_leaves_no_temporary_directory(tmp_path: Path) -> None:
    """SIGTERM while the report is computed (the staging directory exists) removes it."""
    out = tmp_path / "r"
    proc = subprocess.Popen(
        [
            WEIGHT_INIT,
            "report",
            "--out",
            str(out),
            "--quiet",
            "--schemes",
            "xavier",
            "--depth",
            "200",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not any(p.name.startswith(".r.tmp-") for p in tmp_path.iterdir()):
        assert proc.poll() is None and time.monotonic() < deadline, "no staging directory seen"
        time.sleep(0.05)
    time.sleep(2.0)  # past the pre-flight trial directory: the report (about 15 s) is computing
    assert proc.poll() is None and any(p.name.startswith(".r.tmp-") for p in tmp_path.iterdir())
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "terminated by SIGTERM" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == [], "left behind after SIGTERM"


def test_leftovers_of_killed_runs_are_removed(tmp_path: Path) -> None:
    """A later run removes ``.r.tmp-*`` / ``.r.old-*`` that are ours (marker) and whose process
    is gone; it keeps another name's, a live process's and a directory without the marker."""
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(dead.stdout)
    ours = [f".r.tmp-{dead_pid}-abc", ".r.tmp-legacy1", f".r.old-{dead_pid}-x"]
    kept = [f".r.tmp-{os.getppid()}-live", ".other.tmp-1-x", ".r.tmp-nomarker"]
    for name in ours + kept:
        (tmp_path / name).mkdir()
        if name != ".r.tmp-nomarker":
            (tmp_path / name / MARKER).write_text("weight-init report directory\n")
    assert report(tmp_path / "r").returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*kept, "r"])
    assert remove_leftovers(tmp_path / "r") == []


def test_mount_point_is_refused_before_any_work(capsys: pytest.CaptureFixture[str]) -> None:
    mount = Path("/dev/shm")
    if not (os.path.ismount(mount) and mount.is_dir() and not any(mount.iterdir())):
        pytest.skip("no empty mount point to try")
    started = time.monotonic()
    proc = report_here(capsys, mount, "--width", "2000", "--samples", "4000", "--depth", "50")
    assert proc.returncode == 2
    assert "mount point" in one_line(proc)
    assert time.monotonic() - started < 60 and not any(mount.iterdir())


def test_read_only_out_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A read-only file system (sysfs), and a read-only directory when not root."""
    cases = [Path("/sys/weight-init-report")] if Path("/sys").is_dir() else []
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        (ro / MARKER).write_text("weight-init report directory\n")
        ro.chmod(0o555)
        cases.append(ro)
    if not cases:
        pytest.skip("no read-only place to try")
    for out in cases:
        proc = report_here(capsys, out, "--width", "2000", "--samples", "4000", "--depth", "50")
        assert proc.returncode == 2, out
        err = one_line(proc)
        assert "--out" in err and ("read-only" in err or "cannot write" in err), err
        assert not out.exists() or out.is_dir()
