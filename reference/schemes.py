"""Initializer schemes as data: a distribution family plus a variance rule.

Convention: weights have shape ``(fan_in, fan_out)`` and act as ``H @ W``.
(PyTorch stores ``(fan_out, fan_in)``; see :mod:`weight_init.layouts`.)

Variance rules (``Var[W_ij]``), for ``scale`` s:

* ``fixed``:   s                         (s is the variance; std = sqrt(s))
* ``fan_in``:  s / fan_in                (LeCun s=1, He/Kaiming s=2)
* ``fan_out``: s / fan_out
* ``fan_avg``: 2 s / (fan_in + fan_out)  (Glorot & Bengio 2010 with s=1)
* ``fan_geo_avg``: s / sqrt(fan_in fan_out)  (JAX's ``variance_scaling`` mode of that name)

Families (:mod:`weight_init.families`, one object each, registered there), for a target
variance v:

* ``constant``: every entry equals ``value`` (variance 0).
* ``normal``: N(0, v).
* ``uniform``: U(-a, a) with a = sqrt(3 v).
* ``truncated_normal``: N(0, sigma^2) truncated to [-2 sigma, 2 sigma] with
  sigma = sqrt(v) / 0.87962566103423978, the std of a standard normal truncated
  at +-2, so the truncated entries have variance exactly v (Keras' and JAX's
  convention; TensorFlow < 2.x omitted the correction and came out 12% narrow).
* ``orthogonal``: ``gain * Q`` with Q Haar-distributed (QR of a Gaussian matrix,
  columns of Q multiplied by sign(diag R)); orthonormal columns when
  fan_in >= fan_out, orthonormal rows otherwise, so Var = gain^2 / max(fan_in, fan_out).

Where the field's names disagree:

* The notes' ``xavier`` is ``randn(fan_in, fan_out) / sqrt(fan_in)``, variance
  1/fan_in: that is LeCun's rule (registered here as ``xavier`` and as
  ``lecun_normal``). Glorot & Bengio (2010) and ``torch.nn.init.xavier_normal_``
  use 2/(fan_in + fan_out): ``glorot_normal`` here.
* Keras' ``lecun_normal``, ``glorot_normal``, ``he_normal`` and JAX's
  ``jax.nn.initializers`` presets of the same names draw *truncated* normals:
  they correspond to the ``*_truncated_normal`` schemes here. Keras'
  ``VarianceScaling(distribution="normal")`` also means truncated.
* ``torch.nn.init.kaiming_*`` default to ``a=0`` with leaky_relu's gain, i.e.
  He's rule (scale 2, fan_in) and read fan_in from the *second* axis of an
  ``(out, in)`` tensor.
* torch's own names are accepted wherever a scheme name is (:data:`SCHEME_ALIASES`, resolved
  by :func:`canonical_name`): ``xavier_normal``/``xavier_uniform`` are ``glorot_normal``/
  ``glorot_uniform``, ``kaiming_normal``/``kaiming_uniform`` are ``he_normal``/``he_uniform``.
  They name the same registered schemes (never a second copy), so ``xavier`` stays the notes'
  LeCun rule and ``xavier_normal`` is Glorot's.

With no generator, sampling uses numpy's legacy global state
(``np.random.standard_normal`` etc.), so ``np.random.seed`` reproduces the
notes' ``np.random.randn`` draws.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal, cast

import numpy as np
from numpy.typing import DTypeLike, NDArray

from weight_init.draws import (
    RNG,
    TRUNCATED_NORMAL_STD,
    TRUNCATION,
    haar_orthogonal,
    truncated_standard_normal,
)
from weight_init.errors import InvalidLayerSizesError, InvalidParameterError, UnknownSchemeError
from weight_init.families import (
    CONSTANT,
    FAMILIES,
    NORMAL,
    ORTHOGONAL,
    UNIFORM,
    Family,
    Sparse,
    TruncatedNormalAt,
    get_family,
)

__all__ = [
    "FAMILIES",
    "MODES",
    "NOTES_SCHEMES",
    "RNG",
    "SCHEMES",
    "SCHEME_ALIASES",
    "TRUNCATED_NORMAL_STD",
    "TRUNCATION",
    "Family",
    "Scheme",
    "VarianceRule",
    "canonical_name",
    "check_fan",
    "constant",
    "get_scheme",
    "haar_orthogonal",
    "orthogonal",
    "scheme_names",
    "sparse",
    "truncated_normal_at",
    "truncated_standard_normal",
    "uniform_interval",
    "variance_scaling",
]

Mode = Literal["fixed", "fan_in", "fan_out", "fan_avg", "fan_geo_avg"]

MODES: tuple[str, ...] = ("fixed", "fan_in", "fan_out", "fan_avg", "fan_geo_avg")


def check_fan(value: object, what: str) -> int:
    """Return ``value`` as a positive int or raise :class:`InvalidLayerSizesError`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidLayerSizesError(f"{what} must be a positive integer, got {value!r}")
    if int(value) <= 0:
        raise InvalidLayerSizesError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def _positive_finite(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidParameterError(f"{what} must be a real number, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v <= 0.0:
        raise InvalidParameterError(f"{what} must be positive and finite, got {value!r}")
    return v


@dataclass(frozen=True)
class VarianceRule:
    """``Var[W_ij]`` as a function of the fans.

    Parameters
    ----------
    scale : float
        ``s``.
    mode : {"fixed", "fan_in", "fan_out", "fan_avg", "fan_geo_avg"}
        ``fixed``: s (s is the variance; std = sqrt(s)); ``fan_in``: s / fan_in (LeCun s=1,
        He/Kaiming s=2); ``fan_out``: s / fan_out; ``fan_avg``: 2 s / (fan_in + fan_out)
        (Glorot & Bengio 2010 with s=1); ``fan_geo_avg``: s / sqrt(fan_in fan_out) (JAX's
        ``variance_scaling`` mode of that name).

    Examples
    --------
    >>> from weight_init.schemes import VarianceRule
    >>> rule = VarianceRule(1.0, "fan_avg")
    >>> rule.variance(100, 300), rule.describe()
    (0.005, 'variance 2/(fan_in+fan_out)')
    """

    scale: float
    mode: Mode

    def variance(self, fan_in: int, fan_out: int) -> float:
        """``Var[W_ij]`` at these fans.

        Parameters
        ----------
        fan_in, fan_out : int
            The layer's fans.

        Returns
        -------
        float
            The variance.
        """
        if self.mode == "fixed":
            return self.scale
        if self.mode == "fan_in":
            return self.scale / fan_in
        if self.mode == "fan_out":
            return self.scale / fan_out
        if self.mode == "fan_geo_avg":
            return self.scale / math.sqrt(fan_in * fan_out)
        return 2.0 * self.scale / (fan_in + fan_out)

    def describe(self) -> str:
        """The rule in words, e.g. ``variance 2/fan_in`` or ``std 0.01``.

        Returns
        -------
        str
            The rule as tables show it.
        """
        if self.mode == "fixed":
            return f"std {math.sqrt(self.scale):g}"
        if self.mode == "fan_avg":  # 2 s / (fan_in + fan_out), written so it reads right
            return f"variance {2.0 * self.scale:g}/(fan_in+fan_out)"
        if self.mode == "fan_geo_avg":
            return f"variance {self.scale:g}/sqrt(fan_in*fan_out)"
        return f"variance {self.scale:g}/{self.mode}"


@dataclass(frozen=True)
class Scheme:
    """A weight initializer as data: ``family`` and ``rule`` determine the law of every entry.

    Calling a scheme, ``scheme(fan_in, fan_out, rng=None)``, draws a ``(fan_in, fan_out)``
    float64 array, so a scheme is a valid ``init`` for
    :func:`weight_init.experiment.forward_prop`. The registered schemes are looked up with
    :func:`get_scheme`; :func:`variance_scaling` and :func:`constant` build others.

    Parameters
    ----------
    name : str
        The scheme's name, as tables and messages show it.
    family : Family or str
        A :class:`~weight_init.families.Family` (a registered family's name is accepted and
        looked up); ``family.name`` is its string form.
    rule : VarianceRule
        The variance rule: ``Var[W_ij]`` as a function of the fans.
    value : float, default 0.0
        The constant's value, or the entries' mean (location) of an i.i.d. family: 0 for
        every registered scheme, ``s/2`` for the one-sided ``uniform_interval(0, s)``.
    description : str, default ""
        Where the scheme comes from (paper, framework function), one line.

    See Also
    --------
    get_scheme : a registered scheme by name.
    scheme_names : the registered names.

    Examples
    --------
    >>> import numpy as np
    >>> from weight_init import get_scheme
    >>> he = get_scheme("he_normal")
    >>> he.describe()
    'normal, variance 2/fan_in'
    >>> he.variance(100, 50)
    0.02
    >>> w = he(100, 50, rng=np.random.default_rng(0))
    >>> w.shape, w.dtype
    ((100, 50), dtype('float64'))
    """

    name: str
    family: Family
    rule: VarianceRule
    value: float = 0.0
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.family, Family):
            object.__setattr__(self, "family", get_family(self.family))

    def variance(self, fan_in: int, fan_out: int) -> float:
        """Exact ``Var[W_ij]`` at these fans (0 for constants).

        Parameters
        ----------
        fan_in, fan_out : int
            The layer's fans.

        Returns
        -------
        float
            The variance of one entry.
        """
        return self.family.variance(self, fan_in, fan_out)

    def std(self, fan_in: int, fan_out: int) -> float:
        """The entries' standard deviation at these fans, ``sqrt(variance(fan_in, fan_out))``.

        Parameters
        ----------
        fan_in, fan_out : int
            The layer's fans.

        Returns
        -------
        float
            The standard deviation of one entry.
        """
        return math.sqrt(self.variance(fan_in, fan_out))

    def mean(self) -> float:
        """The entries' mean (0 for every registered random scheme; a constant's value).

        Returns
        -------
        float
            The mean of one entry.
        """
        return self.family.mean(self)

    def sample(
        self,
        fan_in: int,
        fan_out: int,
        rng: RNG = None,
        dtype: DTypeLike = np.float64,
    ) -> NDArray[Any]:
        """Draw a ``(fan_in, fan_out)`` weight matrix.

        Parameters
        ----------
        fan_in, fan_out : int
            The layer's fans (positive).
        rng : numpy.random.Generator or RandomState, optional
            The generator to draw from (None: numpy's legacy global state).
        dtype : dtype, default float64
            The returned array's dtype.

        Returns
        -------
        ndarray
            The ``(fan_in, fan_out)`` weights.

        Raises
        ------
        InvalidLayerSizesError
            A fan is not a positive integer.
        """
        fan_in = check_fan(fan_in, "fan_in")
        fan_out = check_fan(fan_out, "fan_out")
        w = self.family.sample(self, fan_in, fan_out, rng)
        return w.astype(dtype, copy=False)

    def __call__(self, fan_in: int, fan_out: int, rng: RNG = None) -> NDArray[Any]:
        return self.sample(fan_in, fan_out, rng=rng)

    def describe(self) -> str:
        """The law in words, e.g. ``normal, variance 2/fan_in``.

        Returns
        -------
        str
            The family and the variance rule.
        """
        return self.family.describe(self)


def variance_scaling(
    scale: float = 1.0,
    mode: str = "fan_in",
    distribution: str | Family = "normal",
    name: str | None = None,
) -> Scheme:
    """General variance-scaling scheme: ``Var[W_ij] = scale / n`` with n chosen by ``mode``.

    Unlike Keras, ``normal`` here is *not* truncated.

    Parameters
    ----------
    scale : float, default 1.0
        ``s``, positive and finite.
    mode : str, default "fan_in"
        ``fan_in``, ``fan_out``, ``fan_avg`` (n = (fan_in+fan_out)/2), ``fan_geo_avg``
        (n = sqrt(fan_in fan_out), JAX) or ``fixed`` (``scale`` is the variance itself).
    distribution : str or Family, default "normal"
        ``normal`` (untruncated; alias ``untruncated_normal``), ``truncated_normal`` or
        ``uniform``, or an i.i.d. :class:`~weight_init.families.Family` instance (a
        parametrized one such as ``TruncatedNormalAt(3)``).
    name : str, optional
        The scheme's name (default: the call, spelled out).

    Returns
    -------
    Scheme
        The scheme.

    Raises
    ------
    InvalidParameterError
        ``scale`` is not positive and finite, or ``mode`` or ``distribution`` is unknown.

    Examples
    --------
    >>> from weight_init.schemes import variance_scaling
    >>> s = variance_scaling(2.0, "fan_out", "truncated_normal")
    >>> s.describe(), s.variance(100, 50)
    ('truncated normal, variance 2/fan_out', 0.04)
    """
    s = _positive_finite(scale, "scale")
    if mode not in MODES:
        raise InvalidParameterError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    if isinstance(distribution, Family):
        family: Family | None = distribution
        dist = str(distribution)
    else:
        dist = "normal" if distribution == "untruncated_normal" else distribution
        family = FAMILIES.get(dist) if isinstance(dist, str) else None
    if family is None or not family.is_iid:
        choices = ", ".join(f.name for f in FAMILIES.values() if f.is_iid)
        raise InvalidParameterError(f"unknown distribution {distribution!r}; choose {choices}")
    label = name or f"variance_scaling(scale={s:g}, mode={mode}, distribution={dist})"
    return Scheme(label, family, VarianceRule(s, cast(Mode, mode)))


def constant(value: float, name: str | None = None) -> Scheme:
    """Every entry equals ``value`` (``zeros`` is ``constant(0.0)``).

    Parameters
    ----------
    value : float
        The entries' value, finite.
    name : str, optional
        The scheme's name (default ``constant(VALUE)``).

    Returns
    -------
    Scheme
        The constant scheme (variance 0).

    Raises
    ------
    InvalidParameterError
        ``value`` is not a finite real number.

    Examples
    --------
    >>> from weight_init.schemes import constant
    >>> constant(0.5)(2, 3)
    array([[0.5, 0.5, 0.5],
           [0.5, 0.5, 0.5]])
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidParameterError(f"constant value must be a real number, got {value!r}")
    if not math.isfinite(float(value)):
        raise InvalidParameterError(f"constant value must be finite, got {value!r}")
    return Scheme(
        name or f"constant({float(value):g})",
        CONSTANT,
        VarianceRule(0.0, "fixed"),
        value=float(value),
    )


def uniform_interval(low: float, high: float, name: str | None = None) -> Scheme:
    """``U[low, high)``: the uniform family with location ``(low + high)/2`` and fixed variance
    ``(high - low)^2 / 12``; ``low = 0`` is JAX's one-sided ``uniform(scale=high)``."""
    for what, v in (("low", low), ("high", high)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            raise InvalidParameterError(f"{what} must be a finite real number, got {v!r}")
    lo, hi = float(low), float(high)
    if not hi > lo:
        raise InvalidParameterError(f"uniform needs low < high, got [{lo:g}, {hi:g})")
    mid = 0.5 * (lo + hi)
    return Scheme(
        name or f"uniform(low={lo:g}, high={hi:g})",
        UNIFORM,
        VarianceRule((hi - lo) ** 2 / 12.0, "fixed"),
        value=0.0 if mid == 0.0 else mid,
    )


def sparse(sparsity: float, std: float = 0.01, name: str | None = None) -> Scheme:
    """``torch.nn.init.sparse_(w, sparsity, std)``: exactly ``ceil(sparsity * fan_out)`` zeros
    per input, the other entries ``N(0, std^2)`` (:class:`~weight_init.families.Sparse`)."""
    sd = _positive_finite(std, "std")
    if isinstance(sparsity, bool) or not isinstance(sparsity, numbers.Real):
        raise InvalidParameterError(f"sparsity must be a real number, got {sparsity!r}")
    family = Sparse(float(sparsity))
    label = name or f"sparse(sparsity={family.sparsity:g}, std={sd:g})"
    return Scheme(label, family, VarianceRule(sd * sd, "fixed"))


def truncated_normal_at(std: float, cut: float, name: str | None = None) -> Scheme:
    """``N(0, std^2)`` cut at ``+-cut * std`` with no variance correction (torch's
    ``trunc_normal_(std=std, a=-cut * std, b=cut * std)``): variance ``(s_c std)^2`` with
    ``s_c`` the std of the standard normal cut at ``+-cut``
    (:class:`~weight_init.families.TruncatedNormalAt`, ``cut`` in [1, 8))."""
    sd = _positive_finite(std, "std")
    family = TruncatedNormalAt(_positive_finite(cut, "cut"))
    label = name or f"truncated_normal(std={sd:g}, a={-cut * sd:g}, b={cut * sd:g})"
    return Scheme(label, family, VarianceRule((family.std_of_cut * sd) ** 2, "fixed"))


def orthogonal(gain: float = 1.0, name: str | None = None) -> Scheme:
    """Haar orthogonal weights times ``gain``.

    ``gain * Q`` with Q Haar-distributed (QR of a Gaussian matrix, columns of Q multiplied by
    sign(diag R)): orthonormal columns when fan_in >= fan_out, orthonormal rows otherwise, so
    ``Var = gain^2 / max(fan_in, fan_out)``.

    Parameters
    ----------
    gain : float, default 1.0
        The factor, positive and finite.
    name : str, optional
        The scheme's name (default ``orthogonal(gain=GAIN)``).

    Returns
    -------
    Scheme
        The orthogonal scheme.

    Raises
    ------
    InvalidParameterError
        ``gain`` is not positive and finite.

    Examples
    --------
    >>> import numpy as np
    >>> from weight_init.schemes import orthogonal
    >>> w = orthogonal(2.0)(4, 8, rng=np.random.default_rng(0))
    >>> np.allclose(w @ w.T, 4 * np.eye(4)), orthogonal(2.0).variance(4, 8)
    (True, 0.5)
    """
    g = _positive_finite(gain, "gain")
    return Scheme(name or f"orthogonal(gain={g:g})", ORTHOGONAL, VarianceRule(g * g, "fixed"))


def _normal_fixed(name: str, std: float, description: str) -> Scheme:
    return Scheme(name, NORMAL, VarianceRule(std * std, "fixed"), description=description)


def _vs(name: str, scale: float, mode: Mode, dist: str, description: str) -> Scheme:
    s = variance_scaling(scale, mode, dist, name=name)
    return Scheme(s.name, s.family, s.rule, description=description)


_REGISTRY: dict[str, Scheme] = {
    s.name: s
    for s in (
        Scheme(
            "zeros",
            CONSTANT,
            VarianceRule(0.0, "fixed"),
            description="all zeros (the notes' W = 0): symmetry is never broken",
        ),
        _normal_fixed("small_normal", 0.01, "the notes' 0.01 * randn: activations vanish"),
        _normal_fixed("big_normal", 1.0, "the notes' 1 * randn: tanh saturates"),
        _vs(
            "xavier",
            1.0,
            "fan_in",
            "normal",
            "the notes' randn / sqrt(fan_in), i.e. LeCun normal (not Glorot's rule)",
        ),
        _vs("lecun_normal", 1.0, "fan_in", "normal", "LeCun et al. 1998, untruncated"),
        _vs("lecun_uniform", 1.0, "fan_in", "uniform", "LeCun, U(-sqrt(3/fan_in), +)"),
        _vs(
            "glorot_normal",
            1.0,
            "fan_avg",
            "normal",
            "Glorot & Bengio 2010; torch.nn.init.xavier_normal_",
        ),
        _vs(
            "glorot_uniform",
            1.0,
            "fan_avg",
            "uniform",
            "Glorot & Bengio 2010; torch.nn.init.xavier_uniform_",
        ),
        _vs(
            "he_normal",
            2.0,
            "fan_in",
            "normal",
            "He et al. 2015; torch.nn.init.kaiming_normal_ (a=0)",
        ),
        _vs(
            "he_uniform",
            2.0,
            "fan_in",
            "uniform",
            "He et al. 2015; torch.nn.init.kaiming_uniform_ (a=0)",
        ),
        _vs("lecun_truncated_normal", 1.0, "fan_in", "truncated_normal", "Keras/JAX lecun_normal"),
        _vs(
            "glorot_truncated_normal", 1.0, "fan_avg", "truncated_normal", "Keras/JAX glorot_normal"
        ),
        _vs("he_truncated_normal", 2.0, "fan_in", "truncated_normal", "Keras/JAX he_normal"),
        Scheme(
            "orthogonal",
            ORTHOGONAL,
            VarianceRule(1.0, "fixed"),
            description="Saxe et al. 2014; Haar via QR with sign(diag R)",
        ),
        _vs(
            "torch_linear_default",
            1.0 / 3.0,
            "fan_in",
            "uniform",
            "torch.nn.Linear's default weight: kaiming_uniform_(a=sqrt(5)), "
            "U(-1/sqrt(fan_in), +), variance 1/(3 fan_in)",
        ),
    )
}

#: Read-only view of the registered schemes, by name.
SCHEMES: Mapping[str, Scheme] = MappingProxyType(_REGISTRY)

#: The four schemes the notes compare.
NOTES_SCHEMES: tuple[str, ...] = ("zeros", "small_normal", "big_normal", "xavier")


#: Other names of registered schemes: torch.nn.init's (``xavier_normal_`` draws Glorot's
#: rule, ``kaiming_normal_`` He's), so a torch user's name finds the scheme it means.
SCHEME_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "xavier_normal": "glorot_normal",
        "xavier_uniform": "glorot_uniform",
        "kaiming_normal": "he_normal",
        "kaiming_uniform": "he_uniform",
    }
)


def canonical_name(name: str) -> str:
    """The registered name ``name`` stands for: itself, or the scheme it is an alias of
    (:data:`SCHEME_ALIASES`); an unknown name is returned unchanged."""
    return SCHEME_ALIASES.get(name, name)


def scheme_names() -> list[str]:
    """Registered scheme names, in registration order (aliases not included).

    Returns
    -------
    list of str
        Every registered name :func:`get_scheme` accepts, the notes' four schemes first;
        it also accepts the aliases of :data:`SCHEME_ALIASES`.

    Examples
    --------
    >>> from weight_init import scheme_names
    >>> scheme_names()[:4]
    ['zeros', 'small_normal', 'big_normal', 'xavier']
    >>> "he_normal" in scheme_names()
    True
    """
    return list(_REGISTRY)


def get_scheme(name: str | Scheme) -> Scheme:
    """Look a scheme up by name or alias (a :class:`Scheme` is returned unchanged).

    Parameters
    ----------
    name : str or Scheme
        A registered scheme's name (:func:`scheme_names`), one of torch's names in
        :data:`SCHEME_ALIASES` (``xavier_normal`` is ``glorot_normal``), or a scheme.

    Returns
    -------
    Scheme
        The registered scheme, or ``name`` itself when it is a :class:`Scheme`.

    Raises
    ------
    UnknownSchemeError
        No scheme is registered under ``name``; the message lists the registered names.

    Examples
    --------
    >>> from weight_init import get_scheme
    >>> get_scheme("glorot_uniform").describe()
    'uniform, variance 2/(fan_in+fan_out)'
    >>> get_scheme("xavier_uniform") is get_scheme("glorot_uniform")
    True
    >>> get_scheme("no_such_scheme")
    Traceback (most recent call last):
        ...
    weight_init.errors.UnknownSchemeError: unknown scheme 'no_such_scheme'; choose one of zeros, ...
    """
    if isinstance(name, Scheme):
        return name
    try:
        return _REGISTRY[canonical_name(name)]
    except (KeyError, TypeError):
        raise UnknownSchemeError(
            f"unknown scheme {name!r}; choose one of {', '.join(_REGISTRY)} "
            f"(or torch's {', '.join(SCHEME_ALIASES)})"
        ) from None
