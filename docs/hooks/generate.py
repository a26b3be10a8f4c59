"""MkDocs hook: pages that are generated from the code when the site is built.

* ``<!-- cli-help -->`` becomes the ``--help`` text of ``weight-init`` and of every
  subcommand (the order of ``weight_init.app._cli.COMMANDS``), as ``weight-init CMD --help``
  prints it at 88 columns: a new command appears on the CLI page without an edit. Prose
  for a command sits in ``<!-- prose CMD -->...<!-- /prose -->`` blocks anywhere on the page
  and is moved above its help; prose for a command that does not exist fails the build.
* ``<!-- api-modules: PACKAGE -->`` becomes one mkdocstrings block per public module of
  ``PACKAGE`` (``<!-- api-modules: PACKAGE recursive -->`` includes its subpackages), in
  alphabetical order: a new module appears in the API reference without an edit.
* ``<!-- api-names: PACKAGE -->`` becomes the package's docstring and one block per name of
  its ``__all__`` (the object where its private module defines it): the API reference
  shows the public surface only, and a name added to ``__all__`` appears without an edit.
* ``<!-- power-plan -->`` becomes the table of the power plan at the default alpha and power:
  every effect a registered check states, the test powered against it and the entries each
  family's check needs (``weight_init.properties.conformance._plan.plan``), with the number
  of tests and the per-test level: a check added to the registry appears without an edit.
* On start, ``build/docs-src/`` is laid out as the installed package is (the
  ``[tool.setuptools.package-dir]`` mapping of pyproject.toml, as symlinks), and
  mkdocstrings reads the source from there: the API pages show this working tree, whether
  the package is installed from a wheel, editable, or not at all; the CLI help is imported
  from there too (the package's dependencies must be installed).
"""

from __future__ import annotations

import contextlib
import io
import os
import pkgutil
import re
import shutil
import sys
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

ROOT = Path(__file__).resolve().parents[2]
SOURCE_TREE = ROOT / "build" / "docs-src"

_API = re.compile(r"<!-- api-modules: ([\w.]+)( recursive)? -->")
_NAMES = re.compile(r"<!-- api-names: ([\w.]+) -->")
_CLI = "<!-- cli-help -->"
_PLAN = "<!-- power-plan -->"
#: The families of the power-plan table, in its column order.
PLAN_FAMILIES = ("normal", "uniform", "truncated_normal", "orthogonal")


def package_dir() -> dict[str, str]:
    """pyproject.toml's ``[tool.setuptools.package-dir]``: package name -> source folder."""
    text = (ROOT / "pyproject.toml").read_text()
    section = text.split("[tool.setuptools.package-dir]", 1)[1].split("\n[", 1)[0]
    return dict(re.findall(r'^"?([\w.]+)"?\s*=\s*"([^"]+)"', section, re.M))


def lay_out_source() -> None:
    """Symlink the source folders into ``build/docs-src`` as the package's import layout."""
    mapping = package_dir()
    shutil.rmtree(SOURCE_TREE, ignore_errors=True)
    for package in sorted(mapping, key=lambda name: name.count(".")):
        target = SOURCE_TREE.joinpath(*package.split("."))
        target.mkdir(parents=True, exist_ok=True)
        for entry in sorted((ROOT / mapping[package]).iterdir()):
            if entry.name != "__pycache__" and not (target / entry.name).exists():
                (target / entry.name).symlink_to(entry)


def on_startup(**kwargs: Any) -> None:
    lay_out_source()


def _help(argv: list[str]) -> str:
    from weight_init.app._cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        main(argv)
    return out.getvalue().rstrip()


def cli_help() -> str:
    os.environ["COLUMNS"] = "88"
    if str(SOURCE_TREE) not in sys.path:  # this working tree's commands, as the API pages
        sys.path.insert(0, str(SOURCE_TREE))
    from weight_init.app._cli import COMMANDS

    parts = ["## `weight-init --help`", "", "```text", _help(["--help"]), "```", ""]
    for name in COMMANDS:
        parts += [f"## `weight-init {name}`", "", f"<!-- cli-prose: {name} -->", ""]
        parts += ["```text", _help([name, "--help"]), "```", ""]
    return "\n".join(parts)


def _modules(package: str, recursive: bool) -> list[str]:
    """Public modules of ``package`` (and of its subpackages if ``recursive``), by name."""
    names = []
    for info in pkgutil.iter_modules([str(SOURCE_TREE.joinpath(*package.split(".")))]):
        if info.name.startswith("_"):
            continue
        name = f"{package}.{info.name}"
        if not info.ispkg:
            names.append(name)
        elif recursive:
            names += [name, *_modules(name, recursive)]
    return sorted(names)


def api_blocks(match: re.Match[str]) -> str:
    package, recursive = match.group(1), bool(match.group(2))
    blocks = [f"::: {package}\n    options:\n      members: false\n"]
    blocks += [f"::: {name}\n" for name in _modules(package, recursive)]
    return "\n".join(blocks)


def _import_from_tree(package: str) -> Any:
    if str(SOURCE_TREE) not in sys.path:
        sys.path.insert(0, str(SOURCE_TREE))
    import importlib

    return importlib.import_module(package)


def name_blocks(match: re.Match[str]) -> str:
    """The package's docstring, then each public name where it is defined."""
    package = match.group(1)
    module = _import_from_tree(package)
    lazy: dict[str, str] = getattr(module, "_LAZY", {})
    blocks = [f"::: {package}\n    options:\n      members: false\n"]
    for name in sorted(n for n in module.__all__ if not n.startswith("__")):
        obj = getattr(module, name)
        home = getattr(obj, "__module__", None) if callable(obj) else None
        qualname = getattr(obj, "__name__", name) if home else name
        where = home or lazy.get(name)
        while where is not None and name in getattr(_import_from_tree(where), "_LAZY", {}):
            where = _import_from_tree(where)._LAZY[name]  # a package naming it lazily too
        if where is None:
            raise PluginError(f"{package}.{name}: no module defines it")
        blocks.append(f"::: {where}.{qualname}\n    options:\n      heading: {name}\n")
    return "\n".join(blocks)


def power_plan_table() -> str:
    """The power plan of every family of :data:`PLAN_FAMILIES`, as a markdown table."""
    plan = _import_from_tree("weight_init.properties.conformance._plan").plan
    plans = {f: plan(f) for f in PLAN_FAMILIES}
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for fam, p in plans.items():
        for e in p.effects:
            cell = "by the design" if e.n_required <= 1 else f"{e.n_required:,}"
            if e.unit != "entries" and e.n_required > 1:
                cell += f" {e.unit}"
            rows.setdefault((e.name, e.test), {})[fam] = cell
    some = next(iter(plans.values()))
    head = [
        f"alpha {some.alpha:g}, Holm at {some.level:g}, power {some.power:g}; "
        + "; ".join(
            f"{f.replace('_', ' ')}: {p.n_tests} tests, per-test level {p.per_test_level:.3g}"
            for f, p in plans.items()
        ),
        "",
        "| effect | test | " + " | ".join(f.replace("_", " ") for f in PLAN_FAMILIES) + " |",
        "| --- | --- |" + " --- |" * len(PLAN_FAMILIES),
    ]
    body = [
        f"| {name} | {test} | " + " | ".join(cells.get(f, "n/a") for f in PLAN_FAMILIES) + " |"
        for (name, test), cells in rows.items()
    ]
    drawn = "; ".join(
        f"{f.replace('_', ' ')} {p.n_entries:,}" for f, p in plans.items() if p.n_entries
    )
    tail = f"Entries a check draws at least (the largest row): {drawn}."
    return "\n".join([*head, *body, "", tail])


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    if _PLAN in markdown:
        markdown = markdown.replace(_PLAN, power_plan_table())
    if _CLI in markdown:
        prose = dict(re.findall(r"<!-- prose (\S+) -->\n(.*?)<!-- /prose -->", markdown, re.S))
        markdown = re.sub(r"<!-- prose \S+ -->\n.*?<!-- /prose -->\n?", "", markdown, flags=re.S)
        generated = cli_help()
        for name, text in prose.items():
            marker = f"<!-- cli-prose: {name} -->"
            if marker not in generated:
                raise PluginError(f"cli.md has prose for {name!r}, which is not a command")
            generated = generated.replace(marker, text.strip())
        markdown = markdown.replace(_CLI, re.sub(r"<!-- cli-prose: \S+ -->\n", "", generated))
    return _NAMES.sub(name_blocks, _API.sub(api_blocks, markdown))
