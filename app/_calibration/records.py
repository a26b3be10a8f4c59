"""The run directory: ``run.json`` (what the run is) and ``records.jsonl`` (what it measured).

``records.jsonl`` holds one JSON object per finished task, appended and flushed as the task
finishes (``pandas.read_json(path, lines=True)`` loads it). Fields of every record:

* ``task_id`` (unique in the file), ``kind`` (``false_alarm`` | ``power`` | ``property``),
  ``seed`` (the run's), ``task_seed`` (derived, see :mod:`.tasks`), ``repetition``;
* ``implementation`` and, for checks, ``scheme``, ``layout``, ``alpha`` (the level the check
  ran at), ``p_values`` (test name -> p-value of every statistical test), ``exact_failed``
  (names of failed exact checks), ``inconclusive`` (names); power records add ``effect``,
  ``effect_label``, ``size``, ``planned_size``; property records have ``verdicts`` (one per
  verdict of ``run_suite``: ``property``, ``outcome``, ``p_values``, ``exact_failed``,
  ``inconclusive``);
* ``outcome`` (``pass`` | ``fail`` | ``inconclusive`` | ``error``), ``error`` (one line or null);
* timing only in :data:`TIMING_FIELDS` (``wall_seconds``, ``cpu_seconds``): two runs of the
  same command agree on every other field, wherever and in whatever order the tasks ran.

A process killed while writing leaves at most a partial last line; :meth:`RunStore.open`
drops it on ``--resume`` (that task runs again), so the file never holds a duplicate or a gap.
A complete line that is not a record (the file edited or damaged) is refused, named by its
line (:func:`weight_init.reports._calibration.parse_records`), as is a ``run.json`` that is not
a run's settings.

The directory follows the rule of every output directory
(:mod:`weight_init.reports._output_dir`): a new run is created complete with its ``run.json``
(staged and renamed), refused where a user's files are; ``--resume`` reopens only a
directory weight-init marked as a calibration run; files are appended to without following
a symbolic link.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from weight_init.errors import RunDirectoryError
from weight_init.reports import _output_dir as output_dir
from weight_init.reports._calibration import RUN_KIND, load_records, parse_records

RECORDS = "records.jsonl"
RUN = "run.json"
TIMING_FIELDS: tuple[str, ...] = ("wall_seconds", "cpu_seconds")
#: The kind of output directory (its marker's title).
WHAT = RUN_KIND
#: Entries a run directory written before the marker may hold (adopted on --resume).
LEGACY_ENTRIES = frozenset(
    {
        RUN,
        RECORDS,
        f".{RUN}.tmp",
        "calibration.md",
        "calibration-far-qq.png",
        "calibration-power.png",
        "calibration-properties-qq.png",
    }
)


def without_timing(record: dict[str, Any]) -> dict[str, Any]:
    """The record minus :data:`TIMING_FIELDS` (what must agree between two runs)."""
    return {k: v for k, v in record.items() if k not in TIMING_FIELDS}


def read_records(directory: str | Path) -> list[dict[str, Any]]:
    """Every complete record of ``directory/records.jsonl`` (a partial last line is skipped)."""
    return load_records(directory)


def read_settings(directory: Path) -> dict[str, Any]:
    """``directory/run.json``, refused in one line unless it is a JSON object."""
    path = directory / RUN
    try:
        if path.is_symlink():
            raise RunDirectoryError(f"--resume: {path} is a symbolic link, not a run's settings")
        settings = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise RunDirectoryError(
            f"--resume: {directory} holds no calibration run ({RUN} missing)"
        ) from None
    except OSError as exc:
        raise RunDirectoryError(f"--resume: cannot read {path} ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RunDirectoryError(
            f"--resume: {path} is not JSON ({str(exc).splitlines()[0][:80]})"
        ) from None
    if not isinstance(settings, dict):
        raise RunDirectoryError(f"--resume: {path} is not a run's settings (a JSON object)")
    return settings


@dataclass
class RunStore:
    """An open run directory: the ids already recorded and the append-only records file."""

    directory: Path
    done: set[str]
    _file: IO[str]

    @classmethod
    def open(
        cls,
        directory: str | Path,
        settings: dict[str, Any],
        resume: bool,
        overwrite: bool = False,
    ) -> RunStore:
        """Create ``directory`` for a new run, or reopen it with ``resume`` (whose
        ``settings`` must match). Raises :class:`RunDirectoryError` before writing
        anything; :class:`~weight_init.errors.ReportOutputError` for a directory weight-init
        may not write)."""
        if resume:
            d = output_dir.reopen_run(directory, WHAT, LEGACY_ENTRIES)
            previous = read_settings(d)
            for key, value in settings.items():
                if previous.get(key) != value:
                    raise RunDirectoryError(
                        f"--resume: {directory} was run with another {key} "
                        f"({previous.get(key)!r}); use the same settings or another --out"
                    )
            output_dir.remove_file_leftovers(d)
        else:
            target = output_dir.preflight(directory, overwrite, WHAT)
            if not overwrite and ((target / RUN).exists() or (target / RECORDS).exists()):
                raise RunDirectoryError(
                    f"--out {directory} already holds a calibration run; pass --resume to "
                    "continue it, --overwrite to delete it, or choose another --out"
                )
            text = json.dumps(settings, indent=2, sort_keys=True) + "\n"
            with output_dir.staged(directory, overwrite, WHAT) as tmp:
                (tmp / RUN).write_text(text, encoding="utf-8")
                (tmp / RECORDS).touch()
            d = target
        records = d / RECORDS
        try:
            done = _truncate_partial(records)
            fd = os.open(records, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o666)
            handle = os.fdopen(fd, "a", encoding="utf-8")
            output_dir.add_to_manifest(d, WHAT, [RECORDS])
        except OSError as exc:
            raise RunDirectoryError(
                f"cannot write --out {directory}: {exc.strerror or exc}"
            ) from None
        return cls(d, done, handle)

    def append(self, record: dict[str, Any]) -> None:
        """Write one record as one line and flush it to the OS (survives a killed process)."""
        if record["task_id"] in self.done:
            return
        self._file.write(json.dumps(record, sort_keys=True, allow_nan=False) + "\n")
        self._file.flush()
        self.done.add(record["task_id"])

    def close(self) -> None:
        self._file.close()

    def pending(self, task_ids: Iterable[str]) -> list[str]:
        return [t for t in task_ids if t not in self.done]


def _truncate_partial(path: Path) -> set[str]:
    """The ids recorded in ``path``; a partial last line (a kill mid-write) is cut off."""
    if path.is_symlink():
        raise RunDirectoryError(f"{path}: a symbolic link, not a run's records")
    if not path.exists():
        return set()
    data = path.read_bytes()
    records = parse_records(data, str(path))
    keep = data[: data.rfind(b"\n") + 1]
    if len(keep) != len(data):
        with path.open("r+b") as f:
            f.truncate(len(keep))
    return {r["task_id"] for r in records}
