"""Small Equinox, Flax NNX and Haiku models for ``weight-init audit`` tests (the frameworks are
imported by the factories, so importing this module needs none of them).

Protocols (weight_init.properties.audit._jax_modules): Equinox and NNX factories return a
callable ``make(key)`` / ``make(rngs)``; Haiku factories return ``(hk.transform(f), *inputs)``.
A conforming model's random parameters have at least 256 entries (uniform) or 513 (normal,
truncated normal) per build, so that the automatic number of builds (at most 520) reaches the
power plan (131,542 uniform / 263,842 normal entries at alpha 1e-4) and the audit can pass.
"""

from __future__ import annotations

import math
from typing import Any

# -- Equinox ----------------------------------------------------------------------------------


def eqx_cnn() -> Any:
    """Conv2d / GroupNorm / 1x1 Conv2d / ConvTranspose2d / Linear / LayerNorm with Equinox's
    defaults (a class: ``make(key)`` is its constructor)."""
    import equinox as eqx
    import jax

    class CNN(eqx.Module):
        layers: list[Any]

        def __init__(self, key: Any) -> None:
            k = jax.random.split(key, 4)
            self.layers = [
                eqx.nn.Conv2d(3, 16, 3, use_bias=False, key=k[0]),
                eqx.nn.GroupNorm(4, 16),
                eqx.nn.Conv2d(16, 256, 1, key=k[1]),
                eqx.nn.ConvTranspose2d(256, 8, 3, use_bias=False, key=k[2]),
                eqx.nn.Linear(8, 256, key=k[3]),
                eqx.nn.LayerNorm(256),
            ]

    return CNN


def eqx_transformer() -> Any:
    """Embedding + MultiheadAttention + MLP + GRUCell: ``make(key)`` as a lambda."""
    import equinox as eqx
    import jax

    class Block(eqx.Module):
        embed: Any
        attn: Any
        mlp: Any
        cell: Any

        def __init__(self, key: Any) -> None:
            k = jax.random.split(key, 4)
            self.embed = eqx.nn.Embedding(40, 16, key=k[0])
            self.attn = eqx.nn.MultiheadAttention(2, 16, key=k[1])
            self.mlp = eqx.nn.MLP(16, 4, 32, 2, key=k[2])
            self.cell = eqx.nn.GRUCell(4, 8, key=k[3])

    return lambda key: Block(key)


def eqx_buggy_linear() -> Any:
    """A Linear whose weight is re-drawn as He uniform ``U(-sqrt(6/in), +)``: 6x Equinox's
    default variance ``1/(3 in)``; the bias keeps the default."""
    import equinox as eqx
    import jax

    def make(key: Any) -> Any:
        k1, k2 = jax.random.split(key)
        lin = eqx.nn.Linear(64, 32, key=k1)
        b = math.sqrt(6.0 / 64)
        w = jax.random.uniform(k2, lin.weight.shape, minval=-b, maxval=b)
        return eqx.tree_at(lambda m: m.weight, lin, w)

    return make


def eqx_not_a_module() -> Any:
    """``make(key)`` returns an array, not an ``eqx.Module``."""
    import equinox  # noqa: F401 (the factory's framework is imported, as in a real model file)
    import jax

    return lambda key: jax.random.normal(key, (3,))


def garbage() -> Any:
    return {"not": "a model"}


# -- Flax NNX ---------------------------------------------------------------------------------


def nnx_cnn() -> Any:
    """Conv / BatchNorm / grouped Conv / ConvTranspose / Linear with NNX's defaults
    (``make(rngs)`` is the class)."""
    from flax import nnx

    class CNN(nnx.Module):
        def __init__(self, rngs: Any) -> None:
            self.conv = nnx.Conv(3, 32, (3, 3), rngs=rngs)
            self.norm = nnx.BatchNorm(32, rngs=rngs)
            self.grouped = nnx.Conv(32, 64, (3, 3), feature_group_count=4, rngs=rngs)
            self.up = nnx.ConvTranspose(64, 8, (3, 3), rngs=rngs)
            self.head = nnx.Linear(8, 128, rngs=rngs)

    return CNN


def nnx_transformer() -> Any:
    """Embed + MultiHeadAttention + LayerNorm + LSTMCell + Linear: ``make(rngs)`` a lambda."""
    from flax import nnx

    class Block(nnx.Module):
        def __init__(self, rngs: Any) -> None:
            self.embed = nnx.Embed(40, 16, rngs=rngs)
            self.attn = nnx.MultiHeadAttention(2, 16, decode=False, rngs=rngs)
            self.norm = nnx.LayerNorm(16, rngs=rngs)
            self.cell = nnx.LSTMCell(16, 8, rngs=rngs)
            self.out = nnx.Linear(8, 4, rngs=rngs)

    return lambda rngs: Block(rngs)


def nnx_buggy_linear() -> Any:
    """A Linear with ``kernel_init=he_normal()``: twice NNX's ``lecun_normal`` variance."""
    import jax
    from flax import nnx

    init = jax.nn.initializers.he_normal()
    return lambda rngs: nnx.Linear(64, 32, kernel_init=init, rngs=rngs)


def nnx_not_a_module() -> Any:
    """``make(rngs)`` returns a number."""
    from flax import nnx  # noqa: F401

    return lambda rngs: 3.0


# -- Haiku ------------------------------------------------------------------------------------


def hk_cnn() -> Any:
    """Conv2D / BatchNorm / grouped Conv2D / Conv2DTranspose / Linear with Haiku's defaults,
    ``hk.transform_with_state`` (BatchNorm's statistics are state, not parameters)."""
    import haiku as hk
    import numpy as np

    def f(x: Any) -> Any:
        x = hk.Conv2D(16, 3)(x)
        x = hk.BatchNorm(True, True, 0.9)(x, is_training=True)
        x = hk.Conv2D(32, 3, feature_group_count=4)(x)
        x = hk.Conv2DTranspose(8, 3)(x)
        return hk.Linear(10)(x.reshape(x.shape[0], -1))

    return hk.transform_with_state(f), np.zeros((1, 8, 8, 3), np.float32)


def hk_transformer() -> Any:
    """Embed + MultiHeadAttention (its required w_init) + LayerNorm + LSTM + GRU."""
    import haiku as hk
    import numpy as np

    def f(tokens: Any) -> Any:
        x = hk.Embed(40, 16)(tokens)
        w_init = hk.initializers.VarianceScaling(1.0)
        x = hk.MultiHeadAttention(2, 8, w_init=w_init, model_size=16)(x, x, x)
        x = hk.LayerNorm(-1, True, True)(x)[:, 0]
        lstm, gru = hk.LSTM(8), hk.GRU(8)
        y, _ = lstm(x, lstm.initial_state(x.shape[0]))
        y, _ = gru(y, gru.initial_state(x.shape[0]))
        return y

    return hk.transform(f), np.zeros((1, 5), np.int32)


def hk_buggy_linear() -> Any:
    """A Linear with ``w_init=VarianceScaling(2.0)`` (He, corrected truncated normal): 2.58x
    the variance of Haiku's uncorrected ``TruncatedNormal(1/sqrt(fan_in))``."""
    import haiku as hk
    import numpy as np

    def f(x: Any) -> Any:
        return hk.Linear(32, w_init=hk.initializers.VarianceScaling(2.0))(x)

    return hk.transform(f), np.zeros((1, 64), np.float32)


def hk_not_transformed() -> Any:
    """A tuple whose first item is a plain function, not an ``hk.Transformed``."""
    import haiku  # noqa: F401
    import numpy as np

    return (lambda x: x), np.zeros((1, 4), np.float32)


# -- parameters stored in bfloat16 ------------------------------------------------------------


def eqx_bfloat16_linear() -> Any:
    """An Equinox Linear stored in bfloat16 (``make(key)``)."""
    import equinox as eqx
    import jax.numpy as jnp

    return lambda key: eqx.nn.Linear(32, 64, key=key, dtype=jnp.bfloat16)


def nnx_bfloat16_linear() -> Any:
    """An NNX Linear stored in bfloat16 whose bias is ``constant(0.1)`` (``make(rngs)``)."""
    import jax.numpy as jnp
    from flax import nnx

    bias = nnx.initializers.constant(0.1)
    return lambda rngs: nnx.Linear(32, 64, param_dtype=jnp.bfloat16, bias_init=bias, rngs=rngs)


def hk_bfloat16_linear() -> Any:
    """A Haiku Linear on a bfloat16 input (its parameters take the input's dtype) whose bias
    is ``Constant(0.1)``."""
    import haiku as hk
    import jax.numpy as jnp

    def f(x: Any) -> Any:
        return hk.Linear(64, b_init=hk.initializers.Constant(0.1))(x)

    return hk.transform(f), jnp.zeros((1, 32), jnp.bfloat16)
