"""Checking one initializer: the exact and statistical checks, their power plan, the
sampling design, identification of what an initializer does, the diagnosis of a failure,
convolution kernels and ``forward_prop`` implementations.

Names are imported on first use, so that the check's child process loads only what it runs.

Examples
--------
>>> import numpy as np
>>> from weight_init.properties.conformance import check_initializer
>>> def he(fan_in, fan_out, seed):
...     rng = np.random.default_rng(seed)
...     return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2 / fan_in)
>>> result = check_initializer(he, "he_normal", seed=0, alpha=1e-6)
>>> result.passed
True
"""

from __future__ import annotations

from weight_init._lazy import attach

_CHECKS = "weight_init.properties.conformance._checks"

#: Public name -> the private module that defines it.
_LAZY = {
    "Check": _CHECKS,
    "CheckKind": _CHECKS,
    "CheckResult": _CHECKS,
    "Evidence": _CHECKS,
    "Pool": _CHECKS,
    "register_check": _CHECKS,
    "registered_checks": _CHECKS,
    "unregister_check": _CHECKS,
    "check_forward_prop": "weight_init.properties.conformance._forward_check",
    "Identification": "weight_init.properties.conformance._identify",
    "identify": "weight_init.properties.conformance._identify",
    "KernelVerdict": "weight_init.properties.conformance._kernels",
    "check_kernel_initializer": "weight_init.properties.conformance._kernels",
    "ConformanceResult": "weight_init.properties.conformance._result",
    "check_initializer": "weight_init.properties.conformance._runner",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
