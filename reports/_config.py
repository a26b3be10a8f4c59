"""What a report runs: the experiments, the phase-diagram grid, the property suite, the checks.

Defaults reproduce the notes (ten tanh layers of 500 units, a 1000 x 500
standard-normal input) under zeros, small_normal (std 0.01), big_normal (std 1)
and the notes' xavier (variance 1/fan_in), add glorot_normal and he_normal under
ReLU (Glorot's 2/(fan_in+fan_out) halves the second moment per ReLU layer, He's
2/fan_in keeps it) and orthogonal under tanh, and size the phase diagram so the
whole default report runs in well under a minute on 2 cores.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

#: Output formats a report can be written in.
FORMATS: tuple[str, ...] = ("html", "md", "json")


@dataclass(frozen=True)
class ExperimentSpec:
    """One experiment: a scheme (a registered name or a scheme expression) under a
    registered activation."""

    scheme: str
    activation: str = "tanh"

    @property
    def label(self) -> str:
        return f"{self.scheme} / {self.activation}"

    @property
    def slug(self) -> str:
        """File-name stem of the experiment's figures (an expression's punctuation and
        spaces become ``_``)."""
        return re.sub(r"[^A-Za-z0-9_.+-]+", "_", f"{self.scheme}-{self.activation}")


DEFAULT_EXPERIMENTS: tuple[ExperimentSpec, ...] = (
    ExperimentSpec("zeros", "tanh"),
    ExperimentSpec("small_normal", "tanh"),
    ExperimentSpec("big_normal", "tanh"),
    ExperimentSpec("xavier", "tanh"),
    ExperimentSpec("glorot_normal", "relu"),
    ExperimentSpec("he_normal", "relu"),
    ExperimentSpec("orthogonal", "tanh"),
)


@dataclass(frozen=True)
class PhaseConfig:
    """The tanh phase diagram: ``sigma_w`` on a log grid (Var[W] = sigma_w^2 / fan_in), one
    forward pass of ``depth`` layers per ``sigma_w`` recording every depth.

    ``n_sigma`` points from ``sigma_min`` to ``sigma_max``, geometrically spaced
    (odd ``n_sigma`` with a symmetric range puts sigma_w = 1 on the grid).
    """

    sigma_min: float = 0.25
    sigma_max: float = 4.0
    n_sigma: int = 13
    depth: int = 24
    width: int = 256
    samples: int = 512

    def sigmas(self) -> list[float]:
        if self.n_sigma == 1:
            return [self.sigma_min]
        lo, hi = math.log(self.sigma_min), math.log(self.sigma_max)
        step = (hi - lo) / (self.n_sigma - 1)
        return [math.exp(lo + i * step) for i in range(self.n_sigma)]


@dataclass(frozen=True)
class CheckSpec:
    """``--check SPEC=SCHEME``: an initializer under test and the scheme it claims."""

    spec: str
    scheme: str
    layout: str | None = None


@dataclass(frozen=True)
class AuditSpec:
    """``--audit MODULE:FACTORY``: a torch model factory audited parameter by parameter
    against the ``--expect PATTERN=SCHEME[@LAYOUT]`` rules (first match wins), else each
    layer type's documented default; ``builds`` None: as many as the power plan asks."""

    spec: str
    expect: tuple[str, ...] = ()
    builds: int | None = None


@dataclass(frozen=True)
class PropagateSpec:
    """``--propagate MODULE:FACTORY=N,C,...``: a torch model's signal propagation, measured
    over ``builds`` builds on standard-normal inputs of ``input_shape`` and predicted."""

    spec: str
    input_shape: tuple[int, ...]
    builds: int = 8


@dataclass(frozen=True)
class ReportConfig:
    """Everything that determines a report's content, and nothing that does not.

    No paths, no clocks: ``summary.json`` is a function of this configuration and the
    versions. The defaults reproduce the notes (ten tanh layers of 500 units, a 1000 x 500
    standard-normal input) under zeros, small_normal (std 0.01), big_normal (std 1) and the
    notes' xavier (variance 1/fan_in), add glorot_normal and he_normal under ReLU (Glorot's
    2/(fan_in+fan_out) halves the second moment per ReLU layer, He's 2/fan_in keeps it) and
    orthogonal under tanh, and size the phase diagram so the whole default report runs in well
    under a minute on 2 cores.

    Parameters
    ----------
    experiments : tuple of ExperimentSpec
        The experiments: a registered scheme under a registered activation each.
    depth, width : int, default 10, 500
        The experiments' network: ``depth`` bias-free layers of ``width`` units.
    samples, input_dim : int, default 1000, 500
        The experiments' standard-normal input, ``samples x input_dim``.
    seed : int, default 0
        The seed of every part (experiments, phase diagram, suite, checks, audits).
    phase : PhaseConfig or None, default PhaseConfig()
        The tanh phase diagram's grid (None: no phase diagram).
    suite : bool, default True
        Run the property suite (:func:`~weight_init.properties.claims.run_suite`).
    checks : tuple of CheckSpec, default ()
        Conformance checks of user initializers (``--check SPEC=SCHEME``).
    audits : tuple of AuditSpec, default ()
        Model audits (``--audit MODULE:FACTORY``).
    propagations : tuple of PropagateSpec, default ()
        Signal propagation runs (``--propagate MODULE:FACTORY=N,C,...``).
    formats : tuple of str, default ("html", "md", "json")
        The output formats written.
    histogram_bins : int, default 30
        Bins of the activation histograms.
    saturation_threshold : float, default 0.9
        An activation with ``|h|`` above it counts as saturated.
    alpha : float, default 1e-3
        The family-wise false-fail rate of each property verdict of the suite.
    check_alpha : float, default 1e-4
        The family-wise false-alarm rate of each conformance check and audited parameter.

    Examples
    --------
    >>> from weight_init.reports import ReportConfig
    >>> from weight_init.reports._config import ExperimentSpec
    >>> config = ReportConfig(experiments=(ExperimentSpec("he_normal", "relu"),), depth=3)
    >>> config.to_dict()["experiments"]
    [{'scheme': 'he_normal', 'activation': 'relu'}]
    >>> ReportConfig().width, ReportConfig().samples
    (500, 1000)
    """

    experiments: tuple[ExperimentSpec, ...] = DEFAULT_EXPERIMENTS
    depth: int = 10
    width: int = 500
    samples: int = 1000
    input_dim: int = 500
    seed: int = 0
    phase: PhaseConfig | None = field(default_factory=PhaseConfig)
    suite: bool = True
    checks: tuple[CheckSpec, ...] = ()
    audits: tuple[AuditSpec, ...] = ()
    propagations: tuple[PropagateSpec, ...] = ()
    formats: tuple[str, ...] = FORMATS
    histogram_bins: int = 30
    saturation_threshold: float = 0.9
    alpha: float = 1e-3
    check_alpha: float = 1e-4

    def to_dict(self) -> dict[str, Any]:
        """JSON form of the configuration (``summary.json``'s ``config``).

        Returns
        -------
        dict
            A JSON-serializable dict.
        """
        d = asdict(self)
        d["experiments"] = [asdict(e) for e in self.experiments]
        d["checks"] = [asdict(c) for c in self.checks]
        d["audits"] = [{**asdict(a), "expect": list(a.expect)} for a in self.audits]
        d["propagations"] = [
            {**asdict(p), "input_shape": list(p.input_shape)} for p in self.propagations
        ]
        d["formats"] = list(self.formats)
        return d
