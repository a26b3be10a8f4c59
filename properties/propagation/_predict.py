"""Mean-field prediction through a model's graph: every node's mean, std, channel moments,
degenerate fraction and gradient, from its parameters' variances alone.

(About 400 lines: one rule per operation kind, sharing the moment type and the Gaussian
integrals. The backward rules are :mod:`._backward`'s.)

A node's output is summarized by its entries' mean ``mu``, second moment ``s = E[x^2]`` and
average channel squared mean ``c`` (``c - mu^2`` is the spread of the channel means,
``s - c`` the average within-channel variance); whether it is Gaussian is tracked too. The
rules generalize the theory's map (:mod:`weight_init.theory`, Poole et al. 2016) to
operations other than ``phi(W h)``; ``v`` is the pooled variance of a weight's entries over
the builds, ``fan_in`` the layer's:

* linear / conv: ``s' = fan_in v f s + E[b^2]``, ``c' = fan_in v f c + E[b^2]``,
  ``mu' = E[b]``, Gaussian (a sum of many independent terms), with ``f`` the average share of
  a convolution's taps inside the zero-padded input (1 for linear);
* element-wise ``phi``: channel means ``m ~ N(mu, c - mu^2)``, entries ``m + N(0, s - c)``;
  ``mu' = E[phi]``, ``s' = E[phi^2]`` (one Gaussian integral, the theory's quadrature),
  ``c' = E_m[(E[phi | m])^2]`` (Gauss-Hermite over m); saturated fraction
  ``P(|phi| > 0.9)`` (tanh), dead fraction ``P(u <= 0)`` (ReLU);
* batch norm (training, or no running statistics): each channel standardized, then
  ``gamma, beta``: ``s' = E[gamma^2] w/(w + eps) + E[beta^2]``, ``c' = E[beta^2]``; in eval
  mode with running statistics the affine map they define;
* layer / group / instance norm: each sample's group standardized: ``s'`` as batch norm's,
  ``c' = E[gamma^2] (c - mu^2) / var + E[beta^2]``; RMS norm divides by ``sqrt(s)``;
* dropout (training): ``s' = s / (1 - p)``; embedding: the weight's moments;
* addition of two tensors: means add and variances add (independent operands: a residual
  branch ending in a zero-mean weight is uncorrelated with its input); a constant shifts,
  a constant factor scales; concatenation: moments weighted by the parts' sizes;
* a product with a constant scales; with another tensor, the factors are taken as
  independent (a broadcast factor, a layer scale or a gate, multiplies ``s`` and ``c`` by
  its ``E[g^2]``); a parameter used directly has its pooled moments;
* reshapes keep the moments. Anything else (pooling: the spatial correlation is not
  modelled; attention, matmul, softmax, max: no rule here) is *passed through*: the node has
  no prediction, says why, and the nodes after it are predicted from its *measured* moments
  (their basis says so).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from weight_init.properties.propagation._graph import Node
from weight_init.properties.propagation._stats import SATURATION, fraction_kind
from weight_init.theory import gaussian_expectation, normal_mass, saturation_intervals

#: Standard errors a weight's pooled mean may sit from 0 before it counts as non-zero.
MEAN_SE = 6.0
_GH_Z, _GH_W = np.polynomial.hermite_e.hermegauss(48)
_GH_W = _GH_W / math.sqrt(2.0 * math.pi)


@dataclass(frozen=True)
class Moments:
    """An output's mean, second moment ``E[x^2]``, average channel squared mean, whether it is
    Gaussian and whether it is non-negative (a ReLU's output: ReLU of it is the identity)."""

    mean: float
    second: float
    csm: float
    gaussian: bool = False
    nonneg: bool = False

    @property
    def var(self) -> float:
        return max(self.second - self.mean * self.mean, 0.0)

    @property
    def std(self) -> float:
        return math.sqrt(self.var)

    @property
    def ch_var(self) -> float:
        return max(self.second - self.csm, 0.0)


@dataclass(frozen=True)
class NodePrediction:
    """A node's prediction (None: passed through), why, and on what basis.

    ``status``: ``predicted``, ``passed through`` or ``input``; ``basis``: ``model input``
    (every node upstream predicted) or ``measured X`` (the chain restarts from the measured
    moments of node X, passed through upstream)."""

    moments: Moments | None
    fraction: float | None
    status: str
    reason: str
    basis: str
    grad_sq: float | None = None
    grad_reason: str = ""


@dataclass(frozen=True)
class Pooled:
    """A parameter's entries over all builds: mean, second moment, count."""

    mean: float
    second: float
    count: int

    @property
    def var(self) -> float:
        return max(self.second - self.mean * self.mean, 0.0)


def _sat_fn_sigmoid(u: Any) -> Any:
    return np.tanh(0.5 * np.asarray(u))  # 2 sigmoid(u) - 1


def predicted_fraction(name: str, m: Moments) -> float | None:
    """Predicted saturated (tanh, sigmoid) or dead (ReLU) fraction at Gaussian input ``m``."""
    kind = fraction_kind(name)
    if kind is None:
        return None
    s = m.std
    if kind == "dead":
        if s == 0.0:
            return 1.0 if m.mean <= 0 else 0.0
        return normal_mass(-math.inf, -m.mean / s)
    fn, thr = (np.tanh, SATURATION) if name == "tanh" else (_sat_fn_sigmoid, 2 * SATURATION - 1)
    if s == 0.0:
        return float(abs(float(fn(np.array([m.mean]))[0])) > thr)
    intervals = saturation_intervals(fn, thr, max(1e4, 12.0 * s + abs(m.mean)))
    total = sum(normal_mass((a - m.mean) / s, (b - m.mean) / s) for a, b in intervals)
    return min(max(total, 0.0), 1.0)


def expect_shifted(fn: Any, mu: float, q: float) -> float:
    if mu == 0.0:
        return gaussian_expectation(fn, q)
    return gaussian_expectation(lambda u: fn(u + mu), q)


def activation_moments(phi: Any, m: Moments) -> Moments:
    """Moments of ``phi(x)`` for ``x`` with moments ``m`` (module docstring); ReLU of a
    non-negative input is the identity."""
    if phi.name == "relu" and m.nonneg:
        return m
    q = m.var
    mean = expect_shifted(phi.phi, m.mean, q)
    second = expect_shifted(lambda u: phi.phi(u) ** 2, m.mean, q)
    tau2 = max(m.csm - m.mean * m.mean, 0.0)
    within = max(m.second - m.csm, 0.0)
    if tau2 <= 1e-12 * max(q, 1e-300):
        csm = mean * mean
    else:
        ms = m.mean + math.sqrt(tau2) * _GH_Z
        cond = np.array([expect_shifted(phi.phi, float(x), within) for x in ms])
        csm = float(np.dot(_GH_W, cond * cond))
    nonneg = phi.name in ("relu", "relu6", "sigmoid", "softplus")
    return Moments(mean, second, min(csm, second), False, nonneg)


def pooled_param(pooled: dict[str, Pooled], name: str | None) -> Pooled | None:
    return None if name is None else pooled.get(name)


def second_or(p: Pooled | None, default: float) -> float:
    return default if p is None else p.second


def weight_issue(w: Pooled) -> str | None:
    """Why the mean-field rule cannot use weight ``w`` (None: it can)."""
    se = math.sqrt(w.var / max(w.count, 1))
    if w.var == 0.0 and w.mean != 0.0:
        return "constant non-zero weights (all units identical): no mean-field rule"
    if abs(w.mean) > MEAN_SE * se and abs(w.mean) > 1e-3 * math.sqrt(w.second):
        return f"weights not zero-mean (mean {w.mean:.3g}): the rule covers zero-mean weights"
    return None


def tap_fraction(node: Node, in_shape: tuple[int, ...] | None) -> float:
    """Average share of a convolution's taps that fall inside its zero-padded input."""
    a = node.attrs
    if in_shape is None or a.get("padding_mode", "zeros") != "zeros":
        return 1.0
    spatial = in_shape[2:] if len(in_shape) >= 3 else in_shape[-1:]
    k, st, dil = a["kernel_size"], a["stride"], a["dilation"]
    pad = a["padding"]
    frac = 1.0
    for ax, length in enumerate(spatial[-len(k) :]):
        kk, s, d = k[ax], st[ax], dil[ax]
        if isinstance(pad, str):
            left = 0 if pad == "valid" else (d * (kk - 1)) // 2
        else:
            left = int(pad[ax])
        right = left if not isinstance(pad, str) else (0 if pad == "valid" else d * (kk - 1) - left)
        n_out = (length + left + right - d * (kk - 1) - 1) // s + 1
        if n_out <= 0:
            return 1.0
        o = np.arange(n_out)[:, None] * s - left + np.arange(kk)[None, :] * d
        frac *= float(np.mean((o >= 0) & (o < length)))
    return frac


class ForwardPredictor:
    """The forward mean-field rules over ``nodes`` (module docstring)."""

    def __init__(
        self,
        nodes: list[Node],
        pooled: dict[str, Pooled],
        measured: list[Moments | None],
        measured_grad_sq: list[float | None],
        anchors: dict[int, Moments] | None = None,
        declared_input: Moments | None = None,
    ) -> None:
        self.anchors = anchors or {}
        self.declared_input = declared_input
        self.nodes = nodes
        self.pooled = pooled
        self.measured = measured
        self.measured_grad_sq = measured_grad_sq

    def forward(self) -> list[NodePrediction]:
        out: list[NodePrediction] = []
        basis: list[Moments | None] = []
        origin: list[str] = []
        for i, node in enumerate(self.nodes):
            srcs = [basis[j] for j in node.inputs]
            org = next((origin[j] for j in node.inputs if origin[j] != "model input"), None)
            org = org or "model input"
            if not node.inputs and i in self.anchors:
                srcs, org = [self.anchors[i]], f"measured input of {node.name}"
            sourceless = node.op.kind in ("embedding", "param")
            if sourceless:
                srcs = []
            if node.op.kind == "input":
                m, why = self.measured[i], "the measured input"
                if self.declared_input is not None and m is not None:
                    m, why = self.declared_input, "the declared input distribution"
                pred = NodePrediction(m, None, "input", why, "model input")
            elif srcs and any(s is None for s in srcs):
                pred = NodePrediction(None, None, "passed through", "input not known", org)
            elif not srcs and not sourceless:
                pred = NodePrediction(None, None, "passed through", "input not known", org)
            else:
                try:
                    moments, reason = self._rule(node, srcs)
                except (ValueError, ZeroDivisionError, OverflowError) as exc:
                    moments, reason = None, f"rule failed ({exc})"
                if moments is None:
                    pred = NodePrediction(None, None, "passed through", reason, org)
                else:
                    frac = None
                    if node.op.kind == "activation" and node.op.activation is not None:
                        frac = predicted_fraction(node.op.activation.name, srcs[0])  # type: ignore[arg-type]
                    pred = NodePrediction(moments, frac, "predicted", reason, org)
            out.append(pred)
            if pred.moments is not None:
                basis.append(pred.moments)
                origin.append(org if pred.status != "input" else "model input")
            else:
                m = self.measured[i]
                basis.append(m)
                origin.append(f"measured {node.name}" if m is not None else org)
        return out

    def _rule(self, node: Node, srcs: list[Any]) -> tuple[Moments | None, str]:
        kind = node.op.kind
        x: Moments = srcs[0] if srcs else Moments(0.0, 0.0, 0.0)
        a = node.attrs
        if kind in ("linear", "conv"):
            w = pooled_param(self.pooled, a.get("weight"))
            if w is None:
                return None, "weight not found"
            why = weight_issue(w)
            if why:
                return None, why
            b = pooled_param(self.pooled, a.get("bias"))
            if kind == "linear":
                fan_in, f, what = a["fan_in"], 1.0, "fan_in v E[x^2]"
            else:
                fan_in = a["in_channels"] // a["groups"] * int(np.prod(a["kernel_size"]))
                f = tap_fraction(node, self.nodes[node.inputs[0]].shape)
                what = f"fan_in v E[x^2] x {f:.4g} (taps inside the padding)"
            gain = fan_in * w.var * f
            bm, b2 = (0.0, 0.0) if b is None else (b.mean, b.second)
            return Moments(bm, gain * x.second + b2, gain * x.csm + b2, True), what
        if kind == "activation":
            phi = node.op.activation
            note = "" if x.gaussian else " (input not Gaussian: Gaussian approximation)"
            return activation_moments(phi, x), f"Gaussian integral of {phi.name}{note}"  # type: ignore[union-attr]
        if kind in ("batchnorm", "layernorm", "groupnorm"):
            return self._norm(node, x)
        if kind == "dropout":
            p = float(a.get("p", 0.0))
            if not a.get("training", False) or p == 0.0:
                return x, "identity (eval mode)"
            if p >= 1.0:
                return Moments(0.0, 0.0, 0.0), "p = 1: zeros"
            return Moments(x.mean, x.second / (1 - p), x.csm, False), f"E[x^2] / (1 - {p:g})"
        if kind == "embedding":
            w = pooled_param(self.pooled, a.get("weight"))
            if w is None:
                return None, "weight not found"
            return Moments(w.mean, w.second, w.mean**2, True), "the embedding's entries"
        if kind == "shape":
            return x, "reshape: moments kept"
        if kind in ("add", "sub"):
            return self._add(node, srcs)
        if kind == "mul":
            return self._mul(node, srcs)
        if kind == "param":
            w = pooled_param(self.pooled, a.get("weight"))
            if w is None:
                return None, "not a parameter (a buffer)"
            return Moments(w.mean, w.second, w.mean**2), "the parameter's entries"
        if kind == "cat":
            return self._cat(node, srcs)
        return None, _unknown_reason(node)

    def _norm(self, node: Node, x: Moments) -> tuple[Moments | None, str]:
        a = node.attrs
        eps = float(a.get("eps", 1e-5))
        g = pooled_param(self.pooled, a.get("weight"))
        bb = pooled_param(self.pooled, a.get("bias"))
        g2, gm = second_or(g, 1.0), (1.0 if g is None else g.mean)
        b2, bm = second_or(bb, 0.0), (0.0 if bb is None else bb.mean)
        kind = node.op.kind
        if kind == "batchnorm" and not a.get("training") and a.get("running"):
            rm = pooled_param(self.pooled, f"{node.module}.running_mean")
            rv = pooled_param(self.pooled, f"{node.module}.running_var")
            m0 = 0.0 if rm is None else rm.mean
            v0 = 1.0 if rv is None else rv.mean
            ea2, ea = g2 / (v0 + eps), gm / math.sqrt(v0 + eps)
            c = bm - m0 * ea
            mean = ea * x.mean + c
            second = ea2 * x.second + 2 * c * ea * x.mean + c * c
            csm = ea2 * x.csm + 2 * c * ea * x.mean + c * c
            why = "eval mode: the running statistics' affine map (channels alike)"
            return Moments(mean, second, csm, x.gaussian), why
        if kind == "batchnorm":
            w = x.ch_var
            r = w / (w + eps)
            return Moments(bm, g2 * r + b2, b2, x.gaussian), "each channel standardized"
        if node.op.attrs.get("rms"):
            r = x.second / (x.second + eps)
            inv = 1.0 / math.sqrt(x.second + eps) if x.second > 0 else 0.0
            return Moments(
                gm * x.mean * inv, g2 * r, g2 * x.csm * inv * inv, x.gaussian
            ), "divided by the root mean square"
        var = x.var
        r = var / (var + eps)
        spread = (max(x.csm - x.mean**2, 0.0) / var) if var > 0 else 0.0
        csm = g2 * r * min(spread, 1.0) + b2
        return Moments(bm, g2 * r + b2, csm, x.gaussian), "each sample's group standardized"

    def _add(self, node: Node, srcs: list[Moments]) -> tuple[Moments | None, str]:
        sign = -1.0 if node.op.kind == "sub" else 1.0
        if len(srcs) == 1 and node.constant is not None:
            c, x = sign * node.constant, srcs[0]
            m = Moments(
                x.mean + c, x.second + 2 * c * x.mean + c * c, x.csm + 2 * c * x.mean + c * c
            )
            return replace(m, gaussian=x.gaussian), f"shifted by {c:g}"
        if len(srcs) == 1 and len(node.inputs) == 2:  # x + x
            x = srcs[0]
            k = 2.0 if sign > 0 else 0.0
            return Moments(k * x.mean, k * k * x.second, k * k * x.csm, x.gaussian), "x + x"
        if len(srcs) != 2:
            return None, "addition of more than two tensors"
        a, b = srcs
        if b.second == 0.0 or (a.second == 0.0 and sign > 0):  # exact zeros (a zero branch)
            return (a if b.second == 0.0 else b), "one operand is exactly zero"
        mean = a.mean + sign * b.mean
        second = a.var + b.var + mean * mean
        csm = a.csm + b.csm + 2 * sign * a.mean * b.mean
        why = "independent operands: variances add"
        return Moments(mean, second, max(csm, mean * mean), a.gaussian and b.gaussian), why

    def _mul(self, node: Node, srcs: list[Moments]) -> tuple[Moments | None, str]:
        if len(srcs) == 1 and node.constant is not None:
            c = 1.0 / node.constant if node.op.attrs.get("divide") else node.constant
            x = srcs[0]
            return Moments(c * x.mean, c * c * x.second, c * c * x.csm, x.gaussian), f"x {c:g}"
        if len(srcs) != 2 or node.op.attrs.get("divide"):
            return None, "quotient of tensors: no rule"
        a, b = srcs
        sizes = [self.nodes[j].shape for j in node.inputs]
        n = [float(np.prod(sz)) if sz is not None else 0.0 for sz in sizes]
        if n[0] != n[1]:  # one factor broadcast (a per-channel scale or gate)
            x, g = (a, b) if n[0] > n[1] else (b, a)
            m = Moments(x.mean * g.mean, x.second * g.second, x.csm * g.second, x.gaussian)
            return m, "x times an independent broadcast factor (its E[g^2])"
        m = Moments(a.mean * b.mean, a.second * b.second, a.csm * b.csm)
        return m, "product of independent factors"

    def _cat(self, node: Node, srcs: list[Moments]) -> tuple[Moments | None, str]:
        sizes = [self.nodes[j].shape for j in node.inputs]
        if any(s is None for s in sizes):
            return None, "part shapes unknown"
        n = np.array([float(np.prod(s)) for s in sizes])  # type: ignore[arg-type]
        w = n / n.sum()
        mean = float(sum(wi * s.mean for wi, s in zip(w, srcs, strict=True)))
        second = float(sum(wi * s.second for wi, s in zip(w, srcs, strict=True)))
        csm = float(sum(wi * s.csm for wi, s in zip(w, srcs, strict=True)))
        same = all(s.gaussian for s in srcs) and max(s.var for s in srcs) == min(
            s.var for s in srcs
        )
        return Moments(mean, second, csm, same), "parts weighted by size"


def _unknown_reason(node: Node) -> str:
    t = node.type_name
    if "Pool" in t or t in ("avg_pool2d", "adaptive_avg_pool2d", "mean", "max_pool2d"):
        return f"{t}: the spatial correlation is not modelled"
    if "Attention" in t:
        return f"{t}: no stated approximation for attention at initialization"
    return f"{t}: no mean-field rule"
