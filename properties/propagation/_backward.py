"""Mean-field prediction of the gradients through a model's graph, after :mod:`._predict`.

Gradients (gradient independence, Schoenholz et al. 2017): the read-out gives the output
``E[g^2] = 1 / m^2``; backward, a linear layer multiplies ``E[g^2]`` by ``fan_out v``, a
convolution by ``(C_out / groups) k f N_out / N_in`` (taps hitting an input entry, on
average), ``phi`` by ``E[phi'(u)^2]``, a norm by ``E[gamma^2] / (var + eps)``, dropout by
``1 / (1 - p)``; an addition passes ``E[g^2]`` to both operands and a node used twice sums
its users', a product passes each factor ``E[g^2]`` times the other's second moment.
Parameter gradients: ``||dL/dW||^2 = fan_in fan_out M E[x^2] E[g^2]`` for a
linear layer on ``M`` rows (entries independent across rows), and ``C_out (C_in/groups) k f
M E[x^2] E[g^2]`` for a convolution on ``M`` output positions (positions taken as
independent: an approximation where the read-out pools positions).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from weight_init.properties.propagation._graph import Node
from weight_init.properties.propagation._predict import (
    ForwardPredictor,
    Moments,
    NodePrediction,
    expect_shifted,
    pooled_param,
    second_or,
    tap_fraction,
    weight_issue,
)


class Predictor(ForwardPredictor):
    """The forward rules and the backward ones (module docstring)."""

    def backward(
        self, forward: list[NodePrediction], output: int | None, rows: int
    ) -> list[NodePrediction]:
        """``forward`` with each node's predicted ``E[g^2]`` (None: not predicted)."""
        n = len(self.nodes)
        acc: list[float | None] = [0.0] * n
        reached = [False] * n
        why = [""] * n
        if output is None:
            return list(forward)
        acc[output] = 1.0 / rows**2
        reached[output] = True
        why[output] = "the read-out: E[G^2] = 1/m^2"
        gsq: list[float | None] = [None] * n
        for i in range(n - 1, -1, -1):
            if not reached[i]:
                continue
            gsq[i] = acc[i]
            g_here = acc[i]
            if g_here is None:
                g_here = self.measured_grad_sq[i]
            node = self.nodes[i]
            if g_here is None:
                for j in node.inputs:
                    reached[j], acc[j] = True, None
                    why[j] = f"{node.name}: gradient unknown"
                continue
            contrib, reason = self._back(node, forward, g_here)
            contrib = contrib + [None] * (len(node.inputs) - len(contrib))  # parameters
            for j, c in zip(node.inputs, contrib, strict=True):
                if not reached[j]:
                    reached[j], acc[j], why[j] = True, c, reason
                elif acc[j] is not None and c is not None:
                    acc[j] = float(acc[j]) + c  # type: ignore[arg-type]
                    why[j] = f"{why[j]}; summed over users"
                else:
                    acc[j], why[j] = None, reason
        return [
            replace(p, grad_sq=gsq[i], grad_reason=why[i] or "not reached by the read-out")
            for i, p in enumerate(forward)
        ]

    def _in(self, forward: list[NodePrediction], j: int) -> Moments | None:
        return forward[j].moments or self.measured[j]

    def _back(
        self, node: Node, forward: list[NodePrediction], g: float
    ) -> tuple[list[float | None], str]:
        kind, a = node.op.kind, node.attrs
        k = len(node.inputs)
        if kind in ("shape",):
            return [g] * k, "reshape"
        if kind in ("add", "sub"):
            if k == 2 and node.inputs[0] == node.inputs[1]:
                return [2 * g, 2 * g], "x + x"
            return [g] * k, "addition: the gradient reaches both operands"
        if kind == "cat":
            return [g] * k, "concatenation"
        if kind == "mul" and node.constant is not None and k == 1:
            c = 1.0 / node.constant if node.op.attrs.get("divide") else node.constant
            return [c * c * g], "constant factor"
        if kind == "mul" and k == 2 and not node.op.attrs.get("divide"):
            fa, fb = (self._in(forward, j) for j in node.inputs)
            if fa is not None and fb is not None:
                return [g * fb.second, g * fa.second], "product: E[g^2] times the other factor's"
        if kind == "dropout":
            p = float(a.get("p", 0.0))
            scale = 1.0 / (1 - p) if a.get("training") and p < 1 else 1.0
            return [g * scale], "dropout"
        x = self._in(forward, node.inputs[0]) if node.inputs else None
        if kind in ("linear", "conv") and x is not None:
            w = pooled_param(self.pooled, a.get("weight"))
            if w is None or weight_issue(w):
                return [None], "weight not covered"
            if kind == "linear":
                return [a["fan_out"] * w.var * g], "fan_out v E[g^2]"
            taps = int(np.prod(a["kernel_size"]))
            shp_in = self.nodes[node.inputs[0]].shape
            shp_out = node.shape
            if shp_in is None or shp_out is None:
                return [None], "shapes unknown"
            f = tap_fraction(node, shp_in)
            ratio = float(np.prod(shp_out[2:])) / max(float(np.prod(shp_in[2:])), 1.0)
            factor = a["out_channels"] / a["groups"] * taps * f * ratio
            return [factor * w.var * g], "(C_out/groups) k f N_out/N_in v E[g^2]"
        if kind == "activation" and x is not None:
            phi = node.op.activation
            d2 = expect_shifted(lambda u: phi.dphi(u) ** 2, x.mean, x.var)  # type: ignore[union-attr]
            return [g * d2], "E[phi'(u)^2] E[g^2]"
        if kind in ("batchnorm", "layernorm", "groupnorm") and x is not None:
            gm = pooled_param(self.pooled, a.get("weight"))
            g2 = second_or(gm, 1.0)
            eps = float(a.get("eps", 1e-5))
            if kind == "batchnorm" and not a.get("training") and a.get("running"):
                rv = pooled_param(self.pooled, f"{node.module}.running_var")
                return [g * g2 / ((1.0 if rv is None else rv.mean) + eps)], "eval: affine"
            var = x.ch_var if kind == "batchnorm" else x.var
            if node.op.attrs.get("rms"):
                var = x.second
            return [g * g2 / (var + eps) if var + eps > 0 else None], "divided by the std"
        return [None] * k, f"{node.name}: no backward rule"

    def param_grad_sq(self, forward: list[NodePrediction], node: Node) -> dict[str, float]:
        """Predicted ``||dL/dW||^2`` (and bias) of a linear or conv node (module docstring)."""
        if node.op.kind not in ("linear", "conv") or not node.inputs or node.shape is None:
            return {}
        x = self._in(forward, node.inputs[0])
        g = forward[self.nodes.index(node)].grad_sq
        w = pooled_param(self.pooled, node.attrs.get("weight"))
        if x is None or g is None or w is None:
            return {}
        a = node.attrs
        if node.op.kind == "linear":
            rows = float(np.prod(node.shape)) / a["fan_out"]
            out = {a["weight"]: a["fan_in"] * a["fan_out"] * rows * x.second * g}
            cout = a["fan_out"]
        else:
            taps = int(np.prod(a["kernel_size"]))
            f = tap_fraction(node, self.nodes[node.inputs[0]].shape)
            rows = float(np.prod(node.shape)) / a["out_channels"]
            fan = a["in_channels"] // a["groups"] * taps
            out = {a["weight"]: a["out_channels"] * fan * f * rows * x.second * g}
            cout = a["out_channels"]
        if a.get("bias"):
            out[a["bias"]] = cout * rows * g
        return out
