"""Time of one conformance check per registered scheme, and of the commands users run.

In process: ``check_initializer(scheme, name)`` (the reference scheme checked against itself,
at the default alpha and power 0.99, so every statistical test draws the entries its power
plan asks for; an ``inconclusive`` outcome would mean it did not). Goal: a few seconds on
2 cores, stated as <= 5 s. The same for kernel checks (:data:`KERNEL_CASES`, implementations
``weight-init calibrate --kernels`` measures the false-alarm rate of, each through its layout
over the default kernel design), same goal. As commands (fresh interpreter, imports included):
``weight-init check`` of a numpy initializer and of ``torch:xavier_normal_`` (when torch is
installed), each interleaved with its import floor (``python -c "import numpy,
scipy.special"``, ``python -c "import torch"``) in the same run; goal: wall
time at most 0.3 s above the floor (minima; CPU time beside it), with the package's
bytecode written first, as an install writes it (:func:`compile_package`). ``weight-init report``
on its defaults once, for information (its goal: bench_report.py).

``--ad-only``: a check of he_normal, glorot_uniform and he_truncated_normal with and without
the ``anderson-darling`` test (unregistered), interleaved, at seeds 0 and 1, and the commands.

    python benchmarks/bench_check.py [--repeats 3] [--kernels-only] [--ad-only]
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import Row, Timing, commands, fmt_seconds, interleaved, markdown_table, verdict
from weight_init.properties.conformance._runner import check_initializer
from weight_init.schemes import SCHEMES

GOAL_SECONDS = 5.0


def check_rows(repeats: int) -> list[Row]:
    rows: list[Row] = []
    for name, scheme in SCHEMES.items():
        try:
            verdict_ = check_initializer(scheme, name)
        except Exception as exc:  # a broken check is reported, not hidden
            rows.append(Row(f"check_initializer `{name}`", "default plan", f"error: {exc}", ""))
            continue
        t = interleaved({"check": lambda s=scheme, n=name: check_initializer(s, n)}, repeats, 0)
        meta = verdict_.metadata
        rows.append(
            Row(
                f"check_initializer `{name}`",
                f"{meta['n_entries']} entries, {meta['n_calls']} calls",
                f"{fmt_seconds(t['check'].min)} (median {fmt_seconds(t['check'].median)}); "
                f"outcome {verdict_.outcome}",
                f"<= {GOAL_SECONDS:g} s",
                verdict(t["check"].min, GOAL_SECONDS),
            )
        )
    return rows


#: Kernel checks timed: (spec, scheme, layout) of
#: :class:`weight_init.app._calibration.implementations.KernelImplementation`; the torch ones
#: only when torch is installed.
KERNEL_CASES: tuple[tuple[str, str, str], ...] = (
    ("scheme:he_normal", "he_normal", "torch.conv"),
    ("scheme:glorot_uniform", "glorot_uniform", "keras.conv_transpose"),
    ("torch.nn.init:kaiming_normal_", "he_normal", "torch.conv"),
    ("torch:Conv2d.weight", "torch_linear_default", "torch.conv"),
    ("torch:ConvTranspose2d.weight", "torch_linear_default", "torch.conv_transpose"),
)


def kernel_rows(repeats: int) -> list[Row]:
    """One row per :data:`KERNEL_CASES` entry: the kernel check's time (default alpha, its
    power plan; the seed fixed so every repeat does the same work)."""
    from weight_init.app._calibration.implementations import KernelImplementation

    have_torch = importlib.util.find_spec("torch") is not None
    rows: list[Row] = []
    for spec, scheme, layout in KERNEL_CASES:
        if spec.startswith("torch") and not have_torch:
            continue
        impl = KernelImplementation(spec, scheme, layout)
        what = f"kernel check `{impl.name}`"
        try:
            v = impl.check(0, 1e-4)
        except Exception as exc:  # a broken check is reported, not hidden
            rows.append(Row(what, "default kernel design", f"error: {exc}", ""))
            continue
        t = interleaved({"check": lambda i=impl: i.check(0, 1e-4)}, repeats, 0)
        meta = v.verdict.metadata
        rows.append(
            Row(
                what,
                f"{meta['n_entries']} entries, {meta['n_calls']} calls, {len(v.design)} specs",
                f"{fmt_seconds(t['check'].min)} (median {fmt_seconds(t['check'].median)}); "
                f"outcome {v.outcome}",
                f"<= {GOAL_SECONDS:g} s",
                verdict(t["check"].min, GOAL_SECONDS),
            )
        )
    return rows


#: The goal: a check's wall time at most this much above its import floor.
CHECK_OVER_FLOOR = 0.3
NUMPY_INIT = """import numpy as np

def he(fan_in, fan_out, rng=None):
    return (rng or np.random.default_rng()).normal(0.0, np.sqrt(2.0 / fan_in), (fan_in, fan_out))
"""


def _over_floor_row(what: str, t: Timing, floor: Timing, floor_cmd: str) -> Row:
    """``check - floor`` on minima (wall and CPU), goal <= CHECK_OVER_FLOOR."""
    wall = t.min - floor.min
    cpu = min(t.cpu) - min(floor.cpu)
    return Row(
        what,
        f"fresh interpreter, {len(t.runs)} runs interleaved with the floor `{floor_cmd}`",
        f"{fmt_seconds(t.min)} vs floor {fmt_seconds(floor.min)}: +{wall:.2f} s wall "
        f"(CPU {min(t.cpu):.2f} vs {min(floor.cpu):.2f} s: +{cpu:.2f} s)",
        f"<= floor + {CHECK_OVER_FLOOR:g} s",
        _over_verdict(wall, cpu),
    )


def _over_verdict(wall: float, cpu: float) -> str:
    if wall <= CHECK_OVER_FLOOR:
        return "met"
    out = f"missed by {wall - CHECK_OVER_FLOOR:.2f} s"
    if cpu <= CHECK_OVER_FLOOR:
        out += f" (CPU excess {cpu:.2f} s meets it: likely other load; re-run quiet)"
    return out


def compile_package() -> None:
    """Write the package's bytecode, as ``pip install`` does. An editable install run under
    ``PYTHONDONTWRITEBYTECODE=1`` would otherwise compile every module of the check's path
    from source on every run (about 0.03-0.06 s CPU), a cost no installed user pays and the
    floor's numpy and scipy (installed with their bytecode) do not pay either."""
    import compileall

    for name in ("weight_init", "weight_init.properties", "weight_init.reports", "weight_init.app"):
        spec = importlib.util.find_spec(name)
        for location in (spec.submodule_search_locations or ()) if spec else ():
            compileall.compile_dir(location, quiet=1)


def command_rows(time_report: bool = True, repeats: int = 5) -> list[Row]:
    exe = shutil.which("weight-init")
    if exe is None:
        return [Row("`weight-init` commands", "", "not installed (pip install -e .)", "")]
    compile_package()
    py = sys.executable
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "bench_init.py").write_text(NUMPY_INIT)
        floor_np = "import numpy, scipy.special"
        cmds = {
            "floor": [py, "-c", floor_np],
            "check": [exe, "check", "bench_init:he", "--scheme", "he_normal"],
        }
        t = commands(cmds, repeats, cwd=tmp, env={"PYTHONPATH": tmp})
        rows.append(
            _over_floor_row(
                "`weight-init check bench_init:he --scheme he_normal` (numpy initializer)",
                t["check"],
                t["floor"],
                f"python -c '{floor_np}'",
            )
        )
        if importlib.util.find_spec("torch") is not None:
            cmds = {
                "floor": [py, "-c", "import torch"],
                "check": [exe, "check", "torch:xavier_normal_", "--scheme", "glorot_normal"],
            }
            t = commands(cmds, repeats, cwd=tmp)
            rows.append(
                _over_floor_row(
                    "`weight-init check torch:xavier_normal_ --scheme glorot_normal`",
                    t["check"],
                    t["floor"],
                    "python -c 'import torch'",
                )
            )
        t = commands({"scipy.stats": [py, "-c", "import numpy, scipy.stats"]}, repeats, cwd=tmp)
        rows.append(
            Row(
                "`python -c 'import numpy, scipy.stats'` (what a module-level scipy.stats costs)",
                "fresh interpreter",
                f"{fmt_seconds(t['scipy.stats'].min)}",
                "(information)",
            )
        )
        if time_report:
            secs, rc = _timed([exe, "report", "--out", str(Path(tmp, "report")), "--quiet"], tmp)
            rows.append(
                Row(
                    "`weight-init report` (defaults), one run",
                    "7 schemes, 10 x 500, phase diagram, property verdicts",
                    f"{fmt_seconds(secs)} (exit {rc}); see bench_report.py for the goal",
                    "(information)",
                )
            )
    return rows


def _timed(cmd: list[str], cwd: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    return time.perf_counter() - t0, proc.returncode


#: Schemes whose checks are timed with and without the checks between calls, of homogeneity,
#: extremes and top direction (one per family kind).
ADDED_CASES = ("he_normal", "glorot_uniform", "orthogonal")
#: The added checks may cost at most this fraction of the check without them.
ADDED_GOAL = 0.5


def added_rows(repeats: int) -> list[Row]:
    """A check with every registered check against the same check with the five added
    statistical checks unregistered (its plan then has the 7 tests of before), interleaved
    in one run. The determinism check's extra calls (one or two per shape) are in both."""
    from weight_init.properties.conformance._checks import registry

    added = (
        registry.BETWEEN_CALLS,
        registry.UNIT_HOMOGENEITY,
        registry.INPUT_HOMOGENEITY,
        registry.EXTREMES,
        registry.TOP_DIRECTION,
    )

    def without(scheme: object, name: str) -> None:
        for c in added:
            registry.unregister_check(c)
        try:
            check_initializer(scheme, name)  # type: ignore[arg-type]
        finally:
            for c in added:
                registry.register_check(c)

    rows: list[Row] = []
    for name in ADDED_CASES:
        scheme = SCHEMES[name]
        t = interleaved(
            {
                "with": lambda s=scheme, n=name: check_initializer(s, n),
                "without": lambda s=scheme, n=name: without(s, n),
            },
            repeats,
        )
        ratio, _, cpu = t["with"].ratio(t["without"])
        rows.append(
            Row(
                f"added checks `{name}`",
                "all checks / without the 5 added (min of runs)",
                f"{fmt_seconds(t['with'].min)} / {fmt_seconds(t['without'].min)} "
                f"({ratio - 1.0:+.0%}; CPU {cpu - 1.0:+.0%})",
                f"<= +{ADDED_GOAL:.0%}",
                verdict(ratio - 1.0, ADDED_GOAL, cpu=cpu - 1.0),
            )
        )
    return rows


#: Schemes whose checks are timed with and without the anderson-darling test (one per i.i.d.
#: family: its plan moves the uniform's and the truncated normal's sample sizes).
AD_CASES = ("he_normal", "glorot_uniform", "he_truncated_normal")


def ad_rows(repeats: int, seed: int = 0) -> list[Row]:
    """A check with every registered check against the same check with ``anderson-darling``
    unregistered (its plan then has the tests and sample sizes of before), interleaved in one
    run, at ``seed``; the entries drawn beside them. (At about 1% of seeds a correct law's
    exact p-value falls below 0.01 and the test is read again at the draws' resolution, which
    costs more: he_normal at seed 0 is one.)"""
    from weight_init.properties.conformance._checks import registry

    def without(scheme: object, name: str) -> object:
        registry.unregister_check(registry.ANDERSON_DARLING)
        try:
            return check_initializer(scheme, name, seed=seed)  # type: ignore[arg-type]
        finally:
            registry.register_check(registry.ANDERSON_DARLING)

    rows: list[Row] = []
    for name in AD_CASES:
        scheme = SCHEMES[name]
        n_with = check_initializer(scheme, name, seed=seed).metadata["n_entries"]
        n_without = without(scheme, name).metadata["n_entries"]  # type: ignore[attr-defined]
        t = interleaved(
            {
                "with": lambda s=scheme, n=name: check_initializer(s, n, seed=seed),
                "without": lambda s=scheme, n=name: without(s, n),
            },
            repeats,
        )
        ratio, _, cpu = t["with"].ratio(t["without"])
        rows.append(
            Row(
                f"anderson-darling `{name}`, seed {seed}",
                f"all checks / without it (min of runs); entries {n_with} / {n_without}",
                f"{fmt_seconds(t['with'].min)} / {fmt_seconds(t['without'].min)} "
                f"({ratio - 1.0:+.0%}; CPU {cpu - 1.0:+.0%})",
                "(information)",
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--commands-only", action="store_true", help="skip the in-process rows")
    parser.add_argument("--kernels-only", action="store_true", help="only the kernel checks")
    parser.add_argument(
        "--added-only", action="store_true", help="only the added checks' cost and the commands"
    )
    parser.add_argument(
        "--ad-only",
        action="store_true",
        help="only the anderson-darling test's cost and the commands",
    )
    args = parser.parse_args()
    if args.ad_only:
        rows = ad_rows(max(args.repeats, 3)) + ad_rows(max(args.repeats, 3), seed=1)
        print(markdown_table(rows + command_rows(time_report=False, repeats=max(args.repeats, 3))))
        return
    if args.added_only:
        rows = added_rows(max(args.repeats, 3))
        print(markdown_table(rows + command_rows(time_report=False, repeats=max(args.repeats, 3))))
        return
    if args.kernels_only:
        print(markdown_table(kernel_rows(args.repeats)))
        return
    rows = [] if args.commands_only else check_rows(args.repeats) + kernel_rows(args.repeats)
    print(markdown_table(rows + command_rows(repeats=max(args.repeats, 3))))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
