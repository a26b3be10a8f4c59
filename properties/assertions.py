"""Statistical assertion helpers, each named for what it bounds and taking a false-fail rate.

In the style of TensorFlow Probability's ``statistical_testing``: the caller
states the false-fail rate ``alpha`` (before any family correction), and each
helper also reports its power against a stated effect, computed from the
sample it was given; a test that does not reject but had power < ``MIN_POWER``
against that effect returns ``passed=None`` (inconclusive) instead of passing.

The tests compare the mean of n unit statistics (iid given the previous layer,
see :mod:`weight_init.properties.conditional`) with a band. Two ways to know the
spread:

* ``null`` given (the preferred way): unit statistics *simulated* under the
  claim, from fresh weights of the same scheme applied to the same previous
  layer. Their sd (or, for positive statistics, their coefficient of variation)
  gives the standard error at each edge of the band, and the mean of n units is
  referred to a Pearson type III law (shifted gamma) with that mean, variance and
  the simulated skewness / sqrt(n) (for positive statistics at least the gamma
  law's ``2 cv``: a weighted sum of chi-squares is more skewed than the gamma
  with its mean and sd, so the plain gamma is anti-conservative in the right
  tail). This matters: deep near-linear layers have inputs of effective rank
  ~1-2, their unit statistics are chi-square-like with 1-2 degrees of freedom,
  and a t-test using the sample's own sd then has a left tail thousands of times
  too heavy (measured: t = -9.3, nominal p 6e-8, actual 7.5e-4).
* ``null`` absent: a one-sample t-test (``t = (mean - mu) / (s / sqrt(n))``,
  n - 1 degrees of freedom). Units needed for power ``1 - beta`` against a
relative effect e at coefficient of variation cv: ``n >= ((z_{1-alpha/2} +
z_{1-beta}) cv / e)^2`` (:func:`units_needed`).

:func:`family` applies Holm's correction to a list of results and returns the
:class:`~weight_init.properties.results.Verdict`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from weight_init.properties.multiple_testing import holm_reject, holm_thresholds
from weight_init.properties.results import TestResult, Verdict

#: Below this power against the stated effect a non-rejection is "inconclusive".
MIN_POWER = 0.5


def units_needed(cv: float, effect: float, alpha: float, power: float = 0.9) -> int:
    """Sample size of a two-sided z-test detecting a relative shift ``effect`` at this cv."""
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return max(2, math.ceil((z * cv / effect) ** 2))


def _power(se: float, shift: float, alpha: float) -> float:
    if se <= 0:
        return 1.0
    return float(stats.norm.sf(stats.norm.ppf(1 - alpha / 2) - abs(shift) / se))


@dataclass(frozen=True)
class BandTest:
    """One band test's two one-sided p-values and its standard error (for combining)."""

    p_below: float
    p_above: float
    se: float
    result: TestResult


def _edge_p(
    mean: float, edge: float, se: float, positive: bool, above: bool, skew: float | None = None
) -> float:
    """P(mean of n units <= mean) (or >= when ``above``) if the true mean sat at ``edge``.

    ``skew`` (of the mean of n units) given: a Pearson type III law (a shifted gamma
    matching mean, sd and skewness); else, for positive statistics, a gamma law
    matching mean and sd (skewness ``2 se / edge``); else normal.
    """
    if not math.isfinite(edge):
        return 1.0
    if se <= 0.0:
        beyond = mean > edge * (1 + 1e-12) + 1e-300 if above else mean < edge * (1 - 1e-12) - 1e-300
        return 0.0 if beyond else 1.0
    if skew is not None and skew > 1e-3:
        shape = 4.0 / (skew * skew)
        scale = se * skew / 2.0
        x = mean - (edge - shape * scale)
        return float(
            stats.gamma.sf(x, shape, scale=scale)
            if above
            else stats.gamma.cdf(x, shape, scale=scale)
        )
    if positive and edge > 0.0:
        shape = (edge / se) ** 2
        scale = se * se / edge
        return float(
            stats.gamma.sf(mean, shape, scale=scale)
            if above
            else stats.gamma.cdf(mean, shape, scale=scale)
        )
    z = (mean - edge) / se
    return float(stats.norm.sf(z) if above else stats.norm.cdf(z))


def band_test(
    u: NDArray[np.float64] | Sequence[float],
    lower: float,
    upper: float,
    *,
    name: str,
    alpha: float,
    effect: float | None,
    explanation: str,
    null: NDArray[np.float64] | None = None,
    positive: bool = False,
    detail: str = "",
) -> BandTest:
    """H0: ``lower <= E[u] <= upper``; rejected when the mean is significantly outside.

    Two one-sided tests at level ``alpha`` each (the true mean cannot lie both
    below and above the band, so the size is ``alpha``):
    ``p = min(P(mean <= observed | E = lower), P(mean >= observed | E = upper))``.
    With ``null`` (simulated unit statistics) the standard error at an edge e is
    ``cv_null e / sqrt(n)`` (positive statistics) or ``sd_null / sqrt(n)``, and the
    law is Pearson III with the simulated skewness (normal when it is ~0);
    without, Student's t with the sample sd.
    ``effect`` is the shift outside the band the test must detect; with power
    < MIN_POWER against it a non-rejection is inconclusive (``effect=None``: a
    component of a :func:`combined_band_test`, no power requirement).
    """
    x = np.asarray(u, dtype=np.float64)
    n = x.size
    mean = float(np.mean(x))
    band = f"[{lower:.6g}, {upper:.6g}]"
    if null is not None:
        sims = np.asarray(null, dtype=np.float64)
        sd_null = float(np.std(sims, ddof=1))
        m_null = float(np.mean(sims))
        if positive and m_null > 0:
            cv = sd_null / m_null
            se_lo = cv * abs(lower) / math.sqrt(n) if math.isfinite(lower) else 0.0
            se_hi = cv * abs(upper) / math.sqrt(n) if math.isfinite(upper) else 0.0
        else:
            se_lo = se_hi = sd_null / math.sqrt(n)
        # Skewness of the mean of n units (sample skewness of the simulated units / sqrt(n)),
        # never below the gamma law's: a weighted sum of chi-squares (a unit's statistic in
        # a near-linear layer) is more skewed than the gamma with its mean and sd.
        skew_u = float(stats.skew(sims)) if sims.size > 2 and sd_null > 0 else 0.0
        skew_mean = skew_u / math.sqrt(n)
        if positive and m_null > 0:
            skew_mean = max(skew_mean, 2.0 * (sd_null / m_null) / math.sqrt(n))
        skew = skew_mean if skew_mean > 1e-3 else None
        p_lo = _edge_p(mean, lower, se_lo, positive, above=False, skew=skew)
        p_hi = _edge_p(mean, upper, se_hi, positive, above=True, skew=skew)
        se = max(se_lo, se_hi)
        law = "Pearson III" if skew is not None else ("gamma" if positive else "normal")
        how = f"spread from {sims.size} simulated units ({law} law)"
    else:
        se = float(np.std(x, ddof=1)) / math.sqrt(n) if n > 1 else 0.0
        if se == 0.0:
            p_lo = _edge_p(mean, lower, 0.0, False, above=False)
            p_hi = _edge_p(mean, upper, 0.0, False, above=True)
        else:
            p_lo = float(stats.t.cdf((mean - lower) / se, n - 1)) if math.isfinite(lower) else 1.0
            p_hi = float(stats.t.sf((mean - upper) / se, n - 1)) if math.isfinite(upper) else 1.0
        how = "Student t with the sample sd"
    p = min(p_lo, p_hi)
    if se > 0:
        edge = lower if p_lo <= p_hi else upper
        stat = (mean - edge) / se if math.isfinite(edge) else 0.0
    else:
        stat = mean
    rejected = p < alpha
    power = 1.0 if effect is None else _power(se, effect, alpha)
    passed: bool | None = False if rejected else (True if power >= MIN_POWER else None)
    info = f"mean {mean:.6g} over {n} units (se {se:.3g}), H0 band {band}, {how}"
    if effect is not None:
        info += f"; power {power:.2f} against a shift of {effect:.3g}"
    res = TestResult(name, stat, p, alpha, passed, explanation, f"{info}; {detail}".rstrip("; "))
    return BandTest(p_lo, p_hi, se, res)


def mean_within_band(
    u: NDArray[np.float64] | Sequence[float],
    lower: float,
    upper: float,
    *,
    name: str,
    alpha: float,
    effect: float | None,
    explanation: str,
    null: NDArray[np.float64] | None = None,
    positive: bool = False,
    detail: str = "",
) -> TestResult:
    """:func:`band_test`'s result alone."""
    return band_test(
        u,
        lower,
        upper,
        name=name,
        alpha=alpha,
        effect=effect,
        explanation=explanation,
        null=null,
        positive=positive,
        detail=detail,
    ).result


def mean_equals(
    u: NDArray[np.float64] | Sequence[float],
    expected: float,
    *,
    name: str,
    alpha: float,
    relative_effect: float | None,
    explanation: str,
    detail: str = "",
) -> TestResult:
    """H0: ``E[u] == expected`` (two-sided t-test at level alpha); power vs a relative shift."""
    res = mean_within_band(
        u,
        expected,
        expected,
        name=name,
        alpha=alpha / 2,
        effect=None if relative_effect is None else relative_effect * abs(expected),
        explanation=explanation,
        detail=detail,
    )
    return replace(
        res, threshold=alpha, p_value=None if res.p_value is None else min(1.0, 2 * res.p_value)
    )


def mean_at_most(
    u: NDArray[np.float64] | Sequence[float],
    bound: float,
    *,
    name: str,
    alpha: float,
    effect: float | None,
    explanation: str,
    detail: str = "",
) -> TestResult:
    """H0: ``E[u] <= bound`` (one-sided t-test at level alpha)."""
    return mean_within_band(
        u,
        -math.inf,
        bound,
        name=name,
        alpha=alpha,
        effect=effect,
        explanation=explanation,
        detail=detail,
    )


def mean_at_least(
    u: NDArray[np.float64] | Sequence[float],
    bound: float,
    *,
    name: str,
    alpha: float,
    effect: float | None,
    explanation: str,
    detail: str = "",
) -> TestResult:
    """H0: ``E[u] >= bound`` (one-sided t-test at level alpha)."""
    return mean_within_band(
        u,
        bound,
        math.inf,
        name=name,
        alpha=alpha,
        effect=effect,
        explanation=explanation,
        detail=detail,
    )


def combined_band_test(
    parts: Sequence[BandTest],
    effects: Sequence[float],
    *,
    name: str,
    alpha: float,
    explanation: str,
) -> TestResult:
    """Stouffer's combination of per-layer band tests, H0: ``lower_l <= E[u_l] <= upper_l``.

    Each layer's one-sided p-values (below its band, above its band) become
    z-scores, summed as ``Z = sum z_l / sqrt(L)`` separately for the two sides;
    ``p = min(Phi(-Z_below), Phi(-Z_above))``, each side at level alpha. Valid
    because each layer's statistic has (approximately) its stated law given
    everything before it, so the layers' z-scores are independent. Power against
    a shift ``effects[l]`` outside every band: ``Phi(sum delta_l / sqrt(L) -
    z_{1-alpha})`` with ``delta_l = effects[l] / se_l``.
    """
    z_lo: list[float] = []
    z_hi: list[float] = []
    deltas: list[float] = []
    for part, eff in zip(parts, effects, strict=True):
        if part.se <= 0.0:
            continue
        z_lo.append(float(stats.norm.isf(min(max(part.p_below, 1e-300), 1.0))))
        z_hi.append(float(stats.norm.isf(min(max(part.p_above, 1e-300), 1.0))))
        deltas.append(eff / part.se)
    if not deltas:
        return TestResult(name, math.nan, None, alpha, None, explanation, "no layer to combine")
    k = len(deltas)
    big_lo = sum(z_lo) / math.sqrt(k)
    big_hi = sum(z_hi) / math.sqrt(k)
    p_lo, p_hi = float(stats.norm.sf(big_lo)), float(stats.norm.sf(big_hi))
    p = min(p_lo, p_hi)
    stat = big_lo if p_lo <= p_hi else big_hi
    shift = sum(deltas) / math.sqrt(k)
    power = float(stats.norm.sf(stats.norm.isf(alpha) - shift))
    rejected = p < alpha
    passed: bool | None = False if rejected else (True if power >= MIN_POWER else None)
    detail = f"{k} layers combined (Stouffer); power {power:.2f} against the stated shift"
    return TestResult(name, stat, p, alpha, passed, explanation, detail)


def exact(
    name: str, statistic: float, bound: float, passed: bool, explanation: str, detail: str = ""
) -> TestResult:
    """A deterministic check (no p-value): ``statistic`` compared with ``bound``."""
    return TestResult(name, float(statistic), None, float(bound), bool(passed), explanation, detail)


def family(
    subject: str,
    tests: Sequence[TestResult],
    alpha: float,
    *,
    diagnosis: str = "",
    metadata: dict[str, object] | None = None,
) -> Verdict:
    """Holm-correct the statistical tests of a family (family-wise false-fail rate <= alpha).

    Each statistical test's threshold becomes its Holm level and ``passed``
    is recomputed from the step-down rejections (inconclusive stays
    inconclusive unless rejected). Exact checks are kept as they are.
    """
    stat_idx = [i for i, t in enumerate(tests) if t.p_value is not None]
    out = list(tests)
    if stat_idx:
        ps = [float(tests[i].p_value or 0.0) for i in stat_idx]
        levels = holm_thresholds(ps, alpha)
        rejects = holm_reject(ps, alpha)
        for i, level, rej in zip(stat_idx, levels, rejects, strict=True):
            t = tests[i]
            passed: bool | None
            if rej:
                passed = False
            else:
                passed = None if t.passed is None else True
            out[i] = replace(t, threshold=level, passed=passed)
    failed = [t.name for t in out if t.passed is False]
    diag = diagnosis or ("; ".join(f"{t.name}: {t.explanation}" for t in out if t.passed is False))
    return Verdict(subject, alpha, tuple(out), diag if failed else diagnosis, dict(metadata or {}))


def assert_verdict_passes(verdict: Verdict, reproduce: str = "") -> None:
    """Raise AssertionError (with the results table and a reproduction snippet) on any failure."""
    if verdict.failures:
        lines = [verdict.format_table()]
        for t in verdict.failures:
            lines.append(f"  {t.name}: {t.detail}")
        if reproduce:
            lines.append(f"reproduce: {reproduce}")
        raise AssertionError("\n".join(lines))


def assert_mean_within_band(
    u: NDArray[np.float64] | Sequence[float],
    lower: float,
    upper: float,
    *,
    false_fail_rate: float,
    effect: float,
    what: str = "mean",
) -> None:
    """Assert E[u] in [lower, upper] at the given false-fail rate (see :func:`mean_within_band`)."""
    res = mean_within_band(
        u,
        lower,
        upper,
        name=what,
        alpha=false_fail_rate,
        effect=effect,
        explanation=f"{what} outside [{lower:g}, {upper:g}]",
    )
    if res.passed is False:
        raise AssertionError(f"{what}: expected within [{lower:g}, {upper:g}]; {res.detail}")
