"""The notes' claims as checked statements, and the suite that runs them.

Each claim (symmetry is never broken under zeros, small weights vanish, big weights
saturate tanh, Xavier decays boundedly, the second moment follows its recursion, the
mean-field theory agrees with the measurement) is a registered :class:`Property`; the
suite, the Hypothesis tests, the report and the calibration all read :data:`PROPERTIES`.

Examples
--------
>>> from weight_init.properties.claims import PROPERTIES
>>> "vanishing" in PROPERTIES
True
"""

from __future__ import annotations

from weight_init._lazy import attach

_REGISTRY = "weight_init.properties.claims._registry"

#: Public name -> the private module that defines it.
_LAZY = {
    "PROPERTIES": _REGISTRY,
    "Property": _REGISTRY,
    "register": _REGISTRY,
    "unregister": _REGISTRY,
    "run_suite": "weight_init.properties.claims._suite",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
