"""One tensor's statistics, computed as it flows past and never kept: the streamed figures of
a propagation record.

For a tensor ``x`` with ``C`` channels on axis ``channel_dim`` (``n`` entries, ``n / C`` per
channel)::

    mean          = sum(x) / n
    std           = sqrt(sum(x^2) / n - mean^2)              (population, ddof 0)
    ch_sq_mean    = (1/C) sum_c m_c^2,  m_c = mean of channel c
    ch_var        = (1/C) sum_c (s_c - m_c^2),  s_c = mean of x^2 over channel c

(``ch_sq_mean`` and ``ch_var`` are Brock, De & Smith's (2021) "average channel squared mean"
and "average channel variance"; ``ch_sq_mean + ch_var = mean(x^2)``.) Two passes over ``x``
(its sum and its sum of squares, per channel) and one more for the fraction. The channel axis is
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
    """One tensor's figures (module docstring).

    Attributes
    ----------
    mean, std : float
        Over all entries (population std).
    ch_sq_mean, ch_var : float
        Average channel squared mean and average channel variance.
    fraction : float or None
        Saturated or dead share (None: not an activation with one).
    numel, channels : int
        Entries and channels.

    Examples
    --------
    >>> import torch
    >>> from weight_init.properties.propagation import tensor_stats
    >>> s = tensor_stats(torch.tensor([[1.0, 3.0], [3.0, 5.0]]), 1)
    >>> s.mean, s.ch_sq_mean, s.ch_var, s.second_moment
    (3.0, 10.0, 1.0, 11.0)
    """

    mean: float
    std: float
    ch_sq_mean: float
    ch_var: float
    fraction: float | None
    numel: int
    channels: int

    @property
    def second_moment(self) -> float:
        """The entries' mean square, ``ch_sq_mean + ch_var``."""
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

    n = max(x.numel(), 1)
    if kind == "tanh":
        hit = int(torch.count_nonzero(x.abs() > SATURATION))
    elif kind == "sigmoid":
        hit = int(torch.count_nonzero((x - 0.5).abs() > SATURATION - 0.5))
    elif kind in ("relu", "relu6"):
        hit = n - int(torch.count_nonzero(x))
    else:
        return None
    return hit / n


def fraction_kind(activation: str | None) -> FractionKind | None:
    """Whether an activation's fraction counts saturated or dead entries (None: neither)."""
    if activation in ("tanh", "sigmoid"):
        return "saturated"
    if activation in ("relu", "relu6"):
        return "dead"
    return None


def _by_channel(t: Any, channel_dim: int | None) -> Any:
    """``t`` as a ``(rows, C, inner)`` view (copied only when ``t`` is not contiguous)."""
    if channel_dim is None or t.dim() == 0:
        return t.reshape(1, 1, -1)
    c = channel_dim % t.dim()
    shape = tuple(t.shape)
    rows = 1
    for d in shape[:c]:
        rows *= d
    return t.reshape(rows, shape[c], -1)


def tensor_stats(x: Any, channel_dim: int | None, activation: str | None = None) -> TensorStats:
    """The figures of the torch tensor ``x`` (module docstring), computed without keeping it.

    Sums per channel run in float32 (half-precision tensors are widened first; torch's
    reductions are cascaded, relative error ~1e-7) and are combined in float64.

    Parameters
    ----------
    x : torch.Tensor
        The tensor.
    channel_dim : int or None
        Its channel axis; None: the whole tensor is one channel.
    activation : str, optional
        The activation that produced it, for the saturated (tanh, sigmoid) or dead (relu,
        relu6) share.

    Returns
    -------
    TensorStats
        Its figures.

    Examples
    --------
    >>> import torch
    >>> from weight_init.properties.propagation import tensor_stats
    >>> tensor_stats(torch.tensor([0.0, 0.0, 1.0, 2.0]), None, "relu").fraction
    0.5
    """
    import torch

    with torch.no_grad():
        t = x.detach()
        if t.dtype not in (torch.float32, torch.float64):
            t = t.float()
        n = t.numel()
        if n == 0:
            nan = math.nan
            return TensorStats(nan, nan, nan, nan, None, 0, 0)
        v = _by_channel(t, channel_dim)
        channels = int(v.shape[1])
        if v.shape[2] == 1:  # channels last: reduce the rows directly
            v = v.reshape(v.shape[0], channels)
            s, ss = v.sum(dim=0).double(), v.square().sum(dim=0).double()
        else:
            s = v.sum(dim=2).sum(dim=0).double()
            ss = v.square().sum(dim=2).sum(dim=0).double()
        per = n // channels
        mean = float(s.sum()) / n
        second = float(ss.sum()) / n
        m_c = s / per
        csm = float(m_c.square().mean())
        cvar = float((ss / per - m_c.square()).mean())
        frac = degenerate_fraction(activation, t)
    var = max(second - mean * mean, 0.0)
    return TensorStats(mean, math.sqrt(var), csm, max(cvar, 0.0), frac, n, channels)


def grad_stats(g: Any) -> GradStats:
    """Population std and mean square of the gradient tensor ``g`` (float32 sums, float64
    combination)."""
    import torch

    with torch.no_grad():
        t = g if g.dtype in (torch.float32, torch.float64) else g.float()
        n = max(t.numel(), 1)
        s = float(t.sum()) / n
        ss = float(t.square().sum()) / n
    return GradStats(math.sqrt(max(ss - s * s, 0.0)), ss)
