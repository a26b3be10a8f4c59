"""Atomic report output that never loses a user's files.

Everything is written into a fresh temporary directory ``.NAME.tmp-PID-*`` beside ``--out``
and renamed into place only when complete, so:

* :func:`preflight` refuses an unusable ``--out`` before any work, with one line naming the
  path and the reason: a file, a mount point (a report replaces its directory by a rename,
  which a mount point cannot take), a read-only directory or file system, a non-empty
  directory that is not a report, or an earlier report holding files the report did not
  write (named; ``overwrite=True``, ``--overwrite`` on the command line, deletes them);
* a symlinked ``--out`` is followed: the report replaces the link's target, the link stays;
* a failure half-way or ``KeyboardInterrupt`` removes the temporary directory and any parent
  directories created for it; so does SIGTERM (the command line's handler calls
  :func:`abort_staged`);
  leftovers of runs killed outright (SIGKILL) are removed by the next run: a ``.NAME.tmp-*``
  or ``.NAME.old-*`` directory that holds the :data:`MARKER` file and whose process is gone;
* an existing report is replaced only once its successor is complete (the two renames run
  with SIGINT/SIGTERM blocked).

The :data:`MARKER` file marks a directory as a report and lists the entries the report wrote
(its manifest); anything else in the directory is the user's.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

from weight_init.errors import ReportOutputError

#: File that marks a directory as a weight-init report (so it may be replaced).
MARKER = ".weight-init-report"
_MARKER_TITLE = "weight-init report directory"
#: Entries of reports written before the marker held a manifest.
_LEGACY_ENTRIES = frozenset({"index.html", "report.md", "summary.json", "figures"})


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def target_of(out: Path | str) -> Path:
    """The directory a report for ``--out`` replaces: ``out`` with symlinks followed."""
    return Path(os.path.realpath(out))


def _written_by_report(directory: Path) -> frozenset[str] | None:
    """The manifest of the report in ``directory``, None if it is not a report."""
    try:
        lines = (directory / MARKER).read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    names = frozenset(line for line in lines[1:] if line)
    return (names or _LEGACY_ENTRIES) | {MARKER}


def _names(entries: list[Path]) -> str:
    shown = [p.name + ("/" if p.is_dir() else "") for p in sorted(entries)[:5]]
    more = f" and {len(entries) - 5} more" if len(entries) > 5 else ""
    return ", ".join(shown) + more


def check_target(out: Path, overwrite: bool = False) -> None:
    """Raise :class:`ReportOutputError` if ``out`` (symlinks followed) must not be replaced."""
    if out.exists() and not out.is_dir():
        raise ReportOutputError(f"--out {out}: exists and is not a directory")
    if not out.is_dir():
        return
    if os.path.ismount(out):
        raise ReportOutputError(
            f"--out {out}: is a mount point, which a report (renamed into place) cannot "
            "replace; choose a directory inside it"
        )
    try:
        entries = list(out.iterdir())
    except OSError as exc:
        raise ReportOutputError(f"--out {out}: cannot read it ({_reason(exc)})") from None
    if not entries:
        return
    ours = _written_by_report(out)
    if ours is None:
        raise ReportOutputError(
            f"--out {out}: a non-empty directory that is not a weight-init report; "
            "choose a new or empty directory"
        )
    foreign = [p for p in entries if p.name not in ours]
    if foreign and not overwrite:
        raise ReportOutputError(
            f"--out {out}: holds files the report did not write ({_names(foreign)}); move "
            "them, or pass --overwrite to delete them with the old report"
        )


def _check_writable(target: Path) -> None:
    """Refuse a read-only ``target`` (or its file system) before any work."""
    where = target if target.exists() else target.parent
    while not where.exists() and where.parent != where:
        where = where.parent
    if not where.is_dir():
        return  # an ancestor is a file: the staging directory cannot be made, said below
    try:
        read_only = bool(os.statvfs(where).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    if read_only or (target.exists() and not os.access(target, os.W_OK | os.X_OK)):
        raise ReportOutputError(f"--out {target}: cannot write there (read-only)")
    if target.parent.is_dir():  # the staging directory can be made (root ignores modes)
        try:
            os.rmdir(
                tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=target.parent)
            )
        except OSError as exc:
            raise ReportOutputError(
                f"--out {target}: cannot write there ({_reason(exc)})"
            ) from None


_LEFTOVER = re.compile(r"\.(?P<name>.+)\.(?:tmp|old)-(?:(?P<pid>\d+)-)?[^/]*$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def remove_leftovers(target: Path) -> list[Path]:
    """Remove ``.NAME.tmp-*`` / ``.NAME.old-*`` beside ``target`` left by killed runs: ours
    (they hold :data:`MARKER`) and not of a live process. Returns what was removed."""
    removed: list[Path] = []
    try:
        siblings = list(target.parent.iterdir())
    except OSError:
        return removed
    for p in siblings:
        m = _LEFTOVER.match(p.name)
        if m is None or m["name"] != target.name or p.is_symlink() or not p.is_dir():
            continue
        if not (p / MARKER).is_file():
            continue
        if m["pid"] is not None and int(m["pid"]) != os.getpid() and _alive(int(m["pid"])):
            continue
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
    return removed


def preflight(out: Path | str, overwrite: bool = False) -> Path:
    """Every check :func:`staged` makes before writing, to run before any work; returns the
    target directory (``out`` with symlinks followed)."""
    target = target_of(out)
    check_target(target, overwrite)
    _check_writable(target)
    return target


#: Staging directories (and parents created for them) of reports being written, for
#: :func:`abort_staged`.
_ACTIVE: dict[Path, Path | None] = {}


def abort_staged() -> None:
    """Remove every staging directory being written (and parents created for it): for a
    signal handler that ends the process without unwinding."""
    for tmp, created in list(_ACTIVE.items()):
        shutil.rmtree(tmp, ignore_errors=True)
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
    _ACTIVE.clear()


def _missing_root(parent: Path) -> Path | None:
    """The outermost ancestor of ``parent`` (itself included) that does not exist yet."""
    root = None
    p = parent
    while not p.exists():
        root = p
        if p.parent == p:
            break
        p = p.parent
    return root


@contextlib.contextmanager
def staged(out: Path | str, overwrite: bool = False) -> Iterator[Path]:
    """Yield an empty temporary directory; on normal exit it becomes ``out`` (see the
    module docstring for what is refused and what is cleaned up)."""
    target = preflight(out, overwrite)
    parent = target.parent
    created = _missing_root(parent)
    try:
        parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(target)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=parent))
        _ACTIVE[tmp] = created
    except OSError as exc:
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        raise ReportOutputError(f"--out {out}: cannot write there ({_reason(exc)})") from None
    try:
        _umask = os.umask(0)
        os.umask(_umask)
        os.chmod(tmp, 0o777 & ~_umask)  # mkdtemp's 0700 would make the report private
        (tmp / MARKER).write_text(_MARKER_TITLE + "\n", encoding="utf-8")
        yield tmp
        names = sorted(p.name for p in tmp.iterdir() if p.name != MARKER)
        (tmp / MARKER).write_text("\n".join([_MARKER_TITLE, *names]) + "\n", encoding="utf-8")
        _replace(tmp, target, overwrite)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        raise
    finally:
        _ACTIVE.pop(tmp, None)


def _replace(tmp: Path, target: Path, overwrite: bool) -> None:
    """Rename ``tmp`` to ``target``, moving an earlier report out of the way first."""
    old = None
    mask = getattr(signal, "pthread_sigmask", None)  # POSIX only
    previous = mask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM}) if mask else None
    try:
        if target.exists():
            check_target(target, overwrite)
            old = Path(
                tempfile.mkdtemp(prefix=f".{target.name}.old-{os.getpid()}-", dir=target.parent)
            )
            old.rmdir()
            os.rename(target, old)
        os.rename(tmp, target)
        _ACTIVE.pop(tmp, None)  # in place: no longer ours to remove (signals still blocked)
    except OSError as exc:
        if old is not None and old.exists() and not target.exists():
            os.rename(old, target)
        raise ReportOutputError(
            f"--out {target}: cannot move the report into place ({_reason(exc)})"
        ) from None
    finally:
        if mask is not None and previous is not None:
            mask(signal.SIG_SETMASK, previous)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
