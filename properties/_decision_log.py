"""The decision log: every Holm decision of a run, one line each, and what they add up to.

When the environment variable ``WEIGHT_INIT_DECISION_LOG`` (:data:`LOG_ENV`) names a file,
every Holm decision of the package (a conformance check, a property verdict, a
``forward_prop`` check, a model audit, a propagation diagnosis, a calibration table) appends
one tab-separated line to it: its family-wise level, its number of tests, whether it
rejected, its smallest p-value, a context label (the value of
``WEIGHT_INIT_DECISION_CONTEXT``, :data:`CONTEXT_ENV`; the pytest plugin's
``--weight-init-decision-log FILE`` sets it to each test's id) and the module that decided.
Child processes inherit both variables, so the decisions of a check's child are logged too;
each line is one ``write`` to a file opened for appending, whole even from many processes.

:func:`summarize` reads a log back: a decision that did not reject can turn into a false
failure on a fresh set of cases (another seed, another draw) only by a false alarm, with
probability at most its level (Holm), so the sum of those levels bounds the chance that a
fresh run holds one (Bonferroni: any dependence). A decision that rejected is a detection
(or a failure) and is counted apart, with how far its smallest p-value lies below Holm's
first threshold. Decisions that re-decide recorded p-values (the calibration tables, which
assert no outcome) are not logged.

Examples
--------
>>> import os, tempfile
>>> from weight_init.properties._multiple_testing import holm_reject
>>> path = os.path.join(tempfile.mkdtemp(), "decisions.tsv")
>>> os.environ[LOG_ENV], os.environ[CONTEXT_ENV] = path, "example"
>>> holm_reject([0.2, 0.5], 1e-4), holm_reject([1e-12, 0.3], 1e-4)
([False, False], [True, False])
>>> del os.environ[LOG_ENV], os.environ[CONTEXT_ENV]
>>> s = summarize(read_log(path))
>>> (s.kept, s.total_level, len(s.rejected))
(1, 0.0001, 1)
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from weight_init.errors import InvalidParameterError

#: The environment variable naming the file every Holm decision is appended to.
LOG_ENV = "WEIGHT_INIT_DECISION_LOG"
#: The environment variable whose value labels each logged decision (e.g. a test's id).
CONTEXT_ENV = "WEIGHT_INIT_DECISION_CONTEXT"


@dataclass(frozen=True)
class Decision:
    """One logged Holm decision.

    Attributes
    ----------
    level : float
        The family-wise level Holm ran at.
    tests : int
        The number of p-values in the family.
    rejected : bool
        Whether any was rejected.
    smallest : float
        The smallest p-value (1 for an empty family).
    context : str
        The context label (``WEIGHT_INIT_DECISION_CONTEXT`` when it was made; ``""`` if unset).
    caller : str
        The module that asked for the decision.
    """

    level: float
    tests: int
    rejected: bool
    smallest: float
    context: str
    caller: str

    @property
    def ratio(self) -> float:
        """The smallest p-value over Holm's first threshold ``level / tests``."""
        return self.smallest / (self.level / max(self.tests, 1))


def log_decision(
    path: str, alpha: float, p_values: Sequence[float], rejected: bool, caller: str
) -> None:
    """Append one decision to ``path`` (one short ``write``: whole lines from many processes)."""
    context = os.environ.get(CONTEXT_ENV, "").replace("\t", " ").replace("\n", " ")
    smallest = min(p_values, default=1.0)
    line = f"{alpha!r}\t{len(p_values)}\t{int(rejected)}\t{smallest!r}\t{context}\t{caller}\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def read_log(path: str | Path) -> list[Decision]:
    """The decisions logged in ``path``.

    Raises
    ------
    InvalidParameterError
        If the file cannot be read or a line is not a logged decision (named by its number).
    """
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InvalidParameterError(f"{path}: cannot read a decision log ({reason})") from None
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        fields = line.split("\t")
        try:
            level_text, m, rejected, smallest, context, caller = fields
            decision = Decision(
                float(level_text), int(m), rejected == "1", float(smallest), context, caller
            )
        except ValueError:
            raise InvalidParameterError(
                f"{path}: line {number} is not a logged decision (six tab-separated fields: "
                "level, tests, rejected, smallest p-value, context, module)"
            ) from None
        if not (0.0 < decision.level < 1.0 and rejected in ("0", "1")):
            raise InvalidParameterError(f"{path}: line {number} is not a logged decision")
        out.append(decision)
    return out


@dataclass(frozen=True)
class DecisionSummary:
    """What a decision log adds up to (see the module docstring).

    Attributes
    ----------
    kept : int
        Decisions that did not reject.
    total_level : float
        The sum of their levels: a bound on the chance that a fresh run holds a false alarm.
    by_level : tuple of (float, int)
        Their count per level, ascending.
    by_context : tuple of (str, int, float)
        Per context label: decisions that did not reject and the sum of their levels,
        largest sum first.
    rejected : tuple of Decision
        The decisions that rejected.
    closest_kept : float
        The smallest :attr:`Decision.ratio` of a decision that did not reject (how close one
        came to a false alarm); ``inf`` without one.
    """

    kept: int
    total_level: float
    by_level: tuple[tuple[float, int], ...]
    by_context: tuple[tuple[str, int, float], ...]
    rejected: tuple[Decision, ...]
    closest_kept: float

    def to_markdown(self) -> str:
        """The summary as markdown tables, with the bound in words at the end."""
        rows = ["| level | decisions that did not reject | level x count |", "| --- | --- | --- |"]
        rows += [f"| {lv:g} | {n} | {lv * n:.3g} |" for lv, n in self.by_level]
        rows.append(f"| **sum** | **{self.kept}** | **{self.total_level:.3g}** |")
        rows += ["", "| context | decisions that did not reject | sum of levels |"]
        rows.append("| --- | --- | --- |")
        rows += [f"| {c or '(none)'} | {n} | {s:.3g} |" for c, n, s in self.by_context]
        far = sum(d.ratio <= 1e-10 for d in self.rejected)
        rows += ["", "| decisions that rejected | count |", "| --- | --- |"]
        rows.append(f"| smallest p <= 1e-10 x Holm's first threshold | {far} |")
        rows.append(f"| smallest p > 1e-10 x that threshold | {len(self.rejected) - far} |")
        close = sorted((d for d in self.rejected if d.ratio > 1e-10), key=lambda d: -d.ratio)
        if close:
            rows += ["", "| rejected, smallest p > 1e-10 x threshold | module | p / threshold |"]
            rows.append("| --- | --- | --- |")
            rows += [f"| {d.context or '(none)'} | {d.caller} | {d.ratio:.3g} |" for d in close]
        if math.isfinite(self.closest_kept):
            rows.append(
                f"\nclosest to a false alarm: a decision that did not reject had its smallest "
                f"p-value {self.closest_kept:.3g} x Holm's first threshold (level / tests)"
            )
        rows.append(
            f"\nchance that a fresh set of cases holds a false alarm <= {self.total_level:.3g}"
            + (f" (1 in {math.floor(1 / self.total_level)})" if self.total_level > 0 else "")
        )
        return "\n".join(rows)


def summarize(decisions: Sequence[Decision]) -> DecisionSummary:
    """Sum the levels of the decisions that did not reject, per level and per context."""
    kept = [d for d in decisions if not d.rejected]
    levels: dict[float, int] = defaultdict(int)
    contexts: dict[str, list[float]] = defaultdict(list)
    for d in kept:
        levels[d.level] += 1
        contexts[d.context].append(d.level)
    by_context = sorted(
        ((c, len(v), math.fsum(v)) for c, v in contexts.items()), key=lambda t: (-t[2], t[0])
    )
    return DecisionSummary(
        kept=len(kept),
        total_level=math.fsum(d.level for d in kept),
        by_level=tuple(sorted(levels.items())),
        by_context=tuple(by_context),
        rejected=tuple(d for d in decisions if d.rejected),
        closest_kept=min((d.ratio for d in kept), default=math.inf),
    )
