"""The result of an audit: one :class:`ParamAudit` per parameter, an :class:`AuditReport` for
the model (its outcome, JSON and table), as :mod:`weight_init.properties.audit._loop` builds
them.

Every checked parameter states its *resolution* (:mod:`~._resolution`): the smallest std
error, mean shift and neighbour correlation its entries (or its pooled group's) detect with
power 0.99 at the family-wise alpha. It passes when no test rejects and that resolution is no
worse than the audit's target (``--resolution``); it is ``inconclusive`` when no test rejects
but the target is not reached. A report ``passed`` only when every checked parameter passed.
:meth:`AuditReport.assert_conforms` raises :class:`~weight_init.errors.CheckFailed` naming
every parameter that did not pass, its expected and its identified rule, and the command that
reproduces the audit.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from weight_init.layouts import Fans
from weight_init.properties.audit._expectations import Expectation
from weight_init.properties.audit._resolution import DEFAULT_RESOLUTION, Resolution
from weight_init.properties.conformance import _power as powerplan
from weight_init.properties.conformance._checks.registry import BUILT_IN
from weight_init.properties.conformance._kernels import DOCUMENTED
from weight_init.properties.conformance._result import ConformanceResult


@dataclass(frozen=True)
class AuditOptions:
    """What every audit (torch, Keras, Flax, Haiku, Equinox, Flax NNX) is asked.

    The audit functions take it whole or as keywords (:meth:`of` merges the two).

    Parameters
    ----------
    builds : int or None, default None
        The number of builds of the model; ``None``: the fewest with which every checked
        parameter, alone or in its pooled group, reaches ``resolution`` (at least 10, at
        most ``max_builds``).
    seed : int, default 0
        The builds are seeded from ``SeedSequence(seed)``.
    expect : sequence of Expectation, default ()
        ``PATTERN=SCHEME[@LAYOUT]`` rules; the first whose shell-style pattern matches a
        parameter's name wins over the documented default.
    alpha : float, default 1e-4
        The family-wise false-alarm rate of each parameter's (or pooled group's) tests.
    subject : str, default "model"
        The report's title.
    preset : str or None, default None
        A library's init policy for torch models: ``"transformers"``, ``"timm"`` or
        ``"torchvision"`` (``expect`` rules override it).
    rules_must_match : bool, default True
        Whether an ``expect`` rule that matches no parameter is bad input (the report applies
        one set of rules to several models, where a rule may be for another model).
    resolution : float, default 0.1
        The std error every checked parameter must detect with power 0.99 to pass (a mean
        shift of twice as many std too); ``0.01`` is the check's design
        (:mod:`~weight_init.properties.audit._resolution`).
    max_builds : int, default 500
        The most builds the automatic count may choose.
    pool : bool, default True
        Test the parameters that share a rule, a role and an i.i.d. family together too,
        as one Holm family (:mod:`~weight_init.properties.audit._verdicts`).
    workers : int, default 1
        Local processes building the model (1: in this process); the verdicts do not depend
        on it.
    spec : str, default ""
        The ``MODULE:FACTORY`` the factory came from: workers that cannot inherit the
        factory import it.
    progress : bool or None, default None
        A progress bar with an ETA on stderr (None: when stderr is a terminal).
    on_step : callable or None, default None
        Called with the name of the next step (``"build 3 of 40"``) as the audit goes, so
        that a caller's timeout can bound one step.

    Examples
    --------
    >>> from weight_init.properties.audit import AuditOptions
    >>> options = AuditOptions(builds=8, subject="my model")
    >>> AuditOptions.of(options, seed=3).seed, AuditOptions.of(options, seed=3).resolution
    (3, 0.1)
    """

    builds: int | None = None
    seed: int = 0
    expect: Sequence[Expectation] = ()
    alpha: float = powerplan.DEFAULT_ALPHA
    subject: str = "model"
    preset: str | None = None
    rules_must_match: bool = True
    resolution: float = DEFAULT_RESOLUTION
    max_builds: int = 500
    pool: bool = True
    workers: int = 1
    spec: str = ""
    progress: bool | None = None
    on_step: Callable[[str], None] | None = dataclasses.field(
        default=None, compare=False, repr=False
    )

    @classmethod
    def of(cls, options: AuditOptions | None = None, **kwargs: Any) -> AuditOptions:
        """``options`` (default: the defaults above) with the keyword arguments ``kwargs``
        (the audit functions' public keywords) replacing its fields.

        Parameters
        ----------
        options : AuditOptions, optional
            The options to start from.
        **kwargs
            Fields to replace: ``builds``, ``seed``, ``expect``, ``alpha``, ``subject``.

        Returns
        -------
        AuditOptions
            The merged options.

        Raises
        ------
        TypeError
            An unknown keyword, as for any Python call.
        """
        return dataclasses.replace(options if options is not None else cls(), **kwargs)


@dataclass(frozen=True)
class ParamAudit:
    """One parameter's audit: where it sits, what its entries look like, and its verdict.

    Attributes
    ----------
    name : str
        The parameter's name in the model (``0.weight``, ``sequential/conv2d/kernel``).
    layer : str
        The type of the layer that owns it (``Linear``, ``Conv2D``, ...).
    shape : tuple of int
        The stored shape.
    layout : str
        The layout its fans are read from (:data:`weight_init.layouts.LAYOUTS`).
    fans : Fans
        ``(fan_in, fan_out)`` in the framework's convention.
    expected : str
        The expected scheme's name, "" when unchecked.
    expected_from : str
        Where the expectation comes from: ``--expect PATTERN``, ``default: SOURCE`` (the
        framework's source file), or "".
    family : str
        The identified family (KS distance of the self-standardized entries to each law, or
        exact constant).
    family_distance : float
        The KS distance to that family.
    closest : str
        The closest registered scheme at these fans.
    closest_ratio : float
        The pooled variance over the closest scheme's.
    variance : float
        The pooled ``mean(w^2)``.
    verdict : ConformanceResult or None
        The check against the expectation (None: unchecked).
    fan_rule : str, default ""
        The candidate fan rule of the layout the pooled variance matches.
    expected_ratio : float, default nan
        The pooled ``mean(w^2)`` over the expected scheme's variance.
    expected_family : str, default ""
        The expected scheme's family.
    identified : str, default ""
        ``c/fan_mode`` of the identified family, when one fits.
    quirks : tuple of str, default ()
        Structure the audit named: ``tied: ALIAS``, ``padding row 0 zero``, ``zeros``,
        ``layer scale``, ``zero-init residual branch``, residual scaling, outliers.
    aliases : tuple of str, default ()
        The tensor's other names (tied weights, shared modules): audited once, under
        ``name``.
    skipped : bool, default False
        The rule said ``skip``: not audited.
    exact_failure : str, default ""
        An exact contradiction of the rule found besides the check (a declared zero row
        that is not zero, an undeclared one under a continuous law, an outlier beyond 8 sd of
        a normal rule); it fails the parameter whatever the check said.
    builds_needed : int, default 0
        The builds with which it (or its pooled group) reaches the target resolution.
    builds_read : int, default 0
        The first builds its statistics were read from whole (0: not recorded): for a
        random expectation those its target resolution needs, at least 2 for a zero-mean
        i.i.d. family neither sparse nor orthogonal (10 for another) and at most the
        audit's; for an unchecked parameter at most 10; for a constant every build.
    builds_compared : int, default 0
        The first builds the checks that compare builds read (0: not recorded): those read
        whole and, for a zero-mean i.i.d. expectation, the builds after them up to 10, read
        for their total, digest, norms and leading entries (the cluster-robust mean, fresh
        draws, between builds, homogeneity). The later builds are read for their range only
        (non-finite entries, bounds, outliers, zero rows).
    resolution : Resolution or None, default None
        What its own entries detect with power 0.99 at the family-wise alpha
        (:class:`~weight_init.properties.audit._resolution.Resolution`).
    group_size : int, default 1
        The parameters of its pooled group (1: tested alone).
    group : str, default ""
        Its pooled group's name (the first member's name), "" when tested alone.
    group_resolution : Resolution or None, default None
        What the group's pooled entries detect (an error the members share).
    target : float, default 0.1
        The std error it must detect to pass.
    outcome : str
        ``pass``, ``fail``, ``inconclusive``, ``skipped`` or ``unchecked``.

    Examples
    --------
    >>> import torch
    >>> from weight_init import audit
    >>> report = audit(lambda: torch.nn.Conv2d(8, 16, 3, bias=False), builds=8, alpha=1e-6)
    >>> weight = report.params[0]
    >>> weight.layout, weight.fans.as_tuple(), weight.outcome
    ('torch.conv', (72, 144), 'pass')
    >>> print(weight.detects())
    detects std error >= 7.6%, mean >= 0.17 std, neighbour correlation >= 0.18, ...
    >>> conv = lambda: torch.nn.Conv2d(8, 16, 3, bias=False)
    >>> strict = audit(conv, builds=8, resolution=0.01, alpha=1e-6)
    >>> strict.params[0].outcome
    'inconclusive'
    """

    name: str
    layer: str
    shape: tuple[int, ...]
    layout: str
    fans: Fans
    expected: str  # scheme name, or "" when unchecked
    expected_from: str  # "--expect PATTERN" / "default: SOURCE" / ""
    family: str
    family_distance: float
    closest: str
    closest_ratio: float
    variance: float
    verdict: ConformanceResult | None
    fan_rule: str = ""  # the candidate fan rule of the layout the pooled variance matches
    expected_ratio: float = math.nan  # pooled mean(w^2) / the expected scheme's variance
    expected_family: str = ""
    identified: str = ""  # "c/fan_mode" of the identified family, when one fits
    builds_needed: int = 0  # builds that reach the target resolution (0: not computed)
    builds_read: int = 0  # builds its statistics were read from whole (0: not recorded)
    builds_compared: int = 0  # builds the checks comparing builds read (0: not recorded)
    resolution: Resolution | None = None  # what its own entries detect
    group_size: int = 1  # parameters in its pooled group (1: tested alone)
    group: str = ""  # the pooled group's name (its first member's name; "": tested alone)
    group_resolution: Resolution | None = None  # what the group's pooled entries detect
    target: float = DEFAULT_RESOLUTION  # the std error it must detect to pass
    quirks: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    skipped: bool = False
    exact_failure: str = ""

    @property
    def stated(self) -> Resolution | None:
        """The resolution the row states: its own, or its group's when finer."""
        own, grp = self.resolution, self.group_resolution
        if own is None or grp is None:
            return own or grp
        return grp if grp.std_error < own.std_error else own

    @property
    def pooled(self) -> bool:
        """Whether the stated resolution is the group's."""
        return self.stated is not None and self.stated is self.group_resolution

    @property
    def outcome(self) -> str:
        """``pass``, ``fail``, ``inconclusive``, ``skipped`` (the rule said ``skip``) or
        ``unchecked`` (no expectation): a checked row passes when no test rejects and its
        stated resolution reaches the target; an exact failure fails whatever the tests said."""
        if self.skipped:
            return "skipped"
        if self.exact_failure:
            return "fail"
        if self.verdict is None:
            return "unchecked"
        out = self.verdict.outcome
        if out != "pass":
            return out
        r = self.stated
        return "pass" if r is None or r.reaches(self.target) else "inconclusive"

    def detects(self) -> str:
        """What the row's tests detect.

        Returns
        -------
        str
            ``detects std error >= 4.8%, mean >= 0.096 std, ...`` (and ``; pooled over 12,
            shared errors`` when the group's resolution is stated); "" for exact-only checks
            (constants).
        """
        r = self.stated
        if r is None:
            return ""
        how = f"; pooled over {self.group_size}, shared errors" if self.pooled else ""
        return f"detects {r.describe()}{how}"

    def note(self) -> str:
        """Why the parameter did not pass.

        Returns
        -------
        str
            An exact contradiction, the diagnosis, or the resolution an inconclusive check
            reached and the builds that would reach the target (or why it was not checked),
            then the expectation and where it came from.
        """
        if self.skipped:
            return f"skipped [{self.expected_from}]"
        if self.verdict is None and not self.exact_failure:
            local = self.name.rpartition(".")[2]
            return f"no expectation: no documented default for {self.layer}'s {local}"
        parts = [self.exact_failure] if self.exact_failure else []
        if self.verdict is None:
            pass
        elif self.outcome == "inconclusive":
            r = self.stated
            more = f"; --builds {self.builds_needed} would do" if self.builds_needed else ""
            parts.append(
                f"inconclusive: {r.entries if r else 0} entries detect a std error of "
                f"{_pct(r.std_error if r else math.inf)} or a mean shift of "
                f"{r.mean_shift if r else math.inf:.2g} std, coarser than the target "
                f"{_pct(self.target)} ({r.describe() if r else ''}){more}"
            )
        elif self.verdict.outcome != "pass":
            if "zeros" in self.quirks:
                parts.append("every entry is 0 in every build (zeros)")
            if self.fan_rule and self.fan_rule != DOCUMENTED:
                parts.append(self.fan_rule)
            if math.isfinite(self.expected_ratio):
                parts.append(
                    f"variance {self.expected_ratio:.4g}x the expected rule at fans "
                    f"{self.fans.as_tuple()} (std {math.sqrt(self.expected_ratio):.4g}x)"
                )
            if self.expected_family and self.family not in (self.expected_family, "unknown"):
                parts.append(f"entries look {self.family}, expected {self.expected_family}")
            parts += self._added_findings()
            parts.append(f"failed: {', '.join(t.name for t in self.verdict.failures)}")
        return f"{'; '.join(parts)} [expected {self.expected}, {self.expected_from}]"

    def _added_findings(self) -> list[str]:
        """What the diagnosis says of the failed checks the note does not otherwise word (the
        checks beyond the built-in ones: between builds, homogeneity, extremes, top
        direction, spectrum), in the diagnosis's words and only where it says it."""
        if self.verdict is None:
            return []
        diagnosis = self.verdict.verdict.diagnosis
        out = []
        for r in self.verdict.checks:
            if r.failed and r.check not in BUILT_IN:
                text = r.check.describe_failure(r)
                if text and text in diagnosis and text not in out:
                    out.append(text)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON form of the parameter's audit, with its tests and diagnosis.

        Returns
        -------
        dict
            A JSON-serializable dict.
        """
        return {
            "name": self.name,
            "layer": self.layer,
            "shape": list(self.shape),
            "layout": self.layout,
            "fans": list(self.fans.as_tuple()),
            "family": self.family,
            "family_distance": self.family_distance,
            "variance": self.variance,
            "closest_scheme": self.closest or None,
            "closest_ratio": self.closest_ratio if math.isfinite(self.closest_ratio) else None,
            "fan_rule": self.fan_rule or None,
            "identified_rule": self.identified or None,
            "expected": self.expected or None,
            "expected_from": self.expected_from or None,
            "outcome": self.outcome,
            "builds_needed": self.builds_needed,
            "builds_read": self.builds_read,
            "builds_compared": self.builds_compared,
            "quirks": list(self.quirks),
            "aliases": list(self.aliases),
            "exact_failure": self.exact_failure or None,
            "resolution": None if self.resolution is None else self.resolution.to_dict(),
            "group_size": self.group_size,
            "group": self.group or None,
            "group_resolution": (
                None if self.group_resolution is None else self.group_resolution.to_dict()
            ),
            "stated_resolution": None if self.stated is None else self.stated.to_dict(),
            "target_resolution": self.target,
            "diagnosis": None if self.verdict is None else self.verdict.diagnosis,
            "tests": None if self.verdict is None else [t.to_dict() for t in self.verdict.tests],
        }


@dataclass(frozen=True)
class AuditReport:
    """Every parameter's audit; ``passed`` only when every checked parameter passed.

    A parameter whose tests do not reject but whose resolution does not reach the target is
    ``inconclusive`` (never a pass) and the report says how many builds would do.
    :meth:`assert_conforms` raises :class:`~weight_init.errors.CheckFailed` (an
    ``AssertionError``) naming every parameter that did not pass, its expected and its
    identified rule, and the command that reproduces the audit.

    Attributes
    ----------
    subject : str
        The report's title.
    builds : int
        The number of builds the statistics were streamed over.
    seed : int
        The seed of the builds.
    alpha : float
        The family-wise false-alarm rate of each parameter's check.
    params : tuple of ParamAudit
        One audit per parameter, in the model's order.
    reproduce : str, default ""
        A command (or Python call) that reproduces this audit.
    target : float, default 0.1
        The resolution (std error, power 0.99) every checked parameter must reach.
    outcome : str
        ``fail`` if any parameter failed, else ``inconclusive`` if any was inconclusive, else
        ``pass``.
    passed : bool
        ``outcome == "pass"``.

    Examples
    --------
    >>> import torch
    >>> from weight_init import audit
    >>> report = audit(lambda: torch.nn.Linear(128, 64, bias=False), subject="linear", alpha=1e-6)
    >>> print(report.format_table())
    linear: PASS (10 builds, seed 0, family-wise alpha 1e-06 per parameter or pooled group, ...)
    parameter  layer   shape   layout  fans    identified            fan rule         ...
    ---------  ------  ------  ------  ------  --------------------  ---------------  ...
    weight     Linear  64x128  out_in  128,64  uniform 1/(3 fan_in)  ...pass...std 2.8%, mean 0.063
    >>> report.assert_conforms()  # passes silently
    """

    subject: str
    builds: int
    seed: int
    alpha: float
    params: tuple[ParamAudit, ...]
    reproduce: str = ""  # a command (or Python call) that reproduces this audit
    target: float = DEFAULT_RESOLUTION  # the resolution every checked parameter must reach

    def _title(self) -> str:
        return (
            f"{self.subject}: {self.outcome.upper()} ({self.builds} builds, seed {self.seed}, "
            f"family-wise alpha {self.alpha:g} per parameter or pooled group, power "
            f"{powerplan.DEFAULT_POWER:g} at a {_pct(self.target)} std error)"
        )

    @property
    def outcome(self) -> str:
        """``fail`` if any parameter failed, else ``inconclusive`` if any was inconclusive, else
        ``pass`` (unchecked parameters do not count)."""
        outs = {p.outcome for p in self.params}
        if "fail" in outs:
            return "fail"
        return "inconclusive" if "inconclusive" in outs else "pass"

    @property
    def passed(self) -> bool:
        """``outcome == "pass"``: every checked parameter passed."""
        return self.outcome == "pass"

    def failure_message(self) -> str:
        """Every parameter that did not pass, and how to reproduce the audit.

        Returns
        -------
        str
            A heading, then per parameter its expected rule (and where it came from), the
            identified family and rule, the fan rule the draws fit and why it failed; then the
            reproduction.
        """
        lines = [self._title().replace(": ", ": audit ", 1)]
        for p in self.params:
            if p.outcome not in ("fail", "inconclusive"):
                continue
            identified = f"{p.family} {p.identified}".strip()
            fan_rule = f", fan rule: {p.fan_rule}" if p.fan_rule else ""
            lines.append(
                f"  {p.name} ({p.layer} {'x'.join(map(str, p.shape))}, {p.layout}, fans "
                f"{p.fans.fan_in},{p.fans.fan_out}): {p.outcome.upper()}; expected "
                f"{p.expected} ({p.expected_from}); identified {identified}{fan_rule}"
            )
            lines.append(f"    {p.note()}")
        if self.reproduce:
            lines.append(f"reproduce: {self.reproduce}")
        return "\n".join(lines)

    def assert_conforms(self) -> None:
        """Raise :class:`~weight_init.errors.CheckFailed` (an ``AssertionError``) with
        :meth:`failure_message` unless every checked parameter passed (an inconclusive
        parameter is not a pass)."""
        from weight_init.errors import CheckFailed

        if not self.passed:
            raise CheckFailed(self.failure_message())

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``subject``, ``builds``, ``seed``, ``alpha``, ``outcome`` and ``parameters``.

        Returns
        -------
        dict
            A JSON-serializable dict.
        """
        return {
            "subject": self.subject,
            "builds": self.builds,
            "seed": self.seed,
            "alpha": self.alpha,
            "target_resolution": self.target,
            "outcome": self.outcome,
            "parameters": [p.to_dict() for p in self.params],
            "aliases": {a: p.name for p in self.params for a in p.aliases},
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON with sorted keys.

        Returns
        -------
        str
            The JSON text.
        """
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    def format_table(self) -> str:
        """The audit as a fixed-width text table (what ``weight-init audit`` prints).

        Returns
        -------
        str
            The heading, one row per parameter, then a note for each that did not pass.
        """
        head = (
            "parameter",
            "layer",
            "shape",
            "layout",
            "fans",
            "identified",
            "fan rule",
            "closest",
            "expected",
            "quirks",
            "outcome",
            "detects (power 0.99)",
        )
        rows = [head]
        for p in self.params:
            closest = f"{p.closest} x{p.closest_ratio:.3g}" if p.closest else "-"
            rows.append(
                (
                    p.name,
                    p.layer,
                    "x".join(map(str, p.shape)),
                    p.layout,
                    f"{p.fans.fan_in},{p.fans.fan_out}",
                    f"{p.family} {p.identified}".strip(),
                    p.fan_rule or "-",
                    closest,
                    p.expected or "-",
                    "; ".join(p.quirks) or "-",
                    p.outcome,
                    _short(p),
                )
            )
            for a in p.aliases:
                rows.append((a, "-", "", "", "", "", "", "", "", f"tied to {p.name}", "tied", ""))
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        title = self._title()
        notes = [
            f"  {p.name}: {p.note()}" for p in self.params if p.outcome in ("fail", "inconclusive")
        ]
        return "\n".join([title, *lines, *notes])


def _pct(x: float) -> str:
    """A relative error as a percentage, e.g. ``4.8%`` (``any`` when nothing is detectable)."""
    if not math.isfinite(x):
        return "no"
    return "0 (exact)" if x == 0 else f"{100.0 * x:.2g}%"


def _short(p: ParamAudit) -> str:
    """The table's resolution cell: ``std 4.8%, mean 0.096`` and ``pooled (12)``."""
    r = p.stated
    if r is None:
        return "exact" if p.verdict is not None else "-"
    cell = f"std {_pct(r.std_error)}, mean {r.mean_shift:.2g}"
    return f"{cell}, pooled ({p.group_size})" if p.pooled else cell
