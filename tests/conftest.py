"""This project's test configuration: the test selection and weight_init's Hypothesis profile.

Selection: pyproject's ``addopts`` deselects the ``slow`` marker (``-m 'not slow'``), so
``tox`` / ``pytest`` runs the default selection in a few minutes, locally and under CI
alike: the default run's chance of a false failure is the one docs/error-rates.md counts
(at most 1e-4). The ``slow`` selection (expensive checks and calibration measurements at
their own stated levels) runs with ``tox -e slow`` or ``pytest -m slow``.

Profile: the installed pytest plugin is inert (it loads no profile unless
``--weight-init-profile`` is given), so this project chooses its own:
``--weight-init-profile``, else ``--hypothesis-profile`` (Hypothesis loads it), else
$WEIGHT_INIT_PROFILE, else $HYPOTHESIS_PROFILE, else ``ci`` under CI, else ``dev`` (see
:mod:`weight_init.properties.claims._profiles`). ``dev`` and ``ci`` are both derandomized, so
a default run draws the same cases every time and cannot fail by chance
(docs/error-rates.md); ``WEIGHT_INIT_PROFILE=explore`` opts in to random cases.
"""

from __future__ import annotations

import importlib
import importlib.util

import pytest


def _import_torch_once() -> None:
    """pytester restores ``sys.modules`` when its test ends: torch first imported during such
    a test would be imported a second time by a later test of the same process, and a second
    import of its C extension crashes the interpreter (a segfault in the next torch test).
    Imported here, before any test, it is in every snapshot and never removed."""
    if importlib.util.find_spec("torch") is not None:
        importlib.import_module("torch")


def pytest_configure(config: pytest.Config) -> None:
    _import_torch_once()
    if config.getoption("--weight-init-profile", default=None):
        return  # the plugin loaded it
    if config.getoption("--hypothesis-profile", default=None):
        return  # Hypothesis's own option wins
    from weight_init.properties.claims import _profiles as profiles

    profiles.load(None)
