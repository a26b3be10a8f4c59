"""The audit's checks between builds, of homogeneity, of the extremes and of the top direction
on deliberately broken models (tests/audit_models_defects.py): each defect, put in one
parameter, fails that parameter with the named diagnosis and no other; the model with
torch's defaults passes.

Each audit runs the automatic build count at the default target (10%) and the family-wise
alpha 1e-4 per parameter (Holm over its tests), seeded from the drawn seed; every defect
here is far beyond its test's stated resolution (the row's ``detects``), so each fails with
power above 0.99, and each other parameter passes but with probability at most 1e-4.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("torch")
pytestmark = pytest.mark.torch

sys.path.insert(0, str(Path(__file__).parent))

import audit_models_defects as defects  # noqa: E402
from _levels import PASS_ALPHA  # noqa: E402
from weight_init.properties.audit._loop import audit_torch  # noqa: E402
from weight_init.properties.audit._result import AuditReport  # noqa: E402

SEEDS = st.integers(0, 2**32 - 1)


def _audit(factory, seed: int) -> AuditReport:  # type: ignore[no-untyped-def]
    defects.MIRROR.clear()
    # passes are asserted (the defaults, and every parameter but the defective one)
    return audit_torch(factory, seed=seed, progress=False, alpha=PASS_ALPHA)


def _only_fails(report: AuditReport, name: str, check: str, words: str, note: bool = True) -> None:
    """``name`` fails ``check`` and its diagnosis (in the JSON, and in the row's note when
    ``note``: the note words the added checks' findings, a built-in check by its name) says
    ``words``; every other parameter passes."""
    by = {p.name: p for p in report.params}
    row = by.pop(name)
    assert row.outcome == "fail"
    assert row.verdict is not None
    assert check in {t.name for t in row.verdict.verdict.failures}
    assert words in row.verdict.verdict.diagnosis
    assert (words if note else check) in row.note()
    assert words in row.to_dict()["diagnosis"]
    for other in by.values():
        assert other.outcome == "pass", (other.name, other.note())


@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_the_defaults_pass(seed: int) -> None:
    r = _audit(defects.base, seed)
    assert r.passed, [p.note() for p in r.params if p.outcome != "pass"]
    for p in r.params:  # every new test ran and states what it detects
        names = {t.name for t in p.verdict.verdict.tests}  # type: ignore[union-attr]
        assert {"between calls", "extremes"} <= names
        assert "correlation between builds >=" in p.detects()
    emb = next(p for p in r.params if p.name == "embed.weight")
    names = {t.name for t in emb.verdict.verdict.tests}  # type: ignore[union-attr]
    assert {"unit homogeneity", "input homogeneity", "top direction"} <= names
    res = emb.to_dict()["resolution"]
    assert res["between_builds"] < 0.1 and res["unit_halves"] < 0.1
    assert res["clip_mass"] < 0.01 and res["spike_over_bbp"] < defects.SPIKE


@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_a_fixed_generator_repeats_every_build(seed: int) -> None:
    r = _audit(defects.fixed_generator, seed)
    _only_fails(r, "embed.weight", "fresh draws", "returns the same array on every call", False)
    row = next(p for p in r.params if p.name == "embed.weight")
    assert "between calls" in {t.name for t in row.verdict.verdict.failures}  # type: ignore[union-attr]


@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_mirrored_builds_fail_between_builds(seed: int) -> None:
    r = _audit(defects.mirrored, seed)
    _only_fails(r, "embed.weight", "between calls", "a build mirrors (negates) part of")
    row = next(p for p in r.params if p.name == "embed.weight")
    assert "fresh draws" not in {t.name for t in row.verdict.verdict.failures}  # type: ignore[union-attr]


@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_a_shared_component_fails_between_builds(seed: int) -> None:
    r = _audit(defects.shared_component, seed)
    _only_fails(r, "embed.weight", "between calls", "successive builds share a component")


@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_heteroscedastic_units_fail_homogeneity(seed: int) -> None:
    r = _audit(defects.heteroscedastic, seed)
    _only_fails(r, "embed.weight", "unit homogeneity", "units 0-15 at 1.2")
    row = next(p for p in r.params if p.name == "embed.weight")
    assert "16-31 at 0.6" in row.verdict.verdict.diagnosis  # type: ignore[union-attr]


@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_a_clipped_uniform_fails_extremes(seed: int) -> None:
    r = _audit(defects.clipped, seed)
    _only_fails(r, "head.weight", "extremes", "the entries stop short")


@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_a_rank_one_spike_fails_top_direction(seed: int) -> None:
    r = _audit(defects.spiked, seed)
    _only_fails(r, "embed.weight", "top direction", "a direction stands out")
