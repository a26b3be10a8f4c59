"""A default test run cannot fail by chance: its Hypothesis profiles are derandomized (the same
cases every run, every sample seeded from them), random exploration is an opt-in profile, and
the statistical decisions of a run can be counted (docs/error-rates.md, "A default test
run"). Nothing statistical is asserted here.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from hypothesis import settings

from weight_init.properties import _multiple_testing as multiple_testing
from weight_init.properties.claims import _profiles as profiles

ROOT = Path(__file__).resolve().parent.parent


def test_default_profiles_are_derandomized_and_explore_is_random(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for var in (profiles.ENV_VAR, "HYPOTHESIS_PROFILE", "CI"):
        monkeypatch.delenv(var, raising=False)
    assert profiles.default_profile() == "dev"
    monkeypatch.setenv("CI", "true")
    assert profiles.default_profile() == "ci"
    for name in ("dev", "ci"):
        s = settings.get_profile(profiles.hypothesis_name(name))
        assert s.derandomize and s.database is None and s.max_examples == 25, name
    explore = settings.get_profile(profiles.hypothesis_name("explore"))
    assert not explore.derandomize and explore.max_examples == 25
    thorough = settings.get_profile(profiles.hypothesis_name("thorough"))
    assert not thorough.derandomize and thorough.max_examples == 300
    assert profiles.PROFILES == ("dev", "ci", "explore", "thorough")


def test_every_holm_decision_is_recorded_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "decisions.tsv"
    monkeypatch.delenv(multiple_testing.RECORD_ENV, raising=False)
    multiple_testing.holm_reject([0.5], 0.01)
    assert not path.exists()
    monkeypatch.setenv(multiple_testing.RECORD_ENV, str(path))
    multiple_testing.holm_reject([0.2, 0.004], 0.01)
    multiple_testing.holm_reject([1e-9, 0.3, 0.9], 1e-5)
    lines = [line.split("\t") for line in path.read_text().splitlines()]
    assert [(a, m, r) for a, m, r, *_ in lines] == [("0.01", "2", "1"), ("1e-05", "3", "1")]
    assert float(lines[0][3]) == 0.004 and lines[0][4].startswith("tests/test_error_budget.py")
    assert lines[0][5] == __name__  # the module that asked


def test_decision_count_sums_the_levels_of_decisions_that_did_not_reject(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "decision_count", ROOT / "benchmarks" / "decision_count.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = tmp_path / "decisions.tsv"
    path.write_text(
        "1e-05\t7\t0\t0.3\ttests/a.py::t1\tweight_init.properties.conformance._runner\n"
        "1e-05\t7\t0\t0.2\ttests/a.py::t2\tweight_init.properties.conformance._runner\n"
        "0.0001\t3\t0\t0.5\ttests/b.py::t\tweight_init.properties._verdict\n"
        "1e-05\t7\t1\t1e-300\ttests/c.py::t\tweight_init.properties.conformance._runner\n"
        "0.005\t7\t0\t0.2\ttests/d.py::t\tweight_init.reports._calibration\n"
    )
    text = module.summarize(path)
    assert "| **sum** | **3** | **0.00012** |" in text
    assert "| p <= 1e-10 x threshold | 1 |" in text
    assert "<= 0.00012" in text and "| tests/b.py | 0.0001 |" in text
    assert "| (tabulated from recorded p-values, not verdicts) | 1 | - |" in text
