"""weight_init: reference implementation and property-based verification of weight initialization.

Conventions: weights are ``(fan_in, fan_out)`` and act as ``H @ W`` (see
:mod:`weight_init.layouts` for PyTorch's ``(out, in)``); layers are numbered
from 1 in messages and from 0 in the ``acts`` dict, as in the seed notes.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from weight_init.activations import ACTIVATIONS, Activation, activation_names, get_activation
    from weight_init.backward import Gradients, backward_prop, forward_backward, gradient_descent
    from weight_init.errors import (
        InitializerCallError,
        InitializerError,
        InitializerShapeError,
        InitializerTypeError,
        InvalidInputError,
        InvalidLayerSizesError,
        InvalidParameterError,
        NonFiniteWeightsError,
        UnknownActivationError,
        UnknownSchemeError,
        WeightInitError,
    )
    from weight_init.experiment import ForwardProp, draw_weights, forward_prop
    from weight_init.gains import calculate_gain
    from weight_init.schemes import (
        SCHEMES,
        Scheme,
        VarianceRule,
        constant,
        get_scheme,
        orthogonal,
        scheme_names,
        variance_scaling,
    )

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
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "ACTIVATIONS",
    "SCHEMES",
    "Activation",
    "ForwardProp",
    "Gradients",
    "InitializerCallError",
    "InitializerError",
    "InitializerShapeError",
    "InitializerTypeError",
    "InvalidInputError",
    "InvalidLayerSizesError",
    "InvalidParameterError",
    "NonFiniteWeightsError",
    "Scheme",
    "UnknownActivationError",
    "UnknownSchemeError",
    "VarianceRule",
    "WeightInitError",
    "__version__",
    "activation_names",
    "backward_prop",
    "calculate_gain",
    "constant",
    "draw_weights",
    "forward_backward",
    "forward_prop",
    "get_activation",
    "get_scheme",
    "gradient_descent",
    "orthogonal",
    "scheme_names",
    "variance_scaling",
]
