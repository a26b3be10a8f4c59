"""``weight-init calibrate --scheduler`` against a real ``distributed.LocalCluster`` on the
loopback address (scheduler and two worker processes): the records equal those of the local
run for the same seed, and killing a worker mid-run loses no record (Dask reschedules the
tasks of a lost worker; its nanny restarts it).

Marked ``cluster``: a few seconds each plus the cluster's start.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from weight_init.app._calibration.records import RECORDS, read_records, without_timing
from weight_init.app._cli import main

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.cluster

N = 12
ARGS = ["--checks", str(N), "--adapters", "none"]
N_TASKS = N


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as c:
        yield c


@pytest.fixture(scope="module")
def local_records(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp("local")
    assert main(["calibrate", "--quiet", *ARGS, "--workers", "2", "--out", str(out)]) == 0
    return comparable(out)


def comparable(directory: Path) -> list[dict[str, Any]]:
    return sorted((without_timing(r) for r in read_records(directory)), key=lambda r: r["task_id"])


def calibrate_cmd(address: str, out: Path) -> list[str]:
    return [sys.executable, "-m", "weight_init.app._cli", "calibrate", "--quiet", *ARGS,
            "--scheduler", address, "--out", str(out)]  # fmt: skip


def test_cluster_records_equal_the_local_records(
    cluster: Any, local_records: list[dict[str, Any]], tmp_path: Path
) -> None:
    r = subprocess.run(
        calibrate_cmd(cluster.scheduler_address, tmp_path), capture_output=True, text=True,
        timeout=180,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert len(local_records) == N_TASKS
    assert comparable(tmp_path) == local_records


def test_killing_a_worker_mid_run_loses_no_record(
    cluster: Any, local_records: list[dict[str, Any]], tmp_path: Path
) -> None:
    with distributed.Client(cluster.scheduler_address) as client:
        pids = client.run(os.getpid)
    proc = subprocess.Popen(
        calibrate_cmd(cluster.scheduler_address, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    path = tmp_path / RECORDS
    while time.monotonic() < deadline and proc.poll() is None:
        if path.exists() and path.read_text().count("\n") >= 2:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before a worker could be killed"
    os.kill(next(iter(pids.values())), signal.SIGKILL)  # a worker of the cluster we started
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, err
    ids = [r["task_id"] for r in read_records(tmp_path)]
    assert len(ids) == len(set(ids)) == N_TASKS
    assert comparable(tmp_path) == local_records


def report_cmd(out: Path, *engine: str) -> list[str]:
    """A report whose computations are the phase diagram and one experiment (small sizes)."""
    return [sys.executable, "-m", "weight_init.app._cli", "report", "--quiet", "--no-suite",
            "--schemes", "xavier:tanh", "--depth", "4", "--width", "64", "--samples", "128",
            "--input-dim", "64", "--phase-sigmas", "5", "--phase-depth", "12",
            "--phase-width", "96", "--phase-samples", "128", "--format", "json",
            "--out", str(out), *engine]  # fmt: skip


def test_report_on_the_cluster_equals_the_local_report(cluster: Any, tmp_path: Path) -> None:
    """``weight-init report --scheduler`` runs the experiments and one task per phase-diagram
    sigma_w on the cluster's workers: summary.json is byte-identical to the local one."""
    local = subprocess.run(
        report_cmd(tmp_path / "local", "--workers", "2"), capture_output=True, text=True,
        timeout=180,
    )  # fmt: skip
    assert local.returncode == 0, local.stderr
    remote = subprocess.run(
        report_cmd(tmp_path / "cluster", "--scheduler", cluster.scheduler_address),
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert remote.returncode == 0, remote.stderr
    a = (tmp_path / "local" / "summary.json").read_bytes()
    b = (tmp_path / "cluster" / "summary.json").read_bytes()
    assert a == b, "report --scheduler gave another summary.json than the local report"
