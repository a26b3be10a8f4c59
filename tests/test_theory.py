"""The mean-field theory: quadrature, per-layer predictions, fixed points, depth scales,
and its agreement with the notes' printed figures and with ``weight-init experiment --theory``."""

from __future__ import annotations

import itertools
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate

from weight_init.activations import ACTIVATIONS, get_activation
from weight_init.app._cli import main
from weight_init.errors import InvalidParameterError
from weight_init.experiment import forward_prop
from weight_init.schemes import SCHEMES, get_scheme
from weight_init.theory import (
    chi_1,
    depth_scale,
    fixed_point,
    gauss_hermite_expectation,
    gaussian_expectation,
    order_chaos_boundary,
    predict,
    saturated_fraction,
)

NOTES_FIGURES = json.loads((Path(__file__).parent / "notes" / "notes_figures.json").read_text())


def quad_expectation(fn, q: float) -> float:  # type: ignore[no-untyped-def]
    """E[fn(sqrt(q) z)] by scipy.integrate.quad, split at 0 (independent of the theory)."""
    if q == 0:
        return float(fn(np.zeros(1))[0])
    s = math.sqrt(q)

    def g(z: float) -> float:
        return float(fn(np.array([s * z]))[0]) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi)

    lo = integrate.quad(g, -np.inf, 0, epsabs=0, epsrel=1e-12, limit=200)[0]
    hi = integrate.quad(g, 0, np.inf, epsabs=0, epsrel=1e-12, limit=200)[0]
    return lo + hi


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("q", [1e-8, 1e-3, 0.3, 1.0, 7.0, 480.0])
def test_quadrature_matches_scipy_quad_to_1e6(name: str, q: float) -> None:
    phi = get_activation(name)
    for label, fn in (
        ("phi", phi.phi),
        ("phi^2", lambda u: phi.phi(u) ** 2),
        ("phi'^2", lambda u: phi.dphi(u) ** 2),
    ):
        ours = gaussian_expectation(fn, q)
        ref = quad_expectation(fn, q)
        assert ours == pytest.approx(ref, rel=1e-6, abs=1e-14), (
            f"E[{label}] for {name} at q={q}: panels {ours!r}, scipy.quad {ref!r}"
        )


def test_gauss_hermite_is_exact_for_smooth_and_slow_for_kinks() -> None:
    tanh2 = lambda u: np.tanh(u) ** 2  # noqa: E731
    assert gauss_hermite_expectation(tanh2, 1.0) == pytest.approx(
        quad_expectation(tanh2, 1.0), rel=1e-10
    )
    selu2 = lambda u: ACTIVATIONS["selu"].phi(u) ** 2  # noqa: E731
    err = abs(gauss_hermite_expectation(selu2, 1.0, n=50) / quad_expectation(selu2, 1.0) - 1)
    assert err > 1e-6, (
        "Gauss-Hermite unexpectedly exact for selu's kink: the panels are not needed?"
    )


def test_saturated_fraction_has_the_closed_form_for_tanh() -> None:
    from scipy.special import ndtr

    for q in (0.01, 1.0, 9.0, 1e4):
        exact = 2 * ndtr(-math.atanh(0.9) / math.sqrt(q))
        assert saturated_fraction(np.tanh, q, 0.9) == pytest.approx(exact, rel=1e-9)


def test_notes_config_xavier_layer_10_is_0228_and_the_notes_agree_to_2_percent() -> None:
    p = predict("xavier", "tanh", [500] * 10, 500)
    assert p.stds[9] == pytest.approx(0.2285, abs=5e-4)
    seed = NOTES_FIGURES["xavier"]["stds"]
    for layer, (printed, theory) in enumerate(zip(seed, p.stds, strict=True), start=1):
        assert abs(printed / theory - 1) < 0.02, f"layer {layer}: seed {printed}, theory {theory}"


@pytest.mark.parametrize(
    ("key", "scheme", "rtol"),
    [("big_random", "big_normal", 0.01), ("small_random", "small_normal", 0.05)],
)
def test_notes_figures_agree_with_theory(key: str, scheme: str, rtol: float) -> None:
    p = predict(scheme, "tanh", [500] * 10, 500)
    for layer, (printed, theory) in enumerate(
        zip(NOTES_FIGURES[key]["stds"], p.stds, strict=True), 1
    ):
        if printed >= 1e-4:
            assert abs(printed / theory - 1) < rtol, (
                f"{key} layer {layer}: seed {printed}, theory {theory}"
            )


def test_empirical_notes_config_agrees_to_2_percent() -> None:
    p = predict("xavier", "tanh", [500] * 10, 500)
    emp = forward_prop([500] * 10, get_scheme("xavier"), seed=3, keep_activations=False).stds
    rel = [abs(e / t - 1) for e, t in zip(emp, p.stds, strict=True)]
    assert max(rel) < 0.02, f"empirical vs theory relative deviations {rel}"


def test_variance_map_uses_the_second_moment_not_the_variance() -> None:
    """relu's mean is non-zero: q_2 = 2 E[relu^2] = q_1 under He, not 2 Var."""
    p = predict("he_normal", "relu", [100, 100], 100)
    assert p.qs[1] == pytest.approx(p.qs[0], rel=1e-12)
    assert p.second_moments[0] == pytest.approx(p.qs[0] / 2, rel=1e-12)
    assert p.means[0] == pytest.approx(math.sqrt(p.qs[0] / (2 * math.pi)), rel=1e-12)


def test_tanh_at_criticality_decays_like_one_over_sqrt_2l() -> None:
    p = predict("xavier", "tanh", [100] * 1000, 100)
    ratios = [p.stds[l - 1] * math.sqrt(2 * l) for l in (10, 100, 1000)]
    assert 1 < ratios[2] < ratios[1] < ratios[0] < 1.03, ratios
    assert ratios[2] == pytest.approx(1, abs=2e-3)


def test_fixed_points_and_order_chaos_boundary() -> None:
    assert fixed_point(0.8, "tanh") == 0.0
    q = fixed_point(2.0, "tanh")
    assert q > 0 and 2.0 * gaussian_expectation(lambda u: np.tanh(u) ** 2, q) == pytest.approx(
        q, rel=1e-9
    )
    assert math.isinf(fixed_point(2.5, "relu"))
    assert math.isnan(fixed_point(2.0, "relu"))
    assert order_chaos_boundary("tanh") == pytest.approx(1.0, abs=1e-6)
    assert order_chaos_boundary("relu") == pytest.approx(2.0, rel=1e-12)
    sw = order_chaos_boundary("tanh", 0.05)
    assert chi_1(sw, "tanh", 0.05) == pytest.approx(1.0, abs=1e-8)
    assert 1.0 < sw < 2.0


def test_depth_scales() -> None:
    xi_q, xi_c = depth_scale(0.5, "tanh")
    assert xi_q == pytest.approx(-1 / math.log(0.5)) and xi_c == xi_q
    xi_q, xi_c = depth_scale(1.5, "tanh", 0.05)
    assert 0 < xi_q < xi_c < math.inf  # correlations converge more slowly (Schoenholz et al.)
    assert depth_scale(1.0, "tanh") == (math.inf, math.inf)


def test_orthogonal_and_glorot_variances_follow_the_scheme_rule() -> None:
    p = predict("orthogonal", "linear", [200, 100, 400], 100)
    # Expanding layers (orthonormal rows) spread ||h||^2 over more units: q = fan_in / fan_out.
    assert p.qs == pytest.approx([0.5, 0.5, 0.125])
    p = predict("glorot_normal", "linear", [300], 100)
    assert p.qs[0] == pytest.approx(100 * 2 / 400)


def test_bad_input_raises_specific_errors() -> None:
    from weight_init.schemes import constant

    with pytest.raises(InvalidParameterError, match="constant"):
        predict(constant(0.5))
    with pytest.raises(InvalidParameterError, match="empty"):
        predict("xavier", "tanh", [])
    with pytest.raises(InvalidParameterError, match="bias_variance"):
        predict("xavier", "tanh", [10], bias_variance=-1.0)


def _independent_stds(
    scheme: str, activation: str, widths: list[int], input_dim: int
) -> list[float]:
    """The variance map by scipy.quad, written out separately from weight_init.theory."""
    phi = get_activation(activation)
    sch = get_scheme(scheme)
    fans = [input_dim, *widths]
    second, out = 1.0, []
    for a, b in itertools.pairwise(fans):
        q = a * sch.variance(a, b) * second
        mean = quad_expectation(phi.phi, q)
        second = quad_expectation(lambda u: phi.phi(u) ** 2, q)
        out.append(math.sqrt(max(second - mean * mean, 0.0)))
    return out


LINE = re.compile(r"Hidden layer (\d+) had mean (\S+) and std (\S+) \(theory std (\S+)\)")


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_cli_theory_prints_the_prediction_for_every_scheme(
    activation: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for scheme in SCHEMES:
        code = main(
            [
                "experiment",
                "--scheme",
                scheme,
                "--activation",
                activation,
                "--depth",
                "3",
                "--width",
                "64",
                "--samples",
                "64",
                "--input-dim",
                "64",
                "--theory",
            ]
        )
        out = capsys.readouterr().out.splitlines()
        assert code == 0 and len(out) == 3, out
        expected = _independent_stds(scheme, activation, [64] * 3, 64)
        for line, exp in zip(out, expected, strict=True):
            m = LINE.fullmatch(line)
            assert m, (
                f"--theory line {line!r} is not "
                "'Hidden layer L had mean M and std S (theory std T)'"
            )
            printed = float(m.group(4))
            assert printed == pytest.approx(exp, rel=0.01, abs=5e-7), (
                f"{scheme}/{activation}: printed theory std {printed}, independent quadrature {exp}"
            )
