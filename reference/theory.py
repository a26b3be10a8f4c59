"""Mean-field theory of the notes' network: per-layer variance map, fixed points, depth scales.

(About 450 lines: the forward map, the backward gains, the fixed points and the depth scales
share one Gaussian quadrature and one per-layer iteration; split, each part would re-derive it.)

For ``H_l = phi(H_{l-1} W_l + b_l)`` with iid zero-mean weights of variance
``v_l = scheme.variance(fan_in, fan_out)`` and biases of variance ``sigma_b^2``,
each pre-activation is, in the infinite-width limit, Gaussian with variance
``q_l`` (Poole et al. 2016; Schoenholz et al. 2017)::

    q_1     = n_0 v_1 E[x^2] + sigma_b^2                (input entries: E[x^2] = input_variance)
    q_{l+1} = n_l v_{l+1} E[phi(sqrt(q_l) z)^2] + sigma_b^2,   z ~ N(0, 1)

Note the *second moment* ``E[h^2]``, not ``Var h``: the two differ when phi has
a non-zero mean (relu, sigmoid, selu). Per layer the theory predicts

* ``mean = E[phi(sqrt(q) z)]`` and ``std = sqrt(E[phi^2] - mean^2)``, the
  population std of all of the layer's activations (what ``forward_prop`` reports);
* ``saturated_fraction = P(|phi(sqrt(q) z)| > threshold)``;
* ``chi = n_{l-1} v_l E[phi'(sqrt(q) z)^2]``, the backward gain of the layer
  (``E||dL/dH_{l-1}||^2 / E||dL/dH_l||^2`` per unit when the widths are equal;
  with unequal widths the backward pass multiplies by ``n_l v_l`` instead, see
  :func:`backward_gain`).

Gaussian expectations are computed by composite Gauss-Legendre quadrature in
the pre-activation ``u = sqrt(q) z`` over ``[-12 sqrt(q), 12 sqrt(q)]`` (the tails
beyond carry < 1e-32 of the mass), split at 0 (where relu, leaky_relu and selu
have kinks) and at the scales of both the Gaussian and the activation, 32 nodes
per panel. Plain Gauss-Hermite (:func:`gauss_hermite_expectation`) converges
only algebraically for kinked activations; the panels are accurate to ~1e-12
relative for every registered activation (``tests/test_theory.py`` checks both
against :func:`scipy.integrate.quad` to 1e-6).

Orthogonal weights. ``scheme.variance`` of a Haar-orthogonal matrix is
``gain^2 / max(fan_in, fan_out)``, and the variance map above holds for it in
the same limit (width -> infinity at fixed depth): each pre-activation is still
asymptotically Gaussian with the same variance. It stops sharing the Gaussian
rule (i) at finite width, where an orthogonal layer preserves every sample's norm
exactly (square or expanding layers: ``||h W|| = ||h||``) while a Gaussian one
multiplies it by a chi-square factor with relative variance ``2 / fan_out``, so
the fluctuations around the theory are smaller and do not accumulate as
``depth / width`` (for linear activations the std of a square orthogonal network
is exactly preserved, of a Gaussian one only in expectation); (ii) for anything
beyond the second moment of one layer: the singular values of the input-output
Jacobian concentrate at 1 for orthogonal weights (dynamical isometry, Saxe et
al. 2014; Pennington et al. 2017) but spread with depth for Gaussian ones, so
gradient-norm distributions differ when depth is comparable to width; and (iii)
when the pre-activations are not a sum of many terms (fan_in of order 1), where
neither family is Gaussian.

A non-zero constant init (all units identical) is not covered: its layers are
deterministic functions of one scalar and :func:`predict` raises
:class:`~weight_init.errors.InvalidParameterError` for it (``zeros`` is covered:
every ``q`` equals ``sigma_b^2``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, special

from weight_init.activations import Activation, ArrayFn, get_activation
from weight_init.errors import InvalidParameterError
from weight_init.families import CONSTANT
from weight_init.schemes import Scheme, get_scheme

Fn = Callable[[NDArray[Any]], NDArray[Any]]

#: Gaussian tail cut, in standard deviations (mass beyond: 2 * Phi(-12) = 3.6e-33).
TAIL = 12.0
#: Gauss-Legendre nodes per panel.
NODES_PER_PANEL = 32


@dataclass(frozen=True)
class LayerPrediction:
    """Mean-field prediction for one layer (the formulas: :func:`predict`).

    Attributes
    ----------
    q : float
        The pre-activations' variance ``q_l``.
    mean : float
        ``E[phi(sqrt(q) z)]``.
    std : float
        ``sqrt(E[phi^2] - mean^2)``, the population std of the layer's activations.
    second_moment : float
        ``E[phi(sqrt(q) z)^2]``.
    saturated_fraction : float
        ``P(|phi(sqrt(q) z)| > threshold)``.
    chi : float
        The backward gain ``n_{l-1} v_l E[phi'(sqrt(q) z)^2]``.

    Examples
    --------
    >>> from weight_init import predict
    >>> first = predict("he_normal", "relu", [64], 64).layers[0]
    >>> round(first.q, 6), round(first.second_moment, 6), round(first.chi, 6)
    (2.0, 1.0, 1.0)
    """

    q: float
    mean: float
    std: float
    second_moment: float
    saturated_fraction: float
    chi: float


@dataclass(frozen=True)
class Prediction:
    """Per-layer predictions, layer ``l`` at index ``l - 1``; what :func:`predict` returns.

    Attributes
    ----------
    layers : tuple of LayerPrediction
        One prediction per layer.
    qs, means, stds, second_moments, saturated_fractions, chis : list of float
        Each field of the layers, in layer order.

    Examples
    --------
    >>> from weight_init import predict
    >>> p = predict("zeros", "tanh", [10, 10], 10)
    >>> len(p), p.stds
    (2, [0.0, 0.0])
    """

    layers: tuple[LayerPrediction, ...]

    @property
    def qs(self) -> list[float]:
        """The pre-activation variances ``q_l``."""
        return [p.q for p in self.layers]

    @property
    def means(self) -> list[float]:
        """The activations' predicted means."""
        return [p.mean for p in self.layers]

    @property
    def stds(self) -> list[float]:
        """The activations' predicted population stds."""
        return [p.std for p in self.layers]

    @property
    def second_moments(self) -> list[float]:
        """The activations' predicted second moments ``E[h^2]``."""
        return [p.second_moment for p in self.layers]

    @property
    def saturated_fractions(self) -> list[float]:
        """The predicted fractions ``P(|h| > threshold)``."""
        return [p.saturated_fraction for p in self.layers]

    @property
    def chis(self) -> list[float]:
        """The backward gains ``chi`` of the layers."""
        return [p.chi for p in self.layers]

    def __len__(self) -> int:
        return len(self.layers)


# --------------------------------------------------------------------------- quadrature


_LEGENDRE = np.polynomial.legendre.leggauss(NODES_PER_PANEL)


@lru_cache(maxsize=4096)
def _nodes(s: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Nodes ``u`` and weights ``w`` with ``sum w f(u) ~ E[f(s z)]``, z ~ N(0, 1).

    Panels on [0, TAIL s] with edges at multiples of s/2 (the Gaussian's scale)
    and at powers of 2 in [1/64, 64] (the activations' scale), mirrored to the
    negative half-line.
    """
    x, w = _LEGENDRE
    upper = TAIL * s
    edges = {0.0, upper}
    edges.update(k * s / 2.0 for k in range(1, int(2 * TAIL)))
    edges.update(2.0**j for j in range(-6, 7) if 2.0**j < upper)
    e = np.array(sorted(edges))
    lo, hi = e[:-1, None], e[1:, None]
    u = (0.5 * (hi - lo) * x[None, :] + 0.5 * (hi + lo)).ravel()
    du = (0.5 * (hi - lo) * w[None, :]).ravel()
    dens = np.exp(-0.5 * (u / s) ** 2) / (s * math.sqrt(2.0 * math.pi))
    return np.concatenate([u, -u]), np.concatenate([du * dens, du * dens])


def gaussian_expectation(fn: Fn, q: float) -> float:
    """``E[fn(sqrt(q) z)]`` for z ~ N(0, 1) (``fn(0)`` when q == 0)."""
    if q < 0 or not math.isfinite(q):
        raise InvalidParameterError(f"variance q must be finite and >= 0, got {q!r}")
    if q == 0.0:
        return float(np.asarray(fn(np.zeros(1)), dtype=np.float64)[0])
    u, w = _nodes(math.sqrt(q))
    return float(np.dot(w, np.asarray(fn(u), dtype=np.float64)))


def gauss_hermite_expectation(fn: Fn, q: float, n: int = 200) -> float:
    """``E[fn(sqrt(q) z)]`` by ``n``-point Gauss-Hermite (probabilists'); exact for polynomials
    of degree < 2n, slow to converge for kinked fn (relu: error ~ n^-1.5)."""
    z, w = np.polynomial.hermite_e.hermegauss(n)
    return float(np.dot(w, fn(math.sqrt(q) * z)) / math.sqrt(2.0 * math.pi))


def saturation_intervals(
    fn: Fn, threshold: float, umax: float = 1e4
) -> tuple[tuple[float, float], ...]:
    """The set ``{u : |fn(u)| > threshold}`` as disjoint intervals (ends may be +-inf).

    Crossings of ``|fn(u)| = threshold`` are located on a grid (24001 points on
    [-60, 60], 400 geometric points per side out to ``umax``) and refined by
    Brent's method; the set beyond ``umax`` is taken as the sign at ``+-umax``.
    Exact for any fn whose crossings are more than one grid step apart (every
    registered activation is monotone: at most two crossings).
    """
    return _saturation_intervals(fn, float(threshold), float(umax))


@lru_cache(maxsize=256)
def _saturation_intervals(fn: Fn, threshold: float, umax: float) -> tuple[tuple[float, float], ...]:
    far = np.geomspace(60.0, max(umax, 61.0), 400)[1:]
    grid = np.concatenate([-far[::-1], np.linspace(-60.0, 60.0, 24001), far])

    def g(u: float) -> float:
        return float(abs(float(np.asarray(fn(np.array([u])))[0])) - threshold)

    above = np.abs(np.asarray(fn(grid), dtype=np.float64)) - threshold > 0
    cuts = [-math.inf]
    for i in np.flatnonzero(above[1:] != above[:-1]):
        cuts.append(float(optimize.brentq(g, grid[i], grid[i + 1], xtol=1e-13, rtol=1e-15)))
    cuts.append(math.inf)
    out = []
    state = bool(above[0])
    for a, b in itertools.pairwise(cuts):
        if state:
            out.append((a, b))
        state = not state
    return tuple(out)


def normal_mass(a: float, b: float) -> float:
    """``P(a < z < b)`` for z ~ N(0, 1), accurate in both tails."""
    if a >= 0.0:
        return float(special.ndtr(-a) - special.ndtr(-b))
    return float(special.ndtr(b) - special.ndtr(a))


def saturated_fraction(fn: Fn, q: float, threshold: float) -> float:
    """``P(|fn(sqrt(q) z)| > threshold)``: normal probabilities of :func:`saturation_intervals`."""
    if q == 0.0:
        return float(abs(float(np.asarray(fn(np.zeros(1)))[0])) > threshold)
    s = math.sqrt(q)
    intervals = saturation_intervals(fn, threshold, max(1e4, TAIL * s))
    total = sum(normal_mass(a / s, b / s) for a, b in intervals)
    return min(max(total, 0.0), 1.0)


# --------------------------------------------------------------------------- prediction


def _activation(activation: str | Activation | ArrayFn) -> Activation:
    return get_activation(activation)


def _layer(
    phi: Activation, q: float, weight_gain: float, threshold: float
) -> tuple[LayerPrediction, float]:
    """The layer's prediction (chi with ``weight_gain = fan_in * v``) and its E[phi^2]."""
    mean = gaussian_expectation(phi.phi, q)
    second = gaussian_expectation(lambda u: phi.phi(u) ** 2, q)
    dphi2 = gaussian_expectation(lambda u: phi.dphi(u) ** 2, q)
    var = max(second - mean * mean, 0.0)
    sat = saturated_fraction(phi.phi, q, threshold)
    return LayerPrediction(q, mean, math.sqrt(var), second, sat, weight_gain * dphi2), second


def predict(
    scheme: str | Scheme = "xavier",
    activation: str | Activation | ArrayFn = "tanh",
    widths: Sequence[int] = (500,) * 10,
    input_dim: int = 500,
    *,
    input_variance: float = 1.0,
    bias_variance: float = 0.0,
    saturation_threshold: float = 0.9,
) -> Prediction:
    """Mean-field prediction for every layer of ``widths`` (module docstring).

    Layer ``l``'s weight variance is ``v_l = scheme.variance(fan_in, fan_out)``, and its
    pre-activations are, in the infinite-width limit, Gaussian with variance ``q_l``.

    Parameters
    ----------
    scheme : str or Scheme, default "xavier"
        A registered name or a :class:`~weight_init.schemes.Scheme`, of zero-mean weights.
    activation : str or Activation or callable, default "tanh"
        ``phi``: a registered activation's name, an
        :class:`~weight_init.activations.Activation`, or an array function.
    widths : sequence of int, default ten layers of 500
        The width of each layer, layer 1 first (non-empty, positive).
    input_dim : int, default 500
        ``n_0``, the input's width.
    input_variance : float, default 1.0
        ``E[x^2]`` of the (zero-mean) input entries.
    bias_variance : float, default 0.0
        ``sigma_b^2``, the variance of the biases (0: the notes' bias-free network).
    saturation_threshold : float, default 0.9
        The ``threshold`` of the predicted saturated fraction.

    Returns
    -------
    Prediction
        Per-layer predictions, layer ``l`` at index ``l - 1``: ``qs``, ``means``, ``stds``,
        ``second_moments``, ``saturated_fractions`` and ``chis``.

    Raises
    ------
    InvalidParameterError
        A non-zero-mean or non-zero constant scheme (not covered by the theory), empty or
        non-positive widths, or a negative or non-finite variance.

    Notes
    -----
    The variance map (Poole et al. 2016; Schoenholz et al. 2017), ``z ~ N(0, 1)``::

        q_1     = n_0 v_1 E[x^2] + sigma_b^2
        q_{l+1} = n_l v_{l+1} E[phi(sqrt(q_l) z)^2] + sigma_b^2

    Per layer: ``mean = E[phi(sqrt(q) z)]``, ``std = sqrt(E[phi^2] - mean^2)`` (the
    population std ``forward_prop`` reports), ``saturated_fraction = P(|phi(sqrt(q) z)| >
    threshold)`` and the backward gain ``chi = n_{l-1} v_l E[phi'(sqrt(q) z)^2]``. The
    expectations are computed by composite Gauss-Legendre quadrature, accurate to ~1e-12
    relative for every registered activation (:mod:`weight_init.theory`).

    Examples
    --------
    The notes' ``xavier`` under tanh decays slowly; He's ``2/fan_in`` keeps ReLU's second
    moment and backward gain at their input's:

    >>> from weight_init import predict
    >>> [round(s, 2) for s in predict("xavier", "tanh", [500] * 4, 500).stds]
    [0.63, 0.49, 0.41, 0.36]
    >>> he = predict("he_normal", "relu", [256] * 3, 256)
    >>> [round(q, 6) for q in he.qs], [round(c, 6) for c in he.chis]
    ([2.0, 2.0, 2.0], [1.0, 1.0, 1.0])
    """
    sch = get_scheme(scheme)
    phi = _activation(activation)
    if sch.family is CONSTANT and sch.value != 0.0:
        raise InvalidParameterError(
            f"scheme {sch.name!r}: mean-field theory does not cover non-zero constant weights "
            "(all units identical)"
        )
    if sch.mean() != 0.0:
        raise InvalidParameterError(
            f"scheme {sch.name!r}: mean-field theory covers zero-mean weights only "
            f"(its mean is {sch.mean():g})"
        )
    if not widths:
        raise InvalidParameterError("widths is empty: give at least one layer width")
    for what, value in (("input_variance", input_variance), ("bias_variance", bias_variance)):
        if not (math.isfinite(value) and value >= 0):
            raise InvalidParameterError(f"{what} must be finite and >= 0, got {value!r}")
    fans = [int(input_dim), *(int(w) for w in widths)]
    if min(fans) <= 0:
        raise InvalidParameterError(f"widths and input_dim must be positive, got {fans}")
    layers: list[LayerPrediction] = []
    second = float(input_variance)
    for fan_in, fan_out in itertools.pairwise(fans):
        gain = fan_in * sch.variance(fan_in, fan_out)
        q = gain * second + bias_variance
        layer, second = _layer(phi, q, gain, saturation_threshold)
        layers.append(layer)
    return Prediction(tuple(layers))


def backward_gain(
    scheme: str | Scheme,
    activation: str | Activation | ArrayFn,
    q: float,
    fan_in: int,
    fan_out: int,
) -> tuple[float, float]:
    """``(forward, backward)`` variance gains of one layer at pre-activation variance ``q``.

    Parameters
    ----------
    scheme : str or Scheme
        The layer's scheme (its variance ``v = scheme.variance(fan_in, fan_out)``).
    activation : str or Activation or callable
        ``phi``.
    q : float
        The pre-activation variance.
    fan_in, fan_out : int
        The layer's fans.

    Returns
    -------
    forward : float
        ``fan_in v E[phi'^2]`` (the linearised ``Var z_l / Var z_{l-1}``).
    backward : float
        ``fan_out v E[phi'^2]`` (``E[g_{l-1}^2] / E[g_l^2]`` for the gradient ``g = dL/dZ``).

    Notes
    -----
    Glorot & Bengio's ``v = 2 / (fan_in + fan_out)`` makes their geometric mean
    ``sqrt(fan_in fan_out) v E[phi'^2]`` no larger than either fan rule allows while keeping
    both within ``max/min fan`` of 1.

    Examples
    --------
    >>> from weight_init.theory import backward_gain
    >>> forward, backward = backward_gain("glorot_normal", "linear", 1.0, 100, 300)
    >>> round(forward, 6), round(backward, 6)
    (0.5, 1.5)
    """
    sch = get_scheme(scheme)
    phi = _activation(activation)
    dphi2 = gaussian_expectation(lambda u: phi.dphi(u) ** 2, q)
    v = sch.variance(fan_in, fan_out)
    return fan_in * v * dphi2, fan_out * v * dphi2


# --------------------------------------------------------------------------- fixed points


def variance_map(
    q: float, sigma_w2: float, activation: str | Activation | ArrayFn, sigma_b2: float = 0.0
) -> float:
    """``V(q) = sigma_w^2 E[phi(sqrt(q) z)^2] + sigma_b^2``, the layer-to-layer variance map.

    Parameters
    ----------
    q : float
        The previous layer's pre-activation variance.
    sigma_w2 : float
        ``sigma_w^2 = fan_in * Var[W]``.
    activation : str or Activation or callable
        ``phi``.
    sigma_b2 : float, default 0.0
        The biases' variance.

    Returns
    -------
    float
        The next layer's pre-activation variance.

    Examples
    --------
    >>> from weight_init.theory import variance_map
    >>> variance_map(1.0, 2.0, "relu")  # He: E[relu(z)^2] = 1/2
    1.0
    """
    phi = _activation(activation)
    return sigma_w2 * gaussian_expectation(lambda u: phi.phi(u) ** 2, q) + sigma_b2


def fixed_point(
    sigma_w2: float, activation: str | Activation | ArrayFn = "tanh", sigma_b2: float = 0.0
) -> float:
    """The stable fixed point ``q*`` of :func:`variance_map` reached from ``q = 1``.

    Parameters
    ----------
    sigma_w2 : float
        ``sigma_w^2 = fan_in * Var[W]``.
    activation : str or Activation or callable, default "tanh"
        ``phi``.
    sigma_b2 : float, default 0.0
        The biases' variance.

    Returns
    -------
    float
        ``q*``; 0.0 when F < 0 everywhere and ``sigma_b^2 = 0`` (the map contracts to 0: e.g.
        tanh with sigma_w^2 <= 1), ``inf`` when F > 0 up to 1e8 (the variance grows without
        bound: relu with sigma_w^2 > 2), and ``nan`` when F == 0 on a whole interval (relu
        with sigma_w^2 = 2 and no bias: every q is a fixed point).

    Notes
    -----
    Scans ``F(q) = V(q) - q`` on a log grid over [1e-12, 1e8] and refines the root where F
    changes sign from + to - (a stable root) nearest above the start, by Brent's method.

    Examples
    --------
    >>> from weight_init.theory import fixed_point
    >>> round(fixed_point(2.0, "tanh"), 4), fixed_point(0.5, "tanh"), fixed_point(3.0, "relu")
    (0.618, 0.0, inf)
    """
    phi = _activation(activation)
    grid = np.logspace(-12, 8, 401)
    f = np.array([variance_map(q, sigma_w2, phi, sigma_b2) - q for q in grid])
    scale = np.maximum(grid, 1e-300)
    if np.all(np.abs(f) <= 1e-9 * scale):
        return math.nan
    stable = [i for i in range(len(grid) - 1) if f[i] > 0 >= f[i + 1] or (f[i] >= 0 > f[i + 1])]
    if not stable:
        if f[-1] > 0:
            return math.inf
        return 0.0 if sigma_b2 == 0.0 else float(grid[0])
    start = int(np.searchsorted(grid, 1.0))
    above = [i for i in stable if i + 1 >= start]
    i = above[0] if above else stable[-1]
    if f[i] == 0.0:
        return float(grid[i])
    return float(
        optimize.brentq(
            lambda q: variance_map(q, sigma_w2, phi, sigma_b2) - q,
            grid[i],
            grid[i + 1],
            xtol=1e-15,
            rtol=1e-13,
        )
    )


def chi_1(
    sigma_w2: float,
    activation: str | Activation | ArrayFn = "tanh",
    sigma_b2: float = 0.0,
    q: float | None = None,
) -> float:
    """``chi_1 = sigma_w^2 E[phi'(sqrt(q*) z)^2]`` at the fixed point (or at ``q`` if given).

    chi_1 < 1: ordered phase (correlations converge to 1, gradients vanish); chi_1 > 1:
    chaotic (Poole et al. 2016). At q* = 0 it is sigma_w^2 phi'(0)^2.

    Parameters
    ----------
    sigma_w2 : float
        ``sigma_w^2 = fan_in * Var[W]``.
    activation : str or Activation or callable, default "tanh"
        ``phi``.
    sigma_b2 : float, default 0.0
        The biases' variance.
    q : float, optional
        The pre-activation variance to evaluate at (default: :func:`fixed_point`).

    Returns
    -------
    float
        ``chi_1``; nan when the fixed point is not finite.

    Examples
    --------
    >>> from weight_init.theory import chi_1
    >>> chi_1(0.5, "tanh"), round(chi_1(2.0, "tanh"), 4)
    (0.5, 1.1055)
    """
    phi = _activation(activation)
    qq = fixed_point(sigma_w2, phi, sigma_b2) if q is None else q
    if not math.isfinite(qq):
        return math.nan
    return sigma_w2 * gaussian_expectation(lambda u: phi.dphi(u) ** 2, qq)


def order_chaos_boundary(
    activation: str | Activation | ArrayFn = "tanh", sigma_b2: float = 0.0
) -> float:
    """The ``sigma_w^2`` at which ``chi_1 = 1`` at the fixed point (Brent on [1e-3, 100]).

    tanh, sigma_b^2 = 0: exactly 1 (q* = 0, phi'(0) = 1); relu: 2 (He et al. 2015).

    Parameters
    ----------
    activation : str or Activation or callable, default "tanh"
        ``phi``.
    sigma_b2 : float, default 0.0
        The biases' variance.

    Returns
    -------
    float
        The critical ``sigma_w^2``.

    Examples
    --------
    >>> from weight_init.theory import order_chaos_boundary
    >>> round(order_chaos_boundary("tanh"), 6), round(order_chaos_boundary("relu"), 6)
    (1.0, 2.0)
    """
    phi = _activation(activation)
    if phi.name in ("relu", "leaky_relu", "linear") and sigma_b2 == 0.0:
        # Positively homogeneous: chi_1 = sigma_w^2 E[phi'^2] does not depend on q.
        return 1.0 / gaussian_expectation(lambda u: phi.dphi(u) ** 2, 1.0)

    def g(s: float) -> float:
        c = chi_1(s, phi, sigma_b2)
        return (c if math.isfinite(c) else 1e6) - 1.0

    return float(optimize.brentq(g, 1e-3, 100.0, xtol=1e-10))


def _correlation_map(
    c: float, q: float, sigma_w2: float, phi: Activation, sigma_b2: float
) -> float:
    """``C(c) = (sigma_w^2 E[phi(u1) phi(u2)] + sigma_b^2) / q*`` with corr(u1, u2) = c."""
    z, w = np.polynomial.hermite_e.hermegauss(96)
    w = w / math.sqrt(2.0 * math.pi)
    z1, z2 = np.meshgrid(z, z, indexing="ij")
    ww = np.outer(w, w)
    s = math.sqrt(q)
    u1 = s * z1
    u2 = s * (c * z1 + math.sqrt(max(1.0 - c * c, 0.0)) * z2)
    return float((sigma_w2 * np.sum(ww * phi.phi(u1) * phi.phi(u2)) + sigma_b2) / q)


def depth_scale(
    sigma_w2: float, activation: str | Activation | ArrayFn = "tanh", sigma_b2: float = 0.0
) -> tuple[float, float]:
    """``(xi_q, xi_c)``: depths over which the variance and the correlation reach their fixed
    points (Schoenholz et al. 2017): ``|q_l - q*| ~ exp(-l / xi_q)`` and
    ``|c_l - c*| ~ exp(-l / xi_c)``.

    Parameters
    ----------
    sigma_w2 : float
        ``sigma_w^2 = fan_in * Var[W]``.
    activation : str or Activation or callable, default "tanh"
        ``phi``.
    sigma_b2 : float, default 0.0
        The biases' variance.

    Returns
    -------
    xi_q, xi_c : float
        The two depth scales; ``inf`` at the order-to-chaos boundary, ``nan`` when the fixed
        point is not finite.

    Notes
    -----
    ``xi_q^-1 = -log V'(q*)`` (V' by a central difference; equal to
    ``chi_1 + sigma_w^2 E[phi'' phi]``) and ``xi_c^-1 = -log chi_c`` with
    ``chi_c = sigma_w^2 E[phi'(u1) phi'(u2)]`` at the correlation fixed point c* (c* = 1 and
    chi_c = chi_1 in the ordered phase). Both are ``inf`` at the order-to-chaos boundary,
    where convergence is polynomial: e.g. tanh with sigma_w^2 = 1 and no bias has
    ``V(q) = q - 2 q^2 + O(q^3)``, so ``q_l ~ 1 / (2 l)`` and the activation std
    ``~ 1 / sqrt(2 l)``: polynomial, never geometric, decay.

    Examples
    --------
    >>> from weight_init.theory import depth_scale
    >>> depth_scale(1.0, "tanh")  # the notes' xavier: at the boundary
    (inf, inf)
    >>> [round(xi, 4) for xi in depth_scale(0.5, "tanh")]  # ordered: -1 / log(0.5)
    [1.4427, 1.4427]
    """
    phi = _activation(activation)
    q = fixed_point(sigma_w2, phi, sigma_b2)
    if not math.isfinite(q):
        return math.nan, math.nan
    if q == 0.0:
        slope = sigma_w2 * gaussian_expectation(lambda u: phi.dphi(u) ** 2, 0.0)
        xi = -1.0 / math.log(slope) if 0 < slope < 1 else math.inf
        return xi, xi
    h = 1e-4 * q
    slope = (
        variance_map(q + h, sigma_w2, phi, sigma_b2) - variance_map(q - h, sigma_w2, phi, sigma_b2)
    ) / (2 * h)
    xi_q = -1.0 / math.log(slope) if 0 < slope < 1 else math.inf
    c1 = chi_1(sigma_w2, phi, sigma_b2, q=q)
    if c1 <= 1.0:
        chi_c = c1
    else:
        c = 0.5
        for _ in range(500):
            c_new = _correlation_map(c, q, sigma_w2, phi, sigma_b2)
            if abs(c_new - c) < 1e-12:
                break
            c = c_new
        z, w = np.polynomial.hermite_e.hermegauss(96)
        w = w / math.sqrt(2.0 * math.pi)
        z1, z2 = np.meshgrid(z, z, indexing="ij")
        s = math.sqrt(q)
        u1 = s * z1
        u2 = s * (c * z1 + math.sqrt(max(1.0 - c * c, 0.0)) * z2)
        chi_c = float(sigma_w2 * np.sum(np.outer(w, w) * phi.dphi(u1) * phi.dphi(u2)))
    xi_c = -1.0 / math.log(chi_c) if 0 < chi_c < 1 else math.inf
    return xi_q, xi_c
