"""Layouts: the framework fans of n-d kernels, checked against the frameworks' own code."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weight_init.errors import InvalidParameterError
from weight_init.layouts import LAYOUTS, KernelSpec, Role, get_layout


@st.composite
def kernel_specs(draw: st.DrawFn, grouped: bool = True) -> KernelSpec:
    """1-3 spatial dims, kernel sizes 1/3/5/7, groups 1, >1 or depthwise."""
    dims = draw(st.integers(1, 3))
    kernel = tuple(draw(st.sampled_from((1, 3, 5, 7))) for _ in range(dims))
    kind = draw(st.sampled_from(("one", "grouped", "depthwise"))) if grouped else "one"
    g = {"one": 1, "grouped": draw(st.integers(2, 4)), "depthwise": draw(st.integers(2, 8))}[kind]
    per_in = 1 if kind == "depthwise" else draw(st.integers(1, 6))
    per_out = draw(st.integers(1, 6))
    return KernelSpec(per_in * g, per_out * g, kernel, g)


@given(spec=kernel_specs())
@settings(max_examples=150, deadline=None)
def test_torch_fans_match_torch(spec: KernelSpec) -> None:
    torch = pytest.importorskip("torch")
    calc = torch.nn.init._calculate_fan_in_and_fan_out
    for name, cls in (("torch.conv", "Conv"), ("torch.conv_transpose", "ConvTranspose")):
        layout = get_layout(name)
        module = getattr(torch.nn, f"{cls}{len(spec.kernel)}d")(
            spec.in_channels, spec.out_channels, spec.kernel, groups=spec.groups, bias=False
        )
        assert tuple(module.weight.shape) == layout.shape(spec)
        assert layout.fans(tuple(module.weight.shape)).as_tuple() == calc(module.weight)


@given(spec=kernel_specs(), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=50, deadline=None)
def test_matrix_keeps_every_entry(spec: KernelSpec, seed: int) -> None:
    for layout in LAYOUTS.values():
        if not layout.spatial or (spec.groups > 1 and layout.grouped is None):
            continue
        w = np.random.default_rng(seed).standard_normal(layout.shape(spec))
        m = layout.matrix(w)
        assert m.ndim == 2 and m.size == w.size
        assert np.array_equal(np.sort(m.ravel()), np.sort(w.ravel()))
        out = spec.out_channels // (spec.groups if layout.grouped is Role.OUT else 1)
        assert m.shape[1] == out


@given(spec=kernel_specs(grouped=False))
@settings(max_examples=50, deadline=None)
def test_keras_fans_match_keras(spec: KernelSpec) -> None:
    ri = pytest.importorskip("keras.src.initializers.random_initializers")
    for name in ("keras.conv", "keras.conv_transpose"):
        layout = get_layout(name)
        shape = layout.shape(spec)
        assert layout.fans(shape).as_tuple() == tuple(ri.compute_fans(shape))


@given(spec=kernel_specs())
@settings(max_examples=50, deadline=None)
def test_flax_fans_match_jax(spec: KernelSpec) -> None:
    init = pytest.importorskip("jax._src.nn.initializers")
    layout = get_layout("flax.conv")
    shape = layout.shape(spec)
    assert layout.fans(shape).as_tuple() == tuple(int(f) for f in init._compute_fans(shape))


def test_transposed_layouts_read_fans_from_the_output_axis() -> None:
    spec = KernelSpec(4, 6, (3, 3))
    assert get_layout("torch.conv_transpose").fans_transposed
    assert get_layout("keras.conv_transpose").fans_transposed
    assert not get_layout("torch.conv").fans_transposed
    assert get_layout("torch.conv_transpose").spec_fans(spec).as_tuple() == (54, 36)
    assert get_layout("torch.conv").spec_fans(spec).as_tuple() == (36, 54)
    assert spec.true_fans().as_tuple() == (36, 54)


def test_grouped_torch_fan_out_ignores_groups() -> None:
    spec = KernelSpec(8, 8, (3,), groups=4)
    assert get_layout("torch.conv").spec_fans(spec).as_tuple() == (6, 24)
    assert spec.true_fans().as_tuple() == (6, 6)


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_spec_for_fans_round_trips(name: str) -> None:
    layout = get_layout(name)
    assert layout.spec_fans(layout.spec_for_fans(7, 5)).as_tuple() == (7, 5)


def test_bad_layouts_and_specs_are_one_line_errors() -> None:
    with pytest.raises(InvalidParameterError, match="unknown layout"):
        get_layout("torch.conv3")
    with pytest.raises(InvalidParameterError, match="groups"):
        KernelSpec(6, 4, (3,), groups=4)
    with pytest.raises(InvalidParameterError, match="no groups"):
        get_layout("keras.conv_transpose").shape(KernelSpec(4, 4, (3,), groups=2))
    with pytest.raises(InvalidParameterError, match="does not fit"):
        get_layout("out_in").fans((3, 4, 5))


def test_haiku_conv_transpose_layout_is_haikus_weight_and_default_fan_in() -> None:
    """``haiku.conv_transpose``: the shape of ``hk.Conv2DTranspose``'s ``w``, ``(*k, O, I)``,
    and the fan_in its default reads, ``prod(k) * I`` (haiku/_src/conv.py), not axis -2."""
    spec = KernelSpec(4, 6, (3, 5))
    lay = get_layout("haiku.conv_transpose")
    assert lay.shape(spec) == (3, 5, 6, 4)
    assert lay.spec_fans(spec).as_tuple() == (4 * 15, 6 * 15) and not lay.fans_transposed
    hk = pytest.importorskip("haiku")
    jax = pytest.importorskip("jax")

    def f(x: object) -> object:
        return hk.Conv2DTranspose(6, (3, 5))(x)

    params = hk.transform(f).init(jax.random.PRNGKey(0), np.zeros((1, 3, 5, 4), np.float32))
    assert params["conv2_d_transpose"]["w"].shape == lay.shape(spec)
