"""The power plan of one family: every registered statistical check that applies states the
effects it is powered against (:mod:`weight_init.properties.conformance._power` has the
sample-size formulas and :class:`~weight_init.properties.conformance._power.PowerPlan`),
and the plan takes what the most demanding one needs.

Kept apart from the formulas so that the checks can use them without importing the
registry of checks back.
"""

from __future__ import annotations

from collections.abc import Sequence

from weight_init.errors import InvalidParameterError
from weight_init.families import Family, get_family
from weight_init.properties.conformance._checks.base import Check, CheckKind
from weight_init.properties.conformance._checks.registry import registered_checks
from weight_init.properties.conformance._power import (
    DEFAULT_ALPHA,
    DEFAULT_POWER,
    DESIGN_MARGIN,
    PowerPlan,
)


def plan(
    family: Family | str,
    alpha: float = DEFAULT_ALPHA,
    power: float = DEFAULT_POWER,
    checks: Sequence[Check] | None = None,
    margin: float = DESIGN_MARGIN,
) -> PowerPlan:
    """The sample sizes a check of ``family`` needs: each statistical check that applies
    to the family (default: the registered ones) states its effects at the per-test level
    ``alpha / (margin m)``; the plan takes the maximum per unit."""
    fam = get_family(family)
    pool = registered_checks() if checks is None else checks
    stat = [c for c in pool if c.kind is CheckKind.STATISTICAL and c.applies(fam)]
    m = len(stat)
    if not margin >= 1.0:
        raise InvalidParameterError(f"margin must be >= 1, got {margin!r}")
    if m == 0:
        return PowerPlan(fam.name, alpha, power, 0, alpha / margin, 0, 0, margin=margin)
    a = alpha / margin / m
    effects = tuple(e for c in stat for e in c.effects(fam, a, power))
    n_entries = max((e.n_required for e in effects if e.unit == "entries"), default=0)
    n_diag = max((e.n_required for e in effects if e.unit == "diagonal"), default=0)
    return PowerPlan(fam.name, alpha, power, m, a, n_entries, n_diag, effects, margin)
