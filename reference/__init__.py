"""weight_init: reference implementation and property-based verification of weight initialization.

Conventions: weights are ``(fan_in, fan_out)`` and act as ``H @ W`` (see
:mod:`weight_init.layouts` for PyTorch's ``(out, in)``); layers are numbered
from 1 in messages and from 0 in the ``acts`` dict, as in the seed notes.
"""

from __future__ import annotations

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
