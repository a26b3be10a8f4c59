"""Catalog of PyTorch layer defaults and kernel fan rules, checked through their layouts.

Every check: family-wise false-alarm rate 1e-4 (Holm; ``PASS_ALPHA`` = 1e-7 where a pass or an
inconclusive outcome is asserted, tests/_levels.py), power 0.99 against a 1% std error at
that level (weight_init.properties.conformance._power); layers are seeded with
torch.manual_seed from seeds derived from the Hypothesis-drawn seed. A conforming default
must pass; a known quirk must fail with the quirk named by the fan-rule fit
(weight_init.properties.conformance._kernels).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _levels import PASS_ALPHA
from weight_init.layouts import KernelSpec, get_layout
from weight_init.properties.conformance import _kernels as kernels
from weight_init.properties.conformance._kernels import check_kernel_initializer, check_parameter

SEEDS = st.integers(0, 2**32 - 1)
FAST = {
    "torch:Conv2d.weight",
    "torch:ConvTranspose2d.weight",
    "torch:Conv2d[grouped].weight",
    "torch:Linear.weight",
    "torch:LSTM.weight_ih_l0",
    "torch:GRU.weight_hh_l0",
    "torch:MultiheadAttention.in_proj_weight",
    "torch:MultiheadAttention.in_proj_bias",
    "torch:Embedding.weight",
}


def _params() -> list[Any]:
    try:
        from weight_init.properties.audit._catalog import TORCH_PARAMS
    except ImportError:  # pragma: no cover
        return []
    return [
        pytest.param(name, marks=() if name in FAST else pytest.mark.slow, id=name)
        for name in TORCH_PARAMS
    ]


@pytest.mark.torch
@pytest.mark.parametrize("name", _params())
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_torch_layer_default_conforms(name: str, seed: int) -> None:
    pytest.importorskip("torch")
    from weight_init.properties.audit._catalog import check_layer_param

    v = check_layer_param(name, seed=seed, alpha=PASS_ALPHA)
    assert v.passed, v.format_table()


@pytest.mark.torch
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_multihead_attention_block_is_not_glorot(seed: int) -> None:
    """in_proj_weight is xavier_uniform_ over (3E, E): each (E, E) block gets 1/(2E)."""
    pytest.importorskip("torch")
    from weight_init.properties.audit._catalog import check_layer_param, get_param, per_block_fans

    p = get_param("torch:MultiheadAttention.in_proj_weight")
    v = check_layer_param(p, "glorot_uniform", fans_of=per_block_fans(p), seed=seed)
    assert v.outcome == "fail"
    assert v.quirk == kernels.STACKED, v.format_table()
    assert "fan computed over the stacked matrix" in v.diagnosis


@pytest.mark.torch
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_conv_transpose_fans_come_from_the_transposed_axis(seed: int) -> None:
    """At the connectivity fans (I/g * rf inputs per output) torch's default fails."""
    pytest.importorskip("torch")
    from weight_init.properties.audit._catalog import check_layer_param, connectivity_fans

    v = check_layer_param("torch:ConvTranspose2d.weight", fans_of=connectivity_fans, seed=seed)
    assert v.outcome == "fail"
    assert v.quirk == kernels.TRANSPOSED, v.format_table()


@pytest.mark.torch
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_too_few_entries_is_inconclusive_not_pass(seed: int) -> None:
    pytest.importorskip("torch")
    from weight_init.properties.audit._catalog import check_layer_param

    v = check_layer_param("torch:LSTM.weight_ih_l0", seed=seed, n_entries=2000, alpha=PASS_ALPHA)
    assert not v.passed
    assert v.outcome == "inconclusive", v.format_table()


@pytest.mark.torch
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_torch_kaiming_on_kernels_matches_torch_fans(seed: int) -> None:
    pytest.importorskip("torch")
    init = kernels.torch_kernel_init("kaiming_uniform_", a=math.sqrt(5))
    for layout in ("torch.conv", "torch.conv_transpose"):
        v = check_kernel_initializer(
            init, "torch_linear_default", layout, seed=seed, alpha=PASS_ALPHA
        )
        assert v.passed, v.format_table()


# -- one deliberately wrong fan rule per layout (numpy, no framework needed) ------------------


def _uniform(shape: tuple[int, ...], fan_in: int, seed: int) -> Any:
    b = 1.0 / math.sqrt(fan_in)
    return np.random.default_rng(seed).uniform(-b, b, shape)


def _no_rf_in(layout: str) -> Any:
    lay = get_layout(layout)

    def draw(spec: KernelSpec, seed: int) -> Any:
        fans = lay.spec_fans(spec)
        return _uniform(lay.shape(spec), fans.fan_in // spec.receptive_field, seed)

    return draw


def _transposed(layout: str) -> Any:
    lay = get_layout(layout)

    def draw(spec: KernelSpec, seed: int) -> Any:
        return _uniform(lay.shape(spec), lay.spec_fans(spec).fan_out, seed)

    return draw


def _groups_ignored(layout: str) -> Any:
    lay = get_layout(layout)

    def draw(spec: KernelSpec, seed: int) -> Any:
        return _uniform(lay.shape(spec), lay.spec_fans(spec).fan_in * spec.groups, seed)

    return draw


WRONG_RULES = [
    ("torch.conv", _no_rf_in, kernels.NO_RF_IN),
    ("torch.conv_transpose", _no_rf_in, kernels.NO_RF_IN),  # progressive-GAN ports
    ("keras.conv", _groups_ignored, kernels.GROUPS_IGNORED),
    ("keras.conv_transpose", _transposed, kernels.TRANSPOSED),  # tensorflow #31192
    ("flax.conv", _groups_ignored, kernels.GROUPS_IGNORED),
    ("flax.conv_transpose", _no_rf_in, kernels.NO_RF_IN),
    ("in_out", _transposed, kernels.TRANSPOSED),
    ("out_in", _transposed, kernels.TRANSPOSED),
]


@pytest.mark.parametrize(("layout", "make", "quirk"), WRONG_RULES)
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_wrong_kernel_fan_rule_fails_with_its_name(
    layout: str, make: Any, quirk: str, seed: int
) -> None:
    lay = get_layout(layout)
    design = kernels.kernel_design(lay)
    if quirk == kernels.GROUPS_IGNORED:
        design = tuple(s for s in design if s.groups > 1) + design[:2]
    v = check_parameter(
        make(layout), "torch_linear_default", lay, design, shape_of=lay.shape, seed=seed
    )
    assert v.outcome == "fail"
    assert v.quirk == quirk, v.format_table()
    assert quirk in v.diagnosis


@pytest.mark.parametrize("layout", ["torch.conv", "keras.conv", "flax.conv"])
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_correct_kernel_fan_rule_passes(layout: str, seed: int) -> None:
    lay = get_layout(layout)

    def draw(spec: KernelSpec, s: int) -> Any:
        return _uniform(lay.shape(spec), lay.spec_fans(spec).fan_in, s)

    v = check_parameter(
        draw, "torch_linear_default", lay, kernels.kernel_design(lay), seed=seed, alpha=PASS_ALPHA
    )
    assert v.passed, v.format_table()
    assert v.quirk is None


def test_wrong_kernel_shape_fails_the_shape_test() -> None:
    def init(shape: tuple[int, ...], seed: int) -> Any:
        return np.random.default_rng(seed).uniform(-0.1, 0.1, shape[::-1])

    v = check_kernel_initializer(init, "torch_linear_default", "torch.conv", seed=1)
    assert v.outcome == "fail"
    assert "shape" in {t.name for t in v.verdict.failures}


def test_no_design_has_single_entry_units() -> None:
    """A ``(1, n)`` matrix of float32 draws repeats a column with probability about
    ``C(n, 2) 2^-24`` per call: the exact ``distinct units`` check would fail a correct layer
    in ~2% of checks (found by ``weight-init calibrate --kernels`` on the depthwise bias)."""
    pytest.importorskip("torch")
    from weight_init.properties.audit._catalog import TORCH_PARAMS

    for name, p in TORCH_PARAMS.items():
        if p.default.family.is_random:
            assert all(p.fans_of(s).fan_in > 1 for s in p.design), name
