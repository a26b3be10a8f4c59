"""``weight-init experiment``: the seed's lines on stdout; usage errors exit 2 with one line."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from weight_init.app.cli import main
from weight_init.experiment import forward_prop
from weight_init.schemes import get_scheme

LINE = re.compile(r"^Hidden layer (\d+) had mean (-?\d+\.\d{6}) and std (\d+\.\d{6})$")


def test_prints_the_seed_lines(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "experiment",
            "--init",
            "xavier",
            "--depth",
            "3",
            "--width",
            "40",
            "--samples",
            "50",
            "--input-dim",
            "30",
            "--seed",
            "4",
        ]
    )
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert len(out) == 3
    expected = forward_prop([40] * 3, get_scheme("xavier"), n_samples=50, input_dim=30, seed=4)
    for i, line in enumerate(out):
        m = LINE.match(line)
        assert m, f"line {i + 1} does not look like the seed's: {line!r}"
        assert int(m.group(1)) == i + 1
        assert float(m.group(3)) == pytest.approx(expected.stds[i], abs=5e-7)


def test_same_seed_same_output(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "experiment",
        "--init",
        "he_normal",
        "--activation",
        "relu",
        "--depth",
        "2",
        "--width",
        "20",
        "--samples",
        "10",
        "--input-dim",
        "8",
    ]
    main(argv)
    first = capsys.readouterr().out
    main(argv)
    assert capsys.readouterr().out == first


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["experiment", "--init", "bogus"], "argument --init: unknown scheme 'bogus'"),
        (
            ["experiment", "--init", "xavier", "--depth", "-1"],
            "argument --depth: expected a positive",
        ),
        (
            ["experiment", "--init", "xavier", "--depth", "0"],
            "argument --depth: expected a positive",
        ),
        (["experiment", "--init", "xavier", "--width", "wide"], "argument --width: expected a pos"),
        (["experiment", "--init", "xavier", "--activation", "swish"], "unknown activation 'swish'"),
        (["experiment", "--init", "xavier", "--seed", "-2"], "argument --seed: expected a non-neg"),
        (["experiment"], "the following arguments are required: --init"),
        (["experiment", "--init", "xavier", "--frobnicate"], "unrecognized arguments"),
        (["launch"], "invalid choice: 'launch'"),
        ([], "no command given"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2, f"{argv}: expected exit 2, got {code}"
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, f"{argv}: expected one line on stderr, got {captured.err!r}"
    assert "error:" in lines[0] and fragment in lines[0], lines[0]


def test_console_script_exit_code_and_no_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "weight_init.app.cli", "experiment", "--init", "nope"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1
