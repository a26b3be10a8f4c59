"""The law of the mean of n unit statistics, from m units simulated under the claim.

A layer test compares the mean of the layer's ``n`` unit statistics (iid given the
previous layer) with a value; the law of that mean under the claim is read from ``m``
units simulated with fresh weights on the same input (:func:`~weight_init.properties.
claims._common.simulate_units`). Three things decide the p-value in the tails, where
verdicts are decided, and all three are handled here; a fourth, the shape of the tail
itself, is the last section's (an empirical saddlepoint law for the tests in the tail):

**The shape: a Pearson type III law with the sign of the skewness honoured, in both
tails.** The mean of n iid units with sd ``sigma`` and skewness ``gamma`` has sd
``sigma / sqrt(n)`` and skewness ``gamma / sqrt(n)``. It is referred to the Pearson III
law (a shifted gamma) with those three moments: for ``gamma > 0`` the standardized
``Z = (G - a) / sqrt(a)``, ``G ~ Gamma(a)``, ``a = 4 / skew^2``; for ``gamma < 0`` its
mirror image ``-Z`` (a saturated fraction, a bounded statistic near its upper bound: left
skewed); the normal law in the limit ``skew -> 0`` (below 1e-5, where the two agree to
1e-5 relative at 4 sd). The same law gives both tails, so ``P(below) + P(above) = 1`` and
the two one-sided p-values are mirror images (what the two-sided Stouffer combination of
:func:`~weight_init.properties.claims._assertions.combined_band_test` assumes). Its
excess kurtosis ``1.5 skew^2`` is the gamma law's; the mean's true excess kurtosis is
``kappa / n``, and the difference moves a tail at z standard errors by
``O((kappa - 1.5 gamma^2) z^4 / (24 n))`` relative (the Edgeworth series, e.g. Hall
1992, *The Bootstrap and Edgeworth Expansion*, sec. 2.2): a few percent on the layers of
the suite, except one tail of the deep near-linear ones, where the tail's test takes
the simulated units' empirical saddlepoint law instead (last section).

**The simulated spread is an estimate.** The standard error comes from m simulated units,
``se_hat = s / sqrt(n)`` (or ``cv_hat |edge| / sqrt(n)`` for positive statistics, ``cv_hat =
s / mean_sims``, so that the spread at a band's edge scales with the edge). Treating
``se_hat`` as exact makes every tail too light, by a factor growing with z (the
statistic is Student-like, not normal). The error is propagated: ``se_hat^2 / se^2`` is
taken as ``chi2_nu / nu`` (a scaled chi-square matching the variance of the estimate,
Satterthwaite 1946, *Biometrics Bulletin* 2:110) independent of the observed mean, and the
tail is the mixture

    P(T >= t) = E_S[ P(Z >= t S) ],   T = (mean - edge) / se_hat,   S^2 ~ chi2_nu / nu,

which for a normal Z is exactly Student's t with ``nu`` degrees of freedom (tested against
:func:`scipy.stats.t`). With ``kappa`` the units' excess kurtosis and ``gamma`` their
skewness (delta method; Cramer 1946, *Mathematical Methods of Statistics*, sec. 27.7):

* ``Var[log s] = (2 / (m - 1) + kappa / m) / 4`` (normal units: ``nu = m - 1``, the
  Student t of a variance estimated from m draws);
* ``Var[log cv_hat] = Var[log s] + (cv^2 - gamma cv) / m`` (the simulated mean's own error
  and its covariance with s: ``Cov[s^2, mean] = mu_3 / m``);
* ``nu = 1 / (2 Var[log se_hat])`` (``Var[log(chi2_nu / nu)] / 4 = 1 / (2 nu)``).

The moments in ``nu`` are the simulated units' own (plug-in).

**The simulated skewness is an estimate too, and it is simulated to a stated precision,
tighter in the tail.** For heavy-tailed units (the second moment of a deep He/relu layer:
skewness 3-4, excess kurtosis 10-20) the skewness of 512 units is too noisy (its jackknife
standard error 0.3-0.9), and its error is not independent of the sd's: a sample that
misses the rare large units has both a low sd and a low skewness (correlation 0.5-0.8
between ``log s`` and ``g1`` across samples of 2048 such units), so the long tail is too
light exactly when the standardized distance is too large. Measured by the exact rate of
rejection given the simulated units (the saddlepoint tail of the mean under the units'
law, checked against 4 million direct draws), averaged over simulated samples: with the
true skewness in place of the simulated one the upper tail is at its rate; with the
simulated one it is 1.2x-1.35x at 1e-4 on those layers, and the excess falls as the
simulation grows (a random error, but one whose effect on a tail does not average out:
mixing over the skewness's error, or over the joint error of the sd and the skewness
from their jackknife covariance, did not remove it). More units do, drawn so that the
decision to draw them does not select the samples: a pilot of 512 units gives the
jackknife standard error of the *mean's* skewness (:func:`skewness_se` / sqrt(n); Efron &
Tibshirani 1993, *An Introduction to the Bootstrap*, sec. 11.2), and a *fresh* sample as
large as the pilot's error says is needed to reach ``SKEW_SE`` = 0.03 (at least 512, at
most ``MAX_SIMULATED`` units; :func:`units_needed`,
:func:`~weight_init.properties.claims._common.simulate_units`) is the one used. (Keeping
a pilot whose own error looked small keeps the pilots that missed the rare large units,
the very samples at fault.) That is enough for the bulk; the tails, where verdicts are
decided, need ``TAIL_SKEW_SE`` = 0.01: a point null whose p-value falls in
``[TAIL_FLOOR, TAIL_P)`` = [1e-9, 0.02) is tested again against a second fresh sample, sized
from the first as the first was from the pilot, for ``TAIL_SKEW_SE`` (at most
``MAX_TAIL_SIMULATED`` units; :func:`refines`,
:func:`~weight_init.properties.claims._common.refine_units`), and that test is the result.
A p-value at or below 1e-3 from the refined sample comes with a first p-value below 0.02
(the two estimate the same tail to a few percent), so the rejections at 1e-3 and below are
the refined sample's; above 0.02 the p-value is the first sample's, and at the band's edge
the switch only lowers the count (conservative, by far less than the bulk checks see).
Below 1e-9 the decision does not hang on the tail's precision and nothing is redrawn. The
refinement runs for about 2% of the tests under the null (all of them cost 5% more), and
brings the upper tail of the heavy layers at 1e-4 to 1.06x (from 1.22x: exact rates given
the simulated units, averaged over 200-400 simulated samples of each of the 18 most skewed
layers of the suite's cases).

**The shape in the tail: the simulated units' empirical saddlepoint law.** With the true
moments, the Pearson III tail agrees with the exact tail of the mean to a few percent at
1e-3 and 1e-4 on every layer of the suite's cases but the deep near-linear ones (the
vanishing claim's linear case: 32 units whose statistics are weighted chi-squares of 1-2
degrees of freedom, excess kurtosis above the gamma law's ``1.5 skew^2``), whose *lower*
tail the gamma law's lower bound (``-2 / skew`` standard errors, 4 standard errors at a
mean skewness of 0.5, where the mean's true bound is 0) makes too light: 1.1x-1.6x its
rate at 1e-4 there (1.05x-1.25x at 1e-3). A fourth moment would rest on the simulated
kurtosis, far noisier than the skewness for such units. The refined sample needs no
moment at all: the refined test (``saddlepoint=True`` in :meth:`MeanLaw.of`) takes the law
of the standardized mean of n units to be that of n draws from the sample's own
(:func:`standardized`) empirical law, computed by the Lugannani-Rice formula on its
empirical cumulant generating function ``K(s) = log mean_j exp(s x_j)``
(:func:`saddlepoint_sf`; Lugannani & Rice 1980, *Adv. Appl. Probab.* 12:475; Davison &
Hinkley 1988, *Biometrika* 75:417, for an empirical law), in the same Student-like mixture
over the sd's simulation error, in both tails (one law: the smaller tail is computed and
the other is its complement). The lower tail of a mean of positive units rests on
``K(s)`` at ``s < 0``, which the bulk of the units sets and thousands of them estimate
well; the upper tail rests on ``K(s)`` at ``s > 0``, which the rare large units set, and is
as good as the refined sample's skewness (the reason it is sized to ``TAIL_SKEW_SE``).
Measured by the exact rate given the simulated units (as above; 100 refined samples of
each of the 22 deep linear layers and the 12 He/relu layers of the suite's cases, at 1e-4):
the deep linear layers' lower tail is 0.98x-1.01x (Pearson III on the same samples:
1.00x-1.59x, mean 1.19x), their upper tail 0.96x-1.06x (0.99x-1.17x); the He layers'
lower tail 0.93x-0.99x (0.89x-1.13x), upper 0.98x-1.05x (0.98x-1.08x). The bulk keeps the
Pearson III law: a p-value above ``TAIL_P`` decides no verdict at the suite's levels (1e-3
and below), and the saddlepoint law costs about 16 passes over the units
(:data:`SADDLEPOINTS`) where the moments cost one; run only on the refined tests, it
leaves ``run_suite``'s CPU time per seed within 1% (ratios 0.999 and 1.006 in two runs
of ``benchmarks/property_tails.py --cost 0:60``: 60 seeds each way, interleaved).

The expectation over S is a Gauss-Hermite rule in ``log S^2`` (``log chi2_nu`` has mean
``digamma(nu / 2) + log 2`` and variance ``trigamma(nu / 2)``) with the exact density
ratio as a weight: ``NODES`` = 32 nodes reproduce Student's t down to p = 1e-9 to 1e-5
relative at ``nu = 3``, 1e-9 at ``nu = 30`` and 1e-13 at the properties' ``nu`` ~ 500.

Everything is vectorized over leading axes, so the calibration harness draws 10^6
p-values of exactly this computation in minutes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

FloatArray = NDArray[np.float64]

#: Gauss-Hermite nodes of the mixture over the estimated standard error.
NODES = 32
#: Below this |skewness| of the mean the Pearson III law is taken as normal.
NORMAL_SKEW = 1e-5
#: Jackknife standard error of the skewness of the mean of n units that the null
#: simulation aims at (units_needed), up to MAX_SIMULATED units.
SKEW_SE = 0.03
#: Most units simulated for one test's null law (16 batches of the first 512).
MAX_SIMULATED = 8192
#: A point null's p-value below this (and from TAIL_FLOOR) is recomputed from a fresh
#: simulation sized for TAIL_SKEW_SE (refines).
TAIL_P = 0.02
#: Below this p-value the decision does not hang on the tail's precision: no refinement.
TAIL_FLOOR = 1e-9
#: Jackknife standard error of the mean's skewness that a tail's simulation aims at.
TAIL_SKEW_SE = 0.01
#: Most units simulated for a tail's refinement (128 batches of the first 512).
MAX_TAIL_SIMULATED = 65536
#: Degrees of freedom of the standard error from which it counts as exact (no mixture).
MAX_DOF = 1e7
#: Saddlepoints at which a tail's empirical law is computed (interpolated between them).
SADDLEPOINTS = 16
#: Mixture nodes below this weight (of the largest) do not set how far the tail is computed.
NODE_WEIGHT = 1e-9
#: A saddlepoint's mean is computed up to this fraction of the units' largest value.
SUPPORT = 0.95

_X, _W = special.roots_hermitenorm(NODES)
_W = _W / _W.sum()
_LOG_PHI = -0.5 * _X * _X - 0.5 * math.log(2.0 * math.pi)


def pearson3_sf(z: ArrayLike, skew: ArrayLike) -> FloatArray:
    """``P(Z >= z)`` for the standardized (mean 0, sd 1) Pearson III law of skewness ``skew``.

    ``skew > 0``: ``Z = (G - a) / sqrt(a)``, ``G ~ Gamma(a = 4 / skew^2)``; ``skew < 0``: the
    mirror image; ``|skew| < NORMAL_SKEW``: the normal law. Agrees with
    :data:`scipy.stats.pearson3` (which it replaces for speed: the regularized incomplete
    gamma functions directly).
    """
    zz, gg = np.broadcast_arrays(np.asarray(z, dtype=np.float64), np.asarray(skew, np.float64))
    normal = np.abs(gg) < NORMAL_SKEW
    g = np.where(normal, 1.0, gg)
    a = 4.0 / (g * g)
    root = np.sqrt(a)
    up = special.gammaincc(a, np.maximum(a + zz * root, 0.0))
    down = special.gammainc(a, np.maximum(a - zz * root, 0.0))
    out = np.where(normal, special.ndtr(-zz), np.where(gg > 0, up, down))
    return np.asarray(out, dtype=np.float64)


def _mixture_nodes(dof: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Nodes ``S`` and normalized weights of ``E_S[f(S)]``, ``S^2 ~ chi2_dof / dof`` (last
    axis: :data:`NODES`; module docstring)."""
    dd = np.minimum(np.asarray(dof, dtype=np.float64), MAX_DOF)
    k = dd[..., None] / 2.0
    sigma = np.sqrt(special.polygamma(1, k))
    log_y = special.digamma(k) + sigma * _X  # log of a Gamma(k) variable
    log_w = k * log_y - np.exp(log_y) - special.gammaln(k) + np.log(sigma) - _LOG_PHI
    w = _W * np.exp(log_w)
    return np.sqrt(np.exp(log_y) / k), w / w.sum(axis=-1, keepdims=True)


def student_mixture_sf(t: ArrayLike, skew: ArrayLike, dof: ArrayLike) -> FloatArray:
    """``E_S[P(Z >= t S)]``, ``Z`` standardized Pearson III (``skew``), ``S^2 ~ chi2_dof / dof``.

    For ``skew = 0`` this is Student's t survival function with ``dof`` degrees of freedom;
    from ``dof >= MAX_DOF`` the standard error counts as exact (the Pearson III tail).
    """
    tt, gg, dd = np.broadcast_arrays(
        np.asarray(t, dtype=np.float64),
        np.asarray(skew, dtype=np.float64),
        np.minimum(np.asarray(dof, dtype=np.float64), MAX_DOF),
    )
    s, w = _mixture_nodes(dd)
    vals = pearson3_sf(tt[..., None] * s, gg[..., None])
    mixed = np.clip((vals * w).sum(axis=-1), 0.0, 1.0)
    return np.asarray(np.where(dd >= MAX_DOF, pearson3_sf(tt, gg), mixed))


def standardized(sims: ArrayLike) -> FloatArray:
    """The simulated units (last axis) less their mean, over their sd (``ddof=0``): the
    empirical law of mean 0 and variance 1 whose mean of n draws :func:`saddlepoint_sf`
    gives (0 for constant sims). The deviations are scaled to a largest of 1 first, so that
    units of any scale, down to the smallest doubles, give the same law."""
    x = np.asarray(sims, dtype=np.float64)
    d = x - x.mean(axis=-1, keepdims=True)
    top = np.max(np.abs(d), axis=-1, keepdims=True)
    u = d / np.where(top > 0.0, top, 1.0)
    sd = np.sqrt((u * u).mean(axis=-1, keepdims=True))  # >= 1 / sqrt(m) unless constant
    return np.asarray(np.where(sd > 0.0, u / np.where(sd > 0.0, sd, 1.0), 0.0))


def _cgf(x: FloatArray, s: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``K(s), K'(s), K''(s)`` of the empirical law of ``x`` (last axis) at ``s``."""
    a = s[..., None] * x
    top = a.max(axis=-1, keepdims=True)
    e = np.exp(a - top)
    s0 = e.mean(axis=-1)
    xe = x * e
    k1 = xe.mean(axis=-1) / s0
    k2 = (xe * x).mean(axis=-1) / s0 - k1 * k1
    return np.log(s0) + top[..., 0], k1, np.maximum(k2, 1e-300)


def saddlepoint_sf(z: ArrayLike, units: ArrayLike, n: int, reach: ArrayLike) -> FloatArray:
    """``P(Z >= z)`` for ``z >= 0`` (last axis: any number of points per row), ``Z = sqrt(n)
    mean`` of n draws from the empirical law of the :func:`standardized` ``units`` (last
    axis): the Lugannani-Rice formula on the units' empirical cumulant generating function
    ``K(s) = log mean_j exp(s x_j)`` (Lugannani & Rice 1980, *Adv. Appl. Probab.* 12:475;
    Davison & Hinkley 1988, *Biometrika* 75:417, for the empirical law).

    ``P = 1 - Phi(w) + phi(w) (1 / v - 1 / w)`` with ``K'(s) = z / sqrt(n)``, ``w =
    sqrt(2 n (s K'(s) - K(s)))``, ``v = s sqrt(n K''(s))``. It is computed at
    :data:`SADDLEPOINTS` saddlepoints whose ``z`` step evenly from 0 to ``reach`` (each found
    from the previous one by a Newton step), capped at :data:`SUPPORT` of the largest unit's
    ``z``; ``w`` and ``1 / v - 1 / w`` are interpolated linearly in ``z`` between them (from
    their limits at 0: ``w = 0``, ``1 / v - 1 / w = -skew / 6``, the mean's skewness), and
    extrapolated beyond; 0 from the largest unit's ``z`` on (the empirical law's support).
    """
    x = np.asarray(units, dtype=np.float64)
    zq = np.asarray(z, dtype=np.float64)
    rn = math.sqrt(n)
    largest = x.max(axis=-1)
    y_top = np.maximum(np.asarray(reach, dtype=np.float64) / rn, 1e-3)
    y_top = np.maximum(np.minimum(y_top, SUPPORT * largest), 1e-300)
    cap = np.broadcast_to(1e6 / np.maximum(np.abs(x).max(axis=-1), 1e-300), y_top.shape)
    s = np.zeros(y_top.shape)
    k1 = np.zeros(y_top.shape)
    k2 = np.ones(y_top.shape)
    zs, ws = [np.zeros(y_top.shape)], [np.zeros(y_top.shape)]
    cs = [np.broadcast_to(-(x**3).mean(axis=-1) / rn / 6.0, y_top.shape)]
    for j in range(1, SADDLEPOINTS + 1):
        s = np.clip(s + (y_top * (j / SADDLEPOINTS) - k1) / k2, 0.0, cap)
        k, k1, k2 = _cgf(x, s)
        w = np.sqrt(np.maximum(2.0 * n * (s * k1 - k), 1e-300))
        v = s * np.sqrt(n * k2)
        zs.append(rn * k1)
        ws.append(w)
        cs.append(1.0 / np.maximum(v, 1e-300) - 1.0 / w)
    lead = np.broadcast_shapes(zq.shape[:-1], largest.shape)
    zq = np.broadcast_to(zq, (*lead, zq.shape[-1]))
    zt, wt, ct = (np.broadcast_to(np.stack(v, axis=-1), (*lead, len(v))) for v in (zs, ws, cs))
    at = (zt[..., None, :] <= zq[..., :, None]).sum(axis=-1) - 1
    i0 = np.clip(at, 0, SADDLEPOINTS - 1)
    z0 = np.take_along_axis(zt, i0, axis=-1)
    z1 = np.take_along_axis(zt, i0 + 1, axis=-1)
    f = (zq - z0) / np.maximum(z1 - z0, 1e-300)

    def between(table: FloatArray) -> FloatArray:
        lo = np.take_along_axis(table, i0, axis=-1)
        return np.asarray(lo + f * (np.take_along_axis(table, i0 + 1, axis=-1) - lo))

    w, c = between(wt), between(ct)
    p = np.clip(special.ndtr(-w) + np.exp(-0.5 * w * w) / math.sqrt(2.0 * math.pi) * c, 0.0, 1.0)
    return np.asarray(np.where(zq >= rn * np.asarray(largest)[..., None], 0.0, p))


def saddlepoint_mixture_sf(t: ArrayLike, units: ArrayLike, n: int, dof: ArrayLike) -> FloatArray:
    """``E_S[P(Z >= t S)]`` for ``t >= 0``: :func:`student_mixture_sf` with the law of ``Z``
    from :func:`saddlepoint_sf` (the :func:`standardized` ``units``, last axis) in place of
    Pearson III's; the saddlepoints reach ``t`` times the largest node ``S`` of weight at
    least :data:`NODE_WEIGHT` of the largest weight."""
    tt = np.asarray(t, dtype=np.float64)
    dd = np.broadcast_to(np.minimum(np.asarray(dof, dtype=np.float64), MAX_DOF), tt.shape)
    s, w = _mixture_nodes(dd)
    s = np.where(dd[..., None] >= MAX_DOF, 1.0, s)
    heavy = w >= NODE_WEIGHT * w.max(axis=-1, keepdims=True)
    reach = np.maximum(tt * np.where(heavy, s, 0.0).max(axis=-1), 1.0)
    vals = saddlepoint_sf(tt[..., None] * s, units, n, reach)
    return np.asarray(np.clip((vals * w).sum(axis=-1), 0.0, 1.0))


def skewness_se(sims: ArrayLike) -> FloatArray:
    """Jackknife standard error of the sample skewness ``g1`` (along the last axis).

    ``sqrt((m - 1) / m sum_i (g1_(i) - mean g1_(.))^2)`` over the leave-one-out skewnesses,
    each from the full sample's centred power sums less unit i (O(m), vectorized).
    """
    x = np.asarray(sims, dtype=np.float64)
    m = x.shape[-1]
    if m < 4:
        return np.asarray(np.full(x.shape[:-1], np.inf))
    d = x - x.mean(axis=-1, keepdims=True)
    d2 = d * d
    s2 = d2.sum(axis=-1, keepdims=True)
    s3 = (d2 * d).sum(axis=-1, keepdims=True)
    k = m - 1
    a1 = -d / k
    a2 = (s2 - d2) / k
    a3 = (s3 - d2 * d) / k
    c2 = a2 - a1 * a1
    c3 = a3 - 3.0 * a1 * a2 + 2.0 * a1**3
    ok = c2 > 1e-300
    g = np.where(ok, c3 / np.where(ok, c2, 1.0) ** 1.5, 0.0)
    dev = g - g.mean(axis=-1, keepdims=True)
    return np.asarray(np.sqrt((m - 1) / m * (dev * dev).sum(axis=-1)))


def units_needed(
    pilot: ArrayLike, n: int, target: float = SKEW_SE, cap: int = MAX_SIMULATED
) -> NDArray[np.int64]:
    """How many fresh units the null simulation draws after a ``pilot`` (last axis), for
    the mean of ``n`` units (module docstring).

    With ``r = skewness_se(pilot) / sqrt(n) / target``: the pilot's size times the power
    of two reaching ``r^2`` (the standard error falls like ``1 / sqrt(m)``), at least the
    pilot's size, at most ``cap`` units (``SKEW_SE`` and ``MAX_SIMULATED`` for the first
    fresh sample, ``TAIL_SKEW_SE`` and ``MAX_TAIL_SIMULATED`` for a tail's, :func:`refines`).
    """
    x = np.asarray(pilot, dtype=np.float64)
    m0 = x.shape[-1]
    r = skewness_se(x) / math.sqrt(n) / target
    top = max(0, math.floor(math.log2(cap / m0)))
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.ceil(np.log2(np.maximum(r * r, 1.0)))
    k = np.clip(np.nan_to_num(k, nan=float(top), posinf=float(top)), 0, top)
    return np.asarray(m0 * 2 ** k.astype(np.int64), dtype=np.int64)


def refines(p_value: ArrayLike) -> NDArray[np.bool_]:
    """Whether a point null's p-value is in the tail where it is recomputed from a fresh,
    larger simulation (``TAIL_FLOOR <= p < TAIL_P``; module docstring)."""
    p = np.asarray(p_value, dtype=np.float64)
    return np.asarray((p >= TAIL_FLOOR) & (p < TAIL_P))


#: Below this second moment ``m2 ** 2`` underflows (``sqrt`` of the smallest normal double):
#: the standardized moments of such sims (a vanishing network's units) are taken on the
#: deviations scaled to a largest of 1, where they are the same ratios.
_SMALL_M2 = float(np.sqrt(np.finfo(np.float64).tiny))


@dataclass(frozen=True)
class SimulatedMoments:
    """Sample moments of m simulated unit statistics (along the last axis of the sims).

    ``sd`` with ``ddof=1``; ``skew`` and ``kurtosis`` (excess) the moment estimators
    ``g1 = m3 / m2^1.5`` and ``g2 = m4 / m2^2 - 3`` (:func:`scipy.stats.skew` and
    :func:`scipy.stats.kurtosis` with their defaults), 0 for constant sims; the same for
    sims of any scale, down to the smallest doubles.
    """

    mean: FloatArray
    sd: FloatArray
    skew: FloatArray
    kurtosis: FloatArray
    count: int

    @classmethod
    def of(cls, sims: ArrayLike) -> SimulatedMoments:
        x = np.asarray(sims, dtype=np.float64)
        m = x.shape[-1]
        mean = x.mean(axis=-1)
        d = x - mean[..., None]
        d2 = d * d
        m2 = d2.mean(axis=-1)
        m3 = (d2 * d).mean(axis=-1)
        m4 = (d2 * d2).mean(axis=-1)
        ok = m2 > _SMALL_M2
        safe = np.where(ok, m2, 1.0)
        skew = np.where(ok, m3 / safe**1.5, 0.0)
        kurt = np.where(ok, m4 / (safe * safe) - 3.0, 0.0)
        if not np.all(ok):  # m2^2 would underflow: the same ratios on d / max |d|
            top = np.max(np.abs(d), axis=-1) if m else np.zeros_like(m2)
            tiny = ~ok & (top > 0.0)
            u = d[tiny] / top[tiny][..., None]
            u2 = u * u
            n2 = u2.mean(axis=-1)  # >= 1/m: one |u| is 1
            skew[tiny] = (u2 * u).mean(axis=-1) / n2**1.5
            kurt[tiny] = (u2 * u2).mean(axis=-1) / (n2 * n2) - 3.0
        sd = np.sqrt(m2 * m / (m - 1)) if m > 1 else np.zeros_like(m2)
        return cls(mean, sd, skew, kurt, m)


@dataclass(frozen=True)
class MeanLaw:
    """The law of the mean of ``n`` units whose statistics have the simulated ``moments``.

    See the module docstring: Pearson III with skewness ``moments.skew / sqrt(n)`` (sign
    honoured) in both tails, the standard error's own simulation error propagated (a
    Student-like mixture with :attr:`dof` degrees of freedom). ``positive``: the standard
    error at an edge is ``cv |edge| / sqrt(n)`` (when the simulated mean is positive).
    With ``units`` (the :func:`standardized` simulated units, :meth:`of` with
    ``saddlepoint=True``) the standardized mean's law is their empirical saddlepoint law
    (:func:`saddlepoint_sf`) in place of Pearson III, in both tails, in the same mixture.
    """

    moments: SimulatedMoments
    n: int
    positive: bool
    units: FloatArray | None = None

    @classmethod
    def of(cls, sims: ArrayLike, n: int, positive: bool, saddlepoint: bool = False) -> MeanLaw:
        """The law from simulated units (last axis); ``saddlepoint``: its shape from their
        empirical saddlepoint law (module docstring: a tail's refined sample)."""
        units = standardized(sims) if saddlepoint else None
        return cls(SimulatedMoments.of(sims), n, positive, units)

    @property
    def _cv(self) -> FloatArray:
        mom = self.moments
        use = self.positive & (mom.mean > 0)
        return np.asarray(np.where(use, mom.sd / np.where(use, mom.mean, 1.0), np.nan))

    def se(self, edge: ArrayLike) -> FloatArray:
        """Standard error of the mean at ``edge`` (0 at an infinite edge)."""
        e = np.asarray(edge, dtype=np.float64)
        cv = self._cv
        spread = np.where(np.isnan(cv), self.moments.sd, cv * np.abs(e))
        return np.asarray(np.where(np.isfinite(e), spread / math.sqrt(self.n), 0.0))

    @property
    def skew(self) -> FloatArray:
        """Skewness of the mean of n units."""
        return np.asarray(self.moments.skew / math.sqrt(self.n))

    @property
    def dof(self) -> FloatArray:
        """Degrees of freedom of the estimated standard error (module docstring)."""
        mom = self.moments
        m = mom.count
        if m < 2:
            return np.asarray(np.full_like(mom.sd, 1.0))
        var_log = (2.0 / (m - 1) + mom.kurtosis / m) / 4.0
        cv = self._cv
        with np.errstate(invalid="ignore"):
            var_log = np.where(np.isnan(cv), var_log, var_log + (cv * cv - mom.skew * cv) / m)
        return np.asarray(np.clip(0.5 / np.maximum(var_log, 0.5 / MAX_DOF), 1.0, MAX_DOF))

    def _sf(self, t: ArrayLike, sign: ArrayLike) -> FloatArray:
        """``P(sign T >= t)`` for the studentized mean ``T`` (``sign`` +1 or -1)."""
        tt = np.asarray(t, dtype=np.float64)
        sg = np.asarray(sign, dtype=np.float64)
        if self.units is None:
            return student_mixture_sf(tt, sg * self.skew, self.dof)
        # The smaller tail is computed (the saddlepoints reach t); the other is its complement.
        up = tt >= 0
        side = np.where(up, sg, -sg)
        small = saddlepoint_mixture_sf(
            np.abs(tt), np.asarray(side)[..., None] * self.units, self.n, self.dof
        )
        return np.asarray(np.where(up, small, 1.0 - small))

    def tail(self, value: ArrayLike, edge: ArrayLike, above: bool) -> FloatArray:
        """``P(mean >= value)`` (``above``) or ``P(mean <= value)`` if the true mean is ``edge``.

        Requires a positive standard error at ``edge``.
        """
        e = np.asarray(edge, dtype=np.float64)
        t = (np.asarray(value, dtype=np.float64) - e) / self.se(e)
        if above:
            return self._sf(t, 1.0)
        return self._sf(-t, -1.0)

    def point_tails(self, value: ArrayLike, edge: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """``(P(mean <= value), P(mean >= value))`` at ``edge``, each from one evaluation on
        the side of the smaller tail (the other is its complement)."""
        e = np.asarray(edge, dtype=np.float64)
        t = (np.asarray(value, dtype=np.float64) - e) / self.se(e)
        # A small tail is on the side of t's sign: computed there, its complement is not small.
        below_first = t < 0
        flip = np.where(below_first, -1.0, 1.0)
        small = self._sf(flip * t, flip)
        below = np.where(below_first, small, 1.0 - small)
        above = np.where(below_first, 1.0 - small, small)
        return np.asarray(below), np.asarray(above)


def equal_tailed(p_below: ArrayLike, p_above: ArrayLike) -> FloatArray:
    """The two-sided p-value of a point null from its one-sided p-values: ``2 min(below,
    above)`` capped at 1 (each tail at half the level, uniform under the null)."""
    return np.asarray(np.minimum(1.0, 2.0 * np.minimum(p_below, p_above)))


__all__ = [
    "MAX_SIMULATED",
    "MAX_TAIL_SIMULATED",
    "NODES",
    "SADDLEPOINTS",
    "SKEW_SE",
    "TAIL_FLOOR",
    "TAIL_P",
    "TAIL_SKEW_SE",
    "MeanLaw",
    "SimulatedMoments",
    "equal_tailed",
    "pearson3_sf",
    "refines",
    "saddlepoint_mixture_sf",
    "saddlepoint_sf",
    "skewness_se",
    "standardized",
    "student_mixture_sf",
    "units_needed",
]
