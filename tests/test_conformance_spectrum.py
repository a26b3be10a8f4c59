"""The ``spectrum`` check (Marchenko-Pastur second moment): its algebra,
its null law, and its power against dependence at any lag and low rank.

Bounds are stated quantiles (binomial 99.9% bands, KS at 1e-3, z-tests at 1e-4); detection
is asserted at the check's own family-wise alpha 1e-4 on fixed seeds, with the measured
rates in docs/generated/detectable_effects.md (benchmarks/detectable_effects.py).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from _levels import ASSERTION_LEVEL
from buggy_initializers import BUGS
from weight_init.properties.conformance._checks import SPECTRUM, build_pool
from weight_init.properties.conformance._checks.spectrum import rectangle_cumulants, rectangle_sums
from weight_init.properties.conformance._runner import check_initializer
from weight_init.properties.conformance._sampling import design_shapes, draw_design
from weight_init.schemes import get_scheme


def test_rectangle_sum_is_the_sum_over_rectangles() -> None:
    """``R`` from ``tr((Z'Z)^2)`` minus the row, column and diagonal parts equals the brute
    sum over every 2x2 rectangle, both orientations of the Gram matrix."""
    rng = np.random.default_rng(7)
    for n1, n2 in ((4, 6), (6, 4), (3, 3)):
        z = rng.standard_normal((n1, n2))
        brute = sum(
            z[i, j] * z[k, j] * z[i, m] * z[k, m]
            for i, k in itertools.combinations(range(n1), 2)
            for j, m in itertools.combinations(range(n2), 2)
        )
        assert math.isclose(float(rectangle_sums(z[None])[0]), brute, rel_tol=1e-9, abs_tol=1e-9)


@pytest.mark.parametrize("shape", [(3, 4), (8, 64)])
def test_rectangle_cumulants_match_simulation(shape: tuple[int, int]) -> None:
    """20,000 uniform matrices (a symmetric, non-normal law): the sample variance and third
    moment of R against ``C(n1,2) C(n2,2)`` and ``6 [C(n1,3) C(n2,2) + C(n1,2) C(n2,3)]``
    (z-tests with the sample's own standard errors, two-sided at ``ASSERTION_LEVEL``). Their
    relative standard errors are about 2% and 1.2% (variance), 8% and 7% (third moment), so a
    formula off by 14% / 57% is caught with power 0.99 (7.2 standard errors); a factor
    ``n / (n - 1)`` in a binomial coefficient, 1.5 at n = 3, is far beyond."""
    n1, n2 = shape
    rng = np.random.default_rng(11)
    z = rng.uniform(-math.sqrt(3), math.sqrt(3), (20_000, n1, n2))
    r = rectangle_sums(z)
    var, k3 = rectangle_cumulants(n1, n2)
    for moment, target in ((r**2, var), (r**3, k3)):
        se = float(np.std(moment, ddof=1)) / math.sqrt(r.size)
        p = 2 * stats.norm.sf(abs(float(moment.mean()) - target) / se)
        assert p > ASSERTION_LEVEL, (shape, target, p)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["he_normal", "glorot_uniform", "glorot_truncated_normal"])
def test_spectrum_pvalues_are_uniform_on_correct_schemes(name: str) -> None:
    """300 designs (the fixed shapes and each seed's drawn ones, 2 calls per shape): the
    fraction of p <= 0.01 and <= 0.05 within the binomial 99.9% band, KS against U(0, 1)
    not rejecting at 1e-3."""
    scheme = get_scheme(name)

    def fn(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
        return scheme.sample(fan_in, fan_out, rng)

    reps, ps = 300, []
    for seed in range(reps):
        shapes = design_shapes(seed)
        pool = build_pool(
            fn, scheme, "in_out", draw_design(fn, shapes, [2] * len(shapes), seed), seed, "rng"
        )
        r = SPECTRUM.run(pool)
        assert r is not None and r.test.p_value is not None
        ps.append(r.test.p_value)
    p = np.asarray(ps)
    for level in (0.01, 0.05):
        lo, hi = stats.binom.interval(0.999, reps, level)
        assert lo <= np.count_nonzero(p <= level) <= hi, (name, level)
    assert stats.kstest(p, "uniform").pvalue > 1e-3, name


@pytest.mark.parametrize(
    "bug",
    ["rows i and i+5 correlated 0.3", "columns two apart correlated 0.3", "low rank plus noise"],
)
@pytest.mark.parametrize("seed", [0, 1])
def test_spectrum_catches_lagged_dependence_and_low_rank(bug: str, seed: int) -> None:
    """Power ~1 at the plan's design (measured 40/40 each, docs/generated): the spectrum
    check itself rejects and the diagnosis names it, where the neighbour tests do not."""
    fn, scheme, layout, _ = BUGS[bug]
    v = check_initializer(fn, scheme, layout, seed=seed)
    assert "spectrum" in {t.name for t in v.failures}, v.format_table()
    assert "Marchenko-Pastur" in v.diagnosis, v.diagnosis


@pytest.mark.parametrize("bug", ["std 5% wide at odd fan_in", "std 5% wide at fan_in > 1000"])
@pytest.mark.parametrize("seed", [0, 1])
def test_fan_dependent_variance_is_caught(bug: str, seed: int) -> None:
    """The design's odd and >= 2048 fans expose a variance wrong only there (the old design,
    every fan even and <= 640, could not)."""
    fn, scheme, layout, _ = BUGS[bug]
    v = check_initializer(fn, scheme, layout, seed=seed)
    assert v.outcome == "fail", v.format_table()
    assert {t.name for t in v.failures} & {"variance", "fan rule"}, v.format_table()
