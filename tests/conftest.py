"""This project's test configuration: load weight_init's Hypothesis profile.

The installed pytest plugin is inert (it loads no profile unless ``--weight-init-profile``
is given), so this project chooses its own: ``--weight-init-profile``, else
``--hypothesis-profile`` (Hypothesis loads it), else $WEIGHT_INIT_PROFILE, else
$HYPOTHESIS_PROFILE, else ``ci`` under CI, else ``dev`` (see
:mod:`weight_init.properties.profiles`).
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--weight-init-profile", default=None):
        return  # the plugin loaded it
    if config.getoption("--hypothesis-profile", default=None):
        return  # Hypothesis's own option wins
    from weight_init.properties import profiles

    profiles.load(None)
