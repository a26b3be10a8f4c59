"""weight_init: reference implementation and property-based verification of weight initialization.

Conventions: weights are ``(fan_in, fan_out)`` and act as ``H @ W`` (see
:mod:`weight_init.layouts` for PyTorch's ``(out, in)``); layers are numbered
from 1 in messages and from 0 in the ``acts`` dict, as in the notes.

Examples
--------
The notes' experiment, seeded, on a small network; layer 1 is ``acts[0]``:

>>> import weight_init
>>> acts, means, stds = weight_init.forward_prop(
...     [64, 64], weight_init.get_scheme("xavier"), n_samples=32, input_dim=64, seed=0
... )
>>> sorted(acts), acts[0].shape
([0, 1], (32, 64))

The notes' own import keeps working:

>>> from weight_init.experiment import forward_prop
>>> forward_prop is weight_init.forward_prop
True
"""

from __future__ import annotations

from weight_init._lazy import attach

__version__ = "0.1.0"

#: Public name -> the submodule that defines it. The package is imported lazily (PEP 562), so
#: ``import weight_init`` (and the pytest plugin under it, loaded in every pytest run where the
#: package is installed) imports neither numpy nor scipy until a name is used.
_LAZY: dict[str, str] = {
    "ACTIVATIONS": "weight_init.activations",
    "Activation": "weight_init.activations",
    "activation_names": "weight_init.activations",
    "get_activation": "weight_init.activations",
    "Gradients": "weight_init.backward",
    "backward_prop": "weight_init.backward",
    "forward_backward": "weight_init.backward",
    "gradient_descent": "weight_init.backward",
    "InitializerCallError": "weight_init.errors",
    "InitializerError": "weight_init.errors",
    "InitializerShapeError": "weight_init.errors",
    "InitializerTypeError": "weight_init.errors",
    "InvalidInputError": "weight_init.errors",
    "InvalidLayerSizesError": "weight_init.errors",
    "InvalidParameterError": "weight_init.errors",
    "NonFiniteWeightsError": "weight_init.errors",
    "UnknownActivationError": "weight_init.errors",
    "UnknownSchemeError": "weight_init.errors",
    "WeightInitError": "weight_init.errors",
    "ForwardProp": "weight_init.experiment",
    "draw_weights": "weight_init.experiment",
    "forward_prop": "weight_init.experiment",
    "calculate_gain": "weight_init.gains",
    "SCHEMES": "weight_init.schemes",
    "Scheme": "weight_init.schemes",
    "VarianceRule": "weight_init.schemes",
    "constant": "weight_init.schemes",
    "get_scheme": "weight_init.schemes",
    "orthogonal": "weight_init.schemes",
    "scheme_names": "weight_init.schemes",
    "variance_scaling": "weight_init.schemes",
    "predict": "weight_init.theory",
    "check_initializer": "weight_init.properties.conformance",
    "check_forward_prop": "weight_init.properties.conformance",
    "identify": "weight_init.properties.conformance",
    "ConformanceResult": "weight_init.properties.conformance",
    "Identification": "weight_init.properties.conformance",
    "audit": "weight_init.properties.audit",
    "AuditReport": "weight_init.properties.audit",
    "run_suite": "weight_init.properties.claims",
    "TestResult": "weight_init.properties",
    "Verdict": "weight_init.properties",
}


__getattr__, __dir__, _ = attach(__name__, _LAZY)

#: The names a user needs; every other name above stays importable from here and from its
#: module, for the notes and for existing code.
__all__ = [
    "AuditReport",
    "ConformanceResult",
    "Identification",
    "Scheme",
    "TestResult",
    "Verdict",
    "WeightInitError",
    "__version__",
    "audit",
    "check_forward_prop",
    "check_initializer",
    "forward_prop",
    "get_scheme",
    "identify",
    "predict",
    "run_suite",
    "scheme_names",
]
