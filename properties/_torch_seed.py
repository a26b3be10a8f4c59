"""Seeding torch's global generators for one draw, at the cost of seeding the one that exists.

``torch.manual_seed(s)`` seeds the CPU generator and every accelerator's. Where no
accelerator is available it still queues the seed for each of them (CUDA, XPU, MTIA), and each
queued call records the caller's formatted stack for a lazy-initialization error message:
about 70 microseconds per call, against about 1 for the CPU generator alone. A check seeds
the code under test once per call (thousands of calls per check), so that cost is a
noticeable part of a check of a fast initializer.

:func:`manual_seed` is ``torch.manual_seed`` where an accelerator is available, and the CPU
generator's ``manual_seed`` where none is: then no tensor can be drawn on another device, so
the two leave every generator a draw can read in the same state.
"""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def _cpu_only(torch: Any) -> bool:
    """Whether no accelerator torch can seed is available and no custom device is registered
    (checked once per process: a device does not appear later)."""
    custom = getattr(torch._C, "_get_privateuse1_backend_name", lambda: "privateuseone")()
    if hasattr(torch, custom):
        return False
    for name in ("cuda", "xpu", "mtia", "mps"):
        backend = getattr(torch, name, None)
        available = getattr(backend, "is_available", None)
        if available is None:
            continue
        try:
            if available():
                return False
        except Exception:  # a backend that cannot tell: seed it as torch.manual_seed does
            return False
    return True


def manual_seed(torch: Any, seed: int) -> None:
    """``torch.manual_seed(seed)``, the CPU generator alone when no accelerator is available.

    Examples
    --------
    >>> import torch
    >>> manual_seed(torch, 3)
    >>> a = torch.rand(2)
    >>> torch.manual_seed(3) is not None
    True
    >>> bool((torch.rand(2) == a).all())
    True
    """
    if _cpu_only(torch):
        torch.default_generator.manual_seed(int(seed))
    else:
        torch.manual_seed(int(seed))
