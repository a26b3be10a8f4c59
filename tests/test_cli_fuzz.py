"""Drawn command lines for every subcommand: whatever a user types, the exit code is 0, 1 or
2, stderr holds no traceback and no internal error, and no file outside ``--out`` changes.

Hypothesis draws argument lists from a grammar of each command's flags with hostile values
(bad and extreme numbers, scheme expressions broken and whole, paths that are files,
symbolic links, users' directories, names too long, unicode and newlines, specs of modules
that do not exist or are not initializers). Each example runs in a fresh directory holding a
user's files, a user's directory, a link to it and an earlier report; afterwards every path
there is compared with before, except what lies under the command's output directory.

``experiment``, ``report`` and ``calibrate`` run through :func:`weight_init.app._cli.main` in
this process (their work is drawn small); ``check``, ``check-forward``, ``identify``,
``audit`` and ``propagate`` as a subprocess, where the child process holding the code under
test is the point. The examples are few (:data:`EXAMPLES`: 59 in all) so the module fits the
default run; ``docs/bad-input.md`` lists the categories and the whole campaign
(``tests/bad_input_campaign.py``).
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli_helpers import WEIGHT_INIT
from weight_init.app._cli import main
from weight_init.reports._output_dir import MARKER

TESTS = Path(__file__).resolve().parent

#: Examples per subcommand: the commands run in this process take a fraction of a second;
#: each subprocess pays its interpreter's start-up and the child's imports (an ``audit``
#: about 5 s on a loaded 2-core machine), so they get fewer.
EXAMPLES = {
    "experiment": 12,
    "report": 12,
    "calibrate": 12,
    "check": 8,
    "identify": 5,
    "check-forward": 4,
    "audit": 3,
    "propagate": 3,
}

BAD_NUMBERS = ["", "-1", "0", "nan", "inf", "-inf", "1e400", "abc", "0x10", "3.5", " 2", "9" * 400]
SMALL = ["1", "2", "3"]
SEEDS = ["0", "7", "-3", "x", "9" * 400]
PROBABILITIES = ["0.01", "1e-4", "0", "1", "2", "-0.5", "nan", "abc", "1e-400"]
TIMEOUTS = ["30", "1e9", "1e300", "none", "inf", "0", "-5", "nan", "x", ""]
SCHEMES = [
    "he_normal",
    "xavier",
    "variance_scaling(2, fan_in, normal)",
    "normal(std=0.02)",
    "he_normal*gain(tanh)",
    "normal(std=",
    "__import__('os').system('true')",
    "he_nromal",
    "",
    "s" * 3000,
    "uniform(low=1, high=0)",
    "variance_scaling(-1, fan_in, normal)",
]
ACTIVATIONS = ["tanh", "relu", "selu", "nope", ""]
OUTS = [
    "out",
    "mine",
    "notes.txt",
    "link",
    "dangling",
    "earlier-report",
    "a/b/c",
    "x" * 300,
    ".",
    "",
    "/proc/weight-init-nope",
    "ü-ñ out",
    "name\nwith newline",
]
SPECS = [
    "weight_init_no_such_module:fn",
    "os:getcwd",
    "math:pi",
    "os",
    ":",
    "os:path.nope",
    "hostile_initializers:closes_file_descriptors",
    "torch:no_such_init_",
    "json:loads",
]

small = st.sampled_from(SMALL)


def _flag(name: str, values: list[str] | st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    strategy = values if isinstance(values, st.SearchStrategy) else st.sampled_from(values)
    return strategy.map(lambda v: [name, v])


def _switch(name: str) -> st.SearchStrategy[list[str]]:
    return st.just([name])


def _command(
    head: list[str], options: list[st.SearchStrategy[list[str]]], most: int = 5
) -> st.SearchStrategy[list[str]]:
    """``head`` followed by up to ``most`` drawn options, in drawn order."""
    return st.lists(st.one_of(options), max_size=most).map(
        lambda parts: head + [a for p in parts for a in p]
    )


def _sizes(flags: list[str]) -> list[st.SearchStrategy[list[str]]]:
    """Size flags: small valid values or bad ones (never a large valid one: that is work)."""
    return [_flag(f, st.sampled_from(SMALL + BAD_NUMBERS[:-1])) for f in flags]


scheme_list = st.lists(st.sampled_from(SCHEMES), min_size=1, max_size=3).map(",".join)

EXPERIMENT = _command(
    ["experiment", "--width", "8", "--samples", "8", "--input-dim", "8"],
    [
        _flag("--init", SCHEMES),
        *_sizes(["--depth", "--width", "--samples", "--input-dim"]),
        _flag("--activation", ACTIVATIONS),
        _flag("--seed", SEEDS),
        _flag("--dtype", ["float32", "float64", "int8", "bogus"]),
        _switch("--theory"),
    ],
)

REPORT = _command(
    [
        *("report", "--quiet", "--no-phase", "--no-suite", "--depth", "2", "--width", "8"),
        *("--samples", "8", "--input-dim", "8", "--schemes", "xavier"),
    ],
    [
        _flag("--schemes", scheme_list),
        _flag("--activations", ACTIVATIONS),
        *_sizes(["--depth", "--width", "--samples", "--input-dim"]),
        _flag("--seed", SEEDS),
        _flag("--out", OUTS),
        _switch("--overwrite"),
        _flag("--format", ["json", "md", "html,json", "bogus", "", "json,json"]),
        _flag("--check", ["weight_init_no_such_module:f=he_normal", "=", "x=he_nromal"]),
        _flag("--check-alpha", PROBABILITIES),
        _flag("--audit", [":", "nope", "a:"]),
        _flag("--expect", ["*=he_normal", "=", "*=normal(std="]),
        _flag("--workers", ["1", "2", "100000", "0", "x"]),
        _flag("--timeout", TIMEOUTS),
        _flag("--calibration", ["mine", "notes.txt", "nope", "earlier-report", "link"]),
    ],
)

CALIBRATE = _command(
    ["calibrate", "--quiet", "--adapters", "none", "--checks", "1", "--workers", "1"],
    [
        _flag("--checks", ["0", "1", "2", *BAD_NUMBERS[:-1]]),
        _flag("--power", ["0", *BAD_NUMBERS[:-1]]),
        _flag("--properties", ["0", *BAD_NUMBERS[:-1]]),
        _flag("--effects", ["", "bogus", ","]),
        _flag("--schemes", ["he_normal", "he_normal,xavier", "he_nromal", ""]),
        _flag("--adapters", ["none", "bogus", ""]),
        _flag("--workers", ["1", "2", "100000", "0", "x"]),
        _flag("--out", OUTS),
        _switch("--resume"),
        _switch("--overwrite"),
        _switch("--kernels"),
        _flag("--seed", SEEDS[:-1]),
    ],
)

CHECK = _command(
    ["check"],
    [
        _flag("--scheme", SCHEMES),
        _flag("--convention", ["in_out", "out_in", "sideways"]),
        _flag("--seed", SEEDS),
        _flag("--alpha", PROBABILITIES),
        _flag("--timeout", TIMEOUTS),
        _switch("--json"),
    ],
    most=4,
).flatmap(lambda argv: st.sampled_from(SPECS).map(lambda spec: [*argv, spec]))

CHECK_FORWARD = _command(
    ["check-forward"],
    [
        _flag("--activation", ACTIVATIONS),
        *_sizes(["--samples", "--input-dim"]),
        _flag("--alpha", PROBABILITIES),
        _flag("--timeout", TIMEOUTS),
        _switch("--no-properties"),
        _switch("--json"),
    ],
    most=4,
).flatmap(lambda argv: st.sampled_from(SPECS).map(lambda spec: [*argv, spec]))

IDENTIFY = _command(
    ["identify"],
    [
        _flag("--convention", ["in_out", "out_in", "sideways"]),
        _flag("--seed", SEEDS),
        _flag("--timeout", TIMEOUTS),
        _switch("--json"),
    ],
    most=3,
).flatmap(lambda argv: st.sampled_from(SPECS).map(lambda spec: [*argv, spec]))

AUDIT = _command(
    ["audit"],
    [
        _flag("--expect", ["*=he_normal", "=", "*=normal(std=", "x=he_normal@sideways"]),
        _flag("--builds", SMALL + BAD_NUMBERS[:-1]),
        _flag("--alpha", PROBABILITIES),
        _flag("--timeout", TIMEOUTS),
        _switch("--json"),
    ],
    most=3,
).flatmap(lambda argv: st.sampled_from(SPECS).map(lambda spec: [*argv, spec]))


PROPAGATE = _command(
    ["propagate"],
    [
        _flag("--input-shape", ["8", "2,8", "", "x", "-1", "0,0"]),
        _flag("--builds", SMALL + BAD_NUMBERS[:-1]),
        _flag("--seed", SEEDS),
        _flag("--expect", ["*=he_normal", "=", "*=normal(std="]),
        _flag("--out", OUTS),
        _switch("--overwrite"),
        _flag("--timeout", TIMEOUTS),
        _switch("--json"),
    ],
    most=3,
).flatmap(lambda argv: st.sampled_from(SPECS).map(lambda spec: [*argv, spec]))


def user_directory(root: Path) -> None:
    """What a user has where the command runs."""
    (root / "notes.txt").write_text("mine\n")
    (root / "mine").mkdir()
    (root / "mine" / "data.csv").write_text("1,2\n")
    (root / "mine" / "calibration.md").write_text("my page\n")
    (root / "link").symlink_to(root / "mine", target_is_directory=True)
    (root / "dangling").symlink_to(root / "nowhere")
    tiny = ["--depth", "1", "--width", "4", "--samples", "4", "--input-dim", "4"]
    earlier = ["--schemes", "xavier", "--format", "json", "--out", str(root / "earlier-report")]
    assert main(["report", "--quiet", "--no-phase", "--no-suite", *tiny, *earlier]) == 0


def snapshot(root: Path) -> dict[str, tuple[str, int, int, str]]:
    """Every path under ``root``: kind, size, mtime and link target (links not followed)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st_ = p.lstat()
            link = os.readlink(p) if p.is_symlink() else ""
            kind = "link" if link else ("dir" if p.is_dir() else "file")
            size = 0 if kind == "dir" else st_.st_size
            out[str(p.relative_to(root))] = (kind, size, st_.st_mtime_ns, link)
    return out


def outputs(argv: list[str], root: Path) -> list[str]:
    """Paths (relative to ``root``) the command may write, decided before it runs: its
    ``--out`` (or default) and ``--calibration`` directories when they do not exist yet or
    are weight-init's own (they hold the marker; a symbolic link is never one)."""
    defaults = {"report": "weight-init-report", "calibrate": "weight-init-calibration"}
    places = []
    for flag in ("--out", "--calibration"):
        places += [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == flag]
    if argv[0] in defaults and "--out" not in argv:
        places.append(defaults[argv[0]])
    allowed = []
    for place in places:
        p = root / place
        try:
            ours = p.is_dir() and not p.is_symlink() and (p / MARKER).is_file()
        except (OSError, ValueError):  # a name the file system refuses: nothing is there
            ours = False
        if ours or not os.path.lexists(p):
            allowed.append(os.path.normpath(os.path.relpath(os.path.abspath(p), root)))
    return [a for a in allowed if a != "." and not a.startswith("..")]


def changed_outside(before: dict, after: dict, allowed: list[str]) -> list[str]:
    """Paths whose entry changed and that are neither under an allowed output nor a
    directory created on the way to one."""

    def allowed_change(path: str) -> bool:
        under = any(path == a or path.startswith(a + os.sep) for a in allowed)
        new_parent = path not in before and any(a.startswith(path + os.sep) for a in allowed)
        return under or new_parent

    keys = set(before) | set(after)
    return sorted(k for k in keys if before.get(k) != after.get(k) and not allowed_change(k))


@contextlib.contextmanager
def workspace() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="wi-fuzz-") as tmp:
        root = Path(tmp)
        user_directory(root)
        yield root


@contextlib.contextmanager
def chdir(path: Path) -> Iterator[None]:
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def in_process(argv: list[str], root: Path) -> tuple[int, str]:
    err = io.StringIO()
    with chdir(root), contextlib.redirect_stdout(io.StringIO()):
        with contextlib.redirect_stderr(err):
            code = main(argv)
    return code, err.getvalue()


def as_subprocess(argv: list[str], root: Path) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), *sys.path])}
    proc = subprocess.run(
        [WEIGHT_INIT, *argv], cwd=root, capture_output=True, text=True, timeout=300, env=env
    )
    return proc.returncode, proc.stderr


def judge(
    argv: list[str], code: int, err: str, before: dict, root: Path, allowed: list[str]
) -> None:
    assert code in (0, 1, 2), (argv, code, err)
    assert "Traceback" not in err, (argv, err)
    assert "internal error" not in err, (argv, err)
    moved = changed_outside(before, snapshot(root), allowed)
    assert not moved, (argv, moved, err)


def fuzz_settings(command: str) -> settings:
    return settings(
        max_examples=EXAMPLES[command],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


IN_PROCESS = {"experiment": EXPERIMENT, "report": REPORT, "calibrate": CALIBRATE}
SUBPROCESS = {
    "check": CHECK,
    "check-forward": CHECK_FORWARD,
    "identify": IDENTIFY,
    "audit": AUDIT,
    "propagate": PROPAGATE,
}


@pytest.mark.parametrize("command", sorted(IN_PROCESS))
def test_drawn_command_lines_in_process(command: str) -> None:
    @fuzz_settings(command)
    @given(IN_PROCESS[command])
    def fuzz(argv: list[str]) -> None:
        with workspace() as root:
            before, allowed = snapshot(root), outputs(argv, root)
            code, err = in_process(argv, root)
            judge(argv, code, err, before, root, allowed)

    fuzz()


@pytest.mark.parametrize("command", sorted(SUBPROCESS))
def test_drawn_command_lines_as_a_subprocess(command: str) -> None:
    @fuzz_settings(command)
    @given(SUBPROCESS[command])
    def fuzz(argv: list[str]) -> None:
        with workspace() as root:
            before, allowed = snapshot(root), outputs(argv, root)
            code, err = as_subprocess(argv, root)
            judge(argv, code, err, before, root, allowed)

    fuzz()


def test_the_judge_can_fail(tmp_path: Path) -> None:
    """A file changed outside the output directory is seen."""
    (tmp_path / "notes.txt").write_text("mine\n")
    before = snapshot(tmp_path)
    (tmp_path / "notes.txt").write_text("changed\n")
    (tmp_path / "out").mkdir()
    after = snapshot(tmp_path)
    assert changed_outside(before, after, ["out"]) == ["notes.txt"]
    with pytest.raises(AssertionError):
        judge(["report"], 0, "Traceback (most recent call last):", before, tmp_path, ["out"])
