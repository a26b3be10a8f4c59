"""Distribution families: one object per family owns its law, its sampler and its standardization.

(About 650 lines: the five built-in families, the two parametrized ones (sparse, truncated
at any cut) and their registry are one concept; the raw draws they scale live in
:mod:`weight_init.draws`.)

A scheme is a family plus a variance rule (:mod:`weight_init.schemes`). For a scheme with
rule variance ``v(fan_in, fan_out)``, the *standardized* entry is ``z = w / sqrt(v)``; a
family states the law of ``z``:

* ``normal``: ``z ~ N(0, 1)``; ``E z^4 = 3``. Drawn as ``standard_normal * std``.
* ``uniform``: ``z ~ U(-sqrt 3, sqrt 3)``; ``E z^4 = 9/5``. Drawn as ``uniform(-a, a)``,
  ``a = sqrt(3) std``.
* ``truncated_normal``: ``z = t / s`` with ``t ~ N(0, 1)`` truncated to [-2, 2] and
  ``s = 0.87962566103423978`` its std, so ``F(z) = (Phi(s z) - Phi(-2)) / (2 Phi(2) - 1)``
  on ``|z| <= 2/s``; ``E z^4 = E t^4 / s^4 = 2.3655...`` with
  ``E t^4 = 3 s^2 - 2 c^3 phi(c) / (2 Phi(c) - 1)``, ``c = 2`` (Keras' and JAX's convention;
  TensorFlow < 2.x omitted the correction and came out 12% narrow).
* ``orthogonal``: ``w = g q`` with ``Q`` Haar (QR of a Gaussian matrix, columns multiplied by
  sign(diag R)), orthonormal columns when fan_in >= fan_out, rows otherwise, so
  ``Var = g^2 / n`` with ``n = max(fan_in, fan_out)``; ``q`` is one coordinate of a uniform
  unit vector in ``R^n``: ``q^2 ~ Beta(1/2, (n-1)/2)``. With ``z = sqrt(n) q``:
  ``F(z) = 1/2 + sign(z)/2 * I_{z^2/n}(1/2, (n-1)/2)``; ``E z^4 = 3n/(n+2)``. For ``n = 1``
  the entry is ``+-1`` (no continuous law).
* ``constant``: every entry equals the scheme's ``value`` (variance 0, no law of ``z``).
* ``sparse`` (:class:`Sparse`, one instance per ``sparsity``; not registered): torch's
  ``sparse_``, exactly ``ceil(sparsity * fan_out)`` zeros per input plus ``N(0, s^2)``.
* ``truncated_normal_at`` (:class:`TruncatedNormalAt`, one instance per cut ``c`` in [1, 8);
  not registered): ``N(0, sigma^2)`` cut at ``+-c sigma`` with no variance correction
  (torch's ``trunc_normal_`` at absolute bounds); ``c = 2`` is the law above.

**Location.** A scheme's ``value`` is the entries' mean for the i.i.d. families (0 for every
registered scheme): ``z = (w - value) / sd_rule`` keeps the standardized laws above, so a
one-sided uniform ``U[0, s)`` (JAX's ``uniform(scale)``) is the uniform family with
``value = s/2`` and variance ``s^2/12``.

``is_iid`` families (the first three) have independent entries whose standardized law does
not depend on the fans: they are the ones :func:`weight_init.schemes.variance_scaling`
accepts and the conformance statistics pool across shapes. ``cdf``/``ppf`` are closed forms
(vectorised, bit-stable); ``law()`` is the same law as a frozen :mod:`scipy.stats`
distribution where one exists.

Adding a family is one new :class:`Family` subclass instance passed to
:func:`register_family`. With no generator, sampling uses numpy's legacy global state, so
``np.random.seed`` reproduces the notes' ``np.random.randn`` draws bit for bit.
"""

from __future__ import annotations

import functools
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from weight_init.draws import (
    RNG,
    TRUNCATED_NORMAL_STD,
    TRUNCATION,
    haar_orthogonal,
    standard_normal,
    truncated_standard_normal,
    truncated_standard_normal_at,
    uniform,
)
from weight_init.errors import InvalidParameterError, UnknownFamilyError

if TYPE_CHECKING:
    from weight_init.schemes import Scheme

Array = NDArray[np.float64]

_SQRT3 = math.sqrt(3.0)


@functools.cache
def _cut_constants(cut: float) -> tuple[float, float, float, float]:
    """``(mass, Phi(-c), s_c, E z^4)`` of the standard normal cut at ``+-c``: ``mass = 2 Phi(c)
    - 1``, ``s_c^2 = 1 - 2 c phi(c) / mass`` and, for ``z = t / s_c``, ``E z^4 = (3 s_c^2 -
    2 c^3 phi(c) / mass) / s_c^4``, with ``Phi = special.ndtr`` and ``phi(x) = exp(-x^2/2) /
    sqrt(2 pi)``: the expressions ``scipy.stats.truncnorm`` evaluates, without importing
    scipy.stats (about 1 s; ``weight-init check`` is waited for). scipy.special is imported
    here, on first use, so importing the package stays light."""
    from scipy import special

    c = float(cut)
    mass = float(2.0 * special.ndtr(c) - 1.0)
    pdf = math.exp(-c * c / 2.0) / math.sqrt(2.0 * math.pi)
    s2 = 1.0 - 2.0 * c * pdf / mass
    m4 = (3.0 * s2 - 2.0 * c**3 * pdf / mass) / (s2 * s2)
    return mass, float(special.ndtr(-c)), math.sqrt(s2), m4


def _truncation_constants() -> tuple[float, float, float]:
    """``(2 Phi(2) - 1, Phi(-2), E z^4)`` of the family ``truncated_normal`` (cut at 2)."""
    mass, low, _, m4 = _cut_constants(TRUNCATION)
    return mass, low, m4


class Family(ABC):
    """A distribution family of weight entries (see the module docstring).

    Subclasses set ``name`` (the string used in JSON and on the command line), ``words``
    (how a sentence names a draw from it, "a uniform"), ``is_iid`` and implement
    :meth:`sample`; continuous families also implement :meth:`cdf`, :meth:`ppf` and
    :meth:`fourth_moment`. A family compares equal to another family of the same name and,
    for code that still holds names, to its name string.
    """

    name: str = ""
    words: str = ""
    #: Independent entries whose standardized law does not depend on the fans.
    is_iid: bool = True
    #: Entries are random (False for a constant: no law, no statistics).
    is_random: bool = True
    #: Largest possible ``|z|`` (inf when unbounded or, for orthogonal, shape-dependent).
    support_bound: float = math.inf
    #: A value the law puts positive probability on (sparse: 0), else None.
    atom: float | None = None
    #: The i.i.d. law of the continuous part of a family with an atom (sparse: normal).
    component: Family | None = None

    def free_entries(self, rows: int, cols: int) -> int:
        """How many of a ``rows x cols`` draw's entries vary freely: the dimension of the set
        of matrices the family draws from (all of them for independent entries). Two draws'
        leading entries tie by chance with the probability of that many entries at most,
        however many are compared (the exact checks' tie bound)."""
        return rows * cols

    # -- the scheme's moments -------------------------------------------------------------
    def variance(self, scheme: Scheme, fan_in: int, fan_out: int) -> float:
        """Exact ``Var[W_ij]`` of ``scheme`` at these fans (the rule's, by default)."""
        return scheme.rule.variance(fan_in, fan_out)

    def mean(self, scheme: Scheme) -> float:
        """Exact ``E[W_ij]``: the scheme's location ``value`` (0 for the registered schemes;
        a one-sided uniform ``U[0, s)`` has ``value = s/2``)."""
        return scheme.value

    @abstractmethod
    def sample(self, scheme: Scheme, fan_in: int, fan_out: int, rng: RNG) -> Array:
        """A float64 ``(fan_in, fan_out)`` draw of ``scheme`` from ``rng`` (global when None)."""

    def describe(self, scheme: Scheme) -> str:
        """The scheme in words, e.g. ``normal, variance 2/fan_in`` (``, mean m`` when the
        scheme has a location)."""
        mean = f", mean {scheme.value:g}" if scheme.value else ""
        return f"{self.name.replace('_', ' ')}, {scheme.rule.describe()}{mean}"

    # -- the standardized law -------------------------------------------------------------
    def law(self, n: int | None = None) -> Any:
        """The law of ``z`` as a frozen scipy distribution, or None when scipy has none."""
        return None

    def fourth_moment(self, n: int | None = None) -> float:
        """``E z^4`` (``n = max(fan_in, fan_out)`` for fan-dependent laws)."""
        raise InvalidParameterError(f"no continuous law for family {self.name!r}")

    def cdf(self, z: Array, n: int | None = None) -> Array:
        """CDF of ``z`` (vectorised); the probability-integral transform of a sample."""
        raise InvalidParameterError(f"no continuous law for family {self.name!r}")

    def ppf(self, p: Array, n: int | None = None) -> Array:
        """Quantile function of ``z`` (inverse of :meth:`cdf`)."""
        raise InvalidParameterError(f"no continuous law for family {self.name!r}")

    def standardize(self, w: Array, scheme: Scheme, fan_in: int, fan_out: int) -> Array:
        """``z = (w - mean) / sd_rule`` (zeros when the rule's variance is 0)."""
        sd = math.sqrt(scheme.variance(fan_in, fan_out))
        if sd <= 0:
            return np.zeros_like(w)
        mu = self.mean(scheme)
        return (w - mu) / sd if mu else w / sd

    def law_parameter(self, fan_in: int, fan_out: int) -> int:
        """The ``n`` a fan-dependent law of ``z`` is indexed by at these fans
        (``max(fan_in, fan_out)``: orthogonal's; unused by the i.i.d. families)."""
        return max(fan_in, fan_out)

    def pit(self, z: Array, fan_in: int, fan_out: int) -> Array:
        """Probability-integral transform of one shape's standardized entries: U(0, 1)
        i.i.d. values under the scheme (flattened). Continuous laws: ``cdf(z)``; a family
        with an atom transforms its continuous part only (:class:`Sparse`)."""
        n = None if self.is_iid else self.law_parameter(fan_in, fan_out)
        return np.asarray(self.cdf(np.ravel(z), n), dtype=np.float64)

    def matches_structure(self, matrices: Sequence[Array]) -> bool:
        """Whether finite ``(fan_in, fan_out)`` draws show this family's exact structure
        (all equal, orthonormal); False for families identified by their law."""
        return False

    # -- identity -------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if isinstance(other, Family):
            return self.name == other.name
        if isinstance(other, str):
            return self.name == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.name)

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<family {self.name}>"


class Constant(Family):
    """Every entry equals the scheme's ``value``."""

    name, words, is_iid, is_random = "constant", "a constant", False, False

    def variance(self, scheme: Scheme, fan_in: int, fan_out: int) -> float:
        return 0.0

    def mean(self, scheme: Scheme) -> float:
        return scheme.value

    def sample(self, scheme: Scheme, fan_in: int, fan_out: int, rng: RNG) -> Array:
        return np.full((fan_in, fan_out), scheme.value, dtype=np.float64)

    def describe(self, scheme: Scheme) -> str:
        return f"constant {scheme.value:g}"

    def matches_structure(self, matrices: Sequence[Array]) -> bool:
        return bool(matrices) and all(np.all(w == w.flat[0]) for w in matrices)


class Normal(Family):
    """``N(0, v)``."""

    name, words = "normal", "an (untruncated) normal"

    def sample(self, scheme: Scheme, fan_in: int, fan_out: int, rng: RNG) -> Array:
        w = standard_normal(rng, (fan_in, fan_out))
        w *= scheme.std(fan_in, fan_out)  # in place: the bits are those of z * std
        if scheme.value:
            w += scheme.value
        return w

    def law(self, n: int | None = None) -> Any:
        from scipy import stats

        return stats.norm()

    def fourth_moment(self, n: int | None = None) -> float:
        return 3.0

    def cdf(self, z: Array, n: int | None = None) -> Array:
        from scipy import special

        return np.asarray(special.ndtr(np.asarray(z, dtype=np.float64)))

    def ppf(self, p: Array, n: int | None = None) -> Array:
        from scipy import special

        return np.asarray(special.ndtri(np.asarray(p, dtype=np.float64)))


class Uniform(Family):
    """``U(m - a, m + a)``, ``a = sqrt(3 v)``, ``m`` the scheme's location (0 but for a
    one-sided or shifted uniform: JAX's ``uniform(scale)`` is ``U[0, scale)``, ``m = a``)."""

    name, words, support_bound = "uniform", "a uniform", _SQRT3

    def sample(self, scheme: Scheme, fan_in: int, fan_out: int, rng: RNG) -> Array:
        bound = _SQRT3 * scheme.std(fan_in, fan_out)
        m = scheme.value
        return uniform(rng, m - bound, m + bound, (fan_in, fan_out))

    def describe(self, scheme: Scheme) -> str:
        if scheme.value and scheme.rule.mode == "fixed":
            a = _SQRT3 * math.sqrt(scheme.rule.scale)
            return f"uniform on [{scheme.value - a:g}, {scheme.value + a:g})"
        return super().describe(scheme)

    def law(self, n: int | None = None) -> Any:
        from scipy import stats

        return stats.uniform(loc=-_SQRT3, scale=2.0 * _SQRT3)

    def fourth_moment(self, n: int | None = None) -> float:
        return 9.0 / 5.0

    def cdf(self, z: Array, n: int | None = None) -> Array:
        z = np.asarray(z, dtype=np.float64)
        return np.clip((z + _SQRT3) / (2.0 * _SQRT3), 0.0, 1.0)

    def ppf(self, p: Array, n: int | None = None) -> Array:
        return (2.0 * np.asarray(p, dtype=np.float64) - 1.0) * _SQRT3


class TruncatedNormal(Family):
    """``N(0, sigma^2)`` truncated to ``[-2 sigma, 2 sigma]``, ``sigma = sqrt(v) / s``."""

    name, words = "truncated_normal", "a truncated normal"
    support_bound = TRUNCATION / TRUNCATED_NORMAL_STD

    def sample(self, scheme: Scheme, fan_in: int, fan_out: int, rng: RNG) -> Array:
        sigma = scheme.std(fan_in, fan_out) / TRUNCATED_NORMAL_STD
        w = truncated_standard_normal(rng, (fan_in, fan_out), sigma)  # z * sigma, in cache
        if scheme.value:
            w += scheme.value
        return w

    def law(self, n: int | None = None) -> Any:
        from scipy import stats

        return stats.truncnorm(-TRUNCATION, TRUNCATION, scale=1.0 / TRUNCATED_NORMAL_STD)

    def fourth_moment(self, n: int | None = None) -> float:
        return _truncation_constants()[2]

    def cdf(self, z: Array, n: int | None = None) -> Array:
        from scipy import special

        mass, low, _ = _truncation_constants()
        z = np.asarray(z, dtype=np.float64)
        u = (special.ndtr(z * TRUNCATED_NORMAL_STD) - low) / mass
        return np.clip(u, 0.0, 1.0)

    def ppf(self, p: Array, n: int | None = None) -> Array:
        from scipy import special

        mass, low, _ = _truncation_constants()
        p = np.asarray(p, dtype=np.float64)
        return np.asarray(special.ndtri(low + p * mass) / TRUNCATED_NORMAL_STD)


class TruncatedNormalAt(Family):
    """``N(0, sigma^2)`` cut at ``+-c sigma`` for any ``c`` in ``[MIN_CUT, 8)`` (torch's and
    timm's ``trunc_normal_(std=s, a=-c s, b=c s)``): one instance per cut, not registered.

    With ``t ~ N(0, 1)`` truncated to ``[-c, c]``, ``mass = 2 Phi(c) - 1`` and
    ``s_c^2 = Var t = 1 - 2 c phi(c) / mass``, the standardized entry is ``z = t / s_c``:
    ``F(z) = (Phi(s_c z) - Phi(-c)) / mass`` on ``|z| <= c / s_c``,
    ``E z^4 = (3 s_c^2 - 2 c^3 phi(c) / mass) / s_c^4`` (the truncated normal's moments,
    Johnson, Kotz & Balakrishnan 1994, 10.1). ``c = 2`` is the law of :class:`TruncatedNormal`
    (Keras/JAX) and compares equal to it only through :attr:`cut`. Drawn exactly by
    rejection (accepted with probability ``mass``: 0.68 at ``c = 1``, 0.9973 at ``c = 3``):
    draw all, then redraw the entries beyond ``+-c`` round after round.
    """

    name, words = "truncated_normal_at", "a truncated normal"
    #: Smallest cut (in untruncated standard deviations): below it rejection wastes > 1/3.
    MIN_CUT = 1.0
    #: A cut at or beyond this many sd removes < 1.3e-15 of the mass: the normal law.
    MAX_CUT = 8.0

    def __init__(self, cut: float) -> None:
        c = float(cut)
        if not self.MIN_CUT <= c < self.MAX_CUT:
            raise InvalidParameterError(
                f"a truncation at {cut!r} sd: give a cut in [{self.MIN_CUT:g}, "
                f"{self.MAX_CUT:g}) (beyond {self.MAX_CUT:g} sd the law is the normal one)"
            )
        self.cut = c
        self.words = f"a normal cut at +-{c:g} sd"
        self._mass, self._low, self.std_of_cut, self._m4 = _cut_constants(c)
        self.support_bound = c / self.std_of_cut

    def sample(self, scheme: Scheme, fan_in: int, fan_out: int, rng: RNG) -> Array:
        t = truncated_standard_normal_at(rng, (fan_in, fan_out), self.cut)
        t *= scheme.std(fan_in, fan_out) / self.std_of_cut
        if scheme.value:
            t += scheme.value
        return t

    def describe(self, scheme: Scheme) -> str:
        return (
            f"a normal cut at +-{self.cut:g} of its sd (no variance correction), "
            f"{scheme.rule.describe()}"
        )

    def law(self, n: int | None = None) -> Any:
        from scipy import stats

        return stats.truncnorm(-self.cut, self.cut, scale=1.0 / self.std_of_cut)

    def fourth_moment(self, n: int | None = None) -> float:
        return self._m4

    def cdf(self, z: Array, n: int | None = None) -> Array:
        from scipy import special

        z = np.asarray(z, dtype=np.float64)
        u = (special.ndtr(z * self.std_of_cut) - self._low) / self._mass
        return np.clip(u, 0.0, 1.0)

    def ppf(self, p: Array, n: int | None = None) -> Array:
        from scipy import special

        p = np.asarray(p, dtype=np.float64)
        return np.asarray(special.ndtri(self._low + p * self._mass) / self.std_of_cut)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TruncatedNormalAt):
            return self.cut == other.cut
        return super().__eq__(other)

    def __hash__(self) -> int:
        return hash((self.name, self.cut))

    def __str__(self) -> str:
        return f"truncated_normal(cut={self.cut:g} sd)"

    def __repr__(self) -> str:
        return f"<family truncated_normal(cut={self.cut:g} sd)>"


def _haar_n(n: int | None) -> int:
    if n is None or n < 2:
        raise InvalidParameterError(f"the orthogonal entry law needs n >= 2, got {n}")
    return n


class Orthogonal(Family):
    """``gain * Q``, Q Haar; ``Var = gain^2 / max(fan_in, fan_out)``."""

    name, words, is_iid = "orthogonal", "an orthogonal matrix", False

    def variance(self, scheme: Scheme, fan_in: int, fan_out: int) -> float:
        return scheme.rule.scale / max(fan_in, fan_out)

    def mean(self, scheme: Scheme) -> float:
        return 0.0

    def sample(self, scheme: Scheme, fan_in: int, fan_out: int, rng: RNG) -> Array:
        w = haar_orthogonal(rng, fan_in, fan_out)
        w *= math.sqrt(scheme.rule.scale)
        return w

    def describe(self, scheme: Scheme) -> str:
        return f"orthogonal, gain {math.sqrt(scheme.rule.scale):g}"

    def free_entries(self, rows: int, cols: int) -> int:
        """The Stiefel manifold's dimension ``rows cols - k (k + 1) / 2``, ``k = min(rows,
        cols)``: a 2 x 2 rotation has one free entry (its angle), a 1 x 1 none (+-1)."""
        k = min(rows, cols)
        return rows * cols - k * (k + 1) // 2

    def fourth_moment(self, n: int | None = None) -> float:
        m = _haar_n(n)
        return 3.0 * m / (m + 2.0)

    def cdf(self, z: Array, n: int | None = None) -> Array:
        from scipy import special

        m = _haar_n(n)
        z = np.asarray(z, dtype=np.float64)
        x = np.clip(z * z / m, 0.0, 1.0)
        half = 0.5 * special.betainc(0.5, 0.5 * (m - 1), x)
        return np.asarray(0.5 + np.sign(z) * half)

    def ppf(self, p: Array, n: int | None = None) -> Array:
        from scipy import special

        m = _haar_n(n)
        p = np.asarray(p, dtype=np.float64)
        x = special.betaincinv(0.5, 0.5 * (m - 1), np.abs(2.0 * p - 1.0))
        return np.asarray(np.sign(p - 0.5) * np.sqrt(m * x))

    def pit(self, z: Array, fan_in: int, fan_out: int) -> Array:
        """``cdf(z, n)``, ``n = max(fans)``; empty for ``n = 1`` (entries +-1, no continuous
        law)."""
        if max(fan_in, fan_out) < 2:
            return np.empty(0)
        return super().pit(z, fan_in, fan_out)

    def matches_structure(self, matrices: Sequence[Array]) -> bool:
        """Every Gram matrix (of the smaller side) is ``s I`` within ``1e-3`` relative."""
        if not matrices or not all(min(w.shape) >= 2 for w in matrices[:3]):
            return False
        for w in matrices:
            g = w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T
            s = float(np.mean(np.diag(g)))
            if s <= 0 or float(np.max(np.abs(g / s - np.eye(g.shape[0])))) >= 1e-3:
                return False
        return True


class Sparse(Family):
    """``torch.nn.init.sparse_(tensor, sparsity, std)``: exact zeros plus ``N(0, s^2)``.

    torch fills its ``(out, in)`` tensor with ``N(0, std^2)`` and then, in each column (one
    input's weights: a *row* of the ``in_out`` matrix), sets ``k = ceil(sparsity * rows)``
    entries at positions drawn by ``randperm`` to 0, ``rows = fan_out``. Here ``s^2`` is the
    rule's variance (``std^2``, fixed in torch) and, with ``p = k / fan_out``:

    * ``Var W_ij = s^2 (1 - p)`` (the exact variance, so ``z = w / sqrt(Var)``);
    * ``z ~ p delta_0 + (1 - p) N(0, 1/(1 - p))``: ``F(z) = p 1[z >= 0] + (1 - p)
      Phi(z sqrt(1 - p))``, ``E z^4 = 3 / (1 - p)``; the law depends on ``fan_out``
      (:meth:`law_parameter`), so the family is not i.i.d.: one input's entries hold exactly
      ``k`` zeros, inputs are independent;
    * the nonzero values are i.i.d. ``N(0, s^2)`` whatever the positions, so ``sum z`` over
      one input has variance ``fan_out`` exactly (the mean test stays exact) and
      ``z sqrt(1 - p)`` over the nonzero entries is i.i.d. ``N(0, 1)`` (:attr:`component`,
      scipy's ``norm``): :meth:`pit` transforms that part, exactly uniform; the zeros are
      counted exactly, input by input, by the ``zeros per input`` check.

    Parametrized (one instance per ``sparsity``, made by :func:`weight_init.schemes.sparse`),
    so it is not in the registry of parameter-free laws; two instances are equal when their
    sparsities are.
    """

    name, words, is_iid, atom = "sparse", "a sparse normal (exact zeros plus a normal)", False, 0.0

    def __init__(self, sparsity: float) -> None:
        s = float(sparsity)
        if not 0.0 <= s < 1.0:
            raise InvalidParameterError(f"sparsity must be in [0, 1), got {sparsity!r}")
        self.sparsity = s
        self.component = NORMAL  # the law of the nonzero entries, standardized

    def zeros(self, fan_out: int) -> int:
        """``k = ceil(sparsity * fan_out)`` zeros per input (torch's ``math.ceil``)."""
        return math.ceil(self.sparsity * fan_out)

    def zero_fraction(self, fan_out: int) -> float:
        """``p = k / fan_out``."""
        return self.zeros(fan_out) / fan_out

    def variance(self, scheme: Scheme, fan_in: int, fan_out: int) -> float:
        return scheme.rule.variance(fan_in, fan_out) * (1.0 - self.zero_fraction(fan_out))

    def mean(self, scheme: Scheme) -> float:
        return 0.0

    def law_parameter(self, fan_in: int, fan_out: int) -> int:
        return fan_out

    def sample(self, scheme: Scheme, fan_in: int, fan_out: int, rng: RNG) -> Array:
        w = standard_normal(rng, (fan_in, fan_out))
        w *= math.sqrt(scheme.rule.variance(fan_in, fan_out))
        k = self.zeros(fan_out)
        if k:  # k positions per row, uniformly at random (the first k of a random order)
            order = np.argsort(uniform(rng, 0.0, 1.0, (fan_in, fan_out)), axis=1)[:, :k]
            np.put_along_axis(w, order, 0.0, axis=1)
        return w

    def describe(self, scheme: Scheme) -> str:
        return (
            f"sparse: ceil({self.sparsity:g} fan_out) zeros per input, the rest normal with "
            f"{scheme.rule.describe()}"
        )

    def law(self, n: int | None = None) -> Any:
        """None: a mixture with an atom has no frozen scipy law; see :attr:`component`."""
        return None

    def _p(self, n: int | None) -> float:
        if n is None or n < 1:
            raise InvalidParameterError(f"the sparse entry law needs fan_out >= 1, got {n}")
        return self.zero_fraction(n)

    def fourth_moment(self, n: int | None = None) -> float:
        p = self._p(n)
        return 3.0 / (1.0 - p) if p < 1.0 else math.nan

    def cdf(self, z: Array, n: int | None = None) -> Array:
        from scipy import special

        p = self._p(n)
        z = np.asarray(z, dtype=np.float64)
        return np.asarray(p * (z >= 0) + (1.0 - p) * special.ndtr(z * math.sqrt(1.0 - p)))

    def ppf(self, q: Array, n: int | None = None) -> Array:
        from scipy import special

        p = self._p(n)
        q = np.asarray(q, dtype=np.float64)
        half = 0.5 * (1.0 - p)  # F(0-) = (1 - p)/2, F(0) = (1 + p)/2
        below = special.ndtri(np.clip(q / (1.0 - p), 0.0, 1.0))
        above = special.ndtri(np.clip((q - p) / (1.0 - p), 0.0, 1.0))
        out = np.where(q < half, below, np.where(q > half + p, above, 0.0))
        return np.asarray(out / math.sqrt(1.0 - p))

    def pit(self, z: Array, fan_in: int, fan_out: int) -> Array:
        """``Phi(z sqrt(1 - p))`` of the nonzero entries: exactly U(0, 1) under the scheme."""
        from scipy import special

        p = self.zero_fraction(fan_out)
        nz = np.ravel(z)
        nz = nz[nz != 0]
        return np.asarray(special.ndtr(nz * math.sqrt(1.0 - p)), dtype=np.float64)

    def zeros_per_input(self, w: Array) -> Array:
        """Exact zeros in each input's weights (rows of ``(..., fan_in, fan_out)`` arrays)."""
        return np.count_nonzero(w == 0, axis=-1)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sparse):
            return self.sparsity == other.sparsity
        return super().__eq__(other)

    def __hash__(self) -> int:
        return hash((self.name, self.sparsity))

    def __repr__(self) -> str:
        return f"<family sparse({self.sparsity:g})>"


CONSTANT, NORMAL, UNIFORM, TRUNCATED_NORMAL, ORTHOGONAL = (
    Constant(),
    Normal(),
    Uniform(),
    TruncatedNormal(),
    Orthogonal(),
)

_REGISTRY: dict[str, Family] = {
    f.name: f for f in (CONSTANT, NORMAL, UNIFORM, TRUNCATED_NORMAL, ORTHOGONAL)
}

_BUILT_IN = frozenset(_REGISTRY)

#: Read-only view of the registered families, by name, in registration order.
FAMILIES: Mapping[str, Family] = MappingProxyType(_REGISTRY)


def register_family(family: Family) -> Family:
    """Add ``family`` to the registry (its name must be new); returns it.

    Parameters
    ----------
    family : Family
        A named :class:`Family` instance.

    Returns
    -------
    Family
        ``family`` itself.

    Raises
    ------
    InvalidParameterError
        ``family`` is not a named :class:`Family`, or its name is already registered.
    """
    if not isinstance(family, Family) or not family.name:
        raise InvalidParameterError(f"a family must be a named Family instance, got {family!r}")
    if family.name in _REGISTRY:
        raise InvalidParameterError(f"family {family.name!r} is already registered")
    _REGISTRY[family.name] = family
    return family


def unregister_family(name: str) -> None:
    """Remove a family added by :func:`register_family` (the built-in five stay).

    Parameters
    ----------
    name : str
        The family's name.

    Raises
    ------
    InvalidParameterError
        The family is built in.
    UnknownFamilyError
        No family is registered under ``name``.

    Examples
    --------
    >>> from weight_init.families import unregister_family
    >>> unregister_family("normal")
    Traceback (most recent call last):
        ...
    weight_init.errors.InvalidParameterError: family 'normal' is built in and cannot be removed
    """
    if name in _BUILT_IN:
        raise InvalidParameterError(f"family {name!r} is built in and cannot be removed")
    if _REGISTRY.pop(name, None) is None:
        raise UnknownFamilyError(f"unknown family {name!r}; choose one of {', '.join(_REGISTRY)}")


def get_family(name: str | Family) -> Family:
    """A registered family by name (a :class:`Family` is returned unchanged).

    Parameters
    ----------
    name : str or Family
        A registered family's name (``constant``, ``normal``, ``uniform``,
        ``truncated_normal``, ``orthogonal``, or one added by :func:`register_family`), or a
        family.

    Returns
    -------
    Family
        The family.

    Raises
    ------
    UnknownFamilyError
        No family is registered under ``name``.

    Examples
    --------
    >>> from weight_init.families import TruncatedNormalAt, get_family
    >>> get_family("uniform")
    <family uniform>
    >>> cut = TruncatedNormalAt(3)
    >>> get_family(cut) is cut, round(cut.std_of_cut, 4)
    (True, 0.9866)
    """
    if isinstance(name, Family):
        return name
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise UnknownFamilyError(
            f"unknown family {name!r}; choose one of {', '.join(_REGISTRY)}"
        ) from None


def iid_families() -> tuple[Family, ...]:
    """The registered families with independent, fan-independent standardized entries.

    They are the ones :func:`weight_init.schemes.variance_scaling` accepts and the
    conformance statistics pool across shapes.

    Returns
    -------
    tuple of Family
        The i.i.d. families, in registration order.

    Examples
    --------
    >>> from weight_init.families import iid_families
    >>> [f.name for f in iid_families()]
    ['normal', 'uniform', 'truncated_normal']
    """
    return tuple(f for f in _REGISTRY.values() if f.is_iid)


def ks_distance(a: Family, b: Family, grid: int = 20001) -> float:
    """``sup_z |F_a(z) - F_b(z)|`` between two fan-independent standardized laws.

    Parameters
    ----------
    a, b : Family
        Two families with a fan-independent ``cdf``.
    grid : int, default 20001
        The number of points of ``z`` in [-4, 4] the supremum is taken over.

    Returns
    -------
    float
        The Kolmogorov-Smirnov distance.

    Examples
    --------
    >>> from weight_init.families import get_family, ks_distance
    >>> round(ks_distance(get_family("normal"), get_family("uniform")), 4)
    0.0572
    """
    z = np.linspace(-4.0, 4.0, grid)
    return float(np.max(np.abs(a.cdf(z) - b.cdf(z))))
