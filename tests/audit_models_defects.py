"""Deliberately broken torch models for the audit's checks between builds, of homogeneity, of
the extremes and of the top direction: one small model with framework defaults, and one
variant per defect, each in one parameter (the others keep torch's defaults).

The base: ``embed`` (``nn.Embedding(64, 32)``: N(0, 1), rows 64 tokens, columns 32 units)
and ``head`` (``nn.Linear(32, 64)``: weight (64, 32) and bias uniform, bound ``1/sqrt(32)``).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn


class Base(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(64, 32)
        self.head = nn.Linear(32, 64)


def base() -> nn.Module:
    """torch's defaults: every parameter conforms."""
    return Base()


#: A private generator re-seeded in every build: every build draws the same embedding.
FIXED_SEED = 1234


def fixed_generator() -> nn.Module:
    """The embedding is drawn from a private generator seeded with a fixed seed in every
    build (the model's seed is ignored): identical draws across builds."""
    model = Base()
    gen = torch.Generator().manual_seed(FIXED_SEED)
    with torch.no_grad():
        model.embed.weight.copy_(torch.randn(64, 32, generator=gen))
    return model


#: The last build's embedding, kept by :func:`mirrored` (reset it before an audit).
MIRROR: dict[str, Any] = {}


def mirrored() -> nn.Module:
    """Antithetic draws across builds: every other build's embedding is minus the previous
    build's (a cached draw negated), so no two builds are equal and each is N(0, 1)."""
    model = Base()
    last = MIRROR.pop("last", None)
    with torch.no_grad():
        if last is not None:
            model.embed.weight.copy_(-last)
        else:
            MIRROR["last"] = model.embed.weight.detach().clone()
    return model


def _fixed_component() -> torch.Tensor:
    return torch.randn(64, 32, generator=torch.Generator().manual_seed(FIXED_SEED))


def shared_component() -> nn.Module:
    """The embedding is ``(F + E) / sqrt(2)``: ``F`` fixed (the same in every build), ``E``
    the build's own draw. Each build is N(0, 1); two builds correlate 0.5 entry by entry."""
    model = Base()
    with torch.no_grad():
        w = model.embed.weight
        w.copy_((_fixed_component() + w) / math.sqrt(2.0))
    return model


#: Half the units at this std factor, the other half at the compensating one.
WIDE = 1.25
NARROW = math.sqrt(2.0 - WIDE * WIDE)


def heteroscedastic() -> nn.Module:
    """The embedding's units (columns) 0-15 at 1.25x the std, 16-31 at 0.66x: the variance
    is right on average."""
    model = Base()
    with torch.no_grad():
        w = model.embed.weight
        w[:, :16] *= WIDE
        w[:, 16:] *= NARROW
    return model


#: The clip, as a fraction of the uniform's bound: 1% of the mass on two atoms.
CLIP = 0.99


def clipped() -> nn.Module:
    """The head's weight clipped just inside its uniform's bound."""
    model = Base()
    with torch.no_grad():
        w = model.head.weight
        bound = 1.0 / math.sqrt(w.shape[1])
        w.clamp_(-CLIP * bound, CLIP * bound)
    return model


#: The spike, in multiples of the BBP threshold ``(rows cols)^(1/4)`` entry std.
SPIKE = 4.0


def spiked() -> nn.Module:
    """The embedding plus a rank-one ``theta u v'`` at :data:`SPIKE` times the BBP threshold
    (``u``, ``v`` fresh random signs over ``sqrt(n)``, so every row and column gets the same
    share), the bulk scaled down to keep the variance right."""
    model = Base()
    with torch.no_grad():
        w = model.embed.weight
        rows, cols = w.shape
        theta = SPIKE * (rows * cols) ** 0.25
        u = torch.randint(0, 2, (rows,)).double().mul(2).sub(1) / math.sqrt(rows)
        v = torch.randint(0, 2, (cols,)).double().mul(2).sub(1) / math.sqrt(cols)
        keep = math.sqrt(1.0 - theta * theta / (rows * cols))
        w.copy_((keep * w.double() + theta * torch.outer(u, v)).float())
    return model
