"""Flax NNX layers' documented default initialization, as data: the NNX part of the catalog.

Read from the installed Flax 0.12.8 / JAX 0.10.2 source (``flax/nnx/nn/``). Fans are JAX's
``_compute_fans`` (``in_axis=-2, out_axis=-1``), as for linen
(:mod:`~weight_init.properties.audit._catalog_flax`):

* ``Linear``, ``Conv`` (``feature_group_count`` too), ``ConvTranspose``: kernel
  ``default_kernel_init = initializers.lecun_normal()`` (truncated normal of variance
  ``1 / fan_in``, scheme ``lecun_truncated_normal``), bias ``default_bias_init =
  initializers.zeros_init()`` (``linear.py``). ``Conv`` kernel ``(*k, I/g, O)``;
  ``ConvTranspose`` kernel ``(*k, I, O)`` (``transpose_kernel=False``).
* ``Embed``: ``default_embed_init = variance_scaling(1.0, "fan_in", "normal", out_axis=0)``
  on ``(num_embeddings, features)``: fan_in = features, untruncated (``lecun_normal``), as
  linen's ``Embed``.
* ``LSTMCell`` (``recurrent.py``): one ``Linear`` per gate; input kernels ``ii``, ``if_``,
  ``ig``, ``io`` ``lecun_normal()`` (no bias); recurrent kernels ``hi``, ``hf``, ``hg``, ``ho``
  ``modified_orthogonal`` (``orthogonal()`` cast to the dtype), their biases zeros.
* ``GRUCell``: ``dense_i`` ``(in, 3h)`` ``lecun_normal()`` with zeros bias, ``dense_h``
  ``(h, 3h)`` ``orthogonal()`` without bias.
* ``LayerNorm``, ``BatchNorm``, ``GroupNorm``, ``RMSNorm`` (``normalization.py``): scale ones,
  bias zeros.

``nnx.MultiHeadAttention``'s ``LinearGeneral`` kernels ``(in, heads, head_dim)`` are not in
the audit's defaults (their fans depend on the contracted axes): ``unchecked`` unless an
``--expect`` rule names them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from weight_init.layouts import Fans, KernelSpec
from weight_init.properties.audit._catalog_flax import (
    LECUN,
    LECUN_DOC,
    ORTHOGONAL,
    shared_defaults,
    shared_params,
)
from weight_init.properties.audit._default import Default
from weight_init.properties.audit._layer_param import (
    RNN,
    ZEROS,
    Framework,
    LayerParam,
    catalog_entry,
    in_out_fans,
)

_LIN = "flax/nnx/nn/linear.py"
_REC = "flax/nnx/nn/recurrent.py"


def nnx_layer(kind: str, **kwargs: Any) -> Callable[[KernelSpec], Any]:
    """A builder ``build(spec) -> make`` (``make(rngs=nnx.Rngs(s))`` is the layer) for
    ``kind`` in ``linear``, ``conv``, ``conv_transpose``, ``embed``, ``lstm``, ``gru``;
    ``kwargs`` go to the layer (e.g. ``kernel_init=...``)."""

    def build(s: KernelSpec) -> Any:
        from flax import nnx

        i, o, k = s.in_channels, s.out_channels, s.kernel
        if kind == "linear":
            return functools.partial(nnx.Linear, i, o, **kwargs)
        if kind == "conv":
            return functools.partial(nnx.Conv, i, o, k, feature_group_count=s.groups, **kwargs)
        if kind == "conv_transpose":
            return functools.partial(nnx.ConvTranspose, i, o, k, **kwargs)
        if kind == "embed":
            return functools.partial(nnx.Embed, i, o, **kwargs)
        cls = nnx.LSTMCell if kind == "lstm" else nnx.GRUCell
        return functools.partial(cls, i, o, **kwargs)

    return build


_p = functools.partial(catalog_entry, Framework.FLAX_NNX, nnx_layer)


def _hidden(n: int) -> Callable[[KernelSpec], Fans]:
    return lambda s: Fans(s.out_channels, n * s.out_channels)


_PARAMS: list[LayerParam] = [
    *shared_params(_p, _LIN, "Linear", "linear"),
    _p(
        "LSTMCell",
        "ii.kernel",
        "in_out",
        LECUN,
        LECUN_DOC,
        f"{_REC}: LSTMCell",
        "lstm",
        RNN,
        in_out_fans,
    ),
    _p(
        "LSTMCell",
        "hi.kernel",
        "in_out",
        ORTHOGONAL,
        "modified_orthogonal: orthogonal()",
        f"{_REC}: LSTMCell",
        "lstm",
        RNN,
        _hidden(1),
    ),
    _p(
        "GRUCell",
        "dense_i.kernel",
        "in_out",
        LECUN,
        LECUN_DOC,
        f"{_REC}: GRUCell",
        "gru",
        RNN,
        lambda s: Fans(s.in_channels, 3 * s.out_channels),
    ),
    _p(
        "GRUCell",
        "dense_h.kernel",
        "in_out",
        ORTHOGONAL,
        "orthogonal() over (h, 3h): orthonormal rows",
        f"{_REC}: GRUCell",
        "gru",
        RNN,
        _hidden(3),
    ),
]

#: The catalog of Flax NNX layer parameters, by ``nnx:Layer.param``.
NNX_PARAMS: Mapping[str, LayerParam] = MappingProxyType({p.name: p for p in _PARAMS})


def nnx_defaults() -> dict[tuple[str, str], Default]:
    """(NNX module class, parameter path within it) -> its documented default, for
    ``weight-init audit``; a recurrent cell's gates are ``Linear`` submodules keyed by the
    cell (``("LSTMCell", "hi.kernel")``)."""
    out = shared_defaults("Linear", _LIN, "flax/nnx/nn/normalization.py")
    src = f"{_REC}: LSTMCell"
    for g in ("i", "f_", "g", "o"):
        gate = g.rstrip("_")
        out[("LSTMCell", f"i{g}.kernel")] = Default(LECUN, "in_out", "weight", src)
        out[("LSTMCell", f"h{gate}.kernel")] = Default(ORTHOGONAL, "in_out", "weight", src)
        out[("LSTMCell", f"h{gate}.bias")] = Default(ZEROS, "in_out", "weight", src)
    src = f"{_REC}: GRUCell"
    out[("GRUCell", "dense_i.kernel")] = Default(LECUN, "in_out", "weight", src)
    out[("GRUCell", "dense_i.bias")] = Default(ZEROS, "in_out", "weight", src)
    out[("GRUCell", "dense_h.kernel")] = Default(ORTHOGONAL, "in_out", "weight", src)
    return out
