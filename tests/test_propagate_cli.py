"""``weight-init propagate``'s exit code, stdout and stderr: ``main`` in this process (the
model still runs in an isolated child), and as a user runs it, a subprocess, where the
process's exit is what is tested.

Bad input and misbehaving code under test give one line on stderr and exit 2; the
``--max-growth`` gate exits 1 on the notes' vanishing network and 0 on their Xavier one;
``--json`` is one record per operation in execution order; ``--out`` writes the HTML page
through the report writer and refuses a directory that is not a report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from subprocess import CompletedProcess

import pytest

pytest.importorskip("torch")
pytestmark = pytest.mark.torch

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import cli_helpers  # noqa: E402


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> CompletedProcess[str]:
    return cli_helpers.run_main(capsys, "propagate", *args, cwd=HERE)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["propagation_models:not_a_module", "--input-shape", "4,20"], "not a torch.nn.Module"),
        (["propagation_models:small_mlp", "--input-shape", "4,21"], "forward raised"),
        (["propagation_models:forward_raises", "--input-shape", "4,20"], "forward broke"),
        (["propagation_models:factory_raises", "--input-shape", "4,20"], "factory broke"),
        (["propagation_models:missing", "--input-shape", "4,20"], "no attribute"),
        (["propagation_models:small_mlp", "--input-shape", "4,x"], "--input-shape"),
        (["propagation_models:small_mlp", "--input-shape", "0,20"], "--input-shape"),
        (["propagation_models:small_mlp"], "--input-shape"),
        (
            ["propagation_models:small_mlp", "--input-shape", "4,20", "--max-growth", "0.5"],
            "at least 1",
        ),
        (
            ["propagation_models:small_mlp", "--input", "propagation_models:not_a_module"],
            "tensor",
        ),
        (
            ["propagation_models:small_mlp", "--input-shape", "4,20", "--expect", "*=nope"],
            "nope",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    proc = _cli(capsys, *args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert message in cli_helpers.one_line(proc)
    assert proc.stdout == ""


def test_code_that_exits_zero_and_prints_pass_is_no_pass() -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [
            cli_helpers.WEIGHT_INIT,
            "propagate",
            "propagation_models:exits_zero",
            "--input-shape",
            "4,20",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=HERE,
        env=env,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "exited (exit code 0)" in proc.stderr


def test_max_growth_gate_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--input-shape", "200,500", "--builds", "2", "--max-growth", "10"]
    bad = _cli(capsys, "propagation_models:notes_mlp_small", *args)
    assert bad.returncode == 1, bad.stderr
    assert "signal vanishes" in bad.stdout
    good = _cli(capsys, "propagation_models:notes_mlp", *args)
    assert good.returncode == 0, good.stderr
    assert "gate --max-growth 10: pass" in good.stdout


def test_json_is_one_record_per_operation_in_execution_order(
    capsys: pytest.CaptureFixture[str],
) -> None:
    proc = _cli(capsys, "propagation_models:small_mlp", "--input-shape", "16,20", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    names = [r["name"] for r in data["records"]]
    assert names == ["input", "0", "1", "2", "3"]
    for r in data["records"][1:]:
        assert {"name", "type", "mean", "std", "predicted_std", "grad_std"} <= set(r)
        assert r["std"]["mean"] > 0 and r["predicted_std"] > 0 and r["grad_std"]["mean"] > 0
    assert data["mode"] == "train" and data["builds"] == 8
    assert data["reproduce"].startswith("weight-init propagate propagation_models:small_mlp")


def test_out_writes_a_report_and_refuses_a_user_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "prop"
    proc = _cli(
        capsys,
        "propagation_models:nf_resnet",
        "--input-shape",
        "8,3,8,8",
        "--builds",
        "2",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    names = {p.name for p in out.iterdir()}
    assert {"index.html", "summary.json", "propagation.json", "figures"} <= names
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert figures == ["brock.png", "gradient.png", "std.png"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["propagation"]["residual_stream"] in ("linear growth", "flat")
    html = (out / "index.html").read_text()
    assert "figures/std.png" in html and "figures/brock.png" in html
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    refused = _cli(
        capsys, "propagation_models:small_mlp", "--input-shape", "4,20", "--out", str(mine)
    )
    assert refused.returncode == 2
    assert "--out" in cli_helpers.one_line(refused)
    assert (mine / "notes.txt").read_text() == "keep"


def test_report_propagate_section(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    def report(out: Path, *extra: str) -> CompletedProcess[str]:
        return cli_helpers.run_main(
            capsys, "report", "--out", str(out), *cli_helpers.TINY_REPORT, *extra, cwd=HERE
        )

    out = tmp_path / "report"
    proc = report(out, "--propagate", "propagation_models:nf_resnet=8,3,8,8")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    (prop,) = summary["propagations"]
    assert prop["subject"] == "propagation_models:nf_resnet" and prop["builds"] == 8
    assert prop["reproduce"].startswith("weight-init propagate propagation_models:nf_resnet")
    assert summary["config"]["propagations"][0]["input_shape"] == [8, 3, 8, 8]
    for name in ("std", "brock", "gradient"):
        assert (out / "figures" / f"propagation1-{name}.png").is_file()
    assert "Signal propagation: propagation_models:nf_resnet" in (out / "index.html").read_text()
    bad = report(tmp_path / "bad", "--propagate", "propagation_models:nf_resnet")
    assert bad.returncode == 2 and "--propagate" in cli_helpers.one_line(bad)
    raises = report(tmp_path / "raises", "--propagate", "propagation_models:forward_raises=4,20")
    assert raises.returncode == 2 and "forward broke" in cli_helpers.one_line(raises)
    assert not (tmp_path / "raises").exists()
