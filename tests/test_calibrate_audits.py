"""``weight-init calibrate --audits N``: each audit's record keeps every Holm family's p-values
and exact failures, so that one run gives the false-alarm rate at every promised alpha; the
decision recomputed from the record at the run's alpha is the audit's own; the table states
each rate with its exact Clopper-Pearson bounds and whether the promise is kept.

The measured rates are the recorded run's business (docs/error-rates.md), not a test's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from weight_init.app._calibration.audits import run_audit  # noqa: E402
from weight_init.app._cli import main  # noqa: E402
from weight_init.reports._calibration import ALPHAS, Rate, audit_points, rejects  # noqa: E402


@settings(max_examples=2, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), defect=st.booleans())
def test_the_record_gives_the_audits_own_decision(seed: int, defect: bool) -> None:
    record = run_audit(0.10, defect, seed, 1e-4)
    for fam in record["families"]:
        assert fam["p_values"], fam["family"]
        names = {name.rpartition(": ")[2] for name in fam["p_values"]}
        if fam["family"].endswith("weight"):  # the checks between builds are in the family
            assert {"between calls", "unit homogeneity", "extremes", "top direction"} <= names
        assert rejects(fam, 1e-4) == (fam["outcome"] == "fail")


def test_the_table_states_every_level_with_exact_bounds() -> None:
    fam_ok = {"family": "0.weight", "p_values": {"a": 0.5, "b": 2e-4}, "margin": 10.0}
    fam_bias = {"family": "0.bias", "p_values": {"a": 0.004}, "margin": 10.0}
    records = [
        {
            "kind": "audit",
            "target_resolution": 0.1,
            "builds": 6,
            "stated_std_error": 0.087,
            "defect_std_error": 0.0,
            "families": [fam_ok, fam_bias],
        }
    ] * 50
    (point,) = audit_points(records)
    by = {lv.level: lv.rate for lv in point.false_alarms}
    assert tuple(by) == ALPHAS
    # Holm at alpha / 10: b (2e-4) rejects at 5e-2 (threshold 2.5e-3) and 1e-2 (5e-4);
    # the bias family's 0.004 only at 5e-2
    assert (by[1e-4].events, by[1e-3].events) == (0, 0)
    assert (by[1e-2].events, by[5e-2].events) == (50, 100)
    assert by[5e-2].trials == 100
    r = Rate(3, 4000)
    assert r.lower_one_sided() <= 3 / 4000 <= r.upper_one_sided()
    assert Rate(0, 10).lower_one_sided() == 0.0


def test_calibrate_audits_writes_the_table(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["calibrate", "--quiet", "--checks", "0", "--audits", "2"]
    assert main([*args, "--audit-resolutions", "10%", "--out", str(out)]) == 0
    md = (out / "calibration.md").read_text()
    assert "| kept |" in md
    for level in ALPHAS:
        assert f"| {level:g} | " in md
    assert "| 10% weights: between calls | 8 |" in md  # 2 audits x 4 weights
    lines = (out / "records.jsonl").read_text().splitlines()
    audits = [json.loads(x) for x in lines if '"audit"' in x]
    assert len(audits) == 4  # 2 of the correct model, 2 of the defective one
