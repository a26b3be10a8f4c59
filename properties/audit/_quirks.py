"""The structure real init code gives a parameter besides its law, found exactly and named.

Each is read from per-build accumulators of the stream (:class:`~._stream.ParamStats`:
``row_zero``, the rows of the first axis exactly 0 in every build; ``any_nonzero``; the count
and a few values of the entries beyond 8 sd of a normal rule), so the audit keeps one build
and ``O(parameters)`` state.

* **zero rows** (an embedding's padding row): rows along the first axis that are exactly 0 in
  every build. Declared (``RULE + zero_rows(i)``): each must be 0 in every build -- an exact
  check, failed by a single nonzero entry -- and the other rows are what the statistical check
  sees. Undeclared under a continuous law (one without an atom), a row of exact zeros has
  probability 0, so finding one in every build is an exact failure that names the row and the
  rule that would state it.
* **all zero**: every entry of every build is 0, named ``zeros`` (not "a 100%-sparse draw").
* **outliers** under a normal rule: entries more than 8 standard deviations from the mean.
  Under ``N(m, s^2)`` the chance that any of ``N`` entries does so is below ``N * 1.3e-15``
  (``2 (1 - Phi(8))`` each), so finding one is an exact failure at a false-alarm rate that
  small; it is what an inverse-CDF sampler gives when its uniform hits an endpoint
  (``trunc_normal_`` draws ``U[2 Phi(a) - 1, 2 Phi(b) - 1)`` in float32, which includes -1 with
  probability 2^-24, and clamps ``erfinv(-1) = -inf`` to the bound ``a``).
* **residual scaling**: a failed parameter whose variance is ``1/(2 n_layer)`` or
  ``1/n_layer`` times the rule's, within ``max(4 se, 2%)`` (``se = sqrt(2/N)``, the
  standard error of a normal sample's variance ratio over its ``N`` pooled entries), is
  named as GPT-2-style residual scaling; a name, never a verdict.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from weight_init.properties.audit._stream import FAR_SDS, ParamStats
from weight_init.schemes import Scheme

__all__ = [
    "all_zero",
    "declared_zero_rows",
    "outliers",
    "residual_scaling",
    "undeclared_zero_rows",
]

#: Standard deviations beyond which a normal rule's entry is an outlier.
OUTLIER_SDS = FAR_SDS
#: ``2 (1 - Phi(8))``: the chance of one normal entry beyond 8 standard deviations.
OUTLIER_CHANCE = 1.2442e-15


def all_zero(st: ParamStats) -> bool:
    """Every entry of every build is 0 (and there is at least one)."""
    return st.builds > 0 and st.raw_size > 0 and not st.any_nonzero


def rows_in_range(rows: Sequence[int], n: int) -> tuple[tuple[int, ...], str]:
    """The declared ``rows`` as indices into ``n`` rows (sorted, distinct), and why not
    (a row that does not exist; empty when they all do)."""
    bad = [r for r in rows if not -n <= r < n]
    if bad:
        return (), f"zero_rows({bad[0]}): the parameter has {n} rows"
    return tuple(sorted({r % n for r in rows})), ""


def declared_zero_rows(st: ParamStats, rows: tuple[int, ...]) -> str:
    """Why the declared ``rows`` (in range) are not exactly 0 in every build (empty when they
    all are)."""
    if st.row_zero is None:
        return ""
    nonzero = [i for i in rows if not st.row_zero[i]]
    return f"declared zero row {nonzero[0]} is not 0 in every build" if nonzero else ""


def undeclared_zero_rows(st: ParamStats, scheme: Scheme | None, shape: tuple[int, ...]) -> str:
    """Why the draws contradict ``scheme``'s continuous law by rows of exact zeros in every
    build (empty when they do not: fewer than 2 axes or rows, a scheme with an atom or none,
    or every entry 0)."""
    if scheme is None or not scheme.family.is_random or scheme.family.atom is not None:
        return ""
    if len(shape) < 2 or shape[0] < 2 or st.row_zero is None or all_zero(st):
        return ""
    rows = np.flatnonzero(st.row_zero)
    if rows.size == 0:
        return ""
    listed = ", ".join(str(int(r)) for r in rows[:5]) + (", ..." if rows.size > 5 else "")
    return (
        f"padding rows: row {listed} is exactly 0 in every build, which {scheme.name} never "
        f"draws; declare it: {scheme.name} + zero_rows({listed})"
    )


def residual_scaling(ratio: float, entries: int, depth: int | None) -> str:
    """The residual-scaling name of a variance ``ratio`` to the rule (module docstring)."""
    if depth is None or depth < 1 or not math.isfinite(ratio) or entries < 2:
        return ""
    tol = max(4.0 * math.sqrt(2.0 / entries), 0.02)
    for k, label in ((2 * depth, "1/sqrt(2 n_layer)"), (depth, "1/sqrt(n_layer)")):
        if k > 1 and abs(ratio * k - 1.0) <= tol:
            return f"residual scaling {label}: variance 1/{k} of the rule (n_layer = {depth})"
    return ""


def outliers(st: ParamStats, scheme: Scheme | None) -> str:
    """Why the draws contradict a normal rule by entries beyond :data:`OUTLIER_SDS` of its
    standard deviation (module docstring); empty when none is."""
    if scheme is None or scheme.family.name != "normal" or not st.beyond_count:
        return ""
    values = ", ".join(f"{v:g}" for v in st.beyond_values)
    return (
        f"outliers: {st.beyond_count} of {st.raw_size * (st.builds + st.scanned)} entries beyond "
        f"{OUTLIER_SDS:g} std of {scheme.name} (at {values}; {st.beyond_worst:.3g} std), each "
        f"of chance {OUTLIER_CHANCE:.2g} under the rule: an inverse-CDF sampler's endpoint "
        "clamped to its bound draws this"
    )
