"""The fused-block truncated-normal sampler: its law, its bounds, its seeding.

Law: one-sample Kolmogorov-Smirnov test against ``scipy.stats.truncnorm(-2, 2)`` on
about ``N_KS`` = 200,000 draws per case, at ``ALPHA`` = 1e-6 (``ASSERTION_LEVEL``) per case
over the ``CASES`` = 5 cases Hypothesis draws (Bonferroni: the test's false-fail rate is at
most 5e-6). Power: at n = 200,000 the KS critical distance at 1e-6 is about 0.0060; the
target differs from N(0, 1) truncated at 2.2 by 0.009 and from an untruncated normal of
the same std by > 0.01 in CDF, and the power test sees both rejected, so it can fail.
Hypothesis draws the cases (seeds, shapes), never the samples.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from _levels import ASSERTION_LEVEL
from weight_init.truncated_normal import (
    BLOCK,
    TRUNCATED_NORMAL_STD,
    TRUNCATION,
    truncated_standard_normal_fast,
)

N_KS = 200_000
ALPHA = ASSERTION_LEVEL
CASES = 5
#: Two-sided z bound of the moment checks at 1e-7 each (ten of them over the cases).
Z_MOMENT = float(stats.norm.isf(1e-7 / 2))
TARGET = stats.truncnorm(-TRUNCATION, TRUNCATION)


def _ks_p(z: np.ndarray, cdf: object = TARGET.cdf) -> float:
    return float(stats.kstest(z.ravel(), cdf).pvalue)


@settings(max_examples=CASES, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), cols=st.sampled_from([1, 7, 500, BLOCK + 3]))
def test_law_is_the_truncated_normal(seed: int, cols: int) -> None:
    """KS at ALPHA per case (5e-6 over the cases); also mean 0 and std
    TRUNCATED_NORMAL_STD within ``Z_MOMENT`` = 5.33 standard errors (z-tests at 1e-7 each:
    a mean off by 0.017 std, a variance off by 2%, is caught with power 0.99), shapes
    that cross block boundaries included."""
    rows = -(-N_KS // cols)
    z = truncated_standard_normal_fast(np.random.default_rng(seed), (rows, cols))
    assert z.shape == (rows, cols) and z.dtype == np.float64
    p = _ks_p(z)
    assert p >= ALPHA, f"KS p = {p:.3g} < {ALPHA} (seed {seed}, {z.shape})"
    n = z.size
    assert abs(z.mean()) < Z_MOMENT * TRUNCATED_NORMAL_STD / np.sqrt(n)
    var_se = np.sqrt((TARGET.moment(4) - TRUNCATED_NORMAL_STD**4) / n)
    assert abs(z.var() - TRUNCATED_NORMAL_STD**2) < Z_MOMENT * var_se


def test_ks_has_power_against_nearby_laws() -> None:
    z = truncated_standard_normal_fast(np.random.default_rng(1), (N_KS,))
    wider = stats.truncnorm(-2.2, 2.2).cdf
    assert _ks_p(z, wider) < ALPHA
    assert _ks_p(z, stats.norm(0, TRUNCATED_NORMAL_STD).cdf) < ALPHA


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    shape=st.tuples(st.integers(0, 300), st.integers(0, 300)),
)
def test_bounds_and_seeding(seed: int, shape: tuple[int, int]) -> None:
    a = truncated_standard_normal_fast(np.random.default_rng(seed), shape)
    b = truncated_standard_normal_fast(np.random.default_rng(seed), shape)
    assert a.shape == shape
    assert np.all(np.abs(a) <= TRUNCATION)
    assert np.array_equal(a, b), "same seed, different draws"
    flat = truncated_standard_normal_fast(np.random.default_rng(seed), (shape[0] * shape[1],))
    assert np.array_equal(a.ravel(), flat), "the matrix depends on how it is shaped"
    if a.size > 10:
        c = truncated_standard_normal_fast(np.random.default_rng(seed + 1), shape)
        assert not np.array_equal(a, c), "seed has no effect"


def test_large_draw_crosses_blocks_within_bounds() -> None:
    z = truncated_standard_normal_fast(np.random.default_rng(7), (3 * BLOCK + 11,))
    assert np.all(np.abs(z) <= TRUNCATION) and np.isfinite(z).all()
    assert len(np.unique(z)) == z.size


@pytest.mark.parametrize("source", ["legacy", "global"])
def test_legacy_sources_draw_the_same_law(source: str) -> None:
    """RandomState and numpy's global state (no ``out=``): the draw-all-then-redraw path."""
    if source == "legacy":
        z = truncated_standard_normal_fast(np.random.RandomState(3), (N_KS,))
    else:
        np.random.seed(3)  # noqa: NPY002
        z = truncated_standard_normal_fast(None, (N_KS,))
    assert np.all(np.abs(z) <= TRUNCATION)
    assert _ks_p(z) >= ALPHA
