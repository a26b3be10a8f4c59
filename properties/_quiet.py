"""Floating-point warnings of the checker's own arithmetic stay off the user's terminal.

A check computes moments, logarithms and tail probabilities of whatever the code under test
returned; numpy and scipy say "overflow encountered" or "invalid value" as a
``RuntimeWarning`` when an intermediate is not finite. Each such case is decided by the check
itself (entries out of range fail the ``finite`` check, a statistic that is not finite
rejects), so the warning only adds noise (36 lines of it for weights of +-1e308).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import numpy as np


@contextlib.contextmanager
def quiet_numerics() -> Iterator[None]:
    """Run the body with numpy's floating-point errors ignored and ``RuntimeWarning`` off."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
