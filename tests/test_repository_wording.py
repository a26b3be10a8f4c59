"""The product speaks of what things do: no tracker numbers or planning words in the files a
user or a maintainer reads (code, tests, tox.ini, docs, benchmarks), and the course notes are
"the notes", never named after "seed" (that word is an RNG seed).

The words are assembled from pieces so that this file does not match itself.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Text files of the repository this rule covers (everything tracked that is text).
SUFFIXES = (".py", ".md", ".ini", ".toml", ".yml", ".yaml", ".cfg", ".txt", ".json", ".ipy", "")

_ISSUE = "iss" + "ue"
FORBIDDEN: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a tracker number", re.compile(rf"\b{_ISSUE}s?[ _#-]*\d+", re.IGNORECASE)),
    ("a planning word", re.compile(r"\bchar" + r"ter\b", re.IGNORECASE)),
    ("a task number", re.compile(r"\bta" + r"sk \d+\b", re.IGNORECASE)),
    ("an item-numbered test", re.compile(r"\bdef test_\d+_\d+_")),
    ("the notes called the seed", re.compile(r"\bse" + r"ed[ _]notes\b", re.IGNORECASE)),
    ("the notes called the seed", re.compile(r"\bthe se" + r"ed's\b", re.IGNORECASE)),
)


def tracked_files() -> list[Path]:
    """The repository's tracked text files (``git ls-files``), or every file under it."""
    git = shutil.which("git")
    if git and (ROOT / ".git").exists():
        out = subprocess.run(
            [git, "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
        paths = [ROOT / p for p in out.split("\0") if p]
    else:
        paths = [p for p in ROOT.rglob("*") if p.is_file() and ".venv" not in p.parts]
    return [p for p in paths if p.suffix in SUFFIXES and p.is_file()]


def offences(text: str) -> list[str]:
    """``what: match`` for each forbidden phrase in ``text``."""
    return [f"{what}: {m.group(0)!r}" for what, rx in FORBIDDEN for m in rx.finditer(text)]


def test_the_rule_catches_what_it_forbids() -> None:
    """The check can fail: each pattern matches its own example and not a neighbour."""
    bad = [
        f"see {_ISSUE} 13",
        f"{_ISSUE.capitalize()}10",
        "the char" + "ter prefers",
        "ta" + "sk 4",
        "def test_" + "7_1_x",
        "the se" + "ed notes",
        "The se" + "ed's network",
    ]
    for text in bad:
        assert offences(text), text
    for text in ("README section 5", "an RNG seed", "the notes' figures", "tissue 3"):
        assert not offences(text), text


def test_no_tracked_file_uses_tracker_or_planning_words() -> None:
    files = tracked_files()
    if len(files) < 20:
        pytest.skip("not a source checkout")
    found = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for line_no, line in enumerate(text.splitlines(), 1):
            found += [f"{path.relative_to(ROOT)}:{line_no}: {o}" for o in offences(line)]
    assert not found, "\n".join(found[:50])
