"""forward_prop's options: seeding, rng passing, explicit input, activations, dtype, stats-only."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from weight_init.activations import activation_names
from weight_init.experiment import forward_prop
from weight_init.schemes import get_scheme, scheme_names

widths = st.lists(st.integers(1, 24), min_size=1, max_size=6)


@given(
    sizes=widths,
    seed=st.integers(0, 2**32 - 1),
    act=st.sampled_from(activation_names()),
    scheme=st.sampled_from(scheme_names()),
)
def test_contract_and_determinism(sizes: list[int], seed: int, act: str, scheme: str) -> None:
    kw: dict[str, Any] = {"activation": act, "n_samples": 7, "input_dim": 5, "seed": seed}
    a = forward_prop(sizes, get_scheme(scheme), **kw)
    b = forward_prop(sizes, get_scheme(scheme), **kw)
    assert sorted(a.acts) == list(range(len(sizes)))
    for i, size in enumerate(sizes):
        assert a.acts[i].shape == (7, size)
        np.testing.assert_array_equal(a.acts[i], b.acts[i])
        assert a.means[i] == pytest.approx(float(a.acts[i].mean()), abs=1e-14)
        assert a.stds[i] == pytest.approx(float(a.acts[i].std()), rel=1e-12, abs=1e-14)
    c = forward_prop(sizes, get_scheme(scheme), keep_activations=False, **kw)
    assert c.acts == {}
    assert c.means == a.means and c.stds == a.stds


def test_generator_is_passed_to_inits_that_accept_it() -> None:
    seen: list[Any] = []

    def init(fan_in: int, fan_out: int, rng: np.random.Generator | None = None) -> np.ndarray:
        seen.append(rng)
        assert rng is not None
        return rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)

    gen = np.random.default_rng(0)
    forward_prop([3, 3], init, rng=gen, n_samples=4, input_dim=2)
    assert seen == [gen, gen]


def test_seed_equals_rng_with_that_seed_and_differs_from_another_seed() -> None:
    xav = get_scheme("xavier")
    a = forward_prop([10], xav, seed=1, n_samples=5, input_dim=4)
    b = forward_prop([10], xav, rng=np.random.default_rng(1), n_samples=5, input_dim=4)
    c = forward_prop([10], xav, seed=2, n_samples=5, input_dim=4)
    np.testing.assert_array_equal(a.acts[0], b.acts[0])
    assert not np.array_equal(a.acts[0], c.acts[0])


def test_explicit_input_and_activation_callable() -> None:
    x = np.arange(12.0).reshape(3, 4) / 10
    w = np.eye(4)[:, :2]
    out = forward_prop([2], lambda fi, fo: w, x=x, activation=np.sin)
    np.testing.assert_allclose(out.acts[0], np.sin(x @ w))
    lin = forward_prop([2], lambda fi, fo: w, x=x, activation="linear")
    np.testing.assert_allclose(lin.acts[0], x @ w)


def test_float32_compute_agrees_with_float64() -> None:
    a = forward_prop([200] * 5, get_scheme("xavier"), seed=0, n_samples=300, input_dim=100)
    b = forward_prop(
        [200] * 5, get_scheme("xavier"), seed=0, n_samples=300, input_dim=100, dtype=np.float32
    )
    assert b.acts[4].dtype == np.float32
    # float32 rounding (2**-24 relative) accumulates over 100-200 term dot products and
    # five layers; 1e-5 relative on the statistics leaves two orders of magnitude.
    np.testing.assert_allclose(b.stds, a.stds, rtol=1e-5)
    np.testing.assert_allclose(b.means, a.means, atol=1e-6)


def test_the_notes_figures_of_zeros() -> None:
    out = forward_prop([500] * 3, get_scheme("zeros"), seed=0)
    assert out.means == [0.0] * 3 and out.stds == [0.0] * 3
