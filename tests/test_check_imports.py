"""What ``weight-init check`` imports, in the parent and in the child.

The command's goal is a wall time within 0.3 s of ``python -c "import numpy,
scipy.special"`` (benchmarks/bench_check.py measures it; timing does not belong in tests).
What keeps it there is structural and tested here, each in a fresh interpreter (a
subprocess) so this process's imports do not hide anything:

* the parent (the command line) hands off to its child importing neither numpy nor scipy
  nor the checks, so numpy is imported once, in the child, and the child can be a fork of a
  bare interpreter (:func:`weight_init.app._isolation.start_method`);
* the child's check path never imports :mod:`scipy.stats` (0.5-1.5 s on a loaded machine):
  its p-values come from :mod:`weight_init.properties.conformance._tails`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from _levels import PASS_ALPHA, PASS_ALPHA_ARGS

HEAVY = ("numpy", "scipy", "scipy.stats", "weight_init.properties", "torch", "matplotlib")

USER_MODULE = """
import numpy as np

def he(fan_in, fan_out, rng):
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)
"""


def _python(code: str, cwd: Path) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter; it prints one JSON document last."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    doc: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return doc


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    (tmp_path / "user_inits.py").write_text(USER_MODULE)
    return tmp_path


def test_the_command_line_hands_off_without_heavy_imports(user_dir: Path) -> None:
    doc = _python(
        f"""
        import contextlib, io, json, sys
        sys.path.insert(0, ".")
        from weight_init.app import _cli as cli
        from weight_init.app._isolation import start_method
        method = start_method()
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            argv = ["check", "user_inits:he", "--scheme", "he_normal", *{PASS_ALPHA_ARGS!r}]
            code = cli.main(argv)
        heavy = [m for m in {HEAVY!r} if m in sys.modules]
        print(json.dumps({{"code": code, "out": out.getvalue(), "heavy": heavy,
                           "method": method}}))
        """,
        user_dir,
    )
    assert doc["code"] == 0 and "user_inits:he as he_normal (in_out): PASS" in str(doc["out"])
    assert doc["heavy"] == [], f"the parent of `weight-init check` imported {doc['heavy']}"
    if sys.platform.startswith("linux"):
        assert doc["method"] == "fork"


def test_every_parser_but_the_named_one_stays_unimported(tmp_path: Path) -> None:
    doc = _python(
        """
        import json, sys
        from weight_init.app import _cli as cli
        cli.build_parser("check")
        mods = [m for m in sys.modules if m.startswith("weight_init.app._commands.")]
        heavy = [m for m in ("numpy", "scipy") if m in sys.modules]
        print(json.dumps({"mods": sorted(mods), "heavy": heavy}))
        """,
        tmp_path,
    )
    assert doc["heavy"] == []
    assert doc["mods"] == ["weight_init.app._commands.argtypes", "weight_init.app._commands.check"]


def test_a_bad_scheme_is_still_one_usage_line(user_dir: Path) -> None:
    """``--scheme`` is validated in the child now; the message and exit code are argparse's."""
    proc = subprocess.run(
        [sys.executable, "-m", "weight_init.app._cli", "check", "user_inits:he", "--scheme", "x"],
        cwd=user_dir,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("weight-init check: error: argument --scheme: unknown scheme")
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("scheme", "outcome"),
    [
        ("he_normal", "pass"),
        ("he_uniform", "fail"),  # the failure path: diagnosis, smallest failing shape
        ("glorot_truncated_normal", "fail"),
        ("orthogonal", "fail"),
        ("variance_scaling(scale=2.0, mode='fan_in', distribution='normal')", "pass"),
    ],
)
def test_the_check_in_the_child_does_not_import_scipy_stats(
    user_dir: Path, scheme: str, outcome: str
) -> None:
    alpha = PASS_ALPHA if outcome == "pass" else 1e-4  # a pass asserted: tests/_levels.py
    doc = _python(
        f"""
        import json, sys
        sys.path.insert(0, ".")
        from weight_init.app._child_tasks import check_command
        out = check_command("user_inits:he", {scheme!r}, None, 0, {alpha!r}, as_json=True)
        print(json.dumps({{"outcome": json.loads(out.text)["outcome"],
                           "stats": "scipy.stats" in sys.modules}}))
        """,
        user_dir,
    )
    assert doc == {"outcome": outcome, "stats": False}


def test_start_method_uses_the_forkserver_once_numpy_is_imported() -> None:
    import numpy  # noqa: F401  (this process has it anyway: the point is stated)

    from weight_init.app._isolation import start_method

    assert start_method() == ("forkserver" if sys.platform.startswith("linux") else "spawn")
