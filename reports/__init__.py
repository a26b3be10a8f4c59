"""Statistical reports: the notes' experiments and the property verdicts as figures and tables.

Examples
--------
>>> from weight_init.reports import ReportConfig
>>> ReportConfig().seed
0
"""

from __future__ import annotations

from weight_init._lazy import attach

#: Public name -> the module that defines it.
_LAZY = {
    "Report": "weight_init.reports._build",
    "build_report": "weight_init.reports._build",
    "ReportConfig": "weight_init.reports._config",
    "write_files": "weight_init.reports._render",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
