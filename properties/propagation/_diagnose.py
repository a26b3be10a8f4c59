"""Diagnosis of a propagation run: where measurement and prediction disagree, where the
signal or the gradient vanishes or explodes, how a residual stream's variance grows.

(About 380 lines, a third of them the result types' numpydoc: the tests and the types they
fill read best together.)

Disagreement (a statistical test per record): for each record with a predicted std ``p > 0``
and ``B >= 3`` builds, the build log-ratios ``l_b = log(std_b / p)`` are taken as i.i.d.
normal (each build is an independent model and input). The null is that the prediction holds
up to the finite-width tolerance, ``|E l| <= d = log(1 + tol)`` (mean-field theory is exact
only as width -> infinity: the notes' 10 x 500 tanh network sits 0.8% from it). The statistic
is ``|mean l|``; its p-value is the largest tail probability over the null, reached at an
edge: ``p = P(T > (|m| - d) / se) + P(T < (-|m| - d) / se)``, ``T`` Student's t with ``B - 1``
degrees of freedom and ``se = sd / sqrt(B)``: uniform when the true mean sits on an edge,
conservative inside. Records are one family, Holm-corrected at
``alpha``. Each says what it could have detected: the ratio ``exp(log(1 + tol) + (t_{1 -
alpha / (2 m)} + t_{0.9}) sd / sqrt(B))`` it flags with power 0.9 (Bonferroni's level, which
Holm's is never below). Fewer than 3 builds, or no prediction: ``not tested``.

Growth (descriptive, from the means over builds; the 5-95% range over builds is shown):
the signal's whole-depth growth is ``std(output) / std(input)``; the gradient's is the first
weight layer's relative gradient ``||dL/dW|| / ||W||`` over the last one's (the factor by
which the update a layer gets shrinks or grows with its distance from the read-out; a
per-entry activation gradient would not compare across layers of different sizes); each
also as a per-layer rate ``growth^(1/L)`` over the ``L`` linear or convolutional layers. Per
block (each residual addition, else each such layer): the ratio of the std there to the
previous block's, and of the activation gradient's norm ``std sqrt(n)`` at the previous
block to this one's. ``max_growth = G`` makes the run fail when either
whole-depth growth or its inverse exceeds ``G`` (vanishing or exploding).

Residual stream (descriptive): over the K >= 3 residual additions in order, their output
variances ``v_k``: ``flat`` when ``v_K / v_1`` is within ``[1/r, r]`` (``r = flat_ratio``,
1.25), ``decay`` below it, else ``exponential growth`` when ``log v_k`` on ``k`` fits better
than ``v_k`` on ``k`` by more than 0.02 in R^2 (a slow growth fits both lines about equally:
linear unless clearly not), ``linear growth`` otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from weight_init.properties._multiple_testing import holm_reject
from weight_init.properties.conformance._tails import t_ppf, t_sf

#: Default tolerance of the prediction (relative std), the finite-width allowance.
DEFAULT_TOLERANCE = 0.05
DEFAULT_ALPHA = 1e-3
DEFAULT_FLAT_RATIO = 1.25
POWER = 0.9
#: How much better (R^2) the exponential fit must be before a growth is called exponential.
R2_MARGIN = 0.02


@dataclass(frozen=True)
class Disagreement:
    """One record's disagreement test (module docstring).

    Attributes
    ----------
    record : str
        The record's name.
    ratio : float
        Mean over builds of the measured std, over the predicted std.
    p_value : float
        The test's p-value (NaN when not tested).
    detectable : float or None
        The ratio the test flags with power 0.9 (None when not tested).
    outcome : str
        ``agrees``, ``disagrees`` (Holm-corrected) or ``not tested``.

    Examples
    --------
    >>> from weight_init.properties.propagation._diagnose import disagreement_tests
    >>> (d,) = disagreement_tests(["fc"], [[1.5, 1.52, 1.49, 1.51]], [1.0], 0.05, 1e-3)
    >>> d.outcome, round(d.ratio, 2)
    ('disagrees', 1.5)
    """

    record: str
    ratio: float
    p_value: float
    detectable: float | None
    outcome: str


@dataclass(frozen=True)
class Growth:
    """A whole-depth growth (module docstring).

    Attributes
    ----------
    what : str
        ``signal`` or ``gradient``.
    start, end : str
        Where it is measured from and to (records or parameters).
    ratio : float
        Mean over builds of the per-build ratio.
    q05, q95 : float
        Its 5% and 95% quantiles over builds.
    layers : int
        Linear and convolutional layers on the way.
    per_layer : float
        ``ratio ** (1 / layers)``.

    Examples
    --------
    >>> from weight_init.properties.propagation._diagnose import growth
    >>> g = growth("signal", "input", "out", [0.25, 0.25], 2)
    >>> g.ratio, g.per_layer
    (0.25, 0.5)
    """

    what: str
    start: str
    end: str
    ratio: float
    q05: float
    q95: float
    layers: int
    per_layer: float


@dataclass(frozen=True)
class BlockGrowth:
    """One block's growth: the std there over the previous block's, and the activation
    gradient's norm at the previous block over this one's (None: not measured).

    Attributes
    ----------
    block : str
        The block's record (a residual addition, or a layer).
    signal, gradient : float or None
        The two ratios.

    Examples
    --------
    >>> from weight_init.properties.propagation import BlockGrowth
    >>> BlockGrowth("layer1.0.add", 1.1, 0.9).signal
    1.1
    """

    block: str
    signal: float | None
    gradient: float | None


@dataclass(frozen=True)
class ResidualTrend:
    """The residual stream's variance over its additions (module docstring).

    Attributes
    ----------
    blocks : int
        Residual additions.
    first_var, last_var : float
        The stream's variance after the first and the last.
    ratio : float
        ``last_var / first_var``.
    r2_linear, r2_log : float
        R^2 of the variance, and of its log, on the block index.
    shape : str
        ``flat``, ``linear growth``, ``exponential growth`` or ``decay`` (measured).
    predicted_shape : str or None
        The same, of the predicted variances (None when one is not predicted).

    Examples
    --------
    >>> from weight_init.properties.propagation._diagnose import residual_trend
    >>> residual_trend([1.0, 1.5, 2.0, 2.5], [1.0, 1.5, 2.0, 2.5], 1.25).shape
    'linear growth'
    """

    blocks: int
    first_var: float
    last_var: float
    ratio: float
    r2_linear: float
    r2_log: float
    shape: str
    predicted_shape: str | None


@dataclass(frozen=True)
class Diagnosis:
    """What the diagnosis found (module docstring); ``failures`` non-empty fails the gate.

    Attributes
    ----------
    tolerance, alpha : float
        The disagreement tests' tolerance and family-wise level.
    disagreements : tuple of Disagreement
        One per predicted record.
    signal, gradient : Growth or None
        The whole-depth growths.
    blocks : tuple of BlockGrowth
        Per block.
    residual : ResidualTrend or None
        The residual stream's trend (None with fewer than 3 additions).
    max_growth : float or None
        The gate.
    failures : tuple of str
        Why the gate fails (empty: it passes, or there is none).

    Examples
    --------
    >>> from weight_init.properties.propagation import Diagnosis
    >>> Diagnosis(0.05, 1e-3, (), None, None, (), None, None, ()).passed
    True
    """

    tolerance: float
    alpha: float
    disagreements: tuple[Disagreement, ...]
    signal: Growth | None
    gradient: Growth | None
    blocks: tuple[BlockGrowth, ...]
    residual: ResidualTrend | None
    max_growth: float | None
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """Whether the gate passes (True without ``max_growth``)."""
        return not self.failures

    def lines(self) -> list[str]:
        """The diagnosis as text lines (the table's footer).

        Returns
        -------
        list of str
            One line for the disagreement tests, one per growth, one for the residual
            stream, one for the gate.
        """
        out = []
        tested = [d for d in self.disagreements if d.outcome != "not tested"]
        bad = [d for d in tested if d.outcome == "disagrees"]
        out.append(
            f"prediction: {len(tested)} records tested (t-tests of |mean log std ratio| over "
            f"builds, tolerance {self.tolerance:g}, Holm at {self.alpha:g}); "
            f"{len(bad)} disagree"
            + (": " + ", ".join(f"{d.record} (x{d.ratio:.3g})" for d in bad[:6]) if bad else "")
            + (f" and {len(bad) - 6} more" if len(bad) > 6 else "")
        )
        for g in (self.signal, self.gradient):
            if g is not None:
                out.append(
                    f"{g.what} growth {g.start} -> {g.end}: x{g.ratio:.4g} (builds 5-95%: "
                    f"{g.q05:.4g}..{g.q95:.4g}), x{g.per_layer:.4g} per layer over {g.layers}"
                )
        if self.residual is not None:
            r = self.residual
            pred = f"; predicted {r.predicted_shape}" if r.predicted_shape else ""
            out.append(
                f"residual stream over {r.blocks} additions: variance {r.first_var:.4g} -> "
                f"{r.last_var:.4g} (x{r.ratio:.3g}): {r.shape}{pred}"
            )
        if self.max_growth is not None:
            verdict = "FAIL: " + "; ".join(self.failures) if self.failures else "pass"
            out.append(f"gate --max-growth {self.max_growth:g}: {verdict}")
        return out


def disagreement_tests(
    names: list[str],
    stds: list[list[float] | None],
    predicted: list[float | None],
    tolerance: float,
    alpha: float,
) -> tuple[Disagreement, ...]:
    """The per-record tests (module docstring), Holm-corrected over the tested records."""
    rows: list[tuple[str, float, float, float | None]] = []
    untested: dict[int, Disagreement] = {}
    edge = math.log1p(tolerance)
    for i, (name, xs, p) in enumerate(zip(names, stds, predicted, strict=True)):
        if xs is None or p is None or not p > 0 or not math.isfinite(p):
            continue
        a = np.asarray(xs, dtype=np.float64)
        ratio = float(a.mean() / p)
        if a.size < 3 or not np.all(a > 0):
            untested[i] = Disagreement(name, ratio, math.nan, None, "not tested")
            continue
        logs = np.log(a / p)
        m, sd, n = float(logs.mean()), float(logs.std(ddof=1)), a.size
        if sd == 0.0:
            pv = 0.0 if abs(m) > edge else 1.0
        else:
            se = sd / math.sqrt(n)
            am = abs(m)
            pv = t_sf((am - edge) / se, n - 1) + t_sf((am + edge) / se, n - 1)  # upper + lower tail
            pv = min(pv, 1.0)
        rows.append((name, ratio, pv, sd))
        untested[i] = Disagreement(name, ratio, pv, None, "")
    if not rows:
        return tuple(untested[i] for i in sorted(untested))
    reject = holm_reject([r[2] for r in rows], alpha)
    k = 0
    out: list[Disagreement] = []
    for i in sorted(untested):
        d = untested[i]
        if d.outcome == "not tested":
            out.append(d)
            continue
        name, ratio, pv, sd_k = rows[k]
        n = len(stds[i] or [])
        crit = t_ppf(1 - alpha / (2 * len(rows)), n - 1) + t_ppf(POWER, n - 1)
        detect = math.exp(edge + crit * float(sd_k or 0.0) / math.sqrt(n))
        out.append(Disagreement(name, ratio, pv, detect, "disagrees" if reject[k] else "agrees"))
        k += 1
    return tuple(out)


def growth(what: str, start: str, end: str, ratios: list[float], layers: int) -> Growth | None:
    """A :class:`Growth` from per-build ratios (None when there are none or one is 0/0; an
    infinite one, a gradient that is 0 at the end but not at the start, is kept)."""
    a = np.asarray(ratios, dtype=np.float64)
    if a.size == 0 or np.any(np.isnan(a)):
        return None
    mean = float(a.mean())
    per = mean ** (1.0 / layers) if layers > 0 and 0 < mean < math.inf else math.nan
    q = np.quantile(a, [0.05, 0.95], method="linear" if np.all(np.isfinite(a)) else "nearest")
    return Growth(what, start, end, mean, float(q[0]), float(q[1]), layers, per)


def _r2(x: Any, y: Any) -> float:
    if np.ptp(y) == 0:
        return 1.0
    fit = np.polyfit(x, y, 1)
    resid = y - np.polyval(fit, x)
    return float(1.0 - np.sum(resid**2) / np.sum((y - y.mean()) ** 2))


def trend_shape(vars_: list[float], flat_ratio: float) -> tuple[str, float, float, float]:
    """``(shape, v_K / v_1, R^2 linear, R^2 log)`` of a residual stream's variances."""
    v = np.asarray(vars_, dtype=np.float64)
    k = np.arange(1, v.size + 1, dtype=np.float64)
    if v.size < 3 or not np.all(v > 0) or not np.all(np.isfinite(v)):
        return "not classified", math.nan, math.nan, math.nan
    ratio = float(v[-1] / v[0])
    r2_lin, r2_log = _r2(k, v), _r2(k, np.log(v))
    if 1.0 / flat_ratio <= ratio <= flat_ratio:
        shape = "flat"
    elif ratio < 1.0 / flat_ratio:
        shape = "decay"
    else:
        shape = "exponential growth" if r2_log > r2_lin + R2_MARGIN else "linear growth"
    return shape, ratio, r2_lin, r2_log


def residual_trend(
    measured: list[float], predicted: list[float | None], flat_ratio: float
) -> ResidualTrend | None:
    """The residual stream's :class:`ResidualTrend` (None with fewer than 3 additions)."""
    if len(measured) < 3:
        return None
    shape, ratio, r2_lin, r2_log = trend_shape(measured, flat_ratio)
    pshape = None
    if all(p is not None for p in predicted):
        pshape = trend_shape([float(p) for p in predicted if p is not None], flat_ratio)[0]
    return ResidualTrend(
        len(measured), measured[0], measured[-1], ratio, r2_lin, r2_log, shape, pshape
    )


def gate(signal: Growth | None, gradient: Growth | None, max_growth: float | None) -> list[str]:
    """Why the run fails ``max_growth`` (empty: it passes, or no gate)."""
    if max_growth is None:
        return []
    out = []
    for g in (signal, gradient):
        if g is None:
            continue
        if not (g.ratio > 0 and math.isfinite(g.ratio)):
            out.append(f"{g.what} growth is {g.ratio:g}")
        elif g.ratio > max_growth:
            out.append(f"{g.what} explodes: x{g.ratio:.4g} > {max_growth:g}")
        elif g.ratio < 1.0 / max_growth:
            out.append(f"{g.what} vanishes: x{g.ratio:.4g} < 1/{max_growth:g}")
    return out
