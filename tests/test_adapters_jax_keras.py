"""JAX's and Keras's presets conform to the schemes they implement (truncated normals).

Skipped with a reason where the package is missing; run them with ``tox -e frameworks``.
Each check: family-wise false-alarm rate 1e-4, power 0.99; keys/seeds come from the drawn seed.
"""

from __future__ import annotations

import importlib.util

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weight_init.properties.conformance._adapters import resolve, select_keras_backend
from weight_init.properties.conformance._runner import check_initializer

PRESETS = [
    ("glorot_normal", "glorot_truncated_normal"),
    ("glorot_uniform", "glorot_uniform"),
    ("he_normal", "he_truncated_normal"),
    ("he_uniform", "he_uniform"),
    ("lecun_normal", "lecun_truncated_normal"),
    ("lecun_uniform", "lecun_uniform"),
    ("orthogonal", "orthogonal"),
]
seeds = st.integers(0, 2**31 - 1)

HAVE_JAX = importlib.util.find_spec("jax") is not None
select_keras_backend()
try:  # imported here, not inside a Hypothesis test (keras changes the recursion limit)
    import keras  # noqa: F401

    HAVE_KERAS = True
except Exception:  # ImportError, or no usable backend
    HAVE_KERAS = False
needs_jax = pytest.mark.skipif(
    not HAVE_JAX, reason="JAX is not installed (pip install 'weight-init[jax]'; tox -e frameworks)"
)
needs_keras = pytest.mark.skipif(
    not HAVE_KERAS,
    reason="Keras 3 with a backend is not installed (pip install 'weight-init[keras]' jax; "
    "tox -e frameworks)",
)


@pytest.mark.jax
@needs_jax
@pytest.mark.parametrize(("name", "scheme"), PRESETS)
@settings(max_examples=1)
@given(seed=seeds)
def test_jax_presets_conform(name: str, scheme: str, seed: int) -> None:
    c = resolve(f"jax:{name}")
    v = check_initializer(c.fn, scheme, c.layout, seed=seed)
    assert v.passed, f"weight-init check jax:{name} --scheme {scheme} --seed {seed}\n" + (
        v.format_table()
    )


@pytest.mark.jax
@needs_jax
def test_jax_glorot_normal_is_truncated_not_normal() -> None:
    c = resolve("jax:glorot_normal")
    v = check_initializer(c.fn, "glorot_normal", c.layout, seed=0)
    assert v.outcome == "fail" and "truncated normal drawn for a normal scheme" in v.diagnosis


KERAS_NAMES = [
    ("GlorotNormal", "glorot_truncated_normal"),
    ("glorot_normal", "glorot_truncated_normal"),
    ("GlorotUniform", "glorot_uniform"),
    ("HeNormal", "he_truncated_normal"),
    ("he_uniform", "he_uniform"),
    ("LecunNormal", "lecun_truncated_normal"),
    ("Orthogonal", "orthogonal"),
]


@pytest.mark.keras
@needs_keras
@pytest.mark.parametrize(("name", "scheme"), KERAS_NAMES)
@settings(max_examples=1)
@given(seed=seeds)
def test_keras_presets_conform(name: str, scheme: str, seed: int) -> None:
    c = resolve(f"keras:{name}")
    v = check_initializer(c.fn, scheme, c.layout, seed=seed)
    assert v.passed, f"weight-init check keras:{name} --scheme {scheme} --seed {seed}\n" + (
        v.format_table()
    )
