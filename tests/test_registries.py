"""Adding a family or a check is one object passed to its registry.

A toy family (Laplace, ``z ~ Laplace(0, 1/sqrt 2)``, unit variance, ``E z^4 = 6``) and a toy
exact check (no exact zeros) are registered through the public API; a matching toy
initializer passes ``check_initializer`` and a wrong one fails, with a diagnosis naming the
defect. Checks run at alpha = 1e-4 with the power plan's sizes (power 0.99 against each
effect): a correct implementation fails with probability <= 1e-4; the wrong ones differ by a
KS distance of 0.05 (a normal for a Laplace) or by an exact check (no false alarm), so a
miss has probability ~0. Registrations are undone after each test.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy import stats

from _levels import PASS_ALPHA
from weight_init.errors import InvalidParameterError, UnknownFamilyError
from weight_init.families import (
    FAMILIES,
    NORMAL,
    RNG,
    Family,
    get_family,
    register_family,
    unregister_family,
)
from weight_init.properties.conformance import _power as power
from weight_init.properties.conformance._checks import (
    Check,
    CheckKind,
    CheckResult,
    Pool,
    register_check,
    registered_checks,
    unregister_check,
)
from weight_init.properties.conformance._plan import plan as power_plan
from weight_init.properties.conformance._runner import check_initializer
from weight_init.schemes import Scheme, get_scheme, variance_scaling

B = 1.0 / math.sqrt(2.0)  # Laplace scale of unit variance


class Laplace(Family):
    """``z ~ Laplace(0, 1/sqrt 2)``: ``F(z) = 1/2 + sign(z)/2 (1 - exp(-|z|/b))``."""

    name, words = "laplace", "a Laplace"

    def sample(self, scheme: Scheme, fan_in: int, fan_out: int, rng: RNG) -> NDArray[Any]:
        scale = B * scheme.std(fan_in, fan_out)
        if rng is None:
            return np.random.laplace(0.0, scale, (fan_in, fan_out))  # noqa: NPY002
        return rng.laplace(0.0, scale, (fan_in, fan_out))

    def law(self, n: int | None = None) -> Any:
        return stats.laplace(scale=B)

    def fourth_moment(self, n: int | None = None) -> float:
        return 6.0

    def cdf(self, z: NDArray[np.float64], n: int | None = None) -> NDArray[np.float64]:
        z = np.asarray(z, dtype=np.float64)
        return 0.5 + 0.5 * np.sign(z) * -np.expm1(-np.abs(z) / B)

    def ppf(self, p: NDArray[np.float64], n: int | None = None) -> NDArray[np.float64]:
        p = np.asarray(p, dtype=np.float64)
        return -B * np.sign(p - 0.5) * np.log1p(-np.abs(2.0 * p - 1.0))


@pytest.fixture
def laplace() -> Iterator[Family]:
    fam = register_family(Laplace())
    try:
        yield fam
    finally:
        unregister_family("laplace")


def test_toy_family_through_the_registry(laplace: Family) -> None:
    assert get_family("laplace") is laplace and FAMILIES["laplace"] is laplace
    scheme = variance_scaling(2.0, "fan_in", "laplace", name="he_laplace")
    z = np.linspace(-5, 5, 101)
    assert np.allclose(laplace.cdf(z), laplace.law().cdf(z), atol=1e-14)
    assert math.isclose(laplace.fourth_moment(), laplace.law().moment(4), rel_tol=1e-12)
    plan = power_plan(laplace)
    assert plan.n_tests == 13 and any(e.test == "KS" for e in plan.effects)

    def good(fan_in: int, fan_out: int, rng: np.random.Generator) -> Any:
        return rng.laplace(0.0, B * math.sqrt(2.0 / fan_in), (fan_in, fan_out))

    def normal(fan_in: int, fan_out: int, rng: np.random.Generator) -> Any:
        return rng.standard_normal((fan_in, fan_out)) * math.sqrt(2.0 / fan_in)

    for fn in (scheme, good):
        v = check_initializer(fn, scheme, seed=0, alpha=PASS_ALPHA)
        assert v.passed, v.format_table()
    bad = check_initializer(normal, scheme, seed=0)
    assert bad.outcome == "fail" and "distribution" in {t.name for t in bad.failures}
    assert bad.identification is not None and bad.identification.family is NORMAL
    assert "an (untruncated) normal drawn for a laplace scheme" in bad.diagnosis, bad.diagnosis


def test_family_registry_refuses_bad_input(laplace: Family) -> None:
    with pytest.raises(InvalidParameterError, match="already registered"):
        register_family(Laplace())
    with pytest.raises(InvalidParameterError, match="built in"):
        unregister_family("normal")
    with pytest.raises(UnknownFamilyError, match="unknown family 'nope'"):
        get_family("nope")
    with pytest.raises(InvalidParameterError, match="distribution"):
        variance_scaling(1.0, "fan_in", "orthogonal")


class NoExactZeros(Check):
    """Exact: a continuous family puts probability 0 on ``w = 0``, so no entry is 0."""

    name = "no exact zeros"
    kind = CheckKind.EXACT
    explanation = "some entries are exactly 0: the law has a point mass"

    def applies(self, family: Family) -> bool:
        return family.is_random

    def run(self, pool: Pool) -> CheckResult | None:
        zeros = sum(int(np.count_nonzero(b.w == 0.0)) for b in pool.blocks)
        return self.exact(zeros, 0, zeros == 0, f"{zeros} exact zeros")

    def describe_failure(self, result: CheckResult) -> str:
        return f"point mass at 0: {result.test.detail}"


@pytest.fixture
def no_zeros() -> Iterator[Check]:
    check = register_check(NoExactZeros())
    try:
        yield check
    finally:
        unregister_check(check)


def test_toy_check_through_the_registry(no_zeros: Check) -> None:
    assert registered_checks()[-1] is no_zeros
    he = get_scheme("he_normal")

    def one_zero(fan_in: int, fan_out: int, rng: np.random.Generator) -> Any:
        w = he.sample(fan_in, fan_out, rng)
        w[0, 0] = 0.0
        return w

    ok = check_initializer(he, he, seed=0, alpha=PASS_ALPHA)
    assert ok.passed and "no exact zeros" in {t.name for t in ok.tests}, ok.format_table()
    bad = check_initializer(one_zero, he, seed=0)
    assert [t.name for t in bad.failures] == ["no exact zeros"], bad.format_table()
    assert "point mass at 0" in bad.diagnosis
    with pytest.raises(InvalidParameterError, match="already registered"):
        register_check(NoExactZeros())


class WideVariance(Check):
    """A statistical toy check whose effect needs 10^7 entries: the plan must ask it."""

    name = "toy statistic"
    kind = CheckKind.STATISTICAL

    def effects(self, family: Family, level: float, power_: float) -> tuple[power.Effect, ...]:
        return (power.Effect("toy effect", 0.001, self, 10_000_000),)

    def run(self, pool: Pool) -> CheckResult | None:
        return None


def test_power_plan_asks_the_checks() -> None:
    toy = WideVariance()
    base = power_plan("normal")
    more = power_plan("normal", checks=(*registered_checks(), toy))
    assert more.n_tests == base.n_tests + 1 and more.per_test_level < base.per_test_level
    assert more.n_entries == 10_000_000 and more.required(toy) == 10_000_000


@pytest.mark.parametrize("name", ["normal", "uniform", "truncated_normal"])
def test_builtin_family_closed_forms_match_their_scipy_law(name: str) -> None:
    """The closed-form cdf, ppf and E z^4 each family uses agree with its frozen scipy law,
    which has unit variance (the standardized entry)."""
    fam = get_family(name)
    law = fam.law()
    z = np.linspace(-4.0, 4.0, 401)
    p = np.linspace(0.001, 0.999, 399)
    assert np.allclose(fam.cdf(z), law.cdf(z), rtol=0, atol=1e-12)
    assert np.allclose(fam.ppf(p), law.ppf(p), rtol=0, atol=1e-9)
    assert math.isclose(law.var(), 1.0, rel_tol=1e-12)
    assert math.isclose(fam.fourth_moment(), law.moment(4), rel_tol=1e-9)
    assert math.isclose(fam.support_bound, float(law.support()[1]), rel_tol=1e-12)


def test_seeding_reads_named_parameters_beside_kwargs() -> None:
    """An explicit ``rng`` (or ``seed``) parameter counts even when ``**kwargs`` follows."""
    from weight_init.protocols import seeding_of

    def with_rng(fan_in: int, fan_out: int, rng: object = None, **kw: object) -> None: ...

    def with_seed(fan_in: int, fan_out: int, *, seed: int = 0, **kw: object) -> None: ...

    def only_kwargs(fan_in: int, fan_out: int, **kw: object) -> None: ...

    assert seeding_of(with_rng) == "rng"
    assert seeding_of(with_seed) == "seed"
    assert seeding_of(only_kwargs) == "global"
