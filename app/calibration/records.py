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
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from weight_init.errors import RunDirectoryError

RECORDS = "records.jsonl"
RUN = "run.json"
TIMING_FIELDS: tuple[str, ...] = ("wall_seconds", "cpu_seconds")


def without_timing(record: dict[str, Any]) -> dict[str, Any]:
    """The record minus :data:`TIMING_FIELDS` (what must agree between two runs)."""
    return {k: v for k, v in record.items() if k not in TIMING_FIELDS}


def read_records(directory: str | Path) -> list[dict[str, Any]]:
    """Every complete record of ``directory/records.jsonl`` (a partial last line is skipped)."""
    path = Path(directory) / RECORDS
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines(keepends=True):
        if not line.endswith("\n"):
            break
        out.append(json.loads(line))
    return out


@dataclass
class RunStore:
    """An open run directory: the ids already recorded and the append-only records file."""

    directory: Path
    done: set[str]
    _file: IO[str]

    @classmethod
    def open(cls, directory: str | Path, settings: dict[str, Any], resume: bool) -> RunStore:
        """Create ``directory`` for a new run, or reopen it with ``resume`` (whose
        ``settings`` must match). Raises :class:`RunDirectoryError` before writing anything."""
        d = Path(directory)
        if d.exists() and not d.is_dir():
            raise RunDirectoryError(f"--out {d} exists and is not a directory")
        records, run = d / RECORDS, d / RUN
        if resume:
            if not run.exists():
                raise RunDirectoryError(f"--resume: {d} holds no calibration run ({RUN} missing)")
            previous = json.loads(run.read_text())
            for key, value in settings.items():
                if previous.get(key) != value:
                    raise RunDirectoryError(
                        f"--resume: {d} was run with another {key} ({previous.get(key)!r}); "
                        "use the same settings or another --out"
                    )
        elif run.exists() or records.exists():
            raise RunDirectoryError(
                f"--out {d} already holds a calibration run; pass --resume to continue it "
                "or choose another --out"
            )
        try:
            d.mkdir(parents=True, exist_ok=True)
            if not resume:
                tmp = d / f".{RUN}.tmp"
                tmp.write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n")
                os.replace(tmp, run)
            done = _truncate_partial(records)
            handle = records.open("a", encoding="utf-8")
        except OSError as exc:
            raise RunDirectoryError(f"cannot write --out {d}: {exc.strerror or exc}") from None
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
    if not path.exists():
        return set()
    data = path.read_bytes()
    keep = data[: data.rfind(b"\n") + 1]
    if len(keep) != len(data):
        with path.open("r+b") as f:
            f.truncate(len(keep))
    return {json.loads(line)["task_id"] for line in keep.decode().splitlines() if line}
