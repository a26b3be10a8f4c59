"""The ``anderson-darling`` check: its null law, its p-values under the scheme, its reading at
the resolution of the draws, and the two defects it is powered against.

Every simulation here is seeded (numpy generators); the levels, sample sizes and
repetitions are stated in each test. The defects are the deliberately broken
initializers of ``tests/buggy_initializers.py``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import special, stats

from _levels import PASS_ALPHA
from buggy_initializers import clipped_uniform, quantized_normal, truncated_at_1_9
from weight_init.properties.conformance._ad_law import TAIL_FROM, ad_isf, ad_sf, ad_statistic
from weight_init.properties.conformance._checks import registry as C
from weight_init.properties.conformance._checks.anderson_darling import (
    AndersonDarlingEvidence,
    clip_delta,
    cut_effect,
)
from weight_init.properties.conformance._checks.pool import build_pool
from weight_init.properties.conformance._plan import plan as power_plan
from weight_init.properties.conformance._runner import check_initializer
from weight_init.properties.conformance._sampling import Draw
from weight_init.schemes import get_scheme, sparse


def test_the_limit_law_has_the_classical_points() -> None:
    """The limit law's upper points as tabulated to four decimals (1.9330 at 10%, 2.4924 at
    5%, 3.8781 at 1%; Anderson and Darling's 1954 table gave 3.857 at 1%, which Marsaglia's
    ADinf puts at 1.024%, as the series does): the p-values agree to the rounding."""
    for z, p in ((1.9330, 0.10), (2.4924, 0.05), (3.8781, 0.01)):
        dz = 5e-5  # the table's rounding of z
        assert ad_sf(z + dz) <= p <= ad_sf(z - dz)
    assert ad_sf(3.857) == pytest.approx(0.01024, abs=1e-5)


def test_the_limit_law_has_its_exact_moments() -> None:
    """``E A^2 = 1`` and ``Var A^2 = 2 (pi^2 - 9) / 3`` for the limit law (sum of the
    weights ``1/(j (j+1))`` and twice the sum of their squares): from ``int P(A^2 > z) dz``
    and ``2 int z P(A^2 > z) dz`` on a grid of step 0.002 to 60, to 1e-6."""
    z = np.linspace(0.0, 60.0, 30_001)
    sf = np.array([ad_sf(float(t)) for t in z])
    mean = float(np.trapezoid(sf, z))
    var = 2.0 * float(np.trapezoid(z * sf, z)) - mean**2
    assert mean == pytest.approx(1.0, abs=1e-6)
    assert var == pytest.approx(2.0 * (math.pi**2 - 9.0) / 3.0, abs=1e-6)


def test_the_tail_expansion_joins_the_series() -> None:
    """At TAIL_FROM the expansion and the series agree to 1e-3 relative, on the conservative
    side; the upper tail is non-increasing across the join."""
    from weight_init.properties.conformance._ad_law import _limit_cdf

    series = 1.0 - _limit_cdf(TAIL_FROM)
    assert ad_sf(TAIL_FROM) == pytest.approx(series, rel=1e-3)
    assert ad_sf(TAIL_FROM) >= series
    zs = np.linspace(10.0, 20.0, 101)
    ps = [ad_sf(float(z)) for z in zs]
    assert all(a >= b for a, b in itertools.pairwise(ps))
    assert ad_sf(ad_isf(1e-6)) == pytest.approx(1e-6, rel=1e-5)


def test_the_limit_law_against_its_karhunen_loeve_form() -> None:
    """``A^2 = sum_j Y_j / (j (j + 1))``, ``Y_j`` chi-squared(1): 200,000 seeded draws of the
    first 60 terms plus the mean of the rest (``1/61``); the simulated tail at the 10%, 1%
    and 0.1% points is within 4.5 binomial standard errors (each about 1e-5 two-sided)."""
    rng = np.random.default_rng(20)
    j = np.arange(1, 61, dtype=np.float64)
    reps = 200_000
    a2 = np.zeros(reps)
    for k, lam in enumerate(1.0 / (j * (j + 1.0))):
        a2 += lam * rng.chisquare(1.0, reps)
        del k
    a2 += 1.0 / 61.0
    for p in (0.1, 0.01, 0.001):
        got = float(np.mean(a2 > ad_isf(p)))
        assert abs(got - p) <= 4.5 * math.sqrt(p * (1 - p) / reps), (p, got)


def _pool(scheme_name: str, blocks: list[np.ndarray]) -> object:
    scheme = get_scheme(scheme_name) if "(" not in scheme_name else None
    sch = scheme if scheme is not None else sparse(0.1, 0.01)
    draws = [Draw(w.shape[0], w.shape[1], i, w) for i, w in enumerate(blocks)]
    return build_pool(lambda fi, fo: None, sch, "in_out", draws, 0, "rng")


@pytest.mark.parametrize(
    ("scheme", "dtype"),
    [
        ("he_normal", np.float64),
        ("he_uniform", np.float64),
        ("he_truncated_normal", np.float64),
        ("he_uniform", np.float32),
    ],
)
def test_p_values_are_uniform_under_the_scheme(scheme: str, dtype: type) -> None:
    """2,000 seeded checks of the correct law, each on 4 matrices of 16 x 32 (2,048 entries,
    float32 or float64 as stored): the p-values are uniform (Kolmogorov-Smirnov p > 1e-3)
    and the fractions below 0.05 and 0.01 are within 4.5 binomial standard errors."""
    sch = get_scheme(scheme)
    rng = np.random.default_rng(7)
    ps = []
    for _ in range(2000):
        ws = [sch.sample(16, 32, rng).astype(dtype) for _ in range(4)]
        r = C.ANDERSON_DARLING.run(_pool(scheme, ws))  # type: ignore[arg-type]
        assert r is not None and r.test.p_value is not None
        ps.append(r.test.p_value)
    p = np.asarray(ps)
    assert stats.kstest(p, "uniform").pvalue > 1e-3
    for level in (0.05, 0.01):
        se = math.sqrt(level * (1 - level) / p.size)
        assert abs(float(np.mean(p < level)) - level) <= 4.5 * se, (level, np.mean(p < level))


def test_sparse_p_values_are_uniform() -> None:
    """torch's sparse_ law (sparsity 0.1): the nonzero entries' law; 1,000 seeded checks of
    4 matrices of 16 x 30, p-values uniform (Kolmogorov-Smirnov p > 1e-3)."""
    sch = sparse(0.1, 0.01)
    rng = np.random.default_rng(8)
    ps = []
    for _ in range(1000):
        ws = [sch.sample(16, 30, rng) for _ in range(4)]
        draws = [Draw(16, 30, i, w) for i, w in enumerate(ws)]
        pool = build_pool(lambda fi, fo: None, sch, "in_out", draws, 0, "rng")
        r = C.ANDERSON_DARLING.run(pool)
        assert r is not None and r.test.p_value is not None
        assert r.n == sum(int(np.count_nonzero(w)) for w in ws)
        ps.append(r.test.p_value)
    assert stats.kstest(np.asarray(ps), "uniform").pvalue > 1e-3


def test_orthogonal_is_not_tested() -> None:
    """Dependent entries: the i.i.d. null law does not hold (see the module)."""
    assert not C.ANDERSON_DARLING.applies(get_scheme("orthogonal").family)
    assert C.ANDERSON_DARLING.applies(sparse(0.1, 0.01).family)


def test_statistic_is_the_textbook_formula() -> None:
    """Against scipy's Anderson-Darling statistic for a fully specified law as
    ``scipy.stats.goodness_of_fit`` computes it (no p-value: that one is Monte Carlo)."""
    rng = np.random.default_rng(1)
    u = np.sort(rng.random(500))
    i = np.arange(1, 501)
    textbook = -500 - np.mean((2 * i - 1) * (np.log(u) + np.log1p(-u[::-1])))
    assert ad_statistic(u, 1.0 - u) == pytest.approx(textbook, rel=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_a_benign_quantized_law_never_fails(seed: int) -> None:
    """he_normal rounded to 1/64 std over the default design: the exact A^2 is far beyond any
    threshold (each entry moves by up to 1/128 sd), read at the draws' resolution it passes."""
    v = check_initializer(
        quantized_normal, "he_normal", seed=seed, shrink=False, identify=False, alpha=PASS_ALPHA
    )
    r = v.result_of(C.ANDERSON_DARLING)
    assert r is not None and not r.failed, r.test.detail
    assert isinstance(r.evidence, AndersonDarlingEvidence) and r.evidence.resolved


def test_an_entry_rounded_onto_the_bound_is_not_beyond_it() -> None:
    """A float32 uniform whose largest draws round up onto the bound (``1 - G = 0`` there):
    the exact A^2 is infinite, at the float32 resolution it is not, and the test passes."""
    sch = get_scheme("he_uniform")
    rng = np.random.default_rng(3)
    ws = [sch.sample(64, 64, rng).astype(np.float32) for _ in range(8)]
    b = np.float32(math.sqrt(6.0 / 64))
    ws[0][0, 0], ws[1][0, 0] = b, -b
    r = C.ANDERSON_DARLING.run(_pool("he_uniform", ws))  # type: ignore[arg-type]
    assert r is not None and r.test.p_value is not None and r.test.p_value > 1e-3
    assert isinstance(r.evidence, AndersonDarlingEvidence) and r.evidence.resolved


def test_the_plan_holds_the_closed_forms() -> None:
    """The clip's noncentrality in closed form against a quadrature, its sample size c / delta
    at the limit law's critical value, and a cut effect larger than the clip's per entry."""
    q = 0.01
    v = np.linspace(1 - q, 1, 200_001)
    assert clip_delta(q) == pytest.approx(float(np.trapezoid((1 - v) / v, v)), rel=1e-8)
    plan = power_plan("truncated_normal")
    a = plan.per_test_level
    effects = {e.name: e for e in plan.effects if e.check is C.ANDERSON_DARLING}
    clip = effects["1% of the mass clipped onto atoms"]
    assert clip.n_required == pytest.approx(ad_isf(a) / clip_delta(q), rel=1e-3)
    delta, s = cut_effect(0.05)
    assert delta > clip_delta(q) and s > 0
    assert effects["cut 5% early, variance corrected"].n_required < clip.n_required
    # a small alpha raises the critical value, not a floor of the finite-n law (0.0006 / n)
    tiny = power_plan("uniform", alpha=1e-9)
    (need,) = [e.n_required for e in tiny.effects if e.check is C.ANDERSON_DARLING]
    assert need == pytest.approx(ad_isf(tiny.per_test_level) / clip_delta(q), rel=1e-3)


def test_the_finite_n_correction_is_continuous() -> None:
    """Marsaglia's correction where it was fitted (upper tail >= P_FIT), its relative size
    there beyond: continuous at P_FIT, the finite-n tail the heavier one, by O(1/n)."""
    from weight_init.properties.conformance._ad_law import P_FIT

    z = ad_isf(P_FIT)
    for n in (100, 10_000):
        below, above = ad_sf(z * (1 + 1e-9), n), ad_sf(z * (1 - 1e-9), n)
        assert below == pytest.approx(above, rel=1e-6)
        for zz in (z, 8.0, 12.0, 20.0):
            ratio = ad_sf(zz, n) / ad_sf(zz)
            assert 1.0 <= ratio <= 1.0 + 2.0 / n


@pytest.mark.parametrize(
    ("fn", "scheme"), [(clipped_uniform, "he_uniform"), (truncated_at_1_9, "he_truncated_normal")]
)
def test_the_defects_it_is_powered_against_are_caught(fn: object, scheme: str) -> None:
    """A uniform clipped at 0.99 of its bound (1% of the mass on two atoms) and a truncated
    normal cut at 1.9 sd (variance corrected), over the default design at seeds 0-2: the
    Anderson-Darling p-value is below the plan's per-test level (Holm's first step) at each,
    the check fails, and the test names thin tails."""
    plan = power_plan(get_scheme(scheme).family)
    for seed in range(3):
        v = check_initializer(fn, scheme, seed=seed, shrink=False, identify=False)
        r = v.result_of(C.ANDERSON_DARLING)
        assert r is not None and r.test.p_value is not None
        assert r.test.p_value < plan.per_test_level, r.test.detail
        assert r.failed and v.outcome == "fail"
        assert "thin tails" in C.ANDERSON_DARLING.describe_failure(r)
        assert "thin tails" in v.diagnosis


@pytest.mark.parametrize("name", ["he_normal", "he_uniform", "he_truncated_normal"])
def test_the_correct_laws_pass(name: str) -> None:
    v = check_initializer(
        get_scheme(name), name, seed=5, shrink=False, identify=False, alpha=PASS_ALPHA
    )
    r = v.result_of(C.ANDERSON_DARLING)
    assert r is not None and r.test.passed, r.test.detail


def test_tail_probabilities_use_the_lower_tail() -> None:
    """``1 - G(x) = 2 F(-x)`` keeps its precision near the bound: at 9 sd of a normal the
    statistic's upper term is finite (``1 - (1 - 2 Phi(-8))`` would round to 0)."""
    x = 9.0
    assert 2 * special.ndtr(-x) > 0 and 1.0 - (1.0 - 2 * special.ndtr(-x)) == 0.0
    ws = [np.full((2, 2), 0.5) * math.sqrt(2.0 / 2)]
    ws[0][0, 0] = x * math.sqrt(2.0 / 2)
    r = C.ANDERSON_DARLING.run(_pool("he_normal", ws))  # type: ignore[arg-type]
    assert r is not None and math.isfinite(r.test.statistic)


def test_the_named_effects_for_the_power_curves() -> None:
    """``clip`` at s puts s of the mass on the atoms at the law's 1 - s/2 quantile (at s = 0 it
    is the scheme); ``cut_early`` at s stops at 2 (1 - s) sd of the uncorrected normal, its
    variance the rule's. Seeded draws of 200,000 entries; the atom's mass within 4.5
    binomial standard errors, the variance within 4.5 of its standard errors."""
    from weight_init.app._calibration.effects import EFFECTS
    from weight_init.families import TruncatedNormalAt

    rng = np.random.default_rng(11)
    sd = get_scheme("he_uniform").std(100, 2000)
    assert np.max(np.abs(EFFECTS["clip"].build(0.0)(100, 2000, rng))) <= math.sqrt(3) * sd
    z = EFFECTS["clip"].build(0.01)(100, 2000, rng) / sd
    edge = 0.99 * math.sqrt(3)
    at_edge = float(np.mean(np.abs(np.abs(z) - edge) < 1e-9))
    assert abs(at_edge - 0.01) <= 4.5 * math.sqrt(0.01 * 0.99 / z.size)
    sd = get_scheme("he_truncated_normal").std(100, 2000)
    z = EFFECTS["cut_early"].build(0.05)(100, 2000, rng) / sd
    assert np.max(np.abs(z)) <= TruncatedNormalAt(1.9).support_bound * (1 + 1e-12)
    m4 = TruncatedNormalAt(1.9).fourth_moment()
    assert abs(float(np.mean(z * z)) - 1.0) <= 4.5 * math.sqrt((m4 - 1.0) / z.size)
