"""The tables of a calibration run (``weight-init calibrate``), from its JSON Lines records.

Decision at promised rate ``a`` of one check (or verdict): it rejects when an exact check
failed or Holm's step-down procedure over its statistical tests' p-values rejects at
``a / margin``, the record's design margin (1 when absent: property verdicts and records of
runs before the margin). That is what ``check_initializer(alpha=a)`` decides; see
:mod:`weight_init.properties.conformance._power`. Every check ran with the sample size planned for
alpha 1e-4, so the rates at the larger levels are those of that design (its p-values are uniform
under the null whatever the sample size). A record whose code raised (``outcome``
``error``) counts as a false alarm and as a miss: the conservative side of both.

Confidence bounds are exact Clopper-Pearson (:func:`clopper_pearson`, i.e.
``scipy.stats.binomtest(k, n).proportion_ci(method="exact")``):
``upper 95% (one-sided)`` is the bound of ``alternative='less'``, ``95% CI (two-sided)`` that of
``alternative='two-sided'``. p-value uniformity is the Kolmogorov-Smirnov test of a test's
p-values against U(0, 1) (``scipy.stats.kstest``); discrete p-values (exact binomial tests)
are conservative and may show as non-uniform by their atoms.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from weight_init.errors import RunDirectoryError
from weight_init.properties._multiple_testing import holm_reject

#: The kind of output directory a calibration run is (:mod:`.output_dir`).
RUN_KIND = "calibration run"
ALPHAS: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 5e-2)
PROPERTY_LEVELS: tuple[float, ...] = (1e-2, 5e-2)
Record = dict[str, Any]


_NUMBER = (int, float)
#: Fields every record has, and those of each kind, with their JSON types.
_FIELDS: dict[str | None, dict[str, tuple[type, ...]]] = {
    None: {
        "task_id": (str,),
        "kind": (str,),
        "seed": (int,),
        "outcome": (str,),
        "implementation": (str,),
        "wall_seconds": _NUMBER,
        "cpu_seconds": _NUMBER,
    },
    "false_alarm": {"scheme": (str,), "p_values": (dict,)},
    "power": {
        "effect": (str,),
        "effect_label": (str,),
        "size": _NUMBER,
        "planned_size": (*_NUMBER, type(None)),
        "p_values": (dict,),
    },
    "property": {"verdicts": (list,)},
    "audit": {"target_resolution": _NUMBER, "families": (list,)},
}


def _record_problem(obj: Any) -> str | None:
    """What makes ``obj`` not a record of a calibration run, or None."""
    if not isinstance(obj, dict):
        return f"a JSON {type(obj).__name__}, not an object"
    kind = obj.get("kind")
    if kind not in _FIELDS or kind is None:
        return f"kind {kind!r} is none of {', '.join(k for k in _FIELDS if k)}"
    for field, types in {**_FIELDS[None], **_FIELDS[kind]}.items():
        value = obj.get(field)
        if not isinstance(value, types) or isinstance(value, bool):
            return f"field {field!r} is missing or of the wrong type"
    ps = [obj.get("p_values", {})] + [
        v.get("p_values", {}) if isinstance(v, dict) else None
        for v in (*obj.get("verdicts", []), *obj.get("families", []))
    ]
    for p in ps:
        if not isinstance(p, dict) or not all(
            x is None or (isinstance(x, _NUMBER) and not isinstance(x, bool)) for x in p.values()
        ):
            return "a p-value that is not a number"
    if kind == "property" and not all(
        isinstance(v.get("property"), str) for v in obj["verdicts"] if isinstance(v, dict)
    ):
        return "a verdict without its property"
    return None


def parse_records(data: bytes, where: str) -> list[Record]:
    """The records of the bytes of a ``records.jsonl`` named ``where``; a partial last line
    (a process killed while writing) is skipped. A complete line that is not a record
    raises :class:`~weight_init.errors.RunDirectoryError` naming ``where`` and the line."""
    out: list[Record] = []
    lines = data.split(b"\n")
    for number, line in enumerate(lines[:-1], start=1):  # lines[-1]: partial or empty
        if not line.strip():
            continue
        try:
            obj = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            problem: str | None = f"not JSON ({str(exc).splitlines()[0][:80]})"
        else:
            problem = _record_problem(obj)
        if problem is not None:
            raise RunDirectoryError(
                f"{where} line {number}: {problem}; delete or fix the line (its task runs "
                "again with --resume)"
            )
        out.append(obj)
    return out


def load_records(directory: str | Path) -> list[Record]:
    """The complete records of ``directory/records.jsonl`` (see :func:`parse_records`)."""
    path = Path(directory) / "records.jsonl"
    if path.is_symlink():
        raise RunDirectoryError(f"{path}: a symbolic link, not a run's records")
    try:
        data = path.read_bytes() if path.exists() else b""
    except OSError as exc:
        raise RunDirectoryError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    return parse_records(data, str(path))


def rejects(result: Record, level: float) -> bool:
    """Does this check (or verdict) reject at promised rate ``level``? (Holm at
    ``level / margin``; see the module docstring)"""
    if result.get("outcome") == "error" or result.get("exact_failed"):
        return True
    ps = [1.0 if p is None else float(p) for p in result.get("p_values", {}).values()]
    margin = float(result.get("margin", 1.0))
    return bool(ps) and any(holm_reject(ps, level / margin, log=False))  # a table, not a test


def clopper_pearson(
    events: int, trials: int, level: float = 0.95, alternative: str = "two-sided"
) -> tuple[float, float]:
    """The exact (Clopper-Pearson) confidence interval of a binomial rate:
    ``scipy.stats.binomtest(events, trials, alternative=...).proportion_ci(level, "exact")``.
    ``alternative="less"`` gives the one-sided upper bound (low is 0), ``"greater"`` the
    one-sided lower bound (high is 1). The project's one binomial interval."""
    ci = stats.binomtest(events, trials, alternative=alternative).proportion_ci(
        confidence_level=level, method="exact"
    )
    return float(ci.low), float(ci.high)


@dataclass(frozen=True)
class Rate:
    """``events`` of ``trials`` with exact Clopper-Pearson bounds at 95%."""

    events: int
    trials: int

    @property
    def rate(self) -> float:
        return self.events / self.trials if self.trials else float("nan")

    def upper_one_sided(self) -> float:
        return clopper_pearson(self.events, self.trials, alternative="less")[1]

    def lower_one_sided(self) -> float:
        """The exact one-sided 95% lower bound: a promised rate below it is exceeded."""
        return clopper_pearson(self.events, self.trials, alternative="greater")[0]

    def two_sided(self) -> tuple[float, float]:
        return clopper_pearson(self.events, self.trials)


@dataclass(frozen=True)
class LevelRate:
    level: float
    rate: Rate


@dataclass(frozen=True)
class Uniformity:
    """The p-values of one test across a run, against U(0, 1)."""

    test: str
    n: int
    ks_statistic: float
    ks_p_value: float
    at_05: Rate
    at_01: Rate


@dataclass(frozen=True)
class PowerPoint:
    effect: str
    label: str
    size: float
    planned: float | None
    detected: Rate


@dataclass(frozen=True)
class PropertyRate:
    property: str
    rejections: tuple[LevelRate, ...]
    uniformity: Uniformity


def of_kind(records: Sequence[Record], kind: str) -> list[Record]:
    return [r for r in records if r.get("kind") == kind]


def false_alarm_rates(
    records: Sequence[Record], levels: Sequence[float] = ALPHAS
) -> list[LevelRate]:
    checks = of_kind(records, "false_alarm")
    return [LevelRate(a, Rate(sum(rejects(r, a) for r in checks), len(checks))) for a in levels]


def uniformity(name: str, ps: Sequence[float]) -> Uniformity:
    arr = np.asarray(ps, dtype=float)
    ks = stats.kstest(arr, "uniform")
    n = int(arr.size)
    return Uniformity(
        name,
        n,
        float(ks.statistic),
        float(ks.pvalue),
        Rate(int(np.sum(arr <= 0.05)), n),
        Rate(int(np.sum(arr <= 0.01)), n),
    )


def p_values_by_test(results: Sequence[Record]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = defaultdict(list)
    for r in results:
        for name, p in r.get("p_values", {}).items():
            if p is not None:
                out[name].append(float(p))
    return dict(out)


def audit_uniformity(records: Sequence[Record]) -> list[Uniformity]:
    """The p-values of each test of the correct model's audits, per target resolution and
    role (``weights``: the families whose name ends in ``weight``; ``biases``: the others),
    the members' own tests pooled across members (``0.weight: variance`` with
    ``1.weight: variance``) and against U(0, 1)."""
    by: dict[str, list[float]] = defaultdict(list)
    for r in of_kind(records, "audit"):
        if _defective(r):
            continue
        target = float(r.get("target_resolution", float("nan")))
        for fam in r.get("families", []):
            role = "weights" if str(fam.get("family", "")).endswith("weight") else "biases"
            for name, p in fam.get("p_values", {}).items():
                if p is not None:
                    by[f"{target:.0%} {role}: {name.rpartition(': ')[2]}"].append(float(p))
    return [uniformity(n, ps) for n, ps in sorted(by.items()) if len(ps) >= 2]


def false_alarm_uniformity(records: Sequence[Record]) -> list[Uniformity]:
    by_test = p_values_by_test(of_kind(records, "false_alarm"))
    return [uniformity(n, ps) for n, ps in sorted(by_test.items()) if len(ps) >= 2]


def nonuniform_by_scheme(records: Sequence[Record], level: float = 0.01) -> list[Uniformity]:
    """(test, declared scheme) groups of the false-alarm checks whose p-values a KS test
    rejects as U(0, 1) at family-wise ``level`` (Bonferroni over the groups): a miscalibrated
    test that the pooled table would dilute. Too low a rejection rate means lost power; too
    high, false alarms."""
    groups: dict[str, list[float]] = defaultdict(list)
    for r in of_kind(records, "false_alarm"):
        for name, p in r.get("p_values", {}).items():
            if p is not None:
                groups[f"{name} ({r['scheme']})"].append(float(p))
    rows = [uniformity(k, ps) for k, ps in sorted(groups.items()) if len(ps) >= 2]
    return [u for u in rows if u.ks_p_value <= level / max(len(rows), 1)]


def power_curves(records: Sequence[Record], level: float = ALPHAS[0]) -> list[PowerPoint]:
    groups: dict[tuple[str, float], list[Record]] = defaultdict(list)
    for r in of_kind(records, "power"):
        groups[(r["effect"], float(r["size"]))].append(r)
    points = []
    for (effect, size), rs in sorted(groups.items()):
        hits = sum(r.get("outcome") != "error" and rejects(r, level) for r in rs)
        points.append(
            PowerPoint(
                effect, rs[0]["effect_label"], size, rs[0]["planned_size"], Rate(hits, len(rs))
            )
        )
    return points


def property_rates(records: Sequence[Record]) -> list[PropertyRate]:
    verdicts: dict[str, list[Record]] = defaultdict(list)
    for r in of_kind(records, "property"):
        for v in r.get("verdicts", []):
            verdicts[v["property"]].append(v)
    out = []
    for prop, vs in sorted(verdicts.items()):
        levels = tuple(
            LevelRate(a, Rate(sum(rejects(v, a) for v in vs), len(vs))) for a in PROPERTY_LEVELS
        )
        ps = [p for v in vs for p in v.get("p_values", {}).values() if p is not None]
        if len(ps) >= 2:
            out.append(PropertyRate(prop, levels, uniformity(prop, ps)))
    return out


@dataclass(frozen=True)
class Timing:
    implementation: str
    checks: int
    median_wall: float
    median_cpu: float


@dataclass(frozen=True)
class AuditPoint:
    """The audits at one target resolution: builds, the std error the weights' rows state,
    the false-alarm rate of every Holm family (pooled group) of the correct model at each
    promised rate, and the detection of the stated std error (shared by the weights) at the
    run's alpha."""

    target: float
    builds: int
    stated: float
    false_alarms: tuple[LevelRate, ...]
    power: Rate


def _defective(record: Record) -> bool:
    """Is this an audit of the defective model? (``defect``; records written before that
    field say it by a nonzero ``defect_std_error``)"""
    return bool(record.get("defect", record.get("defect_std_error")))


def audit_points(records: Sequence[Record], levels: Sequence[float] = ALPHAS) -> list[AuditPoint]:
    """One :class:`AuditPoint` per target resolution of the ``audit`` records."""
    by: dict[float, list[Record]] = defaultdict(list)
    for r in of_kind(records, "audit"):
        by[float(r.get("target_resolution", float("nan")))].append(r)
    out = []
    for target, rs in sorted(by.items()):
        correct = [r for r in rs if not _defective(r)]
        defect = [r for r in rs if _defective(r)]
        fams = [f for r in correct for f in r.get("families", [])]
        fams += [{"outcome": "error"} for r in correct if r.get("outcome") == "error"]
        rates = tuple(
            LevelRate(a, Rate(sum(rejects(f, a) for f in fams), len(fams))) for a in levels
        )
        hits = 0
        for r in defect:
            weights = [
                f for f in r.get("families", []) if str(f.get("family", "")).endswith("weight")
            ]
            # an audit that raised detected nothing (as a power check that raised)
            hits += r.get("outcome") != "error" and any(rejects(f, levels[0]) for f in weights)
        first = rs[0]
        out.append(
            AuditPoint(
                target,
                int(first.get("builds", 0)),
                float(first.get("stated_std_error") or float("nan")),
                rates,
                Rate(hits, len(defect)),
            )
        )
    return out


def timings(records: Sequence[Record], kind: str = "false_alarm") -> list[Timing]:
    groups: dict[str, list[Record]] = defaultdict(list)
    for r in of_kind(records, kind):
        groups[r["implementation"]].append(r)
    return [
        Timing(
            name,
            len(rs),
            float(np.median([r["wall_seconds"] for r in rs])),
            float(np.median([r["cpu_seconds"] for r in rs])),
        )
        for name, rs in sorted(groups.items())
    ]
