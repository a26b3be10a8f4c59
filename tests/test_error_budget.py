"""A default test run cannot fail by chance: its Hypothesis profiles are derandomized (the same
cases every run, every sample seeded from them), random exploration is an opt-in profile, and
the statistical decisions of a run can be counted (tests/test_decision_log.py;
docs/error-rates.md, "A default test run"). Nothing statistical is asserted here.
"""

from __future__ import annotations

import pytest
from hypothesis import settings

from weight_init.properties.claims import _profiles as profiles


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
