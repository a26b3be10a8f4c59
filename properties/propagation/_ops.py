"""What one operation of a torch model is, for propagation: its kind, activation and layout.

:func:`classify_module` reads a module's type, :func:`classify_call` a ``torch.fx`` function
or method call. Kinds:

``linear``, ``conv``
    an affine map whose weight the mean-field rule reads (``nn.Linear``, ``nn.Conv{1,2,3}d``);
``activation``
    an element-wise nonlinearity, named as in :mod:`weight_init.activations` when registered
    (``tanh``, ``sigmoid``, ``relu``, ``leaky_relu`` at slope 0.01, ``selu``, ``linear``) and
    otherwise a numpy function built here (``gelu``, ``silu``, ``elu``, ``relu6``,
    ``softplus``, ``hardtanh``, ``leaky_relu`` at another slope), integrated the same way;
``batchnorm``, ``layernorm``, ``groupnorm``
    normalizations (instance norm is a group norm with one channel per group);
``dropout``, ``embedding``, ``add``, ``sub``, ``mul``, ``cat``, ``shape``, ``param``
    (``shape``: moves entries without changing them: view, reshape, flatten, permute,
    transpose, contiguous, squeeze, unsqueeze, identity; ``param``: a parameter used
    directly, e.g. a layer-scale vector);
``unknown``
    no mean-field rule here (pooling, attention, matmul, softmax, ...): passed through.

``channels_first`` says where the operation's output keeps its channels: True (axis 1:
convolutions, batch norm, pooling, group norm), False (last axis: linear, layer norm,
embedding, attention), None (inherited from the input: element-wise operations).
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import special

from weight_init.activations import Activation, get_activation


@dataclass(frozen=True)
class Op:
    """One operation's kind (module docstring), activation and attributes."""

    kind: str
    type_name: str
    activation: Activation | None = None
    channels_first: bool | None = None
    attrs: dict[str, Any] = field(default_factory=dict)


def _gelu(x: NDArray[Any]) -> NDArray[Any]:
    return x * special.ndtr(x)


def _gelu_tanh(x: NDArray[Any]) -> NDArray[Any]:
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def _silu(x: NDArray[Any]) -> NDArray[Any]:
    return x * 0.5 * (1.0 + np.tanh(0.5 * x))


def _relu6(x: NDArray[Any]) -> NDArray[Any]:
    return np.clip(x, 0.0, 6.0)


def _softplus(x: NDArray[Any]) -> NDArray[Any]:
    return np.logaddexp(0.0, x)


def _hardsigmoid(x: NDArray[Any]) -> NDArray[Any]:
    return np.clip(x + 3.0, 0.0, 6.0) / 6.0


def _hardswish(x: NDArray[Any]) -> NDArray[Any]:
    return x * _hardsigmoid(x)


def _mish(x: NDArray[Any]) -> NDArray[Any]:
    return x * np.tanh(np.logaddexp(0.0, x))


def _named(name: str, fn: Any) -> Activation:
    act = get_activation(fn)
    return Activation(name, act.phi, act.dphi, gain=None, bounded=name in ("relu6", "hardtanh"))


_FIXED: dict[str, Activation] = {
    "gelu": _named("gelu", _gelu),
    "gelu_tanh": _named("gelu_tanh", _gelu_tanh),
    "silu": _named("silu", _silu),
    "relu6": _named("relu6", _relu6),
    "softplus": _named("softplus", _softplus),
    "hardsigmoid": _named("hardsigmoid", _hardsigmoid),
    "hardswish": _named("hardswish", _hardswish),
    "mish": _named("mish", _mish),
}


def activation_named(name: str, **kw: float) -> Activation:
    """The activation ``name`` (registered, or one of this module's), with its parameters:
    ``leaky_relu(negative_slope)``, ``elu(alpha)``, ``hardtanh(min_val, max_val)``."""
    if name == "leaky_relu":
        slope = float(kw.get("negative_slope", 0.01))
        if slope == 0.01:
            return get_activation("leaky_relu")
        return _named(f"leaky_relu({slope:g})", lambda x: np.where(x > 0, x, slope * x))
    if name == "elu":
        alpha = float(kw.get("alpha", 1.0))
        return _named("elu", lambda x: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0))))
    if name == "hardtanh":
        lo, hi = float(kw.get("min_val", -1.0)), float(kw.get("max_val", 1.0))
        return _named("hardtanh", lambda x: np.clip(x, lo, hi))
    if name in _FIXED:
        return _FIXED[name]
    return get_activation(name)


#: Module type name -> activation name (parameters read from the module).
_ACT_MODULES = {
    "Tanh": "tanh",
    "Sigmoid": "sigmoid",
    "ReLU": "relu",
    "LeakyReLU": "leaky_relu",
    "SELU": "selu",
    "GELU": "gelu",
    "SiLU": "silu",
    "ELU": "elu",
    "ReLU6": "relu6",
    "Softplus": "softplus",
    "Hardtanh": "hardtanh",
    "Hardsigmoid": "hardsigmoid",
    "Hardswish": "hardswish",
    "Mish": "mish",
}
_SHAPE_MODULES = {"Flatten", "Unflatten", "Identity"}
_DROPOUT_MODULES = {"Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout"}


def _module_activation(module: Any, name: str) -> Activation:
    if name == "gelu" and getattr(module, "approximate", "none") == "tanh":
        return _FIXED["gelu_tanh"]
    keys = ("negative_slope", "alpha", "min_val", "max_val")
    kw = {k: float(getattr(module, k)) for k in keys if hasattr(module, k)}
    return activation_named(name, **{k: v for k, v in kw.items() if math.isfinite(v)})


def classify_module(module: Any) -> Op:
    """The :class:`Op` of a torch module (by its type and attributes)."""
    t = type(module).__name__
    if t in _ACT_MODULES:
        return Op("activation", t, _module_activation_safe(module, _ACT_MODULES[t]))
    if t == "Linear" or t == "NonDynamicallyQuantizableLinear":
        return Op("linear", t, channels_first=False)
    if t in ("Conv1d", "Conv2d", "Conv3d"):
        return Op("conv", t, channels_first=True)
    if t.startswith("BatchNorm") or t.startswith("SyncBatchNorm"):
        return Op("batchnorm", t, channels_first=True)
    if t in ("LayerNorm", "RMSNorm"):
        return Op("layernorm", t, channels_first=False, attrs={"rms": t == "RMSNorm"})
    if t == "GroupNorm" or t.startswith("InstanceNorm"):
        return Op("groupnorm", t, channels_first=True)
    if t in _DROPOUT_MODULES:
        return Op("dropout", t, attrs={"p": float(getattr(module, "p", 0.0))})
    if t == "Embedding":
        return Op("embedding", t, channels_first=False)
    if t in _SHAPE_MODULES:
        return Op("shape", t)
    first = t.startswith(("AvgPool", "MaxPool", "AdaptiveAvgPool", "AdaptiveMaxPool", "LPPool"))
    last = t in ("MultiheadAttention",)
    return Op("unknown", t, channels_first=True if first else (False if last else None))


def _module_activation_safe(module: Any, name: str) -> Activation:
    try:
        return _module_activation(module, name)
    except (TypeError, ValueError, AttributeError):
        return activation_named(name)


#: Function / method names -> activation names.
_ACT_CALLS = {
    "relu": "relu",
    "relu_": "relu",
    "tanh": "tanh",
    "tanh_": "tanh",
    "sigmoid": "sigmoid",
    "sigmoid_": "sigmoid",
    "gelu": "gelu",
    "silu": "silu",
    "selu": "selu",
    "elu": "elu",
    "leaky_relu": "leaky_relu",
    "relu6": "relu6",
    "softplus": "softplus",
    "hardtanh": "hardtanh",
    "hardsigmoid": "hardsigmoid",
    "hardswish": "hardswish",
    "mish": "mish",
}
_SHAPE_CALLS = {
    "view",
    "reshape",
    "flatten",
    "permute",
    "transpose",
    "contiguous",
    "squeeze",
    "unsqueeze",
    "t",
    "clone",
    "detach",
    "float",
    "to",
    "type_as",
    "expand",
    "expand_as",
}
_ADD = {operator.add, operator.iadd, "add", "add_", "__add__", "__iadd__", "__radd__"}
_SUB = {operator.sub, operator.isub, "sub", "sub_", "__sub__"}
_MUL = {operator.mul, operator.imul, operator.truediv, "mul", "mul_", "div", "__mul__"}


def call_name(target: Any) -> str:
    """A short name of an fx call target (``add``, ``relu``, ``getitem``, ...)."""
    if isinstance(target, str):
        return target
    return str(getattr(target, "__name__", type(target).__name__)).strip("_") or "call"


def classify_call(target: Any, kwargs: dict[str, Any]) -> Op:
    """The :class:`Op` of an fx ``call_function`` / ``call_method`` target."""
    name = call_name(target)
    if target in _ADD or name in ("add", "iadd"):
        return Op("add", "add")
    if target in _SUB or name in ("sub", "isub"):
        return Op("sub", "sub")
    if target in _MUL or name in ("mul", "imul", "truediv", "div"):
        return Op("mul", name, attrs={"divide": name in ("truediv", "div")})
    if name in _ACT_CALLS:
        act_name = _ACT_CALLS[name]
        if act_name == "gelu" and kwargs.get("approximate") == "tanh":
            return Op("activation", name, _FIXED["gelu_tanh"])
        kw = {k: float(v) for k, v in kwargs.items() if isinstance(v, (int, float))}
        kw.pop("inplace", None)
        return Op("activation", name, activation_named(act_name, **kw))
    if name in _SHAPE_CALLS:
        return Op("shape", name)
    if name in ("cat", "concat", "concatenate"):
        return Op("cat", name)
    if name == "dropout":
        return Op("dropout", name, attrs={"p": float(kwargs.get("p", 0.5))})
    if name in ("layer_norm", "rms_norm"):
        return Op("layernorm", name, channels_first=False, attrs={"rms": name == "rms_norm"})
    if name == "group_norm":
        return Op("groupnorm", name, channels_first=True)
    return Op("unknown", name)
