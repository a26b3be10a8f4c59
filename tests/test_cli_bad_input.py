"""One line and exit 2 for every bad input a user can give.

The command-line cases run the installed ``weight-init`` as a subprocess (started together,
awaited together); the Python-API cases check that the exception names the caller's
argument and belongs to the package's hierarchy.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cli_helpers import WEIGHT_INIT
from weight_init import errors

#: argv after ``weight-init`` -> fragment of the one stderr line (exit code 2).
CLI_CASES: dict[str, tuple[list[str], str]] = {
    "unhashable literal in a framework spec": (
        ["check", "torch:kaiming_uniform_(a={[1]: 2})", "--scheme", "he_uniform"],
        "the value of a must be a literal",
    ),
    "report --width 1e9": (
        ["report", "--width", "1000000000", "--out", "r1"],
        "--width 1000000000 --depth 10 --samples 1000 needs about",
    ),
    "report --phase-width 1e9": (
        ["report", "--phase-width", "1000000000", "--out", "r2"],
        "--phase-width 1000000000 --phase-samples 512 needs about",
    ),
    "experiment whose signal overflows": (
        # the overflowing command at a fifth of the width (the same overflow, faster)
        [
            *("experiment", "--scheme", "big_normal", "--activation", "relu", "--depth", "400"),
            *("--width", "100", "--samples", "100", "--input-dim", "100"),
        ],
        "the signal overflowed float64 at layer",
    ),
}


def test_cli_bad_inputs_exit_2_with_one_line(tmp_path: Path) -> None:
    procs = {
        name: subprocess.Popen(
            [WEIGHT_INIT, *argv],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, (argv, _) in CLI_CASES.items()
    }
    problems = []
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=600)
        fragment = CLI_CASES[name][1]
        if proc.returncode != 2 or len(err.strip().splitlines()) != 1 or fragment not in err:
            problems.append(f"{name}: exit {proc.returncode}, stderr {err!r}")
        if out.strip() or "Warning" in err or "Traceback" in err:
            problems.append(f"{name}: stdout {out[:200]!r}, stderr {err[:200]!r}")
    assert not problems, "\n".join(problems)
    assert list(tmp_path.iterdir()) == [], "a refused report wrote something"


def _he(fan_in: int, fan_out: int, rng: np.random.Generator) -> Any:
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)


def test_check_initializer_negative_seed_names_seed() -> None:
    from weight_init.properties.conformance._runner import check_initializer

    with pytest.raises(errors.InvalidParameterError, match=r"^seed must be a non-negative"):
        check_initializer(_he, "he_normal", seed=-1)


def test_run_suite_bad_arguments() -> None:
    from weight_init.properties.claims._suite import run_suite

    with pytest.raises(errors.InvalidParameterError, match=r"^seed must be a non-negative"):
        run_suite(seed=-1)
    with pytest.raises(errors.NotCallableError, match="forward_prop must be callable") as info:
        run_suite(forward_prop=42)  # type: ignore[arg-type]
    assert isinstance(info.value, TypeError)


def test_check_forward_prop_blames_the_argument_not_the_candidate() -> None:
    from weight_init.experiment import forward_prop
    from weight_init.properties.conformance._forward_check import check_forward_prop

    def fp(hidden_layer_sizes: Any, init: Any, x: Any = None) -> Any:
        r = forward_prop(hidden_layer_sizes, init, x=x)
        return r.acts, r.means, r.stds

    for kwargs, name in (({"n_samples": 0}, "n_samples"), ({"input_dim": -2}, "input_dim")):
        with pytest.raises(errors.InvalidParameterError, match=rf"^{name} must be a positive"):
            check_forward_prop(fp, **kwargs)
