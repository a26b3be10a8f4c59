"""The pytest plugin: --weight-init-check items and the weight_init_check and
weight_init_audit fixtures, via pytester.

The checks whose passes are asserted run at family-wise false-alarm rate ``PASS_ALPHA`` =
1e-7 (tests/_levels.py; ``--weight-init-alpha``) and power 0.99; the
initializers are seeded by the check (seed 0), so the outcomes are deterministic. The audited
models are built under torch.manual_seed from SeedSequence(0) (20 builds); the failing one's
conv has 9x (default rule) and 1.5x (--expect he_uniform) the expected variance over 9,720
pooled entries, far beyond what a 1e-4 test misses.
"""

from __future__ import annotations

import pytest

from _levels import PASS_ALPHA

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
    weight_init_check("myinit:he", "he_normal", layout="in_out")

def test_local_function_runs_in_process(weight_init_check):
    import numpy as np

    def he_local(fan_in, fan_out, rng):  # cannot be pickled: checked in this process
        return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)

    assert weight_init_check(he_local, "he_normal").passed
"""
    )
    result = project.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--weight-init-alpha",  # passes are asserted: tests/_levels.py
        repr(PASS_ALPHA),
        "--weight-init-check",
        "myinit:he=he_normal",
        "--weight-init-check",
        "myinit:lecun=he_normal@in_out",
        "--weight-init-check",
        "myinit:NOT_CALLABLE=he_normal",
    )
    result.assert_outcomes(passed=4, failed=3)
    result.stdout.fnmatch_lines(
        [
            "*lecun as he_normal (in_out): FAIL*",
            "*weight-init-check*myinit:lecun=he_normal@in_out*",
            "*diagnosis: variance is 0.5*missing gain sqrt(2)*",
            "*bad input: myinit:NOT_CALLABLE is a int, not callable*",
        ]
    )
    assert "Traceback" not in result.stdout.str()


MODELS = """
import torch
from torch import nn


def good():
    return nn.Sequential(nn.LayerNorm(8), nn.LayerNorm(4))


def buggy():
    conv = nn.Conv2d(3, 16, 3, bias=False)
    with torch.no_grad():  # the receptive field left out of fan_in: 9x the variance
        conv.weight.uniform_(-(3 ** -0.5), 3 ** -0.5)
    return nn.Sequential(conv)
"""

AUDIT_TESTS = """
import pytest
from torch import nn
from models import buggy, good

def test_good(weight_init_audit):
    report = weight_init_audit(good, builds=20)
    assert report.passed and [p.name for p in report.params][:2] == ["0.weight", "0.bias"]
    assert report.reproduce == (
        "weight-init audit models:good --builds 20 --seed 0 --alpha 0.0001"
    )
    report.assert_conforms()

def test_good_spec_string(weight_init_audit):
    weight_init_audit.assert_conforms("models:good", builds=20)

def test_local_factory_runs_in_process(weight_init_audit):
    def local():
        return nn.Sequential(nn.LayerNorm(4))
    assert weight_init_audit(local, builds=20).passed

def test_buggy_default(weight_init_audit):
    weight_init_audit.assert_conforms(buggy, builds=20)

def test_buggy_expect(weight_init_audit):
    report = weight_init_audit(buggy, ["0.*=he_uniform@torch.conv"], builds=20, seed=3)
    assert report.outcome == "fail"
    report.assert_conforms()

def test_bad_rule(weight_init_audit):
    weight_init_audit(good, ["x"])
"""


def test_audit_fixture(project: pytest.Pytester) -> None:
    """One pytest run: a conforming model passes (callable, string, local function); a
    buggy one fails with the parameter, expected and identified rules and a reproduction."""
    pytest.importorskip("torch")
    project.makepyfile(models=MODELS, test_audit_fixture=AUDIT_TESTS)
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=3)
    out = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*models:buggy: audit FAIL (20 builds, seed 0, family-wise alpha 0.0001*",
            "*0.weight (Conv2d 16x3x3x3, torch.conv, fans 27,144): FAIL; expected "
            "torch_linear_default (default: torch/nn/modules/conv.py); identified uniform*"
            "fan rule: receptive field left out of fan_in*",
            "*reproduce: weight-init audit models:buggy --builds 20 --seed 0 --alpha 0.0001",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*0.weight (Conv2d 16x3x3x3, torch.conv, fans 27,144): FAIL; expected he_uniform "
            "(--expect 0.[*])*",
            "*reproduce: weight-init audit models:buggy --expect '0.*=he_uniform@torch.conv' "
            "--builds 20 --seed 3 --alpha 0.0001",
            "*expected PATTERN=SCHEME[[]@LAYOUT[]], got 'x'*",
        ]
    )
    assert "CheckFailed" in out  # report.assert_conforms() is an AssertionError subclass


AUDIT_OPTION_TESTS = """
from torch import nn
from models import good

calls = []


def linear():
    return nn.Sequential(nn.Linear(64, 32))


def test_resolution_max_builds_and_pooling(weight_init_audit):
    report = weight_init_audit(linear, resolution="1%", max_builds=12, pool=False)
    assert (report.target, report.builds, report.outcome) == (0.01, 12, "inconclusive")
    assert report.params[0].builds_needed > 12
    assert report.reproduce == (
        "weight-init audit test_audit_options:linear --builds 12 --seed 0 --alpha 1e-07 "
        "--resolution 0.01 --no-pooling"
    )


def test_a_local_factory_takes_the_same_options(weight_init_audit):
    def local():
        return nn.Sequential(nn.Linear(64, 32))

    report = weight_init_audit(local, resolution=0.01, max_builds=12)
    assert (report.target, report.builds, report.outcome) == (0.01, 12, "inconclusive")
    assert "preset=None, resolution=0.01, max_builds=12" in report.reproduce


def test_preset_reaches_the_audit(weight_init_audit):
    weight_init_audit(good, builds=2, preset="timm")


def test_unknown_preset_is_said_before_the_model_is_built(weight_init_audit):
    def local():
        calls.append(1)
        return good()

    try:
        weight_init_audit(local, preset="keras")
    finally:
        assert calls == []


def test_bad_resolution(weight_init_audit):
    weight_init_audit.assert_conforms("models:good", resolution="150%")
"""


def test_audit_fixture_takes_the_commands_options(project: pytest.Pytester) -> None:
    """In process: ``preset``, ``resolution``, ``max_builds`` and ``pool`` reach the audit
    (isolated and in-process factories alike) and bad values fail the test with the command
    line's own one-line message before the model is built. ``nn.Linear(64, 32)``'s weight at
    1% std error needs more than 12 builds (the report says how many), so ``max_builds=12``
    leaves it inconclusive, never passed."""
    pytest.importorskip("torch")
    project.makepyfile(models=MODELS, test_audit_options=AUDIT_OPTION_TESTS)
    # no failure is asserted of the linear model: tests/_levels.py
    result = project.runpytest_inprocess(
        "-p", "no:cacheprovider", "--weight-init-alpha", repr(PASS_ALPHA)
    )
    result.assert_outcomes(passed=2, failed=3)
    result.stdout.fnmatch_lines(
        [
            "*--preset timm: no preset for torch.nn.modules.container.Sequential*",
            "*weight-init audit: argument --preset: invalid choice: 'keras'*",
            "*weight-init audit: argument --resolution: expected a size between 0 and 100%*",
        ],
        consecutive=False,
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
        "import sys, weight_init.app._pytest_plugin; "
        "print(any(m in sys.modules for m in ('numpy', 'scipy', 'torch', "
        "'weight_init.properties.conformance._runner', 'weight_init.properties.audit._loop')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stdout + out.stderr


try:  # the variables Hypothesis reads to decide it runs in CI (private; a fallback list)
    from hypothesis._settings import _CI_VARS

    CI_VARIABLES: tuple[str, ...] = tuple(_CI_VARS)
except ImportError:  # pragma: no cover - other Hypothesis versions
    CI_VARIABLES = ("CI", "__TOX_ENVIRONMENT_VARIABLE_ORIGINAL_CI", "GITHUB_ACTIONS", "TF_BUILD")

UNRELATED_TEST = """
import sys
from pathlib import Path

from hypothesis import settings


def test_record_settings(request):
    loaded = request.config.pluginmanager.hasplugin("weight_init")
    name = "with-plugin" if loaded else "without-plugin"
    Path(name + ".txt").write_text(settings.get_current_profile_name() + repr(settings.default))
    assert settings.default.max_examples == 100


def test_no_heavy_import():
    heavy = [m for m in ("numpy", "scipy", "weight_init.properties") if m in sys.modules]
    assert heavy == []
"""


@pytest.mark.parametrize("ci", ["", "1"])
def test_plugin_is_inert_in_an_unrelated_project(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str
) -> None:
    """Installed, the plugin changes no Hypothesis setting and imports no numpy.

    An unrelated project's settings are the same with and without the plugin, with and
    without CI=1 (max_examples 100; locally also deadline 200 ms and an example database;
    under CI=1 Hypothesis >= 6.131 itself loads its built-in ``ci`` profile, which the
    plugin must leave alone)."""
    monkeypatch.setenv("CI", ci)
    if not ci:  # every variable by which Hypothesis detects CI (tox keeps an original CI too)
        for var in (*CI_VARIABLES, "CI"):
            monkeypatch.delenv(var, raising=False)
    for var in ("WEIGHT_INIT_PROFILE", "HYPOTHESIS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    pytester.makepyfile(test_unrelated=UNRELATED_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    assert "weight-init: hypothesis profile" not in result.stdout.str()
    pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:weight_init", "-k", "record"
    ).assert_outcomes(passed=1)
    with_plugin = (pytester.path / "with-plugin.txt").read_text()
    assert with_plugin == (pytester.path / "without-plugin.txt").read_text()
    if not ci:
        assert with_plugin.startswith("default")
        assert "deadline=timedelta(milliseconds=200)" in with_plugin
        assert "database=None" not in with_plugin


def test_hypothesis_profile_option_is_honoured(pytester: pytest.Pytester) -> None:
    """The unrelated project's own ``--hypothesis-profile`` wins; ``--weight-init-profile``
    loads ours only when asked."""
    pytester.makeconftest(
        "from hypothesis import settings\nsettings.register_profile('mine', max_examples=7)\n"
        "settings.register_profile('ci', max_examples=100)\n"
    )
    pytester.makepyfile(
        test_profile="""
from hypothesis import settings

def test_profile(request):
    expected = {"mine": 7, "ci": 25}[request.config.getoption("--hypothesis-profile") or "ci"]
    assert settings.default.max_examples == expected
    # loading ours replaced neither the project's profiles nor Hypothesis' own "ci"
    assert settings.get_profile("mine").max_examples == 7
    assert settings.get_profile("ci").max_examples == 100
"""
    )
    pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--hypothesis-profile", "mine"
    ).assert_outcomes(passed=1)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--weight-init-profile", "ci")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*weight-init: hypothesis profile 'ci'*"])
