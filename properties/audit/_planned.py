"""What the rule language and the model add around a parameter's streamed statistics.

* ``skip``: not checked; the row still shows what the draws look like, its outcome is
  ``skipped``.
* declared zero rows: checked exactly (:func:`~weight_init.properties.audit._quirks.
  declared_zero_rows`, from the per-build record of the rows that are exactly 0), and left
  out of the statistics (:attr:`~._stream.Target.drop_rows`); undeclared rows of exact zeros
  under a continuous law fail exactly, naming the rule that would state them.
* constants (``constant(c)``, ``ones``, ``zeros``) are compared with ``c`` rounded to the
  parameter's float format (:func:`weight_init.precision.round_to`): a float32 ``1e-6`` is
  ``9.99999997e-07``, and an identified constant is printed as the format holds it.
* quirks are named: tied aliases, zero rows, all-zero (``zeros``), the plan's own (layer
  scale, zero-init residual branch, residual scaling), and a failed variance that is
  ``1/(2 n_layer)`` of the rule's.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from numpy.typing import NDArray

from weight_init.precision import format_in, round_to
from weight_init.properties.audit._quirks import (
    all_zero,
    declared_zero_rows,
    outliers,
    residual_scaling,
    rows_in_range,
    undeclared_zero_rows,
)
from weight_init.properties.audit._result import ParamAudit
from weight_init.properties.audit._stream import ParamStats
from weight_init.properties.audit._verdicts import Site
from weight_init.schemes import Scheme

__all__ = ["Planned", "StreamPlan", "at_precision", "finish_row", "stream_plan", "unfit"]


@dataclass(frozen=True)
class Planned:
    """What one parameter is expected to hold: ``scheme`` (``None`` and not ``skip``:
    unchecked), the layout and fan mode its fans are read with (as
    :class:`~weight_init.properties.audit._expectations.Default`), where the expectation
    comes from, the rows that must be exactly zero and the quirks it names."""

    scheme: Scheme | None
    skip: bool
    layout: str
    fans: str
    source: str
    zero_rows: tuple[int, ...] = ()
    quirks: tuple[str, ...] = ()


@dataclass(frozen=True)
class StreamPlan:
    """How a site's builds are reduced besides its tests: the rows dropped from the
    statistics (declared zero rows, in range), whether the zero rows are recorded, the
    ``(mean, sd)`` of a normal rule whose far entries are counted, and a declared row that
    does not exist (an exact failure found on the probe)."""

    drop_rows: tuple[int, ...] = ()
    track_rows: bool = False
    outlier: tuple[float, float] | None = None
    bad_rows: str = ""


def at_precision(scheme: Scheme | None, dtype: str | None) -> Scheme | None:
    """``scheme`` with a constant's value rounded to the float format ``dtype``."""
    if scheme is None or scheme.family != "constant" or dtype is None:
        return scheme
    held = round_to(scheme.value, dtype)
    if held == scheme.value:
        return scheme
    return dataclasses.replace(
        scheme,
        value=held,
        description=f"{scheme.value:g} as {dtype} holds it: {format_in(held, dtype)}",
    )


def unfit(value: NDArray[Any], fans: tuple[int, int]) -> str:
    """Why a parameter cannot be checked whatever its rule (empty; not a float tensor; a fan
    of 0), "" when it can."""
    if not value.size:
        return "empty"
    if value.dtype.kind != "f":
        return f"{value.dtype}: not a float tensor to audit"
    if 0 in fans:
        return f"fans {fans}: a rule of the fans is undefined"
    return ""


def stream_plan(site: Site, checked: Scheme | None) -> StreamPlan:
    """The :class:`StreamPlan` of ``site`` checked against ``checked`` (module docstring)."""
    if site.skip or checked is None:
        return StreamPlan()
    shape = site.shape
    drop: tuple[int, ...] = ()
    bad = ""
    if site.zero_rows:
        drop, bad = rows_in_range(site.zero_rows, shape[0] if shape else 0)
    continuous = checked.family.is_random and checked.family.atom is None
    track = bool(site.zero_rows) or (continuous and len(shape) >= 2 and shape[0] >= 2)
    outlier = None
    if checked.family.name == "normal":
        rows = max((shape[0] if len(shape) >= 2 else 1) - len(drop), 1)
        cols = math.prod(shape[1:]) if len(shape) >= 2 else max(math.prod(shape), 1)
        sd = math.sqrt(checked.variance(rows, cols))
        outlier = (float(checked.mean()), sd) if sd > 0 else None
    return StreamPlan(drop, track, outlier, bad)


def finish_row(
    row: ParamAudit,
    site: Site,
    st: ParamStats,
    plan: StreamPlan,
    first: float | None,
) -> ParamAudit:
    """``row`` with the exact failures and the quirks of its plan (module docstring);
    ``first``: the probe's first entry (an identified constant is printed from it)."""
    quirks = list(site.quirks)
    checked = site.checked()
    exact = plan.bad_rows
    if site.zero_rows and not site.skip:
        exact = exact or declared_zero_rows(st, plan.drop_rows)
        rows = ", ".join(str(r) for r in site.zero_rows)
        quirks.append(f"padding row{'s' if len(site.zero_rows) > 1 else ''} {rows} zero")
    if not site.zero_rows and not site.skip:
        exact = undeclared_zero_rows(st, site.scheme, site.shape)
        if exact:
            quirks.append("padding rows")
    if not exact:
        exact = outliers(st, checked)
        if exact:
            quirks.append("endpoint outliers")
    scheme = site.scheme
    if all_zero(st) and not (scheme and scheme.family == "constant" and scheme.value == 0):
        quirks.append("zeros")  # named where the rule did not say so
    if site.aliases:
        quirks.append(f"tied: {', '.join(site.aliases)}")
    identified = row.identified
    if row.family == "constant" and first is not None:
        identified = format_in(first, site.dtype)
    if row.outcome == "fail":
        entries = st.n or st.raw_size * st.builds
        named = residual_scaling(row.expected_ratio, entries, site.depth)
        if named:
            quirks.append(named)
    expected = row.expected
    if site.skip:
        expected = "skip"
    elif site.zero_rows and expected:
        expected = f"{expected} + zero_rows({', '.join(map(str, site.zero_rows))})"
    return dataclasses.replace(
        row,
        expected=expected,
        identified=identified,
        quirks=tuple(dict.fromkeys(quirks)),
        aliases=site.aliases,
        skipped=site.skip,
        exact_failure=exact,
    )
