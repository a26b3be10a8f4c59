"""The ``weight-init`` command line.

Each subcommand lives in its own module under :mod:`weight_init.app.commands`
and exposes ``register(subparsers)``, which adds its parser and sets
``run=callable(args) -> exit code``. Exit codes: 0 success, 1 a check that ran
and did not conform, 2 usage or bad input (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from weight_init.errors import WeightInitError

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = (
    "experiment",
    "check",
    "check-forward",
    "identify",
    "report",
    "audit",
    "calibrate",
)

EXIT_OK = 0
EXIT_NONCONFORMING = 1
EXIT_USAGE = 2


class UsageError(WeightInitError, ValueError):
    """A command-line usage error (bad flag, bad value, missing argument)."""


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are a :class:`UsageError`, not usage text and ``exit(2)``."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        prog="weight-init",
        description="Reference implementation and property-based verification of "
        "neural-network weight initialization.",
    )
    from weight_init import __version__

    parser.add_argument("--version", action="version", version=f"weight-init {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for name in COMMANDS:
        module = importlib.import_module(f"weight_init.app.commands.{name.replace('-', '_')}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``weight-init``; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if getattr(args, "run", None) is None:
            raise UsageError("weight-init: no command given; run 'weight-init --help'")
        code: int = args.run(args)
        return code
    except WeightInitError as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        prefix = "" if isinstance(exc, UsageError) else "weight-init: "
        print(f"{prefix}error: {message}" if prefix else _usage_line(message), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("weight-init: interrupted", file=sys.stderr)
        return 130


def _usage_line(message: str) -> str:
    prog, sep, rest = message.partition(": ")
    return f"{prog}: error: {rest}" if sep else f"weight-init: error: {message}"


def run() -> NoReturn:
    sys.exit(main())


if __name__ == "__main__":
    run()
