"""check_forward_prop: faithful forward_props agree with the reference, broken ones do not.

Exact agreement on replayed inputs is tested to 1e-4 of the layer's std (float32
arithmetic passes, any change of the maths fails); when the input cannot be replayed, each
layer's std is compared with 10 reference runs on the same weights by a prediction
t-test, Holm-corrected at family-wise alpha (default 1e-4; a test asserting a pass asks for
``PASS_ALPHA`` = 1e-7, tests/_levels.py). Cases are drawn from the seed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from _levels import PASS_ALPHA
from broken_forward_props import BROKEN, notes_forward_prop, own_input, residual_when_square
from weight_init.experiment import forward_prop
from weight_init.properties.conformance._forward_cases import NOTES_DEPTH, WIDTH_KINDS, cases
from weight_init.properties.conformance._forward_check import check_forward_prop


def float32_forward_prop(hidden_layer_sizes: list[int], init: Any, **kw: Any) -> Any:
    return forward_prop(hidden_layer_sizes, init, dtype=np.float32, **kw)


@pytest.mark.parametrize(
    "fn", [notes_forward_prop, forward_prop, float32_forward_prop], ids=lambda f: f.__name__
)
def test_faithful_forward_props_agree_exactly(fn: Any) -> None:
    v = check_forward_prop(fn, seed=1, properties=False, alpha=PASS_ALPHA)
    assert v.passed, v.format_table()
    assert "reference agreement" in {t.name for t in v.tests}
    case = v.metadata["cases"][0]
    assert len(case["theory_stds"]) == len(case["reference_stds"]) == len(case["sizes"])


def test_unreplayable_input_is_compared_statistically() -> None:
    v = check_forward_prop(own_input, seed=2, properties=False, n_cases=2, alpha=PASS_ALPHA)
    assert v.passed, v.format_table()
    assert "std vs reference" in {t.name for t in v.tests}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_forward_props_fail_with_reason(name: str) -> None:
    fn, words = BROKEN[name]
    v = check_forward_prop(fn, seed=0, properties=False, n_cases=2)
    assert v.outcome == "fail", f"check_forward_prop({fn.__name__}, seed=0) passed"
    for w in words:
        assert w in v.diagnosis, f"{name}: {v.diagnosis}"


def test_relu_with_a_reference_style_forward_prop() -> None:
    v = check_forward_prop(
        forward_prop,
        activation="relu",
        n_samples=200,
        input_dim=64,
        properties=False,
        alpha=PASS_ALPHA,
    )
    assert v.passed, v.format_table()


def test_property_suite_rows() -> None:
    """The notes' claims run too (run_suite at alpha / (2 k) per verdict); the passing side
    (the reference and the notes' code pass the suite) is tested in test_broken_forward_props."""
    fn, _ = BROKEN["no activation"]
    bad = check_forward_prop(fn, seed=0, n_cases=1)
    rows = [t for t in bad.tests if t.name.startswith("property ")]
    assert rows and all(t.threshold < bad.alpha / 2 for t in rows)
    assert bad.outcome == "fail" and "the notes' claims that fail" in bad.diagnosis


@pytest.mark.parametrize("seed", range(5))
def test_cases_include_the_notes_configuration_and_every_kind_of_width(seed: int) -> None:
    drawn = cases(seed, 4, input_dim=500)
    assert drawn[0][0] == [500] * NOTES_DEPTH  # ten layers as wide as the input
    widths = [s for sizes, _, _ in drawn[1:] for s in sizes]
    pairs = [
        (a, b) for sizes, _, _ in drawn[1:] for a, b in zip([500, *sizes[:-1]], sizes, strict=True)
    ]
    assert 500 in widths and 1 in widths
    assert any(a == b for a, b in pairs)
    assert any(max(a, b) >= 8 * min(a, b) for a, b in pairs)
    assert len(WIDTH_KINDS) == 5


def test_a_bug_at_particular_widths_is_caught() -> None:
    """residual_when_square is exact on widths that never equal their input's, and fails
    at the notes' own configuration (ten layers of 500 on a 500-wide input)."""
    rec = []

    def init(fan_in: int, fan_out: int) -> np.ndarray:
        w = np.random.default_rng(len(rec)).standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)
        rec.append(w)
        return w

    np.random.seed(3)  # noqa: NPY002 (the notes' contract draws from the legacy state)
    acts, _, _ = residual_when_square([40, 80, 20], init)
    rec.clear()
    np.random.seed(3)  # noqa: NPY002 (the notes' contract draws from the legacy state)
    ref = forward_prop([40, 80, 20], init, activation="tanh")
    assert all(np.array_equal(acts[i], ref.acts[i]) for i in range(3))
    v = check_forward_prop(residual_when_square, seed=0, properties=False, n_cases=1)
    assert v.outcome == "fail" and "forward_prop([500, 500" in v.diagnosis, v.format_table()
