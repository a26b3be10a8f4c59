"""The model's operations as a graph of :class:`Node`: from a ``torch.fx`` trace, or, when the
model cannot be traced, from its modules in execution order.

Traced: every fx node that computes a tensor is a node (placeholders are the inputs); its
name is the module path for a module call (``layer1.0.conv1``) and the innermost module
scope plus the operation for a function or method (``layer1.0.add``); a second call of the
same name gets ``#2``. Untraced (data-dependent control flow, unsupported calls): one node
per call of every module but the root and plain containers (``Sequential``, ``ModuleList``,
``ModuleDict``), in the order the calls finish; a node's inputs are the nodes whose output
*tensor* (by identity) it received, so chains of modules are followed and an input computed
outside any module (a functional residual add) is an anchor whose statistics are measured.

``depth`` is the longest path, in operations that are not pure reshapes, from an input: the
residual *branch* of an addition is its deeper operand, the *skip* the shallower.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from weight_init.properties.propagation._ops import Op, call_name, classify_call, classify_module

#: Containers whose output is their last child's: no node of their own in module order.
CONTAINERS = frozenset({"Sequential", "ModuleList", "ModuleDict"})


@dataclass
class Node:
    """One operation: its name, type, :class:`Op`, input node indices and facts about it.

    ``constant``: a number the operation adds or multiplies by (``x + 1``, ``0.1 * x``);
    ``cat_dim``: the axis a concatenation joins; ``module``: the path of the module it calls
    (its parameters are ``module + ".weight"``...); ``attrs``: the module's hyper-parameters
    (fans, eps, p, kernel geometry); ``recorded``: whether it is a record of the output
    (reshapes and non-tensors are not); ``shape``: its output shape (set when measured).
    """

    name: str
    type_name: str
    op: Op
    inputs: tuple[int, ...] = ()
    constant: float | None = None
    cat_dim: int | None = None
    module: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    recorded: bool = True
    shape: tuple[int, ...] | None = None
    channels_first: bool = False
    depth: int = 0
    scope: str = ""

    @property
    def channel_dim(self) -> int | None:
        """The channel axis of the output (module docstring of :mod:`._stats`)."""
        if self.shape is None or len(self.shape) == 0:
            return None
        if len(self.shape) >= 2 and self.channels_first:
            return 1
        return len(self.shape) - 1


def module_attrs(module: Any, op: Op, path: str) -> dict[str, Any]:
    """The hyper-parameters of ``module`` the mean-field rules read (plain Python values)."""
    a: dict[str, Any] = {"training": bool(getattr(module, "training", False))}
    for pname in ("weight", "bias"):
        p = getattr(module, pname, None)
        a[pname] = f"{path}.{pname}" if p is not None and hasattr(p, "shape") else None
    if op.kind == "linear":
        a.update(fan_in=int(module.in_features), fan_out=int(module.out_features))
    elif op.kind == "conv":
        k = tuple(int(x) for x in module.kernel_size)
        a.update(
            in_channels=int(module.in_channels),
            out_channels=int(module.out_channels),
            groups=int(module.groups),
            kernel_size=k,
            stride=tuple(int(x) for x in module.stride),
            padding=module.padding if isinstance(module.padding, str) else tuple(module.padding),
            dilation=tuple(int(x) for x in module.dilation),
            padding_mode=str(module.padding_mode),
        )
    elif op.kind in ("batchnorm", "layernorm", "groupnorm"):
        a["eps"] = float(getattr(module, "eps", 1e-5) or 1e-5)
        a["running"] = getattr(module, "running_var", None) is not None
        a["track"] = bool(getattr(module, "track_running_stats", False))
    elif op.kind == "embedding":
        a["padding_idx"] = getattr(module, "padding_idx", None)
    return a


def _scope(n: Any) -> str:
    stack = n.meta.get("nn_module_stack") or {}
    keys = list(stack.keys())
    return str(keys[-1]) if keys else ""


def _unique(name: str, seen: dict[str, int]) -> str:
    seen[name] = seen.get(name, 0) + 1
    return name if seen[name] == 1 else f"{name}#{seen[name]}"


def trace_graph(model: Any) -> tuple[Any, list[Node], dict[Any, int]]:
    """``torch.fx.symbolic_trace(model)`` as ``(graph module, nodes, fx node -> index)``.

    Raises whatever the tracer raises (the caller falls back to module order)."""
    import torch.fx as fx

    gm = fx.symbolic_trace(model)
    nodes: list[Node] = []
    index: dict[Any, int] = {}
    seen: dict[str, int] = {}
    for n in gm.graph.nodes:
        if n.op == "output":
            continue
        tensor_args = [a for a in _flat(n.args) + _flat(n.kwargs) if isinstance(a, fx.Node)]
        inputs = tuple(index[a] for a in tensor_args if a in index)
        constant = None
        nums = [a for a in n.args if isinstance(a, (int, float)) and not isinstance(a, bool)]
        if n.op == "placeholder":
            node = Node(_unique(str(n.target), seen), "input", Op("input", "input"))
        elif n.op == "call_module":
            module = gm.get_submodule(str(n.target))
            op = classify_module(module)
            node = Node(_unique(str(n.target), seen), op.type_name, op, inputs)
            node.module = str(n.target)
            node.attrs = module_attrs(module, op, str(n.target))
            node.scope = str(n.target)
        elif n.op in ("call_function", "call_method"):
            op = classify_call(n.target, dict(n.kwargs))
            scope = _scope(n)
            label = call_name(n.target)
            node = Node(_unique(f"{scope}.{label}" if scope else label, seen), label, op, inputs)
            node.scope = scope
            if op.kind in ("add", "sub", "mul") and nums:
                constant = float(nums[0])
            if op.kind == "cat":
                dim = n.kwargs.get("dim", n.args[1] if len(n.args) > 1 else 0)
                node.cat_dim = int(dim) if isinstance(dim, int) else 0
            if op.kind in ("layernorm", "groupnorm"):
                node.attrs = _functional_norm(n, index, nodes)
            if op.kind == "dropout":
                p = n.kwargs.get("p", n.args[1] if len(n.args) > 1 else 0.5)
                training = n.kwargs.get("training", n.args[2] if len(n.args) > 2 else True)
                node.attrs = {"p": float(p), "training": bool(training)}
        else:  # get_attr: a parameter or buffer used directly
            node = Node(_unique(str(n.target), seen), "parameter", Op("param", "parameter"))
            node.attrs = {"weight": str(n.target)}
            node.recorded = False
        node.constant = constant
        node.recorded = node.op.kind not in ("shape", "param")
        index[n] = len(nodes)
        nodes.append(node)
    set_depths(nodes)
    return gm, nodes, index


def _functional_norm(n: Any, index: dict[Any, int], nodes: list[Node]) -> dict[str, Any]:
    """``F.layer_norm(x, shape, weight, bias, eps)`` / ``F.group_norm(x, groups, weight, bias,
    eps)``: the parameters' names (when they are ``get_attr`` nodes) and eps."""
    args = list(n.args) + [None] * 5
    weight = n.kwargs.get("weight", args[2])
    bias = n.kwargs.get("bias", args[3])
    eps = n.kwargs.get("eps", args[4] if isinstance(args[4], float) else 1e-5)

    def name(a: Any) -> str | None:
        i = index.get(a)
        if i is None or nodes[i].op.kind != "param":
            return None
        return str(nodes[i].attrs.get("weight"))

    return {"weight": name(weight), "bias": name(bias), "eps": float(eps), "training": True}


def _flat(args: Any) -> list[Any]:
    out: list[Any] = []
    if isinstance(args, (list, tuple)):
        for a in args:
            out.extend(_flat(a))
    elif isinstance(args, dict):
        for a in args.values():
            out.extend(_flat(a))
    else:
        out.append(args)
    return out


def set_depths(nodes: list[Node]) -> None:
    """Longest path from an input, counting operations that are not reshapes (in place)."""
    for node in nodes:
        step = 0 if node.op.kind in ("shape", "input") else 1
        node.depth = step + max((nodes[i].depth for i in node.inputs), default=0)


def resolve_layouts(nodes: list[Node]) -> None:
    """Each node's ``channels_first``: its op's, else its first input's, else by rank (4+ axes:
    channels first) (in place)."""
    for node in nodes:
        own = node.op.channels_first
        if own is None and node.inputs:
            own = nodes[node.inputs[0]].channels_first
        if own is None or (node.op.kind == "input"):
            own = node.shape is not None and len(node.shape) >= 4
        if node.shape is not None and len(node.shape) == 3 and node.op.kind == "unknown":
            own = bool(node.op.channels_first)
        node.channels_first = bool(own)


def branch_and_skip(nodes: list[Node], add: Node) -> tuple[int, int] | None:
    """``(branch, skip)`` node indices of a two-tensor addition (deeper operand is the branch),
    None when it has not two distinct tensor operands."""
    if add.op.kind != "add" or len(add.inputs) != 2 or add.inputs[0] == add.inputs[1]:
        return None
    a, b = add.inputs
    return (a, b) if nodes[a].depth >= nodes[b].depth else (b, a)
