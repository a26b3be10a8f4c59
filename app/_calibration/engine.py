"""Run tasks on a ``concurrent.futures`` executor and store each record as it finishes.

One code path serves both engines: :func:`open_executor` yields a
:class:`concurrent.futures.ProcessPoolExecutor` (local worker processes, no server) or, for
``--scheduler tcp://HOST:PORT``, ``distributed.Client(address).get_executor()``, Dask's
``concurrent.futures`` executor over an existing cluster (a task whose worker dies is
rescheduled by the Dask scheduler). At most ``window`` tasks are in flight, so an
interruption loses at most those; records go to the store in completion order.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from contextlib import contextmanager
from typing import Any

from weight_init.app._calibration.records import RunStore
from weight_init.app._calibration.tasks import Task, run_task
from weight_init.errors import DaskMissingError, EngineError, install_hint
from weight_init.reports._parallel import available_cpus, bounded_workers, process_pool

DASK_HINT = f"--scheduler needs dask.distributed: {install_hint('dask')}"


def default_workers() -> int:
    """The cores this process may run on."""
    return available_cpus()


@contextmanager
def open_executor(
    workers: int | None,
    scheduler: str | None,
    tasks: int | None = None,
    notice: Callable[[str], None] | None = None,
) -> Iterator[tuple[Executor, int]]:
    """``(executor, slots)``: local processes or a Dask cluster at ``scheduler``; ``slots`` is
    how many tasks run at once. Local processes: ``workers`` (default the core count), never
    more than ``tasks`` nor the cores (a larger ``workers`` is said through ``notice``,
    :func:`~weight_init.reports._parallel.bounded_workers`); they die with this process and
    are killed, not waited for, on an interrupt
    (:func:`~weight_init.reports._parallel.process_pool`)."""
    if scheduler is None:
        requested = workers or default_workers()
        n = bounded_workers(requested, requested if tasks is None else tasks, notice)
        with process_pool(n) as pool:
            yield pool, n
        return
    try:
        from distributed import Client
    except ImportError:
        raise DaskMissingError(DASK_HINT) from None
    try:
        client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise EngineError(f"cannot reach the scheduler at {scheduler}: {exc}") from None
    try:
        slots = sum(client.nthreads().values()) or 1
        yield client.get_executor(pure=False), slots
    finally:
        client.close()


def run_tasks(
    executor: Executor,
    tasks: Sequence[Task],
    store: RunStore,
    *,
    window: int,
    progress: bool = True,
) -> int:
    """Submit ``tasks`` (at most ``window`` in flight), append each record when it finishes;
    returns the number recorded. A tqdm bar with ETA goes to stderr."""
    from tqdm import tqdm

    todo = iter(tasks)
    pending: set[Future[dict[str, Any]]] = set()
    recorded = 0
    bar = tqdm(
        total=len(tasks), desc="calibrate", unit="task", file=sys.stderr, disable=not progress
    )

    def refill() -> None:
        while len(pending) < window:
            task = next(todo, None)
            if task is None:
                return
            pending.add(executor.submit(run_task, task))

    try:
        refill()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                pending.discard(future)
                try:
                    record = future.result()
                except Exception as exc:
                    raise EngineError(
                        f"a worker failed ({type(exc).__name__}: {exc}); the records so far "
                        "are kept: rerun with --resume"
                    ) from None
                store.append(record)
                recorded += 1
                bar.update(1)
            refill()
    finally:
        for future in pending:
            future.cancel()
        bar.close()
    return recorded
