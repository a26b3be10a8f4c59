"""PyTorch layers' documented default initialization, as data, and checks of each parameter.

(About 380 lines, most of them the catalog itself: one :class:`LayerParam` per documented
parameter, each with its source file.)

A :class:`LayerParam` names one parameter of one layer type, its layout, the fans its
documented rule reads, the rule (a :class:`~weight_init.schemes.Scheme`), the source file
stating it, and a design of layer specs. :func:`check_layer_param` instantiates the layer at
each spec under ``torch.random.fork_rng`` and ``torch.manual_seed(s)`` (``s`` drawn from the
check's seed, one per layer), extracts the parameter and runs
:func:`weight_init.properties.kernels.check_parameter`.

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
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from weight_init.layouts import Fans, KernelSpec, Role, get_layout
from weight_init.properties import power as powerplan
from weight_init.properties.kernels import (
    FanOf,
    KernelVerdict,
    candidate_rules,
    check_parameter,
    stacked_rule,
)
from weight_init.schemes import Scheme, constant, get_scheme, variance_scaling

#: ``U(-1/sqrt(fan_in), +)``: torch's Linear/Conv default weight and bias.
TORCH_DEFAULT = get_scheme("torch_linear_default")
#: ``U(-1/sqrt(hidden), +)`` on a gate block of fans ``(in, hidden)``: LSTM/GRU.
TORCH_RNN_DEFAULT = variance_scaling(
    1.0 / 3.0, "fan_out", "uniform", name="torch_rnn_default (U(-1/sqrt(hidden), +))"
)
ZEROS = constant(0.0, name="zeros")

CONV_1D = (
    KernelSpec(3, 8, (3,)),
    KernelSpec(8, 4, (5,)),
    KernelSpec(4, 6, (7,)),
    KernelSpec(16, 2, (1,)),
)
CONV_2D = (
    KernelSpec(16, 8, (1, 1)),
    KernelSpec(4, 6, (3, 3)),
    KernelSpec(2, 4, (7, 7)),
    KernelSpec(3, 5, (5, 5)),
)
CONV_3D = (KernelSpec(2, 3, (3, 3, 3)), KernelSpec(4, 4, (1, 1, 1)), KernelSpec(3, 2, (3, 1, 5)))
GROUPED_2D = (
    KernelSpec(8, 8, (3, 3), groups=4),
    KernelSpec(4, 8, (5, 5), groups=2),
    KernelSpec(12, 6, (3, 3), groups=3),
)
#: No 1x1 depthwise spec: its fan_in is 1, and a ``(1, n)`` matrix of float32 draws repeats a
#: column (an exact ``distinct units`` failure) with probability about ``C(n, 2) 2^-24`` per
#: call: ~2% per check of the bias (n = 96), ~2e-4 of the weight, found by
#: ``weight-init calibrate --kernels``. Kernel size 1 stays covered by the other designs.
DEPTHWISE_2D = (
    KernelSpec(6, 12, (3, 3), groups=6),
    KernelSpec(4, 4, (5, 5), groups=4),
    KernelSpec(8, 16, (3, 1), groups=8),
    KernelSpec(3, 9, (7, 7), groups=3),
)
DENSE = (
    KernelSpec(8, 256),
    KernelSpec(256, 8),
    KernelSpec(24, 24),
    KernelSpec(48, 160),
    KernelSpec(160, 48),
)
#: A transposed conv's bias fan_in is ``O/g * rf``: ``O * rf`` layers per ``(fan_in, O)`` matrix.
CONV_T_BIAS = (KernelSpec(4, 32, (1, 1)), KernelSpec(2, 32, (3, 3)), KernelSpec(4, 16, (3, 3)))
LINEAR_BIAS = (KernelSpec(8, 256), KernelSpec(24, 96), KernelSpec(48, 160), KernelSpec(16, 512))
RNN = (KernelSpec(8, 16), KernelSpec(16, 8), KernelSpec(4, 32), KernelSpec(12, 12))
ATTENTION = (KernelSpec(4, 4), KernelSpec(8, 8), KernelSpec(16, 16), KernelSpec(32, 32))

_NN = "torch/nn/modules"


@dataclass(frozen=True)
class LayerParam:
    """One parameter of one torch layer type and its documented default (module docstring)."""

    layer: str
    param: str
    layout: str
    default: Scheme
    documented: str
    source: str
    build: Callable[[KernelSpec], Any]
    design: tuple[KernelSpec, ...]
    fans_of: FanOf
    blocks: int = 1
    stacked_default: bool = False  # the documented rule reads the fans of the whole stack

    @property
    def name(self) -> str:
        return f"torch:{self.layer}.{self.param}"

    def draw(self, spec: KernelSpec, seed: int) -> Any:
        import torch

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            module = self.build(spec)
        obj: Any = module
        for part in self.param.split("."):
            obj = getattr(obj, part)
        return obj.detach().cpu().numpy()


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


def get_param(name: str) -> LayerParam:
    from weight_init.errors import InvalidParameterError

    try:
        return TORCH_PARAMS[name]
    except KeyError:
        raise InvalidParameterError(
            f"unknown layer parameter {name!r}; choose one of {', '.join(TORCH_PARAMS)}"
        ) from None


def check_layer_param(
    param: str | LayerParam,
    scheme: str | Scheme | None = None,
    *,
    fans_of: FanOf | None = None,
    design: tuple[KernelSpec, ...] | None = None,
    seed: int = 0,
    alpha: float = powerplan.DEFAULT_ALPHA,
    n_entries: int | None = None,
) -> KernelVerdict:
    """Check a layer parameter against ``scheme`` (default: its documented default) at the
    fans ``fans_of`` (default: the ones its documented rule reads), over ``design``."""
    p = get_param(param) if isinstance(param, str) else param
    sch = p.default if scheme is None else get_scheme(scheme)
    fans = fans_of or p.fans_of
    rules = list(candidate_rules(get_layout(p.layout), fans))
    if p.blocks > 1:
        rules.append(stacked_rule(p.blocks, Role.OUT, per_block_fans(p)))
    return check_parameter(
        p.draw,
        sch,
        p.layout,
        design or p.design,
        fans_of=fans,
        rules=rules,
        seed=seed,
        alpha=alpha,
        n_entries=n_entries,
        subject=f"{p.name} as {sch.name}",
    )


def per_block_fans(p: LayerParam) -> FanOf:
    """The fans of one stacked block of ``p`` (``(E, E)`` for MultiheadAttention)."""
    if p.blocks == 1 or not p.stacked_default:
        return p.fans_of
    return lambda s: Fans(p.fans_of(s).fan_in, p.fans_of(s).fan_out // p.blocks)


def connectivity_fans(s: KernelSpec) -> Fans:
    return s.true_fans()
