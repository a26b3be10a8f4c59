"""Haiku layers' documented default initialization, as data: the Haiku part of the catalog.

Read from the installed dm-haiku 0.0.17 source (``haiku/_src/``; JAX 0.10.2). Haiku's
``initializers.py: TruncatedNormal(stddev=s)`` draws ``s * jax.random.truncated_normal(-2,
2)``: N(0, s^2) cut at +-2 s with **no** variance correction, so its variance is
``(0.8796 s)^2`` (``0.87962566 = std of a standard normal cut at +-2``). With ``s =
1/sqrt(fan_in)`` that is variance ``0.7737 / fan_in``: the project's corrected truncated-normal
family at scale ``0.87962566^2`` (:data:`HAIKU_TRUNCATED`), the same law exactly (the family
draws N(0, sigma^2) cut at +-2 sigma with ``sigma = sqrt(v)/0.8796 = 1/sqrt(fan_in)``).
Haiku's ``VarianceScaling(distribution="truncated_normal")`` *does* correct (divides by
0.8796): ``VarianceScaling()`` is ``lecun_truncated_normal``.

* ``Linear`` (``basic.py``): ``w`` ``(in, out)`` ``TruncatedNormal(stddev=1/sqrt(in))``, ``b``
  zeros.
* ``Conv1D``/``Conv2D``/``Conv3D`` (``conv.py: ConvND``): ``w`` ``(*k, I/g, O)``,
  ``TruncatedNormal(1/sqrt(prod(w_shape[:-1])))``: fan_in ``I/g * rf`` (layout
  ``flax.conv``, JAX's convention), ``b`` zeros.
* ``Conv1DTranspose``/``2D``/``3D`` (``conv.py: ConvNDTranspose``): ``w`` ``(*k, O, I)``,
  ``TruncatedNormal(1/sqrt(prod(k) * I))``: fan_in from the *last* axis (layout
  ``haiku.conv_transpose``; Haiku's own ``_compute_fans`` would read axis -2, ``O``, for an
  ``hk.initializers`` rule), ``b`` zeros.
* ``Embed`` (``embed.py``): ``embeddings`` ``(vocab, dim)`` ``TruncatedNormal()``: std 1
  cut at +-2, variance 0.7737 (``truncated_normal(std=1)``).
* ``LSTM`` (``recurrent.py``): one ``hk.Linear(4 h)`` on ``[x, h]``: Linear's default at fan_in
  ``in + h`` (its parameters are reported under that ``Linear``, ``lstm/linear/w``).
  ``GRU``: ``w_i`` ``(in, 3h)`` and ``w_h`` ``(h, 3h)`` ``VarianceScaling()`` (=
  ``lecun_truncated_normal``), ``b`` zeros.
* ``MultiHeadAttention`` (``attention.py``): ``w_init`` is required (no default); its
  projections' biases are Linear's zeros. Reported under the attention module
  (``("MultiHeadAttention", "query.w")``), ``w`` ``unchecked`` unless ``--expect``.
* ``LayerNorm``, ``BatchNorm``, ``RMSNorm``: ``scale`` ones, ``offset`` zeros.
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
from weight_init.schemes import TRUNCATED_NORMAL_STD, get_scheme, variance_scaling

#: The installed versions the catalog was read from.
HAIKU_VERSION = "0.0.17"
#: ``TruncatedNormal(stddev=1/sqrt(fan_in))`` (uncorrected): variance ``0.7737 / fan_in``.
HAIKU_TRUNCATED = variance_scaling(
    TRUNCATED_NORMAL_STD**2,
    "fan_in",
    "truncated_normal",
    name="haiku_truncated_normal (TruncatedNormal(1/sqrt(fan_in)), uncorrected)",
)
#: ``TruncatedNormal()``: std 1 cut at +-2, uncorrected: variance ``0.7737``.
HAIKU_EMBED = variance_scaling(
    TRUNCATED_NORMAL_STD**2, "fixed", "truncated_normal", name="truncated_normal(std=1)"
)
LECUN = get_scheme("lecun_truncated_normal")
#: Modules whose submodules get their initializers from them: their submodules' parameters
#: are reported under the module (``query.w``).
PARENT_OWNED = frozenset({"MultiHeadAttention"})

_SRC = "haiku/_src"
_TN = "TruncatedNormal(stddev=1/sqrt(fan_in)), no variance correction"
BIAS = (KernelSpec(8, 64), KernelSpec(4, 96))


def haiku_layer(kind: str, **kwargs: Any) -> Callable[[KernelSpec], Any]:
    """A builder ``build(spec) -> (hk.transform(f), *example_inputs)`` for ``kind`` in
    ``linear``, ``conv``, ``conv_transpose``, ``embed``, ``lstm``, ``gru``; ``kwargs`` go to
    the module (e.g. ``w_init=...``). Conv inputs have the kernel's spatial size."""

    def build(s: KernelSpec) -> Any:
        import haiku as hk
        import numpy as np

        d, i, o = len(s.kernel), s.in_channels, s.out_channels
        x = np.zeros((1, *s.kernel, i), np.float32)
        if kind == "embed":
            return hk.transform(lambda t: hk.Embed(i, o, **kwargs)(t)), np.zeros((1,), np.int32)

        def f(x: Any) -> Any:
            if kind == "linear":
                return hk.Linear(o, **kwargs)(x)
            if kind == "conv":
                conv = getattr(hk, f"Conv{d}D")
                return conv(o, s.kernel, feature_group_count=s.groups, padding="VALID", **kwargs)(x)
            if kind == "conv_transpose":
                return getattr(hk, f"Conv{d}DTranspose")(o, s.kernel, padding="VALID", **kwargs)(x)
            core = hk.LSTM(o, **kwargs) if kind == "lstm" else hk.GRU(o, **kwargs)
            return core(x, core.initial_state(1))

        return hk.transform(f), x

    return build


_p = functools.partial(catalog_entry, Framework.HAIKU, haiku_layer)


def _conv(layer: str, design: tuple[KernelSpec, ...]) -> LayerParam:
    fans = get_layout("flax.conv").spec_fans
    src = f"{_SRC}/conv.py: ConvND"
    return _p(layer, "w", "flax.conv", HAIKU_TRUNCATED, _TN, src, "conv", design, fans)


_LIN = f"{_SRC}/basic.py: Linear"
_GRU = f"{_SRC}/recurrent.py: GRU"
_PARAMS: list[LayerParam] = [
    _p("Linear", "w", "in_out", HAIKU_TRUNCATED, _TN, _LIN, "linear", DENSE, in_out_fans),
    _p("Linear", "b", "in_out", ZEROS, "zeros", _LIN, "linear", BIAS, in_out_fans),
    _conv("Conv1D", CONV_1D),
    _conv("Conv2D", CONV_2D),
    _conv("Conv3D", CONV_3D),
    _conv("Conv2D[grouped]", GROUPED_2D),
    _p(
        "Conv2DTranspose",
        "w",
        "haiku.conv_transpose",
        HAIKU_TRUNCATED,
        f"{_TN}, fan_in = prod(k) * I",
        f"{_SRC}/conv.py: ConvNDTranspose",
        "conv_transpose",
        CONV_2D,
        get_layout("haiku.conv_transpose").spec_fans,
    ),
    _p(
        "Embed",
        "embeddings",
        "in_out",
        HAIKU_EMBED,
        "TruncatedNormal(): std 1 cut at +-2, uncorrected",
        f"{_SRC}/embed.py: Embed",
        "embed",
        (KernelSpec(50, 8), KernelSpec(10, 64), KernelSpec(100, 16)),
        in_out_fans,
    ),
    _p(
        "LSTM",
        "linear/w",
        "in_out",
        HAIKU_TRUNCATED,
        f"Linear(4 h) on [x, h]: {_TN}, fan_in = in + h",
        f"{_SRC}/recurrent.py: LSTM",
        "lstm",
        RNN,
        lambda s: Fans(s.in_channels + s.out_channels, 4 * s.out_channels),
    ),
    _p(
        "GRU",
        "w_i",
        "in_out",
        LECUN,
        "VarianceScaling(): corrected truncated normal, 1/in",
        _GRU,
        "gru",
        RNN,
        lambda s: Fans(s.in_channels, 3 * s.out_channels),
    ),
    _p(
        "GRU",
        "w_h",
        "in_out",
        LECUN,
        "VarianceScaling(): corrected truncated normal, 1/h",
        _GRU,
        "gru",
        RNN,
        lambda s: Fans(s.out_channels, 3 * s.out_channels),
    ),
]

#: The catalog of Haiku layer parameters, by ``haiku:Layer.param``.
HAIKU_PARAMS: Mapping[str, LayerParam] = MappingProxyType({p.name: p for p in _PARAMS})


def haiku_defaults() -> dict[tuple[str, str], Default]:
    """(Haiku module class, parameter name) -> its documented default, for ``weight-init
    audit`` (the same schemes and sources as the catalog above)."""
    out: dict[tuple[str, str], Default] = {}
    out[("Linear", "w")] = Default(HAIKU_TRUNCATED, "in_out", "weight", _LIN)
    out[("Linear", "b")] = Default(ZEROS, "in_out", "weight", _LIN)
    for d in (1, 2, 3):
        for cls, layout, src in (
            (f"Conv{d}D", "flax.conv", "ConvND"),
            (f"Conv{d}DTranspose", "haiku.conv_transpose", "ConvNDTranspose"),
        ):
            out[(cls, "w")] = Default(HAIKU_TRUNCATED, layout, "weight", f"{_SRC}/conv.py: {src}")
            out[(cls, "b")] = Default(ZEROS, "in_out", "weight", f"{_SRC}/conv.py: {src}")
    out[("Embed", "embeddings")] = Default(HAIKU_EMBED, "in_out", "weight", f"{_SRC}/embed.py")
    out[("GRU", "w_i")] = Default(LECUN, "in_out", "weight", _GRU)
    out[("GRU", "w_h")] = Default(LECUN, "in_out", "weight", _GRU)
    out[("GRU", "b")] = Default(ZEROS, "in_out", "weight", _GRU)
    mha = f"{_SRC}/attention.py: MultiHeadAttention (w_init required; b: Linear's zeros)"
    for proj in ("query", "key", "value", "linear"):
        out[("MultiHeadAttention", f"{proj}.b")] = Default(ZEROS, "in_out", "weight", mha)
    for cls, src in (
        ("LayerNorm", "layer_norm.py"),
        ("BatchNorm", "batch_norm.py"),
        ("RMSNorm", "rms_norm.py"),
    ):
        out[(cls, "scale")] = Default(ONES, "in_out", "weight", f"{_SRC}/{src}: {cls}")
        out[(cls, "offset")] = Default(ZEROS, "in_out", "weight", f"{_SRC}/{src}: {cls}")
    return out
