"""The bad-input campaign: every hostile value of every category, tried once, counted.

``python tests/bad_input_campaign.py`` (from the repository root, ``OPENBLAS_NUM_THREADS=1``,
a few minutes) runs each input the way a user meets it and judges it as
``test_cli_fuzz.py`` does: exit 0, 1 or 2, no traceback, no internal error, no file
changed outside the output directory (command lines); a
:class:`~weight_init.errors.WeightInitError` or a result (Python API); a usage error or a
value (pytest plugin options). It writes the table of categories with the count tried and
the count handled cleanly to ``docs/generated/bad_input.md`` (``--out`` to change), which
``docs/bad-input.md`` includes, and lists any input not handled cleanly on stderr.

The test suite draws from the same categories (``test_cli_fuzz.py``) and keeps one test per
promise (``test_safety.py``, ``test_output_dir.py``); this enumeration is the whole campaign.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))

from cli_helpers import WEIGHT_INIT  # noqa: E402
from test_cli_fuzz import (  # noqa: E402
    BAD_NUMBERS,
    OUTS,
    PROBABILITIES,
    SCHEMES,
    SEEDS,
    SPECS,
    TIMEOUTS,
    as_subprocess,
    in_process,
    judge,
    outputs,
    snapshot,
    workspace,
)

#: A spec whose check fails at its first call (so a value that parses costs little).
FAST_FAIL = "os:getcwd"
TINY = ["--quiet", "--no-phase", "--no-suite", "--depth", "2", "--width", "8"]
TINY += ["--samples", "8", "--input-dim", "8", "--schemes", "xavier"]
EXPERIMENT = ["experiment", "--init", "xavier", "--width", "8", "--samples", "8"]
EXPERIMENT += ["--input-dim", "8"]
CALIBRATE = ["calibrate", "--quiet", "--adapters", "none", "--checks", "1", "--workers", "1"]
SIZES = BAD_NUMBERS[:-1]  # a huge valid size is work, not bad input


@dataclass
class Category:
    name: str
    what: str
    tried: int = 0
    clean: int = 0
    problems: list[str] = field(default_factory=list)


def command(category: Category, argv: list[str], subprocess_: bool = False) -> None:
    """Run ``argv`` in a fresh workspace and judge it."""
    category.tried += 1
    with workspace() as root:
        before, allowed = snapshot(root), outputs(argv, root)
        code, err = (as_subprocess if subprocess_ else in_process)(argv, root)
        try:
            judge(argv, code, err, before, root, allowed)
        except AssertionError as exc:
            category.problems.append(f"{argv!r}: {str(exc)[:300]}")
        else:
            category.clean += 1


def api(category: Category, label: str, call: Callable[[], object]) -> None:
    """``call()`` must return or raise a WeightInitError (or a usage error of the plugin)."""
    import pytest

    from weight_init.errors import WeightInitError

    category.tried += 1
    try:
        call()
    except (WeightInitError, pytest.UsageError, argparse.ArgumentTypeError):
        pass
    except Exception as exc:
        category.problems.append(f"{label}: {type(exc).__name__}: {exc}")
        return
    category.clean += 1


def numbers() -> Category:
    c = Category("numbers", "sizes, seeds, probabilities, timeouts, worker counts, out of range")
    for flag in ("--depth", "--width", "--samples", "--input-dim"):
        for v in SIZES:
            command(c, [*EXPERIMENT, flag, v])
            command(c, ["report", *TINY, "--out", "out", flag, v])
    for v in SEEDS:
        command(c, [*EXPERIMENT, "--seed", v])
    for v in PROBABILITIES:
        command(c, ["report", *TINY, "--out", "out", "--check-alpha", v])
        command(c, ["check", FAST_FAIL, "--scheme", "he_normal", "--alpha", v], True)
    for v in TIMEOUTS:
        command(c, ["check", FAST_FAIL, "--scheme", "he_normal", "--timeout", v], True)
    for flag in ("--checks", "--power", "--properties"):
        for v in SIZES:
            command(c, [*CALIBRATE, flag, v, "--out", "run"])
    for v in ("1", "2", "100000", "0", "-1", "x"):
        command(c, [*CALIBRATE, "--workers", v, "--out", "run"])
        command(c, ["report", *TINY, "--out", "out", "--workers", v])
    return c


def paths() -> Category:
    c = Category("output paths", "files, users' directories, symlinks, long names, unicode")
    for out in OUTS:
        command(c, ["report", *TINY, "--format", "json", "--out", out])
        command(c, ["propagate", "weight_init_no_such_module:f", "--out", out], True)
        command(c, [*CALIBRATE, "--out", out])
        command(c, [*CALIBRATE, "--out", out, "--overwrite"])
    for d in ("mine", "notes.txt", "nope", "earlier-report", "link", "dangling", "x" * 300):
        command(c, ["report", "--calibration", d])
        command(c, [*CALIBRATE, "--out", d, "--resume"])
    return c


def schemes() -> Category:
    c = Category("scheme expressions", "registered, expressions, broken, hostile, oversized")
    for s in SCHEMES:
        command(c, [*EXPERIMENT, "--init", s])
        command(c, ["report", *TINY, "--format", "json", "--out", "out", "--schemes", s])
        command(c, ["check", FAST_FAIL, "--scheme", s], True)
        command(c, [*CALIBRATE, "--out", "run", "--schemes", s])
    for rule in ("*=he_normal", "=", "*=normal(std=", "x=he_normal@sideways", "*=" + "s" * 3000):
        command(c, ["audit", "weight_init_no_such_module:f", "--expect", rule], True)
    return c


def specs() -> Category:
    c = Category("code specs", "missing modules, non-callables, wrong signatures, bad syntax")
    for spec in SPECS:
        command(c, ["check", spec, "--scheme", "he_normal"], True)
        command(c, ["identify", spec], True)
        command(c, ["check-forward", spec], True)
        command(c, ["audit", spec], True)
        command(c, ["propagate", spec, "--out", "out"], True)
        command(c, ["report", *TINY, "--out", "out", "--check", f"{spec}=he_normal"])
    return c


def hostile_code() -> Category:
    c = Category(
        "code under test",
        "extreme magnitudes, non-reproducible draws, closed file descriptors",
    )
    for name in (
        "he",
        "times_1e100",
        "plus_minus_1e308",
        "grid_unseeded",
        "closes_file_descriptors",
    ):
        command(c, ["check", f"hostile_initializers:{name}", "--scheme", "he_normal"], True)
        command(c, ["identify", f"hostile_initializers:{name}"], True)
    return c


GOOD_RECORD = {
    "task_id": "false_alarm-9",
    "kind": "false_alarm",
    "seed": 0,
    "outcome": "pass",
    "implementation": "scheme:he_normal",
    "scheme": "he_normal",
    "p_values": {"mean": 0.5},
    "wall_seconds": 0.1,
    "cpu_seconds": 0.1,
}
BAD_RECORDS = [
    b"{not json",
    b"\xff\xfe\x00binary",
    json.dumps({k: v for k, v in GOOD_RECORD.items() if k != "task_id"}).encode(),
    b"[1, 2, 3]",
    json.dumps({**GOOD_RECORD, "kind": "other"}).encode(),
    json.dumps({**GOOD_RECORD, "p_values": {"mean": "x"}}).encode(),
    b"[" * 100_000,
]
BAD_RUN_JSON = [b"{broken", b"[]", b"\xff", b"", b'{"seed": "zero"}']


def run_files() -> Category:
    c = Category("run files", "corrupt records.jsonl lines and run.json of a calibration run")
    for mutate in [*BAD_RECORDS, *(b"RUN:" + r for r in BAD_RUN_JSON)]:
        for resume in (True, False):
            c.tried += 1
            with workspace() as root:
                code, err = in_process([*CALIBRATE, "--checks", "0", "--out", "run"], root)
                if mutate.startswith(b"RUN:"):
                    (root / "run" / "run.json").write_bytes(mutate[4:])
                else:
                    with (root / "run" / "records.jsonl").open("ab") as f:
                        f.write(mutate + b"\n")
                argv = (
                    [*CALIBRATE, "--checks", "0", "--out", "run", "--resume"]
                    if resume
                    else ["report", "--calibration", "run"]
                )
                code, err = in_process(argv, root)
                ok = code in (0, 2) and "Traceback" not in err and len(err.splitlines()) <= 2
                if ok:
                    c.clean += 1
                else:
                    c.problems.append(f"{argv} after {mutate[:40]!r}: {err[:200]}")
    return c


def pipes() -> Category:
    c = Category("closed stdout", "`head -1` reading one line of output longer than a pipe holds")
    for argv in (
        ["check", "hostile_initializers:he", "--scheme", "he_normal", "--json"],
        [*EXPERIMENT, "--depth", "5000", "--width", "10"],
    ):
        c.tried += 1
        proc = subprocess.Popen(
            [WEIGHT_INIT, *argv], cwd=TESTS, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.readline()
        proc.stdout.close()
        err = proc.stderr.read().decode()
        proc.wait()
        if proc.returncode in (0, 141) and not err:
            c.clean += 1
        else:
            c.problems.append(f"{argv}: exit {proc.returncode}: {err[:200]}")
    return c


def python_api() -> Category:
    from hostile_initializers import he
    from weight_init.properties.conformance import check_initializer, identify

    c = Category("Python API arguments", "wrong types and values at the public entry points")
    for kwargs in (
        {"alpha": "0.01"},
        {"alpha": float("nan")},
        {"alpha": 2},
        {"power": "high"},
        {"seed": 1.5},
        {"seed": -1},
        {"n_entries": "100"},
        {"shapes": [(2, "3")]},
        {"shapes": "ab"},
        {"layout": 3},
        {"margin": 0.5},
        {"subject": 3},
    ):
        api(
            c,
            f"check_initializer({kwargs})",
            lambda k=kwargs: check_initializer(he, "he_normal", **k),
        )
    for scheme in (3, None, "he_nromal", "normal(std=", "s" * 3000):
        api(
            c,
            f"check_initializer(scheme={scheme!r:.40})",
            lambda s=scheme: check_initializer(he, s),
        )
    for fn in ("he", 3, None):
        api(c, f"check_initializer({fn!r})", lambda f=fn: check_initializer(f, "he_normal"))
    api(c, "identify(he, 'sideways')", lambda: identify(he, "sideways"))
    return c


def plugin_options() -> Category:
    from weight_init.app._pytest_plugin import _timeout, parse_check_option

    c = Category("pytest plugin options", "--weight-init-check and --weight-init-timeout values")
    for text in (
        "m:f=he_normal",
        "m:f=variance_scaling(2, fan_in, normal)@out_in",
        "m:f=normal(std=0.02)",
        "m:f",
        "=he_normal",
        "m:f=",
        "m:f=he_nromal",
        "m:f=normal(std=",
    ):
        api(c, f"--weight-init-check {text}", lambda t=text: parse_check_option(t))
    for value in TIMEOUTS:
        api(c, f"--weight-init-timeout {value!r}", lambda v=value: _timeout(v))
    return c


CATEGORIES = (
    numbers,
    paths,
    schemes,
    specs,
    hostile_code,
    run_files,
    pipes,
    python_api,
    plugin_options,
)


def table(categories: list[Category], seconds: float) -> str:
    lines = [
        "| category | inputs | tried | handled cleanly |",
        "| --- | --- | --- | --- |",
    ]
    for c in categories:
        lines.append(f"| {c.name} | {c.what} | {c.tried} | {c.clean} |")
    tried = sum(c.tried for c in categories)
    clean = sum(c.clean for c in categories)
    lines.append(f"| **all** | | **{tried}** | **{clean}** |")
    lines.append("")
    lines.append(
        f"Written by `python tests/bad_input_campaign.py` in {seconds:.0f} s "
        f"(Python {sys.version.split()[0]}, {sys.platform})."
    )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = TESTS.parent / "docs" / "generated" / "bad_input.md"
    parser.add_argument("--out", type=Path, default=default)
    args = parser.parse_args()
    start = time.monotonic()
    done = []
    for make in CATEGORIES:
        c = make()
        print(f"{c.name}: {c.clean}/{c.tried} clean", file=sys.stderr, flush=True)
        for p in c.problems:
            print(f"  {p}", file=sys.stderr)
        done.append(c)
    args.out.write_text(table(done, time.monotonic() - start), encoding="utf-8")
    return 0 if all(c.clean == c.tried for c in done) else 1


if __name__ == "__main__":
    sys.exit(main())
