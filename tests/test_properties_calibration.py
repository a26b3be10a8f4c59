"""Every property p-value is a p-value: the calibration checks, and (slow) the measurement.

The checks of :mod:`weight_init.app.calibration.property_calibration` are tested on
synthetic p-values (fast); the measurement over 200 seeds of the reference is
``@pytest.mark.slow`` (``tox -e calibration``, or ``pytest -m slow``).
"""

from __future__ import annotations

import numpy as np
import pytest

from weight_init.app.calibration.property_calibration import (
    Calibration,
    check_group,
    collect,
    markdown,
)
from weight_init.properties._results import NullKind

N = 200


def _uniform(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(size=N)


def test_uniform_p_values_pass_both_kinds_of_check() -> None:
    """200 uniform p-values: each check's false-fail rate is 1e-3 (binomtest, KS), and these
    seeded draws pass."""
    for null in NullKind:
        assert check_group("c", "t", null, _uniform(1)).passed


def test_undoubled_point_null_p_values_fail() -> None:
    """The undoubled point-null defect: the smaller one-sided p of a point null,
    min(U, 1 - U), never exceeds 1/2 and rejects twice as often as it says; the uniformity
    checks catch it."""
    u = _uniform(2)
    row = check_group("c", "t", NullKind.POINT, np.minimum(u, 1 - u))
    assert not row.passed and row.ks < 1e-3


def test_conservative_p_values_are_valid_for_a_composite_null_only() -> None:
    """p = U^(1/2) (stochastically larger than uniform): valid, so a composite null passes;
    not uniform, so a point null fails."""
    ps = np.sqrt(_uniform(3))
    assert check_group("c", "t", NullKind.COMPOSITE, ps).passed
    assert not check_group("c", "t", NullKind.POINT, ps).passed


def test_the_family_decision_is_holm_over_all_checks() -> None:
    good = [check_group("c", f"t{i}", NullKind.POINT, _uniform(10 + i)) for i in range(5)]
    cal = Calibration(tuple(good), N, (), 0.0)
    assert cal.passed and "**passes**" in markdown(cal, "cmd")
    u = _uniform(20)
    bad = check_group("c", "bad", NullKind.POINT, np.minimum(u, 1 - u))
    cal = Calibration((*good, bad), N, (), 0.0)
    assert not cal.passed and {r.test for r, _ in cal.rejected} == {"bad"}


@pytest.mark.slow
def test_every_property_p_value_is_calibrated_on_the_reference() -> None:
    """Over 200 seeds of the reference (the suite's cases): every point-null test uniform,
    every composite-null test and verdict p-value valid, each check at 1e-3 (binomial
    99.9% bands for p <= 0.05 and p <= 0.01, KS at 1e-3), Holm over the whole table at
    family-wise 1e-3."""
    cal = collect(200)
    failing = [f"{r.case} / {r.test}: check {i}, {r.checks}" for r, i in cal.rejected]
    assert cal.passed, "\n".join(failing)
    assert {r.null for r in cal.rows} == set(NullKind)
    assert cal.exact_only  # symmetry: exact checks only
