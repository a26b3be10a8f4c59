"""Finite-size tolerances: how far an empirical per-layer std may stray from the theory.

Two tools, one derived and one measured.

**Derived, one layer** (:func:`layer_relative_sd`). Layer l with fan_in d, width n,
batch m, Gaussian weights, and an input whose rows are independent with
``||h_a||^2 / d`` concentrated (Gaussian input: relative variance 2 / d). Write
``S(q) = E[phi(sqrt(q) z)^2]`` and its log-slope ``s = d log S / d log q``. The
empirical second moment ``M = (1 / m n) sum_{a,j} phi(z_aj)^2`` has, to first order,
three independent sources of relative variance:

* entry noise, ``Var[phi^2] / S^2 / (m n)`` (each unit-sample pair given its q);
* the unit's weight-column norm, ``||w_j||^2`` has relative variance 2 / d, shared
  by the unit's m entries: ``s^2 * 2 / (d n)``;
* the sample's input norm, relative variance ``kappa / d`` (2 for a Gaussian input),
  shared by the sample's n entries: ``s^2 * kappa / (d m)``.

So ``Var[M] / S^2 ~ Var[phi^2] / (S^2 m n) + 2 s^2 / (d n) + kappa s^2 / (d m)``; the
std (for a zero-mean layer) has half that relative sd. This is what the first
layer of the notes' network obeys (tests/test_theory_finite_size.py checks it
against a Monte Carlo to 25%).

**Measured, deep layers** (:func:`measure_std_spread`, :func:`std_tolerance`). Beyond
the first layer the inputs of a layer become correlated across samples (the
mean-field correlation map drives them together; in near-linear or relu networks
the effective rank of a layer falls to a few), and the relative fluctuation grows
roughly like ``depth / width`` (Hanin & Rolnick 2018 for relu). Rather than
model it, the tolerance is measured: ``reps`` independent runs of the reference,
per layer the mean (finite-width bias) and sd of ``std_emp / std_theory - 1``;
the tolerance at level alpha is ``|bias| + z_{1 - alpha/2} sd``. Measured with
``reps = 100`` at batch 256, depth 30 (``python -m weight_init.theory_finite_size``):

====================  =====  ======================  ======================
scheme / activation   width  bias, sd at layer 10    bias, sd at layer 30
====================  =====  ======================  ======================
xavier / tanh          32    -0.028, 0.10            -0.13, 0.24
xavier / tanh         128    -0.008, 0.025           -0.031, 0.086
he_normal / relu       32    -0.10, 0.38             -0.37, 0.77
he_normal / relu      128    -0.026, 0.21            -0.057, 0.44
orthogonal / tanh      32    +0.017, 0.002           +0.024, 0.001
orthogonal / tanh     128    +0.004, 0.001           +0.006, 0.001
====================  =====  ======================  ======================

Orthogonal layers fluctuate far less (norms preserved exactly) but carry a
systematic ~ +0.8 / width bias: there the Gaussian variance rule is exact only in
the limit. These spreads are why the property suite tests each layer *given the
previous one* (:mod:`weight_init.properties.claims._conditional`) instead of the
marginal prediction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from weight_init.activations import Activation, ArrayFn, get_activation
from weight_init.experiment import forward_prop
from weight_init.schemes import Scheme, get_scheme
from weight_init.theory import gaussian_expectation, predict


def layer_relative_sd(
    q: float,
    activation: str | Activation | ArrayFn,
    fan_in: int,
    width: int,
    n_samples: int,
    *,
    input_norm_kurtosis: float = 2.0,
) -> float:
    """Relative sd of one layer's empirical std (derived; zero-mean layers).

    ``Var[M] / S^2 ~ Var[phi^2] / (S^2 m n) + 2 s^2 / (d n) + kappa s^2 / (d m)`` for the
    empirical second moment ``M`` (entry noise, the unit's weight-column norm, the sample's
    input norm), ``S(q) = E[phi(sqrt(q) z)^2]`` and ``s = d log S / d log q``; the std has half
    that relative sd (module docstring).

    Parameters
    ----------
    q : float
        The layer's pre-activation variance.
    activation : str or Activation or callable
        ``phi``.
    fan_in : int
        ``d``.
    width : int
        ``n``.
    n_samples : int
        ``m``, the batch.
    input_norm_kurtosis : float, default 2.0
        ``kappa``, the relative variance of ``||h_a||^2 / d`` times ``d`` (2 for a Gaussian
        input).

    Returns
    -------
    float
        The relative sd of the layer's empirical std.

    Examples
    --------
    A linear layer (``s = 1``, ``Var[phi^2] / S^2 = 2``) of the notes' size:

    >>> from weight_init.theory_finite_size import layer_relative_sd
    >>> round(layer_relative_sd(1.0, "linear", 500, 500, 1000), 6)  # sqrt(1.6e-5) / 2
    0.002
    """
    phi = get_activation(activation)
    s2 = gaussian_expectation(lambda u: phi.phi(u) ** 2, q)
    s4 = gaussian_expectation(lambda u: phi.phi(u) ** 4, q)
    h = 1e-4 * q
    slope = (
        math.log(gaussian_expectation(lambda u: phi.phi(u) ** 2, q + h))
        - math.log(gaussian_expectation(lambda u: phi.phi(u) ** 2, q - h))
    ) / (math.log(q + h) - math.log(q - h))
    rel_var = (
        (s4 - s2 * s2) / (s2 * s2) / (n_samples * width)
        + 2.0 * slope**2 / (fan_in * width)
        + input_norm_kurtosis * slope**2 / (fan_in * n_samples)
    )
    return 0.5 * math.sqrt(rel_var)


@dataclass(frozen=True)
class Spread:
    """Per-layer mean (bias) and sd of ``std_emp / std_theory - 1`` over ``reps`` runs.

    Attributes
    ----------
    bias : tuple of float
        Per layer, the mean relative deviation (the finite-width bias).
    sd : tuple of float
        Per layer, its standard deviation over the runs.
    reps : int
        The number of runs.

    Examples
    --------
    >>> from weight_init.theory_finite_size import measure_std_spread
    >>> spread = measure_std_spread("xavier", "tanh", [32] * 3, 32, 64, reps=8)
    >>> spread.reps, len(spread.bias), len(spread.tolerance(1e-3))
    (8, 3, 3)
    """

    bias: tuple[float, ...]
    sd: tuple[float, ...]
    reps: int

    def tolerance(self, alpha: float = 1e-3) -> list[float]:
        """The relative tolerance per layer at level ``alpha``: ``|bias| + z_{1-alpha/2} sd``.

        Parameters
        ----------
        alpha : float, default 1e-3
            The two-sided level.

        Returns
        -------
        list of float
            One tolerance per layer.
        """
        z = float(stats.norm.isf(alpha / 2))
        return [abs(b) + z * s for b, s in zip(self.bias, self.sd, strict=True)]


def measure_std_spread(
    scheme: str | Scheme,
    activation: str,
    widths: Sequence[int],
    input_dim: int,
    n_samples: int,
    *,
    reps: int = 64,
    seed: int = 0,
) -> Spread:
    """Run the reference ``reps`` times (seeds ``seed..seed+reps-1``) and measure the spread.

    Parameters
    ----------
    scheme : str or Scheme
        The scheme.
    activation : str
        The activation's name.
    widths : sequence of int
        The layers' widths.
    input_dim : int
        The input's width.
    n_samples : int
        The batch.
    reps : int, default 64
        The number of independent runs.
    seed : int, default 0
        The first run's seed.

    Returns
    -------
    Spread
        Per layer, the bias and sd of ``std_emp / std_theory - 1``.

    Examples
    --------
    >>> from weight_init.theory_finite_size import measure_std_spread
    >>> spread = measure_std_spread("orthogonal", "tanh", [32] * 2, 32, 64, reps=8)
    >>> all(s < 0.05 for s in spread.sd)  # orthogonal layers preserve norms
    True
    """
    sch = get_scheme(scheme)
    theory = np.array(predict(sch, activation, widths, input_dim).stds)
    devs = []
    for r in range(reps):
        res = forward_prop(
            list(widths),
            sch,
            activation=activation,
            n_samples=n_samples,
            input_dim=input_dim,
            seed=seed + r,
            keep_activations=False,
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            devs.append(np.where(theory > 0, np.array(res.stds) / theory - 1.0, 0.0))
    d = np.array(devs)
    return Spread(tuple(d.mean(axis=0)), tuple(d.std(axis=0, ddof=1)), reps)


def std_tolerance(
    scheme: str | Scheme,
    activation: str,
    widths: Sequence[int],
    input_dim: int,
    n_samples: int,
    *,
    alpha: float = 1e-3,
    reps: int = 64,
    seed: int = 0,
) -> list[float]:
    """Measured relative tolerance per layer: ``|bias| + z_{1-alpha/2} sd``.

    Parameters
    ----------
    scheme : str or Scheme
        The scheme.
    activation : str
        The activation's name.
    widths : sequence of int
        The layers' widths.
    input_dim : int
        The input's width.
    n_samples : int
        The batch.
    alpha : float, default 1e-3
        The two-sided level.
    reps : int, default 64
        The number of independent runs.
    seed : int, default 0
        The first run's seed.

    Returns
    -------
    list of float
        One tolerance per layer (:meth:`Spread.tolerance` of :func:`measure_std_spread`).

    Examples
    --------
    >>> from weight_init.theory_finite_size import std_tolerance
    >>> len(std_tolerance("xavier", "tanh", [32] * 3, 32, 64, reps=8))
    3
    """
    return measure_std_spread(
        scheme, activation, widths, input_dim, n_samples, reps=reps, seed=seed
    ).tolerance(alpha)


def _table() -> None:  # pragma: no cover - documentation helper
    for width in (32, 128):
        for scheme, act in (("xavier", "tanh"), ("he_normal", "relu"), ("orthogonal", "tanh")):
            sp = measure_std_spread(scheme, act, [width] * 30, width, 256, reps=100)
            print(
                f"{scheme}/{act} width {width}: layer 10 bias {sp.bias[9]:+.3f} sd {sp.sd[9]:.3f}; "
                f"layer 30 bias {sp.bias[29]:+.3f} sd {sp.sd[29]:.3f}"
            )


if __name__ == "__main__":  # pragma: no cover
    _table()
