"""Framework arrays read on the host: one conversion for every entry point.

``forward_prop`` (through :func:`weight_init.experiment.check_weights`), the conformance
check, the layer catalog and the model audit all read what an initializer returned
with :func:`to_host`, so a framework array is accepted (or refused) the same way
everywhere:

* **numpy** arrays pass through unchanged (no copy);
* **torch** tensors are detached (a tensor that requires grad is read, not refused),
  copied to the CPU from any device, and ``bfloat16`` is widened to ``float32``;
* **JAX** arrays (and anything else with ``__array__`` or ``__dlpack__``) are copied to
  the host by ``numpy.asarray``; an ``ml_dtypes`` ``bfloat16`` result is widened to
  ``float32``.

Widening is exact (every bfloat16 and float16 value is a float32), so the statistics see
exactly the values the framework drew: **the rounding to the low-precision dtype stays
in the draws**. Rounding to nearest with ``p`` significand bits multiplies each entry by
``1 + d``, ``|d| <= u = 2^-p`` (bfloat16: p = 8, u = 3.9e-3; float16: p = 11, u =
4.9e-4), so the variance changes by at most a factor ``(1 + u)^2`` (bfloat16: 0.8%, an
error the variance test is powered to see only near 1%) and by ``E d^2 ~ u^2 / 3``
(1e-6 relative) on average for a smooth law. The values also lie on a grid, which a
Kolmogorov-Smirnov test of a continuous law sees as atoms: with bfloat16 the empirical
CDF steps by up to about ``phi(z) |z| u`` = 1e-3, which large designs resolve. So a
low-precision result is checked as it is (its rounding is part of what it does): a
``bfloat16`` initializer may fail the distribution test of a continuous law, and that
failure is about its draws, not a false alarm (``tests/test_host_arrays.py`` measures it).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["LOW_PRECISION", "to_host"]

#: Dtype names widened to float32 on the host (their values are exactly representable).
LOW_PRECISION = ("bfloat16",)


def _is_torch_tensor(value: object) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


def to_host(value: Any) -> NDArray[Any]:
    """``value`` as a numpy array on the host (module docstring); raises whatever the
    framework raises when the value cannot be read (callers turn it into their error)."""
    if isinstance(value, np.ndarray):
        return value
    if _is_torch_tensor(value):
        t = value.detach()
        if t.device.type != "cpu":
            t = t.cpu()
        if str(t.dtype).removeprefix("torch.") in LOW_PRECISION:
            t = t.float()
        return np.asarray(t.numpy())
    arr = np.asarray(value)
    if arr.dtype.name in LOW_PRECISION:
        arr = arr.astype(np.float32)
    return arr
