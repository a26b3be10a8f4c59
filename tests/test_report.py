"""``weight-init report``: summary.json schema, theory agreement, determinism, atomic output.

Most tests use a small configuration (depth 4, width 64) so the file runs in
seconds; the theory-agreement test runs the notes' size (10 layers of 500, a
1000 x 500 input), where the 3% tolerance is meant.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from _levels import PASS_ALPHA
from weight_init.app._cli import main
from weight_init.experiment import forward_prop
from weight_init.reports._config import (
    CheckSpec,
    ExperimentSpec,
    PhaseConfig,
    ReportConfig,
)
from weight_init.reports._experiments import run_experiment
from weight_init.reports._output_dir import MARKER
from weight_init.reports._render import INDEX, MARKDOWN, SUMMARY, generate
from weight_init.reports._schema import SUMMARY_SCHEMA, validate
from weight_init.schemes import get_scheme, variance_scaling

SMALL_PHASE = PhaseConfig(n_sigma=5, depth=6, width=32, samples=64)
SMALL = ReportConfig(
    depth=4,
    width=64,
    samples=128,
    input_dim=64,
    phase=SMALL_PHASE,
    suite=False,
    experiments=(
        ExperimentSpec("zeros", "tanh"),
        ExperimentSpec("xavier", "tanh"),
        ExperimentSpec("he_normal", "relu"),
    ),
)
SMALL_ARGS = [
    "--schemes", "xavier,he_normal:relu",
    "--depth", "4", "--width", "64", "--samples", "128", "--input-dim", "64",
    "--phase-sigmas", "5", "--phase-depth", "6", "--phase-width", "32",
    "--phase-samples", "64", "--no-suite", "--quiet",
]  # fmt: skip


HE_UNIFORM_MODULE = """
import numpy as np

def he_uniform(fan_in, fan_out, rng=None):
    bound = np.sqrt(6.0 / fan_in)
    return (rng or np.random.default_rng()).uniform(-bound, bound, (fan_in, fan_out))

def he_uniform_fan_out(fan_in, fan_out, rng=None):
    bound = np.sqrt(6.0 / fan_out)
    return (rng or np.random.default_rng()).uniform(-bound, bound, (fan_in, fan_out))
"""


@pytest.fixture(scope="module")
def full_small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small report with every section: suite verdicts and one conformance check."""
    root = tmp_path_factory.mktemp("report")
    (root / "report_candidates.py").write_text(HE_UNIFORM_MODULE)
    out = root / "full"
    config = ReportConfig(
        depth=4,
        width=64,
        samples=128,
        input_dim=64,
        phase=SMALL_PHASE,
        suite=True,
        checks=(CheckSpec("report_candidates:he_uniform", "he_uniform"),),
        check_alpha=PASS_ALPHA,  # its pass is asserted: tests/_levels.py
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(root))
        generate(config, out)
    return out


def _listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# ----------------------------------------------------------------------------- schema


def test_summary_json_matches_schema(full_small: Path) -> None:
    summary = json.loads((full_small / SUMMARY).read_text(encoding="utf-8"))
    errors = validate(summary, SUMMARY_SCHEMA)
    assert errors == [], f"summary.json of {full_small} violates SUMMARY_SCHEMA: {errors[:5]}"
    # exact content checks: one entry per configured experiment, one layer per depth
    pairs = [(e["scheme"], e["activation"]) for e in summary["experiments"]]
    expected = [(e.scheme, e.activation) for e in ReportConfig().experiments]
    assert pairs == expected, f"experiments {pairs}, expected the default pairs {expected}"
    for e in summary["experiments"]:
        assert [layer["layer"] for layer in e["layers"]] == [1, 2, 3, 4], e["scheme"]
        for layer in e["layers"]:
            h = layer["histogram"]
            assert len(h["edges"]) == len(h["counts"]) + 1 == 31, (e["scheme"], layer["layer"])
    assert len(summary["property_verdicts"]) > 0, "suite verdicts missing"
    assert summary["checks"][0]["outcome"] == "pass", summary["checks"][0]["verdict"]["tests"]
    pd = summary["phase_diagram"]
    assert len(pd["std"]) == 5 and all(len(row) == 6 for row in pd["std"]), pd["std"]


def test_schema_validator_rejects_broken_summaries(full_small: Path) -> None:
    """The checker can fail: a missing key, a wrong type and a bad enum are each reported."""
    summary = json.loads((full_small / SUMMARY).read_text(encoding="utf-8"))
    broken = json.loads(json.dumps(summary))
    del broken["experiments"][0]["layers"][0]["theory_std"]
    broken["experiments"][1]["depth"] = "ten"
    broken["property_verdicts"][0]["outcome"] = "maybe"
    errors = validate(broken, SUMMARY_SCHEMA)
    assert any("missing required key 'theory_std'" in e for e in errors), errors
    assert any("$.experiments[1].depth: expected integer" in e for e in errors), errors
    assert any("'maybe' not one of" in e for e in errors), errors
    assert validate(1.5, {"type": "integer"}) and validate(True, {"type": "number"})
    assert validate(2.0, {"type": "integer"}) and not validate(None, {"type": ["number", "null"]})


def test_html_and_markdown_reference_existing_figures(full_small: Path) -> None:
    import re

    html = (full_small / INDEX).read_text(encoding="utf-8")
    md = (full_small / MARKDOWN).read_text(encoding="utf-8")
    srcs = re.findall(r'<img src="([^"]+)"', html)
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert srcs and srcs == links, f"html images {srcs} != markdown images {links}"
    # overview + 3 per experiment + 2 phase + 1 QQ plot
    assert len(srcs) == 1 + 2 * 7 + 2 + 1, srcs
    for src in srcs:
        data = (full_small / src).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{src} is not a PNG"
    for section in ("Experiments", "Phase diagram", "Property verdicts", "Conformance"):
        assert f"## {section}" in md, f"section {section!r} missing from report.md"
    assert (full_small / MARKER).is_file()


# ----------------------------------------------------------------------------- theory


def test_xavier_tanh_std_agrees_with_theory_within_3_percent() -> None:
    """Seed size (10 x 500, 1000 x 500 input, seed 0): |std / theory_std - 1| <= 3% per layer.

    Not a statistical test: the mean-field theory is exact only as width -> inf; at
    width 500 the finite-width bias is O(1/500) per layer and the sampling error of
    a std over 5e5 correlated activations is ~0.3% (measured: largest deviation
    0.8%, layer 10). 3% is the notes' own tolerance for Xavier. The gradients'
    gradient-independence prediction is held to the same 3% (measured: 0.7% for the
    std of dL/dZ, 0.9% for ||dL/dW||).
    """
    result = run_experiment(ExperimentSpec("xavier", "tanh"), ReportConfig())
    for layer in result.layers:
        for what, measured, theory in (
            ("std", layer.std, layer.theory_std),
            ("std of dL/dZ", layer.preact_grad_std, layer.theory_preact_grad_std),
            ("||dL/dW||", layer.weight_grad_norm, layer.theory_weight_grad_norm),
        ):
            assert theory is not None and theory > 0, (what, layer.layer)
            ratio = measured / theory
            assert abs(ratio - 1) <= 0.03, (
                f"xavier/tanh layer {layer.layer}: {what} {measured:.5g} vs theory "
                f"{theory:.5g} (ratio {ratio:.4f}); reproduce: "
                "run_experiment(ExperimentSpec('xavier', 'tanh'), ReportConfig())"
            )


def test_experiment_statistics_are_forward_props() -> None:
    """Exact: the report's per-layer mean/std are forward_prop's, bit for bit."""
    for spec in (ExperimentSpec("xavier", "tanh"), ExperimentSpec("he_normal", "relu")):
        r = run_experiment(spec, SMALL)
        ref = forward_prop(
            [SMALL.width] * SMALL.depth,
            get_scheme(spec.scheme),
            activation=spec.activation,
            n_samples=SMALL.samples,
            input_dim=SMALL.input_dim,
            seed=SMALL.seed,
        )
        assert [layer.std for layer in r.layers] == ref.stds, spec
        assert [layer.mean for layer in r.layers] == ref.means, spec


def test_zeros_gradients_vanish_exactly() -> None:
    """Exact: under zeros every activation and every weight gradient is 0."""
    r = run_experiment(ExperimentSpec("zeros", "tanh"), SMALL)
    assert all(layer.std == 0.0 and layer.weight_grad_norm == 0.0 for layer in r.layers)
    assert r.layers[-1].preact_grad_std > 0.0  # the read-out gradient itself is not 0
    assert all(layer.preact_grad_std == 0.0 for layer in r.layers[:-1])


# ----------------------------------------------------------------------------- determinism


def test_same_seed_gives_byte_identical_outputs(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["report", "--out", str(a), *SMALL_ARGS]) == 0
    assert main(["report", "--out", str(b), *SMALL_ARGS]) == 0
    assert _listing(a) == _listing(b)
    assert (a / SUMMARY).read_bytes() == (b / SUMMARY).read_bytes(), "summary.json differs"
    for name in _listing(a):
        if (a / name).is_file():
            assert (a / name).read_bytes() == (b / name).read_bytes(), f"{name} differs"
    c = tmp_path / "c"
    assert main(["report", "--out", str(c), "--seed", "1", "--format", "json", *SMALL_ARGS]) == 0
    assert (c / SUMMARY).read_bytes() != (a / SUMMARY).read_bytes(), "seed has no effect"
    assert not (c / INDEX).exists() and not (c / "figures").exists(), _listing(c)


def test_content_does_not_depend_on_the_number_of_jobs(tmp_path: Path) -> None:
    """Inline (one process) and on a pool of two workers: the same files, byte for byte."""
    a, b = tmp_path / "inline", tmp_path / "pool"
    generate(SMALL, a, jobs=1)
    generate(SMALL, b, jobs=2)
    assert _listing(a) == _listing(b)
    for name in _listing(a):
        if (a / name).is_file():
            assert (a / name).read_bytes() == (b / name).read_bytes(), f"{name} differs"


def test_summary_numbers_are_numbers_and_explanations_only_for_failures(
    full_small: Path,
) -> None:
    """No numeric field holds a string (a -inf statistic is null, named in ``nonfinite``);
    ``meaning`` always holds the failure sentence, ``explanation`` only for a failure."""
    summary = json.loads((full_small / SUMMARY).read_text(encoding="utf-8"))
    verdicts = summary["property_verdicts"] + [c["verdict"] for c in summary["checks"]]
    tests = [t for v in verdicts for t in v["tests"]]
    assert tests
    for t in tests:
        for key in ("statistic", "p_value", "threshold"):
            value = t[key]
            assert value is None or isinstance(value, int | float), (t["name"], key, value)
            if value is None and key == "statistic":
                assert t["nonfinite"]["statistic"] in ("inf", "-inf", "nan"), t
        assert isinstance(t["meaning"], str) and t["meaning"], t
        if t["outcome"] == "fail":
            assert t["explanation"] == t["meaning"], t
        else:
            assert t["explanation"] is None, t


def test_clean_notes_non_finite_values() -> None:
    from weight_init.reports._summary import clean

    got = clean({"a": float("-inf"), "b": [1.0, float("nan")], "c": {"d": float("inf")}})
    assert got == {
        "a": None,
        "b": [1.0, None],
        "c": {"d": None, "nonfinite": {"d": "inf"}},
        "nonfinite": {"a": "-inf"},
    }
    json.dumps(got, allow_nan=False)


def test_existing_report_is_replaced(tmp_path: Path) -> None:
    out = tmp_path / "r"
    argv = ["report", "--out", str(out), *SMALL_ARGS, "--schemes", "xavier", "--no-phase"]
    assert main([*argv, "--format", "json"]) == 0
    assert main([*argv, "--format", "md"]) == 0
    assert (out / MARKDOWN).exists() and not (out / SUMMARY).exists(), _listing(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"], "temporary directories left"


# ----------------------------------------------------------------------------- bad input


def test_unwritable_out_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a directory\n")
    for out in (blocker / "report", blocker / "deeper" / "report", blocker):
        assert main(["report", "--out", str(out), *SMALL_ARGS]) == 2, out
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--out" in err and "Traceback" not in err, err
    assert blocker.read_text() == "not a directory\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"], "something was written"


def test_foreign_directory_is_not_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("mine\n")
    assert main(["report", "--out", str(tmp_path), *SMALL_ARGS]) == 2
    err = capsys.readouterr().err
    assert "weight-init did not write" in err and err.count("\n") == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_failure_half_way_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import weight_init.reports._render as render

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full (simulated)")

    monkeypatch.setattr(render, "draw_all", broken)
    out = tmp_path / "new" / "report"
    with pytest.raises(RuntimeError, match="simulated"):
        generate(SMALL, out)
    assert list(tmp_path.iterdir()) == [], f"left behind: {_listing(tmp_path)}"


@pytest.mark.parametrize(
    "argv",
    [
        ["--depth", "0"],
        ["--width", "-3"],
        ["--samples", "many"],
        ["--seed", "-1"],
        ["--schemes", "xavier,nope"],
        ["--schemes", "xavier:softsign"],
        ["--schemes", "xavier,,he_normal"],
        ["--activations", "relu,bogus"],
        ["--format", "html,pdf"],
        ["--check", "no-equals-sign"],
        ["--check", "mod:fn=not_a_scheme"],
        ["--check", "no_such_module_xyz:fn=glorot_normal"],
        ["--check-alpha", "2"],
        ["--phase-sigmas", "0"],
        ["--frobnicate"],
    ],
)
def test_bad_flags_exit_2_with_one_line(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r"
    assert main(["report", "--out", str(out), "--quiet", *argv]) == 2, argv
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, f"{argv}: {err!r}"
    assert not out.exists() and list(tmp_path.iterdir()) == [], f"{argv} wrote something"


def test_schemes_and_activations_flags_choose_experiments(tmp_path: Path) -> None:
    out = tmp_path / "r"
    argv = ["report", "--out", str(out), "--format", "json", *SMALL_ARGS, "--no-phase"]
    argv += ["--schemes", "xavier,he_normal:relu", "--activations", "tanh,selu"]
    assert main(argv) == 0
    summary = json.loads((out / SUMMARY).read_text())
    got = [(e["scheme"], e["activation"]) for e in summary["experiments"]]
    assert got == [("xavier", "tanh"), ("xavier", "selu"), ("he_normal", "relu")], got
    assert summary["phase_diagram"] is None
    assert np.isfinite(
        [layer["std"] for e in summary["experiments"] for layer in e["layers"]]
    ).all()


def test_nonconforming_check_is_reported_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "report_candidates.py").write_text(HE_UNIFORM_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "r"
    argv = ["report", "--out", str(out), "--format", "json", *SMALL_ARGS, "--no-phase"]
    spec = "report_candidates:he_uniform_fan_out=he_uniform"
    assert main([*argv, "--check", spec]) == 1
    assert "FAIL" in capsys.readouterr().err
    check = json.loads((out / SUMMARY).read_text())["checks"][0]
    failed = {t["name"] for t in check["verdict"]["tests"] if t["outcome"] == "fail"}
    assert check["outcome"] == "fail" and "fan rule" in failed, (check["outcome"], failed)


def test_phase_rows_on_an_executor_equal_the_inline_diagram() -> None:
    """Each sigma_w row depends on ``[seed, i]`` only: rows run on a process pool, in any
    order, assemble into the same diagram; the streamed saturation equals the kept layers'."""
    from concurrent.futures import ProcessPoolExecutor

    from weight_init.reports._phase_diagram import run_phase_diagram

    cfg = PhaseConfig(n_sigma=4, depth=6, width=48, samples=64)
    inline = run_phase_diagram(cfg, seed=3)
    with ProcessPoolExecutor(2) as pool:
        pooled = run_phase_diagram(cfg, seed=3, pool=pool)
    assert pooled == inline
    s = cfg.sigmas()[2]
    run = forward_prop(
        [cfg.width] * cfg.depth,
        variance_scaling(s * s, "fan_in", "normal"),
        n_samples=cfg.samples,
        input_dim=cfg.width,
        rng=np.random.default_rng([3, 2]),
    )
    kept = [float(np.mean(np.abs(run.acts[d]) > 0.9)) for d in range(cfg.depth)]
    assert inline.saturated[2] == kept, (inline.saturated[2], kept)
    assert inline.std[2] == [float(v) for v in run.stds]


def test_forward_prop_observe_sees_every_layer() -> None:
    seen: list[tuple[int, tuple[int, ...]]] = []
    run = forward_prop(
        [5, 3, 4],
        get_scheme("xavier"),
        n_samples=7,
        input_dim=6,
        seed=0,
        keep_activations=False,
        observe=lambda i, h: seen.append((i, h.shape)),
    )
    assert seen == [(0, (7, 5)), (1, (7, 3)), (2, (7, 4))]
    assert run.acts == {} and len(run.stds) == 3


XAVIER = (ExperimentSpec("xavier", "tanh"),)


@pytest.mark.parametrize(
    "config",
    [
        ReportConfig(XAVIER, depth=2, width=8, samples=8, input_dim=8, phase=None, suite=False),
        ReportConfig(XAVIER, depth=2, width=8, samples=8, input_dim=8,
                     phase=PhaseConfig(n_sigma=3, depth=3, width=8, samples=8), suite=False),
    ],
    ids=["experiments only", "with the phase diagram"],
)  # fmt: skip
def test_the_sections_table_lists_only_sections_the_report_has(config: ReportConfig) -> None:
    from weight_init.reports._build import build_report
    from weight_init.reports._document import Heading, Table, build_document

    blocks = build_document(build_report(config), None)
    listed = [row[0] for b in blocks if isinstance(b, Table) and b.header[0] == "section"
              for row in b.rows]  # fmt: skip
    headings = [b.text for b in blocks if isinstance(b, Heading) and b.level == 2]
    has = [name for name in listed if any(h.startswith(name) for h in headings)]
    assert listed == has and listed, (listed, headings)
    assert ("Phase diagram" in listed) == (config.phase is not None)
