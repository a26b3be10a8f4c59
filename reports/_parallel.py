"""Where a report's independent pieces run: a pool of worker processes, or inline.

A report is a set of independent computations (each experiment, the phase diagram,
the property suite, each figure), every one seeded from the configuration alone, so
its result does not depend on which process runs it or in what order: the pool only
changes the wall time. Results are collected in submission order.

:func:`worker_pool` gives a :class:`concurrent.futures.ProcessPoolExecutor` of
``jobs`` workers (default: ``$WEIGHT_INIT_JOBS``, else the CPUs this process may
use, at most 2) started by ``fork`` where the platform has it (workers inherit the
imported modules; no re-import), else by the platform's default. With ``jobs == 1`` the
work runs inline in this process through :class:`InlineExecutor`.

Resources are bounded by the work and the machine (:func:`bounded_workers`): never more
workers than tasks, nor than the CPUs this process may use (a larger request is capped,
with a one-line notice). Every worker (:func:`process_pool`, also the engine of
``weight-init calibrate``) runs numpy's BLAS on one thread (``threadpoolctl``), ignores
SIGINT (the parent decides what an interrupt stops) and dies with its parent, even one
killed by SIGKILL (:func:`die_with_parent`); on an exception or ``KeyboardInterrupt`` in the
parent the workers are killed rather than waited for, so an interrupt stops the run at once.
A Ctrl-C pressed while the workers are being forked is held (:func:`interrupts_held`): a
worker starts with SIGINT blocked and discards it once it ignores it, the parent receives
it when the forks are done, so no worker dies half-started and the pool never breaks.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

#: Workers used when the caller does not say (a report has about ten pieces of a second).
MAX_JOBS = 2

#: Linux ``prctl`` option: the signal a process receives when its parent dies.
_PR_SET_PDEATHSIG = 1


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


def bounded_workers(
    requested: int,
    tasks: int,
    notice: Callable[[str], None] | None = None,
    flag: str = "--workers",
) -> int:
    """Workers actually started for ``requested`` and ``tasks`` independent tasks: at most
    the tasks (an idle worker is only memory) and at most :func:`available_cpus` (more
    processes than cores only share them). A request above the CPUs is said through
    ``notice`` in one line; at least 1."""
    cpus = available_cpus()
    n = max(1, requested)
    if n > cpus:
        if notice is not None:
            notice(f"{flag} {requested}: this machine lets us use {cpus} CPUs; using {cpus}")
        n = cpus
    return max(1, min(n, tasks))


def stderr_notice(prefix: str) -> Callable[[str], None]:
    """A ``notice`` for :func:`bounded_workers` printing ``PREFIX: message`` on stderr."""

    def notice(message: str) -> None:
        print(f"{prefix}: {message}", file=sys.stderr, flush=True)

    return notice


def die_with_parent(parent: int | None = None) -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux ``prctl``
    ``PR_SET_PDEATHSIG``; elsewhere a no-op). ``parent``: the pid the caller expects as
    its parent; if it already died before the request took effect, exit now."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def single_blas_thread() -> None:
    """Limit numpy's BLAS to one thread in this process (``threadpoolctl``).

    Why: a matrix product's last bits depend on OpenBLAS's thread count (it blocks
    the inner sum differently), so a report computed with one thread everywhere is
    the same on every machine with the same BLAS kernel, whatever its core count
    and whichever process computed each piece; and two single-threaded workers do
    not fight over two cores."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def worker_init(parent: int) -> None:
    """Initializer of every pool worker: die with ``parent``, leave SIGINT to the parent,
    one BLAS thread."""
    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # forked under interrupts_held: pending SIGINT dropped
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    single_blas_thread()


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Block SIGINT in this thread for the body (a Ctrl-C meanwhile stays pending and is
    delivered when the body ends). A process forked in the body starts with it blocked,
    so it cannot be interrupted before it has set its own handling (:func:`worker_init`
    ignores it, then unblocks it). Outside the main thread, or where the platform has no
    signal masks: the body as is."""
    if not hasattr(signal, "pthread_sigmask") or (
        threading.current_thread() is not threading.main_thread()
    ):
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the body with one BLAS thread, restoring the previous count after."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def kill_workers(pool: ProcessPoolExecutor) -> None:
    """SIGKILL every worker of ``pool`` (their pieces are lost; the pool is unusable)."""
    processes = getattr(pool, "_processes", None) or {}
    for proc in list(processes.values()):
        with contextlib.suppress(OSError, AttributeError, ValueError):
            proc.kill()


@contextlib.contextmanager
def process_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A :class:`ProcessPoolExecutor` of ``workers`` processes (``fork`` where the platform
    has it) whose workers run :func:`worker_init`; shut down on exit, its workers killed
    at once when the body raises (``KeyboardInterrupt`` included)."""
    methods = multiprocessing.get_all_start_methods()
    fork = "fork" in methods
    context = multiprocessing.get_context("fork" if fork else None)
    pool = ProcessPoolExecutor(
        workers, mp_context=context, initializer=worker_init, initargs=(os.getpid(),)
    )
    try:
        if fork:  # the first submission forks every worker: with Ctrl-C held meanwhile
            with interrupts_held():
                pool.submit(os.getpid)
        yield pool
    except BaseException:
        kill_workers(pool)
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


@contextlib.contextmanager
def worker_pool(jobs: int | None = None, tasks: int | None = None) -> Iterator[Executor]:
    """An executor of ``jobs`` processes (None: :func:`default_jobs`), no more than ``tasks``
    nor the CPUs available (:func:`bounded_workers`); inline, on one BLAS thread, for 1."""
    n = default_jobs() if jobs is None else jobs
    n = bounded_workers(n, n if tasks is None else tasks)
    if n <= 1:
        with one_blas_thread():
            yield InlineExecutor()
        return
    with process_pool(n) as pool:
        yield pool
