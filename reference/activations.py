"""Activation functions with their derivatives and recommended gains.

Each :class:`Activation` carries ``phi``, its derivative ``dphi`` (both
element-wise on numpy arrays) and the gain ``torch.nn.init.calculate_gain``
documents for it (see :mod:`weight_init.gains`). ``phi(0) = 0`` holds for all
registered activations but ``sigmoid`` (whose mean is 1/2, so its layers are
never centred).

Registered names: ``linear``, ``tanh``, ``sigmoid``, ``relu``,
``leaky_relu`` (negative slope 0.01, PyTorch's default) and ``selu``
(Klambauer et al. 2017 constants).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from weight_init.errors import UnknownActivationError
from weight_init.gains import calculate_gain

Array = NDArray[np.floating]
ArrayFn = Callable[[Array], Array]

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
LEAKY_RELU_SLOPE = 0.01


@dataclass(frozen=True)
class Activation:
    """An element-wise nonlinearity ``phi`` with derivative ``dphi``.

    Calling it applies ``phi``.

    Parameters
    ----------
    name : str
        The activation's name.
    phi : callable
        ``phi(x)``, element-wise on numpy arrays.
    dphi : callable
        Its derivative, element-wise.
    gain : float or None
        The factor by which a fan-in weight variance rule should be scaled so that
        ``E[phi(z)^2] * gain^2 ~ Var(z)`` (PyTorch's convention); ``None`` for user
        callables, whose gain is unknown.
    bounded : bool, default False
        Whether ``phi`` is bounded (tanh, sigmoid), so that it can saturate.

    Examples
    --------
    >>> import numpy as np
    >>> from weight_init.activations import get_activation
    >>> tanh = get_activation("tanh")
    >>> tanh(np.array([0.0])), tanh.dphi(np.array([0.0])), round(tanh.gain, 4)
    (array([0.]), array([1.]), 1.6667)
    """

    name: str
    phi: ArrayFn = field(repr=False)
    dphi: ArrayFn = field(repr=False)
    gain: float | None
    bounded: bool = False

    def __call__(self, x: Array) -> Array:
        return self.phi(x)


def _linear(x: Array) -> Array:
    return x


def _linear_d(x: Array) -> Array:
    return np.ones_like(x)


def _tanh_d(x: Array) -> Array:
    t = np.tanh(x)
    return 1.0 - t * t


def _sigmoid(x: Array) -> Array:
    # 0.5 * (1 + tanh(x / 2)) is exact and overflow-free for any x.
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _sigmoid_d(x: Array) -> Array:
    s = _sigmoid(x)
    return s * (1.0 - s)


def _relu(x: Array) -> Array:
    return np.maximum(x, 0.0)


def _relu_d(x: Array) -> Array:
    # Convention: relu'(0) = 0, as autograd frameworks use.
    return (x > 0).astype(x.dtype)


def _leaky_relu(x: Array) -> Array:
    return np.where(x > 0, x, LEAKY_RELU_SLOPE * x)


def _leaky_relu_d(x: Array) -> Array:
    return np.where(x > 0, 1.0, LEAKY_RELU_SLOPE).astype(x.dtype)


def _selu(x: Array) -> Array:
    neg = SELU_ALPHA * np.expm1(np.minimum(x, 0.0))
    return SELU_SCALE * np.where(x > 0, x, neg)


def _selu_d(x: Array) -> Array:
    neg = SELU_ALPHA * np.exp(np.minimum(x, 0.0))
    return (SELU_SCALE * np.where(x > 0, 1.0, neg)).astype(x.dtype)


ACTIVATIONS: dict[str, Activation] = {
    "linear": Activation("linear", _linear, _linear_d, gain=calculate_gain("linear")),
    "tanh": Activation("tanh", np.tanh, _tanh_d, gain=calculate_gain("tanh"), bounded=True),
    "sigmoid": Activation(
        "sigmoid", _sigmoid, _sigmoid_d, gain=calculate_gain("sigmoid"), bounded=True
    ),
    "relu": Activation("relu", _relu, _relu_d, gain=calculate_gain("relu")),
    "leaky_relu": Activation(
        "leaky_relu",
        _leaky_relu,
        _leaky_relu_d,
        gain=calculate_gain("leaky_relu", LEAKY_RELU_SLOPE),
    ),
    "selu": Activation("selu", _selu, _selu_d, gain=calculate_gain("selu")),
}


def activation_names() -> list[str]:
    """Names of the registered activations, sorted.

    Returns
    -------
    list of str
        Every name :func:`get_activation` accepts.

    Examples
    --------
    >>> from weight_init.activations import activation_names
    >>> activation_names()
    ['leaky_relu', 'linear', 'relu', 'selu', 'sigmoid', 'tanh']
    """
    return sorted(ACTIVATIONS)


def _numerical_derivative(fn: ArrayFn) -> ArrayFn:
    """Central difference with step ``h = 1e-5 * max(1, |x|)`` (error O(h^2))."""

    def dphi(x: Array) -> Array:
        h = 1e-5 * np.maximum(1.0, np.abs(x))
        return (np.asarray(fn(x + h)) - np.asarray(fn(x - h))) / (2.0 * h)

    return dphi


def get_activation(spec: str | Activation | ArrayFn) -> Activation:
    """Resolve a name, an :class:`Activation` or a plain callable.

    Parameters
    ----------
    spec : str or Activation or callable
        A registered name (:func:`activation_names`), an activation (returned unchanged), or
        an element-wise array function, which becomes an :class:`Activation` whose
        derivative is a central finite difference and whose gain is unknown (``None``).

    Returns
    -------
    Activation
        The activation.

    Raises
    ------
    UnknownActivationError
        ``spec`` names no registered activation, or is neither a name nor a callable.

    Examples
    --------
    >>> import numpy as np
    >>> from weight_init.activations import get_activation
    >>> get_activation("relu").gain  # sqrt(2)
    1.4142135623730951
    >>> softsign = get_activation(lambda x: x / (1 + np.abs(x)))
    >>> softsign.gain is None, round(float(softsign.dphi(np.array([1.0]))[0]), 6)
    (True, 0.25)
    """
    if isinstance(spec, Activation):
        return spec
    if isinstance(spec, str):
        try:
            return ACTIVATIONS[spec]
        except KeyError:
            raise UnknownActivationError(
                f"unknown activation {spec!r}; choose one of {', '.join(activation_names())}"
            ) from None
    if callable(spec):
        name = getattr(spec, "__name__", type(spec).__name__)
        return Activation(name, spec, _numerical_derivative(spec), gain=None)
    raise UnknownActivationError(
        f"activation must be a name or a callable, not {type(spec).__name__}"
    )
