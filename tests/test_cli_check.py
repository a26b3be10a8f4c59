"""``weight-init check``, ``identify`` and ``check-forward``: exit codes 0/1/2, tables, JSON.

The checks run at family-wise false-alarm rate 1e-4 with power 0.99 (seed 0, deterministic).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _levels import PASS_ALPHA_ARGS as PASS
from weight_init.app._cli import main

TESTS = Path(__file__).parent

USER_MODULE = """
import numpy as np

def good(fan_in, fan_out, rng):
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)

def raises(fan_in, fan_out):
    raise RuntimeError("kaput")

def returns_none(fan_in, fan_out):
    return None

NOT_CALLABLE = 3
"""


@pytest.fixture
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "user_inits.py").write_text(USER_MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(TESTS))
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_conforming_module_attr_exits_0(user_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", "user_inits:good", "--scheme", "he_normal", *PASS)
    assert code == 0, out + err
    assert "user_inits:good as he_normal (in_out): PASS" in out


def test_layout_flag_its_hidden_alias_and_torch_scheme_names(
    user_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--layout`` chooses the layout; ``--convention`` (its earlier name) still works and is
    not in the help; torch's scheme names are aliases (``kaiming_normal`` is ``he_normal``)."""
    for flag in ("--layout", "--convention"):
        code, out, err = run(
            capsys, "check", "user_inits:good", "--scheme", "he_normal", flag, "in_out", *PASS
        )
        assert code == 0, out + err
        assert "user_inits:good as he_normal (in_out): PASS" in out
    code, out, err = run(capsys, "check", "user_inits:good", "--scheme", "kaiming_normal", *PASS)
    assert code == 0 and "user_inits:good as he_normal (in_out): PASS" in out, out + err
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    shown = capsys.readouterr().out
    assert "--layout" in shown and "--convention" not in shown


def test_nonconforming_exits_1_with_table_and_reason(
    user_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ("check", "buggy_initializers:truncated_without_correction")
    code, out, _ = run(capsys, *argv, "--scheme", "glorot_truncated_normal")
    assert code == 1
    assert "FAIL" in out and "variance" in out
    assert "variance is 0.77" in out and "truncated normal without variance correction" in out
    code, out, _ = run(capsys, *argv, "--scheme", "glorot_truncated_normal", "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["outcome"] == "fail" and "without variance correction" in doc["diagnosis"]
    assert {t["name"] for t in doc["tests"] if t["outcome"] == "fail"} >= {"variance"}


def test_torch_adapter_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch", reason="PyTorch is not installed")
    code, out, err = run(
        capsys, "check", "torch:xavier_uniform_", "--scheme", "glorot_uniform", *PASS
    )
    assert code == 0, out + err
    assert "(out_in): PASS" in out
    code, out, _ = run(capsys, "identify", "torch:Linear")
    assert code == 0 and "closest scheme: torch_linear_default" in out
    code, out, _ = run(capsys, "identify", "torch:Linear", "--json")
    assert json.loads(out)["closest_scheme"] == "torch_linear_default"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check", "no_such_module_xyz:f", "--scheme", "he_normal"], "cannot import module"),
        (["check", "user_inits:missing", "--scheme", "he_normal"], "has no attribute"),
        (["check", "user_inits:NOT_CALLABLE", "--scheme", "he_normal"], "not callable"),
        (["check", "user_inits:raises", "--scheme", "he_normal"], "raised RuntimeError: kaput"),
        (["check", "user_inits:returns_none", "--scheme", "he_normal"], "not a numeric array"),
        (["check", "user_inits:good", "--scheme", "nope"], "unknown scheme 'nope'"),
        (["check", "user_inits:good"], "--scheme"),
        (["check", "user_inits:good", "--scheme", "he_normal", "--layout", "x"], "layout"),
        (["check", "no_colon", "--scheme", "he_normal"], "expected MODULE:ATTR"),
        (["check", "user_inits:good", "--scheme", "he_normal", "--alpha", "2"], "alpha"),
        (["identify", "user_inits:raises"], "raised RuntimeError"),
        (["check-forward", "user_inits:NOT_CALLABLE"], "not callable"),
        (["check-forward", "user_inits:raises"], "raised"),
        (
            ["check-forward", "broken_forward_props:notes_forward_prop", "--activation", "relu"],
            "only be checked with tanh",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(
    user_dir: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2, f"weight-init {' '.join(argv)} -> {code}: {out}{err}"
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err + out


def test_check_forward_exit_codes(user_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check-forward", "broken_forward_props:notes_forward_prop", *PASS)
    assert code == 0, out + err
    assert "reference agreement" in out and "PASS" in out
    code, out, _ = run(
        capsys, "check-forward", "broken_forward_props:missing_last_layer", "--no-properties"
    )
    assert code == 1 and "returned 9 layers for 10 widths" in out
    code, out, _ = run(
        capsys,
        "check-forward",
        "broken_forward_props:stds_shifted",
        "--json",
        "--seed",
        "3",
        "--no-properties",
    )
    assert code == 1 and json.loads(out)["outcome"] == "fail"
