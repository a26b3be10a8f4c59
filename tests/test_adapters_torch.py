"""The PyTorch adapter: torch.nn.init's initializers conform to the schemes they implement.

Each check: family-wise false-alarm rate 1e-4, power 0.99
(weight_init.properties.conformance._power);
torch generators are seeded from the Hypothesis-drawn seed.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _levels import PASS_ALPHA
from weight_init.errors import InitializerTypeError
from weight_init.properties.conformance._adapters import AdapterError, parse_call, resolve
from weight_init.properties.conformance._runner import check_initializer

torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install torch==2.13.0)")

pytestmark = pytest.mark.torch

TORCH_SCHEMES = [
    ("torch:xavier_normal_", "glorot_normal"),
    ("torch:xavier_uniform_", "glorot_uniform"),
    ("torch:kaiming_normal_", "he_normal"),
    ("torch:kaiming_uniform_", "he_uniform"),
    ("torch:orthogonal_", "orthogonal"),
    ("torch:Linear", "torch_linear_default"),
    ("torch:kaiming_uniform_(a=2.23606797749979)", "torch_linear_default"),
]


@pytest.mark.parametrize(("spec", "scheme"), TORCH_SCHEMES)
@settings(max_examples=1)
@given(seed=st.integers(0, 2**32 - 1))
def test_torch_initializers_conform(spec: str, scheme: str, seed: int) -> None:
    c = resolve(spec)
    assert c.layout == "out_in"
    v = check_initializer(c.fn, scheme, c.layout, seed=seed, alpha=PASS_ALPHA)
    assert v.passed, f"weight-init check {spec} --scheme {scheme} --seed {seed}\n{v.format_table()}"


def test_adapter_layout_and_seeding() -> None:
    c = resolve("torch:xavier_normal_")
    a, b = c.fn(3, 5, seed=1), c.fn(3, 5, seed=1)
    assert a.shape == (5, 3) and a.dtype == np.float32
    assert np.array_equal(a, b) and not np.array_equal(a, c.fn(3, 5, seed=2))


def test_declared_in_the_wrong_layout_is_named() -> None:
    c = resolve("torch:kaiming_normal_")
    # the diagnosis names the layout when the transposed draws pass: a pass asserted
    v = check_initializer(c.fn, "he_normal", "in_out", seed=0, alpha=PASS_ALPHA)
    assert v.outcome == "fail" and "transposed layout" in v.diagnosis


def test_kaiming_fan_out_declared_as_he_normal_is_a_wrong_fan_mode() -> None:
    c = resolve("torch:kaiming_normal_(mode='fan_out')")
    v = check_initializer(c.fn, "he_normal", c.layout, seed=0)
    assert v.outcome == "fail" and "wrong fan mode" in v.diagnosis, v.diagnosis


def test_linear_default_declared_he_uniform_is_named() -> None:
    c = resolve("torch:Linear")
    v = check_initializer(c.fn, "he_uniform", c.layout, seed=0)
    assert v.outcome == "fail" and "torch_linear_default" in v.diagnosis


def test_bad_specs() -> None:
    with pytest.raises(AdapterError, match="no attribute 'nope_'"):
        resolve("torch:nope_")
    with pytest.raises(AdapterError, match="cannot import module 'no_such_module_xyz'"):
        resolve("no_such_module_xyz:f")
    with pytest.raises(AdapterError, match="expected MODULE:ATTR"):
        resolve("torch")
    with pytest.raises(InitializerTypeError, match="not callable"):
        resolve("math:pi")
    with pytest.raises(AdapterError, match="literal"):
        parse_call("kaiming_uniform_(a=sqrt(5))")
    assert parse_call("f(a=1, b='x')") == ("f", {"a": 1, "b": "x"})
