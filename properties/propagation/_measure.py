"""Measure one build of a model: statistics of every operation's output and gradient, streamed.

One forward and one backward pass per build. Forward: the traced graph (:mod:`._graph`) is
run by a ``torch.fx.Interpreter`` that computes :func:`~._stats.tensor_stats` of each node's
output as it is produced (and frees it when no later node needs it); when the model cannot be
traced, the model itself runs with a forward hook on every module doing the same. Each
recorded output gets a tensor hook (``Tensor.register_hook``) that computes the statistics
of its gradient during the backward pass. Nothing is kept but the figures: every hook is
removed when the pass ends, whether it succeeded or raised, and the model's train/eval mode
is the one the caller set.

Backward: a random linear read-out ``L = sum(G * y)`` of the model's output ``y`` (its first
floating tensor when it returns several), ``G`` i.i.d. ``N(0, 1) / m`` with ``m = y.shape[0]``
drawn from ``numpy.random.default_rng([seed, build, 1])``: the report's read-out, which probes
how gradients propagate without depending on the output's scale. After it, the norm of
each parameter's gradient.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

from weight_init.errors import InvalidInputError, describe_exception
from weight_init.properties.propagation._graph import (
    CONTAINERS,
    Node,
    module_attrs,
    resolve_layouts,
    set_depths,
    trace_graph,
)
from weight_init.properties.propagation._ops import Op, classify_module
from weight_init.properties.propagation._stats import (
    GradStats,
    TensorStats,
    grad_stats,
    tensor_stats,
)


@dataclass(frozen=True)
class ParamMoments:
    """Sums over one parameter's entries in one build: ``sum w``, ``sum w^2``, count, shape."""

    total: float
    squares: float
    count: int
    shape: tuple[int, ...] = ()


@dataclass
class BuildMeasurement:
    """One build's figures: per node (index as in ``nodes``) the output's and the gradient's
    statistics (None: not recorded), the input statistics of nodes whose input no node
    produced (module order), each parameter's sums and gradient norm."""

    nodes: list[Node]
    stats: list[TensorStats | None]
    grads: list[GradStats | None]
    anchors: dict[int, TensorStats]
    params: dict[str, ParamMoments]
    param_grad_norms: dict[str, float]
    traced: bool
    trace_note: str
    output: int | None


def _floating(value: Any) -> Any:
    """The first floating-point tensor in ``value`` (a tensor, tuple, list or dict), or None."""
    import torch

    if isinstance(value, torch.Tensor):
        return value if value.is_floating_point() else None
    items = value.values() if isinstance(value, dict) else value
    if isinstance(items, (tuple, list)) or isinstance(value, dict):
        for v in items:
            t = _floating(v)
            if t is not None:
                return t
    return None


def _activation_key(node: Node) -> str | None:
    return node.op.activation.name if node.op.activation is not None else None


class _Recorder:
    """Per-node statistics and gradient hooks for one pass."""

    def __init__(self, nodes: list[Node]) -> None:
        self.nodes = nodes
        self.stats: list[TensorStats | None] = [None] * len(nodes)
        self.grads: list[GradStats | None] = [None] * len(nodes)
        self.handles: list[Any] = []
        self.produced: dict[int, tuple[Any, int]] = {}

    def mark(self, i: int, value: Any) -> None:
        """Remember that node ``i`` produced the tensor ``value`` (by identity, weakly)."""
        t = _floating(value)
        if t is not None:
            self.produced[id(t)] = (weakref.ref(t), i)

    def source(self, t: Any) -> int | None:
        """The node that produced the tensor ``t`` last, None if none did."""
        hit = self.produced.get(id(t))
        if hit is not None and hit[0]() is t:
            return int(hit[1])
        return None

    def grow(self) -> None:
        self.stats.append(None)
        self.grads.append(None)

    def record(self, i: int, value: Any) -> None:
        node = self.nodes[i]
        t = _floating(value)
        if t is None:
            node.recorded = False
            return
        node.shape = tuple(int(s) for s in t.shape)
        if not node.recorded:
            return
        if node.op.kind != "input":
            _layout_one(self.nodes, i)
        self.stats[i] = tensor_stats(t, node.channel_dim, _activation_key(node))
        if t.requires_grad:

            def on_grad(g: Any, i: int = i) -> None:
                self.grads[i] = grad_stats(g)

            self.handles.append(t.register_hook(on_grad))

    def remove(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles.clear()


def _layout_one(nodes: list[Node], i: int) -> None:
    node = nodes[i]
    own = node.op.channels_first
    if own is None and node.inputs:
        own = nodes[node.inputs[0]].channels_first
    if own is None:
        own = node.shape is not None and len(node.shape) >= 4
    node.channels_first = bool(own)


def _run_traced(model: Any, args: tuple[Any, ...]) -> tuple[list[Node], _Recorder, Any]:
    import torch.fx as fx

    gm, nodes, index = trace_graph(model)
    rec = _Recorder(nodes)

    class Probe(fx.Interpreter):
        def run_node(self, n: Any) -> Any:
            out = super().run_node(n)
            i = index.get(n)
            if i is not None:
                if nodes[i].op.kind == "shape":
                    t = _floating(out)
                    nodes[i].shape = None if t is None else tuple(int(s) for s in t.shape)
                    _layout_one(nodes, i)
                else:
                    rec.record(i, out)
                rec.mark(i, out)
            return out

    try:
        out = Probe(gm).run(*args)
    except BaseException:
        rec.remove()
        raise
    resolve_layouts_shapes(nodes)
    return nodes, rec, out


def resolve_layouts_shapes(nodes: list[Node]) -> None:
    """Nodes that never held a tensor (sizes, tuples of ints) are not recorded, and no node
    counts them among its inputs (``x.view(B, -1)`` has one tensor input)."""
    for node in nodes:
        if node.shape is None:
            node.recorded = False
    for node in nodes:
        node.inputs = tuple(j for j in node.inputs if nodes[j].shape is not None)


def _run_hooked(
    model: Any, args: tuple[Any, ...]
) -> tuple[list[Node], _Recorder, Any, dict[int, TensorStats]]:
    nodes: list[Node] = []
    rec = _Recorder(nodes)
    anchors: dict[int, TensorStats] = {}
    seen: dict[str, int] = {}
    paths = {m: name for name, m in model.named_modules()}

    source = rec.source

    def hook(module: Any, inputs: Any, output: Any) -> None:
        path = paths.get(module, type(module).__name__)
        op = classify_module(module)
        t_in = _floating(inputs)
        t_out = _floating(output)
        has_children = any(True for _ in module.children())
        src = source(t_out) if has_children and t_out is not None else None
        if has_children and src is not None:  # a block whose output is a child's
            op = Op("shape", type(module).__name__)
        elif has_children:
            op = Op("unknown", type(module).__name__)
        seen[path] = seen.get(path, 0) + 1
        name = path if seen[path] == 1 else f"{path}#{seen[path]}"
        i = len(nodes)
        if src is not None:
            inputs_idx: tuple[int, ...] = (src,)
        else:
            s = source(t_in) if t_in is not None else None
            inputs_idx = () if s is None else (s,)
        node = Node(name, type(module).__name__, op, inputs_idx, module=path, scope=path)
        node.attrs = module_attrs(module, op, path)
        nodes.append(node)
        rec.grow()
        if not inputs_idx and t_in is not None:
            anchors[i] = tensor_stats(t_in, 1 if t_in.dim() >= 4 else t_in.dim() - 1)
        rec.record(i, output)
        rec.mark(i, output)

    for k, a in enumerate(args):
        t = _floating(a)
        if t is not None:
            node = Node("input" if k == 0 else f"input{k}", "input", Op("input", "input"))
            nodes.append(node)
            rec.grow()
            rec.record(len(nodes) - 1, t)
            rec.mark(len(nodes) - 1, t)
    handles = [
        m.register_forward_hook(hook)
        for m in model.modules()
        if m is not model and type(m).__name__ not in CONTAINERS
    ]
    try:
        out = model(*args)
    except BaseException:
        rec.remove()
        raise
    finally:
        for h in handles:
            h.remove()
    set_depths(nodes)
    resolve_layouts(nodes)
    return nodes, rec, out, anchors


def measure_build(
    model: Any, args: tuple[Any, ...], seed: int, build: int, *, trace: bool = True
) -> BuildMeasurement:
    """Forward and backward of ``model`` on ``args`` (module docstring) -> its figures.

    Raises :class:`~weight_init.errors.InvalidInputError` naming the exception when the
    model's forward (or the read-out's backward) raises."""
    import torch

    note = "torch.fx trace"
    nodes: list[Node] | None = None
    anchors: dict[int, TensorStats] = {}
    if trace:
        try:
            nodes, rec, out = _run_traced(model, args)
        except (Exception, SystemExit) as exc:  # untraceable, or the traced run raised
            note = f"module order (torch.fx could not trace: {describe_exception(exc)})"
            nodes = None
    else:
        note = "module order (tracing not requested)"
    if nodes is None:
        try:
            nodes, rec, out, anchors = _run_hooked(model, args)
        except (Exception, SystemExit) as exc:
            raise InvalidInputError(
                f"the model's forward raised {describe_exception(exc)} for inputs of shape "
                f"{_shapes(args)}"
            ) from None
    y = _floating(out)
    output_index = rec.source(y) if y is not None else None
    try:
        for p in model.parameters():
            p.grad = None
        if y is not None and y.requires_grad:
            g = np.random.default_rng([seed, build, 1]).standard_normal(tuple(y.shape))
            g = g / max(int(y.shape[0]) if y.dim() else 1, 1)
            loss = (torch.from_numpy(g).to(dtype=y.dtype) * y).sum()
            loss.backward()
    except (Exception, SystemExit) as exc:
        raise InvalidInputError(
            f"the backward pass through the model raised {describe_exception(exc)}"
        ) from None
    finally:
        rec.remove()
    params: dict[str, ParamMoments] = {}
    norms: dict[str, float] = {}
    with torch.no_grad():
        for name, p in model.named_parameters():
            w = p.detach()
            params[name] = ParamMoments(
                float(w.sum(dtype=torch.float64)),
                float(w.square().sum(dtype=torch.float64)),
                int(w.numel()),
                tuple(int(d) for d in w.shape),
            )
            if p.grad is not None:
                norms[name] = float(p.grad.detach().double().norm())
                p.grad = None
        for name, b in model.named_buffers():
            if b.is_floating_point():
                params[name] = ParamMoments(
                    float(b.sum(dtype=torch.float64)),
                    float(b.double().square().sum()),
                    int(b.numel()),
                )
    return BuildMeasurement(
        nodes,
        rec.stats,
        rec.grads,
        anchors,
        params,
        norms,
        note == "torch.fx trace",
        note,
        output_index,
    )


def _shapes(args: tuple[Any, ...]) -> str:
    shapes = [tuple(getattr(a, "shape", ())) for a in args]
    return ", ".join("x".join(str(s) for s in sh) or "()" for sh in shapes)


def check_inputs(args: Any) -> tuple[Any, ...]:
    """The model's positional inputs as a tuple (a tensor alone becomes a 1-tuple)."""
    import torch

    if isinstance(args, torch.Tensor):
        return (args,)
    if isinstance(args, (tuple, list)) and args:
        return tuple(args)
    raise InvalidInputError(
        f"the inputs must be a tensor or a non-empty tuple of tensors, got {type(args).__name__}"
    )
