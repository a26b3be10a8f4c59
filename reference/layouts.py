"""Weight layouts: the reference's ``in_out`` and PyTorch's ``out_in``.

* ``in_out``: shape ``(fan_in, fan_out)``, used as ``H @ W`` (the seed, Keras, JAX).
* ``out_in``: shape ``(fan_out, fan_in)``, used as ``H @ W.T`` (``torch.nn.Linear.weight``);
  PyTorch computes fan_in from the *second* axis.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from weight_init.errors import InvalidParameterError

Convention = Literal["in_out", "out_in"]
CONVENTIONS: tuple[str, ...] = ("in_out", "out_in")


def check_convention(convention: str) -> Convention:
    if convention not in CONVENTIONS:
        raise InvalidParameterError(
            f"unknown convention {convention!r}; choose in_out (fan_in, fan_out) "
            f"or out_in (fan_out, fan_in)"
        )
    return convention  # type: ignore[return-value]


def shape_for(fan_in: int, fan_out: int, convention: str) -> tuple[int, int]:
    """The array shape a layer with these fans has under ``convention``."""
    return (fan_in, fan_out) if check_convention(convention) == "in_out" else (fan_out, fan_in)


def to_in_out(w: NDArray[Any], convention: str) -> NDArray[Any]:
    """View ``w`` (laid out by ``convention``) in the reference's ``(fan_in, fan_out)`` layout."""
    return np.asarray(w) if check_convention(convention) == "in_out" else np.asarray(w).T
