"""Work buffers of the audit's streaming pass, reused from parameter to parameter.

The stream (:mod:`~weight_init.properties.audit._stream`,
:mod:`~weight_init.properties.audit._stream_calls`) reads every build of every parameter
through float64 temporaries of a bounded size: a block of rows, a stack of small builds and
its squares, the leading rows divided by the rule's sd. Written into buffers that outlive
one parameter, they cost no fresh pages from the system per build (the values are the same
as in new arrays); each is at most the size of the largest temporary it replaces.

A buffer's contents are valid until the next request of the same name. Names are shared by
uses that never overlap (``"block"`` and ``"square"``: a block of one build's rows in the
pass and its squares, then the top direction's and the spectrum's blocks, each read and
dropped before the next is written); a function holds a name only while it runs and hands
back no view of it, but for the pass's leading rows (``"lead"``), read by the same build's
checks that follow it.
"""

from __future__ import annotations

import threading

import numpy as np
from numpy.typing import NDArray

#: The smallest buffer allocated (entries): small requests share one allocation.
MIN_ENTRIES = 1 << 15


class Scratch(threading.local):
    """The work buffers of one thread, by name (a worker with several threads reduces one
    chunk at a time, but buffers are never shared)."""

    def __init__(self) -> None:
        self.buffers: dict[str, NDArray[np.float64]] = {}
        self.indices: dict[str, NDArray[np.intp]] = {}

    def get(self, name: str, size: int) -> NDArray[np.float64]:
        """The first ``size`` entries of the float64 buffer ``name`` (grown when shorter)."""
        b = self.buffers.get(name)
        if b is None or b.size < size:
            b = self.buffers[name] = np.empty(max(size, MIN_ENTRIES))
        return b[:size]

    def index(self, name: str, size: int) -> NDArray[np.intp]:
        """The first ``size`` entries of the index buffer ``name`` (grown when shorter)."""
        b = self.indices.get(name)
        if b is None or b.size < size:
            b = self.indices[name] = np.empty(max(size, MIN_ENTRIES), dtype=np.intp)
        return b[:size]


#: This process's buffers (one set per thread).
SCRATCH = Scratch()
