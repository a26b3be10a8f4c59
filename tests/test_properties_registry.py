"""The property registry: a toy property added in one place runs in the suite; the generic
evaluation never passes without evidence and names a broken contract."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st

from weight_init.errors import InvalidParameterError, NotCallableError
from weight_init.experiment import forward_prop
from weight_init.properties._results import RanOn, TestResult, Verdict
from weight_init.properties.claims._common import reported_statistics
from weight_init.properties.claims._registry import (
    BUILTIN,
    PROPERTIES,
    Condition,
    Context,
    Property,
    draw_widths,
    get,
    register,
    unregister,
)
from weight_init.properties.claims._suite import run_suite, suite_cases
from weight_init.properties.claims._vanishing import small_init_vanishes
from weight_init.schemes import get_scheme


def _toy_assertions(ctx: Context) -> list[TestResult]:
    return [reported_statistics(ctx.run)]


TOY = Property(
    name="toy_reported_statistics",
    claim="The reported means and stds are those of the returned activations.",
    condition=Condition(activations=("tanh",)),
    defaults={"widths": (32, 32), "n_samples": 64, "input_dim": 16, "seed": 0},
    scheme=lambda params: get_scheme("xavier"),
    assertions=_toy_assertions,
    suite_cases=lambda gen: [{"widths": draw_widths(gen, 2)}],
    strategy=lambda: st.fixed_dictionaries({"seed": st.integers(0, 100)}),
)


@pytest.fixture
def toy() -> Iterator[Property]:
    register(TOY)
    try:
        yield TOY
    finally:
        unregister(TOY.name)


@pytest.fixture(scope="module")
def suite_with_toy() -> list[Verdict]:
    """run_suite(None, seed=0) with the toy property registered (run once for the module)."""
    register(TOY)
    try:
        return run_suite(None, seed=0)
    finally:
        unregister(TOY.name)


def test_a_registered_property_runs_in_the_suite(suite_with_toy: list[Verdict]) -> None:
    mine = [v for v in suite_with_toy if v.metadata["property"] == TOY.name]
    assert len(mine) == 1 and mine[0].outcome == "pass", mine
    assert suite_with_toy[-1] is mine[0]  # registered last, run last


def test_a_registered_property_catches_what_it_claims(toy: Property) -> None:
    def misreports(sizes: Any, init: Any, **kw: Any) -> Any:
        acts, means, stds = forward_prop(sizes, init, **kw)
        return acts, means, [2 * s for s in stds]

    assert get(toy.name) is toy and list(PROPERTIES)[-1] == toy.name
    assert toy(misreports).outcome == "fail"


def test_registering_appends_without_changing_the_builtin_cases(toy: Property) -> None:
    unregister(toy.name)
    before = suite_cases(3)
    register(toy)
    after = suite_cases(3)
    assert after[: len(before)] == before and after[-1][0] == toy.name


def test_builtins_come_first_in_a_fixed_order() -> None:
    names = list(PROPERTIES)
    assert names[:7] == [
        "symmetry",
        "vanishing",
        "saturation",
        "bounded_decay",
        "second_moment",
        "glorot_balance",
        "theory_agreement",
    ]
    assert len(BUILTIN) == 6  # modules (second_moment holds two properties)


def test_a_name_cannot_be_registered_twice() -> None:
    clone = Property(**{**TOY.__dict__, "name": "vanishing"})
    with pytest.raises(InvalidParameterError, match="already registered"):
        register(clone)


def test_unknown_names_and_parameters_are_refused() -> None:
    with pytest.raises(InvalidParameterError, match="no property 'nope'"):
        get("nope")
    with pytest.raises(InvalidParameterError, match="no parameter"):
        small_init_vanishes(None, width=(8, 8))


def test_a_verdict_without_a_test_is_inconclusive_never_pass() -> None:
    v = small_init_vanishes(None, widths=(8, 8))
    assert v.outcome == "inconclusive" and not v.passed
    assert [t.name for t in v.tests] == ["evidence"]


def _one_layer_short(sizes: Any, init: Any, **kw: Any) -> Any:
    acts, means, stds = forward_prop(sizes, init, **kw)
    last = len(sizes) - 1
    return {i: a for i, a in acts.items() if i != last}, means[:-1], stds[:-1]


def test_a_forward_prop_one_layer_short_fails_naming_the_contract() -> None:
    verdicts = run_suite(_one_layer_short, seed=0)
    assert verdicts and all(v.outcome == "fail" for v in verdicts)
    details = {t.detail for v in verdicts for t in v.tests}
    assert any("returned 9 layers for 10 widths" in d for d in details), details


def test_every_result_says_what_it_ran_on(suite_with_toy: list[Verdict]) -> None:
    verdicts = suite_with_toy
    ran = {t.ran_on for v in verdicts for t in v.tests}
    assert None not in ran and ran == {RanOn.SUBJECT, RanOn.REFERENCE, RanOn.SCHEME}
    glorot = next(v for v in verdicts if v.metadata["property"] == "glorot_balance")
    on = {t.name: t.ran_on for t in glorot.tests}
    assert on["layer 1 mean of gains"] is RanOn.SCHEME
    assert on["backward gains n_out v"] is RanOn.REFERENCE
    assert on["forward gains n_in v"] is RanOn.SUBJECT
    assert glorot.to_dict()["tests"][0]["ran_on"] == "scheme"


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"forward_prop": 42}, NotCallableError, "callable"),
        ({"seed": -1}, InvalidParameterError, "seed"),
        ({"alpha": 2.0}, InvalidParameterError, "alpha"),
    ],
)
def test_run_suite_bad_arguments_name_the_argument(
    kwargs: dict[str, Any], error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        run_suite(**kwargs)


def test_notes_contract_subjects_skip_the_cases_they_cannot_run() -> None:
    flexible = [n for n, _ in suite_cases(0, flexible=True)]
    notes_only = [n for n, _ in suite_cases(0, flexible=False)]
    assert "glorot_balance" in flexible and "second_moment" in flexible
    assert "glorot_balance" not in notes_only and "second_moment" not in notes_only
    assert np.isin(notes_only, flexible).all()
