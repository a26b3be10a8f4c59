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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from weight_init.families import FAMILIES, Family, iid_families
from weight_init.layouts import check_convention
from weight_init.properties.sampling import (
    DEFAULT_SHAPES,
    Draw,
    calls_per_shape,
    draw_design,
)
from weight_init.properties.tails import chi2_sf
from weight_init.schemes import SCHEMES, Scheme

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


def shape_moments(draws: Sequence[Draw], convention: str) -> list[ShapeMoments]:
    """Per-shape ``mean(w^2)`` and ``mean(w^4)`` over the well-shaped, finite draws."""
    acc: dict[tuple[int, int], list[float]] = {}
    for d in draws:
        if not d.shape_ok(convention) or d.raw.size == 0:
            continue
        w = d.in_out(convention)
        w = w[np.isfinite(w)]
        if w.size == 0:
            continue
        w2 = w * w
        a = acc.setdefault((d.fan_in, d.fan_out), [0.0, 0.0, 0.0])
        a[0] += w.size
        a[1] += float(w2.sum())
        a[2] += float((w2 * w2).sum())
    return [
        ShapeMoments(fi, fo, int(n), s2 / n, s4 / n) for (fi, fo), (n, s2, s4) in acc.items() if n
    ]


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


def family_distances(draws: Sequence[Draw], convention: str) -> dict[str, float]:
    """KS distance of the per-shape self-standardized entries to each fan-independent law."""
    moments = {(m.fan_in, m.fan_out): m for m in shape_moments(draws, convention)}
    parts = []
    for d in draws:
        m = moments.get((d.fan_in, d.fan_out))
        if m is None or m.m2 <= 0 or not d.shape_ok(convention):
            continue
        w = d.in_out(convention).ravel()
        parts.append(w[np.isfinite(w)] / math.sqrt(m.m2))
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


def detect_family(draws: Sequence[Draw], convention: str) -> tuple[Family | None, dict[str, float]]:
    """The first registered family whose exact structure the finite draws show (constant,
    orthogonal), else the i.i.d. family whose law is closest; None when nothing is drawn."""
    ws = [d.in_out(convention) for d in draws if d.shape_ok(convention) and d.raw.size]
    ws = [w for w in ws if np.all(np.isfinite(w))]
    for family in FAMILIES.values():
        if family.matches_structure(ws):
            return family, {}
    dist = family_distances(draws, convention)
    if not dist:
        return None, {}
    return FAMILIES[min(dist, key=lambda f: dist[f])], dist


@dataclass(frozen=True)
class Identification:
    """What an initializer does, estimated from its draws."""

    family: Family | None
    family_distances: dict[str, float]
    fan_fit: FanFit | None
    matches: list[SchemeMatch]
    n_entries: int

    @property
    def family_name(self) -> str:
        """The family's name, ``unknown`` when none was identified."""
        return "unknown" if self.family is None else self.family.name

    @property
    def best(self) -> SchemeMatch | None:
        return self.matches[0] if self.matches else None

    def describe(self) -> str:
        lines = [f"family: {self.family_name}"]
        if self.n_entries == 0:
            lines[0] += (
                ": no finite entries of the expected shape to identify (every call returned "
                "NaN/inf or a wrongly shaped array)"
            )
        if self.family_distances:
            ds = ", ".join(f"{f} {d:.4f}" for f, d in sorted(self.family_distances.items()))
            lines[0] += f" (KS distance to each standardized law: {ds})"
        if self.fan_fit is not None:
            lines.append(self.fan_fit.describe())
        best = self.best
        if best is not None:
            s = SCHEMES.get(best.name)
            what = f": {s.description}" if s is not None and s.description else ""
            if best.exact:
                lines.append(f"closest scheme: {best.name} (gain 1 within error){what}")
            elif best.rule_fits:
                lines.append(
                    f"closest scheme: {best.name} with gain {best.gain:.4f} "
                    f"(variance {best.ratio:.4f}x its rule){what}"
                )
            else:
                lines.append(
                    f"no registered rule fits (best: {best.name}, heterogeneity "
                    f"chi2 {best.chi2:.1f} on {best.df} df)"
                )
            for m in self.matches[1:3]:
                if m.rule_fits:
                    lines.append(f"  also: {m.name} with gain {m.gain:.4f}")
        lines.append(f"({self.n_entries} entries)")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "family": self.family_name,
            "family_distances": self.family_distances,
            "fan_fit": None if self.fan_fit is None else self.fan_fit.to_dict(),
            "closest_scheme": None if self.best is None else self.best.name,
            "gain": None if self.best is None else self.best.gain,
            "matches": [m.to_dict() for m in self.matches],
            "n_entries": self.n_entries,
        }


def identify_draws(draws: Sequence[Draw], convention: str) -> Identification:
    """:class:`Identification` from draws already made (no new calls)."""
    family, dists = detect_family(draws, convention)
    moments = shape_moments(draws, convention)
    fit = fit_fan_rule(moments)
    matches: list[SchemeMatch] = []
    if family is not None and family.is_random:
        matches = rank_schemes(moments, family)
    n = sum(m.n for m in moments)
    return Identification(family, dists, fit, matches, n)


def identify(
    fn: Callable[..., Any],
    convention: str = "in_out",
    *,
    seed: int = 0,
    shapes: Sequence[tuple[int, int]] = DEFAULT_SHAPES,
    n_entries: int = DEFAULT_ENTRIES,
) -> Identification:
    """Draw from ``fn`` over ``shapes`` and estimate its rule, family and closest scheme."""
    conv = check_convention(convention)
    counts = calls_per_shape(shapes, n_entries)
    draws = draw_design(fn, shapes, counts, seed)
    return identify_draws(draws, conv)
