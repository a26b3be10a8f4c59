"""identify(): the variance rule c * fan_in^a * fan_out^b, the family and the closest scheme.

Each identification draws ~250k entries over 11 shapes; the fitted exponents have standard
errors ~0.002 and the assertions allow 5 standard errors plus 0.01 (a 5-sigma bound: false
failure < 1e-6 per assertion under the normal approximation of the weighted least squares).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from buggy_initializers import linear_default
from weight_init.properties.conformance._identify import identify
from weight_init.schemes import SCHEMES, get_scheme

EXPONENTS = {"fan_in": (-1.0, 0.0), "fan_out": (0.0, -1.0), "fixed": (0.0, 0.0)}
LOG_LINEAR = [
    n
    for n, s in SCHEMES.items()
    if s.family not in ("constant", "orthogonal") and s.rule.mode in EXPONENTS
]


@settings(max_examples=max(3, settings.default.max_examples // 5))
@given(name=st.sampled_from(LOG_LINEAR), seed=st.integers(0, 2**32 - 1))
def test_identify_recovers_registered_rules(name: str, seed: int) -> None:
    s = get_scheme(name)
    ident = identify(s, seed=seed)
    fit = ident.fan_fit
    assert fit is not None
    a, b = EXPONENTS[s.rule.mode]
    where = f"identify(SCHEMES[{name!r}], seed={seed})"
    assert abs(fit.a - a) < 5 * fit.se_a + 0.01, f"{where}: {fit.describe()}"
    assert abs(fit.b - b) < 5 * fit.se_b + 0.01, f"{where}: {fit.describe()}"
    assert abs(math.log(fit.c / s.rule.scale)) < 5 * fit.se_log_c + 0.02, where
    assert ident.family == s.family, f"{where}: {ident.describe()}"
    best = ident.best
    assert best is not None and best.exact, f"{where}: {ident.describe()}"
    # schemes differing only by name (xavier = lecun_normal) are equally good
    twin = get_scheme(best.name)
    assert (twin.family, twin.rule) == (s.family, s.rule), f"{where}: {ident.describe()}"


def test_linear_default_is_named() -> None:
    ident = identify(linear_default, seed=1)
    assert ident.best is not None and ident.best.name == "torch_linear_default"
    assert ident.family == "uniform"
    assert "torch_linear_default (gain 1 within error)" in ident.describe()


def test_gain_is_estimated() -> None:
    def scaled(fan_in: int, fan_out: int, rng: np.random.Generator) -> Any:
        return 1.5 * SCHEMES["glorot_normal"].sample(fan_in, fan_out, rng)

    ident = identify(scaled, seed=2)
    best = ident.best
    assert best is not None and best.name == "glorot_normal" and not best.exact
    assert abs(best.gain - 1.5) < 0.01, ident.describe()


@pytest.mark.parametrize("name", ["orthogonal", "zeros"])
def test_structural_families(name: str) -> None:
    ident = identify(SCHEMES[name], seed=0)
    assert ident.family == get_scheme(name).family
    if name == "orthogonal":
        assert ident.best is not None and ident.best.name == "orthogonal" and ident.best.exact


def test_out_in_layout_is_read_back() -> None:
    def torch_like(fan_in: int, fan_out: int, rng: np.random.Generator) -> Any:
        return SCHEMES["he_normal"].sample(fan_in, fan_out, rng).T

    fit = identify(torch_like, "out_in", seed=0).fan_fit
    assert fit is not None and abs(fit.a + 1) < 0.02 and abs(fit.b) < 0.02
    fit_wrong = identify(torch_like, "in_out", seed=0).fan_fit
    assert fit_wrong is None or abs(fit_wrong.a + 1) > 0.5 or abs(fit_wrong.b) > 0.5


def test_all_nan_initializer_is_identified_as_unknown_with_a_reason() -> None:
    ident = identify(lambda fi, fo: np.full((fi, fo), np.nan), n_entries=2000)
    assert ident.family is None and ident.n_entries == 0
    assert "no finite entries" in ident.describe(), ident.describe()


def test_identify_cli_on_all_nan_exits_1_with_the_reason(tmp_path: Path) -> None:
    """Nothing identifiable is not a success: exit 1 and the reason."""
    (tmp_path / "nanmod.py").write_text(
        "import numpy as np\n"
        "def init(fan_in, fan_out):\n"
        "    return np.full((fan_in, fan_out), np.nan)\n"
    )
    exe = Path(sys.executable).with_name("weight-init")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "weight_init.app._cli"]
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    out = subprocess.run(
        [*cmd, "identify", "nanmod:init"], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 1, out.stdout + out.stderr
    assert "no finite entries" in out.stdout and "Traceback" not in out.stderr
