"""The audit's walk of a torch model and what it expects of each parameter: tied tensors once
with their aliases, parameters of any rank, buffers never, defaults through the class
hierarchy, constants at the tensor's precision, ``skip`` and ``zero_rows`` rules, bad input in
one line, and a ``--timeout`` that bounds one build.

Statistical verdicts here are the audit's own (family-wise alpha 1e-4 per parameter, Holm, the
check's power plan); every parameter asserted to pass is either a constant (an exact check) or
has the entries its plan needs at the builds given. Builds are seeded from the drawn seed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("torch")
pytestmark = pytest.mark.torch

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import audit_models  # noqa: E402
import cli_helpers  # noqa: E402
from _levels import PASS_ALPHA  # noqa: E402
from weight_init.properties.audit._expectations import parse_expect  # noqa: E402
from weight_init.properties.audit._loop import audit_torch  # noqa: E402
from weight_init.properties.audit._walk_torch import walk  # noqa: E402


def test_tied_tensor_is_listed_once_with_its_alias_and_buffers_never() -> None:
    params, values, _ = walk(audit_models.tied_lm())
    names = [p.name for p in params]
    assert names == ["cls_token", "embed.weight"]  # head.weight is embed.weight; no buffer
    assert params[1].aliases == ("head.weight",)
    assert params[0].shape == (1, 1, 32) and values[0].shape == (1, 1, 32)


@settings(max_examples=1, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_tied_model_audits_with_padding_row_and_bare_parameter(seed: int) -> None:
    r = audit_torch(audit_models.tied_lm, builds=20, seed=seed)
    by = {p.name: p for p in r.params}
    assert set(by) == {"cls_token", "embed.weight"}
    emb = by["embed.weight"]
    assert emb.aliases == ("head.weight",)
    assert "tied: head.weight" in emb.quirks and "padding row 0 zero" in emb.quirks
    assert emb.expected == "big_normal + zero_rows(0)" and emb.layer == "Embedding"
    assert by["cls_token"].outcome == "unchecked"  # a bare parameter: no documented default
    assert by["cls_token"].layout == "torch.conv"  # torch's own fans for a 3-d tensor
    assert "tied to embed.weight" in r.format_table()
    assert r.to_dict()["aliases"] == {"head.weight": "embed.weight"}


@settings(max_examples=1, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_undeclared_padding_row_under_a_continuous_rule_fails_exactly(seed: int) -> None:
    rule = parse_expect("embed.weight=big_normal")
    r = audit_torch(audit_models.tied_lm, builds=20, seed=seed, expect=[rule])
    emb = next(p for p in r.params if p.name == "embed.weight")
    assert emb.outcome == "fail"
    assert "row 0 is exactly 0 in every build" in emb.exact_failure
    assert "big_normal + zero_rows(0)" in emb.exact_failure


@settings(max_examples=1, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_subclass_inherits_its_base_default_unless_it_resets_itself(seed: int) -> None:
    r = audit_torch(audit_models.subclassed_layers, builds=20, seed=seed)
    by = {p.name: p for p in r.params}
    assert by["0.weight"].expected == "ones" and by["0.weight"].outcome == "pass"
    assert "inherited by" in by["0.weight"].expected_from
    assert by["1.weight"].outcome == "unchecked"  # reset_parameters of its own
    assert "zeros" in by["1.weight"].quirks


@settings(max_examples=1, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_constants_at_the_tensors_precision_and_3d_fixed_scale_rules(seed: int) -> None:
    rules = [parse_expect(t) for t in ("gamma*=constant(1e-6)", "experts=normal(std=0.02)")]
    r = audit_torch(audit_models.layer_scale, builds=2, seed=seed, expect=rules, alpha=PASS_ALPHA)
    by = {p.name: p for p in r.params}
    assert by["gamma"].outcome == "pass" and by["gamma"].identified == "9.99999997e-07"
    assert by["gamma_bf16"].outcome == "pass" and by["gamma_bf16"].identified == "9.984e-07"
    assert by["experts"].shape == (8, 16, 32) and by["experts"].outcome in ("pass", "inconclusive")
    wrong = audit_torch(
        audit_models.layer_scale, builds=2, seed=seed, expect=[parse_expect("gamma=constant(1e-5)")]
    )
    assert next(p for p in wrong.params if p.name == "gamma").outcome == "fail"


def test_skip_is_listed_as_skipped() -> None:
    r = audit_torch(audit_models.tied_lm, builds=3, seed=0, expect=[parse_expect("*=skip")])
    assert {p.outcome for p in r.params} == {"skipped"}
    assert r.outcome == "pass"  # nothing checked, nothing failed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--expect", "head.weight=normal(std=0.02)"], "head.weight is tied to embed.weight"),
        (["--expect", "nothing.*=zeros"], "matches no parameter"),
        (["--preset", "transformers"], "not a transformers PreTrainedModel"),
        (["--preset", "timm"], "no preset for"),
        (["--expect", "embed.weight=normal(std=1) + zero_rows(0.5)"], "whole number"),
        (["--expect", "embed.weight=normal(std=n_layer)"], "unknown name 'n_layer'"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = cli_helpers.run_main(
        capsys, "audit", "audit_models:tied_lm", "--builds", "2", *args, cwd=HERE
    )
    assert out.returncode == 2, out.stdout
    line = out.stderr.strip()
    assert "\n" not in line and message in line and "factory" not in line, line


def test_a_factory_that_raises_is_still_the_factorys_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = cli_helpers.run_main(
        capsys,
        "audit",
        "audit_models:raising_factory",
        "--builds",
        "2",
        "--expect",
        "x=zeros",
        cwd=HERE,
    )
    assert out.returncode == 2
    assert "the model factory raised RuntimeError: boom" in out.stderr


def test_timeout_bounds_one_build_not_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    # In this process: the builds run in a child forked from a server that has imported torch
    # (a subprocess's child would import it first, a step a short limit cannot bound under
    # load). 12 builds of 0.5 s each (plus the first build): ~6.5 s in all, each build well
    # under the 4 s limit.
    ok = cli_helpers.run_main(
        capsys,
        "audit",
        "audit_models:slow_factory",
        "--builds",
        "9",
        "--timeout",
        "3",
        "--json",
        cwd=HERE,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["builds"] == 9
    stuck = cli_helpers.run_main(
        capsys, "audit", "audit_models:stuck_factory", "--builds", "3", "--timeout", "3", cwd=HERE
    )
    assert stuck.returncode == 2
    # the factory's third call hangs: the framework detection's build is build 1, so build 3
    assert "no progress for 3 s while running build 3 of 3" in stuck.stderr, stuck.stderr


def test_preset_rules_outer_module_wins_and_names_bind_config_and_owner() -> None:
    from torch import nn

    from weight_init.properties.audit._presets import Preset, PresetRule, preset_expectations

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.proj = nn.Linear(8, 8)
            self.emb = nn.Embedding(10, 8, padding_idx=3)

    model = nn.Sequential(Block())
    params, _, modules = walk(model)
    block = f"class:{Block.__module__}.{Block.__qualname__}"
    preset = Preset(
        "lib",
        "fam",
        (),
        "lib/model.py: init",
        (
            PresetRule("isa:torch.nn.modules.linear.Linear", "weight", "normal(std=r)"),
            PresetRule(block, "proj.weight", "normal(std=r / sqrt(2 * n))", quirk="scaled"),
            PresetRule("isa:torch.nn.modules.sparse.Embedding", "weight", "normal(std=r)"),
            PresetRule(
                "isa:torch.nn.modules.sparse.Embedding",
                "weight",
                "normal(std=r) + zero_rows(padding_idx)",
                when="padding_idx",
            ),
            PresetRule("isa:torch.nn.modules.linear.Linear", "bias", "zeros", when="not tied"),
        ),
    )
    got = preset_expectations(preset, params, modules, {"r": 0.02, "n": 8, "tied": True}, {})
    w = got["0.proj.weight"]
    assert w.rule is not None and w.rule.text == "normal(std=0.02 / sqrt(2 * 8))"
    assert w.quirk == "scaled"
    emb = got["0.emb.weight"]
    assert emb.rule is not None and emb.rule.zero_rows == (3,)
    assert "0.proj.bias" not in got  # gated off by the configuration


def test_a_fault_in_the_audit_is_reported_as_ours(monkeypatch: pytest.MonkeyPatch) -> None:
    from weight_init.app import _child_tasks as child_tasks
    from weight_init.errors import OwnFaultError
    from weight_init.properties.audit import _walk_torch

    def broken(model: object) -> None:
        raise KeyError("lm_head.weight")

    monkeypatch.setattr(_walk_torch, "walk", broken)
    monkeypatch.chdir(HERE)
    with pytest.raises(OwnFaultError) as info:
        child_tasks.audit("audit_models:tied_lm", 2, 0, [], 1e-4)
    text = str(info.value)
    assert "a fault in weight-init, not in the model" in text and "factory" not in text


def test_parameters_it_cannot_check_are_listed_never_a_crash() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch: initializing an empty tensor
        r = audit_torch(audit_models.odd_parameters, builds=3, seed=0)
    by = {p.name: p for p in r.params}
    assert by["empty.weight"].quirks == ("empty",)
    assert "a rule of the fans is undefined" in by["empty.bias"].quirks[0]
    assert by["ints"].quirks == ("int64: not a float tensor to audit",)
    assert by["cplx"].quirks == ("complex64: not a float tensor to audit",)
    assert by["scalar"].identified == "2.5" and by["tenth"].identified == "0.099976"
    assert {p.outcome for p in r.params} == {"unchecked"}


LAZY_TORCH = """
def factory():
    import torch

    return torch.nn.Sequential(torch.nn.Linear(24, 16), torch.nn.Embedding(30, 8))
"""


def test_a_factory_that_imports_torch_itself_is_built_under_the_seeds(tmp_path: Path) -> None:
    # The framework detection calls the factory before torch is imported: that build was not
    # seeded, so it must not be the audit's first build. The command (a fresh process) then
    # gives the same report as the in-process audit, whose process had torch imported.
    import torch

    from weight_init import audit

    (tmp_path / "lazy_torch_model.py").write_text(LAZY_TORCH)
    out = cli_helpers.run(
        "audit", "lazy_torch_model:factory", "--builds", "6", "--seed", "4", "--json", cwd=tmp_path
    )
    assert out.returncode in (0, 1), out.stderr
    got = json.loads(out.stdout)

    def factory() -> torch.nn.Module:
        return torch.nn.Sequential(torch.nn.Linear(24, 16), torch.nn.Embedding(30, 8))

    want = audit(factory, builds=6, seed=4)
    assert [p["variance"] for p in got["parameters"]] == [p.variance for p in want.params]
