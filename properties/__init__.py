"""Property suite: the seed's claims as checked statements, and conformance checks of
other implementations against the reference.

Hypothesis settings profiles live in :mod:`weight_init.properties.profiles`;
the pytest plugin (entry point ``pytest11``) in
:mod:`weight_init.app.pytest_plugin`.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public entry points, imported lazily (the pytest plugin imports this package in every
#: pytest run, so nothing heavy is imported here): name -> defining module. (``identify``
#: is :func:`weight_init.properties.identify.identify`; its module has the same name.)
_LAZY = {
    "check_initializer": "weight_init.properties.conformance",
    "check_forward_prop": "weight_init.properties.forward_check",
    "run_suite": "weight_init.properties.suite",
    "PROPERTIES": "weight_init.properties.registry",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'weight_init.properties' has no attribute {name!r}")
