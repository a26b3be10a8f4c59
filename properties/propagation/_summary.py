"""Pool the builds' figures into a :class:`~._result.PropagationResult`: per-record spreads,
the mean-field prediction (:mod:`._predict`, :mod:`._backward`) from the weights' pooled
(or declared) variances, residual pairs, parameter gradients and the diagnosis
(:mod:`._diagnose`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from weight_init.properties.propagation._backward import Predictor
from weight_init.properties.propagation._diagnose import (
    BlockGrowth,
    Diagnosis,
    disagreement_tests,
    gate,
    growth,
    residual_trend,
)
from weight_init.properties.propagation._graph import Node, branch_and_skip
from weight_init.properties.propagation._measure import BuildMeasurement
from weight_init.properties.propagation._predict import Moments, NodePrediction, Pooled
from weight_init.properties.propagation._result import (
    ModuleRecord,
    ParamRecord,
    PropagationResult,
    Residual,
    Spread,
)
from weight_init.properties.propagation._stats import fraction_kind


def _declare(
    pooled: dict[str, Pooled], runs: list[BuildMeasurement], nodes: list[Node], rules: list[Any]
) -> dict[str, str]:
    """Replace matching parameters' pooled moments by their declared scheme's (in place);
    returns parameter -> scheme name."""
    from weight_init.layouts import get_layout

    owners: dict[str, tuple[Node, str]] = {}
    for node in nodes:
        for role in ("weight", "bias"):
            name = node.attrs.get(role)
            if name:
                owners.setdefault(name, (node, role))
    declared = {}
    for name, pm in runs[0].params.items():
        rule = next((r for r in rules if r.matches(name)), None)
        if rule is None or name not in pooled:
            continue
        node_role = owners.get(name)
        shape = pm.shape
        if node_role is not None and node_role[1] == "bias" and node_role[0].attrs.get("weight"):
            shape = runs[0].params[node_role[0].attrs["weight"]].shape
        layout = rule.layout or (
            "torch.conv" if node_role is not None and node_role[0].op.kind == "conv" else "out_in"
        )
        if len(shape) >= 2:
            fans = get_layout(layout).fans(shape)
            fan_in, fan_out = fans.fan_in, fans.fan_out
        else:
            fan_in = fan_out = shape[0] if shape else 1
        v = rule.scheme.variance(fan_in, fan_out)
        mu = rule.scheme.mean()
        pooled[name] = Pooled(mu, v + mu * mu, pooled[name].count)
        declared[name] = rule.scheme.name
    return declared


def _pooled(runs: list[BuildMeasurement]) -> dict[str, Pooled]:
    out = {}
    for name in runs[0].params:
        parts = [r.params[name] for r in runs if name in r.params]
        count = sum(p.count for p in parts)
        if count:
            out[name] = Pooled(
                sum(p.total for p in parts) / count, sum(p.squares for p in parts) / count, count
            )
    return out


def _measured(runs: list[BuildMeasurement], i: int) -> Moments | None:
    stats = [r.stats[i] for r in runs]
    if any(s is None for s in stats):
        return None
    mean = float(np.mean([s.mean for s in stats]))  # type: ignore[union-attr]
    second = float(np.mean([s.second_moment for s in stats]))  # type: ignore[union-attr]
    csm = float(np.mean([s.ch_sq_mean for s in stats]))  # type: ignore[union-attr]
    return Moments(mean, second, csm)


def _recorded_source(nodes: list[Node], runs: list[BuildMeasurement], i: int | None) -> int | None:
    """``i``, or through reshapes the node it reshapes, whichever is recorded."""
    while i is not None and runs[0].stats[i] is None:
        node = nodes[i]
        i = node.inputs[0] if node.op.kind == "shape" and node.inputs else None
    return i


def _spread(values: list[float | None]) -> Spread | None:
    if not values or any(v is None for v in values):
        return None
    return Spread.of([float(v) for v in values if v is not None])


def summarize(
    runs: list[BuildMeasurement],
    subject: str,
    seed: int,
    mode: str,
    shapes: tuple[tuple[int, ...], ...],
    tolerance: float,
    alpha: float,
    max_growth: float | None,
    flat_ratio: float,
    rules: list[Any] | None = None,
    declared_input: Moments | None = None,
) -> PropagationResult:
    """Pool the builds' figures, predict, diagnose."""
    first = runs[0]
    nodes = first.nodes
    n = len(nodes)
    pooled = _pooled(runs)
    declared = _declare(pooled, runs, nodes, rules or [])
    measured = [_measured(runs, i) for i in range(n)]
    grad_sq: list[float | None] = []
    for i in range(n):
        gs = [r.grads[i] for r in runs]
        grad_sq.append(
            None
            if any(g is None for g in gs)
            else float(np.mean([g.mean_square for g in gs if g is not None]))
        )
    anchors = {}
    for i in first.anchors:
        st = [r.anchors.get(i) for r in runs]
        if all(s is not None for s in st):
            anchors[i] = Moments(
                float(np.mean([s.mean for s in st if s is not None])),
                float(np.mean([s.second_moment for s in st if s is not None])),
                float(np.mean([s.ch_sq_mean for s in st if s is not None])),
            )
    predictor = Predictor(nodes, pooled, measured, grad_sq, anchors, declared_input)
    out_i = _recorded_source(nodes, runs, first.output)
    rows = 1
    if first.output is not None and nodes[first.output].shape:
        rows = max(int(nodes[first.output].shape[0]), 1)  # type: ignore[index]
    preds = predictor.backward(predictor.forward(), first.output, rows)
    records = _records(runs, nodes, preds)
    params = _params(runs, nodes, preds, predictor, pooled)
    diagnosis = _diagnose(runs, nodes, records, out_i, tolerance, alpha, max_growth, flat_ratio)
    notes = (
        f"{mode} mode ("
        + ("batch statistics, dropout active" if mode == "train" else "running statistics")
        + ")",
        f"graph: {first.trace_note}",
        "predictions use each weight's variance pooled over the builds"
        + (f" ({len(declared)} parameters declared by --expect)" if declared else ""),
    )
    return PropagationResult(
        subject,
        len(runs),
        seed,
        mode,
        "torch.fx trace" if first.traced else "module order",
        shapes,
        tuple(records),
        tuple(params),
        diagnosis,
        notes=notes,
    )


def _records(
    runs: list[BuildMeasurement], nodes: list[Node], preds: list[NodePrediction]
) -> list[ModuleRecord]:
    out: list[ModuleRecord] = []
    for i, node in enumerate(nodes):
        stats = [r.stats[i] for r in runs]
        if any(s is None for s in stats):
            continue
        st = [s for s in stats if s is not None]
        p = preds[i]
        mo = p.moments if p.status != "input" else None
        act = node.op.activation.name if node.op.activation is not None else None
        grads = [r.grads[i] for r in runs]
        gspread = _spread([None if g is None else g.std for g in grads])
        residual = None
        pair = branch_and_skip(nodes, node)
        if pair is not None:
            br = _recorded_source(nodes, runs, pair[0])
            sk = _recorded_source(nodes, runs, pair[1])
            bvar = _spread([None if br is None else _var(r, br) for r in runs])
            svar = _spread([None if sk is None else _var(r, sk) for r in runs])
            bm = preds[pair[0]].moments
            residual = Residual(
                nodes[pair[0]].name, nodes[pair[1]].name, bvar, svar, None if bm is None else bm.var
            )
        out.append(
            ModuleRecord(
                index=len(out),
                name=node.name,
                type=node.type_name,
                kind=node.op.kind,
                shape=tuple(node.shape or ()),
                channel_dim=node.channel_dim,
                mean=Spread.of([s.mean for s in st]),
                std=Spread.of([s.std for s in st]),
                ch_sq_mean=Spread.of([s.ch_sq_mean for s in st]),
                ch_var=Spread.of([s.ch_var for s in st]),
                fraction=_spread([s.fraction for s in st]),
                fraction_kind=fraction_kind(act),
                grad_std=gspread,
                predicted_mean=None if mo is None else mo.mean,
                predicted_std=None if mo is None else mo.std,
                predicted_ch_sq_mean=None if mo is None else mo.csm,
                predicted_ch_var=None if mo is None else mo.ch_var,
                predicted_fraction=p.fraction,
                predicted_grad_std=None if p.grad_sq is None else math.sqrt(p.grad_sq),
                status=p.status,
                reason=p.reason,
                basis=p.basis,
                grad_reason=p.grad_reason,
                residual=residual,
            )
        )
    return out


def _var(run: BuildMeasurement, i: int) -> float | None:
    s = run.stats[i]
    return None if s is None else s.std**2


def _params(
    runs: list[BuildMeasurement],
    nodes: list[Node],
    preds: list[NodePrediction],
    predictor: Predictor,
    pooled: dict[str, Pooled],
) -> list[ParamRecord]:
    predicted: dict[str, float] = {}
    for node in nodes:
        for name, sq in predictor.param_grad_sq(preds, node).items():
            predicted.setdefault(name, math.sqrt(sq))
    grads = {}
    out = []
    for name, pm in runs[0].params.items():
        if name not in runs[0].param_grad_norms and name not in pooled:
            continue
        if name.endswith(("running_mean", "running_var", "num_batches_tracked")):
            continue
        grads[name] = _spread([r.param_grad_norms.get(name) for r in runs])
        out.append(
            ParamRecord(
                name, pm.shape, math.sqrt(pooled[name].var), grads[name], predicted.get(name)
            )
        )
    return out


def _diagnose(
    runs: list[BuildMeasurement],
    nodes: list[Node],
    records: list[ModuleRecord],
    out_i: int | None,
    tolerance: float,
    alpha: float,
    max_growth: float | None,
    flat_ratio: float,
) -> Diagnosis:
    by_name = {r.name: r for r in records}
    index = {node.name: i for i, node in enumerate(nodes)}
    tested = [r for r in records if r.status == "predicted"]
    disagreements = disagreement_tests(
        [r.name for r in tested],
        [[_std(run, index[r.name]) for run in runs] for r in tested],
        [r.predicted_std for r in tested],
        tolerance,
        alpha,
    )
    inputs = [i for i, node in enumerate(nodes) if node.op.kind == "input" and runs[0].stats[i]]
    layers = [i for i, node in enumerate(nodes) if node.op.kind in ("linear", "conv")]
    signal = gradient = None
    if inputs and out_i is not None:
        ratios = [_ratio(_std(r, out_i), _std(r, inputs[0])) for r in runs]
        signal = growth("signal", nodes[inputs[0]].name, nodes[out_i].name, ratios, len(layers))
    weights = [nodes[i].attrs.get("weight") for i in layers]
    graded = [w for w in weights if w and all(r.param_grad_norms.get(w, 0.0) > 0 for r in runs)]
    if len(graded) >= 2:
        ratios = [_ratio(_relative(r, graded[0]), _relative(r, graded[-1])) for r in runs]
        gradient = growth("gradient", graded[-1], graded[0], ratios, len(layers))
    adds = [r for r in records if r.residual is not None]
    block_names = [r.name for r in adds] or [
        nodes[i].name for i in layers if nodes[i].name in by_name
    ]
    blocks = []
    prev = by_name.get(nodes[inputs[0]].name) if inputs else None
    for name in block_names:
        rec = by_name[name]
        sig = rec.std.mean / prev.std.mean if prev is not None and prev.std.mean > 0 else None
        grad = None
        if prev is not None and prev.grad_std is not None and rec.grad_std is not None:
            here = rec.grad_std.mean * math.sqrt(math.prod(rec.shape))
            there = prev.grad_std.mean * math.sqrt(math.prod(prev.shape))
            grad = there / here if here > 0 else None
        blocks.append(BlockGrowth(name, sig, grad))
        prev = rec
    trend = residual_trend(
        [r.std.mean**2 for r in adds],
        [None if r.predicted_std is None else r.predicted_std**2 for r in adds],
        flat_ratio,
    )
    return Diagnosis(
        tolerance,
        alpha,
        disagreements,
        signal,
        gradient,
        tuple(blocks),
        trend,
        max_growth,
        tuple(gate(signal, gradient, max_growth)),
    )


def _relative(run: BuildMeasurement, name: str) -> float:
    """``||dL/dW|| / ||W||`` of parameter ``name`` in one build."""
    pm = run.params[name]
    norm = math.sqrt(pm.squares)
    return run.param_grad_norms[name] / norm if norm > 0 else math.inf


def _std(run: BuildMeasurement, i: int) -> float:
    s = run.stats[i]
    return math.nan if s is None else s.std


def _gstd(run: BuildMeasurement, i: int) -> float:
    g = run.grads[i]
    return math.nan if g is None else g.std


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else math.inf if a > 0 else math.nan
