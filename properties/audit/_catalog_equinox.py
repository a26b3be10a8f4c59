"""Equinox layers' documented default initialization, as data: the Equinox part of the catalog.

Read from the installed Equinox 0.13.8 source (``equinox/nn/``). Every default is
``_misc.py: default_init(key, shape, dtype, lim)`` = ``jax.random.uniform(key, shape,
minval=-lim, maxval=lim)``: ``U(-lim, lim)``, variance ``lim^2 / 3`` -- torch's
``kaiming_uniform_(a=sqrt(5))`` law (scheme ``torch_linear_default``, variance
``1 / (3 fan_in)``), with the fan_in stated in each constructor:

* ``Linear`` (``_linear.py``): weight ``(out, in)`` (layout ``out_in``) and bias ``(out,)``,
  both ``lim = 1/sqrt(in)``.
* ``Conv``/``Conv1d``/``Conv2d``/``Conv3d`` (``_conv.py: Conv.__init__``): weight
  ``(O, I/g, *k)`` (layout ``torch.conv``), bias ``(O, 1, ..., 1)``, both
  ``lim = 1/sqrt(I/g * prod(k))``.
* ``ConvTranspose``/``ConvTranspose1d/2d/3d`` (``_conv.py: ConvTranspose.__init__``): the
  same shapes and ``lim`` as ``Conv`` -- weight ``(O, I/g, *k)``, fan_in ``I/g * prod(k)`` --
  unlike torch's ``ConvTransposeNd`` (weight ``(I, O/g, *k)``, fan_in read from ``O/g``).
* ``Embedding`` (``_embedding.py``): ``jax.random.normal``: N(0, 1) (scheme ``big_normal``).
* ``GRUCell``/``LSTMCell`` (``_rnn.py``): ``weight_ih`` ``(3h | 4h, in)``, ``weight_hh``
  ``(3h | 4h, h)``, ``bias`` ``(3h | 4h,)`` and GRU's ``bias_n`` ``(h,)``, all
  ``lim = sqrt(1/h)`` (torch's RNN rule, scheme ``torch_rnn_default``, fans ``(.., h)``).
* ``LayerNorm``/``GroupNorm``/``RMSNorm`` (``_normalisation.py``): weight ones, bias zeros.

``eqx.nn.MultiheadAttention``'s projections are ``Linear`` layers with Linear's default.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from weight_init.layouts import Fans, KernelSpec, get_layout
from weight_init.properties.audit._default import Default
from weight_init.properties.audit._layer_param import (
    CONV_1D,
    CONV_2D,
    CONV_3D,
    DENSE,
    GROUPED_2D,
    ONES,
    RNN,
    ZEROS,
    Framework,
    LayerParam,
    catalog_entry,
    in_out_fans,
)
from weight_init.properties.conformance._kernels import FanOf
from weight_init.schemes import get_scheme, variance_scaling

#: The installed version the catalog was read from.
EQUINOX_VERSION = "0.13.8"
#: ``U(-1/sqrt(fan_in), +)``: variance ``1 / (3 fan_in)``.
UNIFORM_FAN_IN = get_scheme("torch_linear_default")
#: ``U(-1/sqrt(hidden), +)``: variance ``1 / (3 hidden)``, ``hidden`` the fan_out.
UNIFORM_HIDDEN = variance_scaling(
    1.0 / 3.0, "fan_out", "uniform", name="equinox_rnn_default (U(-1/sqrt(hidden), +))"
)
UNIT_NORMAL = get_scheme("big_normal")

_NN = "equinox/nn"
_LIM = "default_init: U(-lim, lim), lim = 1/sqrt(fan_in)"
BIAS = (KernelSpec(8, 96), KernelSpec(24, 96), KernelSpec(48, 160))


def equinox_layer(kind: str, **kwargs: Any) -> Callable[[KernelSpec], Any]:
    """A builder ``build(spec) -> make(key)`` for ``kind`` in ``linear``, ``conv``,
    ``conv_transpose``, ``embedding``, ``gru``, ``lstm``; ``kwargs`` go to the layer."""

    def build(s: KernelSpec) -> Any:
        import equinox as eqx

        d = len(s.kernel)
        if kind == "linear":
            return functools.partial(eqx.nn.Linear, s.in_channels, s.out_channels, **kwargs)
        if kind in ("conv", "conv_transpose"):
            cls = eqx.nn.Conv if kind == "conv" else eqx.nn.ConvTranspose
            return functools.partial(
                cls, d, s.in_channels, s.out_channels, s.kernel, groups=s.groups, **kwargs
            )
        if kind == "embedding":
            return functools.partial(eqx.nn.Embedding, s.in_channels, s.out_channels, **kwargs)
        cls = eqx.nn.GRUCell if kind == "gru" else eqx.nn.LSTMCell
        return functools.partial(cls, s.in_channels, s.out_channels, **kwargs)

    return build


_p = functools.partial(catalog_entry, Framework.EQUINOX, equinox_layer)


def _conv_bias_fans(s: KernelSpec) -> Fans:
    return Fans(get_layout("torch.conv").spec_fans(s).fan_in, s.out_channels)


def _conv(layer: str, kind: str, design: tuple[KernelSpec, ...]) -> list[LayerParam]:
    cls = "Conv" if kind == "conv" else "ConvTranspose"
    src = f"{_NN}/_conv.py: {cls}.__init__"
    fans = get_layout("torch.conv").spec_fans
    wide = tuple(KernelSpec(s.in_channels, 96, s.kernel, s.groups) for s in design[:2])
    return [
        _p(layer, "weight", "torch.conv", UNIFORM_FAN_IN, _LIM, src, kind, design, fans),
        _p(layer, "bias", "in_out", UNIFORM_FAN_IN, _LIM, src, kind, wide, _conv_bias_fans),
    ]


def _rnn(layer: str, gates: int) -> list[LayerParam]:
    src = f"{_NN}/_rnn.py: {layer}.__init__"
    doc = f"U(-1/sqrt(hidden), +) on each of {gates} stacked gate blocks"
    kind = "gru" if layer == "GRUCell" else "lstm"
    per: dict[str, FanOf] = {
        "weight_ih": lambda s: Fans(s.in_channels, s.out_channels),
        "weight_hh": lambda s: Fans(s.out_channels, s.out_channels),
        "bias": lambda s: Fans(s.out_channels, s.out_channels),
    }
    return [
        _p(layer, p, "out_in", UNIFORM_HIDDEN, doc, src, kind, RNN, f, blocks=gates)
        for p, f in per.items()
    ]


_LINEAR = f"{_NN}/_linear.py: Linear.__init__"
_PARAMS: list[LayerParam] = [
    _p("Linear", "weight", "out_in", UNIFORM_FAN_IN, _LIM, _LINEAR, "linear", DENSE, in_out_fans),
    _p("Linear", "bias", "in_out", UNIFORM_FAN_IN, _LIM, _LINEAR, "linear", BIAS, in_out_fans),
    *_conv("Conv1d", "conv", CONV_1D),
    *_conv("Conv2d", "conv", CONV_2D),
    _conv("Conv3d", "conv", CONV_3D)[0],
    _conv("Conv2d[grouped]", "conv", GROUPED_2D)[0],
    *_conv("ConvTranspose2d", "conv_transpose", CONV_2D),
    _p(
        "Embedding",
        "weight",
        "in_out",
        UNIT_NORMAL,
        "jax.random.normal: N(0, 1)",
        f"{_NN}/_embedding.py: Embedding.__init__",
        "embedding",
        (KernelSpec(50, 8), KernelSpec(10, 64), KernelSpec(100, 16)),
        in_out_fans,
    ),
    *_rnn("GRUCell", 3),
    *_rnn("LSTMCell", 4),
]

#: The catalog of Equinox layer parameters, by ``equinox:Layer.param``.
EQUINOX_PARAMS: Mapping[str, LayerParam] = MappingProxyType({p.name: p for p in _PARAMS})


def equinox_defaults() -> dict[tuple[str, str], Default]:
    """(Equinox module class, field) -> its documented default, for ``weight-init audit``
    (the same schemes and sources as the catalog above; a bias reads its ``weight``'s fan_in,
    a cell's parameters the hidden size)."""
    out: dict[tuple[str, str], Default] = {}
    lin = f"{_NN}/_linear.py"
    out[("Linear", "weight")] = Default(UNIFORM_FAN_IN, "out_in", "weight", lin)
    out[("Linear", "bias")] = Default(UNIFORM_FAN_IN, "out_in", "owner", lin)
    for base in ("Conv", "ConvTranspose"):
        for cls in (base, *(f"{base}{d}d" for d in (1, 2, 3))):
            src = f"{_NN}/_conv.py: {base}"
            out[(cls, "weight")] = Default(UNIFORM_FAN_IN, "torch.conv", "weight", src)
            out[(cls, "bias")] = Default(UNIFORM_FAN_IN, "torch.conv", "owner", src)
    out[("Embedding", "weight")] = Default(UNIT_NORMAL, "in_out", "weight", f"{_NN}/_embedding.py")
    for cell in ("GRUCell", "LSTMCell"):
        out[(cell, "*")] = Default(UNIFORM_HIDDEN, "out_in", "rnn", f"{_NN}/_rnn.py: {cell}")
    for cls in ("LayerNorm", "GroupNorm", "RMSNorm"):
        src = f"{_NN}/_normalisation.py: {cls}"
        out[(cls, "weight")] = Default(ONES, "in_out", "weight", src)
        out[(cls, "bias")] = Default(ZEROS, "in_out", "weight", src)
    return out
