"""The pytest plugin: --weight-init-check items and the weight_init_check fixture, via pytester.

The checks run at the default family-wise false-alarm rate 1e-4 and power 0.99; the
initializers are seeded by the check (seed 0), so the outcomes are deterministic.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

MODULE = """
import numpy as np

def he(fan_in, fan_out, rng):
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)

def lecun(fan_in, fan_out, rng):
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(1.0 / fan_in)

NOT_CALLABLE = 3
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(myinit=MODULE)
    pytester.syspathinsert()
    return pytester


def test_check_items_and_fixture(project: pytest.Pytester) -> None:
    """One pytest run (subprocesses are slow): option items and fixture, passing and failing."""
    project.makepyfile(
        test_inits="""
from myinit import he, lecun

def test_he(weight_init_check):
    verdict = weight_init_check(he, "he_normal")
    assert verdict.passed and verdict.metadata["scheme"] == "he_normal"

def test_lecun(weight_init_check):
    weight_init_check(lecun, "he_normal")

def test_spec_string(weight_init_check):
    weight_init_check("myinit:he", "he_normal", convention="in_out")
"""
    )
    result = project.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--weight-init-check",
        "myinit:he=he_normal",
        "--weight-init-check",
        "myinit:lecun=he_normal@in_out",
        "--weight-init-check",
        "myinit:NOT_CALLABLE=he_normal",
    )
    result.assert_outcomes(passed=3, failed=3)
    result.stdout.fnmatch_lines(
        [
            "*lecun as he_normal (in_out): FAIL*",
            "*weight-init-check*myinit:lecun=he_normal@in_out*",
            "*diagnosis: variance is 0.5*missing gain sqrt(2)*",
            "*bad input: myinit:NOT_CALLABLE is a int, not callable*",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_malformed_check_option_is_a_usage_error(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "--weight-init-check", "x")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*expects SPEC=SCHEME*"])


def test_plugin_import_is_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, weight_init.app.pytest_plugin; "
        "print(any(m in sys.modules for m in ('scipy', 'torch', "
        "'weight_init.properties.conformance')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stdout + out.stderr
