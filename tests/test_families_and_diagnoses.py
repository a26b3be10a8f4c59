"""The families and fan modes beyond the notes' (geometric-average fan, sparse, one-sided
uniform), and what ``identify`` and the diagnoses say about them, one test per behaviour.

Every verdict is a conformance check at its defaults (family-wise false-alarm rate 1e-4 under
Holm at 1e-5, power 0.99 against the planned effects;
:mod:`weight_init.properties.conformance._power`),
so a conforming initializer fails with probability <= 1e-4 and each planned effect passes
with probability <= 0.01; the effects below are many times larger than the planned ones.
``identify`` names a nonzero mean when its z test rejects at 1e-6 (the effects here give
|t| > 500). Hypothesis draws the seeds (cases), never the samples.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _levels import PASS_ALPHA
from _levels import PASS_ALPHA_ARGS as PASS
from buggy_initializers import (
    BUGS,
    conv3x3_slice,
    geo_avg,
    inverse_cdf_endpoint,
    lecun_true,
    mha_key_projection,
    one_sided_uniform,
    torch_sparse_like,
)
from weight_init.app._cli import main
from weight_init.families import Sparse
from weight_init.properties._results import fmt_percent
from weight_init.properties.conformance._checks import registry as C
from weight_init.properties.conformance._identify import identify
from weight_init.properties.conformance._runner import check_initializer
from weight_init.scheme_expressions import parse_scheme
from weight_init.schemes import MODES, SCHEMES, sparse, uniform_interval, variance_scaling

seeds = st.integers(0, 2**32 - 1)
one_seed = settings(max_examples=1, deadline=None)
TESTS = Path(__file__).parent


# -- A. families and modes ------------------------------------------------------------------


@one_seed
@given(seed=seeds)
def test_fan_geo_avg_is_a_mode(seed: int) -> None:
    """``fan_geo_avg`` is in schemes.MODES: Var = scale / sqrt(fan_in fan_out), in Python and
    in expressions; the correct draws pass, the same draws declared fan_avg fail."""
    assert "fan_geo_avg" in MODES
    s = variance_scaling(1.0, "fan_geo_avg", "normal")
    assert math.isclose(s.variance(16, 64), 1 / 32, rel_tol=1e-12)
    assert parse_scheme("variance_scaling(1, fan_geo_avg, normal)").rule == s.rule
    assert check_initializer(geo_avg, s, seed=seed, alpha=PASS_ALPHA).passed
    wrong = check_initializer(geo_avg, variance_scaling(1.0, "fan_avg", "normal"), seed=seed)
    assert wrong.outcome == "fail"


def _sparse_wrong_count(fan_in: int, fan_out: int, rng: np.random.Generator) -> Any:
    """floor instead of ceil: one zero fewer per input where 0.1 fan_out is not whole."""
    w = rng.standard_normal((fan_in, fan_out)) * 0.01
    k = math.floor(0.1 * fan_out)
    order = np.argsort(rng.random((fan_in, fan_out)), axis=1)[:, :k]
    np.put_along_axis(w, order, 0.0, axis=1)
    return w


def _sparse_wide(fan_in: int, fan_out: int, rng: np.random.Generator) -> Any:
    """The right zeros, the nonzero part's std 10% too wide."""
    return torch_sparse_like(fan_in, fan_out, rng) * 1.1


@one_seed
@given(seed=seeds)
def test_sparse_family_through_check_initializer(seed: int) -> None:
    """torch's sparse_ as a family: exact zeros per input checked exactly, the nonzero part by
    KS against N(0, 1) (powered against its std 5% off), the mean exactly; no variance or
    fan-rule test (not i.i.d.). Conforming draws pass; a wrong zero count and a wrong std fail
    with the defect named."""
    scheme = parse_scheme("sparse(sparsity=0.1, std=0.01)")
    assert scheme.family == Sparse(0.1) and scheme.family.zeros(31) == 4
    py = sparse(0.1, 0.01)
    assert (scheme.family, scheme.rule, scheme.value) == (py.family, py.rule, py.value)
    ok = check_initializer(torch_sparse_like, scheme, seed=seed, alpha=PASS_ALPHA)
    assert ok.passed, ok.format_table()
    names = {t.name for t in ok.tests}
    assert {"zeros per input", "mean", "distribution"} <= names
    assert not {"variance", "fan rule", "bounds"} & names
    assert ok.plan.n_entries > 0 and ok.plan.required(C.DISTRIBUTION) > 0
    count = check_initializer(_sparse_wrong_count, scheme, seed=seed)
    assert count.outcome == "fail" and "zeros per input" in {t.name for t in count.failures}
    assert "ceil(sparsity * fan_out) zeros" in count.diagnosis
    wide = check_initializer(_sparse_wide, scheme, seed=seed)
    assert wide.outcome == "fail", wide.format_table()
    # the measured std ratio: ~1.2e5 nonzero entries, standard error ~0.0025; 0.02 is 8 of them
    m = re.search(r"the nonzero entries' std is ([0-9.]+)x the rule's", wide.diagnosis)
    assert m is not None and abs(float(m.group(1)) - 1.1) < 0.02, wide.diagnosis


@pytest.mark.torch
@one_seed
@given(seed=seeds)
def test_sparse_family_passes_torch_sparse(seed: int) -> None:
    """torch.nn.init.sparse_ itself (an ``out_in`` tensor; its randperm reads torch's global
    generator, which the check seeds around each call)."""
    torch = pytest.importorskip("torch")

    def torch_sparse(fan_in: int, fan_out: int) -> Any:
        return torch.nn.init.sparse_(torch.empty(fan_out, fan_in), sparsity=0.1, std=0.01)

    scheme = parse_scheme("sparse(sparsity=0.1, std=0.01)")
    v = check_initializer(torch_sparse, scheme, "out_in", seed=seed, alpha=PASS_ALPHA)
    assert v.passed, v.format_table()


@one_seed
@given(seed=seeds)
def test_one_sided_uniform_family_through_check_initializer(seed: int) -> None:
    """JAX's uniform(scale) = U[0, scale) is the uniform family with location scale/2:
    conforming draws pass; a symmetric U(-s/2, s/2) fails its mean, U[0, 2s) its variance."""
    scheme = parse_scheme("uniform(low=0, high=0.01)")
    py = uniform_interval(0.0, 0.01)
    assert (scheme.family, scheme.rule, scheme.value) == (py.family, py.rule, py.value)
    assert scheme.mean() == 0.005
    assert check_initializer(one_sided_uniform, scheme, seed=seed, alpha=PASS_ALPHA).passed

    def centred(fan_in: int, fan_out: int, rng: np.random.Generator) -> Any:
        return rng.uniform(-0.005, 0.005, (fan_in, fan_out))

    def twice(fan_in: int, fan_out: int, rng: np.random.Generator) -> Any:
        return rng.uniform(0.0, 0.02, (fan_in, fan_out))

    c = check_initializer(centred, scheme, seed=seed)
    assert c.outcome == "fail" and "mean" in {t.name for t in c.failures}
    assert "mean shifted" in c.diagnosis
    t = check_initializer(twice, scheme, seed=seed)
    assert t.outcome == "fail"


def test_new_families_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--scheme`` takes the new expressions: exit 0 for the conforming initializer, 1 for
    the one declared with the other law."""
    sparse = "sparse(sparsity=0.1, std=0.01)"
    code, out, err = _run(capsys, tmp_path, "check", "inits:sparse", "--scheme", sparse, *PASS)
    assert code == 0, out + err
    one_sided = "uniform(low=0, high=0.01)"
    code, out, err = _run(
        capsys, tmp_path, "check", "inits:one_sided", "--scheme", one_sided, *PASS
    )
    assert code == 0, out + err
    code, out, _ = _run(
        capsys, tmp_path, "check", "inits:one_sided", "--scheme", "uniform(low=-0.005, high=0.005)"
    )
    assert code == 1 and "mean shifted" in out


# -- B. identify and the diagnoses -----------------------------------------------------------

USER_MODULE = """
import math
import numpy as np

def one_sided(fan_in, fan_out, rng):
    return rng.uniform(0.0, 0.01, (fan_in, fan_out))

def lecun(fan_in, fan_out, rng):
    return rng.standard_normal((fan_in, fan_out)) / math.sqrt(fan_in)

def sparse(fan_in, fan_out, rng):
    w = rng.standard_normal((fan_in, fan_out)) * 0.01
    k = math.ceil(0.1 * fan_out)
    order = np.argsort(rng.random((fan_in, fan_out)), axis=1)[:, :k]
    np.put_along_axis(w, order, 0.0, axis=1)
    return w

def square_only(fan_in, fan_out, rng):
    if fan_in != fan_out:
        raise ValueError("square matrices only")
    return rng.standard_normal((fan_in, fan_out)) / math.sqrt(fan_in)
"""


def _run(capsys: pytest.CaptureFixture[str], tmp: Path, *argv: str) -> tuple[int, str, str]:
    (tmp / "inits.py").write_text(USER_MODULE)
    mp = pytest.MonkeyPatch()
    mp.chdir(tmp)
    mp.syspath_prepend(str(tmp))
    try:
        code = main(list(argv))
    finally:
        mp.undo()
    out, err = capsys.readouterr()
    return code, out, err


def test_identify_names_a_one_sided_uniform_not_a_zero_mean_scheme() -> None:
    ident = identify(one_sided_uniform, seed=1)
    assert ident.location is not None and ident.location.nonzero and ident.location.one_sided
    assert ident.family == "uniform" and not ident.rule_fits and ident.closest is None
    text = ident.describe()
    assert "nonzero mean" in text and "one-sided support (every entry >= 0" in text
    assert "torch_linear_default" not in text
    assert "uniform(low=0, high=0.01)" in text


def test_identify_json_flags_when_no_rule_fits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, tmp_path, "identify", "inits:one_sided", "--json")
    assert code == 0, out + err
    d = json.loads(out)
    assert d["rule_fits"] is False and d["closest_scheme"] is None and d["gain"] is None
    assert d["location"]["one_sided"] is True
    assert d["expression"] == "uniform(low=0, high=0.01)"
    code, out, _ = _run(capsys, tmp_path, "identify", "inits:lecun", "--json")
    d = json.loads(out)
    assert code == 0 and d["rule_fits"] is True and d["closest_scheme"] == "xavier"


def test_a_true_lecun_normal_is_named_with_both_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ident = identify(lecun_true, seed=4)
    assert ident.same_as == ["lecun_normal"]
    assert "xavier (the notes' name) = lecun_normal" in ident.describe()
    code, out, _ = _run(capsys, tmp_path, "identify", "inits:lecun")
    assert code == 0 and "xavier (the notes' name) = lecun_normal" in out


@one_seed
@given(seed=seeds, name=st.sampled_from(["glorot_normal", "glorot_uniform"]))
def test_glorot_checked_as_the_notes_xavier_points_at_torchs_xavier(seed: int, name: str) -> None:
    """torch's xavier_*_ draws Glorot's rule; checked against the notes' ``xavier`` (LeCun) it
    fails on the fan rule (2/(fan_in + fan_out) against 1/fan_in: a factor up to 2 on the
    design's unequal fans), and the diagnosis names the mix-up. Checked under torch's own
    name (an alias of the Glorot scheme) it passes."""
    scheme = SCHEMES[name]

    def torch_like(fan_in: int, fan_out: int, seed: int | None = None) -> np.ndarray:
        return scheme.sample(fan_in, fan_out, np.random.default_rng(seed))

    v = check_initializer(torch_like, "xavier", seed=seed)
    assert v.outcome == "fail", v.format_table()
    torch_name = name.replace("glorot", "xavier")
    assert f"torch's {torch_name}_ is {name}; --scheme xavier is the notes'" in v.diagnosis
    assert check_initializer(torch_like, torch_name, seed=seed, alpha=PASS_ALPHA).passed


def _diagnosis(bug: str, seed: int) -> str:
    fn, scheme, layout, words = BUGS[bug]
    v = check_initializer(fn, scheme, layout, seed=seed)
    assert v.outcome == "fail", v.format_table()
    for w in words:
        assert w in v.diagnosis, v.diagnosis
    return v.diagnosis


@one_seed
@given(seed=seeds)
def test_sparse_checked_as_a_normal_names_the_zeros(seed: int) -> None:
    d = _diagnosis("torch's sparse_ declared as a normal", seed)
    assert "point mass at 0" in d and "ceil(s * fan_out) in every input" in d
    assert "% too narrow" not in d


@one_seed
@given(seed=seeds)
def test_fan_rule_failures_are_not_read_as_one_std_error(seed: int) -> None:
    geo = _diagnosis("fan_geo_avg declared as glorot_normal", seed)
    assert "1/sqrt(fan_in*fan_out) (JAX's fan_geo_avg)" in geo and "% too" not in geo
    mha = _diagnosis("MultiheadAttention key block declared as glorot_normal", seed)
    assert re.search(r"on square shapes it is 0\.(49|50|51)", mha) and "% too" not in mha
    v = check_initializer(mha_key_projection, "glorot_normal", seed=seed)
    assert "fan rule" in {t.name for t in v.failures}


@one_seed
@given(seed=seeds)
def test_a_conv_slice_hints_at_the_kernel_area(seed: int) -> None:
    d = _diagnosis("3x3 conv slice declared as he_normal", seed)
    assert "receptive field (kernel area 9) left out of fan_in?" in d
    # the initializer counting no kernel, declared with the kernel counted: k x the rule
    wide = check_initializer(
        lambda fi, fo, rng: conv3x3_slice(fi, fo, rng) * 9.0, "he_normal", seed=seed
    )
    assert "kernel area 9" in wide.diagnosis


@one_seed
@given(seed=seeds)
def test_a_few_extreme_entries_are_named_not_a_std_error(seed: int) -> None:
    d = _diagnosis("one entry at 200 sd", seed)
    assert "beyond 10 sd (max |z| = 200)" in d and "% too wide" not in d
    v = check_initializer(inverse_cdf_endpoint, "small_normal", seed=seed)
    assert v.outcome == "fail"


@pytest.mark.parametrize(
    ("fraction", "text"),
    [(1.0, "100%"), (2.5, "250%"), (0.0562, "5.6%"), (0.0999, "10%"), (1.2e-5, "0.0012%")],
)
def test_percentages_never_print_an_exponent(fraction: float, text: str) -> None:
    assert fmt_percent(fraction) == text


@one_seed
@given(seed=seeds)
def test_a_doubled_std_reads_100_percent(seed: int) -> None:
    def doubled(fan_in: int, fan_out: int, rng: np.random.Generator) -> Any:
        return SCHEMES["he_normal"].sample(fan_in, fan_out, rng) * 2.0

    d = check_initializer(doubled, "he_normal", seed=seed).diagnosis
    assert "the std is 100% too wide" in d and "e+" not in d


def test_the_determinism_probe_uses_a_shape_of_the_design() -> None:
    calls: list[tuple[int, int]] = []

    def square_only(fan_in: int, fan_out: int, rng: np.random.Generator) -> Any:
        calls.append((fan_in, fan_out))
        if fan_in != fan_out:
            raise ValueError("square matrices only")
        return rng.standard_normal((fan_in, fan_out)) / math.sqrt(fan_in)

    shapes = [(24, 24), (64, 64), (97, 97)]
    v = check_initializer(square_only, "lecun_normal", shapes=shapes, n_entries=60_000, seed=3)
    assert set(calls) <= set(shapes)
    det = next(t for t in v.tests if t.name == "determinism")
    assert det.passed and "fn(24, 24" in det.detail
