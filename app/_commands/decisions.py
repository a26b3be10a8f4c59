"""``weight-init decisions FILE``: what a decision log adds up to.

Reads the file a run wrote with ``WEIGHT_INIT_DECISION_LOG`` (or pytest's
``--weight-init-decision-log``) and prints its decisions as markdown tables: the sum of the
levels of the Holm decisions that did not reject (a bound on the chance that a fresh set of
cases holds a false alarm), per level and per context (a test's id), and the decisions that
rejected (:mod:`weight_init.properties._decision_log`). Exit 0; 2 on a file that is not a
decision log.
"""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "decisions",
        help="sum the levels of the statistical decisions in a decision log: a bound on the "
        "chance that a run's fresh cases hold a false alarm",
        description="Read a decision log (WEIGHT_INIT_DECISION_LOG=FILE, or pytest "
        "--weight-init-decision-log FILE) and print, as markdown, the decisions that did not "
        "reject per level and per context with the sum of their levels, and the decisions "
        "that rejected.",
    )
    p.add_argument("log", metavar="FILE", help="the decision log a run wrote")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from weight_init.properties._decision_log import read_log, summarize

    print(summarize(read_log(args.log)).to_markdown())
    return 0
