"""Statistical assertion helpers, each named for what it bounds and taking a false-fail rate.

In the style of TensorFlow Probability's ``statistical_testing``: the caller
states the false-fail rate ``alpha`` (before any family correction), and each
helper also reports its power against a stated effect, computed from the
sample it was given; a test that does not reject but had power < ``MIN_POWER``
against that effect returns ``passed=None`` (inconclusive) instead of passing.

The tests compare the mean of n unit statistics (iid given the previous layer,
see :mod:`weight_init.properties.claims._conditional`) with a band. Two ways to know the
spread:

* ``null`` given (the preferred way): unit statistics *simulated* under the
  claim, from fresh weights of the same scheme applied to the same previous
  layer. The mean of n units is referred to the law of
  :class:`~weight_init.properties.claims._mean_law.MeanLaw`: a Pearson type III law
  (shifted gamma, mirrored for negative skewness) with the simulated sd (or, for positive
  statistics, coefficient of variation) and skewness / sqrt(n), the same law in both
  tails, mixed over the simulation error of the sd (Student-like); for a point null in the
  tail, redone on a larger sample, that sample's empirical saddlepoint law in the same
  mixture (``saddlepoint``). This matters: deep
  near-linear layers have inputs of effective rank ~1-2, their unit statistics are
  chi-square-like with 1-2 degrees of freedom, and a t-test using the sample's own sd
  then has a left tail thousands of times too heavy (measured: t = -9.3, nominal p 6e-8,
  actual 7.5e-4).
* ``null`` absent: a one-sample t-test (``t = (mean - mu) / (s / sqrt(n))``,
  n - 1 degrees of freedom). Units needed for power ``1 - beta`` against a
relative effect e at coefficient of variation cv: ``n >= ((z_{1-alpha/2} +
z_{1-beta}) cv / e)^2`` (:func:`units_needed`).

:func:`~weight_init.properties._verdict.family` (re-exported here) applies Holm's correction
to a list of results and returns the :class:`~weight_init.properties._results.Verdict`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from weight_init.properties._results import NullKind, TestResult
from weight_init.properties._verdict import assert_verdict_passes, family, family_p_value
from weight_init.properties.claims._mean_law import MeanLaw, equal_tailed

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


def _exact_p(mean: float, edge: float, above: bool) -> float:
    """A zero-spread law: 1 unless ``mean`` is beyond ``edge`` (above it when ``above``)."""
    if not math.isfinite(edge):
        return 1.0
    beyond = mean > edge * (1 + 1e-12) + 1e-300 if above else mean < edge * (1 - 1e-12) - 1e-300
    return 0.0 if beyond else 1.0


def _two_sided(
    lower: float, upper: float, mean: float, tail: Callable[[float, float, bool], float]
) -> float:
    """The p-value of H0 ``lower <= E <= upper`` from the law of the mean at each edge.

    ``tail(x, edge, above)`` is ``P(mean >= x)`` (``above``) or ``P(mean <= x)`` when the
    true mean sits at ``edge``. A point null (lower = upper = E) is two-sided and
    equal-tailed: ``p = 2 min(P_E(mean <= x), P_E(mean >= x))`` (:func:`~weight_init.
    properties.claims._mean_law.equal_tailed`), uniform under the null with each tail
    carrying half the level, so neither tail's approximation can hide behind the other
    (for a skewed law the equal-distance ``P(|mean - E| >= d)`` puts most of the
    rejection region in the long tail). A one-sided null (one edge infinite) takes the
    finite edge's tail. A band: with ``mid`` the band's centre and ``d = |mean - mid|``, the
    statistic is ``|mean - mid|`` and ``p = max over the edges E of P_E(mean <= mid - d) +
    P_E(mean >= mid + d)`` (the supremum over the null of a location family is at an
    edge); for a band much wider than the standard error it is the one-sided p-value at
    the nearer edge.
    """
    if not math.isfinite(lower) and not math.isfinite(upper):
        return 1.0
    if not math.isfinite(lower):
        return tail(mean, upper, True)
    if not math.isfinite(upper):
        return tail(mean, lower, False)
    if lower == upper:
        return float(equal_tailed(tail(mean, lower, False), tail(mean, upper, True)))
    mid = 0.5 * (lower + upper)
    d = abs(mean - mid)
    p = max(tail(mid - d, e, False) + tail(mid + d, e, True) for e in (lower, upper))
    return min(1.0, p)


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
    saddlepoint: bool = False,
) -> BandTest:
    """H0: ``lower <= E[u] <= upper``; rejected when ``p < alpha``.

    The p-value is :func:`_two_sided`'s: for a point null (``lower == upper``) a two-sided
    test, uniform on (0, 1) under H0; for a band or a bound a valid p-value
    (``P(p <= a) <= a`` for every true mean in the band). The one-sided p-values at the
    edges (``p_below``, ``p_above``) are kept for :func:`combined_band_test`.
    With ``null`` (simulated unit statistics) the standard error at an edge e is
    ``cv_null e / sqrt(n)`` (positive statistics) or ``sd_null / sqrt(n)``, and the
    law is :class:`~weight_init.properties.claims._mean_law.MeanLaw`'s (Pearson III with
    the simulated skewness, sign honoured, mixed over the sd's simulation error; with
    ``saddlepoint``, the simulated units' empirical saddlepoint law in the same mixture,
    for a tail's refined sample); without, Student's t with the sample sd.
    ``effect`` is the shift outside the band the test must detect; with power
    < MIN_POWER against it a non-rejection is inconclusive (``effect=None``: a
    component of a :func:`combined_band_test`, no power requirement).
    """
    x = np.asarray(u, dtype=np.float64)
    n = x.size
    mean = float(np.mean(x))
    band = f"[{lower:.6g}, {upper:.6g}]"
    tail: Callable[[float, float, bool], float]
    tails: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None
    if null is not None:
        sims = np.asarray(null, dtype=np.float64)
        law = MeanLaw.of(sims, n, positive, saddlepoint=saddlepoint)
        se_lo, se_hi = float(law.se(lower)), float(law.se(upper))
        point = lower == upper and math.isfinite(lower) and se_lo > 0.0
        tails = law.point_tails(mean, lower) if point else None

        def tail(value: float, edge: float, above: bool) -> float:
            # One law for both tails (the law's docstring).
            if not math.isfinite(edge) or float(law.se(edge)) <= 0.0:
                return _exact_p(value, edge, above)
            return float(law.tail(value, edge, above))

        se = max(se_lo, se_hi)
        shape = "empirical saddlepoint law" if saddlepoint else "Pearson III law"
        how = (
            f"spread from {sims.size} simulated units ({shape}, skewness "
            f"{float(law.skew):.2g}; sd's simulation error as {float(law.dof):.0f} "
            "degrees of freedom)"
        )
    else:
        se = float(np.std(x, ddof=1)) / math.sqrt(n) if n > 1 else 0.0

        def tail(value: float, edge: float, above: bool) -> float:
            if not math.isfinite(edge):
                return 1.0
            if se == 0.0:
                return _exact_p(value, edge, above)
            t = (value - edge) / se
            return float(stats.t.sf(t, n - 1) if above else stats.t.cdf(t, n - 1))

        how = "Student t with the sample sd"
    if tails is not None:
        # A point null's two tails at the observed mean, from one evaluation (point_tails).
        p_lo, p_hi = float(tails[0]), float(tails[1])
        p = float(equal_tailed(p_lo, p_hi))
    else:
        p_lo, p_hi = tail(mean, lower, False), tail(mean, upper, True)
        p = _two_sided(lower, upper, mean, tail)
    if se > 0:
        edge = (
            lower if (p_lo <= p_hi and math.isfinite(lower)) or not math.isfinite(upper) else upper
        )
        stat = (mean - edge) / se if math.isfinite(edge) else 0.0
    else:
        stat = mean
    rejected = p < alpha
    power = 1.0 if effect is None else _power(se, effect, alpha)
    passed: bool | None = False if rejected else (True if power >= MIN_POWER else None)
    info = f"mean {mean:.6g} over {n} units (se {se:.3g}), H0 band {band}, {how}"
    if effect is not None:
        info += f"; power {power:.2f} against a shift of {effect:.3g}"
    kind = NullKind.POINT if lower == upper else NullKind.COMPOSITE
    res = TestResult(
        name, stat, p, alpha, passed, explanation, f"{info}; {detail}".rstrip("; "), null=kind
    )
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


def stouffer_sides(
    p_below: ArrayLike, p_above: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Stouffer's combination of each side's one-sided p-values (along the last axis).

    Returns ``(z_below, p_below, z_above, p_above)``: ``z = sum_l Phi^-1(1 - p_l) /
    sqrt(L)`` and ``p = Phi(-z)`` (:func:`scipy.stats.combine_pvalues`, p-values clipped
    to [1e-300, 1 - 1e-16]).
    """

    def side(ps: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        clipped = np.clip(np.asarray(ps, dtype=np.float64), 1e-300, 1.0 - 1e-16)
        res = stats.combine_pvalues(clipped, method="stouffer", axis=-1)
        return np.asarray(res.statistic), np.asarray(res.pvalue)

    z_lo, p_lo = side(p_below)
    z_hi, p_hi = side(p_above)
    return z_lo, p_lo, z_hi, p_hi


def combined_band_test(
    parts: Sequence[BandTest],
    effects: Sequence[float],
    *,
    name: str,
    alpha: float,
    explanation: str,
) -> TestResult:
    """Stouffer's combination of per-layer band tests, H0: ``lower_l <= E[u_l] <= upper_l``.

    Each side is combined separately (:func:`scipy.stats.combine_pvalues`, Stouffer):
    ``p_below = Phi(-sum_l z_l / sqrt(L))`` with ``z_l = Phi^-1(1 - p_below_l)``, and the
    same above; ``p = min(1, 2 min(p_below, p_above))``. For point nulls the two sides are
    mirror images (``p_above_l = 1 - p_below_l``), so this is the two-sided Stouffer test,
    uniform under H0; for bands it is Bonferroni over the two sides (valid). Valid because
    each layer's statistic has (approximately) its stated law given everything before it,
    so the layers' z-scores are independent. Power against a shift ``effects[l]`` outside
    every band: ``Phi(sum delta_l / sqrt(L) - z_{1-alpha/2})``, ``delta_l = effects[l] /
    se_l``.
    """
    used = [(part, eff) for part, eff in zip(parts, effects, strict=True) if part.se > 0.0]
    if not used:
        return TestResult(name, math.nan, None, alpha, None, explanation, "no layer to combine")
    k = len(used)
    z_lo, p_lo, z_hi, p_hi = (
        float(v)
        for v in stouffer_sides(
            [part.p_below for part, _ in used], [part.p_above for part, _ in used]
        )
    )
    p = float(equal_tailed(p_lo, p_hi))
    stat = z_lo if p_lo <= p_hi else z_hi
    shift = sum(eff / part.se for part, eff in used) / math.sqrt(k)
    power = float(stats.norm.sf(stats.norm.isf(alpha / 2) - shift))
    rejected = p < alpha
    passed: bool | None = False if rejected else (True if power >= MIN_POWER else None)
    detail = f"{k} layers combined (Stouffer, two-sided); power {power:.2f} against the shift"
    point = all(part.result.null is NullKind.POINT for part, _ in used)
    kind = NullKind.POINT if point else NullKind.COMPOSITE
    return TestResult(name, stat, p, alpha, passed, explanation, detail, null=kind)


def exact(
    name: str, statistic: float, bound: float, passed: bool, explanation: str, detail: str = ""
) -> TestResult:
    """A deterministic check (no p-value): ``statistic`` compared with ``bound``."""
    return TestResult(name, float(statistic), None, float(bound), bool(passed), explanation, detail)


__all__ = [
    "MIN_POWER",
    "BandTest",
    "assert_verdict_passes",
    "band_test",
    "combined_band_test",
    "exact",
    "family",
    "family_p_value",
    "mean_within_band",
    "stouffer_sides",
    "units_needed",
]
