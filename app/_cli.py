"""The ``weight-init`` command line.

Each subcommand lives in its own module under :mod:`weight_init.app._commands`
and exposes ``register(subparsers)``, which adds its parser and sets
``run=callable(args) -> exit code``. Exit codes: 0 success, 1 a check that ran
and did not conform, 2 usage or bad input (one line on stderr, no traceback); 130 on
Ctrl-C, 143 on SIGTERM and 141, silently, when the reader of stdout went away (a pipe into
``head``).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any, NoReturn

from weight_init.errors import InternalError, UsageError, WeightInitError

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = (
    "experiment",
    "check",
    "check-forward",
    "identify",
    "report",
    "audit",
    "propagate",
    "calibrate",
    "decisions",
)

EXIT_OK = 0
EXIT_NONCONFORMING = 1
EXIT_USAGE = 2
#: The reader of our stdout went away (``weight-init check --json | head -1``): stop quietly
#: with the status of a process ended by SIGPIPE, as other command-line tools do.
EXIT_BROKEN_PIPE = 128 + 13


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are a :class:`UsageError`, not usage text and ``exit(2)``."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def build_parser(command: str | None = None) -> OneLineParser:
    """The ``weight-init`` parser. ``command``, a name in :data:`COMMANDS`: register that
    subcommand only (what :func:`main` does when argv names one, so a command imports its
    own module and nothing of the others'; ``weight-init check`` hands off to its child
    process without importing numpy). Otherwise (``--help``, ``--version``, a misspelt
    command) every subcommand, so the usage lists them all."""
    parser = OneLineParser(
        prog="weight-init",
        description="Reference implementation and property-based verification of "
        "neural-network weight initialization.",
    )
    from weight_init import __version__

    parser.add_argument("--version", action="version", version=f"weight-init {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for name in (command,) if command in COMMANDS else COMMANDS:
        module = importlib.import_module(f"weight_init.app._commands.{name.replace('-', '_')}")
        module.register(sub)
    return parser


def _on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM (``timeout``, ``docker stop``, CI cancellation): remove the report's staging
    directory, kill the processes we started (the check's child, the report's workers), say
    so in one line, exit 128 + 15.

    Done here and ended with ``os._exit`` rather than by raising: an exception raised at an
    arbitrary point can be swallowed (a finalizer, an at-fork hook) or leave a lock held
    (a process pool), so unwinding is not reliable. Only modules already loaded are used."""
    writer = sys.modules.get("weight_init.reports._output_dir")
    if writer is not None:
        writer.abort_staged()
    for pid in _child_pids():  # the check's child, the report's workers: nothing outlives us
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    os.write(2, f"weight-init: terminated by {signal.Signals(signum).name}\n".encode())
    os._exit(128 + signum)


def _child_pids() -> set[int]:
    """Our direct children: from /proc (Linux; includes a worker forked a moment ago) and
    from multiprocessing's registry."""
    pids: set[int] = set()
    with contextlib.suppress(OSError):
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/children") as f:
                pids.update(int(p) for p in f.read().split())
    mp = sys.modules.get("multiprocessing")
    if mp is not None:
        pids.update(p.pid for p in mp.active_children() if p.pid)
    return pids


_previous: list[Any] = []

#: The arguments of the running :func:`main` (for the reproduction command of an internal
#: error, :mod:`weight_init.app._faults`).
invoked: list[str] | None = None


def _install() -> None:
    if threading.current_thread() is threading.main_thread():
        _previous.append(signal.signal(signal.SIGTERM, _on_sigterm))


def _restore() -> None:
    while _previous:
        signal.signal(signal.SIGTERM, _previous.pop())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``weight-init`` command line; returns the exit code.

    Bad input (any :class:`~weight_init.errors.WeightInitError`, a usage error, running out
    of memory) is one line on stderr and exit code 2, never a traceback; so is a fault in
    weight-init's own code (an internal error, said as such with a command that reproduces
    it, :mod:`weight_init.app._faults`); an interrupt is exit code 130, a closed stdout pipe
    141 (silently). ``weight-init COMMAND --help`` describes each command (``docs/cli.md``).

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0: success (the code under test conforms); 1: it does not conform; 2: bad input or
        an internal error; 130: interrupted; 141: stdout closed.

    Examples
    --------
    >>> from weight_init.app import main
    >>> main(["experiment", "--scheme", "xavier", "--depth", "2", "--width", "50",
    ...       "--samples", "100", "--input-dim", "50"])
    Hidden layer 1 had mean ... and std 0.6...
    Hidden layer 2 had mean ... and std 0.4...
    0
    >>> main(["experiment", "--scheme", "no_such_scheme"])  # one line on stderr
    2
    """
    global invoked
    argv = list(sys.argv[1:] if argv is None else argv)
    invoked = argv
    _install()
    try:
        parser = build_parser(argv[0] if argv else None)
        args = parser.parse_args(argv)
        if getattr(args, "run", None) is None:
            raise UsageError("weight-init: no command given; run 'weight-init --help'")
        code: int = args.run(args)
        sys.stdout.flush()  # a closed pipe is said here, not at interpreter exit
        return code
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except WeightInitError as exc:
        _say(exc)
        return EXIT_USAGE
    except MemoryError as exc:
        print(f"weight-init: error: out of memory ({exc or 'MemoryError'})", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("weight-init: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # our own fault: said as such, with how to reproduce it
        if _interrupted(exc):  # e.g. an import that a Ctrl-C cut short: an ImportError
            print("weight-init: interrupted", file=sys.stderr)
            return 130
        from weight_init.app._faults import internal_error

        _say(internal_error(exc))
        return EXIT_USAGE
    finally:
        _restore()


def _interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` was raised while handling, or because of, a ``KeyboardInterrupt``."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def _say(exc: WeightInitError) -> None:
    """The one line of a bad input (or of an internal error) on stderr."""
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, InternalError):
        print(f"weight-init: {message}", file=sys.stderr)
    elif isinstance(exc, UsageError):
        print(_usage_line(message), file=sys.stderr)
    else:
        print(f"weight-init: error: {message}", file=sys.stderr)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush finds no closed pipe."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _usage_line(message: str) -> str:
    prog, sep, rest = message.partition(": ")
    return f"{prog}: error: {rest}" if sep else f"weight-init: error: {message}"


def run() -> NoReturn:
    sys.exit(main())


if __name__ == "__main__":
    run()
