"""Flax (linen) layers' documented default initialization, as data: the Flax part of the catalog.

Read from the installed Flax 0.12.8 / JAX 0.10.2 source. JAX computes fans from the shape
alone (``jax/_src/nn/initializers.py: _compute_fans``, ``in_axis=-2, out_axis=-1``:
``rf = prod(shape) / (shape[in] * shape[out])``, ``fan_in = shape[in] * rf``).

* ``Dense``, ``Conv`` (``feature_group_count`` too), ``ConvTranspose``: kernel
  ``default_kernel_init = lecun_normal()``, i.e. ``variance_scaling(1, "fan_in",
  "truncated_normal")``: a normal truncated at 2 std, rescaled so that the variance is
  ``1 / fan_in`` (scheme ``lecun_truncated_normal``); bias ``zeros_init()``
  (``flax/linen/linear.py``). ``Conv`` kernel ``(*k, I/g, O)`` (fan_in ``I/g * rf``);
  ``ConvTranspose`` kernel ``(*k, I, O)`` (``transpose_kernel=False``).
* ``Embed``: ``default_embed_init = variance_scaling(1.0, "fan_in", "normal", out_axis=0)`` on
  the ``(num_embeddings, features)`` table: ``in_axis=-2`` and ``out_axis=0`` both name axis 0,
  so ``rf = features / num_embeddings`` and ``fan_in = features``: an untruncated normal of
  variance ``1 / features`` (std ``1/sqrt(features)``, **not** 1 as torch's ``Embedding``).
* ``LSTMCell``/``GRUCell`` (``flax/linen/recurrent.py``): one ``Dense`` per gate; input
  kernels (``ii``, ``if``, ... / ``ir``, ``iz``, ``in``) ``lecun_normal()``, recurrent kernels
  (``hi``, ... / ``hr``, ``hz``, ``hn``) ``orthogonal()``, biases ``zeros_init()``.
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
from weight_init.schemes import get_scheme

#: The installed versions the catalog was read from.
FLAX_VERSION = "0.12.8"
JAX_VERSION = "0.10.2"
LECUN = get_scheme("lecun_truncated_normal")
#: ``variance_scaling(1, "fan_in", "normal")`` (untruncated).
LECUN_NORMAL = get_scheme("lecun_normal")
ORTHOGONAL = get_scheme("orthogonal")

_LIN = "flax/linen/linear.py"
_REC = "flax/linen/recurrent.py"
LECUN_DOC = "lecun_normal(): truncated normal, variance 1/fan_in"
BIAS = (KernelSpec(8, 64), KernelSpec(4, 96))


def flax_layer(kind: str, **kwargs: Any) -> Callable[[KernelSpec], Any]:
    """A builder ``build(spec) -> (module, *example_inputs)`` for ``kind`` in ``dense``,
    ``conv``, ``conv_transpose``, ``embed``, ``lstm``, ``gru``; ``kwargs`` go to the module
    (e.g. ``kernel_init=...``). Conv inputs have the kernel's spatial size (``VALID``)."""

    def build(s: KernelSpec) -> Any:
        import flax.linen as nn
        import numpy as np

        x = np.zeros((1, *s.kernel, s.in_channels), np.float32)
        if kind == "dense":
            return nn.Dense(s.out_channels, **kwargs), x
        if kind == "conv":
            g = s.groups
            conv = nn.Conv(
                s.out_channels, s.kernel, feature_group_count=g, padding="VALID", **kwargs
            )
            return conv, x
        if kind == "conv_transpose":
            return nn.ConvTranspose(s.out_channels, s.kernel, padding="VALID", **kwargs), x
        if kind == "embed":
            return nn.Embed(s.in_channels, s.out_channels, **kwargs), np.zeros((1,), np.int32)
        cell = (nn.LSTMCell if kind == "lstm" else nn.GRUCell)(s.out_channels, **kwargs)
        h = np.zeros((1, s.out_channels), np.float32)
        carry = (h, h) if kind == "lstm" else h
        return cell, carry, x

    return build


_p = functools.partial(catalog_entry, Framework.FLAX, flax_layer)


def shared_params(
    p: Callable[..., LayerParam], lin: str, dense: str, kind: str
) -> list[LayerParam]:
    """The entries Flax linen and NNX share (the same initializers of their ``linear.py``,
    path ``lin``): the ``dense`` layer's kernel and bias (builder ``kind``), ``Conv`` in 1-3
    spatial dimensions, grouped and depthwise, ``ConvTranspose`` and ``Embed``; ``p`` is the
    framework's :func:`~weight_init.properties.audit._layer_param.catalog_entry`."""
    conv_fans = get_layout("flax.conv").spec_fans
    src = f"{lin}: {dense}"
    return [
        p(dense, "kernel", "in_out", LECUN, LECUN_DOC, src, kind, DENSE, in_out_fans),
        p(dense, "bias", "in_out", ZEROS, "zeros_init()", src, kind, BIAS, in_out_fans),
        *(
            p(layer, "kernel", "flax.conv", LECUN, LECUN_DOC, f"{lin}: Conv", "conv", d, conv_fans)
            for layer, d in (
                ("Conv[1d]", CONV_1D),
                ("Conv", CONV_2D),
                ("Conv[3d]", CONV_3D),
                ("Conv[grouped]", GROUPED_2D),
                ("Conv[depthwise]", DEPTHWISE_2D),
            )
        ),
        p(
            "ConvTranspose",
            "kernel",
            "flax.conv_transpose",
            LECUN,
            LECUN_DOC,
            f"{lin}: ConvTranspose",
            "conv_transpose",
            CONV_2D,
            get_layout("flax.conv_transpose").spec_fans,
        ),
        p(
            "Embed",
            "embedding",
            "in_out",
            LECUN_NORMAL,
            'variance_scaling(1.0, "fan_in", "normal", out_axis=0): fan_in = features',
            f"{lin}: default_embed_init",
            "embed",
            (KernelSpec(50, 8), KernelSpec(10, 64), KernelSpec(100, 16)),
            lambda s: Fans(s.out_channels, s.out_channels),
        ),
    ]


def shared_defaults(dense: str, lin: str, norm: str) -> dict[tuple[str, str], Default]:
    """The audit defaults Flax linen and NNX share: kernel and bias of ``dense``, ``Conv`` and
    ``ConvTranspose``, ``Embed``'s table (sources in ``lin``) and the norms' scale and bias
    (sources in ``norm``)."""
    out: dict[tuple[str, str], Default] = {}
    for cls, layout in (
        (dense, "in_out"),
        ("Conv", "flax.conv"),
        ("ConvTranspose", "flax.conv_transpose"),
    ):
        out[(cls, "kernel")] = Default(LECUN, layout, "weight", f"{lin}: {cls}")
        out[(cls, "bias")] = Default(ZEROS, "in_out", "weight", f"{lin}: {cls}")
    out[("Embed", "embedding")] = Default(
        LECUN_NORMAL, "in_out", "embed", f"{lin}: default_embed_init"
    )
    for cls in ("BatchNorm", "LayerNorm", "GroupNorm", "RMSNorm"):
        src = f"{norm}: {cls}"
        out[(cls, "scale")] = Default(ONES, "in_out", "weight", src)
        out[(cls, "bias")] = Default(ZEROS, "in_out", "weight", src)
    return out


def _rnn(layer: str, kernel: str, recurrent: str, bias: str) -> list[LayerParam]:
    src = f"{_REC}: {layer}"
    kind = "lstm" if layer == "LSTMCell" else "gru"
    return [
        _p(layer, f"{kernel}.kernel", "in_out", LECUN, LECUN_DOC, src, kind, RNN, in_out_fans),
        _p(
            layer,
            f"{recurrent}.kernel",
            "in_out",
            ORTHOGONAL,
            "orthogonal()",
            src,
            kind,
            RNN,
            lambda s: Fans(s.out_channels, s.out_channels),
        ),
        _p(layer, f"{bias}.bias", "in_out", ZEROS, "zeros_init()", src, kind, RNN[:2], in_out_fans),
    ]


_PARAMS: list[LayerParam] = [
    *shared_params(_p, _LIN, "Dense", "dense"),
    _p(
        "Conv",
        "bias",
        "in_out",
        ZEROS,
        "zeros_init()",
        f"{_LIN}: Conv",
        "conv",
        CONV_2D[:2],
        in_out_fans,
    ),
    *_rnn("LSTMCell", "ii", "hi", "hi"),
    *_rnn("GRUCell", "ir", "hr", "ir"),
]

#: The catalog of Flax layer parameters, by ``flax:Layer.param``.
FLAX_PARAMS: Mapping[str, LayerParam] = MappingProxyType({p.name: p for p in _PARAMS})


def flax_defaults() -> dict[tuple[str, str], Default]:
    """(Flax linen module class, parameter path within it) -> its documented default, for
    ``weight-init audit`` (the same schemes and sources as the catalog above). A recurrent
    cell's gates are ``Dense`` submodules: their parameters are keyed by the cell, e.g.
    ``("LSTMCell", "hi.kernel")``."""
    out = shared_defaults("Dense", _LIN, "flax/linen/normalization.py")
    for cell, gates, biased in (
        ("LSTMCell", "ifgo", "h"),
        ("GRUCell", "rzn", ""),
    ):
        src = f"{_REC}: {cell}"
        for g in gates:
            out[(cell, f"i{g}.kernel")] = Default(LECUN, "in_out", "weight", src)
            out[(cell, f"h{g}.kernel")] = Default(ORTHOGONAL, "in_out", "weight", src)
            for side in biased or "i":
                out[(cell, f"{side}{g}.bias")] = Default(ZEROS, "in_out", "weight", src)
    out[("GRUCell", "hn.bias")] = Default(ZEROS, "in_out", "weight", f"{_REC}: GRUCell")
    return out
