"""One parameter's audit under its plan: what the rule language and the model add around the
statistics of :func:`~weight_init.properties.audit._loop.audit_param`.

* ``skip``: not checked; the row still shows what the draws look like, its outcome is
  ``skipped``.
* declared zero rows: checked exactly (:func:`~weight_init.properties.audit._quirks.
  declared_zero_rows`), then left out of the statistical check; undeclared rows of exact zeros
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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from numpy.typing import NDArray

from weight_init.layouts import Fans, KernelSpec
from weight_init.precision import format_in, round_to
from weight_init.properties.audit._quirks import (
    all_zero,
    declared_zero_rows,
    outliers,
    residual_scaling,
    undeclared_zero_rows,
)
from weight_init.properties.audit._result import ParamAudit
from weight_init.schemes import Scheme

__all__ = ["Planned", "at_precision", "audit_planned"]


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


def audit_planned(
    name: str,
    layer: str,
    pooled: Sequence[NDArray[Any]],
    planned: Planned,
    fans: Fans,
    spec: KernelSpec | None,
    seed: int,
    alpha: float,
    *,
    aliases: tuple[str, ...] = (),
    dtype: str | None = None,
    depth: int | None = None,
) -> ParamAudit:
    """The audit of one parameter (module docstring) under ``planned``."""
    from weight_init.properties.audit._loop import audit_param

    shape = tuple(pooled[0].shape)
    kind = pooled[0].dtype.kind
    if not pooled[0].size or kind != "f" or 0 in fans.as_tuple():
        why = (
            "empty"
            if not pooled[0].size
            else (f"{pooled[0].dtype}: not a float tensor to audit" if kind != "f" else "")
        ) or f"fans {fans.as_tuple()}: a rule of the fans is undefined"
        return ParamAudit(
            name,
            layer,
            shape,
            planned.layout,
            fans,
            "skip" if planned.skip else "",
            planned.source,
            "unknown",
            math.nan,
            "",
            math.nan,
            math.nan,
            None,
            quirks=(why,),
            aliases=aliases,
            skipped=planned.skip,
        )
    scheme = None if planned.skip else at_precision(planned.scheme, dtype)
    quirks = list(planned.quirks)
    exact = ""
    kept = list(pooled)
    if planned.zero_rows and not planned.skip:
        kept, exact = declared_zero_rows(pooled, planned.zero_rows)
        rows = ", ".join(str(r) for r in planned.zero_rows)
        quirks.append(f"padding row{'s' if len(planned.zero_rows) > 1 else ''} {rows} zero")
    if not planned.zero_rows and not planned.skip:
        exact = undeclared_zero_rows(pooled, scheme)
        if exact:
            quirks.append("padding rows")
    if scheme is not None and scheme.family == "normal" and not exact:
        exact = outliers(kept, scheme, scheme.std(*fans.as_tuple()))
        if exact:
            quirks.append("endpoint outliers")
    if all_zero(pooled) and not (scheme and scheme.family == "constant" and scheme.value == 0):
        quirks.append("zeros")  # named where the rule did not say so
    if aliases:
        quirks.append(f"tied: {', '.join(aliases)}")
    if not kept[0].size:  # every row declared zero: nothing left for the statistics
        kept = list(pooled)
        scheme = None
    pa = audit_param(
        name, layer, kept, planned.layout, fans, scheme, planned.source, spec, seed, alpha
    )
    identified = pa.identified
    if pa.family == "constant":
        identified = format_in(float(pooled[0].flat[0]), dtype)
    if pa.outcome == "fail":
        named = residual_scaling(pa.expected_ratio, sum(a.size for a in kept), depth)
        if named:
            quirks.append(named)
    return dataclasses.replace(
        pa,
        shape=shape,
        expected="skip"
        if planned.skip
        else (
            f"{pa.expected} + zero_rows({', '.join(map(str, planned.zero_rows))})"
            if planned.zero_rows and pa.expected
            else pa.expected
        ),
        identified=identified,
        quirks=tuple(dict.fromkeys(quirks)),
        aliases=aliases,
        skipped=planned.skip,
        exact_failure=exact,
    )
