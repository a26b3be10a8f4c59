"""The verification products, one room each.

* :mod:`weight_init.properties.claims`: the notes' claims as checked statements and the
  suite that runs them;
* :mod:`weight_init.properties.conformance`: checking one initializer (or a convolution
  kernel, or a ``forward_prop``) against a scheme, identifying what it does;
* :mod:`weight_init.properties.audit`: checking every parameter of a whole model;
* :mod:`weight_init.properties.propagation`: a whole model's signal propagation at
  initialization, measured and predicted.

The modules whose names start with ``_`` are private. Imports are one way:
the shared modules here <- claims <- conformance <- audit <- propagation.
Hypothesis settings profiles are :mod:`weight_init.properties.claims` 's; the pytest plugin
(entry point ``pytest11``) is :mod:`weight_init.app._pytest_plugin`.

Examples
--------
The notes' claims, and a check of one initializer (here a registered scheme, which is
itself an initializer):

>>> from weight_init import get_scheme
>>> from weight_init.properties import PROPERTIES, check_initializer
>>> list(PROPERTIES)[:2]
['symmetry', 'vanishing']
>>> check_initializer(get_scheme("orthogonal"), "orthogonal", seed=0, alpha=1e-6).outcome
'pass'
"""

from __future__ import annotations

from weight_init._lazy import attach

#: Public entry points, imported lazily (the pytest plugin imports this package in every
#: pytest run, so nothing heavy is imported here): name -> defining subpackage.
_LAZY = {
    "check_initializer": "weight_init.properties.conformance",
    "check_forward_prop": "weight_init.properties.conformance",
    "check_kernel_initializer": "weight_init.properties.conformance",
    "identify": "weight_init.properties.conformance",
    "ConformanceResult": "weight_init.properties.conformance",
    "Identification": "weight_init.properties.conformance",
    "run_suite": "weight_init.properties.claims",
    "PROPERTIES": "weight_init.properties.claims",
    "AuditReport": "weight_init.properties.audit",
    "TestResult": "weight_init.properties._results",
    "Verdict": "weight_init.properties._results",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
