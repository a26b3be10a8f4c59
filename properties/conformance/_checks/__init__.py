"""Conformance checks as objects: one interface (:class:`Check`), a registry, the pooled draws.

``base`` holds the interface and :class:`CheckResult`; ``pool`` the pooled draws every check
reads; ``exact`` and ``statistical`` the built-in checks with their typed evidence; ``spectrum``
the Marchenko-Pastur spectrum check (registered through :func:`register_check`);
``registry`` the registered checks in table order. The runner is
:func:`weight_init.properties.conformance._runner.check_initializer`.
"""

from __future__ import annotations

from weight_init.properties.conformance._checks.base import Check, CheckKind, CheckResult, Evidence
from weight_init.properties.conformance._checks.pool import Block, Pool, build_pool
from weight_init.properties.conformance._checks.registry import (
    BOUNDS,
    CONSTANT_VALUE,
    DETERMINISM,
    DISTINCT_UNITS,
    DISTRIBUTION,
    DTYPE,
    FAN_RULE,
    FINITE,
    FRESH_DRAWS,
    INPUT_INDEPENDENCE,
    MEAN,
    ORTHOGONALITY,
    SHAPE,
    SIGN_SYMMETRY,
    SPECTRUM,
    UNIT_INDEPENDENCE,
    VARIANCE,
    register_check,
    registered_checks,
    unregister_check,
)

__all__ = [
    "BOUNDS",
    "CONSTANT_VALUE",
    "DETERMINISM",
    "DISTINCT_UNITS",
    "DISTRIBUTION",
    "DTYPE",
    "FAN_RULE",
    "FINITE",
    "FRESH_DRAWS",
    "INPUT_INDEPENDENCE",
    "MEAN",
    "ORTHOGONALITY",
    "SHAPE",
    "SIGN_SYMMETRY",
    "SPECTRUM",
    "UNIT_INDEPENDENCE",
    "VARIANCE",
    "Block",
    "Check",
    "CheckKind",
    "CheckResult",
    "Evidence",
    "Pool",
    "build_pool",
    "register_check",
    "registered_checks",
    "unregister_check",
]
