"""The README's promises about itself, CI and the docs site (the site is built by ``tox -e docs``).

* the README stays a short tour (under 200 lines) and its two commands are the ones that run:
  the second is exactly what ``.ci/run`` calls, and ``tox`` runs the docs build;
* every page the README links to exists;
* the benchmark page includes the generated table the benchmark command writes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _bash_blocks(text: str) -> list[str]:
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", text, re.S)]


def test_readme_is_short() -> None:
    lines = README.count("\n")
    assert lines < 200, f"README.md has {lines} lines; move detail into docs/"


def test_readme_second_command_is_what_ci_runs() -> None:
    first, second = _bash_blocks(README)[:2]
    assert first == "pip install . && weight-init report"
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == second == "pip install tox && tox"


def test_tox_default_run_builds_the_docs_strictly() -> None:
    tox = (ROOT / "tox.ini").read_text()
    env_list = re.search(r"^env_list\s*=\s*(.+)$", tox, re.M)
    assert env_list is not None and "docs" in [e.strip() for e in env_list.group(1).split(",")]
    section = tox.split("[testenv:docs]", 1)[1].split("\n[", 1)[0]
    assert re.search(r"^commands\s*=\s*mkdocs build --strict", section, re.M)


def test_readme_links_resolve() -> None:
    targets = re.findall(r"\]\(((?:docs/)[^)#]+)(?:#[^)]*)?\)", README)
    assert targets, "the README links to the docs pages"
    missing = [t for t in targets if not (ROOT / t).exists()]
    assert not missing, f"README links to missing files: {missing}"


def test_benchmark_page_includes_the_generated_table() -> None:
    page = (ROOT / "docs" / "benchmarks.md").read_text()
    assert '--8<-- "generated/benchmarks.md"' in page
    generated = (ROOT / "docs" / "generated" / "benchmarks.md").read_text()
    assert "| measurement | size | result | goal | met? |" in generated
    assert "--markdown" in (ROOT / "benchmarks" / "run_all.py").read_text()


def test_readme_audit_is_what_the_command_prints(capsys: Any) -> None:
    """The README's audit (section 5) is real: every line of its excerpt is a line the
    command prints from tests/ (torch's own seeding, seed 0), and it exits 1 (a failure)."""
    import pytest

    pytest.importorskip("torch")
    import cli_helpers

    section = README.split("### 5.", 1)[1].split("### 6.", 1)[0]
    command = re.search(r"```bash\ncd tests && (weight-init [^#\n]+?)\s*(?:#.*)?\n```", section)
    shown = re.search(r"```text\n(.*?)```", section, re.S)
    assert command and shown, "README section 5 has a command and its output"
    argv = command.group(1).split()[1:]
    proc = cli_helpers.run_main(capsys, *argv, cwd=ROOT / "tests")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    printed = set(proc.stdout.splitlines())
    missing = [line for line in shown.group(1).splitlines() if line not in printed]
    assert not missing, f"README audit lines not printed by `{command.group(1)}`: {missing}"
