"""Every bad input raises a specific exception with a one-line message naming layer and problem."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from weight_init import errors
from weight_init.backward import forward_backward
from weight_init.experiment import forward_prop
from weight_init.schemes import get_scheme, variance_scaling

XAVIER = get_scheme("xavier")


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text, f"message is not one line: {text!r}"
    return text


@pytest.mark.parametrize(
    ("sizes", "fragment"),
    [
        ([], "hidden_layer_sizes is empty"),
        ([10, 0, 5], "layer 2: width must be a positive integer, got 0"),
        ([10, -3], "layer 2: width must be a positive integer, got -3"),
        ([10, 2.5], "layer 2: width must be a positive integer, got 2.5"),
        ([10.0], "layer 1: width must be a positive integer, got 10.0"),
        ([True, 4], "layer 1: width must be a positive integer, got True"),
        (["5"], "layer 1: width must be a positive integer, got '5'"),
        ("500", "must be a sequence of positive integers, got str"),
        (500, "must be a sequence of positive integers, got int"),
    ],
)
def test_bad_layer_sizes(sizes: Any, fragment: str) -> None:
    with pytest.raises(errors.InvalidLayerSizesError) as info:
        forward_prop(sizes, XAVIER, seed=0)
    assert isinstance(info.value, ValueError)
    assert fragment in _one_line(info.value)


def test_numpy_integer_sizes_are_accepted() -> None:
    result = forward_prop(np.array([4, 3]), XAVIER, seed=0, n_samples=5, input_dim=6)
    assert [h.shape for h in result.acts.values()] == [(5, 4), (5, 3)]


def _wrong_shape(fan_in: int, fan_out: int) -> np.ndarray:
    return np.zeros((fan_in, fan_out + 1))


def _transposed(fan_in: int, fan_out: int) -> np.ndarray:
    return np.zeros((fan_out, fan_in))


def _nan_in_layer_2(fan_in: int, fan_out: int) -> np.ndarray:
    w = np.full((fan_in, fan_out), 0.1)
    if fan_in == 4:  # layer 2 of [4, 3] with input_dim 6
        w[0, 0] = math.nan
    return w


def _inf(fan_in: int, fan_out: int) -> np.ndarray:
    w = np.zeros((fan_in, fan_out))
    w[-1, -1] = np.inf
    return w


def _list(fan_in: int, fan_out: int) -> list[list[float]]:
    return [[0.0] * fan_out for _ in range(fan_in)]


def _none(fan_in: int, fan_out: int) -> None:
    return None


def _strings(fan_in: int, fan_out: int) -> np.ndarray:
    return np.full((fan_in, fan_out), "a")


def _complex(fan_in: int, fan_out: int) -> np.ndarray:
    return np.zeros((fan_in, fan_out), dtype=complex)


def _raises(fan_in: int, fan_out: int) -> np.ndarray:
    raise RuntimeError("boom\nsecond line")


@pytest.mark.parametrize(
    ("init", "exc_type", "fragment"),
    [
        (
            _wrong_shape,
            errors.InitializerShapeError,
            "layer 1 (fan_in=6, fan_out=4): initializer returned shape (6, 5), expected (6, 4)",
        ),
        (_transposed, errors.InitializerShapeError, "transposed"),
        (
            _nan_in_layer_2,
            errors.NonFiniteWeightsError,
            "layer 2 (fan_in=4, fan_out=3): initializer returned 1 non-finite value(s)",
        ),
        (_inf, errors.NonFiniteWeightsError, "layer 1 (fan_in=6, fan_out=4)"),
        (_list, errors.InitializerTypeError, "initializer returned list, expected an array"),
        (_none, errors.InitializerTypeError, "initializer returned NoneType, expected an array"),
        (_strings, errors.InitializerTypeError, "expected real numbers"),
        (_complex, errors.InitializerTypeError, "dtype complex128"),
        (
            _raises,
            errors.InitializerCallError,
            "layer 1 (fan_in=6, fan_out=4): initializer raised RuntimeError: boom",
        ),
    ],
)
def test_bad_initializer_output(init: Any, exc_type: type[Exception], fragment: str) -> None:
    with pytest.raises(exc_type) as info:
        forward_prop([4, 3], init, seed=0, n_samples=5, input_dim=6)
    assert isinstance(info.value, (ValueError, TypeError))
    assert isinstance(info.value, errors.WeightInitError)
    assert fragment in _one_line(info.value), str(info.value)


def test_initializer_exception_is_chained() -> None:
    with pytest.raises(errors.InitializerCallError) as info:
        forward_prop([4], _raises, seed=0, n_samples=2, input_dim=3)
    assert isinstance(info.value.__cause__, RuntimeError)


def test_non_callable_init() -> None:
    with pytest.raises(errors.InitializerTypeError, match="init must be callable, got str"):
        forward_prop([4], "xavier", seed=0)


def test_unknown_scheme_names_the_choices() -> None:
    with pytest.raises(errors.UnknownSchemeError) as info:
        get_scheme("kaiming")
    msg = _one_line(info.value)
    assert "unknown scheme 'kaiming'" in msg and "he_normal" in msg


def test_unknown_activation_names_the_choices() -> None:
    with pytest.raises(errors.UnknownActivationError) as info:
        forward_prop([4], XAVIER, activation="swish", seed=0)
    msg = _one_line(info.value)
    assert "unknown activation 'swish'" in msg and "tanh" in msg


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"scale": 0.0}, "scale must be positive and finite, got 0.0"),
        ({"scale": math.nan}, "scale must be positive and finite"),
        ({"mode": "fan_sum"}, "unknown mode 'fan_sum'"),
        ({"distribution": "cauchy"}, "unknown distribution 'cauchy'"),
    ],
)
def test_bad_variance_scaling(kwargs: dict[str, Any], fragment: str) -> None:
    with pytest.raises(errors.InvalidParameterError) as info:
        variance_scaling(**kwargs)
    assert fragment in _one_line(info.value)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"n_samples": 0}, "n_samples must be a positive integer, got 0"),
        ({"input_dim": -1}, "input_dim must be a positive integer, got -1"),
        ({"x": np.zeros(5)}, "must be a non-empty 2-D array"),
        ({"x": np.full((3, 2), np.nan)}, "input x contains NaN"),
        ({"x": np.zeros((3, 2)), "n_samples": 4}, "input x has 3 rows but n_samples=4"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"seed": 1, "rng": np.random.default_rng(1)}, "give either rng or seed"),
        ({"rng": 5}, "rng must be a numpy.random.Generator, got int"),
        ({"dtype": np.float16}, "dtype must be float64 or float32"),
    ],
)
def test_bad_input_options(kwargs: dict[str, Any], fragment: str) -> None:
    with pytest.raises(errors.InvalidInputError) as info:
        forward_prop([4], XAVIER, **kwargs)
    assert fragment in _one_line(info.value)


def test_sample_rejects_bad_fans() -> None:
    with pytest.raises(errors.InvalidLayerSizesError, match="fan_out must be a positive integer"):
        XAVIER.sample(3, 0)


def test_forward_backward_rejects_bad_weights() -> None:
    x = np.ones((2, 3))
    with pytest.raises(errors.InitializerShapeError, match="layer 2"):
        forward_backward(x, [np.ones((3, 4)), np.ones((5, 2))])
    with pytest.raises(errors.InvalidInputError, match="layer 1: weights must be a 2-D array"):
        forward_backward(x, [np.ones(3)])
    with pytest.raises(errors.InvalidInputError, match="target has shape"):
        forward_backward(x, [np.ones((3, 4))], target=np.ones((2, 3)))


# ----------------------------------------------------------------------------- the hierarchy

PACKAGE_DIRS = ("reference", "properties", "reports", "app")


def test_every_error_is_a_weight_init_error_and_a_value_or_type_error() -> None:
    classes = [
        obj
        for obj in vars(errors).values()
        if isinstance(obj, type) and issubclass(obj, BaseException)
    ]
    assert len(classes) >= 20
    for cls in classes:
        assert issubclass(cls, errors.WeightInitError), cls
        if cls in (errors.WeightInitError, errors.InitializerError):
            # category bases, never raised themselves: every subclass is checked
            assert all(issubclass(sub, cls) for sub in cls.__subclasses__())
            continue
        if cls is errors.CheckFailed:  # a failed check in pytest, not bad input
            assert issubclass(cls, AssertionError)
            continue
        if cls is errors.InternalError:  # weight-init's own fault, not bad input
            assert issubclass(cls, RuntimeError) and not issubclass(cls, ValueError)
            continue
        assert issubclass(cls, ValueError | TypeError), cls


def test_no_exception_class_outside_errors_py() -> None:
    """Every exception class of the package lives in reference/errors.py."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    outside = []
    for folder in PACKAGE_DIRS:
        for path in sorted((root / folder).rglob("*.py")):
            if path.name == "errors.py" and folder == "reference":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ClassDef) and any(
                    ast.unparse(b).endswith(("Error", "Exception", "Warning", "Failed", "Case"))
                    for b in node.bases
                ):
                    outside.append(f"{path.relative_to(root)}:{node.lineno} {node.name}")
    assert outside == []


def test_old_import_locations_still_work() -> None:
    from weight_init.app._cli import UsageError
    from weight_init.properties._subject import UnsupportedCase
    from weight_init.properties.conformance._adapters import AdapterError
    from weight_init.properties.conformance._forward_check import ForwardCheckError
    from weight_init.reports._output_dir import ReportOutputError

    assert (UsageError, AdapterError, ForwardCheckError, UnsupportedCase, ReportOutputError) == (
        errors.UsageError,
        errors.AdapterError,
        errors.ForwardCheckError,
        errors.UnsupportedCase,
        errors.ReportOutputError,
    )


def test_public_helpers_raise_the_hierarchy() -> None:
    from weight_init.properties import _multiple_testing as multiple_testing
    from weight_init.properties.claims import _profiles as profiles

    with pytest.raises(errors.InvalidParameterError):
        multiple_testing.bonferroni_threshold(0, 0.05)
    with pytest.raises(errors.InvalidParameterError):
        profiles.load("nope")


def test_lazy_package_exports_everything_it_lists() -> None:
    import weight_init

    assert set(weight_init.__all__) - {"__version__"} <= set(weight_init._LAZY)
    for name in weight_init._LAZY:  # every lazy name resolves, listed in __all__ or not
        assert getattr(weight_init, name) is not None
