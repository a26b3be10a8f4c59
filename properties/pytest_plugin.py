"""pytest plugin of weight_init (entry point ``pytest11``), active wherever it is installed.

Options (group ``weight-init``):

``--weight-init-profile {dev,ci,thorough}``
    Hypothesis settings profile (see :mod:`weight_init.properties.profiles`).
"""

from __future__ import annotations

from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("weight-init", "weight_init initializer verification")
    group.addoption(
        "--weight-init-profile",
        choices=("dev", "ci", "thorough"),
        default=None,
        help="Hypothesis profile: dev (random, 25 examples), ci (derandomized), "
        "thorough (300 examples). Default: $WEIGHT_INIT_PROFILE, else ci under CI, else dev.",
    )


def pytest_configure(config: pytest.Config) -> None:
    from weight_init.properties import profiles

    chosen = profiles.load(config.getoption("--weight-init-profile"))
    config.stash[_PROFILE_KEY] = chosen


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [f"weight-init: hypothesis profile {config.stash.get(_PROFILE_KEY, '?')!r}"]


_PROFILE_KEY: Any = pytest.StashKey[str]()
