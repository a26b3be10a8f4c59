"""``weight-init audit`` on small Equinox, Flax NNX and Haiku models (``tox -e frameworks``).

Skipped (importorskip) where the framework is missing. Each parameter's check has family-wise
false-alarm rate 1e-4 (Holm) and the power plan of ``check``; builds are seeded from the
drawn seed (``SeedSequence(seed)``: ``make(jax.random.PRNGKey(s))``, ``make(nnx.Rngs(s))``,
``transformed.init(jax.random.PRNGKey(s), *inputs)`` per build). Expected fans are the
frameworks' own (docs/frameworks.md). The command-line tests run ``weight-init audit`` as a
subprocess: exit 0 for a conforming model, 1 for a mis-initialized one (the parameter named),
2 for a factory returning something else (one line, no traceback).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import audit_models_jax_modules as models  # noqa: E402
from _levels import PASS_ALPHA  # noqa: E402

SEEDS = st.integers(0, 2**32 - 1)


def _eqx() -> None:
    pytest.importorskip("jax")
    pytest.importorskip("equinox")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("weight-init")
    return subprocess.run(
        [str(exe), "audit", *args],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=900,
        env=dict(os.environ),
    )


# -- Equinox ----------------------------------------------------------------------------------


@pytest.mark.jax
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_equinox_cnn_defaults_pass_at_equinox_fans(seed: int) -> None:
    _eqx()
    from weight_init.properties.audit._frameworks import audit_model

    r = audit_model(models.eqx_cnn, seed=seed)  # 499 builds: the 256-entry biases conclusive
    assert r.outcome == "pass", r.format_table()
    by = {p.name: p for p in r.params}
    w = by["layers.0.weight"]
    assert (w.layer, w.layout, w.shape, w.fans.as_tuple()) == (
        "Conv2d",
        "torch.conv",
        (16, 3, 3, 3),
        (27, 144),
    )
    b = by["layers.2.bias"]
    assert (b.layer, b.shape, b.fans.as_tuple()) == ("Conv2d", (256, 1, 1), (16, 256))
    t = by["layers.3.weight"]  # (O, I/g, *k), fan_in I * rf (not torch's O/g * rf)
    assert (t.layer, t.shape, t.fans.as_tuple()) == ("ConvTranspose2d", (8, 256, 3, 3), (2304, 72))
    assert by["layers.4.bias"].fans.as_tuple() == (8, 256)  # the weight's fan_in
    for p in r.params:
        if p.expected == "torch_linear_default":
            assert (p.family, p.identified.split(" = ")[0]) == ("uniform", "1/(3 fan_in)")
    assert {by["layers.1.weight"].expected, by["layers.5.weight"].expected} == {"ones"}


@pytest.mark.jax
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_equinox_owners_and_cells(seed: int) -> None:
    _eqx()
    from weight_init.properties.audit._frameworks import audit_model

    r = audit_model(models.eqx_transformer, builds=20, seed=seed)
    by = {p.name: p for p in r.params}
    q = by["attn.query_proj.weight"]
    assert (q.layer, q.expected) == ("Linear", "torch_linear_default")
    assert (by["embed.weight"].layer, by["embed.weight"].expected) == ("Embedding", "big_normal")
    for name in ("cell.weight_ih", "cell.weight_hh", "cell.bias", "cell.bias_n"):
        assert by[name].layer == "GRUCell" and by[name].fans.fan_out == 8  # hidden
    assert by["cell.weight_ih"].fans.as_tuple() == (4, 8)
    assert all(p.outcome != "fail" for p in r.params), r.format_table()


@pytest.mark.jax
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_equinox_buggy_linear_fails_by_name(seed: int) -> None:
    _eqx()
    from weight_init.properties.audit._frameworks import audit_model

    r = audit_model(models.eqx_buggy_linear, builds=100, seed=seed)  # 204,800 weight entries
    by = {p.name: p for p in r.params}
    assert by["weight"].outcome == "fail", r.format_table()
    assert by["weight"].identified.startswith("2/fan_in")
    assert by["bias"].outcome != "fail"


@pytest.mark.jax
def test_cli_equinox_conforming_exit_0_with_json() -> None:
    _eqx()
    out = _cli("audit_models_jax_modules:eqx_cnn", "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    d = json.loads(out.stdout)
    # the automatic count: the fewest builds (at least 10) with which every checked row
    # reaches the default 10% target (the 1%-plan's count was 499)
    assert d["outcome"] == "pass" and d["builds"] == 10
    stated = [p["stated_resolution"] for p in d["parameters"] if p["stated_resolution"]]
    assert stated and all(r["std_error"] <= 0.10 for r in stated)
    by = {p["name"]: p for p in d["parameters"]}
    assert by["layers.2.weight"]["layout"] == "torch.conv"


@pytest.mark.jax
def test_cli_equinox_table_and_buggy_model() -> None:
    _eqx()
    out = _cli("audit_models_jax_modules:eqx_transformer", "--builds", "20", "--seed", "3")
    assert out.returncode == 1, out.stdout + out.stderr  # 20 builds: inconclusive
    lines = out.stdout.splitlines()
    assert "INCONCLUSIVE (20 builds, seed 3" in lines[0]
    row = next(line for line in lines if line.startswith("cell.weight_hh"))
    assert "GRUCell" in row and "out_in" in row and "8,8" in row
    out = _cli("audit_models_jax_modules:eqx_buggy_linear", "--builds", "100")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "FAIL" in out.stdout.splitlines()[0]
    assert any(line.startswith("  weight: ") for line in out.stdout.splitlines())


@pytest.mark.jax
@pytest.mark.parametrize(
    ("factory", "message"),
    [("eqx_not_a_module", "returned function, not"), ("garbage", "returned dict, not")],
)
def test_cli_equinox_garbage_exit_2(factory: str, message: str) -> None:
    _eqx()
    out = _cli(f"audit_models_jax_modules:{factory}")
    assert out.returncode == 2 and out.stdout == "", out.stdout + out.stderr
    assert message in out.stderr.strip().splitlines()[-1] and "Traceback" not in out.stderr


# -- Flax NNX ---------------------------------------------------------------------------------


def _nnx() -> None:
    pytest.importorskip("jax")
    pytest.importorskip("flax.nnx")


@pytest.mark.jax
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_nnx_cnn_defaults_pass_at_jax_fans(seed: int) -> None:
    _nnx()
    from weight_init.properties.audit._frameworks import audit_model

    r = audit_model(models.nnx_cnn, seed=seed)
    assert r.outcome == "pass", r.format_table()
    by = {p.name: p for p in r.params}
    g = by["grouped.kernel"]
    assert (g.layer, g.layout, g.shape, g.fans.as_tuple()) == (
        "Conv",
        "flax.conv",
        (3, 3, 8, 64),
        (72, 576),
    )  # feature_group_count=4: I/g * rf
    t = by["up.kernel"]
    assert (t.layer, t.layout, t.fans.as_tuple()) == (
        "ConvTranspose",
        "flax.conv_transpose",
        (576, 72),
    )
    for p in r.params:
        if p.name.endswith("kernel"):
            assert p.expected == "lecun_truncated_normal"
            assert (p.family, p.identified) == ("truncated_normal", "1/fan_in")
    assert (by["norm.scale"].expected, by["norm.bias"].expected) == ("ones", "zeros")


@pytest.mark.jax
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_nnx_cell_gates_are_reported_under_the_cell(seed: int) -> None:
    _nnx()
    from weight_init.properties.audit._frameworks import audit_model

    r = audit_model(models.nnx_transformer, builds=20, seed=seed)
    by = {p.name: p for p in r.params}
    assert (by["cell.hi.kernel"].layer, by["cell.hi.kernel"].expected) == ("LSTMCell", "orthogonal")
    assert by["cell.if_.kernel"].expected == "lecun_truncated_normal"
    e = by["embed.embedding"]
    assert (e.expected, e.fans.as_tuple()) == ("lecun_normal", (16, 16))  # fan_in = features
    assert by["attn.query.kernel"].outcome == "unchecked"  # LinearGeneral: no default
    assert all(p.outcome != "fail" for p in r.params), r.format_table()


@pytest.mark.jax
def test_cli_nnx_conforming_exit_0_buggy_exit_1_garbage_exit_2() -> None:
    _nnx()
    out = _cli("audit_models_jax_modules:nnx_cnn", "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    d = json.loads(out.stdout)
    assert d["outcome"] == "pass"
    assert {p["name"] for p in d["parameters"]} >= {"conv.kernel", "head.bias"}
    out = _cli("audit_models_jax_modules:nnx_buggy_linear", "--builds", "100")
    assert out.returncode == 1, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert "FAIL" in lines[0]
    row = next(line for line in lines if line.startswith("kernel "))
    assert "Linear" in row and "2/fan_in" in row and "fail" in row
    out = _cli("audit_models_jax_modules:nnx_not_a_module")
    assert out.returncode == 2 and out.stdout == "", out.stdout + out.stderr
    assert "returned function, not" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.jax
def test_cli_nnx_table() -> None:
    _nnx()
    out = _cli("audit_models_jax_modules:nnx_transformer", "--builds", "20", "--seed", "3")
    assert out.returncode == 1, out.stdout + out.stderr  # 20 builds: inconclusive
    lines = out.stdout.splitlines()
    assert "INCONCLUSIVE (20 builds, seed 3" in lines[0]
    row = next(line for line in lines if line.startswith("cell.hi.kernel"))
    assert "LSTMCell" in row and "8,8" in row and "orthogonal" in row


# -- Haiku ------------------------------------------------------------------------------------


def _hk() -> None:
    pytest.importorskip("jax")
    pytest.importorskip("haiku")


@pytest.mark.jax
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_haiku_cnn_defaults_pass_uncorrected_truncated_normal(seed: int) -> None:
    _hk()
    from weight_init.properties.audit._catalog_haiku import HAIKU_TRUNCATED
    from weight_init.properties.audit._frameworks import audit_model

    r = audit_model(models.hk_cnn, seed=seed)
    assert r.outcome == "pass", r.format_table()
    by = {p.name: p for p in r.params}
    assert [n.rsplit("/", 1)[0] for n in by][::2] == [
        "conv2_d",
        "batch_norm",
        "conv2_d_1",
        "conv2_d_transpose",
        "linear",
    ]
    g = by["conv2_d_1/w"]
    assert (g.layer, g.layout, g.shape, g.fans.as_tuple()) == (
        "Conv2D",
        "flax.conv",
        (3, 3, 4, 32),
        (36, 288),
    )
    t = by["conv2_d_transpose/w"]  # (*k, O, I): fan_in = I * rf from the last axis
    assert (t.layout, t.shape, t.fans.as_tuple()) == (
        "haiku.conv_transpose",
        (3, 3, 8, 32),
        (288, 72),
    )
    for p in r.params:
        if p.name.endswith("/w"):
            assert p.expected == HAIKU_TRUNCATED.name and p.family == "truncated_normal"
            # variance 0.7737/fan_in, not 1/fan_in: the ratio to the rule is within the std
            # error its own entries resolve, and the row (alone or pooled) resolves a std
            # error that tells 1/0.7737 from 1
            assert p.resolution is not None and p.stated is not None
            e = p.resolution.std_error
            assert (1 - e) ** 2 < p.expected_ratio < (1 + e) ** 2, (p.name, e)
            assert (1 + p.stated.std_error) ** 2 < 1 / 0.7737, p.name
    assert (by["batch_norm/scale"].expected, by["batch_norm/offset"].expected) == ("ones", "zeros")


@pytest.mark.jax
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_haiku_attention_projections_are_reported_under_the_attention(seed: int) -> None:
    _hk()
    from weight_init.properties.audit._frameworks import audit_model

    r = audit_model(models.hk_transformer, builds=20, seed=seed)
    by = {p.name: p for p in r.params}
    q = by["multi_head_attention/query/w"]
    assert (q.layer, q.outcome) == ("MultiHeadAttention", "unchecked")  # w_init is required
    b = by["multi_head_attention/linear/b"]
    assert (b.layer, b.expected, b.outcome) == ("MultiHeadAttention", "zeros", "pass")
    lin = by["lstm/linear/w"]
    assert (lin.layer, lin.fans.as_tuple()) == ("Linear", (16 + 8, 32))
    assert by["embed/embeddings"].expected == "truncated_normal(std=1)"
    assert by["gru/w_h"].expected == "lecun_truncated_normal"
    assert all(p.outcome != "fail" for p in r.params), r.format_table()


@pytest.mark.jax
def test_cli_haiku_conforming_exit_0_buggy_exit_1_garbage_exit_2() -> None:
    _hk()
    out = _cli("audit_models_jax_modules:hk_cnn", "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    d = json.loads(out.stdout)
    assert d["outcome"] == "pass"
    by = {p["name"]: p for p in d["parameters"]}
    assert by["conv2_d_transpose/w"]["layout"] == "haiku.conv_transpose"
    out = _cli("audit_models_jax_modules:hk_buggy_linear", "--builds", "100")
    assert out.returncode == 1, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    row = next(line for line in lines if line.startswith("linear/w "))
    assert "Linear" in row and "2/fan_in" in row and "fail" in row
    out = _cli("audit_models_jax_modules:hk_not_transformed")
    assert out.returncode == 2 and out.stdout == "", out.stdout + out.stderr
    assert "returned tuple, not" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.jax
def test_cli_haiku_table() -> None:
    _hk()
    out = _cli(
        "audit_models_jax_modules:hk_transformer",
        "--builds",
        "20",
        "--seed",
        "3",
        "--resolution",
        "1%",
    )
    assert out.returncode == 1, out.stdout + out.stderr  # 20 builds: inconclusive
    lines = out.stdout.splitlines()
    assert "INCONCLUSIVE (20 builds, seed 3" in lines[0]
    row = next(line for line in lines if line.startswith("multi_head_attention/query/w"))
    assert "MultiHeadAttention" in row and "unchecked" in row


# -- --expect rules and the pytest fixture, in every framework ---------------------------------


@pytest.mark.jax
@pytest.mark.parametrize(
    ("package", "factory", "param", "rule", "code"),
    [
        # the bias keeps Equinox's U(-1/sqrt(64), +): 3,200 entries at 100 builds, inconclusive
        ("equinox", "eqx_buggy_linear", "weight", "weight=he_uniform@out_in", 1),
        ("flax.nnx", "nnx_buggy_linear", "kernel", "kernel=he_truncated_normal@in_out", 0),
        ("haiku", "hk_buggy_linear", "linear/w", "linear/w=he_truncated_normal@in_out", 0),
    ],
)
def test_cli_expect_declares_what_the_model_does(
    package: str, factory: str, param: str, rule: str, code: int
) -> None:
    """The mis-initialized model of each framework passes once its actual rule is declared:
    the parameter is checked against the rule (source ``--expect``) and passes, and nothing
    else fails."""
    pytest.importorskip("jax")
    pytest.importorskip(package)
    out = _cli(
        f"audit_models_jax_modules:{factory}",
        *("--builds", "100", "--expect", rule, "--json", "--resolution", "1%"),
    )
    assert out.returncode == code, out.stdout + out.stderr
    by = {p["name"]: p for p in json.loads(out.stdout)["parameters"]}
    p = by[param]
    assert (p["expected"], p["outcome"]) == (rule.split("=", 1)[1].split("@")[0], "pass"), p
    assert all(q["outcome"] != "fail" for q in by.values()), by


@pytest.mark.jax
def test_audit_fixture_with_a_jax_framework(weight_init_audit: object) -> None:
    """The ``weight_init_audit`` fixture audits an NNX model like a torch one: a module-level
    factory in a child process; the buggy kernel fails by name unless its rule is declared."""
    _nnx()
    report = weight_init_audit(models.nnx_buggy_linear, builds=100)  # type: ignore[operator]
    assert not report.passed and "kernel" in report.failure_message()
    declared = weight_init_audit(  # type: ignore[operator]
        models.nnx_buggy_linear, expect=["kernel=he_truncated_normal@in_out"], builds=100
    )
    assert declared.passed, declared.format_table()


# -- bfloat16 ---------------------------------------------------------------------------------


@pytest.mark.jax
@pytest.mark.parametrize(
    ("factory", "framework", "rule", "constant"),
    [
        ("eqx_bfloat16_linear", "equinox", "", ""),
        ("nnx_bfloat16_linear", "flax.nnx", "bias=constant(0.1)", "bias"),
        ("hk_bfloat16_linear", "haiku", "*/b=constant(0.1)", "linear/b"),
    ],
)
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_bfloat16_parameters_are_audited_in_their_format(
    factory: str, framework: str, rule: str, constant: str, seed: int
) -> None:
    """A parameter stored in bfloat16 (which numpy does not count as a float) is audited, not
    left ``unchecked``: its draws against its default (family-wise ``PASS_ALPHA`` each,
    tests/_levels.py: pass, or inconclusive at 20 builds, never fail) and ``constant(0.1)``
    against 0.1 as bfloat16 holds it (0.10009765625, printed 0.1001; an exact check)."""
    pytest.importorskip("jax")
    pytest.importorskip(framework)
    from weight_init.properties.audit._frameworks import audit_model
    from weight_init.properties.audit._loop import parse_expect

    expect = [parse_expect(rule)] if rule else []
    r = audit_model(getattr(models, factory), builds=20, seed=seed, expect=expect, alpha=PASS_ALPHA)
    for p in r.params:
        assert p.outcome in ("pass", "inconclusive") and p.family != "unknown", r.format_table()
    if constant:
        p = next(p for p in r.params if p.name == constant)
        assert (p.outcome, p.identified) == ("pass", "0.1001"), r.format_table()
