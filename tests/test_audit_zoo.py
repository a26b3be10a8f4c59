"""``weight-init audit`` on the zoo (``tox -e zoo``): twelve architectures from transformers,
timm and torchvision, built from small configurations, audited as a user runs the command.

Each model is audited twice (``tests/audit_models_zoo.py: ZOO``):

* against its library's preset, which states what the library's own init code draws. Every
  parameter whose stated resolution (its own or its pooled group's: power 0.99 against the
  default 10% std error) is reached at the case's builds must pass (family-wise alpha 1e-6
  per parameter or pooled group, Holm: with at most 541 families the zoo fails a correct
  library with probability below 5.4e-4); one that does not reach it is inconclusive, never
  passed (the report says which resolution it reached and how many builds would do). The one
  exception is a real defect the audit names: ``trunc_normal_`` (timm) draws its float32
  uniform on ``[2 Phi(a) - 1, ...)``, which holds -1 with probability 2^-24, and clamps
  ``erfinv(-1) = -inf`` to ``a``: an entry at -100 std. Such a parameter fails with the
  ``outliers`` finding (false-alarm rate below ``N * 1.3e-15``) and the test checks that the
  entry really is at the bound. Tied aliases and the model's quirks must be named.
* against the preset plus one deliberately wrong ``--expect`` rule (a forgotten padding row,
  the residual scaling left out, torch's fan_out for a depthwise conv, ...): the audit must
  fail on exactly the parameters the rule gets wrong -- every one of them, no other (the
  ``trunc_normal_`` endpoint aside) -- at 20 builds, where the wrong rules' effects are far
  beyond what the check resolves.

The builds are seeded from a drawn seed (one example: each audit takes seconds to minutes).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cli_helpers

pytest.importorskip("transformers")
pytest.importorskip("timm")
pytest.importorskip("torchvision")

from audit_models_zoo import ZOO, ZooCase
from weight_init.properties.audit._resolution import MEAN_PER_STD

pytestmark = pytest.mark.torch
HERE = Path(__file__).parent
#: Family-wise false-alarm rate per parameter: the zoo's 541 parameters make the chance that
#: it fails a correct library by a false alarm below 541 * 1e-6 = 5.4e-4 per run.
ALPHA = 1e-6


def audit(case: ZooCase, seed: int, builds: int, *rules: str) -> dict[str, Any]:
    args = ["audit", f"audit_models_zoo:{case.name}", "--preset", case.preset]
    for rule in rules:
        args += ["--expect", rule]
    args += ["--builds", str(builds), "--seed", str(seed), "--alpha", str(ALPHA), "--json"]
    out = cli_helpers.run(*args, cwd=HERE, timeout=1800)
    assert out.returncode in (0, 1), out.stderr
    report: dict[str, Any] = json.loads(out.stdout)
    assert report["builds"] == builds
    return report


def reaches(stated: dict[str, Any] | None, target: float) -> bool:
    """Whether a row's stated resolution (its own or its pooled group's, at power 0.99)
    detects the target std error and a mean shift of ``MEAN_PER_STD`` times it."""
    if stated is None:
        return True  # exact checks only
    std, mean = stated["std_error"], stated["mean_shift"]
    return std is not None and mean is not None and std <= target and mean <= MEAN_PER_STD * target


def endpoint(p: dict[str, Any]) -> bool:
    """The trunc_normal_ endpoint finding, and only it, explains ``p``'s failure."""
    return (
        str(p["expected"]).startswith("truncated_normal(")
        and (p["exact_failure"] or "").startswith("outliers:")
        and "(at -2;" in p["exact_failure"]
    )


@pytest.mark.parametrize("case", ZOO, ids=[c.name for c in ZOO])
@settings(max_examples=1, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_preset_states_the_library_init(case: ZooCase, seed: int) -> None:
    report = audit(case, seed, case.builds)
    params = {p["name"]: p for p in report["parameters"]}
    assert report["aliases"] == case.aliases
    for name, p in params.items():
        if name in case.skipped:
            assert p["outcome"] == "skipped", name
        elif p["outcome"] == "fail":
            assert endpoint(p), (name, p["exact_failure"], p["diagnosis"])
        elif p["expected"] in ("zeros", "ones") or str(p["expected"]).startswith("constant("):
            assert p["outcome"] == "pass", (name, p["diagnosis"])
        else:
            met = reaches(p["stated_resolution"], report["target_resolution"])
            assert p["outcome"] == ("pass" if met else "inconclusive"), (name, p["diagnosis"])
    assert {n for n, p in params.items() if p["outcome"] == "skipped"} == set(case.skipped)
    assert not [n for n, p in params.items() if p["outcome"] == "unchecked"]
    for name, quirk in case.quirks.items():
        assert quirk in params[name]["quirks"], (name, params[name]["quirks"])


@pytest.mark.parametrize("case", ZOO, ids=[c.name for c in ZOO])
@settings(max_examples=1, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_a_wrong_rule_fails_on_exactly_its_parameters(case: ZooCase, seed: int) -> None:
    report = audit(case, seed, 20, case.wrong)
    failed = {
        p["name"]
        for p in report["parameters"]
        if p["outcome"] == "fail" and not (endpoint(p) and p["name"] not in case.wrong_fails)
    }
    assert failed == set(case.wrong_fails)
    assert report["outcome"] == "fail"


def _cited() -> list[tuple[str, str]]:
    from weight_init.properties.audit._catalog_torch_zoo import ZOO_DEFAULTS
    from weight_init.properties.audit._presets_timm import TIMM_PRESETS
    from weight_init.properties.audit._presets_torchvision import TORCHVISION_PRESETS
    from weight_init.properties.audit._presets_transformers import TRANSFORMERS_PRESETS

    out = []
    for table in (TRANSFORMERS_PRESETS, TIMM_PRESETS, TORCHVISION_PRESETS):
        for p in table.values():
            out += [(p.source, "preset"), (p.base_source, "base")] if p.base_source else []
            out.append((p.source, "preset"))
    out += [(d.source, "catalog") for d in ZOO_DEFAULTS.values()]
    return sorted(set(out))


@pytest.mark.parametrize(("source", "kind"), _cited())
def test_every_cited_source_names_a_file_and_what_it_defines(source: str, kind: str) -> None:
    """A preset or catalog entry cites ``path/in/package.py: Name.method[, ...]``: the file is
    in the installed library and defines each name (a class, a function or a method)."""
    import importlib.util

    path, _, names = source.partition(": ")
    top = path.split("/")[0]
    spec = importlib.util.find_spec(top)
    assert spec is not None and spec.submodule_search_locations, top
    file = Path(next(iter(spec.submodule_search_locations))).parent / path
    assert file.is_file(), file
    text = file.read_text(encoding="utf-8")
    for name in names.split(" (")[0].split(", "):  # a parenthesis quotes the source
        word = name.split(" ")[0].split("(")[0]
        if not word or word == "no":
            continue  # "no _init_weights of its own: ..." cites the base
        last = word.split(".")[-1]
        assert f"def {last}(" in text or f"class {last}(" in text, (file, word)


pytest_plugins = ["pytester"]


# one example: the function-scoped pytester is not shared between examples
@settings(
    max_examples=1, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32 - 1))
def test_the_fixture_example_of_the_docs_runs(pytester: pytest.Pytester, seed: int) -> None:
    """The ``weight_init_audit`` example of docs/pytest-plugin.md, as it stands, in process:
    ``preset="timm"`` with the automatic build count (at most 100) passes timm's ResNet
    (family-wise alpha 1e-6 per parameter, as above: a false alarm below 41 * 1e-6), and a
    wrong rule over the preset fails on exactly its four parameters."""
    text = (HERE.parent / "docs" / "pytest-plugin.md").read_text(encoding="utf-8")
    block = re.search(r"```python\n(from audit_models_zoo import .*?)```", text, re.S)
    assert block is not None
    pytester.makepyfile(test_docs_example=block.group(1))
    pytester.syspathinsert(HERE)
    result = pytester.runpytest_inprocess(
        "-p",
        "no:cacheprovider",
        "-p",
        "no:xdist",
        "--weight-init-alpha",
        str(ALPHA),
        "--weight-init-seed",
        str(seed),
    )
    result.assert_outcomes(passed=2)
