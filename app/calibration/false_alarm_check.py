"""Measure the conformance check's false-alarm rate on correct implementations, and its power.

``python -m weight_init.app.calibration.false_alarm_check --checks 500 [--power 200] [--jobs 2]``

False alarms: ``--checks`` seeded checks (seeds ``0..checks-1``) cycling through correct
implementations: every registered non-constant scheme of :mod:`weight_init.schemes`
checked against itself, and, when torch is installed, ``torch.nn.init``'s
``xavier_normal_``, ``xavier_uniform_``, ``kaiming_normal_``, ``kaiming_uniform_``,
``orthogonal_`` and ``nn.Linear``'s default declared as the schemes they implement. A
check at level ``alpha`` rejects iff an exact check fails or ``m min_i p_i <= alpha``
(Holm's first step), so one run gives the rate at every alpha: reported at 1e-4 (the
default), 1e-3, 1e-2 and 5e-2, with exact (Clopper-Pearson) 95% upper bounds.

Power: ``--power`` seeded checks of each planned effect at the default alpha (std 1% too
wide and too narrow, mean shifted by 0.02 std, a truncated normal without variance
correction, a normal declared as its truncated scheme), with the detection rate and
its Clopper-Pearson 95% lower bound. Prints a Markdown table; ``--json`` for JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from weight_init.properties.conformance import check_initializer
from weight_init.schemes import SCHEMES, truncated_standard_normal

ALPHAS: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 5e-2)
TORCH_CASES: tuple[tuple[str, str], ...] = (
    ("torch:xavier_normal_", "glorot_normal"),
    ("torch:xavier_uniform_", "glorot_uniform"),
    ("torch:kaiming_normal_", "he_normal"),
    ("torch:kaiming_uniform_", "he_uniform"),
    ("torch:orthogonal_", "orthogonal"),
    ("torch:Linear", "torch_linear_default"),
)


def correct_cases() -> list[tuple[str, str]]:
    """``(implementation, scheme)`` pairs that conform by construction."""
    cases = [(f"scheme:{n}", n) for n, s in SCHEMES.items() if s.family != "constant"]
    try:
        import torch  # noqa: F401
    except ImportError:
        return cases
    return cases + list(TORCH_CASES)


def _resolve(impl: str) -> tuple[Callable[..., Any], str]:
    if impl.startswith("scheme:"):
        return SCHEMES[impl.split(":", 1)[1]], "in_out"
    from weight_init.properties.adapters import resolve

    c = resolve(impl)
    return c.fn, c.convention or "in_out"


def _scaled(name: str, factor: float, shift: float = 0.0) -> Callable[..., NDArray[np.float64]]:
    s = SCHEMES[name]

    def fn(fan_in: int, fan_out: int, rng: np.random.Generator) -> NDArray[np.float64]:
        sd = s.std(fan_in, fan_out)
        return (s.sample(fan_in, fan_out, rng) / sd * factor + shift) * sd

    return fn


def _uncorrected(fan_in: int, fan_out: int, rng: np.random.Generator) -> NDArray[np.float64]:
    return truncated_standard_normal(rng, (fan_in, fan_out)) * math.sqrt(2.0 / fan_in)


EFFECTS: dict[str, tuple[str, str]] = {
    "std 1% too wide (he_normal)": ("wide", "he_normal"),
    "std 1% too narrow (he_normal)": ("narrow", "he_normal"),
    "mean shifted by 0.02 std (he_normal)": ("shift", "he_normal"),
    "std 1% too wide (glorot_uniform)": ("wide", "glorot_uniform"),
    "truncated normal without variance correction (he_truncated_normal)": (
        "uncorrected",
        "he_truncated_normal",
    ),
    "normal declared as glorot_truncated_normal (KS)": ("normal", "glorot_truncated_normal"),
}


def _effect_fn(kind: str, scheme: str) -> Callable[..., Any]:
    if kind == "wide":
        return _scaled(scheme, 1.01)
    if kind == "narrow":
        return _scaled(scheme, 0.99)
    if kind == "shift":
        return _scaled(scheme, 1.0, 0.02)
    if kind == "uncorrected":
        return _uncorrected
    return SCHEMES["glorot_normal"]


def _one_null(job: tuple[int, str, str]) -> dict[str, Any]:
    seed, impl, scheme = job
    fn, conv = _resolve(impl)
    t0 = time.perf_counter()
    v = check_initializer(fn, scheme, conv, seed=seed)
    elapsed = time.perf_counter() - t0
    exact_fail = any(t.passed is False and t.p_value is None for t in v.tests)
    ps = [t.p_value for t in v.tests if t.p_value is not None]
    adj = min(1.0, len(ps) * min(ps)) if ps else 1.0
    return {
        "seed": seed,
        "impl": impl,
        "scheme": scheme,
        "exact_fail": exact_fail,
        "adjusted_min_p": adj,
        "seconds": elapsed,
        "diagnosis": v.diagnosis,
    }


def _one_power(job: tuple[int, str]) -> dict[str, Any]:
    seed, effect = job
    kind, scheme = EFFECTS[effect]
    v = check_initializer(_effect_fn(kind, scheme), scheme, seed=seed)
    return {"seed": seed, "effect": effect, "detected": v.outcome == "fail"}


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Exact two-sided confidence interval of a binomial proportion."""
    a = 1.0 - level
    lo = 0.0 if k == 0 else float(stats.beta.ppf(a / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - a / 2, k + 1, n - k))
    return lo, hi


def run(checks: int, power_checks: int, jobs: int) -> dict[str, Any]:
    cases = correct_cases()
    null_jobs = [(s, *cases[s % len(cases)]) for s in range(checks)]
    power_jobs = [(s, e) for e in EFFECTS for s in range(power_checks)]
    with ProcessPoolExecutor(max_workers=jobs) as ex:
        nulls = list(ex.map(_one_null, null_jobs, chunksize=4))
        powers = list(ex.map(_one_power, power_jobs, chunksize=4))
    rates = []
    for a in ALPHAS:
        k = sum(r["exact_fail"] or r["adjusted_min_p"] <= a for r in nulls)
        rates.append(
            {
                "alpha": a,
                "false_alarms": k,
                "checks": len(nulls),
                "rate": k / max(len(nulls), 1),
                "upper95": clopper_pearson(k, len(nulls))[1] if nulls else 1.0,
            }
        )
    per_impl: dict[str, list[float]] = {}
    for r in nulls:
        per_impl.setdefault(f"{r['impl']} as {r['scheme']}", []).append(r["seconds"])
    detect = []
    for e in EFFECTS:
        rs = [r for r in powers if r["effect"] == e]
        k = sum(r["detected"] for r in rs)
        if rs:
            detect.append(
                {
                    "effect": e,
                    "detected": k,
                    "checks": len(rs),
                    "rate": k / len(rs),
                    "lower95": clopper_pearson(k, len(rs))[0],
                }
            )
    return {
        "false_alarm": rates,
        "alarms_at_default": [r for r in nulls if r["exact_fail"] or r["adjusted_min_p"] <= 1e-4],
        "seconds_per_check": {k: float(np.median(v)) for k, v in per_impl.items()},
        "power": detect,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m weight_init.app.calibration.false_alarm_check")
    p.add_argument("--checks", type=int, default=500, help="seeded checks of correct code")
    p.add_argument("--power", type=int, default=0, help="seeded checks per planned effect")
    p.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    out = run(args.checks, args.power, args.jobs)
    out["wall_seconds"] = time.perf_counter() - t0
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print("| alpha | false alarms / checks | rate | 95% upper bound |")
    print("| --- | --- | --- | --- |")
    for r in out["false_alarm"]:
        print(
            f"| {r['alpha']:g} | {r['false_alarms']} / {r['checks']} | {r['rate']:.4f} "
            f"| {r['upper95']:.4f} |"
        )
    if out["power"]:
        print("\n| effect | detected / checks | rate | 95% lower bound |")
        print("| --- | --- | --- | --- |")
        for r in out["power"]:
            print(
                f"| {r['effect']} | {r['detected']} / {r['checks']} | {r['rate']:.3f} "
                f"| {r['lower95']:.3f} |"
            )
    print("\n| implementation | median seconds per check |")
    print("| --- | --- |")
    for k, v in out["seconds_per_check"].items():
        print(f"| {k} | {v:.2f} |")
    for r in out["alarms_at_default"]:
        print(
            f"false alarm at 1e-4: seed {r['seed']} {r['impl']} as {r['scheme']}: {r['diagnosis']}"
        )
    print(f"\nwall time {out['wall_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
