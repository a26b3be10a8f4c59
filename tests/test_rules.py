"""The rule language: arithmetic in numbers (walked, never evaluated as Python), named rules,
``skip``, ``SCHEME + zero_rows(...)``, and constants as a floating-point format holds them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weight_init.errors import InvalidParameterError, WeightInitError
from weight_init.precision import DIGITS, canonical_format, format_in, round_to
from weight_init.rules import parse_rule
from weight_init.scheme_expressions import parse_scheme


@pytest.mark.parametrize(
    ("text", "names", "std"),
    [
        ("normal(std=0.02/sqrt(2*n_layer))", {"n_layer": 12}, 0.02 / math.sqrt(24)),
        ("normal(std=(d_model*d_kv)**-0.5)", {"d_model": 512, "d_kv": 64}, (512 * 64) ** -0.5),
        ("normal(std=1/3)", None, 1 / 3),
        ("normal(std=-(-0.5) + 0.25)", None, 0.75),
        ("normal(std=f * 1.0)", {"f": 0.5}, 0.5),
        ("he_normal / 2", None, math.sqrt(2 / 16) / 2),
        ("normal(std=2) * sqrt(2) / 4", None, math.sqrt(2) / 2),
    ],
)
def test_numbers_are_arithmetic(text: str, names: dict[str, float] | None, std: float) -> None:
    s = parse_scheme(text, names)
    assert math.isclose(s.std(16, 64), std, rel_tol=1e-12)


def test_bound_names_are_written_into_the_canonical_name() -> None:
    s = parse_scheme(
        "normal(std=initializer_range/sqrt(2*n_layer))", {"initializer_range": 0.02, "n_layer": 2}
    )
    assert s.name == "normal(std=0.02 / sqrt(2 * 2))"


def test_reserved_words_are_never_bound() -> None:
    s = parse_scheme("variance_scaling(2, fan_out, normal)", {"fan_out": 7.0, "normal": 3.0})
    assert math.isclose(s.variance(16, 64), 2 / 64)


@pytest.mark.parametrize(
    "text",
    [
        "normal(std=n_layer)",
        "normal(std=abs(-1))",
        "normal(std=__import__('os').getpid())",
        "normal(std=(1).__class__)",
        "normal(std=2**10000)",
        "normal(std=1/0)",
        "normal(std=sqrt(-1))",
        "normal(std=(-8)**0.5)",
        "normal(std='0.1')",
        "normal(std=[1][0])",
        "normal(std=True)",
        "normal(std=1e400)",
    ],
)
def test_what_is_not_arithmetic_is_one_line(text: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        parse_scheme(text)
    assert "\n" not in str(info.value)


def test_torch_rnn_default_is_a_rule_name() -> None:
    s = parse_scheme("torch_rnn_default")
    assert s.family == "uniform"
    assert math.isclose(s.variance(10, 64), 1 / (3 * 64))  # U(-1/sqrt(hidden), +), fans (in, h)


def test_skip_and_zero_rows() -> None:
    assert parse_rule("skip").skip
    r = parse_rule("normal(std=0.02) + zero_rows(pad_token_id)", {"pad_token_id": 1})
    assert (r.scheme is not None, r.zero_rows, r.text) == (
        True,
        (1,),
        "normal(std=0.02) + zero_rows(1)",
    )
    assert parse_rule("ones").zero_rows == ()
    assert parse_rule("normal(0.1) + zero_rows(0, -1)").zero_rows == (0, -1)


@pytest.mark.parametrize(
    "text",
    [
        "zero_rows(0)",
        "skip + zero_rows(0)",
        "zero_rows(0) + normal(0.1)",
        "normal(0.1) + zero_rows(0.5)",
        "normal(0.1) + zero_rows(0, 0)",
        "normal(0.1) + zero_rows(row=0)",
        "normal(0.1) + zero_rows()",
        "orthogonal + zero_rows(0)",
        "normal(skip)",
        "normal(0.1) + normal(0.2)",
    ],
)
def test_bad_rules_are_one_line(text: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        parse_rule(text)
    assert "\n" not in str(info.value)


@given(text=st.text(max_size=60))
@settings(max_examples=300)
def test_any_text_is_a_rule_or_one_clear_error(text: str) -> None:
    try:
        parse_rule(text)
    except WeightInitError as exc:
        assert str(exc) and "\n" not in str(exc)


@given(value=st.floats(-1e30, 1e30, allow_nan=False), fmt=st.sampled_from(["float16", "float32"]))
def test_rounding_is_numpys_cast(value: float, fmt: str) -> None:
    with np.errstate(over="ignore"):
        assert round_to(value, fmt) == float(np.asarray(value).astype(fmt))


@given(bits=st.integers(0, 2**32 - 1))
def test_bfloat16_rounds_half_to_even(bits: int) -> None:
    x = float(np.array([bits], dtype=np.uint32).view(np.float32)[0])
    if not math.isfinite(x):
        return
    r = round_to(x, "bfloat16")
    lo = bits & 0xFFFF0000
    below = float(np.array([lo], dtype=np.uint32).view(np.float32)[0])
    above = float(np.array([(lo + 0x10000) & 0xFFFFFFFF], dtype=np.uint32).view(np.float32)[0])
    assert r in (below, above) or not math.isfinite(r)
    if math.isfinite(r) and math.isfinite(above):
        d_lo, d_hi = abs(x - below), abs(above - x)
        if d_lo != d_hi:
            assert r == (below if d_lo < d_hi else above)
        else:
            assert (np.array([r], np.float32).view(np.uint32)[0] >> 16) % 2 == 0


def test_constants_print_as_the_format_holds_them() -> None:
    assert format_in(1e-6, "float32") == "9.99999997e-07"
    assert format_in(1e-6, "float64") == "1e-06"
    assert format_in(1.0, "bfloat16") == "1"
    assert format_in(0.1, "bfloat16") == "0.1001"
    assert DIGITS == {"bfloat16": 4, "float16": 5, "float32": 9, "float64": 17}
    assert canonical_format("torch.float32") == "float32"
    assert canonical_format(np.dtype("float16")) == "float16"
    assert canonical_format("int64") is None
