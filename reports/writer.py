"""Atomic report output: everything is written into a fresh temporary directory beside
``--out`` and renamed into place only when complete.

So an unwritable ``--out`` fails before any work is done (with one line naming the
path and the reason), a failure half-way leaves nothing behind (the temporary
directory and any parent directories created for it are removed), and an existing
report is replaced only once its successor is complete. A directory is replaced
only if it is empty or holds the :data:`MARKER` file of an earlier report, never
an unrelated one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from weight_init.errors import ReportOutputError

#: File that marks a directory as a weight-init report (so it may be replaced).
MARKER = ".weight-init-report"


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def check_target(out: Path) -> None:
    """Raise :class:`ReportOutputError` if ``out`` must not be (re)placed by a report."""
    if out.exists() and not out.is_dir():
        raise ReportOutputError(f"--out {out}: exists and is not a directory")
    if out.is_dir():
        try:
            entries = [p.name for p in out.iterdir()]
        except OSError as exc:
            raise ReportOutputError(f"--out {out}: cannot read it ({_reason(exc)})") from None
        if entries and MARKER not in entries:
            raise ReportOutputError(
                f"--out {out}: a non-empty directory that is not a weight-init report; "
                "choose a new or empty directory"
            )


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
def staged(out: Path | str) -> Iterator[Path]:
    """Yield an empty temporary directory; on normal exit it becomes ``out``."""
    target = Path(os.path.abspath(out))
    check_target(target)
    parent = target.parent
    created = _missing_root(parent)
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
    except OSError as exc:
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        raise ReportOutputError(f"--out {out}: cannot write there ({_reason(exc)})") from None
    try:
        _umask = os.umask(0)
        os.umask(_umask)
        os.chmod(tmp, 0o777 & ~_umask)  # mkdtemp's 0700 would make the report private
        (tmp / MARKER).write_text("weight-init report directory\n", encoding="utf-8")
        yield tmp
        _replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        raise


def _replace(tmp: Path, target: Path) -> None:
    """Rename ``tmp`` to ``target``, moving an earlier report out of the way first."""
    old = None
    try:
        if target.exists():
            check_target(target)
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            old.rmdir()
            os.rename(target, old)
        os.rename(tmp, target)
    except OSError as exc:
        if old is not None and old.exists() and not target.exists():
            os.rename(old, target)
        raise ReportOutputError(
            f"--out {target}: cannot move the report into place ({_reason(exc)})"
        ) from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
