"""``weight-init propagate`` as a user runs it: a subprocess, its exit code, stdout, stderr.

Bad input and misbehaving code under test give one line on stderr and exit 2; the
``--max-growth`` gate exits 1 on the notes' vanishing network and 0 on their Xavier one;
``--json`` is one record per operation in execution order; ``--out`` writes the HTML page
through the report writer and refuses a directory that is not a report.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytestmark = pytest.mark.torch

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import cli_helpers  # noqa: E402


def _cli(*args: str) -> object:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    import subprocess

    return subprocess.run(
        [cli_helpers.WEIGHT_INIT, "propagate", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=HERE,
        env=env,
    )


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
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    proc = _cli(*args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)  # type: ignore[attr-defined]
    assert message in cli_helpers.one_line(proc)  # type: ignore[arg-type]
    assert proc.stdout == ""  # type: ignore[attr-defined]


def test_code_that_exits_zero_and_prints_pass_is_no_pass() -> None:
    proc = _cli("propagation_models:exits_zero", "--input-shape", "4,20")
    assert proc.returncode == 2  # type: ignore[attr-defined]
    assert proc.stdout == ""  # type: ignore[attr-defined]
    assert "exited (exit code 0)" in proc.stderr  # type: ignore[attr-defined]


def test_max_growth_gate_exit_codes() -> None:
    args = ["--input-shape", "200,500", "--builds", "2", "--max-growth", "10"]
    bad = _cli("propagation_models:notes_mlp_small", *args)
    assert bad.returncode == 1, bad.stderr  # type: ignore[attr-defined]
    assert "signal vanishes" in bad.stdout  # type: ignore[attr-defined]
    good = _cli("propagation_models:notes_mlp", *args)
    assert good.returncode == 0, good.stderr  # type: ignore[attr-defined]
    assert "gate --max-growth 10: pass" in good.stdout  # type: ignore[attr-defined]


def test_json_is_one_record_per_operation_in_execution_order() -> None:
    proc = _cli("propagation_models:small_mlp", "--input-shape", "16,20", "--json")
    assert proc.returncode == 0, proc.stderr  # type: ignore[attr-defined]
    data = json.loads(proc.stdout)  # type: ignore[attr-defined]
    names = [r["name"] for r in data["records"]]
    assert names == ["input", "0", "1", "2", "3"]
    for r in data["records"][1:]:
        assert {"name", "type", "mean", "std", "predicted_std", "grad_std"} <= set(r)
        assert r["std"]["mean"] > 0 and r["predicted_std"] > 0 and r["grad_std"]["mean"] > 0
    assert data["mode"] == "train" and data["builds"] == 8
    assert data["reproduce"].startswith("weight-init propagate propagation_models:small_mlp")


def test_out_writes_a_report_and_refuses_a_user_directory(tmp_path: Path) -> None:
    out = tmp_path / "prop"
    proc = _cli(
        "propagation_models:nf_resnet",
        "--input-shape",
        "8,3,8,8",
        "--builds",
        "2",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr  # type: ignore[attr-defined]
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
    refused = _cli("propagation_models:small_mlp", "--input-shape", "4,20", "--out", str(mine))
    assert refused.returncode == 2  # type: ignore[attr-defined]
    assert "--out" in cli_helpers.one_line(refused)  # type: ignore[arg-type]
    assert (mine / "notes.txt").read_text() == "keep"


def test_report_propagate_section(tmp_path: Path) -> None:
    out = tmp_path / "report"
    proc = cli_helpers.tiny_report(
        out, "--propagate", "propagation_models:nf_resnet=8,3,8,8", cwd=HERE
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    (prop,) = summary["propagations"]
    assert prop["subject"] == "propagation_models:nf_resnet" and prop["builds"] == 8
    assert prop["reproduce"].startswith("weight-init propagate propagation_models:nf_resnet")
    assert summary["config"]["propagations"][0]["input_shape"] == [8, 3, 8, 8]
    for name in ("std", "brock", "gradient"):
        assert (out / "figures" / f"propagation1-{name}.png").is_file()
    assert "Signal propagation: propagation_models:nf_resnet" in (out / "index.html").read_text()
    bad = cli_helpers.tiny_report(tmp_path / "bad", "--propagate", "propagation_models:nf_resnet")
    assert bad.returncode == 2 and "--propagate" in cli_helpers.one_line(bad)
    raises = cli_helpers.tiny_report(
        tmp_path / "raises", "--propagate", "propagation_models:forward_raises=4,20", cwd=HERE
    )
    assert raises.returncode == 2 and "forward broke" in cli_helpers.one_line(raises)
    assert not (tmp_path / "raises").exists()
