"""Catalog of Keras 3 and Flax layer defaults, checked through their layouts (tox -e frameworks).

Skipped (importorskip) where Keras or Flax is missing. Every check: family-wise false-alarm
rate 1e-4 (Holm), power 0.99 against a 1% std error (weight_init.properties.conformance._power);
layers are seeded from the Hypothesis-drawn seed (``keras.utils.set_random_seed`` per layer,
``jax.random.PRNGKey`` per Flax init). A conforming default must pass; a known quirk must
fail with the quirk named by the fan-rule fit (weight_init.properties.conformance._kernels).
"""

from __future__ import annotations

import math
import os
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weight_init.layouts import Fans, KernelSpec, get_layout
from weight_init.properties.conformance import _kernels as kernels

os.environ.setdefault("KERAS_BACKEND", "jax")
try:  # imported here, not inside a Hypothesis test (keras changes the recursion limit)
    import keras  # noqa: F401
except Exception:  # ImportError, or no usable backend: the Keras tests skip
    pass
SEEDS = st.integers(0, 2**32 - 1)
# Keras' convert_to_numpy on the JAX backend calls np.array(x) the numpy-2 deprecated way
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)
FAST = {
    "keras:Conv2D.kernel",
    "keras:Conv2DTranspose.kernel",
    "keras:Dense.bias",
    "keras:LSTM.cell.recurrent_kernel",
    "keras:LSTM.cell.bias[forget]",
    "keras:LSTM.cell.bias[i,c,o]",
    "keras:Embedding.embeddings",
    "flax:Conv[grouped].kernel",
    "flax:ConvTranspose.kernel",
    "flax:Embed.embedding",
    "flax:LSTMCell.hi.kernel",
}


def _names(prefix: str) -> list[Any]:
    from weight_init.properties.audit._catalog import LAYER_PARAMS

    return [
        pytest.param(n, marks=() if n in FAST else pytest.mark.slow, id=n)
        for n in LAYER_PARAMS
        if n.startswith(prefix)
    ]


def _keras() -> Any:
    return pytest.importorskip("keras")


def _flax() -> Any:
    pytest.importorskip("jax")
    return pytest.importorskip("flax.linen")


@pytest.mark.keras
@pytest.mark.parametrize("name", _names("keras:"))
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_keras_layer_default_conforms(name: str, seed: int) -> None:
    _keras()
    from weight_init.properties.audit._catalog import check_layer_param

    v = check_layer_param(name, seed=seed)
    assert v.passed, v.format_table()


@pytest.mark.jax
@pytest.mark.parametrize("name", _names("flax:"))
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_flax_layer_default_conforms(name: str, seed: int) -> None:
    _flax()
    from weight_init.properties.audit._catalog import check_layer_param

    v = check_layer_param(name, seed=seed)
    assert v.passed, v.format_table()


# -- known quirks fail with the quirk named ---------------------------------------------------


@pytest.mark.keras
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_keras_conv_transpose_he_reads_fan_in_from_the_output_axis(seed: int) -> None:
    """tensorflow #31192, still in Keras 3.15.1: compute_fans of (*k, O, I) gives fan_in
    O * rf. Glorot (the default) cannot show it; he_uniform at the true fan_in I * rf does."""
    _keras()
    from weight_init.properties.audit._catalog import check_layer_param, get_param
    from weight_init.properties.audit._catalog_keras import keras_layer

    p = get_param("keras:Conv2DTranspose.kernel")
    he = replace(p, build=keras_layer("conv_transpose", kernel_initializer="he_uniform"))
    assert check_layer_param(he, "he_uniform", seed=seed).passed  # Keras' own fans
    v = check_layer_param(he, "he_uniform", fans_of=_true_in, seed=seed)
    assert v.outcome == "fail"
    assert v.quirk == kernels.TRANSPOSED, v.format_table()


def _true_in(s: KernelSpec) -> Fans:
    return Fans(s.in_channels * s.receptive_field, s.out_channels * s.receptive_field)


@pytest.mark.keras
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_keras_depthwise_glorot_counts_every_input_channel(seed: int) -> None:
    """DepthwiseConv2D's kernel (*k, I, M) gets Glorot at (I * rf, M * rf); each output reads
    one input channel (fan_in rf): at the connectivity fans the check fails, groups ignored."""
    _keras()
    from weight_init.properties.audit._catalog import (
        check_layer_param,
        connectivity_fans,
        get_param,
    )

    p = get_param("keras:DepthwiseConv2D.kernel")
    # a 1x1 depthwise kernel has connectivity fans (1, M): one entry per check call, too slow
    design = tuple(s for s in p.design if s.receptive_field > 1)
    v = check_layer_param(p, fans_of=connectivity_fans, design=design, seed=seed)
    assert v.outcome == "fail"
    assert v.quirk == kernels.GROUPS_IGNORED, v.format_table()


@pytest.mark.keras
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_keras_lstm_kernel_is_glorot_over_the_stack(seed: int) -> None:
    """Each (in, units) gate block of the (in, 4 units) kernel has variance 2/(in + 4u)."""
    _keras()
    from weight_init.properties.audit._catalog import check_layer_param, get_param, per_block_fans

    p = get_param("keras:LSTM.cell.kernel")
    v = check_layer_param(p, "glorot_uniform", fans_of=per_block_fans(p), seed=seed)
    assert v.outcome == "fail"
    assert v.quirk == kernels.STACKED, v.format_table()


@pytest.mark.jax
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_flax_embed_is_not_unit_normal(seed: int) -> None:
    """Flax's Embed std is 1/sqrt(features) (out_axis=0 makes fan_in = features), not
    torch's N(0, 1): checked as N(0, 1) it fails, diagnosed as a 1/fan_in rule."""
    _flax()
    from weight_init.properties.audit._catalog import check_layer_param

    v = check_layer_param("flax:Embed.embedding", "big_normal", seed=seed)
    assert v.outcome == "fail"
    assert "wrong fan mode" in v.diagnosis and "/fan_in" in v.diagnosis, v.format_table()


# -- one deliberately wrong fan rule per framework layout, in the framework -------------------


def _keras_no_rf_he(shape: tuple[int, ...], dtype: Any = None) -> Any:
    """He uniform with the receptive field left out of fan_in (seeded by set_random_seed)."""
    import keras

    b = math.sqrt(6.0 / shape[-2])
    return keras.initializers.RandomUniform(-b, b)(shape, dtype=dtype)


def _keras_true_in_he(shape: tuple[int, ...], dtype: Any = None) -> Any:
    """He uniform at the transposed conv's true fan_in (axis -1): not what Keras computes."""
    import keras

    b = math.sqrt(6.0 / (shape[-1] * math.prod(shape[:-2])))
    return keras.initializers.RandomUniform(-b, b)(shape, dtype=dtype)


def _wrong(case: str) -> tuple[Any, str, str]:
    """(LayerParam with a wrong kernel initializer, scheme, the quirk it must be named by)."""
    from weight_init.properties.audit._catalog import get_param
    from weight_init.properties.audit._catalog_flax import flax_layer
    from weight_init.properties.audit._catalog_keras import keras_layer

    if case == "keras.conv":
        p = get_param("keras:Conv2D.kernel")
        return (
            replace(p, build=keras_layer("conv", kernel_initializer=_keras_no_rf_he)),
            "he_uniform",
            kernels.NO_RF_IN,
        )
    if case == "keras.conv_transpose":
        p = get_param("keras:Conv2DTranspose.kernel")
        build = keras_layer("conv_transpose", kernel_initializer=_keras_true_in_he)
        return replace(p, build=build), "he_uniform", kernels.TRANSPOSED
    import jax

    p = get_param("flax:Conv.kernel")  # 2-d kernels: spatial axes (0, 1) taken as batch axes
    init = jax.nn.initializers.lecun_normal(batch_axis=(0, 1))
    return replace(p, build=flax_layer("conv", kernel_init=init)), p.default.name, kernels.NO_RF_IN


@pytest.mark.parametrize(
    "case",
    [
        pytest.param("keras.conv", marks=pytest.mark.keras),
        pytest.param("keras.conv_transpose", marks=pytest.mark.keras),
        pytest.param("flax.conv", marks=pytest.mark.jax),
    ],
)
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_wrong_fan_rule_in_the_framework_fails_with_its_name(case: str, seed: int) -> None:
    _flax() if case.startswith("flax") else _keras()
    from weight_init.properties.audit._catalog import check_layer_param

    p, scheme, quirk = _wrong(case)
    assert p.layout == case and get_layout(case).name == case
    v = check_layer_param(p, scheme, seed=seed)
    assert v.outcome == "fail"
    assert v.quirk == quirk, v.format_table()
    assert quirk in v.diagnosis
