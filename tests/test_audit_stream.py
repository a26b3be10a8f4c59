"""The audit's streamed statistics against the checks run on the pooled draws.

The audit reduces each build to sums (:mod:`weight_init.properties.audit._stream`); the
conformance checks (:func:`~weight_init.properties.conformance.check_initializer`) read the
pooled draws. On the same draws the two give the same statistics (moments and sums: to
rounding), a Kolmogorov-Smirnov distance within the stated grid error, and the same exact
checks; merging chunks in build order gives the same verdicts whatever the number of workers;
the resolution inverts the power plan. No test here compares a p-value with a threshold on
random data except where stated: the draws come from a seeded generator, and the comparisons
are identities of arithmetic.
"""

from __future__ import annotations

import itertools
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weight_init.families import get_family
from weight_init.properties.audit._resolution import entries_needed, resolution
from weight_init.properties.audit._stream import ParamStats, probe_target
from weight_init.properties.audit._stream_calls import CallStats
from weight_init.properties.audit._tests import (
    NOT_STREAMED,
    exact_results,
    ks_grid_error,
    pooled_results,
    statistical_results,
)
from weight_init.properties.conformance import _power as pw
from weight_init.properties.conformance._plan import plan as power_plan
from weight_init.properties.conformance._runner import check_initializer
from weight_init.schemes import constant, variance_scaling

HERE = Path(__file__).parent


def _stream(mats: list[np.ndarray], scheme):  # type: ignore[no-untyped-def]
    target = probe_target(0, (0, 1), scheme, None, mats[0])
    stats = ParamStats()
    for m in mats:
        stats.add(m, target)
    return stats


def _pooled_check(mats: list[np.ndarray], scheme):  # type: ignore[no-untyped-def]
    state = {"i": 0}

    def serve(fan_in: int, fan_out: int) -> np.ndarray:
        m = mats[state["i"] % len(mats)]
        state["i"] += 1
        return m

    rows, cols = mats[0].shape
    return check_initializer(
        serve,
        scheme,
        "in_out",
        seed=0,
        shapes=[(rows, cols)],
        n_entries=len(mats) * rows * cols,
        shrink=False,
        identify=False,
    )


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    rows=st.integers(1, 32),  # within the spectrum's bounded sample: the whole matrix
    cols=st.integers(2, 40),
    builds=st.integers(3, 12),
    family=st.sampled_from(["normal", "uniform", "truncated_normal"]),
    wrong=st.sampled_from([1.0, 1.3]),
)
def test_streamed_tests_are_the_pooled_checks(
    seed: int, rows: int, cols: int, builds: int, family: str, wrong: float
) -> None:
    scheme = variance_scaling(0.01, "fixed", family)
    rng = np.random.default_rng(seed)
    mats = [scheme.sample(rows, cols, rng) * wrong for _ in range(builds)]
    streamed = _stream(mats, scheme)
    old = _pooled_check(mats, scheme)
    by_old = {r.check.name: r for r in old.checks}
    new = statistical_results(streamed, scheme)
    assert {r.check.name for r in new} == {
        r.check.name
        for r in old.checks
        if r.test.p_value is not None and r.check.name not in NOT_STREAMED
    }
    for r in new:
        o = by_old[r.check.name]
        assert r.n == o.n
        if r.check.name == "between calls":
            continue  # centred build by build: test_between_builds_is_the_reference_sum
        if r.check.name == "extremes":  # the same maximum; read at a resolution no finer
            assert r.test.statistic == o.test.statistic
            assert r.test.p_value >= o.test.p_value * (1 - 1e-9)
            continue
        if r.check.name == "distribution":  # read on the grid: a lower bound within its error
            d, d_old = r.test.statistic, o.test.statistic
            assert d <= d_old + 1e-12
            assert d_old <= d + ks_grid_error(scheme.family) + 1e-12
            assert r.test.p_value >= o.test.p_value * (1 - 1e-9)
        else:
            assert math.isclose(r.test.statistic, o.test.statistic, rel_tol=1e-9, abs_tol=1e-9)
            assert math.isclose(r.test.p_value, o.test.p_value, rel_tol=1e-6, abs_tol=1e-300)
        if r.check.name == "mean":
            a, b = r.evidence.robust_p, o.evidence.robust_p  # type: ignore[union-attr]
            assert (a is None) == (b is None)
            if a is not None:
                assert math.isclose(a, b, rel_tol=1e-6)
    exact_old = {r.check.name: r.test.passed for r in old.checks if r.test.p_value is None}
    exact_new = {r.check.name: r.test.passed for r in exact_results(streamed, scheme)}
    assert exact_new == {k: v for k, v in exact_old.items() if k in exact_new}


def test_orthogonal_stream_matches_the_pooled_checks() -> None:
    from weight_init.schemes import get_scheme

    scheme = get_scheme("orthogonal")
    rng = np.random.default_rng(7)
    mats = [scheme.sample(12, 30, rng) for _ in range(6)]
    streamed = _stream(mats, scheme)
    old = {r.check.name: r for r in _pooled_check(mats, scheme).checks}
    for r in statistical_results(streamed, scheme):
        if r.check.name in ("distribution", "between calls"):
            continue  # between calls: centred build by build (a test of its own)
        assert math.isclose(r.test.statistic, old[r.check.name].test.statistic, rel_tol=1e-9)
    exact = {r.check.name: r.test.passed for r in exact_results(streamed, scheme)}
    assert exact["orthogonality"] is old["orthogonality"].test.passed is True


def test_a_repeated_build_and_a_repeated_unit_are_caught() -> None:
    scheme = variance_scaling(0.01, "fixed", "normal")
    rng = np.random.default_rng(3)
    m = scheme.sample(8, 16, rng)
    dup = m.copy()
    dup[:, 3] = dup[:, 5]
    exact = {r.check.name: r for r in exact_results(_stream([m, m, dup], scheme), scheme)}
    assert exact["fresh draws"].test.passed is False
    assert exact["distinct units"].test.passed is False


def _assert_same_statistics_between_builds(a: CallStats, b: CallStats, tol: float = 1e-12) -> None:
    """The between-builds and homogeneity accumulators of ``a`` and ``b`` agree: sums to
    ``tol`` (relative or absolute), counts exactly."""
    for name in ("entries", "unit_norms", "input_norms", "units", "inputs"):
        for f in ("s", "v", "sq", "h", "mean", "var"):
            x, y = getattr(getattr(a, name), f, 0.0), getattr(getattr(b, name), f, 0.0)
            assert math.isclose(x, y, rel_tol=tol, abs_tol=tol), (name, f)
        for f in ("products", "pairs", "tested"):
            assert getattr(getattr(a, name), f, 0) == getattr(getattr(b, name), f, 0)


def test_merging_chunks_in_build_order_is_the_sequential_stream() -> None:
    scheme = variance_scaling(0.02, "fixed", "uniform")
    rng = np.random.default_rng(11)
    mats = [scheme.sample(16, 24, rng) for _ in range(9)]
    whole = _stream(mats, scheme)
    left, right = _stream(mats[:4], scheme), _stream(mats[4:], scheme)
    left.merge(right)
    for field in ("n", "builds", "kept", "c_count", "sp_m", "zero_count"):
        assert getattr(left, field) == getattr(whole, field)
    for field in ("s1", "s2", "k_m2", "k_m4", "c_s", "c_s2", "sp_r"):
        assert math.isclose(getattr(left, field), getattr(whole, field), rel_tol=1e-12)
    assert np.array_equal(left.ks_hist, whole.ks_hist)
    a, b = left.calls, whole.calls
    _assert_same_statistics_between_builds(a, b)
    assert (a.sp_t, a.sp_a2, a.sp_builds) == pytest.approx((b.sp_t, b.sp_a2, b.sp_builds))
    assert (a.bits, a.gap, a.builds) == (b.bits, b.gap, b.builds)


def test_between_builds_is_the_reference_sum() -> None:
    """The entries statistic is the self-normalized sum of products of consecutive builds'
    standardized entries, each build centred at its own mean; the norms' the same of the
    centred squared column (row) norms with ``V`` times ``n / (n - 1)``."""
    scheme = variance_scaling(0.04, "fixed", "uniform")
    rng = np.random.default_rng(2)
    mats = [scheme.sample(6, 10, rng) for _ in range(7)]
    st_ = _stream(mats, scheme)
    z = [m / 0.2 for m in mats]
    e = [x.ravel() - x.mean() for x in z]
    prods = [a * b for a, b in itertools.pairwise(e)]
    t_entries = sum(p.sum() for p in prods) / math.sqrt(sum(p @ p for p in prods))
    cols = [np.sum(x * x, axis=0) for x in z]
    cols = [c - c.mean() for c in cols]
    pc = [a * b for a, b in itertools.pairwise(cols)]
    t_units = sum(p.sum() for p in pc) / math.sqrt(sum(p @ p for p in pc) * 10 / 9)
    ev = {r.check.name: r for r in statistical_results(st_, scheme)}["between calls"].evidence
    got = {name: t for name, _, t in ev.correlations}  # type: ignore[union-attr]
    assert math.isclose(got["entries"], t_entries, rel_tol=1e-9)
    assert math.isclose(got["unit norms"], t_units, rel_tol=1e-9)


@pytest.mark.parametrize("shape", [(6, 10), (300, 128), (40, 2000)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_checks_between_builds_read_the_main_pass_as_the_build(
    shape: tuple[int, int], dtype: type
) -> None:
    """Handed the main pass's float64 sample and sums of squares (a zero-mean i.i.d. build),
    the checks between builds keep the statistics they read from the build itself, to
    rounding (the shapes: the top direction's block within the between-builds sample, within
    the main pass's sample only, and beyond both)."""
    scheme = variance_scaling(0.05, "fixed", "normal")
    rng = np.random.default_rng(7)
    mats = [scheme.sample(*shape, rng).astype(dtype) for _ in range(5)]
    via_main = _stream(mats, scheme).calls
    alone = CallStats()
    for m in mats:
        alone.add(m, scheme)
    assert via_main.builds == alone.builds == len(mats)
    _assert_same_statistics_between_builds(via_main, alone)
    assert (via_main.sp_t, via_main.sp_a2) == pytest.approx((alone.sp_t, alone.sp_a2), rel=1e-12)
    assert (via_main.sp_nb, via_main.sp_na, via_main.sp_builds, via_main.sp_shape) == (
        alone.sp_nb,
        alone.sp_na,
        alone.sp_builds,
        alone.sp_shape,
    )
    assert via_main.bits == alone.bits
    assert math.isclose(via_main.gap, alone.gap, rel_tol=1e-12)


@pytest.mark.parametrize("family", ["normal", "uniform", "truncated_normal"])
@pytest.mark.parametrize("target", [0.01, 0.05, 0.10])
def test_resolution_inverts_the_plan(family: str, target: float) -> None:
    fam = get_family(family)
    n = entries_needed(fam, target, 6, 1e-4)
    at = resolution(fam, n, 0, 6, 1e-4)
    below = resolution(fam, n - max(1, n // 100), 0, 6, 1e-4)
    assert at.reaches(target)
    assert not below.reaches(target)
    # the detected effects are the plan's: its variance test at that std error needs n
    a = 1e-4 / pw.DESIGN_MARGIN / 6
    m4 = fam.fourth_moment()
    needs = max(
        pw.n_for_std_ratio(1 + at.std_error, m4, a, pw.DEFAULT_POWER),
        pw.n_for_std_ratio(1 - at.std_error, m4, a, pw.DEFAULT_POWER),
    )
    assert needs <= n
    assert pw.n_for_mean_shift(at.mean_shift, a, pw.DEFAULT_POWER) <= n


def test_the_design_target_is_the_plan_of_the_check() -> None:
    """At 1% the entries needed are those the check's plan draws for the variance effect
    (same level, same formula)."""
    for family in ("normal", "uniform"):
        fam = get_family(family)
        plan = power_plan(fam)
        std_effect = max(e.n_required for e in plan.effects if e.name == "std 1% off the rule")
        assert entries_needed(fam, 0.01, plan.n_tests, 1e-4) >= std_effect


def test_a_shared_std_error_is_caught_by_the_pool_not_by_each() -> None:
    """Twelve 48-entry parameters drawn 20 times with a std 1.10x the rule: each alone
    detects about 18% at power 0.99, their pool about 5% (seeded draws; the pooled variance
    test's statistic is expected 16 standard errors out, each member's 4.6)."""
    scheme = variance_scaling(0.01, "fixed", "normal")
    rng = np.random.default_rng(5)
    members = []
    for _ in range(12):
        mats = [scheme.sample(1, 48, rng) * 1.10 for _ in range(20)]
        members.append((_stream(mats, scheme), scheme))
    pooled = {r.check.name: r for r in pooled_results(members)}
    assert pooled["variance"].test.statistic > 6
    alone = resolution(scheme.family, 960, 940, 12 * 4 + 6, 1e-4)
    group = resolution(scheme.family, 12 * 960, 12 * 940, 12 * 4 + 6, 1e-4)
    assert alone.std_error > 0.10 > group.std_error


@pytest.mark.torch
def test_verdicts_do_not_depend_on_the_number_of_workers() -> None:
    pytest.importorskip("torch")
    sys.path.insert(0, str(HERE))
    import audit_models
    from weight_init.properties.audit._loop import audit_torch

    one = audit_torch(audit_models.small_cnn, builds=24, seed=5, progress=False)
    two = audit_torch(audit_models.small_cnn, builds=24, seed=5, workers=2, progress=False)
    assert one.to_json() == two.to_json()


@pytest.mark.parametrize("family", ["normal", "uniform", "truncated_normal", "orthogonal"])
def test_the_planned_tests_are_the_tests_that_run(family: str) -> None:
    """The automatic build count plans with the number of tests each parameter's Holm family
    will hold: the checks between builds, of homogeneity, extremes and top direction
    included."""
    from weight_init.properties.audit._verdicts import planned_tests
    from weight_init.schemes import get_scheme

    rng = np.random.default_rng(4)
    shapes = [(1, 2), (1, 8), (1, 16), (2, 2), (8, 8), (7, 9), (9, 7), (64, 3), (3, 64)]
    if family != "orthogonal":
        shapes.append((1, 1))
    for shape in shapes:
        scheme = (
            get_scheme("orthogonal")
            if family == "orthogonal"
            else variance_scaling(0.01, "fixed", family)
        )
        streamed = _stream([scheme.sample(*shape, rng) for _ in range(3)], scheme)
        assert len(statistical_results(streamed, scheme)) == planned_tests(scheme.family, *shape)


def _same_stats(a: object, b: object, path: str = "") -> None:
    """Every field of two streams: counts, grids and flags equal, sums to rounding (``abs_tol``
    for the centred sums, whose value may be near 0), the digests' counts equal."""
    if isinstance(a, (ParamStats, CallStats)) or hasattr(a, "__dataclass_fields__"):
        for name in a.__dataclass_fields__:  # type: ignore[attr-defined]
            x, y = getattr(a, name), getattr(b, name)
            if name == "digests":
                assert sorted(x.values()) == sorted(y.values()), path + name
            else:
                _same_stats(x, y, f"{path}{name}.")
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), path  # type: ignore[arg-type]
        for i, (x, y) in enumerate(zip(a, b, strict=True)):  # type: ignore[call-overload]
            _same_stats(x, y, f"{path}{i}.")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.shape == b.shape, path
        if a.dtype.kind in "iub":
            assert np.array_equal(a, b), path
        else:
            assert np.allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True), path
    elif isinstance(a, float):
        assert isinstance(b, float), path
        assert (math.isnan(a) and math.isnan(b)) or math.isclose(
            a, b, rel_tol=1e-12, abs_tol=1e-10
        ), (path, a, b)
    else:
        assert a == b, (path, a, b)


@settings(max_examples=50, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    shape=st.sampled_from([(1, 7), (2, 3), (10, 1), (16, 24), (64, 576), (3, 40000)]),
    family=st.sampled_from(["normal", "uniform", "truncated_normal", "constant"]),
    dtype=st.sampled_from([np.float32, np.float64, np.float16]),
    builds=st.integers(1, 9),
    batch=st.integers(1, 9),
    defect=st.sampled_from(["", "nan", "repeated build", "repeated unit", "zero", "far"]),
)
def test_a_stack_of_builds_is_the_builds_one_by_one(
    seed: int,
    shape: tuple[int, int],
    family: str,
    dtype: type,
    builds: int,
    batch: int,
    defect: str,
) -> None:
    """``ParamStats.add_builds`` of consecutive batches gives every statistic ``add`` gives
    the builds one at a time: the stacked reading of finite zero-mean i.i.d. builds, the
    bitwise one of constants, and whole batches sent build by build when one build is not
    such (a NaN), with repeats, zeros and outliers."""
    rng = np.random.default_rng(seed)
    if family == "constant":
        scheme = constant(1.0)
        mats = [np.ones(shape, dtype=dtype) for _ in range(builds)]
    else:
        scheme = variance_scaling(0.02, "fixed", family)
        mats = [scheme.sample(*shape, rng).astype(dtype) for _ in range(builds)]
    k = builds // 2
    if defect == "nan":
        mats[k].flat[0] = np.nan
    elif defect == "repeated build" and builds >= 2:
        mats[k] = mats[k - 1].copy()
    elif defect == "repeated unit" and shape[1] >= 2:
        mats[k][:, 1] = mats[k][:, 0]
    elif defect == "zero":
        mats[k].flat[-1] = 0
    elif defect == "far":
        mats[k].flat[0] = 9.0 * math.sqrt(0.02) if family != "constant" else 2.0
    target = probe_target(0, (0, 1), scheme, None, mats[0], track_rows=True, outlier=(0, 0.1))
    one, stacked = ParamStats(), ParamStats()
    for m in mats:
        one.add(m, target)
    for i in range(0, builds, batch):
        stacked.add_builds(mats[i : i + batch], target)
    _same_stats(one, stacked)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_zero_rows_read_from_a_scan_are_the_rows_of_zeros(dtype: type) -> None:
    """A build read in one pass records its rows of zeros and whether any entry is nonzero
    from the pass's sums; a row whose squares underflow to 0 (float64 entries near 1e-200)
    is not a row of zeros. Both readings (one build, a stack) give the array's own answer."""
    scheme = variance_scaling(0.02, "fixed", "normal")
    rng = np.random.default_rng(5)
    mats = [scheme.sample(12, 9, rng).astype(dtype) for _ in range(3)]
    for m in mats:
        m[2] = 0.0
        m[7] = 1e-200 if dtype == np.float64 else 1e-30  # not zero; float64 squares: 0
    expected = np.zeros(12, dtype=bool)
    expected[2] = True
    target = probe_target(0, (0, 1), scheme, None, mats[0], track_rows=True)
    one, stacked = ParamStats(), ParamStats()
    for m in mats:
        one.add(m, target)
    stacked.add_builds(mats, target)
    for st_ in (one, stacked):
        assert st_.row_zero is not None
        assert np.array_equal(st_.row_zero, expected)
        assert st_.any_nonzero


@pytest.mark.parametrize("track_rows", [False, True])
def test_a_build_past_the_sample_is_read_without_a_copy(track_rows: bool) -> None:
    """``add_unread`` reads a build's range (and, tracked, its rows of zeros) with
    temporaries of a fraction of the build: numpy reports its allocations to tracemalloc, and
    the peak stays below a quarter of the array's bytes."""
    import tracemalloc

    scheme = variance_scaling(0.02, "fixed", "normal")
    m = scheme.sample(2000, 500, np.random.default_rng(6)).astype(np.float32)
    m[3] = 0.0
    target = probe_target(0, (0, 1), scheme, None, m, track_rows=track_rows, outlier=(0, 0.1))

    def peak(st_: ParamStats) -> int:
        tracemalloc.start()
        try:
            st_.add_unread(m, target)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    fresh, later = ParamStats(), ParamStats()
    later.add_unread(m, target)
    for st_ in (fresh, later):  # the first build (every row read), then a later one
        assert peak(st_) < m.nbytes / 4, m.nbytes
    assert fresh.scanned == 1 and fresh.any_nonzero and fresh.nonfinite_entries == 0
    if track_rows:
        assert fresh.row_zero is not None and np.flatnonzero(fresh.row_zero).tolist() == [3]


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    shape=st.sampled_from([(2, 3), (16, 24), (64, 576), (300, 128), (3, 40000)]),
    family=st.sampled_from(["normal", "uniform", "truncated_normal"]),
    dtype=st.sampled_from([np.float32, np.float64]),
    whole=st.integers(1, 4),
    defect=st.sampled_from(["", "nan", "repeated build"]),
)
def test_a_build_read_for_its_comparison_compares_as_read_whole(
    seed: int, shape: tuple[int, int], family: str, dtype: type, whole: int, defect: str
) -> None:
    """``ParamStats.add_total`` (a build past the parameter's need, among those the checks
    between builds compare) gives what a build read whole gives to every statistic that
    compares builds: the cluster-robust mean's clusters, the fresh draws' digests (a
    repeated build is found across the two readings), the checks between builds and of
    homogeneity (to rounding), the non-finite count naming the build; and nothing to the
    statistics of the builds read whole."""
    rng = np.random.default_rng(seed)
    scheme = variance_scaling(0.02, "fixed", family)
    mats = [scheme.sample(*shape, rng).astype(dtype) for _ in range(8)]
    if defect == "nan":
        mats[5].flat[-1] = np.nan
    elif defect == "repeated build":
        mats[6] = mats[0].copy()  # read whole, then read for its comparison
    target = probe_target(0, (0, 1), scheme, None, mats[0], track_rows=True)
    read, compared = ParamStats(), ParamStats()
    for m in mats:
        read.add(m, target)
    for i, m in enumerate(mats):
        if i < whole:
            compared.add(m, target)
        else:
            compared.add_total(m, target)
    assert compared.builds == whole and compared.scanned == len(mats) - whole
    assert compared.c_count == read.c_count
    assert math.isclose(compared.c_s, read.c_s, rel_tol=1e-9, abs_tol=1e-9)
    assert math.isclose(compared.c_s2, read.c_s2, rel_tol=1e-9, abs_tol=1e-9)
    assert sorted(compared.digests.values()) == sorted(read.digests.values())
    assert compared.digests.keys() == read.digests.keys()
    a, b = compared.calls, read.calls
    assert a.builds == b.builds
    _assert_same_statistics_between_builds(a, b, tol=1e-9)  # sums in another order
    assert (compared.nonfinite_builds, compared.first_nonfinite) == (
        read.nonfinite_builds,
        read.first_nonfinite,
    )
    only = ParamStats()  # the builds read whole, alone
    for m in mats[:whole]:
        only.add(m, target)
    assert (compared.n, compared.kept) == (only.n, only.kept)
    assert math.isclose(compared.s2, only.s2, rel_tol=1e-12)
    assert np.array_equal(compared.ks_hist, only.ks_hist)
    assert (a.sp_builds, a.bits, a.gap) == (only.calls.sp_builds, only.calls.bits, only.calls.gap)
