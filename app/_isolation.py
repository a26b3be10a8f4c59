"""Run code under test in a child process; the parent decides the outcome.

Everything the user supplies (the module of ``MODULE:ATTR``, the initializer, the
forward_prop, a framework adapter) is untrusted: it may raise ``SystemExit(0)``, call
``os._exit(0)``, kill itself with a signal, segfault, print ``PASS``, or never return. So
the application layer (``weight-init check``, ``check-forward``, ``identify``,
``report --check`` and the pytest plugin's items) runs it through :func:`run_isolated`:

* the child is a fresh interpreter (``multiprocessing`` *spawn* context: no forked
  state, safe with torch's and BLAS's threads), or, when the parent is the bare command
  line -- Linux, one thread, none of numpy, scipy or a framework imported (``weight-init
  check`` hands off before importing them) -- a *fork* of it, which shares nothing a
  fresh interpreter would not have and starts without an interpreter's start-up and
  re-imports (about 0.1 s of a command that should take 0.3 s beyond its imports; see
  :func:`start_method`); on Linux, when the parent has imported numpy or a framework (the
  pytest plugin, a test calling ``main``, the report's pool), a fork of a *forkserver*: a
  fresh single-threaded interpreter, started once per parent, that has imported numpy,
  scipy.special, the checks and (when the parent has it) torch and nothing else, so each
  child starts without re-importing them (about 2 s of CPU per child with torch). Such a
  child gets the parent's environment and standard error of the moment it starts, as a
  spawned one would (:data:`PRELOAD`). The child's ``stdout`` is redirected to ``stderr``
  at start, so whatever the code under test prints never mixes with the command's own
  output (``--json`` stays parseable), and SIGTERM gets its default action back (a forked
  child would otherwise run the command line's handler);
* the child sends back exactly one structured message on a private pipe: ``("ok",
  value)`` (the pickled result object, e.g. a
  :class:`~weight_init.properties._results.Verdict`) or ``("error", class path,
  message)`` for an exception;
* the parent waits at most ``timeout`` seconds for that message -- or, when the work reports
  progress (:func:`beat`: the audit after each build and each parameter), at most
  ``timeout`` seconds *between* reports: the limit bounds a stuck step, not a long run of
  steps that each finish, and the message says which step it waited for. The verdict -- and so
  the exit code -- comes only from the message; the child's exit code and output are
  never read as a result. No message means the run failed: the child exited (whatever
  its code, 0 included), was killed by a signal, crashed, or timed out (then it is
  killed). Each is a :class:`~weight_init.errors.SubjectAbortedError` (one line, exit 2
  on the command line), never a pass.

The threat model is accidental misbehaviour, not an adversary: code that deliberately
forges the message on the pipe could still fake a result.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

from weight_init.errors import (
    InternalError,
    SubjectAbortedError,
    SubjectTimeoutError,
    WeightInitError,
    describe_exception,
)

#: Default ``--timeout`` in seconds: the first ``import torch`` alone can take tens of
#: seconds on a cold, loaded machine, and a check of a slow initializer a minute more.
DEFAULT_TIMEOUT = 300.0

#: Seconds the child gets to exit after it has sent its result, and after SIGTERM.
_GRACE = 5.0

#: Top-level packages whose presence in the parent rules out *fork*: they start threads
#: (BLAS, OpenMP, torch's and JAX's pools) or hold state a forked child must not share.
FORK_UNSAFE = ("numpy", "scipy", "torch", "jax", "jaxlib", "tensorflow", "keras", "matplotlib")


def start_method() -> str:
    """``"fork"`` when forking is as clean as a fresh interpreter -- Linux, the main thread
    only, none of :data:`FORK_UNSAFE` imported (the command line before it hands off) --
    else, on Linux, ``"forkserver"`` (the report's pool, the pytest plugin, any caller that
    has imported numpy or a framework: children forked from a clean, preloaded server).
    macOS and Windows always spawn."""
    if not sys.platform.startswith("linux"):
        return "spawn"
    if threading.active_count() != 1 or any(name in sys.modules for name in FORK_UNSAFE):
        return "forkserver"
    return "fork"


#: Modules the forkserver imports before it forks any child (and ``torch`` when the parent
#: has imported it): what every child would import anyway. A module that fails to import
#: is left to the child, which then imports it itself.
PRELOAD = (
    "numpy",
    "scipy.special",
    "tqdm",
    "weight_init.app._child_tasks",
    "weight_init.app._faults",
    "weight_init.reports._parallel",
    "weight_init.properties.conformance._runner",
    "weight_init.properties.conformance._adapters",
)


def _context(method: str) -> Any:
    """The multiprocessing context of ``method``; the forkserver's preloads set first (they
    take effect when the server starts: at this process's first forkserver child)."""
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":
        extra = ("torch",) if "torch" in sys.modules else ()
        ctx.set_forkserver_preload([*PRELOAD, *extra])
    return ctx


@atexit.register
def _reap_forkserver() -> None:
    """At this process's exit: end the forkserver and wait for it (at most :data:`_GRACE`
    seconds), so that the CPU time of the children it forked and waited for counts among
    this process's children (``time weight-init ...``, ``getrusage``) instead of leaving
    with a server nobody waits for. Its children have ended by then: each was waited for,
    or killed, by :func:`run_isolated`. Nothing when this process started no forkserver."""
    forkserver = sys.modules.get("multiprocessing.forkserver")  # imported by one that started
    server: Any = getattr(forkserver, "_forkserver", None)
    pid = getattr(server, "_forkserver_pid", None)
    fd = getattr(server, "_forkserver_alive_fd", None)
    if pid is None or fd is None:
        return
    with contextlib.suppress(OSError):
        os.close(fd)  # the server ends when this end closes
    server._forkserver_alive_fd = None
    deadline = time.monotonic() + _GRACE
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done:
            server._forkserver_pid = None
            return
        time.sleep(0.01)


def _release_forkserver() -> None:
    """In a forkserver's child: close the copy of the caller's "alive" pipe end that
    multiprocessing hands every such child. The server ends when every copy is closed:
    while a child holds one, a caller killed by SIGKILL leaves the server running, and the
    child with it. Closed, the server ends with the caller and the child with the server
    (``die_with_parent``). The child starts no forkserver child of its own."""
    from multiprocessing import forkserver

    server: Any = getattr(forkserver, "_forkserver", None)
    fd = getattr(server, "_forkserver_alive_fd", None)
    if server is not None and fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)
        server._forkserver_alive_fd = None


def _thread_lock_for_bars() -> None:
    """In a forkserver's child: progress bars (tqdm, the audit's) lock their writes with a
    thread lock. tqdm's default is a multiprocessing lock, which in a forkserver's child is a
    named semaphore registered with the caller's resource tracker: a child killed at its
    timeout never unregisters it, and the caller's tracker then warns of a leaked semaphore
    on the user's terminal when the caller exits. The child draws no bar from a process of
    its own that would need the other lock. (A child started by fork or spawn is not
    concerned: its semaphores are unlinked at once or have no tracker of the caller's.)"""
    tqdm = sys.modules.get("tqdm")  # preloaded by the server when installed
    if tqdm is not None:
        tqdm.tqdm.set_lock(threading.RLock())


class _InheritedFd:
    """A file descriptor of the parent that the child receives as its own (``DupFd``: passed
    to a forkserver's child over its socket, kept open for a spawned one), an ``int`` there."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __reduce__(self) -> tuple[Any, tuple[Any]]:
        from multiprocessing import reduction

        return (_received_fd, (reduction.DupFd(self.fd),))


def _received_fd(dup: Any) -> int:
    return int(dup.detach())


#: The child's end of the pipe, while the child runs its target (for :func:`beat`).
_CONN: Connection | None = None


def beat(step: str) -> None:
    """In the child: report that one step finished (``step`` names the next one, e.g.
    ``"build 3 of 40"``); the parent's timeout starts again. Outside a child: nothing."""
    if _CONN is not None:
        _CONN.send(("beat", step))


def _child(
    conn: Connection,
    target: str,
    kwargs: dict[str, Any],
    parent: int | None,
    env: dict[str, str] | None = None,
    stderr: int | None = None,
) -> None:
    """Child main: run ``target`` (``"module:function"``) and send one message back. The
    child dies with ``parent`` (even one killed by SIGKILL; ``None``: with the forkserver it
    was forked from, which ends when the parent does). ``env`` and ``stderr`` (a forkserver's
    child): the parent's environment and standard error, in place of the server's."""
    from weight_init.reports._parallel import die_with_parent

    global _CONN
    _CONN = conn
    die_with_parent(parent)
    if parent is None:
        _release_forkserver()
        _thread_lock_for_bars()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # forked: not the command line's handler
    if env is not None:
        os.environ.clear()
        os.environ.update(env)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        if stderr is not None:
            os.dup2(stderr, 2)
            os.close(stderr)
        os.dup2(2, 1)  # the code under test prints to stderr, never into our stdout
    except OSError:
        pass
    try:
        module, _, name = target.partition(":")
        fn = getattr(importlib.import_module(module), name)
        value = fn(**kwargs)
    except SystemExit as exc:
        _send(conn, ("exit", f"raised SystemExit({exc.code!r})"))
    except WeightInitError as exc:
        _send(conn, ("error", f"{type(exc).__module__}:{type(exc).__qualname__}", str(exc)))
    except Exception as exc:
        from weight_init.app import _faults as faults

        if faults.raised_by_us(exc):
            tb = "".join(traceback.format_exception(exc))
            _send(conn, ("internal", describe_exception(exc), faults.where(exc), tb))
        else:
            _send(conn, ("raised", f"raised {describe_exception(exc)}"))
    except BaseException as exc:  # reported, never a result
        _send(conn, ("raised", f"raised {describe_exception(exc)}"))
    else:
        try:
            conn.send(("ok", value))
        except OSError:
            os._exit(_PIPE_LOST)
        except Exception as exc:  # an unpicklable result is our bug, said in one line
            _send(conn, ("internal", f"the result could not be sent back ({exc})", target, ""))
    with contextlib.suppress(OSError):
        conn.close()


#: Exit code of a child whose result pipe was closed under it (by the code under test).
_PIPE_LOST = 70


def _send(conn: Connection, message: tuple[Any, ...]) -> None:
    """Send ``message``; a pipe the code under test closed ends the child quietly (no
    traceback of ours on the user's terminal), with :data:`_PIPE_LOST`."""
    try:
        conn.send(message)
    except (OSError, ValueError):
        os._exit(_PIPE_LOST)


#: Longest single wait on the pipe (``poll`` takes at most about 2.1e6 s at once).
_POLL_SLICE = 3600.0


def _wait(conn: Connection, timeout: float | None) -> bool:
    """``conn.poll(timeout)`` for any timeout, ``None`` or ``inf`` meaning no limit."""
    limit = float("inf") if timeout is None else timeout
    deadline = time.monotonic() + limit
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return conn.poll(0)
        if conn.poll(min(remaining, _POLL_SLICE)):
            return True


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def _rebuild_error(path: str, message: str) -> WeightInitError:
    module, _, name = path.partition(":")
    try:
        cls = getattr(importlib.import_module(module), name)
        if isinstance(cls, type) and issubclass(cls, WeightInitError):
            return cls(message)
    except Exception:
        pass
    return SubjectAbortedError(message)


def run_isolated(
    target: str,
    what: str,
    timeout: float | None = DEFAULT_TIMEOUT,
    *,
    daemon: bool = True,
    **kwargs: Any,
) -> Any:
    """Call ``target(**kwargs)`` (``target`` = ``"module:function"``, picklable ``kwargs``)
    in a child process (:func:`start_method`) and return its result.

    ``what`` names the code under test in messages ("the initializer myinit:he"). Raises the
    child's :class:`~weight_init.errors.WeightInitError` again in the parent (bad input), or
    :class:`~weight_init.errors.SubjectAbortedError` when the child produced no result:
    it exited, was killed by a signal, crashed or raised something else;
    :class:`~weight_init.errors.SubjectTimeoutError` after ``timeout`` seconds (``None``
    or ``inf``: no limit).
    ``daemon=False`` lets the child start processes of its own (the audit's ``--workers``);
    it is stopped the same way, and its pool's workers end when their pipe to it closes.
    """
    method = start_method()
    ctx = _context(method)
    parent_conn, child_conn = ctx.Pipe(duplex=False)
    args: tuple[Any, ...] = (child_conn, target, kwargs, os.getpid())
    if method == "forkserver":
        args = (child_conn, target, kwargs, None, dict(os.environ), _InheritedFd(2))
    proc = ctx.Process(target=_child, args=args, daemon=daemon)
    proc.start()
    child_conn.close()
    message: tuple[Any, ...] | None = None
    step = ""
    try:
        while True:
            if not _wait(parent_conn, timeout):
                if proc.is_alive():
                    waited = (
                        f"no progress for {timeout:g} s while running {step} (--timeout bounds "
                        "each step)"
                        if step
                        else f"no result after {timeout:g} s (--timeout)"
                    )
                    raise SubjectTimeoutError(
                        f"{what} timed out: {waited}; the child process was killed"
                    )
                break
            try:
                message = parent_conn.recv()
            except (EOFError, OSError):
                message = None
                break
            if isinstance(message, tuple) and message and message[0] == "beat":
                step, message = str(message[1]), None
                continue
            proc.join(_GRACE)
            break
        proc.join(_GRACE)
    finally:
        _stop(proc)
        parent_conn.close()
    if message is None:
        code = proc.exitcode
        if code == _PIPE_LOST:
            raise SubjectAbortedError(
                f"{what} closed the check's result pipe (a file descriptor of the check's "
                "process) before the check returned; no verdict"
            )
        if code is not None and code < 0:
            raise SubjectAbortedError(
                f"{what} crashed: the check's process was killed by {_signal_name(code)}; "
                "no verdict"
            )
        raise SubjectAbortedError(
            f"{what} exited (exit code {code}) before the check returned; no verdict"
        )
    kind = message[0]
    if kind == "ok":
        return message[1]
    if kind == "error":
        raise _rebuild_error(message[1], message[2])
    if kind == "internal":
        from weight_init.app import _faults as faults

        faults.show_traceback(message[3])
        raise InternalError(faults.internal_message(message[1], message[2]))
    if kind == "exit":
        raise SubjectAbortedError(f"{what} exited ({message[1]}) during the check; no verdict")
    raise SubjectAbortedError(f"{what} {message[1]} during the check; no verdict")


def _stop(proc: Any) -> None:
    """Make sure the child is gone: SIGTERM, then SIGKILL."""
    if proc.is_alive():
        proc.terminate()
        proc.join(_GRACE)
    if proc.is_alive():
        proc.kill()
        proc.join(_GRACE)


def picklable(obj: Any) -> bool:
    """True when ``obj`` can be sent to a child process: it pickles (a module-level function)
    and its module can be imported there (found on ``sys.path``, not ``__main__``)."""
    import importlib.util
    import pickle

    module = getattr(obj, "__module__", None)
    try:
        pickle.dumps(obj)
        if module is None or module == "__main__" or importlib.util.find_spec(module) is None:
            return False
    except Exception:
        return False
    return True
