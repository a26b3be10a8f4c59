"""Identify what an initializer does: its variance rule, its family, the closest registered scheme.

Over a design of shapes k with fans ``(fi_k, fo_k)`` and ``n_k`` entries, the
second moment ``v_k = mean(w^2)`` estimates ``Var[W_ij]``. Two fits:

* **log-linear fan rule**: ``log v_k = log c + a log fi_k + b log fo_k`` by weighted
  least squares, weights ``n_k / (kappa - 1)`` (the delta-method variance of
  ``log v_k`` is ``(kappa - 1)/n_k``, ``kappa = E w^4 / (E w^2)^2`` estimated from the
  data). LeCun/He rules give ``a = -1, b = 0``; fan_out rules ``a = 0, b = -1``;
  fan_avg is not log-linear and shows up between the two.
* **registered schemes**: for each scheme S of the detected family, the ratios
  ``rho_k = v_k / v_S(fi_k, fo_k)`` are pooled, ``c_S = sum n_k rho_k / sum n_k``
  (the squared gain that would make S fit), and their heterogeneity
  ``X^2 = sum n_k (rho_k / c_S - 1)^2 / (kappa - 1) ~ chi^2(K - 1)`` says whether S's
  fan rule fits at all. The closest scheme is the one whose rule fits (p > 1e-6)
  with ``c_S`` nearest 1 (``|log c_S|``), else the one with the smallest ``X^2``.

The family is read from the shape of the law, independently of the rule: each
shape's entries are standardized by their own ``sqrt(v_k)``, pooled, and compared
by Kolmogorov-Smirnov distance with the standardized normal, uniform and
truncated normal; all-equal entries are ``constant``; matrices whose Gram matrix
(of the smaller side) is a multiple of the identity are ``orthogonal``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from weight_init.families import FAMILIES, Family, iid_families
from weight_init.layouts import check_matrix_layout, renamed_layout_keyword
from weight_init.properties.conformance._sampling import (
    DEFAULT_SHAPES,
    Draw,
    calls_per_shape,
    draw_design,
)
from weight_init.properties.conformance._tails import chi2_sf, normal_two_sided
from weight_init.schemes import NOTES_SCHEMES, SCHEMES, Scheme, variance_scaling

#: Entries an identification draws by default (0.4% relative error on each v_k).
DEFAULT_ENTRIES = 200_000
#: Heterogeneity p-value above which a scheme's fan rule is said to fit.
RULE_FITS_P = 1e-6


@dataclass(frozen=True)
class ShapeMoments:
    """Pooled moments of the entries drawn at one shape."""

    fan_in: int
    fan_out: int
    n: int
    m2: float
    m4: float


def shape_moments(
    draws: Sequence[Draw], layout: str, center: float | Mapping[tuple[int, int], float] = 0.0
) -> list[ShapeMoments]:
    """Per-shape ``mean((w - c)^2)`` and ``mean((w - c)^4)`` over the well-shaped, finite
    draws; ``center`` ``c`` is one number or one per shape (default 0: raw moments)."""
    acc: dict[tuple[int, int], list[float]] = {}
    for d in draws:
        if not d.shape_ok(layout) or d.raw.size == 0:
            continue
        w = d.in_out(layout)
        w = w[np.isfinite(w)]
        if w.size == 0:
            continue
        c = center.get((d.fan_in, d.fan_out), 0.0) if isinstance(center, Mapping) else center
        if c:
            w = w - c
        w2 = w * w
        a = acc.setdefault((d.fan_in, d.fan_out), [0.0, 0.0, 0.0])
        a[0] += w.size
        a[1] += float(w2.sum())
        a[2] += float((w2 * w2).sum())
    return [
        ShapeMoments(fi, fo, int(n), s2 / n, s4 / n) for (fi, fo), (n, s2, s4) in acc.items() if n
    ]


@dataclass(frozen=True)
class Location:
    """Where the entries sit: their pooled mean in per-shape standard deviations,
    ``t = sum_k n_k mean_k / sd_k / sqrt(N)`` (N(0, 1) for zero-mean entries whose calls are
    independent and entries uncorrelated: the registered schemes), its two-sided p-value, the
    per-shape means, and the sign of the support (``one_sided``: every entry >= 0 or every
    entry <= 0)."""

    mean_sd: float
    p_value: float
    means: Mapping[tuple[int, int], float]
    minimum: float
    maximum: float

    @property
    def nonzero(self) -> bool:
        """The mean is not 0 (p below :data:`RULE_FITS_P`)."""
        return self.p_value < RULE_FITS_P

    @property
    def one_sided(self) -> bool:
        return self.nonzero and (self.minimum >= 0.0 or self.maximum <= 0.0)

    def describe(self) -> str:
        side = ""
        if self.one_sided:
            side = "every entry >= 0" if self.minimum >= 0.0 else "every entry <= 0"
            side = f"; one-sided support ({side}, range [{self.minimum:.4g}, {self.maximum:.4g}])"
        p = f"p = {self.p_value:.2g}" if self.p_value > 0 else "p < 1e-300"
        return f"nonzero mean: {self.mean_sd:+.3g} sd ({p}){side}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean_sd": self.mean_sd,
            "p_value": self.p_value,
            "nonzero": self.nonzero,
            "one_sided": self.one_sided,
            "minimum": self.minimum,
            "maximum": self.maximum,
        }


def locate(draws: Sequence[Draw], layout: str) -> Location | None:
    """The :class:`Location` of the well-shaped finite draws (None when there are none)."""
    acc: dict[tuple[int, int], list[float]] = {}
    lo, hi = math.inf, -math.inf
    for d in draws:
        if not d.shape_ok(layout) or d.raw.size == 0:
            continue
        w = d.in_out(layout)
        w = w[np.isfinite(w)]
        if w.size == 0:
            continue
        lo, hi = min(lo, float(w.min())), max(hi, float(w.max()))
        a = acc.setdefault((d.fan_in, d.fan_out), [0.0, 0.0, 0.0])
        a[0] += w.size
        a[1] += float(w.sum())
        a[2] += float((w * w).sum())
    t_sum, n_tot = 0.0, 0
    means: dict[tuple[int, int], float] = {}
    for key, (n, s1, s2) in acc.items():
        mean = s1 / n
        var = s2 / n - mean * mean
        means[key] = mean
        if var > 0:
            t_sum += n * mean / math.sqrt(var)
            n_tot += int(n)
    if not n_tot:
        return None
    t = t_sum / math.sqrt(n_tot)
    return Location(t / math.sqrt(n_tot), normal_two_sided(t), means, lo, hi)


def kurtosis(moments: Sequence[ShapeMoments]) -> float:
    """Pooled ``E w^4 / (E w^2)^2`` (per shape, weighted by entries)."""
    num = sum(m.n * m.m4 / m.m2**2 for m in moments if m.m2 > 0)
    den = sum(m.n for m in moments if m.m2 > 0)
    return num / den if den else math.nan


@dataclass(frozen=True)
class FanFit:
    """``Var[W_ij] ~ c * fan_in^a * fan_out^b`` with standard errors."""

    c: float
    a: float
    b: float
    se_log_c: float
    se_a: float
    se_b: float

    def describe(self) -> str:
        return (
            f"variance ~ {self.c:.4g} * fan_in^{self.a:+.3f} * fan_out^{self.b:+.3f} "
            f"(se {self.se_a:.3f}, {self.se_b:.3f})"
        )

    def to_dict(self) -> dict[str, float]:
        return {k: float(getattr(self, k)) for k in ("c", "a", "b", "se_log_c", "se_a", "se_b")}


def fit_fan_rule(moments: Sequence[ShapeMoments]) -> FanFit | None:
    """Weighted least squares of ``log v`` on ``(1, log fan_in, log fan_out)``."""
    ms = [m for m in moments if m.m2 > 0]
    if len(ms) < 3:
        return None
    kappa = kurtosis(ms)
    x = np.array([[1.0, math.log(m.fan_in), math.log(m.fan_out)] for m in ms])
    y = np.array([math.log(m.m2) for m in ms])
    w = np.array([m.n for m in ms], dtype=np.float64) / max(kappa - 1.0, 1e-12)
    xtw = x.T * w
    try:
        cov = np.linalg.inv(xtw @ x)
    except np.linalg.LinAlgError:
        return None
    beta = cov @ (xtw @ y)
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    return FanFit(float(math.exp(beta[0])), float(beta[1]), float(beta[2]), *map(float, se))


@dataclass(frozen=True)
class SchemeMatch:
    """How well scheme ``name``'s rule explains the per-shape variances (see module doc)."""

    name: str
    ratio: float
    ratio_se: float
    chi2: float
    df: int
    p_value: float

    @property
    def gain(self) -> float:
        return math.sqrt(self.ratio)

    @property
    def rule_fits(self) -> bool:
        return self.p_value > RULE_FITS_P

    @property
    def exact(self) -> bool:
        """Rule fits and the squared gain is 1 within 4 standard errors (and 2%)."""
        return self.rule_fits and abs(self.ratio - 1.0) <= max(4.0 * self.ratio_se, 0.02)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ratio": self.ratio,
            "gain": self.gain,
            "chi2": self.chi2,
            "df": self.df,
            "p_value": self.p_value,
            "exact": self.exact,
        }


def match_scheme(moments: Sequence[ShapeMoments], scheme: Scheme, kappa: float) -> SchemeMatch:
    """Pooled variance ratio of ``moments`` to ``scheme``'s rule and its heterogeneity."""
    ms = [m for m in moments if scheme.variance(m.fan_in, m.fan_out) > 0]
    n = np.array([m.n for m in ms], dtype=np.float64)
    rho = np.array([m.m2 / scheme.variance(m.fan_in, m.fan_out) for m in ms])
    c = float((n * rho).sum() / n.sum())
    k1 = max(kappa - 1.0, 1e-12)
    se = c * math.sqrt(k1 / n.sum())
    chi2 = float((n * (rho / c - 1.0) ** 2).sum() / k1) if c > 0 else math.inf
    df = max(len(ms) - 1, 1)
    return SchemeMatch(scheme.name, c, se, chi2, df, chi2_sf(chi2, df))


def rank_schemes(
    moments: Sequence[ShapeMoments], family: Family, schemes: Sequence[Scheme] | None = None
) -> list[SchemeMatch]:
    """Registered schemes of ``family``, best explanation first (see module doc)."""
    pool = [s for s in (schemes or list(SCHEMES.values())) if s.family == family]
    kappa = kurtosis(moments)
    matches = [match_scheme(moments, s, kappa) for s in pool]
    return sorted(matches, key=lambda m: (not m.rule_fits, abs(math.log(m.ratio)), m.chi2))


def family_distances(
    draws: Sequence[Draw], layout: str, means: Mapping[tuple[int, int], float] | None = None
) -> dict[str, float]:
    """KS distance of the per-shape self-standardized entries (centred at the per-shape
    ``means`` when given) to each fan-independent law."""
    means = means or {}
    moments = {(m.fan_in, m.fan_out): m for m in shape_moments(draws, layout, means)}
    parts = []
    for d in draws:
        m = moments.get((d.fan_in, d.fan_out))
        if m is None or m.m2 <= 0 or not d.shape_ok(layout):
            continue
        w = d.in_out(layout).ravel()
        w = w[np.isfinite(w)] - means.get((d.fan_in, d.fan_out), 0.0)
        parts.append(w / math.sqrt(m.m2))
    if not parts:
        return {}
    z = np.sort(np.concatenate(parts))
    return {f.name: ks_statistic(z, f.cdf) for f in iid_families()}


def ks_statistic(z_sorted: NDArray[np.float64], cdf: Callable[[Any], Any]) -> float:
    """Kolmogorov-Smirnov ``D`` of sorted data against a CDF."""
    n = z_sorted.size
    u = np.asarray(cdf(z_sorted), dtype=np.float64)
    i = np.arange(1, n + 1, dtype=np.float64)
    return float(max(np.max(i / n - u), np.max(u - (i - 1) / n)))


def detect_family(
    draws: Sequence[Draw], layout: str, means: Mapping[tuple[int, int], float] | None = None
) -> tuple[Family | None, dict[str, float]]:
    """The first registered family whose exact structure the finite draws show (constant,
    orthogonal), else the i.i.d. family whose law (about the per-shape ``means``) is closest;
    None when nothing is drawn."""
    ws = [d.in_out(layout) for d in draws if d.shape_ok(layout) and d.raw.size]
    ws = [w for w in ws if np.all(np.isfinite(w))]
    for family in FAMILIES.values():
        if family.matches_structure(ws):
            return family, {}
    dist = family_distances(draws, layout, means)
    if not dist:
        return None, {}
    return FAMILIES[min(dist, key=lambda f: dist[f])], dist


def _twins(best: SchemeMatch, matches: Sequence[SchemeMatch]) -> list[str]:
    """Registered schemes with the same law as ``best`` under another name (the notes'
    ``xavier`` is ``lecun_normal``)."""
    s = SCHEMES.get(best.name)
    if s is None:
        return []
    out = []
    for m in matches:
        t = SCHEMES.get(m.name)
        if m.name != best.name and t is not None and (t.family, t.rule) == (s.family, s.rule):
            out.append(m.name)
    return out


def _named(name: str) -> str:
    """A scheme's name, marked when it is the notes' own (not the field's) name."""
    return f"{name} (the notes' name)" if name in NOTES_SCHEMES else name


@dataclass(frozen=True)
class Identification:
    """What an initializer does, estimated from its draws by :func:`identify`.

    Attributes
    ----------
    family : Family or None
        The family the standardized entries look like (``normal``, ``uniform``,
        ``truncated_normal``, ``constant``, ``orthogonal``), None when none was identified.
    family_distances : dict of str to float
        The Kolmogorov-Smirnov distance of the standardized entries to each standardized law.
    fan_fit : FanFit or None
        The log-linear fit ``Var[W_ij] ~ c * fan_in^a * fan_out^b`` with standard errors.
    matches : list of SchemeMatch
        The registered schemes of the family, best first: each one's squared gain ``ratio``
        and the heterogeneity ``chi2`` of its fan rule.
    n_entries : int
        The number of entries the estimates rest on.
    location : Location or None, default None
        Where the entries sit: their pooled mean in per-shape standard deviations and its
        p-value.
    family_name : str
        The family's name, ``unknown`` when none was identified.
    best : SchemeMatch or None
        The best-ranked registered scheme, whether or not its rule fits.
    rule_fits : bool
        A registered scheme explains the draws: its fan rule fits and the entries have its
        mean (every registered scheme's is 0).
    closest : SchemeMatch or None
        The registered scheme that fits (up to a gain), None when no rule fits.
    same_as : list of str
        Other registered names of the closest scheme's law.

    Examples
    --------
    >>> import numpy as np
    >>> from weight_init import identify
    >>> def init(fan_in, fan_out, rng):
    ...     return 0.5 * rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)
    >>> found = identify(init, seed=0)
    >>> found.family_name, found.closest.name, round(found.closest.gain, 2)
    ('normal', 'xavier', 0.5)
    >>> found.same_as
    ['lecun_normal']
    """

    family: Family | None
    family_distances: dict[str, float]
    fan_fit: FanFit | None
    matches: list[SchemeMatch]
    n_entries: int
    location: Location | None = None

    @property
    def family_name(self) -> str:
        """The family's name, ``unknown`` when none was identified."""
        return "unknown" if self.family is None else self.family.name

    @property
    def best(self) -> SchemeMatch | None:
        """The best-ranked registered scheme, whether or not its rule fits (see
        :attr:`rule_fits`)."""
        return self.matches[0] if self.matches else None

    @property
    def nonzero_mean(self) -> bool:
        """The entries' mean is not 0 (its location test rejects at p below 1e-6)."""
        return self.location is not None and self.location.nonzero

    @property
    def rule_fits(self) -> bool:
        """A registered scheme explains the draws: its fan rule fits and the entries have
        its mean (every registered scheme's is 0)."""
        return self.best is not None and self.best.rule_fits and not self.nonzero_mean

    @property
    def closest(self) -> SchemeMatch | None:
        """The registered scheme that fits (up to a gain), None when no rule fits."""
        return self.best if self.rule_fits else None

    @property
    def same_as(self) -> list[str]:
        """Other registered names of the closest scheme's law."""
        c = self.closest
        return [] if c is None else _twins(c, self.matches)

    def expression(self) -> str:
        """A scheme expression for the draws when their mean rules out every registered scheme.

        Returns
        -------
        str
            A scheme expression (:mod:`weight_init.scheme_expressions`) stating a fixed-variance
            law with the observed mean, when no registered scheme fits because of the mean and
            the variance does not depend on the fans; "" otherwise.
        """
        fam, loc = self.family, self.location
        if not self.nonzero_mean or loc is None or fam not in ("uniform", "normal"):
            return ""
        fixed = next((m for m in self.matches if m.name == "fixed"), None)
        if fixed is None or not fixed.rule_fits:
            return ""
        sd = math.sqrt(fixed.ratio)
        mean = float(np.mean(list(loc.means.values())))
        if fam == "uniform":
            a = math.sqrt(3.0) * sd
            lo = 0.0 if loc.minimum >= 0.0 and abs(mean - a) < 0.01 * a else mean - a
            return f"uniform(low={lo:.3g}, high={mean + a:.3g})"
        return f"normal(std={sd:.3g}, mean={mean:.3g})"

    def describe(self) -> str:
        """The identification in words: the family with its KS distances, the location, the
        fan-rule fit, the closest scheme and its gain.

        Returns
        -------
        str
            One finding per line.
        """
        lines = [f"family: {self.family_name}"]
        if self.n_entries == 0:
            lines[0] += (
                ": no finite entries of the expected shape to identify (every call returned "
                "NaN/inf or a wrongly shaped array)"
            )
        if self.family_distances:
            ds = ", ".join(f"{f} {d:.4f}" for f, d in sorted(self.family_distances.items()))
            about = " (about its mean)" if self.nonzero_mean else ""
            lines[0] += f" (KS distance to each standardized law{about}: {ds})"
        if self.location is not None and self.location.nonzero:
            lines.append(self.location.describe())
        if self.fan_fit is not None:
            lines.append(self.fan_fit.describe())
        best = self.best
        if best is not None and self.nonzero_mean:
            expr = self.expression()
            lines.append(
                "no registered rule fits: every registered scheme has mean 0"
                + (f"; as an expression: {expr}" if expr else "")
            )
        elif best is not None:
            s = SCHEMES.get(best.name)
            what = f": {s.description}" if s is not None and s.description else ""
            twins = "".join(f" = {t}" for t in self.same_as)
            named = _named(best.name) + twins
            if best.exact:
                lines.append(f"closest scheme: {named} (gain 1 within error){what}")
            elif best.rule_fits:
                lines.append(
                    f"closest scheme: {named} with gain {best.gain:.4f} "
                    f"(variance {best.ratio:.4f}x its rule){what}"
                )
            else:
                lines.append(
                    f"no registered rule fits (best: {best.name}, heterogeneity "
                    f"chi2 {best.chi2:.1f} on {best.df} df)"
                )
            for m in self.matches[1:4]:
                if m.rule_fits and m.name not in self.same_as:
                    lines.append(f"  also: {m.name} with gain {m.gain:.4f}")
        lines.append(f"({self.n_entries} entries)")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON form of the identification.

        Returns
        -------
        dict
            ``closest_scheme`` and ``gain`` only when ``rule_fits`` (else None; the ranked
            ``matches`` keep every scheme's fit).
        """
        c = self.closest
        return {
            "family": self.family_name,
            "family_distances": self.family_distances,
            "fan_fit": None if self.fan_fit is None else self.fan_fit.to_dict(),
            "rule_fits": self.rule_fits,
            "closest_scheme": None if c is None else c.name,
            "same_as": self.same_as,
            "gain": None if c is None else c.gain,
            "location": None if self.location is None else self.location.to_dict(),
            "expression": self.expression() or None,
            "matches": [m.to_dict() for m in self.matches if m.name in SCHEMES],
            "n_entries": self.n_entries,
        }


def identify_draws(draws: Sequence[Draw], layout: str) -> Identification:
    """:class:`Identification` from draws already made (no new calls); moments are taken
    about the per-shape means when the mean is not 0."""
    loc = locate(draws, layout)
    means = loc.means if loc is not None and loc.nonzero else None
    family, dists = detect_family(draws, layout, means)
    moments = shape_moments(draws, layout, means or 0.0)
    fit = fit_fan_rule(moments)
    matches: list[SchemeMatch] = []
    if family is not None and family.is_random:
        matches = rank_schemes(moments, family)
        if means and family.is_iid:  # a fixed-variance law about the mean, for expression()
            matches.append(
                match_scheme(
                    moments,
                    variance_scaling(1.0, "fixed", family, name="fixed"),
                    kurtosis(moments),
                )
            )
    n = sum(m.n for m in moments)
    return Identification(family, dists, fit, matches, n, loc)


@renamed_layout_keyword
def identify(
    fn: Callable[..., Any],
    layout: str = "in_out",
    *,
    seed: int = 0,
    shapes: Sequence[tuple[int, int]] = DEFAULT_SHAPES,
    n_entries: int = DEFAULT_ENTRIES,
) -> Identification:
    """Draw from ``fn`` over ``shapes`` and estimate its rule, family and closest scheme.

    Over a design of shapes k with fans ``(fi_k, fo_k)`` and ``n_k`` entries, the second moment
    ``v_k = mean(w^2)`` estimates ``Var[W_ij]``; see Notes for the fits.

    Parameters
    ----------
    fn : callable
        The initializer, ``fn(fan_in, fan_out)`` returning an array laid out by ``layout``,
        seeded through an ``rng=`` or ``seed=`` keyword if it declares one, else through
        global state.
    layout : {"in_out", "out_in"}, default "in_out"
        The layout of ``fn``'s arrays: ``(fan_in, fan_out)`` or ``(fan_out, fan_in)``.
    seed : int, default 0
        The seed of the calls.
    shapes : sequence of (int, int), optional
        The ``(fan_in, fan_out)`` design (default: the conformance check's fixed shapes).
    n_entries : int, default 200000
        The number of entries to draw (0.4% relative error on each ``v_k``).

    Returns
    -------
    Identification
        The family, the fan-rule fit and the registered schemes ranked by fit.

    Raises
    ------
    InvalidParameterError
        An unknown ``layout``.
    InitializerCallError
        A call of ``fn`` raises.

    See Also
    --------
    check_initializer : the verdict against a claimed scheme, which includes this
        identification.

    Notes
    -----
    * **log-linear fan rule**: ``log v_k = log c + a log fi_k + b log fo_k`` by weighted least
      squares, weights ``n_k / (kappa - 1)`` (the delta-method variance of ``log v_k`` is
      ``(kappa - 1)/n_k``, ``kappa = E w^4 / (E w^2)^2`` estimated from the data). LeCun/He
      rules give ``a = -1, b = 0``; fan_out rules ``a = 0, b = -1``; fan_avg is not
      log-linear and shows up between the two.
    * **registered schemes**: for each scheme S of the detected family, the ratios
      ``rho_k = v_k / v_S(fi_k, fo_k)`` are pooled, ``c_S = sum n_k rho_k / sum n_k`` (the
      squared gain that would make S fit), and their heterogeneity
      ``X^2 = sum n_k (rho_k / c_S - 1)^2 / (kappa - 1) ~ chi^2(K - 1)`` says whether S's fan
      rule fits at all. The closest scheme is the one whose rule fits (p > 1e-6) with ``c_S``
      nearest 1 (``|log c_S|``), else the one with the smallest ``X^2``.
    * **family**: read from the shape of the law, independently of the rule: each shape's
      entries are standardized by their own ``sqrt(v_k)``, pooled, and compared by
      Kolmogorov-Smirnov distance with the standardized normal, uniform and truncated normal;
      all-equal entries are ``constant``; matrices whose Gram matrix (of the smaller side) is
      a multiple of the identity are ``orthogonal``.

    Examples
    --------
    >>> import numpy as np
    >>> from weight_init import identify
    >>> def init(fan_in, fan_out, rng):
    ...     return rng.uniform(-1, 1, (fan_in, fan_out)) * np.sqrt(6 / (fan_in + fan_out))
    >>> found = identify(init, seed=0)
    >>> found.family_name, found.closest.name, found.rule_fits
    ('uniform', 'glorot_uniform', True)
    >>> round(found.fan_fit.a, 1), round(found.fan_fit.b, 1)
    (-0.7, -0.7)
    """
    conv = check_matrix_layout(layout)
    counts = calls_per_shape(shapes, n_entries)
    draws = draw_design(fn, shapes, counts, seed)
    return identify_draws(draws, conv)
