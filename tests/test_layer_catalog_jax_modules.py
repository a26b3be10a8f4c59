"""Catalog of Equinox, Flax NNX and Haiku layer defaults, checked through their layouts
(``tox -e frameworks``).

Skipped (importorskip) where the framework is missing. Every check: family-wise false-alarm
rate 1e-4 (Holm), power 0.99 against a 1% std error (weight_init.properties.conformance._power);
layers are
seeded from the Hypothesis-drawn seed (``jax.random.PRNGKey`` / ``nnx.Rngs`` per layer). A
conforming default must pass; a deliberately wrong fan rule built in the framework must fail
with the quirk named by the fan-rule fit (weight_init.properties.conformance._kernels).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weight_init.properties.conformance import _kernels as kernels

SEEDS = st.integers(0, 2**32 - 1)
FAST = {
    "equinox:Conv2d.weight",
    "equinox:ConvTranspose2d.weight",
    "equinox:Linear.bias",
    "equinox:GRUCell.weight_hh",
    "equinox:Embedding.weight",
    "nnx:Linear.kernel",
    "nnx:Conv[grouped].kernel",
    "nnx:ConvTranspose.kernel",
    "nnx:Embed.embedding",
    "nnx:GRUCell.dense_h.kernel",
    "haiku:Linear.w",
    "haiku:Conv2D[grouped].w",
    "haiku:Conv2DTranspose.w",
    "haiku:Embed.embeddings",
    "haiku:LSTM.linear/w",
}
IMPORTS = {"equinox": ("jax", "equinox"), "nnx": ("jax", "flax.nnx"), "haiku": ("jax", "haiku")}


def _names(prefix: str) -> list[Any]:
    from weight_init.properties.audit._catalog import LAYER_PARAMS

    return [
        pytest.param(n, marks=() if n in FAST else pytest.mark.slow, id=n)
        for n in LAYER_PARAMS
        if n.startswith(prefix)
    ]


def _need(framework: str) -> None:
    for module in IMPORTS[framework]:
        pytest.importorskip(module)


@pytest.mark.jax
@pytest.mark.parametrize("name", _names("equinox:"))
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_equinox_layer_default_conforms(name: str, seed: int) -> None:
    _need("equinox")
    from weight_init.properties.audit._catalog import check_layer_param

    v = check_layer_param(name, seed=seed)
    assert v.passed, v.format_table()


@pytest.mark.jax
@pytest.mark.parametrize("name", _names("nnx:"))
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_nnx_layer_default_conforms(name: str, seed: int) -> None:
    _need("nnx")
    from weight_init.properties.audit._catalog import check_layer_param

    v = check_layer_param(name, seed=seed)
    assert v.passed, v.format_table()


@pytest.mark.jax
@pytest.mark.parametrize("name", _names("haiku:"))
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_haiku_layer_default_conforms(name: str, seed: int) -> None:
    _need("haiku")
    from weight_init.properties.audit._catalog import check_layer_param

    v = check_layer_param(name, seed=seed)
    assert v.passed, v.format_table()


@pytest.mark.jax
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_haiku_truncated_normal_is_not_variance_corrected(seed: int) -> None:
    """hk.Linear's TruncatedNormal(1/sqrt(fan_in)) has variance 0.7737/fan_in: checked as the
    corrected lecun_truncated_normal (1/fan_in) it fails on the variance."""
    _need("haiku")
    from weight_init.properties.audit._catalog import check_layer_param

    v = check_layer_param("haiku:Linear.w", "lecun_truncated_normal", seed=seed)
    assert v.outcome == "fail"
    assert "variance" in {t.name for t in v.verdict.failures}, v.format_table()
    assert "without variance correction" in v.diagnosis


# -- one deliberately wrong fan rule per framework, built in the framework --------------------


def _eqx_no_rf_conv(spec: Any) -> Any:
    """Equinox Conv whose weight is re-drawn as ``U(-1/sqrt(I/g), +)``: the receptive field
    left out of fan_in."""
    import equinox as eqx
    import jax

    def make(key: Any) -> Any:
        k1, k2 = jax.random.split(key)
        conv = eqx.nn.Conv(
            len(spec.kernel), spec.in_channels, spec.out_channels, spec.kernel, key=k1
        )
        b = 1.0 / math.sqrt(spec.in_channels // spec.groups)
        w = jax.random.uniform(k2, conv.weight.shape, minval=-b, maxval=b)
        return eqx.tree_at(lambda m: m.weight, conv, w)

    return make


def _wrong(framework: str) -> Any:
    """The framework's Conv 2-d kernel entry with its receptive field left out of fan_in."""
    from weight_init.properties.audit._catalog import get_param

    if framework == "equinox":
        return replace(get_param("equinox:Conv2d.weight"), build=_eqx_no_rf_conv)
    import jax

    init = jax.nn.initializers.lecun_normal(batch_axis=(0, 1))  # spatial axes as batch axes
    if framework == "nnx":
        from weight_init.properties.audit._catalog_nnx import nnx_layer

        return replace(get_param("nnx:Conv.kernel"), build=nnx_layer("conv", kernel_init=init))
    import haiku as hk
    import numpy as np

    from weight_init.properties.audit._catalog_haiku import haiku_layer

    def no_rf(shape: Any, dtype: Any) -> Any:  # stddev 1/sqrt(I/g): rf left out
        return hk.initializers.TruncatedNormal(1.0 / np.sqrt(shape[-2]))(shape, dtype)

    return replace(get_param("haiku:Conv2D.w"), build=haiku_layer("conv", w_init=no_rf))


@pytest.mark.jax
@pytest.mark.parametrize("framework", ["equinox", "nnx", "haiku"])
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_wrong_fan_rule_in_the_framework_fails_with_its_name(framework: str, seed: int) -> None:
    _need(framework)
    from weight_init.properties.audit._catalog import check_layer_param

    p = _wrong(framework)
    v = check_layer_param(p, seed=seed)
    assert v.outcome == "fail"
    assert v.quirk == kernels.NO_RF_IN, v.format_table()
    assert kernels.NO_RF_IN in v.diagnosis
