"""Check n-d kernels (and any parameter drawn at a design of layer specs) through their layout.

(About 400 lines: the candidate fan rules, their fit and the kernel verdict that names the
best-fitting rule are one concept; the check itself is the 2-D conformance check.)

A *parameter sampler* is ``draw(spec, seed) -> array``: one seeded draw of the parameter of a
layer built at :class:`~weight_init.layouts.KernelSpec` ``spec`` (a kernel initializer called
at ``layout.shape(spec)``, a torch module's ``weight``, an LSTM's gate blocks, ...), together
with ``fans_of(spec)``, the fans the scheme's variance rule takes (the framework's own, by
default :meth:`Layout.spec_fans`).

:class:`DesignSampler` turns it into the 2-D candidate ``fn(fan_in, fan_out, seed=...)`` that
:func:`~weight_init.properties.conformance._runner.check_initializer` calls over
``shapes = [fans_of(spec) for spec in design]``: each call fills a ``(fan_in, fan_out)``
matrix with the entries of as many independent draws at that spec as it takes (the call's
seed for the first, ``SeedSequence([seed, i])`` for the others), the last draw cut short.
The entries of an i.i.d. scheme are exchangeable, so the matrix has the reference law of a
``(fan_in, fan_out)`` draw and every test of the check keeps its error rate; a draw of the
wrong shape is returned as ``(1, n)``, so the check's exact ``shape`` test fails on it.

Fan-rule diagnosis. For each candidate fan rule ``r`` of the layout (the documented one;
"receptive field left out of fan_in"; "fans read from the transposed axis"; "groups
ignored"; "fan computed over the stacked matrix" for stacked blocks; the connectivity fans)
the per-spec second moments ``m_k`` (``n_k`` entries) give
``X_r = sum_k n_k (m_k / v_k(r) - 1)^2 / (kappa - 1)``, ``v_k(r)`` the scheme's variance at
``r``'s fans and ``kappa`` the pooled kurtosis: approximately ``chi^2(K)`` when ``r`` is the
rule in force (level included, K specs). The diagnosis names the candidate with the largest
p-value when it is above ``alpha`` and the documented rule is not. It is a description of
a failure already established by the check's Holm-corrected tests, not a test of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from weight_init.errors import InitializerCallError, describe_exception
from weight_init.layouts import Fans, KernelSpec, Layout, Role, get_layout
from weight_init.properties._results import Outcome
from weight_init.properties.conformance import _power as powerplan
from weight_init.properties.conformance._result import ConformanceResult
from weight_init.properties.conformance._runner import check_initializer
from weight_init.properties.conformance._sampling import to_numpy
from weight_init.schemes import Scheme, get_scheme

Draw = Callable[[KernelSpec, int], Any]
FanOf = Callable[[KernelSpec], Fans]

DOCUMENTED = "documented fans"
NO_RF_IN = "receptive field left out of fan_in"
NO_RF = "receptive field left out of both fans"
TRANSPOSED = "fans read from the transposed axis"
GROUPS_IGNORED = "groups ignored"
STACKED = "fan computed over the stacked matrix"
CONNECTIVITY = "connectivity fans (I/g * rf, O/g * rf)"


@dataclass(frozen=True)
class FanRule:
    """A candidate fan computation: ``fans(spec)``."""

    name: str
    fans: FanOf


def candidate_rules(layout: Layout, documented: FanOf | None = None) -> list[FanRule]:
    """The documented fans of ``layout`` and the known ways of getting them wrong."""
    doc = documented or layout.spec_fans

    def no_rf_in(s: KernelSpec) -> Fans:
        f = doc(s)
        return Fans(max(f.fan_in // s.receptive_field, 1), f.fan_out)

    def no_rf(s: KernelSpec) -> Fans:
        f = doc(s)
        return Fans(max(f.fan_in // s.receptive_field, 1), max(f.fan_out // s.receptive_field, 1))

    def transposed(s: KernelSpec) -> Fans:
        f = doc(s)
        return Fans(f.fan_out, f.fan_in)

    def groups_ignored(s: KernelSpec) -> Fans:
        f = doc(s)
        if layout.grouped is layout.fan_in_role:
            return Fans(f.fan_in * s.groups, f.fan_out)
        if layout.grouped is layout.fan_out_role:
            return Fans(f.fan_in, f.fan_out * s.groups)
        return f

    return [
        FanRule(DOCUMENTED, doc),
        FanRule(NO_RF_IN, no_rf_in),
        FanRule(NO_RF, no_rf),
        FanRule(TRANSPOSED, transposed),
        FanRule(GROUPS_IGNORED, groups_ignored),
        FanRule(CONNECTIVITY, lambda s: s.true_fans()),
    ]


def stacked_rule(blocks: int, role: Role, per_block: FanOf) -> FanRule:
    """Fans of the whole stack of ``blocks`` blocks along ``role`` (MultiheadAttention, LSTM)."""

    def fans(s: KernelSpec) -> Fans:
        f = per_block(s)
        return (
            Fans(f.fan_in * blocks, f.fan_out)
            if role is Role.IN
            else Fans(f.fan_in, f.fan_out * blocks)
        )

    return FanRule(STACKED, fans)


@dataclass
class DesignSampler:
    """``fn(fan_in, fan_out, seed=...)`` over a design of specs (see the module docstring)."""

    draw: Draw
    fans_of: FanOf
    design: Sequence[KernelSpec]
    shape_of: Callable[[KernelSpec], tuple[int, ...]] | None = None
    by_fans: dict[tuple[int, int], KernelSpec] = field(init=False)
    moments: dict[KernelSpec, list[float]] = field(init=False)

    def __post_init__(self) -> None:
        self.by_fans = {}
        for spec in self.design:
            self.by_fans.setdefault(self.fans_of(spec).as_tuple(), spec)
        self.moments = {}

    @property
    def shapes(self) -> list[tuple[int, int]]:
        return list(self.by_fans)

    def __call__(self, fan_in: int, fan_out: int, seed: int = 0) -> NDArray[Any]:
        in_design = (fan_in, fan_out) in self.by_fans
        # off the design (the check's determinism probe): any spec gives a seeded draw
        spec = self.by_fans[(fan_in, fan_out)] if in_design else self.design[0]
        need, parts, got, i = fan_in * fan_out, [], 0, 0
        while got < need:
            # the first draw takes the call's own seed (the design's call seeds are distinct,
            # so two calls never share it; hashed sub-seeds repeated among thousands of
            # calls: 2 "fresh draws" false alarms in 2,000 kernel checks)
            sub = seed if i == 0 else int(np.random.SeedSequence([seed, i]).generate_state(1)[0])
            where = f"draw({spec.describe()}, seed={sub})"
            try:
                raw = self.draw(spec, sub)
            except Exception as exc:
                raise InitializerCallError(f"{where} raised {describe_exception(exc)}") from None
            a = to_numpy(raw, where)
            if a.size == 0 or (self.shape_of is not None and a.shape != self.shape_of(spec)):
                return a.reshape(1, -1)  # the check's exact shape test fails on it
            parts.append(a.ravel())
            got += a.size
            i += 1
        w = np.concatenate(parts)[:need].reshape(fan_in, fan_out)
        if in_design and w.dtype.kind == "f" and np.all(np.isfinite(w)):
            w2 = np.asarray(w, dtype=np.float64) ** 2
            acc = self.moments.setdefault(spec, [0.0, 0.0, 0.0])
            acc[0] += w2.size
            acc[1] += float(w2.sum())
            acc[2] += float((w2 * w2).sum())
        return w


@dataclass(frozen=True)
class RuleFit:
    """How well a candidate fan rule explains the per-spec variances."""

    rule: str
    chi2: float
    df: int
    p_value: float
    ratio: float  # pooled mean(w^2) / variance under the rule

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "chi2": self.chi2,
            "df": self.df,
            "p_value": self.p_value,
            "ratio": self.ratio,
        }


def fit_rules(
    moments: dict[KernelSpec, list[float]], scheme: Scheme, rules: Sequence[FanRule]
) -> list[RuleFit]:
    """The chi-square fit of every rule (module docstring), best (largest p-value) first.

    A rule giving the same variances as an earlier one on every spec of the design is left
    out (e.g. a fan_out change under a fan_in scheme)."""
    specs = [s for s, (n, s2, _) in moments.items() if n and s2 > 0]
    if not specs or scheme.family in ("constant", "orthogonal"):
        return []
    n = np.array([moments[s][0] for s in specs])
    m2 = np.array([moments[s][1] for s in specs]) / n
    m4 = np.array([moments[s][2] for s in specs]) / n
    kappa = float(np.sum(n * m4 / m2**2) / np.sum(n))
    out: list[RuleFit] = []
    seen: list[NDArray[np.float64]] = []
    for r in rules:
        v = np.array([scheme.variance(*r.fans(s).as_tuple()) for s in specs])
        if any(np.array_equal(v, u) for u in seen):
            continue
        seen.append(v)
        rho = m2 / v
        chi2 = float(np.sum(n * (rho - 1.0) ** 2) / max(kappa - 1.0, 1e-12))
        p = float(stats.chi2.sf(chi2, len(specs)))
        out.append(RuleFit(r.name, chi2, len(specs), p, float(np.sum(n * rho) / np.sum(n))))
    return sorted(out, key=lambda f: (-f.p_value, f.chi2))


@dataclass(frozen=True)
class KernelVerdict:
    """A conformance verdict on a parameter checked through its layout, plus the fan rules.

    Returned by :func:`check_kernel_initializer`. ``passed``, ``outcome`` and ``tests`` are
    the verdict's; ``diagnosis`` leads with the candidate fan rule that explains the draws,
    when there is one.

    Attributes
    ----------
    verdict : ConformanceResult
        The 2-D conformance check of the pooled draws.
    layout : str
        The layout's name.
    design : tuple of KernelSpec
        The layer specs drawn at.
    fits : tuple of RuleFit
        Each candidate fan rule's fit (chi-square, degrees of freedom, p-value, and the
        ratio of the pooled ``mean(w^2)`` to the rule's variance), best first.
    alpha : float
        The family-wise false-alarm rate.
    quirk : str or None
        The candidate fan rule that explains the draws when the documented one does not.

    Examples
    --------
    >>> import numpy as np
    >>> from weight_init.layouts import KernelSpec
    >>> from weight_init.properties.conformance import check_kernel_initializer
    >>> def init(shape, seed):  # keras.conv layout: (*kernel, in, out)
    ...     rng = np.random.default_rng(seed)
    ...     fan_in = int(np.prod(shape[:-1]))
    ...     return rng.uniform(-1, 1, shape) * np.sqrt(6 / fan_in)
    >>> design = [KernelSpec(3, 8, (3, 3)), KernelSpec(8, 4, (5,)), KernelSpec(16, 8, (1, 1))]
    >>> verdict = check_kernel_initializer(
    ...     init, "he_uniform", "keras.conv", design=design, alpha=1e-6
    ... )
    >>> verdict.passed, verdict.layout, verdict.quirk
    (True, 'keras.conv', None)
    >>> verdict.fits[0].rule
    'documented fans'
    """

    verdict: ConformanceResult
    layout: str
    design: tuple[KernelSpec, ...]
    fits: tuple[RuleFit, ...]
    alpha: float

    @property
    def passed(self) -> bool:
        """True only when every test passed (an inconclusive test is not a pass)."""
        return self.verdict.passed

    @property
    def outcome(self) -> Outcome:
        """``pass``, ``fail`` or ``inconclusive``, as the verdict's."""
        return self.verdict.outcome

    @property
    def tests(self) -> Any:
        """The verdict's test rows."""
        return self.verdict.tests

    @property
    def quirk(self) -> str | None:
        """The candidate fan rule that explains the draws when the documented one does not."""
        if not self.fits or self.passed:
            return None
        doc = next((f for f in self.fits if f.rule == DOCUMENTED), None)
        best = self.fits[0]
        if (
            best.rule != DOCUMENTED
            and best.p_value > self.alpha
            and (doc is None or doc.p_value <= self.alpha)
        ):
            return best.rule
        return None

    @property
    def diagnosis(self) -> str:
        """The verdict's diagnosis, led by the fan rule that explains the draws, if one does."""
        q = self.quirk
        base = self.verdict.diagnosis
        if q is None:
            return base
        fit = self.fits[0]
        head = f"{q} (fits the draws: chi2 {fit.chi2:.3g} on {fit.df} df, p = {fit.p_value:.3g})"
        return f"{head}; {base}" if base else head

    def format_table(self) -> str:
        """The verdict's table, the layout and design, each candidate fan rule's fit, the
        diagnosis.

        Returns
        -------
        str
            Fixed-width text.
        """
        lines = [self.verdict.format_table().rsplit("\ndiagnosis: ", 1)[0]]
        lines.append(
            f"layout {self.layout}; design: " + "; ".join(s.describe() for s in self.design)
        )
        for f in self.fits:
            lines.append(
                f"  fan rule {f.rule}: chi2 {f.chi2:.4g} on {f.df} df, p = {f.p_value:.3g}, "
                f"mean w^2 / rule = {f.ratio:.4g}"
            )
        if self.diagnosis:
            lines.append(f"diagnosis: {self.diagnosis}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON form: the verdict's, with ``layout``, ``quirk``, ``fan_rules`` and ``design``.

        Returns
        -------
        dict
            A JSON-serializable dict.
        """
        d = self.verdict.to_dict()
        d["diagnosis"] = self.diagnosis
        d["layout"] = self.layout
        d["quirk"] = self.quirk
        d["fan_rules"] = [f.to_dict() for f in self.fits]
        d["design"] = [s.describe() for s in self.design]
        return d


def check_parameter(
    draw: Draw,
    scheme: str | Scheme,
    layout: str | Layout,
    design: Sequence[KernelSpec],
    *,
    fans_of: FanOf | None = None,
    rules: Sequence[FanRule] | None = None,
    shape_of: Callable[[KernelSpec], tuple[int, ...]] | None = None,
    seed: int = 0,
    alpha: float = powerplan.DEFAULT_ALPHA,
    n_entries: int | None = None,
    subject: str | None = None,
) -> KernelVerdict:
    """Check ``draw`` over ``design`` against ``scheme`` with the fans ``fans_of`` (default:
    the layout's documented fans), then fit the candidate fan ``rules``."""
    lay = get_layout(layout)
    sch = get_scheme(scheme)
    fans = fans_of or lay.spec_fans
    sampler = DesignSampler(draw, fans, tuple(design), shape_of)
    verdict = check_initializer(
        sampler,
        sch,
        "in_out",
        seed=seed,
        alpha=alpha,
        shapes=sampler.shapes,
        n_entries=n_entries,
        subject=subject or f"{getattr(draw, '__name__', 'draw')} as {sch.name} ({lay.name})",
        shrink=False,
    )
    fits = fit_rules(sampler.moments, sch, list(rules or candidate_rules(lay, fans)))
    return KernelVerdict(verdict, lay.name, tuple(sampler.by_fans.values()), tuple(fits), alpha)


def kernel_design(layout: str | Layout) -> tuple[KernelSpec, ...]:
    """The default design of kernel specs: 1-3 spatial dims, kernel sizes 1/3/5/7, groups 1,
    >1 and depthwise (where the layout has groups), fans distinct, at most ~20k entries per
    ``(fan_in, fan_out)`` matrix; for a dense layout, the check's default 2-D shapes."""
    lay = get_layout(layout)
    if not lay.spatial:
        from weight_init.properties.conformance._sampling import DEFAULT_SHAPES

        return tuple(KernelSpec(fi, fo) for fi, fo in DEFAULT_SHAPES)
    specs = [
        KernelSpec(3, 8, (3,)),
        KernelSpec(8, 4, (5,)),
        KernelSpec(16, 8, (1, 1)),
        KernelSpec(4, 6, (3, 3)),
        KernelSpec(2, 4, (7, 7)),
        KernelSpec(2, 3, (3, 3, 3)),
        KernelSpec(8, 8, (3, 3), groups=4),
        KernelSpec(6, 12, (3, 3), groups=6),
        KernelSpec(8, 16, (1,), groups=2),
        KernelSpec(4, 4, (1, 1, 1)),
    ]
    return tuple(s for s in specs if s.groups == 1 or lay.grouped is not None)


KernelInit = Callable[[tuple[int, ...], int], Any]


def check_kernel_initializer(
    init: KernelInit,
    scheme: str | Scheme,
    layout: str | Layout,
    *,
    design: Sequence[KernelSpec] | None = None,
    seed: int = 0,
    alpha: float = powerplan.DEFAULT_ALPHA,
    n_entries: int | None = None,
    subject: str | None = None,
) -> KernelVerdict:
    """Check a kernel initializer against ``scheme`` through its layout.

    ``init(shape, seed)`` returns an array of ``shape`` laid out by ``layout`` (a convolution
    kernel, a dense weight in a framework's layout). It is checked at the layout's documented
    fans over ``design``: each 2-D call of :func:`check_initializer` fills a
    ``(fan_in, fan_out)`` matrix with the entries of as many independent draws at one spec as
    it takes, which keeps every test's error rate for an i.i.d. scheme; a draw of the wrong
    shape fails the check's exact ``shape`` test. The candidate fan rules of the layout are
    then fitted to the per-spec variances to name the rule in force when the documented one
    fails (see Notes).

    Parameters
    ----------
    init : callable
        ``init(shape, seed) -> array``: one seeded draw of a kernel of ``shape``.
    scheme : str or Scheme
        The scheme ``init`` claims to implement.
    layout : str or Layout
        How the kernel is laid out (:data:`weight_init.layouts.LAYOUTS`: ``torch.conv``,
        ``keras.conv``, ``flax.conv``, their ``_transpose`` forms, ``in_out``, ``out_in``).
    design : sequence of KernelSpec, optional
        The layer specs to draw at (default: 1-3 spatial dims, kernel sizes 1/3/5/7, groups
        1, >1 and depthwise where the layout has groups, fans distinct; for a dense layout,
        the check's default 2-D shapes).
    seed : int, default 0
        The seed of the draws.
    alpha : float, default 1e-4
        The family-wise false-alarm rate of the check.
    n_entries : int, optional
        The number of entries to draw (default: what the power plan needs).
    subject : str, optional
        The verdict's title (default: ``init``'s name, the scheme and the layout).

    Returns
    -------
    KernelVerdict
        The conformance verdict and the fit of each candidate fan rule.

    Raises
    ------
    UnknownSchemeError
        ``scheme`` is not registered.
    InvalidParameterError
        ``layout`` is unknown.

    Notes
    -----
    For each candidate fan rule ``r`` of the layout (the documented one; "receptive field
    left out of fan_in"; "fans read from the transposed axis"; "groups ignored"; "fan computed
    over the stacked matrix" for stacked blocks; the connectivity fans) the per-spec second
    moments ``m_k`` (``n_k`` entries) give
    ``X_r = sum_k n_k (m_k / v_k(r) - 1)^2 / (kappa - 1)``, ``v_k(r)`` the scheme's variance
    at ``r``'s fans and ``kappa`` the pooled kurtosis: approximately ``chi^2(K)`` when ``r``
    is the rule in force (K specs). The diagnosis names the candidate with the largest
    p-value when it is above ``alpha`` and the documented rule is not. It describes a failure
    already established by the check's Holm-corrected tests; it is not a test of its own.

    Examples
    --------
    He's rule with ``fan_in`` read as the input channels alone, without the receptive field:

    >>> import numpy as np
    >>> from weight_init.properties.conformance import check_kernel_initializer
    >>> def init(shape, seed):  # torch.conv layout: (out, in, *kernel)
    ...     rng = np.random.default_rng(seed)
    ...     return rng.standard_normal(shape) * np.sqrt(2 / shape[1])
    >>> verdict = check_kernel_initializer(init, "he_normal", "torch.conv", seed=0)
    >>> verdict.outcome, verdict.quirk
    ('fail', 'receptive field left out of fan_in')
    """
    lay = get_layout(layout)

    def draw(spec: KernelSpec, s: int) -> Any:
        return init(lay.shape(spec), s)

    name = getattr(init, "__qualname__", None) or getattr(init, "__name__", repr(init))
    return check_parameter(
        draw,
        scheme,
        lay,
        tuple(design or kernel_design(lay)),
        shape_of=lay.shape,
        seed=seed,
        alpha=alpha,
        n_entries=n_entries,
        subject=subject or f"{name} as {get_scheme(scheme).name} ({lay.name})",
    )


def torch_kernel_init(name: str, **kwargs: Any) -> KernelInit:
    """``torch.nn.init.NAME`` as ``init(shape, seed)``: called on ``torch.empty(shape)`` with a
    ``torch.Generator`` seeded from ``seed``."""
    import torch

    fn = getattr(torch.nn.init, name)

    def init(shape: tuple[int, ...], seed: int) -> NDArray[Any]:
        t = torch.empty(shape)
        g = torch.Generator()
        g.manual_seed(seed)
        with torch.no_grad():
            fn(t, generator=g, **kwargs)
        return t.numpy()

    init.__name__ = init.__qualname__ = f"torch.nn.init.{name}"
    return init
