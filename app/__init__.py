"""Application layer: the ``weight-init`` command line, the pytest plugin and calibration.

Dependency direction: ``weight_init`` (the reference, folder ``reference/``) imports
neither :mod:`weight_init.properties` nor :mod:`weight_init.reports`; those import the
reference; this package sits on top of all three and nothing below imports it.
"""

from __future__ import annotations

from weight_init._lazy import attach

#: Public name -> the module that defines it.
_LAZY = {"main": "weight_init.app.cli"}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
