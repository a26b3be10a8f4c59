"""This project's test configuration: the test selection and weight_init's Hypothesis profile.

Selection: pyproject's ``addopts`` deselects the ``slow`` marker (``-m 'not slow'``), so a
local ``tox`` / ``pytest`` runs the default selection in a few minutes; under CI (the
environment variable ``CI`` set to a non-empty value other than ``0``/``false``, as
``.ci/run`` runs) that default is widened to every test, so CI also runs the ``slow``
selection. An explicit ``-m`` other than the default is always kept.

Profile: the installed pytest plugin is inert (it loads no profile unless
``--weight-init-profile`` is given), so this project chooses its own:
``--weight-init-profile``, else ``--hypothesis-profile`` (Hypothesis loads it), else
$WEIGHT_INIT_PROFILE, else $HYPOTHESIS_PROFILE, else ``ci`` under CI, else ``dev`` (see
:mod:`weight_init.properties.claims._profiles`). ``dev`` and ``ci`` are both derandomized, so
a default run draws the same cases every time and cannot fail by chance
(docs/error-rates.md); ``WEIGHT_INIT_PROFILE=explore`` opts in to random cases.
"""

from __future__ import annotations

import os

import pytest

#: The marker expression pyproject's addopts gives; widened under CI.
DEFAULT_SELECTION = "not slow"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def pytest_configure(config: pytest.Config) -> None:
    if in_ci() and config.option.markexpr == DEFAULT_SELECTION:
        config.option.markexpr = ""  # CI runs the slow selection too
    if config.getoption("--weight-init-profile", default=None):
        return  # the plugin loaded it
    if config.getoption("--hypothesis-profile", default=None):
        return  # Hypothesis's own option wins
    from weight_init.properties.claims import _profiles as profiles

    profiles.load(None)
