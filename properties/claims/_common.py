"""Pieces every property shares: the reported-statistics check and the per-layer law tests."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from weight_init.activations import get_activation
from weight_init.properties._results import TestResult
from weight_init.properties._subject import Run
from weight_init.properties.claims import _assertions as A
from weight_init.properties.claims import _conditional as C
from weight_init.properties.claims._mean_law import (
    MAX_TAIL_SIMULATED,
    TAIL_SKEW_SE,
    refines,
    units_needed,
)
from weight_init.schemes import Scheme

Array = NDArray[np.float64]

#: Relative shift of a layer statistic that the per-layer law tests must detect.
LAW_EFFECT = 0.2
#: Fewest units for which a per-layer t-test is run (fewer: the layer is skipped).
MIN_UNITS = 16


def reported_statistics(run: Run) -> TestResult:
    """Exact: the reported means and stds are those of the returned activations (ddof 0).

    Bound: 1e-9 relative to max(1, |value|) (float64 accumulation differences only).
    """
    worst = 0.0
    where = ""
    if len(run.means) != len(run.acts) or len(run.stds) != len(run.acts):
        return A.exact(
            "reported statistics",
            math.inf,
            1e-9,
            False,
            "means/stds do not have one entry per layer",
            f"{len(run.acts)} layers, {len(run.means)} means, {len(run.stds)} stds",
        )
    for i, h in enumerate(run.acts):
        for what, got, want in (
            ("mean", run.means[i], float(h.mean())),
            ("std", run.stds[i], float(h.std())),
        ):
            err = abs(got - want) / max(1.0, abs(want))
            if err > worst:
                worst, where = (
                    err,
                    f"layer {i + 1} {what}: reported {got:.9g}, activations {want:.9g}",
                )
    return A.exact(
        "reported statistics",
        worst,
        1e-9,
        worst <= 1e-9,
        "the reported means/stds are not those of the returned activations",
        where or "all layers agree",
    )


def previous(run: Run, layer: int) -> Array | None:
    """Input of (1-based) ``layer``: the activations before it, or x (None if unknown)."""
    return run.x if layer == 1 else run.acts[layer - 2]


def unit_means(values: Array) -> Array:
    """Per-unit (column) means of a layer statistic: iid across units given the previous layer."""
    return np.asarray(values.mean(axis=0), dtype=np.float64)


#: Simulated units per layer from which a test takes its null spread (relative sd of the
#: estimated sd: about 1 / sqrt(2 * 512) = 3% for near-normal unit statistics).
SIM_UNITS = 512


@dataclass(frozen=True)
class UnitLaw:
    """Where a layer's unit statistics come from under the claim: ``stat(phi(h_prev @ W))``
    averaged over the rows, W of ``n_units`` columns drawn from ``scheme``."""

    h_prev: Array
    scheme: Scheme
    activation: str
    n_units: int
    stat: Callable[[Array], Array]

    def simulate(self, rng: np.random.Generator, total: int = SIM_UNITS) -> Array:
        """``total`` (rounded up to whole layers) unit statistics from fresh weights."""
        phi = get_activation(self.activation)
        out = []
        for _ in range(max(1, math.ceil(total / self.n_units))):
            w = self.scheme.sample(self.h_prev.shape[1], self.n_units, rng=rng)
            out.append(unit_means(self.stat(phi.phi(self.h_prev @ w))))  # type: ignore[arg-type]
        return np.concatenate(out)


class SimulatedUnits(np.ndarray[Any, np.dtype[np.float64]]):
    """Unit statistics simulated under the claim (an array), with the :class:`UnitLaw` they
    come from and the generator that drew them, so that a test can draw more units from
    the same law where its tail needs them (:func:`refine_units`). An array computed from
    it has neither (``None``): its values are no longer draws of that law."""

    law: UnitLaw | None
    rng: np.random.Generator | None

    def __array_finalize__(self, obj: object) -> None:
        self.law = None
        self.rng = None


def _simulated(sims: Array, law: UnitLaw, rng: np.random.Generator) -> SimulatedUnits:
    out = sims.view(SimulatedUnits)
    out.law, out.rng = law, rng
    record = _RECORD.get()
    if record is not None:
        record.sims[id(out)] = (out, law)
    return out


def simulate_units(
    h_prev: Array,
    scheme: Scheme,
    activation: str,
    n_units: int,
    stat: Callable[[Array], Array],
    rng: np.random.Generator,
    total: int = SIM_UNITS,
) -> SimulatedUnits:
    """Unit statistics of fresh layers ``phi(h_prev @ W)``, W drawn from ``scheme``: the claim's
    null spread given the same input: a pilot of ``total`` units (``ceil(total / n_units)``
    weight draws) sizes a fresh sample that knows the skewness of the mean of ``n_units``
    units well enough (:func:`~weight_init.properties.claims._mean_law.units_needed`, at
    least ``total`` units; see :mod:`~weight_init.properties.claims._mean_law`), and the
    fresh sample is returned."""
    law = UnitLaw(h_prev, scheme, activation, n_units, stat)
    pilot = law.simulate(rng, total)
    return _simulated(law.simulate(rng, int(units_needed(pilot, n_units))), law, rng)


def refine_units(sims: SimulatedUnits) -> SimulatedUnits:
    """A fresh sample from ``sims``' law, for a p-value in the tail (:func:`~weight_init.
    properties.claims._mean_law.refines`): ``sims`` sizes it as a pilot would, for the
    mean's skewness to ``TAIL_SKEW_SE`` (at least ``sims``' size, at most
    ``MAX_TAIL_SIMULATED`` units; :mod:`~weight_init.properties.claims._mean_law`)."""
    law, rng = sims.law, sims.rng
    if law is None or rng is None:
        raise ValueError("refine_units needs units from simulate_units")
    size = int(units_needed(np.asarray(sims), law.n_units, TAIL_SKEW_SE, MAX_TAIL_SIMULATED))
    return _simulated(law.simulate(rng, size), law, rng)


@dataclass(frozen=True)
class PointNullLayer:
    """One point-null layer test as a property ran it: its units' law and the tested value."""

    name: str
    law: UnitLaw
    expected: float
    positive: bool


@dataclass
class PointNullRecord:
    """The point-null layer tests of one property call and their combined tests (name,
    indices into ``layers``), recorded by :func:`recording_point_nulls`."""

    layers: list[PointNullLayer] = field(default_factory=list)
    combined: list[tuple[str, list[int]]] = field(default_factory=list)
    sims: dict[int, tuple[Array, UnitLaw]] = field(default_factory=dict, repr=False)
    tests: dict[int, tuple[A.BandTest, int]] = field(default_factory=dict, repr=False)


_RECORD: ContextVar[PointNullRecord | None] = ContextVar("point_null_record", default=None)


@contextmanager
def recording_point_nulls() -> Iterator[PointNullRecord]:
    """Record every point-null layer test (with simulated units) run inside the block.

    For the calibration of the p-values' tails (:mod:`weight_init.app._calibration.
    property_calibration`), which redraws such tests many times from their units' law.
    """
    record = PointNullRecord()
    token = _RECORD.set(record)
    try:
        yield record
    finally:
        _RECORD.reset(token)


def _band_test(
    u: Array, lower: float, upper: float, null: Array | None, positive: bool, **kw: object
) -> A.BandTest:
    """:func:`~weight_init.properties.claims._assertions.band_test`; a point null whose
    p-value falls in the tail (:func:`~weight_init.properties.claims._mean_law.refines`) is
    tested again against a fresh, larger simulation of its units (:func:`refine_units`),
    with the law of the mean from those units' empirical saddlepoint law (``saddlepoint``),
    and that test is the result."""
    res = A.band_test(u, lower, upper, null=null, positive=positive, **kw)  # type: ignore[arg-type]
    p = res.result.p_value
    if (
        isinstance(null, SimulatedUnits)
        and null.law is not None
        and lower == upper
        and p is not None
        and bool(refines(p))
    ):
        null = refine_units(null)
        res = A.band_test(
            u,
            lower,
            upper,
            null=null,
            positive=positive,
            saddlepoint=True,
            **kw,  # type: ignore[arg-type]
        )
    record = _RECORD.get()
    if record is not None and null is not None and lower == upper and id(null) in record.sims:
        law = record.sims[id(null)][1]
        record.tests[id(res)] = (res, len(record.layers))
        record.layers.append(PointNullLayer(res.result.name, law, float(lower), positive))
    return res


def layer_rng(seed: int, layer: int, salt: int = 0) -> np.random.Generator:
    """The Generator of a property's simulations for one layer (seeded from the case's seed)."""
    return np.random.default_rng([int(seed) % 2**63, layer, salt, 7919])


@dataclass(frozen=True)
class LayerSample:
    """One layer's band test and the shift the family's combined test must detect."""

    test: A.BandTest
    effect: float

    @property
    def result(self) -> TestResult:
        return self.test.result


def law_test(
    run: Run,
    layer: int,
    scheme: Scheme,
    stat: Callable[[Array], Array],
    expect: Callable[[float], float],
    *,
    what: str,
    alpha: float,
    seed: int,
    positive: bool = True,
    effect: float = LAW_EFFECT,
    absolute_effect: float | None = None,
) -> LayerSample | None:
    """Per-unit mean of ``stat(h)`` equals ``mean_a expect(v ||H_prev,a||^2)`` (a point null:
    two-sided, its p-value uniform under the claim, see :func:`assertions.band_test`).

    The expectation is the theory's, with the Edgeworth correction for non-Gaussian
    weights (:mod:`weight_init.properties.claims._conditional`); the spread is simulated
    (:func:`simulate_units`).
    A component test (no power requirement of its own; see :func:`combined`). None
    when the layer's input is unknown or the layer has < MIN_UNITS units.
    """
    h_prev = previous(run, layer)
    h = run.acts[layer - 1]
    if h_prev is None or h.shape[1] < MIN_UNITS:
        return None
    variance = scheme.variance(h_prev.shape[1], h.shape[1])
    qs = C.sample_variances(h_prev, variance)
    phi = get_activation(run.activation)
    hermite = C.hermite4_fn(lambda v: stat(phi.phi(v)))  # type: ignore[arg-type]
    kurt = C.sample_kurtosis(h_prev, scheme.family)
    expected = C.expected_over_samples(expect, qs, kurt, hermite)
    u = unit_means(stat(h))
    null = simulate_units(h_prev, scheme, run.activation, h.shape[1], stat, layer_rng(seed, layer))
    shift = absolute_effect if absolute_effect is not None else effect * abs(expected)
    res = _band_test(
        u,
        expected,
        expected,
        name=f"layer {layer} {what}",
        alpha=alpha,
        effect=None,
        explanation=f"layer {layer}'s {what} is not the mean-field law given layer {layer - 1}",
        null=null,
        positive=positive,
        detail=f"expected {expected:.6g} given the previous layer (variance {variance:.4g})",
    )
    return LayerSample(res, shift)


def band_sample(
    u: Array,
    lower: float,
    upper: float,
    effect: float,
    *,
    name: str,
    alpha: float,
    explanation: str,
    null: Array | None = None,
    positive: bool = True,
    detail: str = "",
) -> LayerSample:
    """A per-layer band test (spread from ``null`` when given) as a component of a combined test."""
    res = _band_test(
        u,
        lower,
        upper,
        name=name,
        alpha=alpha,
        effect=None,
        explanation=explanation,
        null=null,
        positive=positive,
        detail=detail,
    )
    return LayerSample(res, effect)


def combined(
    samples: Sequence[LayerSample | None], *, name: str, alpha: float, explanation: str
) -> list[TestResult]:
    """The per-layer component results followed by their Stouffer combination."""
    present = [s for s in samples if s is not None]
    if not present:
        return []
    out = [s.result for s in present]
    record = _RECORD.get()
    if record is not None:
        idx = [record.tests[id(s.test)][1] for s in present if id(s.test) in record.tests]
        if len(idx) == len(present):
            record.combined.append((name, idx))
    out.append(
        A.combined_band_test(
            [s.test for s in present],
            [s.effect for s in present],
            name=name,
            alpha=alpha,
            explanation=explanation,
        )
    )
    return out


def second_moment_law(
    run: Run, layer: int, scheme: Scheme, alpha: float, seed: int
) -> LayerSample | None:
    phi = get_activation(run.activation)
    return law_test(
        run,
        layer,
        scheme,
        np.square,
        C.second_moment_fn(phi),
        what="second moment",
        alpha=alpha,
        seed=seed,
    )


def mean_law(run: Run, layer: int, scheme: Scheme, alpha: float, seed: int) -> LayerSample | None:
    """Per-unit mean vs E[phi]; the effect is LAW_EFFECT of the layer's rms (the mean may be ~0)."""
    phi = get_activation(run.activation)
    rms = math.sqrt(float(np.mean(np.square(run.acts[layer - 1])))) or 1.0
    return law_test(
        run,
        layer,
        scheme,
        lambda h: h,
        C.mean_fn(phi),
        what="mean",
        alpha=alpha,
        seed=seed + 1,
        positive=False,
        absolute_effect=LAW_EFFECT * rms,
    )


__all__ = [
    "LAW_EFFECT",
    "MIN_UNITS",
    "SIM_UNITS",
    "LayerSample",
    "PointNullLayer",
    "PointNullRecord",
    "SimulatedUnits",
    "UnitLaw",
    "band_sample",
    "combined",
    "law_test",
    "layer_rng",
    "mean_law",
    "previous",
    "recording_point_nulls",
    "refine_units",
    "reported_statistics",
    "second_moment_law",
    "simulate_units",
    "unit_means",
]
