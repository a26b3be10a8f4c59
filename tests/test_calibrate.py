"""``weight-init calibrate`` run as a user runs it: records independent of the worker count,
``--resume`` after a killed run, bad input, and the tables computed from the records.

Small runs (8-40 checks of the registered schemes, no framework adapters) keep this fast;
the measured rates themselves are the recorded run's business, not a test's.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from weight_init.app._calibration.implementations import catalogue
from weight_init.app._calibration.records import (
    RECORDS,
    RunDirectoryError,
    RunStore,
    read_records,
    without_timing,
)
from weight_init.app._calibration.tasks import false_alarm_task, property_task
from weight_init.app._cli import main
from weight_init.reports._calibration import (
    Rate,
    false_alarm_rates,
    nonuniform_by_scheme,
    parse_records,
    rejects,
)

SMALL = ["--checks", "8", "--power", "1", "--effects", "mean_shift", "--adapters", "none"]


def calibrate(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "weight_init.app._cli", "calibrate", "--quiet", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def comparable(directory: Path) -> list[dict[str, Any]]:
    return sorted((without_timing(r) for r in read_records(directory)), key=lambda r: r["task_id"])


def test_records_do_not_depend_on_the_number_of_workers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    assert main(["calibrate", "--quiet", *SMALL, "--workers", "1", "--out", str(one)]) == 0
    assert "upper 95% (one-sided)" in capsys.readouterr().out
    assert main(["calibrate", "--quiet", *SMALL, "--workers", "2", "--out", str(two)]) == 0
    a, b = comparable(one), comparable(two)
    assert len(a) == 8 + 7  # 8 checks, 7 sizes of mean_shift x 1
    assert a == b
    assert all(r["error"] is None for r in a)
    assert (one / "calibration.md").read_text().startswith("# Calibration")
    (one / "calibration.md").unlink()
    assert main(["report", "--calibration", str(one)]) == 0
    md = (one / "calibration.md").read_text()
    alarms = sum(rejects(r, 1e-4) for r in a if r["kind"] == "false_alarm")
    assert f"| 0.0001 | {alarms} / 8 |" in md
    assert "![calibration-power.png](calibration-power.png)" in md
    assert (one / "calibration-power.png").stat().st_size > 0
    assert main(["report", "--calibration", str(tmp_path / "nothing")]) == 2


def test_task_seeds_depend_on_the_run_seed_and_the_task_only() -> None:
    impls = catalogue([], None)
    a = [false_alarm_task(0, i, impls).task_seed for i in range(100)]
    assert len(set(a)) == 100
    assert a == [false_alarm_task(0, i, impls).task_seed for i in range(100)]
    assert set(a).isdisjoint(false_alarm_task(1, i, impls).task_seed for i in range(100))
    assert set(a).isdisjoint(property_task(0, i).task_seed for i in range(100))


def test_resume_after_a_killed_run_has_no_duplicate_and_no_gap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The run is killed as a process group (a subprocess); the refused rerun and the resumed
    run are ``main`` in this process."""
    out = tmp_path / "run"
    n = 12  # killed at 3 records: the rest cannot be written in the 50 ms between looks
    args = ["--checks", str(n), "--adapters", "none", "--workers", "2", "--out", str(out)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "weight_init.app._cli", "calibrate", "--quiet", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        path = out / RECORDS
        if path.exists() and path.read_text().count("\n") >= 3:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its worker processes, mid-run
    proc.wait()
    before = read_records(out)
    assert 3 <= len(before) < n
    capsys.readouterr()
    assert main(["calibrate", "--quiet", *args]) == 2
    assert "--resume" in capsys.readouterr().err  # never mixes two runs
    assert main(["calibrate", "--quiet", *args, "--resume"]) == 0, capsys.readouterr().err
    ids = [rec["task_id"] for rec in read_records(out)]
    assert len(ids) == len(set(ids)) == n
    assert set(ids) == {f"false_alarm-{i}" for i in range(n)}
    assert comparable(out)[: len(before)] != [] and all(
        rec in comparable(out) for rec in (without_timing(b) for b in before)
    )


def record(task_id: str, **extra: object) -> dict[str, object]:
    """A minimal false-alarm record (the fields a run's tables read)."""
    return {
        "task_id": task_id,
        "kind": "false_alarm",
        "seed": 0,
        "outcome": "pass",
        "implementation": "scheme:he_normal",
        "scheme": "he_normal",
        "p_values": {"mean": 0.5},
        "wall_seconds": 0.1,
        "cpu_seconds": 0.1,
        **extra,
    }


def test_a_partial_last_line_is_dropped_on_resume(tmp_path: Path) -> None:
    store = RunStore.open(tmp_path, {"seed": 0}, resume=False)
    store.append(record("a", x=1))
    store.close()
    with (tmp_path / RECORDS).open("a") as f:
        f.write('{"task_id": "b", "x"')  # killed mid-write
    store = RunStore.open(tmp_path, {"seed": 0}, resume=True)
    assert store.done == {"a"}
    store.append(record("b", x=2))
    store.append(record("a", x=3))  # already recorded: not written twice
    store.close()
    assert [json.loads(line)["task_id"] for line in (tmp_path / RECORDS).open()] == ["a", "b"]


def test_resume_refuses_other_settings(tmp_path: Path) -> None:
    RunStore.open(tmp_path, {"seed": 0}, resume=False).close()
    with pytest.raises(RunDirectoryError, match="another seed"):
        RunStore.open(tmp_path, {"seed": 5}, resume=True)
    with pytest.raises(RunDirectoryError, match="--resume"):
        RunStore.open(tmp_path, {"seed": 0}, resume=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--checks", "-1"], "non-negative"),
        (["--effects", "nope"], "unknown effect"),
        (["--schemes", "nope"], "unknown scheme"),
        (["--adapters", "tensorflow"], "unknown framework"),
        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "not allowed with"),
    ],
)
def test_bad_flags_are_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    r = calibrate(*args, "--out", str(tmp_path / "o"))
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and message in r.stderr, r.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("command", ["calibrate", "report"])
def test_scheduler_without_dask_is_one_line_and_exit_2(tmp_path: Path, command: str) -> None:
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "distributed.py").write_text("raise ImportError('No module named distributed')\n")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(shadow), os.environ.get("PYTHONPATH", "")]),
    }
    r = subprocess.run(
        [sys.executable, "-m", "weight_init.app._cli", command,
         "--scheduler", "tcp://127.0.0.1:8786", "--out", str(tmp_path / "o")],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1
    assert "pip install '.[dask]'" in r.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.slow  # the client waits its 10 s connection timeout
def test_unreachable_scheduler_is_one_line_and_exit_2(tmp_path: Path) -> None:
    r = calibrate("--checks", "1", "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path))
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "cannot reach the scheduler" in r.stderr, r.stderr


def test_levels_are_computed_from_one_run_by_holm() -> None:
    check = {"p_values": {"mean": 0.004, "variance": 0.3}, "exact_failed": []}
    assert not rejects(check, 1e-3)  # Holm: 0.004 > 1e-3 / 2
    assert rejects(check, 1e-2)  # 0.004 <= 1e-2 / 2
    assert rejects({"p_values": {}, "exact_failed": ["shape"]}, 1e-4)
    assert rejects({"outcome": "error", "p_values": {}}, 1e-4)
    records = [{"kind": "false_alarm", **check}] * 3
    (a3, a2) = false_alarm_rates(records, (1e-3, 1e-2))
    assert (a3.rate.events, a2.rate.events) == (0, 3)


def test_clopper_pearson_bounds_are_exact_and_labelled() -> None:
    r = Rate(0, 30_000)
    assert r.upper_one_sided() == pytest.approx(1 - 0.05 ** (1 / 30_000), rel=1e-6)
    assert r.upper_one_sided() < 1e-4
    lo, hi = r.two_sided()
    assert lo == 0 and hi == pytest.approx(1 - 0.025 ** (1 / 30_000), rel=1e-6)


def test_one_binomial_interval_is_scipys_exact_clopper_pearson() -> None:
    """:func:`clopper_pearson` is the beta-quantile form of the exact interval (the upper
    bound of k events in n at one-sided 95% is ``beta.ppf(0.95, k + 1, n - k)``)."""
    from scipy import stats

    from weight_init.reports._calibration import clopper_pearson

    for k, n in ((0, 200), (1, 200), (4, 48_000), (225, 48_000), (30, 30)):
        low, high = clopper_pearson(k, n, alternative="less")
        want = 1.0 if k == n else stats.beta.ppf(0.95, k + 1, n - k)
        assert low == 0 and high == pytest.approx(want, rel=1e-9)
        lo, hi = clopper_pearson(k, n)
        assert lo == pytest.approx(0.0 if k == 0 else stats.beta.ppf(0.025, k, n - k + 1))
        assert lo <= k / n <= hi and Rate(k, n).two_sided() == (lo, hi)


def test_hypothesis_draws_are_a_calibrate_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``calibrate --hypothesis N`` runs every property over N drawn cases and prints the
    family's count; a family draw is a false alarm when any property's i-th case fails."""
    from weight_init.app._calibration.hypothesis_draws import HypothesisDraws

    draws = HypothesisDraws(1e-4, {"a": ("pass", "fail", "pass"), "b": ("fail", "fail")})
    assert (draws.family_draws, draws.family_false_alarms) == (2, 2)
    assert "2 of 2 family draws" in draws.describe()
    argv = ["calibrate", "--quiet", "--checks", "0", "--adapters", "none", "--hypothesis", "2"]
    assert main([*argv, "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "of 2 family draws with a failing property" in out
    for name in ("symmetry", "vanishing", "saturation", "theory_agreement"):
        assert f"{name} " in out.rsplit("hypothesis draws", 1)[1]


def test_a_miscalibrated_test_within_one_scheme_is_named() -> None:
    rng = np.random.default_rng(0)
    records = [
        {
            "kind": "false_alarm",
            "scheme": scheme,
            "p_values": {"mean": float(rng.uniform()), "variance": float(rng.uniform(0.2, 1))},
        }
        for scheme in ("he_normal", "orthogonal")
        for _ in range(400)
    ]
    names = [u.test for u in nonuniform_by_scheme(records)]
    assert names == ["variance (he_normal)", "variance (orthogonal)"]


def test_kernels_flag_runs_kernel_checks_through_their_layouts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--kernels``: the false-alarm checks cycle over the kernel catalogue (every spatial
    layout for the reference schemes), record the kernel layout, and are the same records
    with one worker or two."""
    from weight_init.app._calibration.implementations import kernel_catalogue
    from weight_init.layouts import LAYOUTS

    impls = kernel_catalogue([], ["he_normal", "lecun_uniform"])
    spatial = {n for n, lay in LAYOUTS.items() if lay.spatial}
    assert {i.layout for i in impls} == spatial and len(impls) == 2 * len(spatial)
    torch_impls = {i.spec for i in kernel_catalogue(["torch"], None)}
    assert {"torch.nn.init:kaiming_normal_", "torch:ConvTranspose2d.weight"} <= torch_impls
    # one check per spatial layout and one more: the cycle reaches its second scheme
    args = ["calibrate", "--quiet", "--kernels", "--checks", str(len(spatial) + 1)]
    args += ["--adapters", "none", "--schemes", "he_normal,lecun_uniform"]
    one, two = tmp_path / "one", tmp_path / "two"
    assert main([*args, "--workers", "1", "--out", str(one)]) == 0
    assert main([*args, "--workers", "2", "--out", str(two)]) == 0
    a = comparable(one)
    assert a == comparable(two)
    assert [r["layout"] for r in a if r["repetition"] < len(impls)] == [
        impls[r["repetition"]].layout for r in a if r["repetition"] < len(impls)
    ]
    assert {r["layout"] for r in a} == spatial
    assert all(r["error"] is None and r["outcome"] != "error" for r in a)
    assert all("fan rule" in r["p_values"] for r in a)  # the 2-D check's tests, over kernels


def test_a_task_that_raises_is_an_error_record_that_loads_and_counts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every kind of task whose work raises is recorded with what it checked, read back like
    any record, and counted: a false alarm of the correct implementation (or audit), never a
    detection of a defect."""
    from weight_init.app._calibration import tasks
    from weight_init.reports._calibration import audit_points, power_curves

    def boom(*_: object, **__: object) -> None:
        raise RuntimeError("boom\nsecond line")

    for name in ("_check", "_suite", "_audit"):
        monkeypatch.setattr(tasks, name, boom)
    made = [
        false_alarm_task(0, 0, catalogue([], None)),
        tasks.power_task(0, "std_off", 0, 0),
        property_task(0, 0),
        tasks.audit_task(0, 0.1, 0, False, 0),
        tasks.audit_task(0, 0.1, 0, True, 0),
    ]
    records = [tasks.run_task(t) for t in made]
    assert all(r["outcome"] == "error" and r["error"] == "RuntimeError: boom" for r in records)
    data = "".join(json.dumps(r) + "\n" for r in records).encode()
    loaded = parse_records(data, "records.jsonl")
    assert [r["task_id"] for r in loaded] == [t.task_id for t in made]
    assert rejects(loaded[0], 1e-4)  # the correct implementation's error: a false alarm
    assert power_curves(loaded)[0].detected.events == 0  # an error detects nothing
    (point,) = audit_points(loaded)
    assert point.false_alarms[0].rate.events == 1 and point.power.events == 0


@pytest.mark.parametrize("passed", [True, False])
def test_property_calibrations_are_calibrate_options(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    passed: bool,
) -> None:
    """``--property-pvalues N`` and ``--property-tails N`` run the property calibrations
    (here a stand-in with the real one's result type) at ``--seed``, write their tables into
    the run directory (in its manifest) and make the exit code 1 when one is not calibrated."""
    from weight_init.app._calibration import property_calibration as pc

    calls: list[tuple[int, bool, int]] = []

    def fake(seeds: int, *, tails: bool, start: int, command: str, progress: bool) -> Any:
        calls.append((seeds, tails, start))
        return pc.Measured(f"## table\n\n    {command}\n", "summary", passed)

    monkeypatch.setattr(pc, "measure", fake)
    out = tmp_path / "run"
    argv = ["calibrate", "--checks", "0", "--property-pvalues", "3", "--property-tails", "7"]
    code = main([*argv, "--seed", "5", "--out", str(out), "--quiet"])
    assert code == (0 if passed else 1)
    assert calls == [(3, False, 5), (7, True, 5)]
    tails = (out / "property_tails.md").read_text()
    assert "weight-init calibrate --checks 0 --property-tails 7 --seed 5" in tails
    assert (out / "property_pvalues.md").is_file()
    manifest = (out / ".weight-init").read_text().splitlines()
    assert {"property_pvalues.md", "property_tails.md"} <= set(manifest)
    assert "property tails: summary" in capsys.readouterr().out
