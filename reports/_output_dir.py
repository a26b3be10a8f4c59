"""Every directory weight-init writes (``report --out``, ``calibrate --out``, and any other
command's output) follows one rule: a user's files are never overwritten or deleted, and
nothing half-written is left where the user looks.

For a new writer: call :func:`preflight` ``(out, overwrite, what)`` before any work (it
refuses an unusable ``--out`` in one line), then write everything inside
``with staged(out, overwrite, what) as tmp:``; the directory appears complete or not at
all. A directory that grows while the command runs (a resumable run) is created by
:func:`create_run` and reopened by :func:`reopen_run`; files added to it later go through
:func:`replace_files`.

What is refused (:class:`~weight_init.errors.ReportOutputError`, one line naming the path):

* a file, a mount point (a directory is replaced by a rename, which a mount point cannot
  take), a read-only directory or file system, a name longer than the file system allows
  (the staging directory beside it adds a suffix), a path that cannot be encoded;
* a non-empty directory that weight-init did not write; one that weight-init wrote but that
  holds files it did not write (named), or output of another kind (a calibration run is not
  replaced by a report): both only with ``overwrite=True`` (``--overwrite``), which deletes
  them;
* a symbolic link ``--out``, unless it points to a directory weight-init wrote (then that
  directory is replaced and the link stays): a name is never followed into a place
  weight-init did not create.

How it is written: into a fresh temporary sibling ``.NAME.tmp-PID-*``, renamed into place only
when complete; a failure half-way or ``KeyboardInterrupt`` removes it and any parent
directories created for it; so does SIGTERM (the command line's handler calls
:func:`abort_staged`); leftovers of runs killed outright (SIGKILL) are removed by the next
run: a ``.NAME.tmp-*`` or ``.NAME.old-*`` directory that holds the marker and whose process is
gone. An existing output is replaced only once its successor is complete (the two renames run
with SIGINT/SIGTERM blocked).

The :data:`MARKER` file marks a directory as weight-init's: its first line names the kind
(``weight-init report directory``), the next lines list the entries weight-init wrote (its
manifest); anything else in the directory is the user's.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

from weight_init.errors import ReportOutputError

#: File that marks a directory as weight-init's output (its kind and manifest).
MARKER = ".weight-init"
#: The marker of reports written before other commands shared this rule.
LEGACY_MARKER = ".weight-init-report"
#: Entries of reports written before the marker held a manifest.
_LEGACY_ENTRIES = frozenset({"index.html", "report.md", "summary.json", "figures"})
#: Bytes the staging directory's name adds to ``--out``'s: ``.`` ``.tmp-`` PID ``-`` 8 chars.
_STAGING_EXTRA = len(".") + len(".tmp-") + 7 + len("-") + 8


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _title(what: str) -> str:
    return f"weight-init {what} directory"


def _manifest(directory: Path) -> tuple[str, frozenset[str]] | None:
    """``(kind, entries weight-init wrote)`` of ``directory``, None if it is not ours."""
    for name in (MARKER, LEGACY_MARKER):
        marker = directory / name
        if marker.is_symlink():
            continue
        try:
            lines = marker.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        title = lines[0] if lines else ""
        m = re.fullmatch(r"weight-init (.+) directory", title)
        kind = m[1] if m else "report"
        names = frozenset(line for line in lines[1:] if line)
        if not names and name == LEGACY_MARKER:
            names = _LEGACY_ENTRIES
        return kind, names | {MARKER, LEGACY_MARKER}
    return None


def _names(entries: list[Path]) -> str:
    shown = [p.name + ("/" if p.is_dir() else "") for p in sorted(entries)[:5]]
    more = f" and {len(entries) - 5} more" if len(entries) > 5 else ""
    return ", ".join(shown) + more


def _is_staging(name: str) -> bool:
    return _FILE_STAGING.match(name) is not None


def check_target(
    out: Path, overwrite: bool = False, what: str = "report", flag: str = "--out"
) -> None:
    """Raise :class:`ReportOutputError` if directory ``out`` (symlinks followed) must not be
    replaced by output of kind ``what``."""
    if out.exists() and not out.is_dir():
        raise ReportOutputError(f"{flag} {out}: exists and is not a directory")
    if not out.is_dir():
        return
    if os.path.ismount(out):
        raise ReportOutputError(
            f"{flag} {out}: is a mount point, which a directory renamed into place cannot "
            "replace; choose a directory inside it"
        )
    try:
        entries = list(out.iterdir())
    except OSError as exc:
        raise ReportOutputError(f"{flag} {out}: cannot read it ({_reason(exc)})") from None
    if not entries:
        return
    ours = _manifest(out)
    if ours is None:
        raise ReportOutputError(
            f"{flag} {out}: a non-empty directory that weight-init did not write; "
            "choose a new or empty directory"
        )
    kind, names = ours
    if kind != what and not overwrite:
        raise ReportOutputError(
            f"{flag} {out}: holds a weight-init {kind}, not a {what}; choose another "
            f"directory, or pass --overwrite to delete the {kind}"
        )
    foreign = [p for p in entries if p.name not in names and not _is_staging(p.name)]
    if foreign and not overwrite:
        raise ReportOutputError(
            f"{flag} {out}: holds files weight-init did not write ({_names(foreign)}); move "
            "them, or pass --overwrite to delete them with the old output"
        )


def _name_max(where: Path) -> int:
    try:
        return int(os.pathconf(where, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return 255


def _existing_ancestor(path: Path) -> Path:
    where = path
    while not where.exists() and where.parent != where:
        where = where.parent
    return where


def _check_writable(target: Path, flag: str) -> None:
    """Refuse a read-only ``target`` (or its file system), or a name too long, before any
    work."""
    where = _existing_ancestor(target)
    if not where.is_dir():
        return  # an ancestor is a file: the staging directory cannot be made, said below
    try:
        read_only = bool(os.statvfs(where).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    if read_only or (target.exists() and not os.access(target, os.W_OK | os.X_OK)):
        raise ReportOutputError(f"{flag} {target}: cannot write there (read-only)")
    if target.parent.is_dir():  # the staging directory can be made (root ignores modes)
        try:
            os.rmdir(
                tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=target.parent)
            )
        except OSError as exc:
            raise ReportOutputError(
                f"{flag} {target}: cannot write there ({_reason(exc)})"
            ) from None


def _check_name(out: Path, flag: str) -> None:
    """Refuse a last component too long for the file system once the staging suffix is
    added (the OS would say ``File name too long`` half-way)."""
    size = len(os.fsencode(out.name))
    room = _name_max(_existing_ancestor(Path(os.path.abspath(out)).parent)) - _STAGING_EXTRA
    if size > room:
        raise ReportOutputError(
            f"{flag}: the directory name is {size} bytes long; at most {room} fit here (its "
            f"staging directory's name adds {_STAGING_EXTRA})"
        )


def target_of(out: Path | str, what: str = "report", flag: str = "--out") -> Path:
    """The directory written for ``out``: ``out`` itself, absolute, or the directory a
    symbolic link ``out`` points to when weight-init wrote that directory (else refused)."""
    path = Path(os.path.abspath(out))
    if not path.is_symlink():
        return Path(os.path.realpath(path.parent)) / path.name
    real = Path(os.path.realpath(path))
    if real.is_dir() and _manifest(real) is not None:
        return real
    raise ReportOutputError(
        f"{flag} {out}: is a symbolic link to {os.readlink(path)}, which weight-init did not "
        "write; give the directory itself"
    )


def preflight(
    out: Path | str, overwrite: bool = False, what: str = "report", flag: str = "--out"
) -> Path:
    """Every check :func:`staged` makes before writing, to run before any work; returns the
    target directory. Raises :class:`ReportOutputError` (one line) when ``out`` is refused."""
    try:
        _check_name(Path(out), flag)
        target = target_of(out, what, flag)
        check_target(target, overwrite, what, flag)
        _check_writable(target, flag)
    except (OSError, ValueError) as exc:
        if isinstance(exc, ReportOutputError):
            raise
        if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:
            raise ReportOutputError(f"{flag}: the path is too long ({_reason(exc)})") from None
        reason = _reason(exc) if isinstance(exc, OSError) else str(exc)
        raise ReportOutputError(f"{flag} {out!r}: cannot use this path ({reason})") from None
    return target


_LEFTOVER = re.compile(r"\.(?P<name>.+)\.(?:tmp|old)-(?:(?P<pid>\d+)-)?[^/]*$")
#: A file being replaced inside one of our directories (:func:`replace_files`).
_FILE_STAGING = re.compile(r"\.files\.tmp-(?P<pid>\d+)-[^/]*$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _ours_and_dead(p: Path, pid: str | None) -> bool:
    if p.is_symlink() or not p.is_dir() or _manifest(p) is None:
        return False
    return pid is None or int(pid) == os.getpid() or not _alive(int(pid))


def remove_leftovers(target: Path) -> list[Path]:
    """Remove ``.NAME.tmp-*`` / ``.NAME.old-*`` beside ``target`` left by killed runs: ours
    (they hold the marker) and not of a live process. Returns what was removed."""
    removed: list[Path] = []
    try:
        siblings = list(target.parent.iterdir())
    except OSError:
        return removed
    for p in siblings:
        m = _LEFTOVER.match(p.name)
        if m is None or m["name"] != target.name or not _ours_and_dead(p, m["pid"]):
            continue
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
    return removed


#: Staging directories (and parents created for them) being written, for
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


def write_marker(directory: Path, what: str, names: list[str] | frozenset[str]) -> None:
    """Mark ``directory`` as weight-init's ``what`` holding ``names`` (atomically)."""
    tmp = directory / f"{MARKER}.tmp-{os.getpid()}"
    tmp.write_text("\n".join([_title(what), *sorted(names)]) + "\n", encoding="utf-8")
    os.replace(tmp, directory / MARKER)
    with contextlib.suppress(OSError):
        (directory / LEGACY_MARKER).unlink()


@contextlib.contextmanager
def staged(
    out: Path | str, overwrite: bool = False, what: str = "report", flag: str = "--out"
) -> Iterator[Path]:
    """Yield an empty temporary directory; on normal exit it becomes ``out`` (see the
    module docstring for what is refused and what is cleaned up)."""
    target = preflight(out, overwrite, what, flag)
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
        raise ReportOutputError(f"{flag} {out}: cannot write there ({_reason(exc)})") from None
    try:
        _umask = os.umask(0)
        os.umask(_umask)
        os.chmod(tmp, 0o777 & ~_umask)  # mkdtemp's 0700 would make the output private
        write_marker(tmp, what, [])
        yield tmp
        write_marker(tmp, what, [p.name for p in tmp.iterdir() if p.name != MARKER])
        _replace(tmp, target, overwrite, what, flag)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        raise
    finally:
        _ACTIVE.pop(tmp, None)


def _replace(tmp: Path, target: Path, overwrite: bool, what: str, flag: str) -> None:
    """Rename ``tmp`` to ``target``, moving an earlier output out of the way first."""
    old = None
    mask = getattr(signal, "pthread_sigmask", None)  # POSIX only
    previous = mask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM}) if mask else None
    try:
        if target.exists():
            check_target(target, overwrite, what, flag)
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
            f"{flag} {target}: cannot move the {what} into place ({_reason(exc)})"
        ) from None
    finally:
        if mask is not None and previous is not None:
            mask(signal.SIG_SETMASK, previous)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def create_run(out: Path | str, what: str, overwrite: bool = False, flag: str = "--out") -> Path:
    """Create the directory of a run that grows while it runs (its files are added in place
    with :func:`replace_files` or appended to): staged and renamed into place like
    :func:`staged`, empty but for the marker. Returns the directory."""
    with staged(out, overwrite, what, flag):
        pass
    return target_of(out, what, flag)


def reopen_run(
    out: Path | str, what: str, adopt: frozenset[str] = frozenset(), flag: str = "--out"
) -> Path:
    """The directory of an existing run of kind ``what`` (created by :func:`create_run`),
    refused when it is not one or holds files weight-init did not write. A directory without
    the marker whose entries are all in ``adopt`` (a run from before the marker) is adopted."""
    try:
        path = Path(os.path.abspath(out))
        is_dir = path.is_dir()
        names = {p.name for p in path.iterdir()} if is_dir and not path.is_symlink() else set()
    except (OSError, ValueError) as exc:
        reason = _reason(exc) if isinstance(exc, OSError) else str(exc)
        raise ReportOutputError(f"{flag} {out!r}: cannot use this path ({reason})") from None
    if not is_dir:
        raise ReportOutputError(f"{flag} {out}: no such directory")
    if names and _manifest(path) is None and names <= adopt:
        write_marker(path, what, frozenset(names))
    target = preflight(out, False, what, flag)
    if _manifest(target) is None:
        raise ReportOutputError(f"{flag} {out}: not a weight-init {what} directory")
    return target


@contextlib.contextmanager
def replace_files(directory: Path, what: str) -> Iterator[Path]:
    """Yield an empty staging directory inside ``directory`` (one of ours, see
    :func:`reopen_run`); on normal exit every file written into it replaces the file of the
    same name in ``directory`` (``os.replace``: a symbolic link there is replaced, never
    followed) and joins the manifest."""
    ours = _manifest(directory)
    if ours is None or ours[0] != what:
        raise ReportOutputError(f"{directory}: not a weight-init {what} directory")
    staging = Path(tempfile.mkdtemp(prefix=f".files.tmp-{os.getpid()}-", dir=directory))
    try:
        yield staging
        names = sorted(p.name for p in staging.iterdir())
        write_marker(directory, what, ours[1] - {MARKER, LEGACY_MARKER} | set(names))
        for name in names:
            os.replace(staging / name, directory / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def add_to_manifest(directory: Path, what: str, names: list[str]) -> None:
    """Record ``names`` (written in place, e.g. an append-only file) in ``directory``'s
    manifest."""
    ours = _manifest(directory)
    known = ours[1] - {MARKER, LEGACY_MARKER} if ours else frozenset()
    if not set(names) <= known:
        write_marker(directory, what, known | set(names))


def remove_file_leftovers(directory: Path) -> None:
    """Remove staging directories of :func:`replace_files` left in ``directory`` by killed
    runs."""
    with contextlib.suppress(OSError):
        for p in directory.iterdir():
            m = _FILE_STAGING.match(p.name)
            if m is not None and not p.is_symlink() and p.is_dir():
                if int(m["pid"]) == os.getpid() or not _alive(int(m["pid"])):
                    shutil.rmtree(p, ignore_errors=True)
