"""The public API's docstrings: numpydoc sections, and examples that run.

Every name in the ``__all__`` of each package the API reference renders (``weight_init``,
``weight_init.properties`` and its rooms, ``weight_init.reports``, ``weight_init.app``: the
``api-names`` markers of docs/api/), except ``__version__`` and plain data, is checked:

* a function's docstring has the numpydoc sections ``Parameters`` (when it takes any: each of
  its parameters, and no other) and ``Returns`` (unless it returns ``None``), a class's
  documents every dataclass field under ``Parameters`` or ``Attributes``, and each has an
  ``Examples`` section holding at least one doctest; a class's public methods and properties
  have docstrings, a method with ``Parameters`` and ``Returns`` where it takes or returns
  anything;
* those doctests run (``doctest.DocTestRunner`` with ``NORMALIZE_WHITESPACE | ELLIPSIS``) and a
  failure shows the doctest's own report.

Then every module of the package runs its remaining doctests (the package docstrings'
examples and any other ``>>>`` in a docstring), so this module replaces a separate
``pytest --doctest-modules`` run: the default suite runs every example the documentation shows.
The examples are small and seeded (each well under a second once its imports are loaded); one
that audits a torch model is skipped, saying so, where torch is not installed.
"""

from __future__ import annotations

import dataclasses
import doctest
import importlib
import importlib.util
import inspect
import io
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

#: The packages whose ``__all__`` is the public API: those the API reference renders
#: (``<!-- api-names: PACKAGE -->`` on a page of docs/api/), shallowest first, so a new room
#: is checked as soon as its page lists it.
PACKAGES = tuple(
    sorted(
        {
            name
            for page in (Path(__file__).resolve().parents[1] / "docs" / "api").glob("*.md")
            for name in re.findall(r"<!-- api-names: ([\w.]+) -->", page.read_text())
        },
        key=lambda name: (name.count("."), name),
    )
)
#: The top-level packages, whose modules all run their doctests.
ROOTS = ("weight_init", "weight_init.properties", "weight_init.reports", "weight_init.app")
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def _public() -> dict[str, tuple[Any, ModuleType]]:
    """Each public object once, under the first public path that names it: path -> (object,
    defining module). Resolved through the package's name table (``_LAZY``), not attribute
    access, so a subpackage named like one of its functions cannot stand in for it."""
    out: dict[str, tuple[Any, ModuleType]] = {}
    seen: set[int] = set()
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        table = vars(package)["_LAZY"]
        for name in package.__all__:
            if name == "__version__":
                continue
            obj = getattr(importlib.import_module(table[name]), name)
            if not (inspect.isclass(obj) or inspect.isroutine(obj)) or id(obj) in seen:
                continue  # plain data, or already listed by a package above
            seen.add(id(obj))
            out[f"{package_name}.{name}"] = (obj, importlib.import_module(obj.__module__))
    return out


PUBLIC = _public()


def _sections(doc: str) -> dict[str, str]:
    """numpydoc sections: a title line underlined by dashes -> the section's text."""
    parts = re.split(r"^(\w[\w ]*)\n-{3,}[ \t]*$", doc, flags=re.M)
    return {title: body for title, body in zip(parts[1::2], parts[2::2], strict=True)}


def _documented_names(section: str) -> set[str]:
    """The names a Parameters/Attributes section documents (``name : type`` lines)."""
    names = set()
    for line in section.splitlines():
        match = re.match(r"^(\*{0,2}\w+(?:, \*{0,2}\w+)*)(?: :|$)", line)
        if match:
            names.update(n.strip().lstrip("*") for n in match.group(1).split(","))
    return names


def _run(tests: list[doctest.DocTest]) -> None:
    if any("import torch" in ex.source for t in tests for ex in t.examples):
        pytest.importorskip("torch", reason="the example audits a torch model")
    out = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in tests:
        runner.run(test, out=out.write)
    if runner.summarize(verbose=False).failed:
        pytest.fail(out.getvalue(), pytrace=False)


def _doctests(obj: Any, name: str, module: ModuleType) -> list[doctest.DocTest]:
    tests = doctest.DocTestFinder().find(obj, name, module=module)
    return [t for t in tests if t.examples]


def test_every_package_with_public_names_is_checked() -> None:
    """A public package that names its objects (``__all__`` through ``attach``) is on a page of
    the API reference, so the tests below check it; a new room cannot be missed."""
    assert "weight_init" in PACKAGES, "no api-names marker found under docs/api/"
    named = set()
    for root in ROOTS:
        package = importlib.import_module(root)
        for info in pkgutil.walk_packages(package.__path__, f"{root}."):
            public = not any(part.startswith("_") for part in info.name.split("."))
            if info.ispkg and public and "_LAZY" in vars(importlib.import_module(info.name)):
                named.add(info.name)
    missing = sorted(named - set(PACKAGES))
    assert not missing, f"packages with public names but no api-names marker: {missing}"


@pytest.mark.parametrize("path", sorted(PUBLIC))
def test_public_docstring_has_numpydoc_sections(path: str) -> None:
    obj, _ = PUBLIC[path]
    doc = inspect.getdoc(obj)
    assert doc, f"{path} has no docstring"
    sections = _sections(doc)
    missing = []
    if inspect.isroutine(obj):
        signature = inspect.signature(obj)
        if signature.parameters and "Parameters" not in sections:
            missing.append("Parameters")
        if signature.return_annotation not in ("None", None) and "Returns" not in sections:
            missing.append("Returns")
        if "Parameters" in sections:
            documented = _documented_names(sections["Parameters"])
            undocumented = set(signature.parameters) - documented
            assert not undocumented, f"{path}: parameters not documented: {sorted(undocumented)}"
            stale = documented - set(signature.parameters)
            assert not stale, f"{path}: documents parameters it does not take: {sorted(stale)}"
    elif dataclasses.is_dataclass(obj):
        fields = {f.name for f in dataclasses.fields(obj) if not f.name.startswith("_")}
        documented = _documented_names(sections.get("Parameters", ""))
        documented |= _documented_names(sections.get("Attributes", ""))
        undocumented = fields - documented
        assert not undocumented, f"{path}: fields not documented: {sorted(undocumented)}"
    if "Examples" not in sections:
        missing.append("Examples")
    assert not missing, f"{path}: docstring lacks the numpydoc section(s) {missing}"
    assert ">>>" in sections["Examples"], f"{path}: its Examples section has no doctest"


@pytest.mark.parametrize("path", sorted(PUBLIC))
def test_public_examples_run(path: str) -> None:
    obj, module = PUBLIC[path]
    tests = _doctests(obj, f"{module.__name__}.{obj.__qualname__}", module)
    assert tests, f"{path} has no doctest"
    _run(tests)


def _modules_with_examples() -> Iterator[str]:
    """Every module of the package whose source holds a doctest (read, not imported)."""
    for root in ROOTS:
        package = importlib.import_module(root)
        names = [root] + [i.name for i in pkgutil.walk_packages(package.__path__, f"{root}.")]
        for name in names:
            spec = importlib.util.find_spec(name)
            if spec is not None and spec.origin and ">>>" in Path(spec.origin).read_text():
                yield name


#: The doctest names the public-name test above runs (the module test skips them).
_PUBLIC_TESTS = {
    t.name
    for obj, module in PUBLIC.values()
    for t in _doctests(obj, f"{module.__name__}.{obj.__qualname__}", module)
}


@pytest.mark.parametrize("module_name", sorted(set(_modules_with_examples())))
def test_module_examples_run(module_name: str) -> None:
    """Every other doctest of a module with examples (its own docstring's, a package's, a
    private helper's) runs too, as ``pytest --doctest-modules`` would run them; an example that
    doctest cannot find (in a comment, a nested function) fails here instead of never running."""
    module = importlib.import_module(module_name)
    found = _doctests(module, module_name, module)
    assert found, f"{module_name} has '>>>' in its source but doctest finds no example there"
    rest = [t for t in found if t.name not in _PUBLIC_TESTS]
    if rest:  # the public names' examples ran in test_public_examples_run
        _run(rest)


@pytest.mark.parametrize("package_name", PACKAGES)
def test_package_docstring_has_examples(package_name: str) -> None:
    """Each package's docstring (the top of its API reference page) shows an example, which
    the module test above runs."""
    doc = importlib.import_module(package_name).__doc__ or ""
    sections = _sections(inspect.cleandoc(doc))
    assert ">>>" in sections.get("Examples", ""), f"{package_name}: no Examples with a doctest"


def _members(cls: type) -> Iterator[tuple[str, Any]]:
    """The public methods and properties ``cls`` defines itself (the API reference shows them)."""
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(member, property):
            yield name, member.fget
        elif isinstance(member, classmethod | staticmethod):
            yield name, member.__func__
        elif inspect.isfunction(member):
            yield name, member


@pytest.mark.parametrize(
    "path", sorted(p for p, (obj, _) in PUBLIC.items() if inspect.isclass(obj))
)
def test_public_class_members_are_documented(path: str) -> None:
    """A property says what it is; a method has numpydoc ``Parameters`` (when it takes any
    besides ``self``/``cls``) and ``Returns`` (unless it returns ``None``)."""
    cls, _ = PUBLIC[path]
    problems = []
    for name, fn in _members(cls):
        doc = inspect.getdoc(fn)
        if not doc:
            problems.append(f"{name}: no docstring")
            continue
        if isinstance(vars(cls)[name], property):
            continue
        sections = _sections(doc)
        params = [p for p in inspect.signature(fn).parameters if p not in ("self", "cls")]
        if params and "Parameters" not in sections:
            problems.append(f"{name}: no Parameters section")
        returns = inspect.signature(fn).return_annotation
        if returns not in ("None", None) and "Returns" not in sections:
            problems.append(f"{name}: no Returns section")
    assert not problems, f"{path}: " + "; ".join(problems)
