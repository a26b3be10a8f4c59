"""Keras 3 layers' documented default initialization, as data: the Keras part of the catalog.

Read from the installed Keras 3.15.1 source (paths under ``keras/src/``; backend JAX,
``KERAS_BACKEND=jax``). Keras computes fans from the shape alone
(``initializers/random_initializers.py: compute_fans``: ``rf = prod(shape[:-2])``,
``fan_in = shape[-2] * rf``, ``fan_out = shape[-1] * rf``). ``U(-b, b)`` has variance
``b^2 / 3``; ``glorot_uniform`` is ``U(-sqrt(6 / (fan_in + fan_out)), +)``.

* ``Dense``: kernel ``(in, out)`` ``glorot_uniform``, bias zeros (``layers/core/dense.py``).
* ``ConvND`` (groups too): kernel ``(*k, I/g, O)`` ``glorot_uniform`` at Keras' fans
  ``(I/g * rf, O * rf)``, bias zeros (``layers/convolutional/base_conv.py``).
* ``ConvNDTranspose``: kernel ``(*k, O, I)`` ``glorot_uniform``; ``compute_fans`` reads
  fan_in from axis -2, the *output* channels (tensorflow #31192, still so in 3.15.1). The
  default is unaffected (Glorot's rule reads ``fan_in + fan_out``); a fan_in rule such as
  ``he_uniform`` gets ``O * rf`` (``layers/convolutional/base_conv_transpose.py``).
* ``DepthwiseConvND``: kernel ``(*k, I, M)`` (M the depth multiplier) ``glorot_uniform`` at
  ``compute_fans``' ``(I * rf, M * rf)``, although each output reads one input channel
  (connectivity fans ``(rf, M * rf)``: "groups ignored")
  (``layers/convolutional/base_depthwise_conv.py``).
* ``Embedding``: ``"uniform"`` = ``RandomUniform(-0.05, 0.05)`` (``layers/core/embedding.py``,
  ``initializers/random_initializers.py: RandomUniform``).
* ``LSTM``/``GRU`` (``layers/rnn/lstm.py``, ``gru.py``: ``LSTMCell``/``GRUCell.build``):
  ``kernel`` ``(in, 4u)`` / ``(in, 3u)`` ``glorot_uniform`` over the *stacked* matrix (per gate
  block, variance ``2 / (in + 4u)``, not Glorot's ``2 / (in + u)``); ``recurrent_kernel``
  ``(u, 4u)`` / ``(u, 3u)`` ``orthogonal`` (orthonormal rows); LSTM ``bias`` zeros except the
  forget block, ones (``unit_forget_bias=True``); GRU ``bias`` ``(2, 3u)`` zeros
  (``reset_after=True``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from weight_init.layouts import Fans, KernelSpec, get_layout
from weight_init.properties.audit._default import Default
from weight_init.properties.audit._layer_param import (
    CONV_1D,
    CONV_2D,
    CONV_3D,
    DENSE,
    DEPTHWISE_2D,
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
from weight_init.scheme_expressions import parse_scheme
from weight_init.schemes import get_scheme

#: The installed version the catalog was read from.
KERAS_VERSION = "3.15.1"
GLOROT_UNIFORM = get_scheme("glorot_uniform")
ORTHOGONAL = get_scheme("orthogonal")
#: Keras' ``"uniform"``: ``RandomUniform(minval=-0.05, maxval=0.05)``.
KERAS_UNIFORM = parse_scheme("uniform(-0.05, 0.05)")

_SRC = "keras/src/layers"
_CONV = f"{_SRC}/convolutional/base_conv.py: BaseConv.build"
_CONV_T = f"{_SRC}/convolutional/base_conv_transpose.py: BaseConvTranspose.build"
_DW = f"{_SRC}/convolutional/base_depthwise_conv.py: BaseDepthwiseConv.build"
_DENSE = f"{_SRC}/core/dense.py: Dense.build"
_GLOROT = "glorot_uniform: U(-sqrt(6/(fan_in+fan_out)), +), compute_fans"
BIAS = (KernelSpec(8, 64), KernelSpec(4, 96))


def keras_layer(kind: str, **kwargs: Any) -> Callable[[KernelSpec], Any]:
    """A builder ``build(spec) -> built keras layer`` for ``kind`` in ``dense``, ``conv``,
    ``conv_transpose``, ``depthwise``, ``embedding``, ``lstm``, ``gru``; ``kwargs`` go to the
    layer (e.g. ``kernel_initializer=...``). Conv inputs have the kernel's spatial size."""

    def build(s: KernelSpec) -> Any:
        import keras

        d, L = len(s.kernel), keras.layers
        k = s.kernel
        shape: tuple[int | None, ...]
        if kind == "dense":
            layer, shape = L.Dense(s.out_channels, **kwargs), (None, s.in_channels)
        elif kind == "conv":
            layer = getattr(L, f"Conv{d}D")(s.out_channels, k, groups=s.groups, **kwargs)
            shape = (None, *k, s.in_channels)
        elif kind == "conv_transpose":
            layer = getattr(L, f"Conv{d}DTranspose")(s.out_channels, k, **kwargs)
            shape = (None, *k, s.in_channels)
        elif kind == "depthwise":
            mult = s.out_channels // s.in_channels
            layer = getattr(L, f"DepthwiseConv{d}D")(k, depth_multiplier=mult, **kwargs)
            shape = (None, *k, s.in_channels)
        elif kind == "embedding":
            layer, shape = L.Embedding(s.in_channels, s.out_channels, **kwargs), (None,)
        else:  # lstm, gru
            cls = L.LSTM if kind == "lstm" else L.GRU
            layer, shape = cls(s.out_channels, **kwargs), (None, 3, s.in_channels)
        layer.build(shape)
        return layer

    return build


_p = functools.partial(catalog_entry, Framework.KERAS, keras_layer)


def _conv(layer: str, kind: str, layout: str, design: tuple[KernelSpec, ...]) -> LayerParam:
    src = _CONV_T if kind == "conv_transpose" else _CONV
    fans = get_layout(layout).spec_fans
    return _p(layer, "kernel", layout, GLOROT_UNIFORM, _GLOROT, src, kind, design, fans)


def _depthwise_fans(s: KernelSpec) -> Fans:
    """``compute_fans`` of ``(*k, I, M)``: ``(I * rf, M * rf)``."""
    rf = s.receptive_field
    return Fans(s.in_channels * rf, s.out_channels // s.in_channels * rf)


def _rnn(layer: str, gates: int) -> list[LayerParam]:
    src = f"{_SRC}/rnn/{layer.lower()}.py: {layer}Cell.build"
    stacked = f"glorot_uniform over the stacked (in, {gates} units) kernel"
    out = [
        _p(
            layer,
            "cell.kernel",
            "in_out",
            GLOROT_UNIFORM,
            stacked,
            src,
            layer.lower(),
            RNN,
            lambda s: Fans(s.in_channels, gates * s.out_channels),
            blocks=gates,
            stacked_default=True,
        ),
        _p(
            layer,
            "cell.recurrent_kernel",
            "in_out",
            ORTHOGONAL,
            f"orthogonal (units, {gates} units): orthonormal rows",
            src,
            layer.lower(),
            RNN,
            lambda s: Fans(s.out_channels, gates * s.out_channels),
        ),
    ]
    if layer == "GRU":
        out.append(
            _p(
                layer,
                "cell.bias",
                "in_out",
                ZEROS,
                "zeros (2, 3 units)",
                src,
                "gru",
                RNN[:2],
                lambda s: Fans(2, 3 * s.out_channels),
            )
        )
        return out
    for label, part, scheme in (("bias[forget]", (1,), ONES), ("bias[i,c,o]", (0, 2, 3), ZEROS)):
        out.append(
            _p(
                layer,
                "cell.bias",
                "in_out",
                scheme,
                f"unit_forget_bias=True: {scheme.name} on the {label[5:-1]} block(s)",
                src,
                "lstm",
                RNN[:2],
                _rows(len(part)),
                blocks=4,
                part=part,
                label=f"cell.{label}",
            )
        )
    return out


def _rows(n: int) -> FanOf:
    return lambda s: Fans(n, s.out_channels)


_PARAMS: list[LayerParam] = [
    _p("Dense", "kernel", "in_out", GLOROT_UNIFORM, _GLOROT, _DENSE, "dense", DENSE, in_out_fans),
    _p("Dense", "bias", "in_out", ZEROS, "zeros", _DENSE, "dense", BIAS, in_out_fans),
    _conv("Conv1D", "conv", "keras.conv", CONV_1D),
    _conv("Conv2D", "conv", "keras.conv", CONV_2D),
    _conv("Conv3D", "conv", "keras.conv", CONV_3D),
    replace(_conv("Conv2D", "conv", "keras.conv", GROUPED_2D), layer="Conv2D[grouped]"),
    _p("Conv2D", "bias", "in_out", ZEROS, "zeros", _CONV, "conv", CONV_2D[:2], in_out_fans),
    _conv("Conv2DTranspose", "conv_transpose", "keras.conv_transpose", CONV_2D),
    _p(
        "DepthwiseConv2D",
        "kernel",
        "keras.conv",
        GLOROT_UNIFORM,
        f"{_GLOROT} of (*k, I, M): fans (I * rf, M * rf)",
        _DW,
        "depthwise",
        DEPTHWISE_2D,
        _depthwise_fans,
    ),
    _p(
        "Embedding",
        "embeddings",
        "in_out",
        KERAS_UNIFORM,
        '"uniform" = RandomUniform(-0.05, 0.05)',
        f"{_SRC}/core/embedding.py: Embedding.build",
        "embedding",
        (KernelSpec(50, 8), KernelSpec(10, 64), KernelSpec(100, 16)),
        in_out_fans,
    ),
    *_rnn("LSTM", 4),
    *_rnn("GRU", 3),
]

#: The catalog of Keras layer parameters, by ``keras:Layer.param``.
KERAS_PARAMS: Mapping[str, LayerParam] = MappingProxyType({p.name: p for p in _PARAMS})


def keras_defaults() -> dict[tuple[str, str], Default]:
    """(Keras layer class, variable name) -> its documented default, for ``weight-init audit``
    (the same schemes and sources as the catalog above)."""
    out: dict[tuple[str, str], Default] = {}
    for cls, layout, src in (
        ("Dense", "in_out", _DENSE),
        *((f"Conv{d}D", "keras.conv", _CONV) for d in (1, 2, 3)),
        *((f"Conv{d}DTranspose", "keras.conv_transpose", _CONV_T) for d in (1, 2, 3)),
        *((f"DepthwiseConv{d}D", "keras.conv", _DW) for d in (1, 2)),
    ):
        out[(cls, "kernel")] = Default(GLOROT_UNIFORM, layout, "weight", src)
        out[(cls, "bias")] = Default(ZEROS, "in_out", "weight", src)
    out[("Embedding", "embeddings")] = Default(
        KERAS_UNIFORM, "in_out", "weight", f"{_SRC}/core/embedding.py"
    )
    for cell, blocks in (
        ("LSTMCell", (ZEROS, ONES, ZEROS, ZEROS)),
        ("GRUCell", ()),
        ("SimpleRNNCell", ()),
    ):
        src = f"{_SRC}/rnn/{cell[:-4].lower().replace('simplernn', 'simple_rnn')}.py"
        out[(cell, "kernel")] = Default(GLOROT_UNIFORM, "in_out", "weight", src)
        out[(cell, "recurrent_kernel")] = Default(ORTHOGONAL, "in_out", "weight", src)
        out[(cell, "bias")] = Default(ZEROS, "in_out", "weight", src, blocks)
    for cls, path in (
        ("BatchNormalization", "batch_normalization"),
        ("LayerNormalization", "layer_normalization"),
    ):
        src = f"{_SRC}/normalization/{path}.py"
        out[(cls, "gamma")] = Default(ONES, "in_out", "weight", src)
        out[(cls, "beta")] = Default(ZEROS, "in_out", "weight", src)
    return out
