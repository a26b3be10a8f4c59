"""argparse ``type=`` converters whose errors read as one actionable line."""

from __future__ import annotations

import argparse
from typing import Any

from weight_init.activations import ACTIVATIONS, activation_names
from weight_init.schemes import SCHEMES, scheme_names


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


def scheme_name(text: str) -> Any:
    """A registered name (returned as is) or a scheme expression (returned as the Scheme,
    whose ``str()`` is the expression; see :mod:`weight_init.scheme_expressions`)."""
    if text in SCHEMES:
        return text
    from weight_init.errors import WeightInitError
    from weight_init.scheme_expressions import parse_scheme

    try:
        return parse_scheme(text)
    except WeightInitError as exc:
        raise argparse.ArgumentTypeError(
            f"{exc} (registered schemes: {', '.join(scheme_names())})"
        ) from None


def activation_name(text: str) -> str:
    if text not in ACTIVATIONS:
        raise argparse.ArgumentTypeError(
            f"unknown activation {text!r}; choose one of {', '.join(activation_names())}"
        )
    return text
