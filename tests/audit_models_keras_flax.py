"""Small Keras 3 and Flax (linen) models for ``weight-init audit`` tests (the frameworks are
imported by the factories, so importing this module needs neither)."""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "jax")


def keras_cnn() -> Any:
    """Conv2D / grouped Conv2D / BatchNormalization / Conv2DTranspose / Dense with Keras'
    defaults, built by its Input."""
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            layers.Conv2D(16, 3),
            layers.BatchNormalization(),
            layers.Conv2D(32, 3, groups=4),
            layers.Conv2DTranspose(8, 3),
            layers.Flatten(),
            layers.Dense(10),
        ]
    )


def keras_lstm() -> Any:
    """Embedding + LSTM + Dense: Keras' uniform embedding, stacked-Glorot kernel, orthogonal
    recurrent kernel and the unit_forget_bias bias."""
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input((5,), dtype="int32"),
            layers.Embedding(40, 16),
            layers.LSTM(8),
            layers.Dense(4),
        ]
    )


def keras_he_conv_transpose() -> Any:
    """Conv2DTranspose with he_uniform: Keras reads its fan_in from the output channels."""
    import keras
    from keras import layers

    return keras.Sequential(
        [keras.Input((4, 4, 12)), layers.Conv2DTranspose(4, 3, kernel_initializer="he_uniform")]
    )


def keras_unbuilt() -> Any:
    import keras

    return keras.Sequential([keras.layers.Dense(3)])


def flax_cnn() -> Any:
    """Conv / grouped Conv / BatchNorm / ConvTranspose / Dense with Flax's defaults, and an
    example input: ``(module, x)``."""
    import flax.linen as nn
    import numpy as np

    class CNN(nn.Module):
        @nn.compact
        def __call__(self, x: Any) -> Any:
            x = nn.Conv(16, (3, 3))(x)
            x = nn.BatchNorm(use_running_average=True)(x)
            x = nn.Conv(32, (3, 3), feature_group_count=4)(x)
            x = nn.ConvTranspose(8, (3, 3))(x)
            return nn.Dense(10)(x.reshape(x.shape[0], -1))

    return CNN(), np.zeros((1, 8, 8, 3), np.float32)


def flax_lstm() -> Any:
    """Embed + LSTMCell + Dense: ``(module, tokens)``."""
    import flax.linen as nn
    import numpy as np

    class Tagger(nn.Module):
        @nn.compact
        def __call__(self, tokens: Any) -> Any:
            x = nn.Embed(40, 16)(tokens)
            cell = nn.LSTMCell(8)
            h = np.zeros((tokens.shape[0], 8), np.float32)
            _, y = cell((h, h), x)
            return nn.Dense(4)(y)

    return Tagger(), np.zeros((1,), np.int32)


def _no_rf_he_uniform(shape: tuple[int, ...], dtype: Any = None) -> Any:
    """He uniform with the receptive field left out of fan_in: ``U(-sqrt(6 / I), +)``."""
    import keras

    b = (6.0 / shape[-2]) ** 0.5
    return keras.initializers.RandomUniform(-b, b)(shape, dtype=dtype)


def keras_buggy_cnn() -> Any:
    """A Conv2D whose initializer leaves the receptive field out of fan_in (9x the variance)."""
    import keras
    from keras import layers

    return keras.Sequential(
        [keras.Input((8, 8, 3)), layers.Conv2D(16, 3, kernel_initializer=_no_rf_he_uniform)]
    )


def keras_norm_only() -> Any:
    """Only constant-initialized variables (LayerNormalization gamma/beta)."""
    import keras

    return keras.Sequential([keras.Input((8,)), keras.layers.LayerNormalization()])


def _padded_normal(shape: tuple[int, ...], dtype: Any = None) -> Any:
    """``N(0, 0.02^2)`` with row 0 (the padding token's) exactly 0, as transformers does."""
    import keras

    w = keras.initializers.RandomNormal(stddev=0.02)(shape, dtype=dtype)
    return keras.ops.concatenate([keras.ops.zeros((1, *shape[1:]), dtype=w.dtype), w[1:]], 0)


def keras_padded_embedding() -> Any:
    """An Embedding whose padding row 0 is zero, then a Dense."""
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input((5,), dtype="int32"),
            layers.Embedding(40, 16, embeddings_initializer=_padded_normal),
            layers.Dense(4),
        ]
    )


def keras_low_precision() -> Any:
    """Dense layers stored in bfloat16 and float16 whose bias is ``Constant(0.1)``: the
    tensors hold 0.1 as the format does (0.10009765625, 0.0999755859375)."""
    import keras
    from keras import layers

    bias = keras.initializers.Constant(0.1)
    return keras.Sequential(
        [
            keras.Input((8,)),
            layers.Dense(16, bias_initializer=bias, dtype="bfloat16"),
            layers.Dense(4, bias_initializer=bias, dtype="float16"),
        ]
    )


def flax_padded_embed() -> Any:
    """An Embed whose padding row 0 is zero, then a Dense: ``(module, tokens)``."""
    import flax.linen as nn
    import jax
    import numpy as np

    def padded_normal(key: Any, shape: tuple[int, ...], dtype: Any = None) -> Any:
        w = 0.02 * jax.random.normal(key, shape, dtype or np.float32)
        return w.at[0].set(0.0)

    class Tagger(nn.Module):
        @nn.compact
        def __call__(self, tokens: Any) -> Any:
            return nn.Dense(4)(nn.Embed(40, 16, embedding_init=padded_normal)(tokens))

    return Tagger(), np.zeros((1, 5), np.int32)


def flax_low_precision() -> Any:
    """Dense layers with parameters in bfloat16 and float16 whose bias is ``constant(0.1)``:
    ``(module, x)``."""
    import flax.linen as nn
    import jax.numpy as jnp
    import numpy as np

    bias = nn.initializers.constant(0.1)

    class Net(nn.Module):
        @nn.compact
        def __call__(self, x: Any) -> Any:
            x = nn.Dense(16, param_dtype=jnp.bfloat16, bias_init=bias)(x)
            return nn.Dense(4, param_dtype=jnp.float16, bias_init=bias)(x)

    return Net(), np.zeros((1, 8), np.float32)
