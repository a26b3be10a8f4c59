"""Auditing a whole model: every parameter of a torch, Keras, Flax, Haiku, Equinox or NNX
model against its layer's documented default (the framework catalogs) or a declared rule.

Examples
--------
>>> from weight_init.properties.audit import AuditOptions
>>> AuditOptions().alpha
0.0001
"""

from __future__ import annotations

from weight_init._lazy import attach

_RESULT = "weight_init.properties.audit._result"

#: Public name -> the private module that defines it.
_LAZY = {
    "AuditOptions": _RESULT,
    "AuditReport": _RESULT,
    "ParamAudit": _RESULT,
    "audit_model": "weight_init.properties.audit._frameworks",
    "audit": "weight_init.properties.audit._frameworks",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
