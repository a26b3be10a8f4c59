"""One unit of a calibration run and the function a worker runs on it.

A :class:`Task` is pure data (picklable, sent to a local process or a Dask worker); its
``task_seed`` comes from ``numpy.random.SeedSequence([seed, kind, *coordinates])``, so a
record depends on the run's seed and the task's coordinates only, never on the worker
that ran it or the order. :func:`run_task` never raises: whatever the checked code does
(raise, return garbage) becomes a record with outcome ``error``; a worker that dies is the
executor's business (Dask reschedules its tasks).

Kinds:

* ``false_alarm`` (index ``i``): the check at the default alpha (1e-4) of the ``i mod n``-th
  correct implementation (``check_initializer``, or the kernel check through its layout for
  a kernel implementation: its ``check``). The record keeps every statistical test's p-value,
  the names of failed exact checks and the design margin, so the decision at any promised
  rate ``a`` (an exact check failed, or Holm over the p-values rejects at ``a / margin``,
  as the check itself decides) is computed from this one run. The identification (which
  no decision reads) is skipped for 2-D checks.
* ``power`` (effect, size, repetition): the same check of the effect's defective initializer.
* ``property`` (index ``i``): ``run_suite`` on the reference at alpha 1e-3; per verdict its
  property, outcome, p-values and failed exact checks.
* ``audit`` (target resolution, defect, repetition): ``weight-init audit`` of a correctly
  initialized model at that target, or of the model with the shared std error its rows state
  (:mod:`.audits`); per Holm family (pooled group) its p-values and exact failures.
"""

from __future__ import annotations

import enum
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from weight_init.app._calibration.audits import AUDIT_IMPLEMENTATION
from weight_init.app._calibration.effects import EFFECTS
from weight_init.app._calibration.implementations import Implementation, KernelImplementation
from weight_init.properties.conformance._power import DESIGN_MARGIN

#: The level each check runs at (its sample size is planned for it), and the suite's.
CHECK_ALPHA = 1e-4
SUITE_ALPHA = 1e-3


class Kind(enum.Enum):
    FALSE_ALARM = "false_alarm"
    POWER = "power"
    PROPERTY = "property"
    AUDIT = "audit"


_KIND_CODE = {Kind.FALSE_ALARM: 1, Kind.POWER: 2, Kind.PROPERTY: 3, Kind.AUDIT: 4}


def derive_seed(seed: int, kind: Kind, *coordinates: int) -> int:
    """A 63-bit seed from ``SeedSequence([seed, kind, *coordinates])`` (order-free)."""
    words = np.random.SeedSequence([seed, _KIND_CODE[kind], *coordinates]).generate_state(
        2, dtype=np.uint32
    )
    return (int(words[0]) << 31) ^ int(words[1])


@dataclass(frozen=True)
class Task:
    """What to run; ``task_id`` names it uniquely within a run directory."""

    kind: Kind
    task_id: str
    seed: int
    task_seed: int
    implementation: Implementation | KernelImplementation | None = None
    effect: str | None = None
    size: float | None = None
    repetition: int | None = None


def false_alarm_task(
    seed: int, index: int, impls: list[Implementation] | list[KernelImplementation]
) -> Task:
    return Task(
        Kind.FALSE_ALARM,
        f"false_alarm-{index}",
        seed,
        derive_seed(seed, Kind.FALSE_ALARM, index),
        implementation=impls[index % len(impls)],
        repetition=index,
    )


def power_task(seed: int, effect: str, size_index: int, repetition: int) -> Task:
    e = EFFECTS[effect]
    size = e.sizes[size_index]
    effect_index = list(EFFECTS).index(effect)
    return Task(
        Kind.POWER,
        f"power-{effect}-{size:g}-{repetition}",
        seed,
        derive_seed(seed, Kind.POWER, effect_index, size_index, repetition),
        effect=effect,
        size=size,
        repetition=repetition,
    )


def property_task(seed: int, index: int) -> Task:
    return Task(
        Kind.PROPERTY,
        f"property-{index}",
        seed,
        derive_seed(seed, Kind.PROPERTY, index),
        repetition=index,
    )


def audit_task(seed: int, target: float, target_index: int, defect: bool, repetition: int) -> Task:
    """An audit at target resolution ``target`` of the correct model, or of the defective
    one (:mod:`.audits`)."""
    kind = "power" if defect else "false_alarm"
    return Task(
        Kind.AUDIT,
        f"audit-{kind}-{target:g}-{repetition}",
        seed,
        derive_seed(seed, Kind.AUDIT, target_index, int(defect), repetition),
        effect="shared_std_off" if defect else None,
        size=target,
        repetition=repetition,
    )


def _p(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _tests(tests: Any) -> dict[str, Any]:
    return {
        "p_values": {t.name: _p(t.p_value) for t in tests if t.p_value is not None},
        "exact_failed": [t.name for t in tests if t.p_value is None and t.passed is False],
        "inconclusive": [t.name for t in tests if t.passed is None],
    }


def identity(task: Task) -> dict[str, Any]:
    """The fields that say what ``task`` checks, known before it runs: a record keeps them
    whatever the outcome, so an ``error`` record is read (and counted) like the others."""
    if task.kind is Kind.FALSE_ALARM:
        assert task.implementation is not None
        impl = task.implementation
        return {"implementation": impl.name, "scheme": impl.scheme, "layout": impl.layout}
    if task.kind is Kind.POWER:
        assert task.effect is not None and task.size is not None
        e = EFFECTS[task.effect]
        return {
            "implementation": f"effect:{e.name}",
            "scheme": e.scheme,
            "layout": "in_out",
            "effect": e.name,
            "effect_label": e.label,
            "size": task.size,
            "planned_size": e.planned,
        }
    if task.kind is Kind.PROPERTY:
        return {"implementation": "reference forward_prop"}
    assert task.size is not None
    return {
        "implementation": AUDIT_IMPLEMENTATION,
        "target_resolution": task.size,
        "defect": task.effect is not None,
    }


#: What an errored task reports in place of its results: no p-value, no verdict.
_NO_RESULTS: dict[str, Any] = {"p_values": {}, "verdicts": [], "families": []}


def _check(task: Task) -> dict[str, Any]:
    from weight_init.properties.conformance._runner import check_initializer

    if task.kind is Kind.FALSE_ALARM:
        assert task.implementation is not None
        verdict = task.implementation.check(task.task_seed, CHECK_ALPHA)
    else:
        assert task.effect is not None and task.size is not None
        e = EFFECTS[task.effect]
        verdict = check_initializer(
            e.build(task.size),
            e.scheme,
            "in_out",
            seed=task.task_seed,
            alpha=CHECK_ALPHA,
            identify=False,
        )
    return {
        "alpha": CHECK_ALPHA,
        "margin": DESIGN_MARGIN,
        "outcome": verdict.outcome,
        **_tests(verdict.tests),
    }


def _suite(task: Task) -> dict[str, Any]:
    from weight_init.properties.claims._suite import run_suite

    verdicts = run_suite(None, seed=task.task_seed, alpha=SUITE_ALPHA)
    rows = [
        {"property": str(v.metadata.get("property")), "outcome": v.outcome, **_tests(v.tests)}
        for v in verdicts
    ]
    failed = any(r["outcome"] == "fail" for r in rows)
    inconclusive = any(r["outcome"] == "inconclusive" for r in rows)
    outcome = "fail" if failed else "inconclusive" if inconclusive else "pass"
    return {
        "alpha": SUITE_ALPHA,
        "outcome": outcome,
        "verdicts": rows,
    }


def _audit(task: Task) -> dict[str, Any]:
    from weight_init.app._calibration.audits import run_audit

    assert task.size is not None
    # the audit's seed is a uint32 root of its builds' seeds
    seed = task.task_seed % (2**32)
    return run_audit(task.size, task.effect is not None, seed, CHECK_ALPHA)


def run_task(task: Task) -> dict[str, Any]:
    """Run ``task``; the record (see :mod:`.records`). Timing sits in ``wall_seconds`` and
    ``cpu_seconds`` only, the fields a comparison of two runs leaves out."""
    _single_threaded_torch()
    wall, cpu = time.perf_counter(), time.process_time()
    head = identity(task)
    try:
        if task.kind is Kind.PROPERTY:
            body = _suite(task)
        elif task.kind is Kind.AUDIT:
            body = _audit(task)
        else:
            body = _check(task)
        error = None
    except Exception as exc:  # the checked code is untrusted: its failure is a result
        body = {**_NO_RESULTS, "outcome": "error"}
        error = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return {
        "task_id": task.task_id,
        "kind": task.kind.value,
        "seed": task.seed,
        "task_seed": task.task_seed,
        "repetition": task.repetition,
        **head,
        **body,
        "error": error,
        "wall_seconds": time.perf_counter() - wall,
        "cpu_seconds": time.process_time() - cpu,
    }


def _single_threaded_torch() -> None:
    """Workers share the cores: one intra-op thread each (only if torch is already loaded)."""
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != 1:
        torch.set_num_threads(1)
