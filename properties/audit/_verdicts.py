"""From each parameter's streamed statistics to its row: identification, tests, resolution.

Every audited parameter is a :class:`Site` (what the probe build shows of it and what it is
expected to follow). Its statistics (:class:`~._stream.ParamStats`) give

* the identification: the family whose law is closest (KS distance of the self-standardized
  entries, read on a grid: :mod:`._stream`), the closest registered scheme and its variance
  ratio, the ``c/fan`` rules that fit ``mean w^2``, and the layout's fan rule;
* the verdict: the exact checks, then the statistical tests decided together by Holm at the
  design level ``alpha / margin`` (:mod:`._tests`);
* the resolution: what the entries detect with power 0.99 at that level
  (:mod:`._resolution`).

**Pooling.** Parameters with the same expectation (its source, its scheme) and the same role
(layer type and name in the layer), drawn from an i.i.d. family, form a *group* when
``pool`` is on and there are at least two of them: every entry standardized by its own
parameter's rule is a draw of the same law, so the group adds the statistical tests on the
union of its members' entries and the fan-rule test across members
(:func:`~._tests.pooled_results`). The group is one Holm family: each member's own tests and
the pooled ones, at the design level, so the family-wise false-alarm rate of the group is at
most ``alpha`` (that of each of its parameters too). A member fails when one of its own tests
or a pooled test rejects; its resolution is its own or the group's, whichever is finer, and
the row says which: the group's detects an error *shared* by the members (the same std error,
the same mean shift), which is how a rule applied by one piece of code goes wrong. When a
pooled test rejects and some members fail on their own tests, the rejection is theirs: the
other members are judged on their own tests and their own resolution (pass or
inconclusive, never a pass on the contaminated pool); when no member fails alone, every
member fails with the group.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from weight_init.families import Family, Orthogonal, Sparse, iid_families
from weight_init.layouts import Fans, KernelSpec, get_layout
from weight_init.properties._results import TestResult, Verdict
from weight_init.properties.audit._resolution import Resolution, resolution
from weight_init.properties.audit._result import ParamAudit
from weight_init.properties.audit._stream import (
    ID_BINS,
    ID_RANGE,
    KS_BINS,
    KS_RANGE,
    ParamStats,
    Target,
    grid_edges,
)
from weight_init.properties.audit._stream_calls import calls_resolution, calls_tests
from weight_init.properties.audit._tests import (
    decide,
    exact_results,
    pairs_of,
    pooled_results,
    statistical_results,
)
from weight_init.properties.conformance import _power as powerplan
from weight_init.properties.conformance._checks.base import CheckResult
from weight_init.properties.conformance._diagnosis import Findings, diagnose
from weight_init.properties.conformance._kernels import candidate_rules
from weight_init.properties.conformance._plan import plan
from weight_init.properties.conformance._result import ConformanceResult, Design
from weight_init.schemes import SCHEMES, Scheme, variance_scaling


@dataclass(frozen=True)
class Site:
    """One audited parameter (or one block of it) as the probe build shows it: its name,
    owner layer type and name within it (``local``), shape, layout and fans, the expected
    ``scheme`` (None: unchecked) and where the expectation comes from, the layer's spec (for
    the fan-rule naming), its position in a build's parameter list and its ``block``
    (``(i, n)``: block ``i`` of ``n`` along the last axis; ``shape`` is the block's).

    What the rule language and the model add (:mod:`~._planned`): ``zero_rows`` (rows of the
    first axis declared exactly zero: checked exactly, left out of the statistics), ``skip``
    (the rule said so: not checked), ``aliases`` (the tensor's other names), ``dtype`` (its
    float format), ``quirks`` the plan names (or why it cannot be checked) and the model's
    ``depth`` (for naming residual scaling)."""

    name: str
    layer: str
    local: str
    shape: tuple[int, ...]
    layout: str
    fans: Fans
    scheme: Scheme | None
    source: str
    spec: KernelSpec | None
    index: int
    block: tuple[int, int] = (0, 1)
    zero_rows: tuple[int, ...] = ()
    skip: bool = False
    aliases: tuple[str, ...] = ()
    dtype: str | None = None
    quirks: tuple[str, ...] = ()
    depth: int | None = None

    def checked(self) -> Scheme | None:
        """The scheme the entries are checked against: an i.i.d. scheme at this parameter's
        fans (the fixed-variance scheme of the same family and location, ``v =
        scheme.variance(fans)``, mean ``scheme.value``), else the scheme itself."""
        s = self.scheme
        if s is None or not s.family.is_iid:
            return s
        v = s.variance(*self.fans.as_tuple())
        fixed = variance_scaling(
            v, "fixed", s.family, name=f"{s.name} at fans {self.fans.as_tuple()}"
        )
        return dataclasses.replace(fixed, value=s.value)

    @property
    def group_key(self) -> tuple[str, ...] | None:
        """The pooling key (module docstring); None for a parameter that is never pooled."""
        if self.scheme is None or not self.scheme.family.is_iid:
            return None
        return (self.source, self.scheme.name, self.scheme.family.name, self.layer, self.local)


def planned_tests(family: Family, rows: int, cols: int) -> int:
    """How many statistical tests one parameter's own family holds (see :mod:`._tests`)."""
    if not family.is_random:
        return 0
    more = calls_tests(family, rows, cols)
    if isinstance(family, Orthogonal):
        return 3 + (rows != cols) + more
    pairs = (cols >= 2) + (rows >= 2)
    if isinstance(family, Sparse):
        return 2 + pairs + more
    return 3 + pairs + (min(rows, cols) >= 2) + more


def pooled_tests(shapes: Sequence[tuple[int, int]]) -> int:
    """The pooled tests a group of parameters of these matrix shapes adds."""
    return (
        4
        + any(c >= 2 for _, c in shapes)
        + any(r >= 2 for r, _ in shapes)
        + any(min(s) >= 2 for s in shapes)
    )


def matrix_shape(site: Site) -> tuple[int, int]:
    """The 2-D view the checks read (rows, columns), as :meth:`~._stream.Target.view`."""
    shape = list(site.shape)
    if site.zero_rows and shape:
        shape[0] = max(shape[0] - len(set(site.zero_rows)), 0)
    if len(shape) >= 2:
        s = site.scheme
        if s is not None and isinstance(s.family, Orthogonal) and len(shape) == 2:
            m = get_layout(site.layout).matrix(np.empty(shape))
            return int(m.shape[0]), int(m.shape[1])
        return shape[0], int(math.prod(shape[1:]))
    return 1, int(math.prod(shape))


def groups_of(sites: Sequence[Site], pool: bool) -> list[list[int]]:
    """Indices of the sites, one list per unit: a pooled group (two or more) or a single."""
    if not pool:
        return [[i] for i in range(len(sites))]
    by: dict[tuple[str, ...], list[int]] = {}
    units: list[list[int]] = []
    for i, s in enumerate(sites):
        key = s.group_key
        if key is None:
            units.append([i])
        elif key in by:
            by[key].append(i)
        else:
            by[key] = [i]
            units.append(by[key])
    return units


# -- identification -------------------------------------------------------------------------
#: Scales tried when naming the identified rule ``c / n`` (LeCun 1, He 2, torch's 1/3).
SCALES: tuple[tuple[float, str], ...] = ((1.0 / 3.0, "1/(3 {n})"), (1.0, "1/{n}"), (2.0, "2/{n}"))


@dataclass(frozen=True)
class Identification:
    """What the entries look like: ``family`` and its KS distance (``distance_error``: how
    much the grid may understate it), the closest registered scheme and its variance ratio at
    the fans, ``m2 = mean w^2``, the fitting ``c/fan`` rules, and the kurtosis."""

    family: str
    distance: float
    closest: str
    ratio: float
    m2: float
    rules: str
    kappa: float
    n: int
    distance_error: float = 0.0


def identify(st: ParamStats, target: Target, fans: Fans) -> Identification:
    """The identification of a parameter from its statistics (module docstring)."""
    n = st.r_n
    if n and st.w_min == st.w_max:
        return Identification("constant", 0.0, "", math.nan, 0.0, f"{st.w_min:g}", math.nan, n)
    m2 = st.r_s2 / n if n else math.nan
    if not n or m2 <= 0 or not math.isfinite(m2):
        return Identification("unknown", math.nan, "", math.nan, m2, "", math.nan, n)
    kappa = (st.r_s4 / n) / m2**2
    dists, err = _family_distances(st, target, m2)
    fam = min(dists, key=lambda f: dists[f]) if dists else "unknown"
    best, ratio = "", math.nan
    for sch in SCHEMES.values():
        if sch.family != fam:
            continue
        r = m2 / sch.variance(*fans.as_tuple())
        if not best or abs(math.log(r)) < abs(math.log(ratio)):
            best, ratio = sch.name, r
    tol = max(4.0 * math.sqrt(max(kappa - 1.0, 1e-12) / n), 0.02)
    fi, fo = fans.as_tuple()
    rules = [
        label.format(n=mode)
        for mode, k in (("fan_in", fi), ("fan_out", fo), ("fan_avg", (fi + fo) / 2))
        for c, label in SCALES
        if abs(m2 * k / c - 1.0) <= tol
    ]
    # every rule that fits: at tied fans they are the same number, which the draws cannot
    # separate
    dist = dists.get(fam, math.nan)
    return Identification(
        fam, dist, best, ratio, m2, " = ".join(rules), kappa, n, err.get(fam, 0.0)
    )


def _family_distances(
    st: ParamStats, target: Target, m2: float
) -> tuple[dict[str, float], dict[str, float]]:
    """KS distance of ``w / sqrt(m2)`` to each i.i.d. family, read at the grid's edges, and
    the largest mass the nearest family's law puts in one (rescaled) bin. The empirical CDF
    is constant over a run of empty bins while a law's CDF rises, so the distance over a run
    is at one of its two ends: the families' CDFs are evaluated at those edges alone (the
    same maximum as over every edge)."""
    if target.id_scale is None:
        hist = st.ks_hist
        scheme = target.scheme
        if hist is None or scheme is None:
            return {}, {}
        unit = math.sqrt(scheme.variance(st.rows, st.cols))
        edges = grid_edges(KS_BINS, KS_RANGE) * unit
    else:
        hist = st.id_hist
        if hist is None:
            return {}, {}
        edges = grid_edges(ID_BINS, ID_RANGE) * target.id_scale
    total = int(hist.sum())
    if not total:
        return {}, {}
    below = np.cumsum(hist)[:-1] / total
    zs = edges / math.sqrt(m2)
    occupied = hist > 0
    ends = occupied[:-1] | occupied[1:]  # edge k starts or ends a run of equal F_n
    ends[0] = ends[-1] = True
    at = np.flatnonzero(ends)
    below_at, zs_at = below[at], zs[at]
    dists: dict[str, float] = {}
    families = {f.name: f for f in iid_families()}
    for name, f in families.items():
        cdf = np.asarray(f.cdf(zs_at, None), dtype=np.float64)
        dists[name] = float(np.max(np.abs(below_at - cdf)))
    nearest = min(dists, key=lambda name: dists[name])
    mass = np.diff(np.asarray(families[nearest].cdf(zs, None), dtype=np.float64))
    return dists, {nearest: float(np.max(mass))}


def fan_rule(
    spec: KernelSpec | None, layout: str, scheme: Scheme | None, ident: Identification
) -> str:
    """The first candidate fan rule of ``layout`` (documented first) under which ``scheme``'s
    variance matches the pooled ``m2`` within ``max(4 se, 2%)``, se from the kurtosis."""
    if spec is None or scheme is None or not scheme.family.is_iid:
        return ""
    m2 = ident.m2
    if not m2 > 0 or ident.n < 2 or not math.isfinite(ident.kappa):
        return ""
    se = math.sqrt(max(ident.kappa - 1.0, 1e-12) / ident.n)
    lay = get_layout(layout)
    try:
        for r in candidate_rules(lay):
            ratio = m2 / scheme.variance(*r.fans(spec).as_tuple())
            if abs(ratio - 1.0) <= max(4.0 * se, 0.02):
                return r.name
    except Exception:  # a spec the layout cannot hold: no fan-rule identification
        return ""
    return "none of the layout's rules"


# -- verdicts -------------------------------------------------------------------------------
@dataclass(frozen=True)
class AuditSettings:
    """What every row is decided with: the family-wise ``alpha``, the design ``margin``,
    the ``power`` the resolution is stated at, the ``target`` resolution, the builds' seed
    and count."""

    alpha: float
    target: float
    seed: int
    builds: int
    power: float = powerplan.DEFAULT_POWER
    margin: float = powerplan.DESIGN_MARGIN


@functools.lru_cache(maxsize=64)
def _power_plan(family: Family, alpha: float, power: float, margin: float) -> powerplan.PowerPlan:
    """The check's power plan of ``family`` (the row's ``metadata``; computed once)."""
    return plan(family, alpha, power, margin=margin)


def _pooled_name(r: CheckResult) -> CheckResult:
    return dataclasses.replace(r, test=dataclasses.replace(r.test, name=f"pooled {r.test.name}"))


def param_audits(
    sites: Sequence[Site],
    targets: Sequence[Target],
    stats: Sequence[ParamStats],
    settings: AuditSettings,
    pool: bool,
) -> tuple[ParamAudit, ...]:
    """Every site's :class:`~._result.ParamAudit`, in the sites' order (module docstring)."""
    rows: dict[int, ParamAudit] = {}
    for unit in groups_of(sites, pool):
        rows.update(_unit(unit, sites, targets, stats, settings))
    return tuple(rows[i] for i in range(len(sites)))


def _unit(
    unit: Sequence[int],
    sites: Sequence[Site],
    targets: Sequence[Target],
    stats: Sequence[ParamStats],
    s: AuditSettings,
) -> dict[int, ParamAudit]:
    checked = {i: sites[i].checked() for i in unit}
    own = {
        i: statistical_results(stats[i], sch) if sch is not None else []
        for i, sch in checked.items()
    }
    members = [(stats[i], sch) for i in unit if (sch := checked[i]) is not None]
    pooled = pooled_results(members) if len(unit) >= 2 else []
    flat = [r for i in unit for r in own[i]] + pooled
    decided = decide(flat, s.alpha / s.margin)
    at = 0
    own_decided: dict[int, list[CheckResult]] = {}
    for i in unit:
        own_decided[i] = decided[at : at + len(own[i])]
        at += len(own[i])
    pooled_decided = [_pooled_name(r) for r in decided[at:]]
    m_total = len(flat)
    group_res: Resolution | None = None
    if len(unit) >= 2 and members:
        family = members[0][1].family
        group_res = resolution(
            family,
            sum(st.n for st, _ in members),
            sum(pairs_of(st) for st, _ in members),
            m_total,
            s.alpha,
            s.power,
            s.margin,
        )
    exact = {
        i: exact_results(stats[i], sch) if sch is not None else [] for i, sch in checked.items()
    }
    alone_fails = [sites[i].name for i in unit if any(r.failed for r in exact[i] + own_decided[i])]
    pooled_fails = any(r.failed for r in pooled_decided)
    out = {}
    for i in unit:
        pooled_i, group_i, note = pooled_decided, group_res, ""
        if pooled_fails and alone_fails and sites[i].name not in alone_fails:
            # the group's rejection is explained by members failing on their own entries:
            # this row stands on its own tests and resolution (no test is added, none dropped
            # from the Holm family: the decision only becomes more conservative)
            pooled_i, group_i = [r for r in pooled_decided if not r.failed], None
            note = (
                f"its group's pooled tests reject, explained by {', '.join(alone_fails)}; "
                "judged on its own entries"
            )
        out[i] = _row(
            sites[i],
            targets[i],
            stats[i],
            checked[i],
            exact[i],
            own_decided[i],
            pooled_i,
            m_total,
            group_i,
            len(unit),
            s,
            note,
        )
        if len(unit) >= 2:
            out[i] = dataclasses.replace(out[i], group=sites[unit[0]].name)
    return out


def _row(
    site: Site,
    target: Target,
    st: ParamStats,
    checked: Scheme | None,
    exact: list[CheckResult],
    own: list[CheckResult],
    pooled: list[CheckResult],
    m_total: int,
    group_res: Resolution | None,
    group_size: int,
    s: AuditSettings,
    note: str = "",
) -> ParamAudit:
    ident = identify(st, target, site.fans)
    scheme = site.scheme
    rule_name = fan_rule(site.spec, site.layout, scheme, ident) if len(site.shape) >= 2 else ""
    expected_ratio = math.nan
    if scheme is not None and scheme.family.is_iid:
        expected_ratio = ident.m2 / scheme.variance(*site.fans.as_tuple())
    verdict, res = None, None
    if checked is not None:
        results = tuple(exact + own)
        findings = Findings(checked, "in_out", results)
        diagnosis = diagnose(findings)
        failed_pooled = [r.test.name for r in pooled if r.failed]
        if failed_pooled:
            tail = f"its group of {group_size} fails {', '.join(failed_pooled)}"
            diagnosis = f"{diagnosis}; {tail}" if diagnosis else tail
        if note:
            diagnosis = f"{diagnosis}; {note}" if diagnosis else note
        tests: list[TestResult] = [r.test for r in results] + [r.test for r in pooled]
        subject = f"{site.name} as {scheme.name if scheme else checked.name}"
        v = Verdict(subject, s.alpha, tests, diagnosis)
        family_plan = _power_plan(checked.family, s.alpha, s.power, s.margin)
        design = Design(((st.rows, st.cols),), (st.builds,), s.seed, "global", st.builds, st.n)
        verdict = ConformanceResult(
            verdict=v,
            scheme=checked,
            layout="in_out",
            power=s.power,
            plan=family_plan,
            design=design,
            checks=results,
            identification=None,
            quantiles=None,
        )
        if checked.family.is_random:
            res = resolution(
                checked.family, st.n, pairs_of(st), m_total, s.alpha, s.power, s.margin
            )
            a = s.alpha / s.margin / max(m_total, 1)
            more = calls_resolution(st.calls, checked.family, st.n, a, s.power, st.rows, st.cols)
            res = dataclasses.replace(res, calls=more)
    return ParamAudit(
        site.name,
        site.layer,
        site.shape,
        site.layout,
        site.fans,
        scheme.name if scheme else "",
        site.source,
        ident.family,
        ident.distance,
        ident.closest,
        ident.ratio,
        ident.m2,
        verdict,
        rule_name,
        expected_ratio,
        scheme.family.name if scheme else "",
        ident.rules,
        0,
        resolution=res,
        group_size=group_size,
        group_resolution=group_res,
        target=s.target,
    )
