"""Hypothesis settings profiles.

* ``dev`` (default locally) and ``ci`` (default when ``CI`` is set): derandomized
  (Hypothesis derives its choices from each test's name, so every run draws the same
  cases), 25 examples, no example database. Statistical tests inside a property are
  seeded from the drawn seed, so a default run is fully deterministic: it cannot go red by
  chance, and it is green or red the same way on every machine with the same versions
  (docs/error-rates.md, "A default test run").
* ``explore``: 25 examples, random (a fresh set of cases on every run) and the example
  database on: the opt-in for exploring new cases locally. A statistical test then fails
  by chance at its stated rate on each new case.
* ``thorough``: 300 examples, random; used to measure false-alarm rates.

Choose with ``--weight-init-profile NAME`` (pytest) or the environment variable
``WEIGHT_INIT_PROFILE``; ``HYPOTHESIS_PROFILE`` is honoured too.

They are registered with Hypothesis under prefixed names (``weight-init-ci``, ...;
:func:`hypothesis_name`), so loading ours never replaces a project's own profile of the
same short name, nor Hypothesis' built-in ``ci`` profile (loaded by Hypothesis itself on
CI). Both spellings are accepted wherever a name is given.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

from weight_init.errors import InvalidParameterError

PROFILES: tuple[str, ...] = ("dev", "ci", "explore", "thorough")
ENV_VAR = "WEIGHT_INIT_PROFILE"
PREFIX = "weight-init-"


def hypothesis_name(name: str) -> str:
    """The name Hypothesis knows our profile ``name`` by (``ci`` -> ``weight-init-ci``)."""
    return name if name.startswith(PREFIX) else PREFIX + name


_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "print_blob": True,
}

#: The default run's settings, locally (``dev``) and under CI (``ci``): derandomized.
_DETERMINISTIC = {"max_examples": 25, "derandomize": True, "database": None, **_COMMON}
settings.register_profile(hypothesis_name("dev"), **_DETERMINISTIC)  # type: ignore[arg-type]
settings.register_profile(hypothesis_name("ci"), **_DETERMINISTIC)  # type: ignore[arg-type]
#: Random cases, said explicitly: a profile registered under CI inherits Hypothesis' own
#: ``ci`` settings (derandomized) for every setting it does not give.
_RANDOM = {"derandomize": False, **_COMMON}
settings.register_profile(hypothesis_name("explore"), max_examples=25, **_RANDOM)  # type: ignore[arg-type]
settings.register_profile(hypothesis_name("thorough"), max_examples=300, **_RANDOM)  # type: ignore[arg-type]


def default_profile() -> str:
    """$WEIGHT_INIT_PROFILE, else $HYPOTHESIS_PROFILE, else ``ci`` under CI, else ``dev``."""
    for var in (ENV_VAR, "HYPOTHESIS_PROFILE"):
        name = os.environ.get(var)
        if name:
            return name
    return "ci" if os.environ.get("CI") else "dev"


def load(name: str | None = None) -> str:
    """Load profile ``name`` (or :func:`default_profile`; short or prefixed) and return its
    short name."""
    chosen = name or default_profile()
    short = chosen.removeprefix(PREFIX)
    if short not in PROFILES:
        raise InvalidParameterError(
            f"unknown Hypothesis profile {chosen!r}; choose one of {PROFILES}"
        )
    settings.load_profile(hypothesis_name(short))
    return short
