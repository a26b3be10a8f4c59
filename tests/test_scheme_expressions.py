"""Scheme expressions: parsed safely, they state the third-party rules (one-sided uniform,
location, sparse), and ``weight-init check --scheme EXPR`` gives the right verdict
(family-wise alpha 1e-4, power 0.99, as every check)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cli_helpers
from _levels import PASS_ALPHA
from weight_init.errors import UnsupportedSchemeError, WeightInitError
from weight_init.properties.conformance._runner import check_initializer
from weight_init.scheme_expressions import parse_scheme
from weight_init.schemes import SCHEMES, TRUNCATED_NORMAL_STD


@pytest.mark.parametrize(
    ("text", "family", "variance_at_16_64"),
    [
        ("normal(std=0.02)", "normal", 0.02**2),
        ("normal(0.05)", "normal", 0.05**2),
        ("uniform(a=-0.05, b=0.05)", "uniform", 0.05**2 / 3),
        ("uniform(-0.1, 0.1)", "uniform", 0.1**2 / 3),
        ("truncated_normal(std=0.02)", "truncated_normal", (TRUNCATED_NORMAL_STD * 0.02) ** 2),
        (
            "truncated_normal(std=0.02, a=-0.04, b=0.04)",
            "truncated_normal",
            (TRUNCATED_NORMAL_STD * 0.02) ** 2,
        ),
        ("truncated_normal(std=0.02, a=-2, b=2)", "normal", 0.02**2),
        ("variance_scaling(2, fan_out, truncated_normal)", "truncated_normal", 2 / 64),
        ("variance_scaling(scale=1, mode='fan_avg', distribution='uniform')", "uniform", 2 / 80),
        ("variance_scaling(1, fan_geo_avg, normal)", "normal", 1 / 32),
        ("he_normal*gain(tanh)", "normal", 2 / 16 * 25 / 9),
        ("lecun_normal * gain(selu)", "normal", 1 / 16 * 9 / 16),
        ("glorot_uniform * gain(leaky_relu, 0.2)", "uniform", 2 / 80 * 2 / 1.04),
        ("orthogonal*1.1", "orthogonal", 1.21 / 64),
        ("orthogonal(gain=1.1)", "orthogonal", 1.21 / 64),
        ("constant(0.5)", "constant", 0.0),
        ("ones", "constant", 0.0),
    ],
)
def test_expressions_state_their_law(text: str, family: str, variance_at_16_64: float) -> None:
    s = parse_scheme(text)
    assert s.family == family
    assert math.isclose(s.variance(16, 64), variance_at_16_64, rel_tol=1e-12)


def test_registered_names_are_expressions() -> None:
    for name, scheme in SCHEMES.items():
        assert parse_scheme(name) is scheme


@given(std=st.floats(1e-6, 1e3), gain=st.floats(0.01, 10.0))
def test_fixed_std_and_numeric_gain(std: float, gain: float) -> None:
    s = parse_scheme(f"normal(std={std!r}) * {gain!r}")
    assert math.isclose(s.std(3, 5), std * gain, rel_tol=1e-12)


@given(text=st.text(max_size=80))
@settings(max_examples=300)
def test_any_text_is_a_scheme_or_one_clear_error(text: str) -> None:
    try:
        parse_scheme(text)
    except WeightInitError as exc:
        assert str(exc) and "\n" not in str(exc)


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "open('x')",
        "normal(std=__import__('os'))",
        "os.system",
        "[1, 2]",
        "normal(std=1) + 1",
        "lambda: 0",
        "(" * 200 + "1" + ")" * 200,
    ],
)
def test_code_is_never_run(text: str) -> None:
    with pytest.raises(WeightInitError):
        parse_scheme(text)


@pytest.mark.parametrize(
    ("text", "family", "mean", "variance_at_16_64"),
    [
        ("uniform(0, 1)", "uniform", 0.5, 1 / 12),
        ("uniform(low=0, high=0.01)", "uniform", 0.005, 0.01**2 / 12),
        ("uniform(low=-1, high=3)", "uniform", 1.0, 16 / 12),
        ("uniform(low=0, high=0.01) * 2", "uniform", 0.01, 0.02**2 / 12),
        ("normal(std=1, mean=0.5)", "normal", 0.5, 1.0),
        ("sparse(sparsity=0.1, std=0.01)", "sparse", 0.0, 0.01**2 * (1 - 7 / 64)),
        ("sparse(0.25)", "sparse", 0.0, 0.01**2 * (1 - 16 / 64)),
    ],
)
def test_new_families_and_locations_are_expressions(
    text: str, family: str, mean: float, variance_at_16_64: float
) -> None:
    """Third-party rules: one-sided uniform (JAX), a location, torch's sparse_."""
    s = parse_scheme(text)
    assert s.family == family
    assert math.isclose(s.mean(), mean, rel_tol=1e-12, abs_tol=1e-15)
    assert math.isclose(s.variance(16, 64), variance_at_16_64, rel_tol=1e-12)


@pytest.mark.parametrize(
    "text", ["uniform(low=1, high=0)", "sparse(sparsity=1)", "sparse(std=0.1)", "uniform(a=0)"]
)
def test_new_family_bad_parameters_are_one_clear_error(text: str) -> None:
    with pytest.raises(WeightInitError) as err:
        parse_scheme(text)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "text", ["truncated_normal(std=1, a=-0.5, b=0.5)", "truncated_normal(std=1, a=-1, b=3)"]
)
def test_laws_without_a_family_say_so(text: str) -> None:
    with pytest.raises(UnsupportedSchemeError):
        parse_scheme(text)


@pytest.mark.parametrize("cut", [1.0, 2.5, 3.0, 5.0, 7.9])
def test_absolute_cut_is_scipys_truncnorm(cut: float) -> None:
    """``truncated_normal(std=s, a=-c s, b=c s)``: the family TruncatedNormalAt(c), whose
    variance, cdf, ppf, fourth moment and support are scipy.stats.truncnorm(-c, c)'s."""
    from scipy import stats

    from weight_init.families import TruncatedNormalAt

    sd = 0.02
    s = parse_scheme(f"truncated_normal(std={sd}, a={-cut * sd!r}, b={cut * sd!r})")
    assert s.family == TruncatedNormalAt(cut), s.family
    law = stats.truncnorm(-cut, cut)
    assert math.isclose(s.variance(7, 9), law.var() * sd * sd, rel_tol=1e-9), (
        cut,
        s.variance(7, 9),
    )
    fam = s.family
    scale = 1.0 / math.sqrt(law.var())  # z = t / s_c
    z = np.linspace(-fam.support_bound, fam.support_bound, 41)
    np.testing.assert_allclose(fam.cdf(z), law.cdf(z / scale), rtol=1e-9, atol=1e-12)
    q = np.linspace(0.001, 0.999, 37)
    np.testing.assert_allclose(fam.ppf(q), law.ppf(q) * scale, rtol=1e-9, atol=1e-12)
    assert math.isclose(fam.fourth_moment(), law.moment(4) * scale**4, rel_tol=1e-9)
    assert math.isclose(fam.support_bound, cut * scale, rel_tol=1e-12)


def _torch_like_cut(cut: float, sd: float) -> Any:
    """torch's trunc_normal_(std=sd, a=-cut sd, b=cut sd) as numpy: the same law (a normal
    truncated at +-cut sd), drawn by rejection (scipy's truncnorm.rvs took most of this
    module's time)."""

    def fn(fan_in: int, fan_out: int, rng: np.random.Generator) -> Any:
        z = rng.standard_normal((fan_in, fan_out))
        while np.any(bad := np.abs(z) > cut):
            z[bad] = rng.standard_normal(int(bad.sum()))
        return sd * z

    return fn


@settings(max_examples=1, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_absolute_cut_verdicts(seed: int) -> None:
    """A cut at 3 sd declared at 3 sd passes; declared at 2 sd or as a plain normal it fails
    (variance 0.9733 vs 0.774, then the bounds); a cut at 2 sd declared at 3 fails."""
    expr = "truncated_normal(std=0.02, a=-0.06, b=0.06)"
    cut3 = _torch_like_cut(3.0, 0.02)
    assert check_initializer(cut3, parse_scheme(expr), seed=seed, alpha=PASS_ALPHA).passed
    at2 = check_initializer(_torch_like_cut(2.0, 0.02), parse_scheme(expr), seed=seed)
    assert at2.outcome == "fail" and "variance" in {t.name for t in at2.failures}, at2
    normal = check_initializer(
        lambda fi, fo, rng: rng.standard_normal((fi, fo)) * 0.02, parse_scheme(expr), seed=seed
    )
    assert normal.outcome == "fail" and "bounds" in {t.name for t in normal.failures}, normal


# -- verdicts (numpy stand-ins for the third-party initializers; torch ones via the CLI) -----


def _keras_truncated(fan_in: int, fan_out: int, rng: np.random.Generator) -> Any:
    """Keras/JAX TruncatedNormal(stddev=0.05): cut at 2 std, no variance correction."""
    z = rng.standard_normal((fan_in, fan_out))
    while np.any(bad := np.abs(z) > 2):
        z[bad] = rng.standard_normal(int(bad.sum()))
    return 0.05 * z


def _geo(fan_in: int, fan_out: int, rng: np.random.Generator) -> Any:
    """JAX variance_scaling(1, "fan_geo_avg", "normal") (untruncated)."""
    return rng.standard_normal((fan_in, fan_out)) * (fan_in * fan_out) ** -0.25


@settings(max_examples=1, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_uncorrected_truncated_normal_verdicts(seed: int) -> None:
    assert check_initializer(
        _keras_truncated, parse_scheme("truncated_normal(std=0.05)"), seed=seed, alpha=PASS_ALPHA
    ).passed
    v = check_initializer(_keras_truncated, parse_scheme("normal(std=0.05)"), seed=seed)
    assert v.outcome == "fail"


@settings(max_examples=1, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_fan_geo_avg_verdicts(seed: int) -> None:
    assert check_initializer(
        _geo, parse_scheme("variance_scaling(1, fan_geo_avg, normal)"), seed=seed, alpha=PASS_ALPHA
    ).passed
    v = check_initializer(_geo, "glorot_normal", seed=seed)
    assert v.outcome == "fail" and "fan rule" in {t.name for t in v.failures}


@pytest.mark.torch
@pytest.mark.parametrize(
    ("spec", "expr", "code"),
    [
        ("torch:trunc_normal_(std=0.02)", "truncated_normal(std=0.02, a=-2, b=2)", 0),
        ("torch:trunc_normal_(std=0.02)", "truncated_normal(std=0.02)", 1),
        (
            "torch:trunc_normal_(std=0.02, a=-0.06, b=0.06)",
            "truncated_normal(std=0.02, a=-0.06, b=0.06)",
            0,
        ),
        (
            "torch:trunc_normal_(std=0.02, a=-0.04, b=0.04)",
            "truncated_normal(std=0.02, a=-0.06, b=0.06)",
            1,
        ),
        ("torch:kaiming_normal_(mode='fan_out')", "variance_scaling(2, fan_out, normal)", 0),
        ("torch:xavier_uniform_(gain=1.6666666666666667)", "glorot_uniform*gain(tanh)", 0),
        ("torch:orthogonal_(gain=1.1)", "orthogonal*1.1", 0),
        ("torch:orthogonal_", "orthogonal*1.1", 1),
    ],
)
def test_cli_check_accepts_expressions(
    spec: str, expr: str, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """``main`` in this process: the check's child is forked from a server that has imported
    torch once, not a fresh interpreter per case."""
    pytest.importorskip("torch")
    level = ("--alpha", repr(PASS_ALPHA)) if code == 0 else ()  # a pass is asserted
    out = cli_helpers.run_main(capsys, "check", spec, "--scheme", expr, "--seed", "7", *level)
    assert out.returncode == code, out.stdout + out.stderr
    assert f"as {parse_scheme(expr).name} (out_in)" in out.stdout.splitlines()[0]


@pytest.mark.parametrize("expr", ["bogus(1)", "normal(std=x)", "sparse(std=0.1)", "a b"])
def test_cli_bad_expression_is_one_line_exit_2(
    expr: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = cli_helpers.run_main(capsys, "check", "numpy:zeros", "--scheme", expr)
    assert out.returncode == 2 and out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1 and "--scheme" in out.stderr
