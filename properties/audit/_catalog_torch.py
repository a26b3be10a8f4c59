"""PyTorch layers' documented default initialization, as data: the torch part of the catalog.

One :class:`~weight_init.properties.audit._layer_param.LayerParam` per documented parameter, each
with its source file; :func:`weight_init.properties.audit._catalog.check_layer_param` instantiates
the layer at each spec under ``torch.random.fork_rng`` and ``torch.manual_seed(s)`` (``s``
drawn from the check's seed, one per layer), extracts the parameter and runs
:func:`weight_init.properties.conformance._kernels.check_parameter`.

Documented defaults (torch 2.x; ``U(-b, b)`` has variance ``b^2 / 3``):

* ``ConvNd``/``ConvTransposeNd``/``Linear`` weight: ``kaiming_uniform_(a=sqrt(5))`` =
  ``U(-1/sqrt(fan_in), +)``, torch's fan_in (dim 1 times the receptive field; for a
  transposed conv that is ``O/g * rf``); bias ``U(-1/sqrt(fan_in), +)`` with the weight's
  fan_in (``torch/nn/modules/conv.py``, ``linear.py``: ``reset_parameters``).
* ``LSTM``/``GRU``: every weight and bias ``U(-1/sqrt(hidden), +)``; weights stack 4 / 3
  gate blocks along dim 0, each ``(hidden, in)`` (``torch/nn/modules/rnn.py``).
* ``MultiheadAttention``: ``in_proj_weight`` ``(3E, E)`` is ``xavier_uniform_`` over the
  stack (fans ``(E, 3E)``: variance ``1/(2E)`` per block, half of Glorot's ``1/E`` for an
  ``(E, E)`` block); ``in_proj_bias`` and ``out_proj.bias`` zero; ``out_proj.weight``
  ``Linear``'s default (``torch/nn/modules/activation.py: _reset_parameters``).
* ``Embedding``: ``normal_`` = N(0, 1) (``torch/nn/modules/sparse.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from weight_init.layouts import Fans, KernelSpec, get_layout
from weight_init.properties.audit._layer_param import (
    CONV_1D,
    CONV_2D,
    CONV_3D,
    DENSE,
    DEPTHWISE_2D,
    GROUPED_2D,
    RNN,
    ZEROS,
    LayerParam,
)
from weight_init.properties.conformance._kernels import FanOf
from weight_init.schemes import get_scheme, variance_scaling

#: ``U(-1/sqrt(fan_in), +)``: torch's Linear/Conv default weight and bias.
TORCH_DEFAULT = get_scheme("torch_linear_default")
#: ``U(-1/sqrt(hidden), +)`` on a gate block of fans ``(in, hidden)``: LSTM/GRU.
TORCH_RNN_DEFAULT = variance_scaling(
    1.0 / 3.0, "fan_out", "uniform", name="torch_rnn_default (U(-1/sqrt(hidden), +))"
)

#: A transposed conv's bias fan_in is ``O/g * rf``: ``O * rf`` layers per ``(fan_in, O)`` matrix.
CONV_T_BIAS = (KernelSpec(4, 32, (1, 1)), KernelSpec(2, 32, (3, 3)), KernelSpec(4, 16, (3, 3)))
LINEAR_BIAS = (KernelSpec(8, 256), KernelSpec(24, 96), KernelSpec(48, 160), KernelSpec(16, 512))
ATTENTION = (KernelSpec(4, 4), KernelSpec(8, 8), KernelSpec(16, 16), KernelSpec(32, 32))

_NN = "torch/nn/modules"


def _conv(cls: str) -> Callable[[KernelSpec], Any]:
    def build(s: KernelSpec) -> Any:
        import torch

        return getattr(torch.nn, f"{cls}{len(s.kernel)}d")(
            s.in_channels, s.out_channels, s.kernel, groups=s.groups
        )

    return build


def _torch_fans(layout: str) -> FanOf:
    return get_layout(layout).spec_fans


def _bias_fans(layout: str) -> FanOf:
    lay = get_layout(layout)
    return lambda s: Fans(lay.spec_fans(s).fan_in, s.out_channels)


def _linear(s: KernelSpec) -> Any:
    import torch

    return torch.nn.Linear(s.in_channels, s.out_channels)


def _rnn(cls: str) -> Callable[[KernelSpec], Any]:
    def build(s: KernelSpec) -> Any:
        import torch

        return getattr(torch.nn, cls)(s.in_channels, s.out_channels)

    return build


def _mha(s: KernelSpec) -> Any:
    import torch

    return torch.nn.MultiheadAttention(s.in_channels, 1)


def _embedding(s: KernelSpec) -> Any:
    import torch

    return torch.nn.Embedding(s.in_channels, s.out_channels)


_KAIMING = "kaiming_uniform_(a=sqrt(5)): U(-1/sqrt(fan_in), +)"
_BIAS = "U(-1/sqrt(fan_in), +), fan_in of the weight"


def wide(design: tuple[KernelSpec, ...], out: int = 96) -> tuple[KernelSpec, ...]:
    """``design`` with ``out`` output channels: a bias yields ``out`` entries per layer, so a
    wide layer needs fewer instantiations for the same entries (96 is divisible by every
    ``groups`` of the designs)."""
    return tuple(KernelSpec(s.in_channels, out, s.kernel, s.groups) for s in design)


def _conv_params(
    layer: str,
    cls: str,
    layout: str,
    design: tuple[KernelSpec, ...],
    bias_design: tuple[KernelSpec, ...] | None = None,
) -> list[LayerParam]:
    src = f"{_NN}/conv.py: _ConvNd.reset_parameters"
    build = _conv(cls)
    bias = bias_design or wide(design)
    weight_fans = _torch_fans(layout)
    return [
        LayerParam(
            layer, "weight", layout, TORCH_DEFAULT, _KAIMING, src, build, design, weight_fans
        ),
        LayerParam(
            layer, "bias", "in_out", TORCH_DEFAULT, _BIAS, src, build, bias, _bias_fans(layout)
        ),
    ]


def _rnn_params(layer: str, gates: int) -> list[LayerParam]:
    src = f"{_NN}/rnn.py: RNNBase.reset_parameters"
    doc = f"U(-1/sqrt(hidden), +) on each of {gates} stacked gate blocks"
    build = _rnn(layer)
    per_gate: dict[str, FanOf] = {
        "weight_ih_l0": lambda s: Fans(s.in_channels, s.out_channels),
        "weight_hh_l0": lambda s: Fans(s.out_channels, s.out_channels),
        "bias_ih_l0": lambda s: Fans(s.in_channels, s.out_channels),
        "bias_hh_l0": lambda s: Fans(s.out_channels, s.out_channels),
    }
    return [
        LayerParam(
            layer,
            p,
            "out_in",
            TORCH_RNN_DEFAULT,
            doc,
            src,
            build,
            RNN,
            f,
            gates,
        )
        for p, f in per_gate.items()
    ]


def _block_fans(s: KernelSpec) -> Fans:
    return Fans(s.in_channels, s.out_channels)


def _stack_fans(s: KernelSpec) -> Fans:
    return Fans(s.in_channels, 3 * s.out_channels)


_MHA_SRC = f"{_NN}/activation.py: MultiheadAttention._reset_parameters"

_PARAMS: list[LayerParam] = [
    *_conv_params("Conv1d", "Conv", "torch.conv", CONV_1D),
    *_conv_params("Conv2d", "Conv", "torch.conv", CONV_2D),
    *_conv_params("Conv3d", "Conv", "torch.conv", CONV_3D),
    *_conv_params("Conv2d[grouped]", "Conv", "torch.conv", GROUPED_2D),
    *_conv_params("Conv2d[depthwise]", "Conv", "torch.conv", DEPTHWISE_2D),
    *_conv_params("ConvTranspose2d", "ConvTranspose", "torch.conv_transpose", CONV_2D, CONV_T_BIAS),
    LayerParam(
        "Linear",
        "weight",
        "out_in",
        TORCH_DEFAULT,
        _KAIMING,
        f"{_NN}/linear.py: Linear.reset_parameters",
        _linear,
        DENSE,
        _block_fans,
    ),
    LayerParam(
        "Linear",
        "bias",
        "in_out",
        TORCH_DEFAULT,
        _BIAS,
        f"{_NN}/linear.py: Linear.reset_parameters",
        _linear,
        LINEAR_BIAS,
        _block_fans,
    ),
    *_rnn_params("LSTM", 4),
    *_rnn_params("GRU", 3),
    LayerParam(
        "MultiheadAttention",
        "in_proj_weight",
        "out_in",
        get_scheme("glorot_uniform"),
        "xavier_uniform_ over the stacked (3E, E) matrix: variance 1/(2E) per block",
        _MHA_SRC,
        _mha,
        ATTENTION,
        _stack_fans,
        3,
        True,
    ),
    LayerParam(
        "MultiheadAttention",
        "in_proj_bias",
        "in_out",
        ZEROS,
        "zeros",
        _MHA_SRC,
        _mha,
        ATTENTION,
        _stack_fans,
    ),
    LayerParam(
        "MultiheadAttention",
        "out_proj.weight",
        "out_in",
        TORCH_DEFAULT,
        f"Linear's default, {_KAIMING}",
        f"{_NN}/linear.py: Linear.reset_parameters (not re-initialized by {_MHA_SRC})",
        _mha,
        ATTENTION,
        _block_fans,
    ),
    LayerParam(
        "MultiheadAttention",
        "out_proj.bias",
        "in_out",
        ZEROS,
        "zeros",
        _MHA_SRC,
        _mha,
        ATTENTION,
        _block_fans,
    ),
    LayerParam(
        "Embedding",
        "weight",
        "in_out",
        get_scheme("big_normal"),
        "normal_: N(0, 1)",
        f"{_NN}/sparse.py: Embedding.reset_parameters",
        _embedding,
        (KernelSpec(50, 8), KernelSpec(10, 64), KernelSpec(100, 16)),
        _block_fans,
    ),
]

#: The catalog of torch layer parameters, by ``torch:Layer.param``.
TORCH_PARAMS: Mapping[str, LayerParam] = MappingProxyType({p.name: p for p in _PARAMS})
