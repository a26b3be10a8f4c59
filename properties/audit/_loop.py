"""Audit a model: what did each parameter get at initialization, and is it what was promised?

``audit_torch(factory, builds=K, seed=s)`` builds ``factory()`` (a callable returning a
``torch.nn.Module``) ``K`` times, under ``torch.random.fork_rng`` and ``torch.manual_seed``
with seeds from ``SeedSequence(s)``, and pools each parameter's ``K * numel`` entries.

For every parameter it reports the shape, the layout and the fans (the framework's, see
:mod:`weight_init.layouts`), the identified family (KS distance of the self-standardized
entries to each law, or exact constant), the closest registered scheme at those fans
(variance ratio), and a verdict against an expectation: the first ``--expect
PATTERN=SCHEME[@LAYOUT]`` whose shell-style PATTERN matches the parameter's dotted name,
else the documented default of its layer type
(:func:`~weight_init.properties.audit._expectations.documented_defaults`, cited in
``docs/frameworks.md``), else none (``unchecked``).

Verdict: :func:`~weight_init.properties.conformance._runner.check_initializer` on the ``K`` builds
(one call per build, the parameter as a 2-D matrix) against the expected scheme *at this
parameter's fans*: an i.i.d. scheme becomes the fixed-variance scheme of the same family with
``v = scheme.variance(fan_in, fan_out)``, which standardizes every entry exactly as the
scheme would; constants and orthogonal schemes are checked as they are (orthogonal on the
``(fan_in, fan_out)`` view of a 2-D weight). Same tests, Holm correction and power plan as
``check``; fewer pooled entries than the plan needs gives ``inconclusive``, never ``pass``.
"""

from __future__ import annotations

__all__ = [
    "AuditOptions",
    "AuditReport",
    "Expectation",
    "ParamAudit",
    "audit_command",
    "audit_param",
    "audit_spec",
    "audit_torch",
    "auto_builds",
    "parse_expect",
]

import dataclasses
import functools
import math
import shlex
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from weight_init.errors import (
    AuditError,
)
from weight_init.families import iid_families
from weight_init.layouts import Fans, KernelSpec, get_layout
from weight_init.properties.audit._expectations import (
    Expectation,
    parse_expect,
)
from weight_init.properties.audit._result import AuditOptions, AuditReport, ParamAudit
from weight_init.properties.conformance import _power as powerplan
from weight_init.properties.conformance._identify import ks_statistic
from weight_init.properties.conformance._kernels import candidate_rules
from weight_init.properties.conformance._plan import plan as power_plan
from weight_init.properties.conformance._result import ConformanceResult
from weight_init.properties.conformance._runner import check_initializer
from weight_init.schemes import SCHEMES, Scheme, variance_scaling


def _fans(how: str, layout: str, shape: tuple[int, ...], owner: Any, local: str) -> Fans:
    if how == "rnn":
        hidden = int(owner.hidden_size)
        fan_in = shape[1] if len(shape) == 2 else hidden
        return Fans(fan_in, hidden)
    if how == "owner" and hasattr(owner, "weight") and owner.weight is not None:
        w = tuple(owner.weight.shape)
        return Fans(get_layout(layout).fans(w).fan_in, shape[0])
    if len(shape) >= 2:
        return get_layout(layout).fans(shape)
    return Fans(shape[0], shape[0]) if shape else Fans(1, 1)


def _spec(owner: Any) -> KernelSpec | None:
    """The layer spec of a torch conv or linear module (None for other layers)."""
    try:
        if hasattr(owner, "kernel_size"):
            k = tuple(int(x) for x in owner.kernel_size)
            return KernelSpec(int(owner.in_channels), int(owner.out_channels), k, int(owner.groups))
        if hasattr(owner, "in_features") and hasattr(owner, "out_features"):
            return KernelSpec(int(owner.in_features), int(owner.out_features))
    except (TypeError, ValueError):
        return None
    return None


def _fan_rule(
    spec: KernelSpec | None, layout: str, scheme: Scheme | None, z: NDArray[np.float64], m2: float
) -> str:
    """The first candidate fan rule of ``layout`` (documented first) under which ``scheme``'s
    variance matches the pooled ``m2`` within ``max(4 se, 2%)``, se from the kurtosis."""
    if spec is None or scheme is None or not scheme.family.is_iid:
        return ""
    if m2 <= 0 or z.size < 2:
        return ""
    kappa = float(np.mean(z**4)) / m2**2
    se = math.sqrt(max(kappa - 1.0, 1e-12) / z.size)
    lay = get_layout(layout)
    try:
        rules = candidate_rules(lay)
        for r in rules:
            ratio = m2 / scheme.variance(*r.fans(spec).as_tuple())
            if abs(ratio - 1.0) <= max(4.0 * se, 0.02):
                return r.name
    except Exception:  # a spec the layout cannot hold: no fan-rule identification
        return ""
    return "none of the layout's rules"


def _at_fans(scheme: Scheme, fans: Fans) -> Scheme:
    if not scheme.family.is_iid:
        return scheme
    v = scheme.variance(*fans.as_tuple())
    return variance_scaling(
        v, "fixed", scheme.family.name, name=f"{scheme.name} at fans {fans.as_tuple()}"
    )


#: Scales tried when naming the identified rule ``c / n`` (LeCun 1, He 2, torch's 1/3).
SCALES: tuple[tuple[float, str], ...] = ((1.0 / 3.0, "1/(3 {n})"), (1.0, "1/{n}"), (2.0, "2/{n}"))


def _identify(z: NDArray[np.float64], fans: Fans) -> tuple[str, float, str, float, float, str]:
    """Family (and its KS distance to the self-standardized entries), closest registered
    scheme and its variance ratio, ``mean w^2``, and every rule ``c/n`` (c in :data:`SCALES`,
    n = fan_in, fan_out or fan_avg) within ``max(4 se, 2%)`` of ``mean w^2``, joined by
    `` = `` (several when the fans tie)."""
    if z.size and np.all(z == z.flat[0]):
        return "constant", 0.0, "", math.nan, 0.0, f"{float(z.flat[0]):g}"
    m2 = float(np.mean(z * z))
    if m2 <= 0 or not math.isfinite(m2):
        return "unknown", math.nan, "", math.nan, m2, ""
    zs = np.sort(z / math.sqrt(m2))
    dists = {f.name: ks_statistic(zs, functools.partial(f.cdf, n=None)) for f in iid_families()}
    fam = min(dists, key=lambda f: dists[f])
    best, ratio = "", math.nan
    for sch in SCHEMES.values():
        if sch.family != fam:
            continue
        r = m2 / sch.variance(*fans.as_tuple())
        if not best or abs(math.log(r)) < abs(math.log(ratio)):
            best, ratio = sch.name, r
    kappa = float(np.mean(z**4)) / m2**2
    tol = max(4.0 * math.sqrt(max(kappa - 1.0, 1e-12) / z.size), 0.02)
    fi, fo = fans.as_tuple()
    rules = [
        label.format(n=mode)
        for mode, n in (("fan_in", fi), ("fan_out", fo), ("fan_avg", (fi + fo) / 2))
        for c, label in SCALES
        if abs(m2 * n / c - 1.0) <= tol
    ]
    # every rule that fits: at tied fans they are the same number (square: 2/fan_in =
    # 2/fan_out; fan_out = 2 fan_in: 1/fan_in = 2/fan_out), which the draws cannot separate
    return fam, dists[fam], best, ratio, m2, " = ".join(rules)


def audit_torch(
    factory: Callable[[], Any], options: AuditOptions | None = None, **kwargs: Any
) -> AuditReport:
    """Audit every parameter of ``factory()`` (module docstring) under ``options`` (an
    :class:`~weight_init.properties.audit._result.AuditOptions`) or its keywords ``builds``,
    ``seed``, ``expect``, ``alpha``, ``subject``, ``preset``.

    Parameters are walked once each (:mod:`~weight_init.properties.audit._walk_torch`: tied
    tensors under their first name, with their aliases; any rank); each one's expectation is
    planned from the rules, the preset and the class hierarchy
    (:mod:`~weight_init.properties.audit._expect_torch`) on the first build, where bad rules
    are found before the other builds run.

    ``builds=None``: as many builds as the parameter with the fewest entries needs for the
    power plan of its expected family (at least 20, at most :data:`MAX_AUTO_BUILDS`). Each
    parameter's check uses the first ``min(builds, ceil(needed / numel))`` builds (a number
    fixed before looking at the draws)."""
    from weight_init.properties.audit._expect_torch import plan_torch, select_preset
    from weight_init.properties.audit._expectations import check_rules
    from weight_init.properties.audit._planned import audit_planned
    from weight_init.properties.audit._walk_torch import torch_builds, torch_builds_with_models

    opts = AuditOptions.of(options, **kwargs)
    seed, expect, alpha = opts.seed, opts.expect, opts.alpha
    progress = opts.progress or (lambda step: None)
    progress("the first build")
    (params, _), modules = torch_builds_with_models(factory, 1, seed)[0]
    if opts.rules_must_match:
        check_rules(expect, params, opts.subject)
    preset: dict[str, Any] = {}
    label = ""
    if opts.preset:
        label, preset = select_preset(opts.preset, modules[""], params, modules)
    plan = plan_torch(params, modules, expect, preset, label)
    depth = _depth(modules[""])
    builds = opts.builds
    if builds is None:
        needs = [
            (math.prod(p.shape) - len(pl.zero_rows) * math.prod(p.shape[1:]), pl.scheme)
            for p, pl in zip(params, plan, strict=True)
            if not pl.skip
        ]
        builds = auto_builds(needs, alpha)
    runs = torch_builds(factory, builds, seed, progress)
    names = [p.name for p in params]
    for run, _ in runs:
        if [p.name for p in run] != names or [p.shape for p in run] != [p.shape for p in params]:
            raise AuditError(
                "the model factory built models with different parameters in different builds"
            )
    audits = []
    for j, (p, pl) in enumerate(zip(params, plan, strict=True)):
        pooled = [values[j] for _, values in runs]
        progress(f"the check of {p.name}")
        owner = modules.get(p.owner)
        fans = _fans(pl.fans, pl.layout, p.shape, owner, p.local)
        audits.append(
            audit_planned(
                p.name,
                p.layer,
                pooled,
                pl,
                fans,
                _spec(owner),
                seed,
                alpha,
                aliases=p.aliases,
                dtype=p.dtype,
                depth=depth,
            )
        )
    return AuditReport(opts.subject, builds, seed, alpha, tuple(audits))


def _depth(model: Any) -> int | None:
    """The number of layers a model's configuration states (``n_layer``,
    ``num_hidden_layers``, ``num_layers``), for naming residual scaling; ``None`` without."""
    config = getattr(model, "config", None)
    for key in ("n_layer", "num_hidden_layers", "num_layers"):
        v = getattr(config, key, None)
        if isinstance(v, int) and not isinstance(v, bool) and v > 0:
            return v
    return None


def audit_spec(
    spec: str,
    expect: Sequence[str] = (),
    *,
    builds: int | None = None,
    seed: int = 0,
    alpha: float = powerplan.DEFAULT_ALPHA,
    preset: str | None = None,
    progress: Callable[[str], None] | None = None,
    rules_must_match: bool = True,
) -> AuditReport:
    """:func:`~weight_init.properties.audit._frameworks.audit_model` (torch, Keras or Flax) of
    the model factory ``spec`` (``MODULE:FACTORY``, imported: the caller isolates it) under
    the ``--expect PATTERN=RULE[@LAYOUT]`` rules ``expect`` (RULE in the rule language,
    :func:`weight_init.rules.parse_rule`) and the library ``preset`` (torch models);
    ``progress`` hears each step (:class:`~weight_init.properties.audit._result.
    AuditOptions`)."""
    from weight_init.properties.audit._frameworks import audit_model
    from weight_init.properties.conformance._adapters import resolve, select_keras_backend

    rules = [parse_expect(text) for text in expect]
    select_keras_backend()  # before the user's module imports keras
    factory = resolve(spec).fn
    report = audit_model(
        factory,
        builds=builds,
        seed=seed,
        expect=rules,
        alpha=alpha,
        subject=spec,
        preset=preset,
        progress=progress,
        rules_must_match=rules_must_match,
    )
    return dataclasses.replace(report, reproduce=audit_command(spec, expect, report, preset))


def audit_command(
    spec: str, expect: Sequence[str], report: AuditReport, preset: str | None = None
) -> str:
    """The ``weight-init audit`` command line that reproduces ``report`` of ``spec``."""
    args = ["weight-init", "audit", spec]
    if preset:
        args += ["--preset", preset]
    for rule in expect:
        args += ["--expect", rule]
    args += ["--builds", str(report.builds), "--seed", str(report.seed)]
    args += ["--alpha", f"{report.alpha:g}"]
    return shlex.join(args)


def audit_param(
    name: str,
    layer: str,
    pooled: Sequence[NDArray[Any]],
    layout: str,
    fans: Fans,
    scheme: Scheme | None,
    source: str,
    spec: KernelSpec | None,
    seed: int,
    alpha: float,
) -> ParamAudit:
    """One parameter's audit from its draws in each build (framework-neutral): identified
    family and rule, the layout's fan rule that explains the variance (``spec``: the layer's
    spec, for the candidate rules), and the check against ``scheme`` at ``fans``."""
    shape = tuple(pooled[0].shape)
    z = np.concatenate([p.ravel() for p in pooled]).astype(np.float64)
    fam, dist, closest, ratio, m2, identified = _identify(z, fans)
    rule_name = _fan_rule(spec, layout, scheme, z, m2) if len(shape) >= 2 else ""
    expected_ratio = math.nan
    if scheme is not None and scheme.family.is_iid:
        expected_ratio = m2 / scheme.variance(*fans.as_tuple())
    verdict = None
    if scheme is not None:
        k = min(
            len(pooled),
            max(2, math.ceil(_needed(scheme, alpha) / max(z.size // len(pooled), 1))),
        )
        verdict = _check(list(pooled[:k]), scheme, fans, layout, seed, alpha, name)
    return ParamAudit(
        name,
        layer,
        shape,
        layout,
        fans,
        scheme.name if scheme else "",
        source,
        fam,
        dist,
        closest,
        ratio,
        m2,
        verdict,
        rule_name,
        expected_ratio,
        scheme.family.name if scheme else "",
        identified,
        math.ceil(_needed(scheme, alpha) / max(math.prod(shape), 1)) if scheme else 0,
    )


def auto_builds(needs: Sequence[tuple[int, Scheme | None]], alpha: float) -> int:
    """Builds the parameter with the fewest entries needs for its scheme's power plan, given
    ``(numel, expected scheme)`` per parameter (at least 20, at most :data:`MAX_AUTO_BUILDS`)."""
    need = 20
    for numel, scheme in needs:
        if scheme is not None and numel:
            need = max(need, math.ceil(_needed(scheme, alpha) / numel))
    return min(need, MAX_AUTO_BUILDS)


#: Cap of the automatic number of builds.
MAX_AUTO_BUILDS = 500


def _needed(scheme: Scheme, alpha: float) -> int:
    """Entries the check's power plan needs for ``scheme``'s family (2 draws for constants)."""
    if scheme.family == "constant":
        return 0
    return power_plan(scheme.family, alpha, powerplan.DEFAULT_POWER).n_entries


def _check(
    pooled: list[NDArray[Any]],
    scheme: Scheme,
    fans: Fans,
    layout: str,
    seed: int,
    alpha: float,
    name: str,
) -> ConformanceResult:
    if scheme.family == "orthogonal" and pooled[0].ndim == 2:
        lay = get_layout(layout)
        mats = [lay.matrix(p) for p in pooled]
    else:
        mats = [p.reshape(p.shape[0], -1) if p.ndim >= 2 else p.reshape(1, -1) for p in pooled]
    state = {"i": 0}

    def serve(fan_in: int, fan_out: int) -> NDArray[Any]:
        m = mats[state["i"] % len(mats)]
        state["i"] += 1
        return m

    rows, cols = mats[0].shape
    return check_initializer(
        serve,
        _at_fans(scheme, fans),
        "in_out",
        seed=seed,
        alpha=alpha,
        shapes=[(rows, cols)],
        n_entries=len(mats) * rows * cols,
        subject=f"{name} as {scheme.name}",
        shrink=False,
    )
