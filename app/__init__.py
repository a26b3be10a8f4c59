"""Application layer: the ``weight-init`` command line, the pytest plugin and calibration.

Dependency direction: ``weight_init`` (the reference, folder ``reference/``) imports
neither :mod:`weight_init.properties` nor :mod:`weight_init.reports`; those import the
reference; this package sits on top of all three and nothing below imports it.

Examples
--------
>>> from weight_init.app import main
>>> main(["experiment", "--scheme", "xavier", "--depth", "1", "--width", "10",
...       "--samples", "20", "--input-dim", "10"])
Hidden layer 1 had mean ... and std ...
0
"""

from __future__ import annotations

from weight_init._lazy import attach

#: Public name -> the module that defines it.
_LAZY = {"main": "weight_init.app._cli"}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
