"""``weight-init experiment``: the notes' lines on stdout; usage errors exit 2 with one line."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from weight_init.app._cli import main
from weight_init.experiment import forward_prop
from weight_init.schemes import get_scheme

LINE = re.compile(r"^Hidden layer (\d+) had mean (-?\d+\.\d{6}) and std (\d+\.\d{6})$")


def test_prints_the_notes_lines(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "experiment",
            "--scheme",
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
        assert m, f"line {i + 1} does not look like the notes': {line!r}"
        assert int(m.group(1)) == i + 1
        assert float(m.group(3)) == pytest.approx(expected.stds[i], abs=5e-7)


def test_same_seed_same_output(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "experiment",
        "--scheme",
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


def test_init_is_a_hidden_alias_of_scheme(capsys: pytest.CaptureFixture[str]) -> None:
    """``--init`` (the flag's earlier name) runs the same experiment; help shows ``--scheme``."""
    argv = ["experiment", "--depth", "2", "--width", "8", "--samples", "10", "--input-dim", "8"]
    assert main([*argv, "--scheme", "xavier"]) == 0
    by_scheme = capsys.readouterr().out
    assert main([*argv, "--init", "xavier"]) == 0
    assert capsys.readouterr().out == by_scheme
    with pytest.raises(SystemExit):
        main(["experiment", "--help"])
    shown = capsys.readouterr().out
    assert "--scheme" in shown and "--init" not in shown


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["experiment", "--scheme", "bogus"], "argument --scheme: unknown scheme 'bogus'"),
        (
            ["experiment", "--scheme", "xavier", "--depth", "-1"],
            "argument --depth: expected a positive",
        ),
        (
            ["experiment", "--scheme", "xavier", "--depth", "0"],
            "argument --depth: expected a positive",
        ),
        (
            ["experiment", "--scheme", "xavier", "--width", "wide"],
            "argument --width: expected a pos",
        ),
        (
            ["experiment", "--scheme", "xavier", "--activation", "swish"],
            "unknown activation 'swish'",
        ),
        (
            ["experiment", "--scheme", "xavier", "--seed", "-2"],
            "argument --seed: expected a non-neg",
        ),
        (["experiment"], "the following arguments are required: --scheme"),
        (["experiment", "--scheme", "xavier", "--frobnicate"], "unrecognized arguments"),
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
        [sys.executable, "-m", "weight_init.app._cli", "experiment", "--scheme", "nope"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1
