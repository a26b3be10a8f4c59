"""``weight-init report --audit MODULE:FACTORY``: the model audit as a report section: exit
code, stderr, the files written or not. A factory that exits is run as a user runs it (a
subprocess: the command's isolation is what is tested); the rest call ``main`` in this
process (the factory still runs in the command's isolated child).

Each parameter's check has family-wise false-alarm rate 1e-4 (Holm) and the power plan of
``check`` (:mod:`weight_init.properties.audit._loop`); the models are seeded by the report's
``--seed`` (``torch.manual_seed`` per build). The failing model's conv has 9x the documented
variance: at 20 builds (8,640 pooled entries) its variance test rejects with certainty for any
practical purpose, so the fixed seed does not hide a flaky case.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from cli_helpers import TINY_REPORT, one_line, run_main, tiny_report
from weight_init.reports._schema import SUMMARY_SCHEMA, validate

pytest.importorskip("torch")
pytestmark = pytest.mark.torch

HERE = Path(__file__).parent


def report(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return tiny_report(out, *extra, cwd=HERE)


def report_here(
    capsys: pytest.CaptureFixture[str], out: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    """:func:`report` through ``main`` in this process."""
    return run_main(capsys, "report", "--out", str(out), *TINY_REPORT, *extra, cwd=HERE)


def test_conforming_model_exits_0_with_the_section_everywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r"
    proc = report_here(capsys, out, "--audit", "audit_models:norm_only", "--audit-builds", "20")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert validate(summary, SUMMARY_SCHEMA) == []
    (audit,) = summary["audits"]
    assert (audit["spec"], audit["outcome"], audit["builds"]) == (
        "audit_models:norm_only",
        "pass",
        20,
    )
    names = [p["name"] for p in audit["parameters"]]
    assert names == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert {p["identified_rule"] for p in audit["parameters"]} == {"1", "0"}
    md = (out / "report.md").read_text()
    assert "## Model audit" in md and "### audit_models:norm_only: PASS" in md
    assert "| 0.weight | LayerNorm | 8 | out_in |" in md
    assert "--audit audit_models:norm_only --audit-builds 20" in md  # reproduce line
    html = (out / "index.html").read_text()
    assert 'id="audit"' in html and "<td>0.bias</td>" in html


def test_failing_parameter_exits_1_names_it_and_the_quirk(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r"
    rule = "3.weight=torch_linear_default@torch.conv"
    proc = report_here(
        capsys,
        out,
        "--audit",
        "audit_models:buggy_cnn",
        "--audit",
        "audit_models:norm_only",
        "--expect",
        rule,
        "--audit-builds",
        "20",
    )
    assert proc.returncode == 1, proc.stderr
    err = one_line(proc)
    assert "audit audit_models:buggy_cnn: FAIL" in err and "0.weight" in err
    summary = json.loads((out / "summary.json").read_text())
    assert validate(summary, SUMMARY_SCHEMA) == []
    buggy, norm = summary["audits"]
    assert (buggy["outcome"], norm["outcome"]) == ("fail", "pass")
    assert buggy["expect"] == norm["expect"] == [rule]
    by = {p["name"]: p for p in buggy["parameters"]}
    assert by["0.weight"]["outcome"] == "fail"
    assert by["0.weight"]["fan_rule"] == "receptive field left out of fan_in"
    assert by["0.weight"]["fans"] == [27, 144] and by["0.weight"]["layout"] == "torch.conv"
    assert by["3.weight"]["expected_from"] == "--expect 3.weight"
    assert summary["config"]["audits"][0] == {
        "spec": "audit_models:buggy_cnn",
        "expect": [rule],
        "builds": 20,
    }
    md = (out / "report.md").read_text()
    assert "### audit_models:buggy_cnn: FAIL" in md
    assert "receptive field left out of fan_in; mean w^2 / expected = " in md
    assert f"weight-init audit audit_models:buggy_cnn --expect {rule} --builds 20" in md


@pytest.mark.parametrize(
    ("factory", "message", "here"),
    [
        ("audit_models:raising_factory", "raised RuntimeError: boom", True),
        ("audit_models:exiting_factory", "raised SystemExit", False),
        ("audit_models:not_a_model", "not a torch.nn.Module", True),
    ],
)
def test_bad_factory_is_one_line_exit_2_and_nothing_written(
    tmp_path: Path, factory: str, message: str, here: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "new" / "r"
    args = ("--audit", factory, "--audit-builds", "2")
    proc = report_here(capsys, out, *args) if here else report(out, *args)
    assert proc.returncode == 2
    assert message in one_line(proc)
    assert proc.stdout == ""
    assert list(tmp_path.iterdir()) == [], "a half-written report or its staging directory"


def test_bad_factory_leaves_an_earlier_report_in_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r"
    assert report_here(capsys, out, "--format", "json").returncode == 0
    before = (out / "summary.json").read_text()
    proc = report_here(capsys, out, "--format", "json", "--audit", "audit_models:raising_factory")
    assert proc.returncode == 2 and "boom" in one_line(proc)
    assert (out / "summary.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--audit", "nocolon"), "expected MODULE:FACTORY"),
        (("--audit", "audit_models:norm_only", "--expect", "x"), "PATTERN=SCHEME"),
        (("--audit", "audit_models:norm_only", "--expect", "*=nope"), "nope"),
        (("--audit", "audit_models:norm_only", "--expect", "*=he_normal@nope"), "layout"),
        (("--expect", "*=he_normal"), "--expect applies to --audit"),
        (("--audit", "audit_models:norm_only", "--audit-builds", "0"), "positive integer"),
    ],
)
def test_bad_audit_flags_are_one_line_exit_2_before_any_work(
    tmp_path: Path, args: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    proc = report_here(capsys, tmp_path / "r", *args)
    assert proc.returncode == 2
    assert message in one_line(proc)
    assert list(tmp_path.iterdir()) == []
