"""The independence checks under the Haar law.

Their statistic ``S`` (sum of products of neighbouring entries of ``z = sqrt(n) Q``) has,
per matrix, ``Var S = n k (n-k)/(n+2)`` along the long side and ``S = 0`` along the short
side (``weight_init.properties.conformance._checks.statistical.IndependenceCheck``). The tests here
are the variance itself at one shape, and the calibration of the checks' p-values at the
design's fixed shapes; every bound is a stated quantile, none loosened to pass.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from _levels import ASSERTION_LEVEL
from weight_init.families import ORTHOGONAL
from weight_init.properties.conformance._checks import (
    INPUT_INDEPENDENCE,
    UNIT_INDEPENDENCE,
    build_pool,
)
from weight_init.properties.conformance._sampling import DEFAULT_SHAPES, draw_design
from weight_init.schemes import get_scheme

SCHEME = get_scheme("orthogonal")


def haar(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    return SCHEME.sample(fan_in, fan_out, rng)


def test_neighbour_sum_has_the_haar_variance() -> None:
    """R = 4000 matrices (30, 6): the sample variance of S along the rows (long side) against
    ``n k (n-k)/(n+2)`` (two-sided z-test with the sample's own standard error of the
    variance, at ``ASSERTION_LEVEL``; that error is 2.2% of the target, so a formula off by
    16% is caught with power 0.99, and the independent-entries variance ``(n - 1) k``, 29%
    above, far beyond); along the columns (short side) S is 0 up to rounding."""
    n, k, reps = 30, 6, 4000
    rng = np.random.default_rng(20261129)
    q = np.stack([ORTHOGONAL.standardize(haar(n, k, rng), SCHEME, n, k) for _ in range(reps)])
    s_long = np.sum(q[:, :-1, :] * q[:, 1:, :], axis=(1, 2))
    s_short = np.sum(q[:, :, :-1] * q[:, :, 1:], axis=(1, 2))
    target = n * k * (n - k) / (n + 2)
    var = float(np.mean(s_long**2))  # E S = 0 exactly
    se = float(np.std(s_long**2, ddof=1)) / math.sqrt(reps)
    z = (var - target) / se
    assert 2 * stats.norm.sf(abs(z)) > ASSERTION_LEVEL, (var, target, se)
    assert np.max(np.abs(s_short)) < 1e-9


@pytest.mark.slow
def test_haar_independence_pvalues_are_calibrated() -> None:
    """400 designs, one orthogonal matrix at each fixed default shape: per check, the
    fraction of p <= 0.05 lies in its binomial 99.9% band, the mean of t^2 within
    3.29 standard errors (sd of t^2 = sqrt 2) of 1, and a KS test of the p-values against
    U(0, 1) does not reject at 1e-3. (Before the Haar variance: mean t^2 about 0.33 and no
    p <= 0.05 in 180 checks.) About 100 s on a loaded 2-core machine."""
    reps = 400
    counts = [1] * len(DEFAULT_SHAPES)
    lo, hi = stats.binom.interval(0.999, reps, 0.05)
    for check in (UNIT_INDEPENDENCE, INPUT_INDEPENDENCE):
        t2, ps = [], []
        for seed in range(reps):
            draws = draw_design(haar, DEFAULT_SHAPES, counts, seed)
            pool = build_pool(haar, SCHEME, "in_out", draws, seed, "rng")
            r = check.run(pool)
            assert r is not None and r.test.p_value is not None
            t2.append(r.test.statistic**2)
            ps.append(r.test.p_value)
        p = np.asarray(ps)
        hits = int(np.count_nonzero(p <= 0.05))
        assert lo <= hits <= hi, (check.name, hits, (lo, hi))
        assert abs(np.mean(t2) - 1.0) <= 3.29 * math.sqrt(2.0 / reps), (check.name, np.mean(t2))
        assert stats.kstest(p, "uniform").pvalue > 1e-3, check.name
