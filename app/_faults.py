"""Whose fault is an exception: the code under test's, or weight-init's own?

Every call into code under test (the user's module when it is imported, the initializer,
the forward_prop, a model factory) is wrapped where it is made, and its exceptions become a
:class:`~weight_init.errors.WeightInitError` naming the call. So an exception of another type
that reaches the top of a check is, by construction, raised by weight-init's own code: an
overflow in a statistic, a Hypothesis error, a failed internal assertion. As a second
safeguard :func:`raised_by_us` reads the traceback: the innermost frame that is not in the
standard library or one of weight-init's own dependencies (numpy, scipy, Hypothesis,
matplotlib, tqdm, threadpoolctl) must be in weight-init's package; a frame of any other
file (the user's module, a framework) makes the exception the code under test's.

An exception that is ours becomes :class:`~weight_init.errors.InternalError`: one line with
where it was raised and a command that reproduces it; the command line exits 2, no verdict.
``WEIGHT_INIT_TRACEBACK=1`` prints the traceback as well.
"""

from __future__ import annotations

import os
import shlex
import sys
import sysconfig
import traceback

from weight_init.errors import InternalError, describe_exception

#: Set to 1 to print the traceback of an internal error.
TRACEBACK_ENV = "WEIGHT_INIT_TRACEBACK"

#: Packages weight-init's own code calls into: a frame there is not the code under test's.
_LIBRARIES = ("numpy", "scipy", "hypothesis", "matplotlib", "tqdm", "threadpoolctl")


def _package_dirs() -> tuple[str, ...]:
    """The folders weight-init's modules live in (four folders in a source checkout)."""
    names = ("weight_init", "weight_init.properties", "weight_init.reports", "weight_init.app")
    dirs = []
    for name in names:
        module = sys.modules.get(name)
        path = getattr(module, "__file__", None)
        if path:
            dirs.append(os.path.dirname(os.path.realpath(path)) + os.sep)
    return tuple(dirs)


def _library_dirs() -> tuple[str, ...]:
    dirs = [sysconfig.get_paths()["stdlib"]]
    for name in _LIBRARIES:
        module = sys.modules.get(name)
        path = getattr(module, "__file__", None)
        if path:
            dirs.append(os.path.dirname(os.path.realpath(path)))
    return tuple(os.path.realpath(d) + os.sep for d in dirs)


def raised_by_us(exc: BaseException) -> bool:
    """Is the innermost frame of ``exc`` outside the standard library and weight-init's
    dependencies in weight-init's own package? (see the module docstring)"""
    ours, libraries = _package_dirs(), _library_dirs()
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = os.path.realpath(frame.filename)
        if path.startswith(ours):
            return True
        if not path.startswith(libraries) and not frame.filename.startswith("<"):
            return False
    return True


def where(exc: BaseException) -> str:
    """``file:line`` of the innermost frame in weight-init's package (or the innermost)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = _package_dirs()
    for frame in reversed(frames):
        if os.path.realpath(frame.filename).startswith(ours):
            return f"{os.path.basename(frame.filename)}:{frame.lineno}"
    return f"{os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else "?"


def command_line() -> str:
    """The command that reproduces this run: the ``weight-init`` command line when that is
    what runs (recorded by :func:`weight_init.app._cli.main`), else the Python call."""
    cli = sys.modules.get("weight_init.app._cli")
    argv = getattr(cli, "invoked", None)
    if argv is not None:
        return shlex.join(["weight-init", *argv])
    return shlex.join([os.path.basename(sys.executable), *sys.argv])


def internal_message(description: str, location: str, reproduce: str | None = None) -> str:
    """The one line of an internal error: what was raised where, and how to reproduce it."""
    return (
        "internal error in weight-init (not in the code under test, not in the input): "
        f"{description} at {location}; no verdict. Reproduce with: "
        f"{reproduce or command_line()} (set {TRACEBACK_ENV}=1 for the traceback) and report it"
    )


def show_traceback(text: str) -> None:
    """Print a traceback on stderr when :data:`TRACEBACK_ENV` asks for it."""
    if os.environ.get(TRACEBACK_ENV, "") not in ("", "0"):
        sys.stderr.write(text)


def internal_error(exc: BaseException) -> InternalError:
    """The :class:`InternalError` that reports ``exc``, raised in this process, as
    weight-init's bug."""
    show_traceback("".join(traceback.format_exception(exc)))
    return InternalError(internal_message(describe_exception(exc), where(exc)))
