"""One tensor's statistics, computed as it flows past and never kept: the streamed figures of
a propagation record.

For a tensor ``x`` with ``C`` channels on axis ``channel_dim`` (``n`` entries, ``n / C`` per
channel), in float64 whatever ``x``'s dtype::

    mean          = sum(x) / n
    std           = sqrt(sum(x^2) / n - mean^2)              (population, ddof 0)
    ch_sq_mean    = (1/C) sum_c m_c^2,  m_c = mean of channel c
    ch_var        = (1/C) sum_c (s_c - m_c^2),  s_c = mean of x^2 over channel c

(``ch_sq_mean`` and ``ch_var`` are Brock, De & Smith's (2021) "average channel squared mean"
and "average channel variance"; ``ch_sq_mean + ch_var = mean(x^2)``.) The channel axis is
the layout's: axis 1 for ``NC...`` tensors (convolutions, batch norm, pooling: any tensor of
4 or more axes, and a 3-axis tensor that a 1-d convolution or norm produced), else the last
axis (``Linear`` features, ``(N, T, D)`` tokens); a 1-axis tensor is one channel.

``fraction`` is the share of entries in an activation's degenerate region: saturated for
bounded activations (tanh: ``|y| > 0.9``; sigmoid: ``y < 0.1`` or ``y > 0.9``, i.e.
``|2y - 1| > 0.8``), dead for rectifiers (ReLU, ReLU6: ``y == 0``); None for the rest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

#: Where an activation is degenerate: bounded (saturated) or rectifying (dead).
FractionKind = Literal["saturated", "dead"]

#: The saturation threshold of tanh (the report's and the theory's 0.9).
SATURATION = 0.9


@dataclass(frozen=True)
class TensorStats:
    """One tensor's figures (module docstring); ``fraction`` None when not applicable."""

    mean: float
    std: float
    ch_sq_mean: float
    ch_var: float
    fraction: float | None
    numel: int
    channels: int

    @property
    def second_moment(self) -> float:
        """``mean(x^2) = ch_sq_mean + ch_var``."""
        return self.ch_sq_mean + self.ch_var


@dataclass(frozen=True)
class GradStats:
    """The gradient ``dL/dy`` of one tensor: its population std and mean square."""

    std: float
    mean_square: float


def degenerate_fraction(kind: str | None, x: Any) -> float | None:
    """Share of ``x``'s entries that are saturated or dead under ``kind`` (an activation name
    from :func:`fraction_kind`'s table), or None."""
    import torch

    if kind == "tanh":
        hit = x.abs() > SATURATION
    elif kind == "sigmoid":
        hit = (2.0 * x - 1.0).abs() > 2.0 * SATURATION - 1.0
    elif kind in ("relu", "relu6"):
        hit = x == 0
    else:
        return None
    return float(torch.count_nonzero(hit)) / max(x.numel(), 1)


def fraction_kind(activation: str | None) -> FractionKind | None:
    """Whether an activation's fraction counts saturated or dead entries (None: neither)."""
    if activation in ("tanh", "sigmoid"):
        return "saturated"
    if activation in ("relu", "relu6"):
        return "dead"
    return None


def tensor_stats(x: Any, channel_dim: int | None, activation: str | None = None) -> TensorStats:
    """The figures of the torch tensor ``x`` (module docstring), computed without keeping it.

    ``channel_dim`` None: the whole tensor is one channel."""
    import torch

    with torch.no_grad():
        t = x.detach()
        n = t.numel()
        if n == 0:
            nan = math.nan
            return TensorStats(nan, nan, nan, nan, None, 0, 0)
        if channel_dim is None or t.dim() == 0:
            flat = t.reshape(1, -1)
            cdim = 0
        else:
            cdim = channel_dim % t.dim()
            flat = t.movedim(cdim, 0).reshape(t.shape[cdim], -1)
        per = flat.shape[1]
        s = flat.sum(dim=1, dtype=torch.float64)
        ss = flat.square().sum(dim=1, dtype=torch.float64)
        mean = float(s.sum()) / n
        second = float(ss.sum()) / n
        m_c = s / per
        csm = float(m_c.square().mean())
        cvar = float((ss / per - m_c.square()).mean())
        frac = degenerate_fraction(activation, t)
    var = max(second - mean * mean, 0.0)
    return TensorStats(mean, math.sqrt(var), csm, max(cvar, 0.0), frac, n, int(flat.shape[0]))


def grad_stats(g: Any) -> GradStats:
    """Population std and mean square of the gradient tensor ``g``, in float64."""
    import torch

    with torch.no_grad():
        n = max(g.numel(), 1)
        s = float(g.sum(dtype=torch.float64)) / n
        ss = float(g.square().sum(dtype=torch.float64)) / n
    return GradStats(math.sqrt(max(ss - s * s, 0.0)), ss)
