"""argparse ``type=`` converters whose errors read as one actionable line.

Nothing heavy is imported at module level: the parser of every command is built before the
command runs, and ``weight-init check`` hands off to its child process without importing
numpy (the registries are imported by the converters that need them)."""

from __future__ import annotations

import argparse
from typing import Any


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


def fraction(text: str) -> float:
    """A relative size in (0, 1): ``10%`` or ``0.1``."""
    t = text.strip()
    try:
        value = float(t[:-1]) / 100.0 if t.endswith("%") else float(t)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a percentage such as 10% or a fraction such as 0.1, got {text!r}"
        ) from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a size between 0 and 100%, got {text!r}")
    return value


def scheme_name(text: str) -> Any:
    """A registered name or alias (returned as the registered name) or a scheme expression
    (returned as the Scheme, whose ``str()`` is the expression; see
    :mod:`weight_init.scheme_expressions`)."""
    from weight_init.schemes import SCHEMES, canonical_name, scheme_names

    if canonical_name(text) in SCHEMES:
        return canonical_name(text)
    from weight_init.errors import WeightInitError
    from weight_init.scheme_expressions import parse_scheme

    try:
        return parse_scheme(text)
    except WeightInitError as exc:
        raise argparse.ArgumentTypeError(
            f"{exc} (registered schemes: {', '.join(scheme_names())})"
        ) from None


def split_top_level(text: str, sep: str) -> list[str]:
    """``text`` split at every ``sep`` outside parentheses and brackets, so a list of scheme
    expressions (``xavier,variance_scaling(2, fan_in, normal)``) splits between them."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def scheme_text(text: str) -> str:
    """A registered name or a scheme expression, as its canonical text (the name, or the
    expression as :mod:`weight_init.scheme_expressions` prints it)."""
    return str(scheme_name(text.strip()))


def activation_name(text: str) -> str:
    from weight_init.activations import ACTIVATIONS, activation_names

    if text not in ACTIVATIONS:
        raise argparse.ArgumentTypeError(
            f"unknown activation {text!r}; choose one of {', '.join(activation_names())}"
        )
    return text


def timeout_seconds(text: str) -> float:
    """A time limit in seconds: a positive number, any size (``1e9`` is a limit too), or
    ``none`` / ``inf`` for no limit (returned as ``inf``)."""
    if text.strip().lower() in ("none", "inf", "infinity"):
        return float("inf")
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number of seconds or 'none', got {text!r}"
        ) from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def add_timeout_argument(p: argparse.ArgumentParser, step: str = "") -> None:
    """``--timeout SECONDS``: the limit of one run of the code under test (in a child process),
    or, when the run reports its steps (``step`` names them), of one step."""
    from weight_init.app._isolation import DEFAULT_TIMEOUT

    what = f"one {step} (not the whole run)" if step else "the code under test"
    p.add_argument(
        "--timeout",
        type=timeout_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"stop when {what} takes longer than this many seconds, exit 2 (default "
        f"{DEFAULT_TIMEOUT:g}, room for a first 'import torch'; 'none': no limit)",
    )
