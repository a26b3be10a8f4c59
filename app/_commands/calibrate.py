"""``weight-init calibrate``: measure the check's false-alarm rate, its power, the property
family's calibration and the model audit's false alarms and power at each stated resolution,
on local processes or a Dask cluster, resumably; with ``--hypothesis N`` also the property
family over random Hypothesis-drawn cases
(:mod:`weight_init.app._calibration.hypothesis_draws`).

Writes ``--out/run.json``, ``--out/records.jsonl`` (one record per finished task, see
:mod:`weight_init.app._calibration.records`) and, at the end, ``--out/calibration.md`` with
its figures (:mod:`weight_init.reports._calibration`). Exit 0 when every task is recorded;
2 on bad flags, an ``--out`` holding another run, an unreachable scheduler or a lost worker
pool (one line on stderr; the records so far are kept, ``--resume`` continues).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from weight_init.app._commands.argtypes import non_negative_int, positive_int, scheme_name
from weight_init.errors import RunDirectoryError, install_hint

DEFAULT_OUT = "weight-init-calibration"


def _items(text: str) -> list[str]:
    items = [t.strip() for t in text.split(",")]
    if any(not t for t in items):
        raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}")
    return items


def _fractions(text: str) -> list[float]:
    from weight_init.app._commands.argtypes import fraction

    return [fraction(t) for t in _items(text)]


def scheme_list(text: str) -> list[str]:
    return [scheme_name(s) for s in _items(text)]


def effect_list(text: str) -> list[str]:
    from weight_init.app._calibration.effects import EFFECTS

    items = _items(text)
    for e in items:
        if e not in EFFECTS:
            raise argparse.ArgumentTypeError(
                f"unknown effect {e!r}; choose from {', '.join(EFFECTS)}"
            )
    return items


def adapter_list(text: str) -> list[str]:
    from weight_init.app._calibration.implementations import ADAPTERS, installed_frameworks

    items = [] if text.strip() in ("", "none") else _items(text)
    have = installed_frameworks()
    for f in items:
        if f not in ADAPTERS:
            raise argparse.ArgumentTypeError(
                f"unknown framework {f!r}; choose from {', '.join(ADAPTERS)} or none"
            )
        if f not in have:
            raise argparse.ArgumentTypeError(f"{f} is not installed ({install_hint(f)})")
    return items


def register(sub: Any) -> None:
    from weight_init.app._calibration.effects import EFFECTS

    p = sub.add_parser(
        "calibrate",
        help="measure false-alarm rates, power curves and property calibration (resumable)",
        description="Run seeded conformance checks of correct implementations (false-alarm "
        "rates at alpha 1e-4..5e-2 with exact Clopper-Pearson bounds), of named defects "
        "(power curves) and property-suite runs on the reference, on local processes or a "
        "Dask cluster; one JSON Lines record per finished task in --out, then "
        "--out/calibration.md.",
    )
    p.add_argument(
        "--checks",
        type=non_negative_int,
        default=1000,
        metavar="N",
        help="false-alarm checks of correct implementations (default 1000)",
    )
    p.add_argument(
        "--kernels",
        action="store_true",
        help="the false-alarm checks cycle over correct kernel implementations (reference "
        "schemes through every conv layout, torch.nn.init kernels, torch conv defaults) "
        "checked through their layouts, instead of the 2-D initializers",
    )
    p.add_argument(
        "--power",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="checks per (effect, size) point of the power curves (default 0: none)",
    )
    p.add_argument(
        "--effects",
        type=effect_list,
        default=None,
        metavar="LIST",
        help=f"effects of the power curves (default all: {', '.join(EFFECTS)})",
    )
    p.add_argument(
        "--properties",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="property-suite runs on the reference (default 0)",
    )
    p.add_argument(
        "--audits",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="audits of a correctly initialized model and N of the model with the shared std "
        "error its rows state, per --audit-resolutions target (default 0)",
    )
    p.add_argument(
        "--audit-resolutions",
        type=_fractions,
        default=None,
        metavar="LIST",
        help="target resolutions of the audits, e.g. 1%%,10%% (the default)",
    )
    p.add_argument(
        "--hypothesis",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="also run every property over N Hypothesis-drawn cases (drawn from --seed) at "
        "alpha 1e-4 and print the family's false-alarm rate (default 0; printed, not "
        "recorded)",
    )
    p.add_argument(
        "--property-pvalues",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="also check that every property p-value is calibrated over N suite seeds from "
        "--seed (uniform point nulls, valid composite ones; Holm at 1e-3 over the groups); "
        "writes property_pvalues.md in --out; exit 1 if not calibrated",
    )
    p.add_argument(
        "--property-tails",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="also count the tails at 1e-3 and 1e-4 of the point-null property p-values over "
        "N replications of each test (replication seeds from --seed); writes "
        "property_tails.md in --out; exit 1 if not calibrated",
    )
    p.add_argument(
        "--schemes",
        type=scheme_list,
        default=None,
        metavar="LIST",
        help="only implementations of these schemes (default every non-constant scheme)",
    )
    p.add_argument(
        "--adapters",
        type=adapter_list,
        default=None,
        metavar="LIST",
        help="frameworks whose initializers are checked, of torch,jax,keras or none "
        "(default: those installed)",
    )
    engine = p.add_mutually_exclusive_group()
    engine.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        metavar="K",
        help="local worker processes (default: the cores available; never more than the "
        "tasks, and a value above the cores is capped to them with a notice)",
    )
    engine.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="a Dask scheduler, e.g. tcp://HOST:8786 (needs the dask extra: "
        "pip install '.[dask]' in a clone)",
    )
    p.add_argument(
        "--out",
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"run directory: run.json, records.jsonl, calibration.md (default {DEFAULT_OUT}); "
        "refused if it holds files weight-init did not write",
    )
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a run (or other weight-init output) in --out, deleting it and any "
        "files in it weight-init did not write",
    )
    p.add_argument("--seed", type=non_negative_int, default=0, help="root seed (default 0)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from weight_init.app._calibration import engine
    from weight_init.app._calibration.effects import EFFECTS
    from weight_init.app._calibration.implementations import (
        catalogue,
        installed_frameworks,
        kernel_catalogue,
    )
    from weight_init.app._calibration.records import RunStore
    from weight_init.app._calibration.tasks import (
        audit_task,
        false_alarm_task,
        power_task,
        property_task,
    )
    from weight_init.reports._parallel import stderr_notice

    if args.scheduler is not None:
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise engine.DaskMissingError(engine.DASK_HINT) from None
    frameworks = installed_frameworks() if args.adapters is None else args.adapters
    impls: Any = (kernel_catalogue if args.kernels else catalogue)(frameworks, args.schemes)
    if args.checks and not impls:
        from weight_init.app._cli import UsageError

        raise UsageError("weight-init calibrate: no implementation of the --schemes given")
    tasks = [false_alarm_task(args.seed, i, impls) for i in range(args.checks)]
    for name in args.effects or list(EFFECTS):
        for k in range(len(EFFECTS[name].sizes)):
            tasks += [power_task(args.seed, name, k, r) for r in range(args.power)]
    tasks += [property_task(args.seed, i) for i in range(args.properties)]
    if args.audits:
        from weight_init.app._calibration.audits import RESOLUTIONS

        targets = args.audit_resolutions or list(RESOLUTIONS)
        for k, target in enumerate(targets):
            for defect in (False, True):
                tasks += [audit_task(args.seed, target, k, defect, r) for r in range(args.audits)]
    settings = {"seed": args.seed, "implementations": [i.name for i in impls]}
    store = RunStore.open(args.out, settings, args.resume, args.overwrite)
    todo = [t for t in tasks if t.task_id not in store.done]
    start = time.perf_counter()
    try:
        notice = stderr_notice("weight-init calibrate")
        with engine.open_executor(args.workers, args.scheduler, len(todo), notice) as (
            executor,
            slots,
        ):
            engine.run_tasks(executor, todo, store, window=2 * slots, progress=not args.quiet)
    finally:
        store.close()
    from weight_init.reports._calibration_render import write_report

    summary = write_report(store.directory)
    print(summary)
    if args.hypothesis:
        from weight_init.app._calibration.hypothesis_draws import measure

        print(measure(args.hypothesis, rng_seed=args.seed).describe())
    calibrated = _property_tables(args, store.directory)
    print(
        f"weight-init calibrate: {len(todo)} tasks run, {len(tasks) - len(todo)} already "
        f"recorded, {time.perf_counter() - start:.0f} s; wrote {args.out}/calibration.md",
        file=sys.stderr,
    )
    return 0 if calibrated else 1


#: The property tables of a run: file name -> (the option's value, tails?).
PROPERTY_TABLES = {
    "property_pvalues.md": ("property_pvalues", False),
    "property_tails.md": ("property_tails", True),
}


def _property_tables(args: argparse.Namespace, directory: Path) -> bool:
    """Run ``--property-pvalues`` / ``--property-tails`` and write their tables into the run
    directory (each file replaced whole); False if one is not calibrated."""
    from weight_init.app._calibration.property_calibration import measure
    from weight_init.reports._calibration import RUN_KIND
    from weight_init.reports._output_dir import replace_files

    ok = True
    for name, (option, tails) in PROPERTY_TABLES.items():
        n = getattr(args, option)
        if not n:
            continue
        command = f"weight-init calibrate --checks 0 --{option.replace('_', '-')} {n}"
        command += f" --seed {args.seed}" if args.seed else ""
        progress = not args.quiet and sys.stderr.isatty()
        result = measure(n, tails=tails, start=args.seed, command=command, progress=progress)
        with replace_files(directory, RUN_KIND) as staging:
            (staging / name).write_text(result.text, encoding="utf-8")
        print(f"{name.removesuffix('.md').replace('_', ' ')}: {result.summary}")
        ok = ok and result.passed
    return ok


def render(directory: str) -> int:
    """``weight-init report --calibration DIR``: rewrite DIR/calibration.md and its figures
    (DIR must be a calibration run: see :mod:`weight_init.reports._output_dir`)."""
    from weight_init.app._calibration.records import LEGACY_ENTRIES, RECORDS, WHAT
    from weight_init.reports._calibration_render import write_report
    from weight_init.reports._output_dir import reopen_run

    d = reopen_run(directory, WHAT, LEGACY_ENTRIES, flag="--calibration")
    if not (d / RECORDS).is_file():
        raise RunDirectoryError(
            f"--calibration {directory}: no {RECORDS} (run weight-init calibrate)"
        )
    print(write_report(d))
    print(f"weight-init report: wrote {directory}/calibration.md", file=sys.stderr)
    return 0
