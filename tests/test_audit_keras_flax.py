"""``weight-init audit`` on small Keras 3 and Flax models (``tox -e frameworks``).

Skipped (importorskip) where Keras or Flax is missing. Each parameter's check has family-wise
false-alarm rate 1e-4 (Holm) and the power plan of ``check``; builds are seeded from the
drawn seed (``keras.utils.set_random_seed`` / ``jax.random.PRNGKey`` per build). Expected
fans are the frameworks' own (``compute_fans`` / ``_compute_fans``, docs/frameworks.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

os.environ.setdefault("KERAS_BACKEND", "jax")
try:  # imported here, not inside a Hypothesis test (keras changes the recursion limit)
    import keras  # noqa: F401
except Exception:  # ImportError, or no usable backend: the Keras tests skip
    pass

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import audit_models_keras_flax as models  # noqa: E402
from _levels import PASS_ALPHA  # noqa: E402
from weight_init.properties.audit._loop import parse_expect  # noqa: E402
from weight_init.properties.conformance._kernels import DOCUMENTED, NO_RF_IN  # noqa: E402

SEEDS = st.integers(0, 2**32 - 1)
# Keras' convert_to_numpy on the JAX backend calls np.array(x) the numpy-2 deprecated way
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)


def _keras() -> None:
    pytest.importorskip("keras")


def _flax() -> None:
    pytest.importorskip("jax")
    pytest.importorskip("flax.linen")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("weight-init")
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    return subprocess.run(
        [str(exe), "audit", *args], cwd=HERE, capture_output=True, text=True, timeout=600, env=env
    )


@pytest.mark.keras
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_keras_cnn_defaults_pass_at_keras_fans(seed: int) -> None:
    _keras()
    from weight_init.properties.audit._frameworks import audit_model

    # the check's 1% design, each parameter alone: 258 builds, every kernel conclusive
    r = audit_model(models.keras_cnn, seed=seed, resolution=0.01, pool=False)
    by = {p.name: p for p in r.params}
    assert r.outcome == "pass", r.format_table()
    k = "sequential/conv2d/kernel"
    assert (by[k].layer, by[k].layout, by[k].shape) == ("Conv2D", "keras.conv", (3, 3, 3, 16))
    assert by[k].fans.as_tuple() == (3 * 9, 16 * 9)
    assert by["sequential/conv2d_1/kernel"].fans.as_tuple() == (4 * 9, 32 * 9)  # I/g, O
    t = by["sequential/conv2d_transpose/kernel"]
    assert t.layout == "keras.conv_transpose" and t.shape == (3, 3, 8, 32)
    assert t.fans.as_tuple() == (8 * 9, 32 * 9)  # fan_in from axis -2: the output channels
    for p in r.params:
        expected = (
            "glorot_uniform"
            if p.name.endswith("kernel")
            else {"gamma": "ones"}.get(p.name.rsplit("/", 1)[1], "zeros")
        )
        assert p.expected == expected
        if p.expected == "glorot_uniform":
            assert (p.family, p.identified, p.fan_rule) == ("uniform", "1/fan_avg", DOCUMENTED)
    print(r.format_table())


@pytest.mark.jax
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_flax_cnn_defaults_pass_at_jax_fans(seed: int) -> None:
    _flax()
    from weight_init.properties.audit._frameworks import audit_model

    r = audit_model(models.flax_cnn, seed=seed)
    assert r.outcome == "pass", r.format_table()
    names = [p.name for p in r.params]
    owners = [n.split("/")[0] for n in names]  # the order the modules ran in
    assert (
        owners
        == ["Conv_0"] * 2
        + ["BatchNorm_0"] * 2
        + ["Conv_1"] * 2
        + ["ConvTranspose_0"] * 2
        + ["Dense_0"] * 2
    )
    by = {p.name: p for p in r.params}
    assert by["Conv_1/kernel"].layout == "flax.conv"
    assert by["Conv_1/kernel"].fans.as_tuple() == (4 * 9, 32 * 9)  # feature_group_count=4
    t = by["ConvTranspose_0/kernel"]
    assert (t.layout, t.shape, t.fans.as_tuple()) == (
        "flax.conv_transpose",
        (3, 3, 32, 8),
        (288, 72),
    )
    for p in r.params:
        if p.name.endswith("kernel"):
            assert p.expected == "lecun_truncated_normal"
            assert (p.family, p.identified) == ("truncated_normal", "1/fan_in")
    assert (by["BatchNorm_0/scale"].expected, by["BatchNorm_0/bias"].expected) == ("ones", "zeros")
    print(r.format_table())


@pytest.mark.keras
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_keras_lstm_bias_is_audited_per_gate_block(seed: int) -> None:
    _keras()
    from weight_init.properties.audit._frameworks import audit_keras

    r = audit_keras(models.keras_lstm, builds=20, seed=seed)
    by = {p.name: p for p in r.params}
    bias = "sequential/lstm/lstm_cell/bias"
    assert [by[f"{bias}[{i}/4]"].expected for i in range(4)] == ["zeros", "ones", "zeros", "zeros"]
    assert all(by[f"{bias}[{i}/4]"].outcome == "pass" for i in range(4))
    k = by["sequential/lstm/lstm_cell/kernel"]
    assert (k.layer, k.fans.as_tuple(), k.expected) == ("LSTMCell", (16, 32), "glorot_uniform")
    assert by["sequential/lstm/lstm_cell/recurrent_kernel"].expected == "orthogonal"
    assert by["sequential/embedding/embeddings"].expected == "uniform(-0.05, 0.05)"


@pytest.mark.jax
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_flax_cell_gates_are_reported_under_the_cell(seed: int) -> None:
    _flax()
    from weight_init.properties.audit._frameworks import audit_flax

    r = audit_flax(models.flax_lstm, builds=20, seed=seed)
    by = {p.name: p for p in r.params}
    assert (by["LSTMCell_0/hi/kernel"].layer, by["LSTMCell_0/hi/kernel"].expected) == (
        "LSTMCell",
        "orthogonal",
    )
    assert by["LSTMCell_0/ii/kernel"].expected == "lecun_truncated_normal"
    e = by["Embed_0/embedding"]
    assert (e.expected, e.fans.as_tuple()) == ("lecun_normal", (16, 16))  # fan_in = features
    assert e.outcome != "fail"


@pytest.mark.keras
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_keras_conv_transpose_he_uses_the_output_channels_as_fan_in(seed: int) -> None:
    """Declared as he_uniform, Keras' Conv2DTranspose passes at Keras' fans (fan_in = O * rf,
    tensorflow #31192), the fans the audit reports."""
    _keras()
    from weight_init.properties.audit._frameworks import audit_keras

    expect = [parse_expect("*/kernel=he_uniform")]
    r = audit_keras(models.keras_he_conv_transpose, seed=seed, expect=expect)
    p = next(p for p in r.params if p.name.endswith("kernel"))
    assert p.outcome == "pass", p.note()
    assert p.fans.as_tuple() == (4 * 9, 12 * 9)


@pytest.mark.keras
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_keras_buggy_conv_fails_with_the_quirk_named(seed: int) -> None:
    _keras()
    from weight_init.properties.audit._frameworks import audit_keras

    expect = [parse_expect("*/kernel=he_uniform@keras.conv")]
    r = audit_keras(models.keras_buggy_cnn, builds=30, seed=seed, expect=expect)
    p = next(p for p in r.params if p.name.endswith("kernel"))
    assert p.outcome == "fail"
    assert p.fan_rule == NO_RF_IN and NO_RF_IN in p.note()


PADDED = "normal(std=0.02) + zero_rows(0)"


@pytest.mark.keras
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_keras_padding_row_declared_passes_undeclared_fails_and_skip_is_skipped(seed: int) -> None:
    """``zero_rows(0)``: row 0 is checked exactly (zero in every build) and left out of the
    statistics of ``normal(std=0.02)`` (which pass at ``PASS_ALPHA``, tests/_levels.py, with the
    automatic build count); without it, row 0 fails the rule exactly (a normal draws 0 with
    probability 0). ``skip`` leaves the Dense out, listed as skipped."""
    _keras()
    from weight_init.properties.audit._frameworks import audit_keras

    rules = [parse_expect(f"*/embeddings={PADDED}"), parse_expect("sequential/dense/*=skip")]
    r = audit_keras(models.keras_padded_embedding, seed=seed, expect=rules, alpha=PASS_ALPHA)
    by = {p.name: p for p in r.params}
    emb = by["sequential/embedding/embeddings"]
    assert (emb.expected, emb.outcome) == (PADDED, "pass"), r.format_table()
    assert "padding row 0 zero" in emb.quirks
    assert [by[f"sequential/dense/{n}"].outcome for n in ("kernel", "bias")] == ["skipped"] * 2
    assert r.outcome == "pass"
    rule = parse_expect("*/embeddings=normal(std=0.02)")
    bare = audit_keras(models.keras_padded_embedding, builds=10, seed=seed, expect=[rule])
    emb = next(p for p in bare.params if p.name == "sequential/embedding/embeddings")
    assert emb.outcome == "fail" and "row 0 is exactly 0 in every build" in emb.exact_failure
    assert PADDED in emb.exact_failure  # the rule to declare, spelled out


@pytest.mark.jax
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_flax_padding_row_declared_passes_undeclared_fails_and_skip_is_skipped(seed: int) -> None:
    """As for Keras, on a Flax ``Embed`` (its table ``(num_embeddings, features)``: rows are
    tokens)."""
    _flax()
    from weight_init.properties.audit._frameworks import audit_flax

    rules = [parse_expect(f"Embed_0/embedding={PADDED}"), parse_expect("Dense_0/*=skip")]
    r = audit_flax(models.flax_padded_embed, seed=seed, expect=rules, alpha=PASS_ALPHA)
    by = {p.name: p for p in r.params}
    emb = by["Embed_0/embedding"]
    assert (emb.expected, emb.outcome) == (PADDED, "pass"), r.format_table()
    assert "padding row 0 zero" in emb.quirks
    assert [by[f"Dense_0/{n}"].outcome for n in ("kernel", "bias")] == ["skipped"] * 2
    assert r.outcome == "pass"
    rule = parse_expect("Embed_0/embedding=normal(std=0.02)")
    bare = audit_flax(models.flax_padded_embed, builds=10, seed=seed, expect=[rule])
    emb = next(p for p in bare.params if p.name == "Embed_0/embedding")
    assert emb.outcome == "fail" and "row 0 is exactly 0 in every build" in emb.exact_failure


#: How the identification prints 0.1 as each format holds it (bfloat16: 0.10009765625,
#: float16: 0.0999755859375), in the format's significant digits.
HELD = {"bfloat16": "0.1001", "float16": "0.099976"}


def _low_precision_checks(report: Any, biases: dict[str, str]) -> None:
    by = {p.name: p for p in report.params}
    for name, fmt in biases.items():
        p = by[name]
        assert (p.outcome, p.identified) == ("pass", HELD[fmt]), report.format_table()
    for p in report.params:  # audited in their format, not left unchecked
        assert p.outcome != "unchecked", p.note()


@pytest.mark.keras
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_keras_constants_are_compared_at_the_variables_precision(seed: int) -> None:
    """``Constant(0.1)`` stored in bfloat16 holds 0.10009765625 and in float16
    0.0999755859375: ``constant(0.1)`` passes both (compared with 0.1 rounded to the format;
    an exact check), ``constant(0.11)`` fails both and nothing else (the kernels' checks at
    ``PASS_ALPHA``, tests/_levels.py)."""
    _keras()
    from weight_init.properties.audit._frameworks import audit_keras

    ok = audit_keras(
        models.keras_low_precision,
        builds=10,
        seed=seed,
        alpha=PASS_ALPHA,
        expect=[parse_expect("*/bias=constant(0.1)")],
    )
    biases = {"sequential/dense/bias": "bfloat16", "sequential/dense_1/bias": "float16"}
    _low_precision_checks(ok, biases)
    wrong = audit_keras(
        models.keras_low_precision,
        builds=10,
        seed=seed,
        alpha=PASS_ALPHA,
        expect=[parse_expect("*/bias=constant(0.11)")],
    )
    assert {p.name for p in wrong.params if p.outcome == "fail"} == set(biases)


@pytest.mark.jax
@settings(max_examples=1, deadline=None)
@given(seed=SEEDS)
def test_flax_constants_are_compared_at_the_params_precision(seed: int) -> None:
    """As for Keras, with Flax's ``param_dtype`` bfloat16 and float16."""
    _flax()
    from weight_init.properties.audit._frameworks import audit_flax

    ok = audit_flax(
        models.flax_low_precision,
        builds=10,
        seed=seed,
        alpha=PASS_ALPHA,
        expect=[parse_expect("*/bias=constant(0.1)")],
    )
    biases = {"Dense_0/bias": "bfloat16", "Dense_1/bias": "float16"}
    _low_precision_checks(ok, biases)
    wrong = audit_flax(
        models.flax_low_precision,
        builds=10,
        seed=seed,
        alpha=PASS_ALPHA,
        expect=[parse_expect("*/bias=constant(0.11)")],
    )
    assert {p.name for p in wrong.params if p.outcome == "fail"} == set(biases)


# -- the command line -------------------------------------------------------------------------


@pytest.mark.keras
def test_cli_audits_a_keras_factory() -> None:
    _keras()
    out = _cli(
        "audit_models_keras_flax:keras_cnn", "--builds", "30", "--seed", "3", "--resolution", "1%"
    )
    assert out.returncode == 1, out.stdout + out.stderr  # 30 builds: kernels inconclusive
    lines = out.stdout.splitlines()
    assert "INCONCLUSIVE (30 builds, seed 3" in lines[0]
    row = next(line for line in lines if line.startswith("sequential/conv2d_transpose/kernel"))
    assert "Conv2DTranspose" in row and "keras.conv_transpose" in row and "72,288" in row
    assert "inconclusive" in row and "Traceback" not in out.stderr


@pytest.mark.keras
def test_cli_exit_0_on_a_conforming_keras_model() -> None:
    _keras()
    out = _cli("audit_models_keras_flax:keras_norm_only", "--builds", "20")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "PASS" in out.stdout.splitlines()[0]


@pytest.mark.keras
def test_cli_fails_a_buggy_keras_model_with_the_quirk() -> None:
    _keras()
    out = _cli(
        "audit_models_keras_flax:keras_buggy_cnn",
        "--builds",
        "30",
        "--expect",
        "*/kernel=he_uniform",
    )
    assert out.returncode == 1
    assert NO_RF_IN in out.stdout


@pytest.mark.jax
def test_cli_json_on_a_flax_factory() -> None:
    _flax()
    out = _cli("audit_models_keras_flax:flax_cnn", "--builds", "20", "--json", "--resolution", "1%")
    assert out.returncode == 1, out.stderr  # 20 builds: too few entries for the kernels
    d = json.loads(out.stdout)
    by = {p["name"]: p for p in d["parameters"]}
    assert by["Conv_0/kernel"]["layout"] == "flax.conv"
    assert by["Conv_0/kernel"]["outcome"] == "inconclusive"
    assert by["Conv_0/bias"]["outcome"] == "pass"


@pytest.mark.keras
def test_cli_unbuilt_keras_model_is_one_line_exit_2() -> None:
    _keras()
    out = _cli("audit_models_keras_flax:keras_unbuilt")
    assert out.returncode == 2 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert "not built" in lines[-1] and "Traceback" not in out.stderr
