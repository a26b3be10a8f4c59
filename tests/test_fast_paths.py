"""The fast paths of forward_prop (benchmarks/) compute exactly what the plain numpy calls do.

``layer_moments`` must give the bits of ``h.mean(dtype=float64)``, ``h.std(dtype=float64)``;
``all_finite`` must agree with ``np.isfinite(a).all()``, including finite entries whose sum
overflows. Exact checks only: Hypothesis draws shapes, dtypes, seeds and where to put bad
values; every array comes from a generator seeded by the drawn seed.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from weight_init.errors import InvalidInputError, NonFiniteWeightsError
from weight_init.experiment import all_finite, forward_prop, layer_moments

shapes = st.tuples(st.integers(1, 40), st.integers(1, 40))
dtypes = st.sampled_from([np.float64, np.float32])
seeds = st.integers(0, 2**32 - 1)


@given(shape=shapes, dtype=dtypes, seed=seeds, loc=st.sampled_from([0.0, 0.5, -3.0, 1e6]))
def test_layer_moments_are_numpys_mean_and_std_bit_for_bit(
    shape: tuple[int, int], dtype: type, seed: int, loc: float
) -> None:
    h = (loc + np.random.default_rng(seed).standard_normal(shape)).astype(dtype)
    mean, std = layer_moments(h)
    want = (float(h.mean(dtype=np.float64)), float(h.std(dtype=np.float64)))
    assert (mean, std) == want, (
        f"layer_moments != (mean, std) for shape={shape}, dtype={dtype.__name__}, seed={seed}, "
        f"loc={loc}: got {(mean, std)}, numpy gives {want}"
    )


def test_layer_moments_of_a_constant_layer_are_exact() -> None:
    assert layer_moments(np.zeros((7, 3))) == (0.0, 0.0)
    assert layer_moments(np.full((4, 5), 0.5, dtype=np.float32)) == (0.5, 0.0)


@given(shape=shapes, dtype=dtypes, seed=seeds, bad=st.sampled_from([np.nan, np.inf, -np.inf]))
def test_all_finite_agrees_with_isfinite(
    shape: tuple[int, int], dtype: type, seed: int, bad: float
) -> None:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape).astype(dtype)
    assert all_finite(a), f"finite {shape} {dtype.__name__} array (seed {seed}) called non-finite"
    a.flat[rng.integers(a.size)] = bad
    assert not all_finite(a), f"{bad} in {shape} {dtype.__name__} array (seed {seed}) missed"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_all_finite_when_the_sum_overflows(dtype: type) -> None:
    big = np.finfo(dtype).max
    assert all_finite(np.full((3, 3), big, dtype=dtype)), "finite entries whose sum overflows"
    assert not all_finite(np.array([[np.inf, -np.inf]], dtype=dtype)), "inf and -inf (sum NaN)"


def test_overflowing_weights_are_accepted_and_bad_ones_counted() -> None:
    big = np.finfo(np.float64).max
    out = forward_prop([2], lambda fi, fo: np.full((fi, fo), big), x=np.ones((1, 3)) * 1e-300)
    assert len(out.stds) == 1
    w = np.ones((3, 2))
    w[0, 0], w[2, 1] = np.nan, -np.inf
    with pytest.raises(NonFiniteWeightsError, match="2 non-finite value"):
        forward_prop([2], lambda fi, fo: w, x=np.ones((1, 3)))
    with pytest.raises(InvalidInputError, match="NaN or infinite"):
        forward_prop([2], lambda fi, fo: np.ones((fi, fo)), x=np.array([[1.0, np.inf, 0.0]]))


@given(
    shape=st.tuples(st.integers(1, 300), st.integers(100, 400)),
    seed=seeds,
)
def test_truncated_schemes_draw_the_fused_samplers_stream(
    shape: tuple[int, int], seed: int
) -> None:
    """The truncated-normal family draws with the fused-block sampler (its law is tested in
    tests/test_truncated_normal.py): ``he_truncated_normal`` is that stream times sigma."""
    from weight_init.schemes import get_scheme
    from weight_init.truncated_normal import TRUNCATED_NORMAL_STD, truncated_standard_normal_fast

    fi, fo = shape
    got = get_scheme("he_truncated_normal")(fi, fo, rng=np.random.default_rng(seed))
    sigma = np.sqrt(2.0 / fi) / TRUNCATED_NORMAL_STD
    want = truncated_standard_normal_fast(np.random.default_rng(seed), shape) * sigma
    np.testing.assert_allclose(
        got, want, rtol=1e-15, atol=0,
        err_msg=f"he_truncated_normal({fi}, {fo}, rng=np.random.default_rng({seed})) is not "
        "the fused sampler's stream times sqrt(2 / fan_in) / 0.8796",
    )  # fmt: skip
