"""Where a report's independent pieces run: a pool of worker processes, or inline.

A report is a set of independent computations (each experiment, the phase diagram,
the property suite, each figure), every one seeded from the configuration alone, so
its result does not depend on which process runs it or in what order: the pool only
changes the wall time. Results are collected in submission order.

:func:`worker_pool` gives a :class:`concurrent.futures.ProcessPoolExecutor` of
``jobs`` workers (default: ``$WEIGHT_INIT_JOBS``, else the CPUs this process may
use, at most 2) started by
``fork`` where the platform has it (workers inherit the imported modules; no
re-import), else by the platform's default; each worker restricts numpy's
OpenBLAS to one thread (:func:`single_blas_thread`). With ``jobs == 1`` the work
runs inline in this process through :class:`InlineExecutor`, also on one BLAS thread.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

#: Workers used when the caller does not say (a report has about ten pieces of a second).
MAX_JOBS = 2


class InlineExecutor(Executor):
    """An :class:`~concurrent.futures.Executor` that runs each call at submission."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # re-raised by future.result(), as a pool would
            future.set_exception(exc)
        return future


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the platform has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


#: Environment variable that sets the number of workers (``1``: everything in-process).
JOBS_ENV = "WEIGHT_INIT_JOBS"


def default_jobs() -> int:
    """``$WEIGHT_INIT_JOBS`` when set to a positive integer, else min(2, available CPUs)."""
    text = os.environ.get(JOBS_ENV, "").strip()
    if text.isdigit() and int(text) > 0:
        return int(text)
    return max(1, min(MAX_JOBS, available_cpus()))


def _openblas() -> Any:
    """numpy's bundled scipy-openblas library (ctypes), or None."""
    import numpy as np

    libdir = Path(np.__file__).parent.parent / "numpy.libs"
    for path in sorted(glob.glob(str(libdir / "libscipy_openblas*.so*"))):
        try:
            return ctypes.CDLL(path)
        except OSError:
            continue
    return None


def _blas_call(name: str, *args: int) -> int | None:
    lib = _openblas()
    for suffix in ("64_", ""):
        fn = getattr(lib, f"scipy_openblas_{name}{suffix}", None) if lib is not None else None
        if fn is not None:
            return int(fn(*args) or 0)
    return None


def single_blas_thread() -> None:
    """Limit numpy's bundled OpenBLAS to one thread in this process (no-op without it).

    Why: a matrix product's last bits depend on OpenBLAS's thread count (it blocks
    the inner sum differently), so a report computed with one thread everywhere is
    the same on every machine with the same BLAS kernel, whatever its core count
    and whichever process computed each piece; and two single-threaded workers do
    not fight over two cores."""
    _blas_call("set_num_threads", 1)


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the body with one OpenBLAS thread, restoring the previous count after."""
    before = _blas_call("get_num_threads")
    single_blas_thread()
    try:
        yield
    finally:
        if before:
            _blas_call("set_num_threads", before)


@contextlib.contextmanager
def worker_pool(jobs: int | None = None) -> Iterator[Executor]:
    """An executor of ``jobs`` processes (None: :func:`default_jobs`); inline for 1."""
    n = default_jobs() if jobs is None else jobs
    if n <= 1:
        with one_blas_thread():
            yield InlineExecutor()
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    pool = ProcessPoolExecutor(n, mp_context=context, initializer=single_blas_thread)
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
