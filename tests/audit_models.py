"""Small torch models for ``weight-init audit`` tests (torchvision does not install on the CPU
build used here, so no ResNet-18): a CNN, a transformer, and re-initialized variants."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


def small_cnn() -> nn.Module:
    """Conv/BatchNorm/Linear with torch's defaults."""
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1, groups=4),
        nn.ReLU(),
        nn.ConvTranspose2d(32, 8, 4, stride=2),
        nn.Flatten(),
        nn.Linear(8 * 4, 10),
    )


def resnet_style_cnn() -> nn.Module:
    """torchvision ResNet's re-initialization: kaiming_normal_(mode="fan_out",
    nonlinearity="relu") on convs, Linear left at its default."""
    model = small_cnn()
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    return model


def buggy_cnn() -> nn.Module:
    """A conv re-initialized with the receptive field left out of fan_in."""
    model = small_cnn()
    conv: Any = model[0]
    bound = 1.0 / conv.in_channels**0.5
    with torch.no_grad():
        conv.weight.uniform_(-bound, bound)
    return model


def small_transformer() -> nn.Module:
    """Embedding + one encoder layer (MultiheadAttention, Linear, LayerNorm) + head."""

    class Tiny(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(100, 32)
            self.encoder = nn.TransformerEncoderLayer(32, 4, dim_feedforward=64)
            self.head = nn.Linear(32, 100)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(self.encoder(self.embed(x)))

    return Tiny()


def not_a_model() -> int:
    return 3


def raising_factory() -> nn.Module:
    raise RuntimeError("boom")


def norm_only() -> nn.Module:
    """Only constant-initialized parameters (LayerNorm ones/zeros): every check is exact."""
    return nn.Sequential(nn.LayerNorm(8), nn.LayerNorm(4))


def exiting_factory() -> nn.Module:
    raise SystemExit(0)


class _TiedLM(nn.Module):
    """An embedding and an output head that share one tensor (as every LM with
    ``tie_word_embeddings``), a class token (1, 1, D), and a padding row."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(64, 32, padding_idx=0)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, 32))
        self.head = nn.Linear(32, 64, bias=False)
        self.head.weight = self.embed.weight
        self.register_buffer("steps", torch.zeros(3))


def tied_lm() -> nn.Module:
    return _TiedLM()


class _LayerNorm2d(nn.LayerNorm):
    """A LayerNorm over channels (as timm's): a subclass that adds nothing to the init."""


class _ResetLinear(nn.Linear):
    """A Linear that initializes itself: its base's default no longer applies."""

    def reset_parameters(self) -> None:
        nn.init.zeros_(self.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)


def subclassed_layers() -> nn.Module:
    return nn.Sequential(_LayerNorm2d(16), _ResetLinear(16, 8))


class _Scaled(nn.Module):
    """A layer scale at 1e-6 in float32 and in bfloat16, and experts as one 3-d parameter."""

    def __init__(self) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.full((64,), 1e-6))
        self.gamma_bf16 = nn.Parameter(torch.full((64,), 1e-6, dtype=torch.bfloat16))
        self.experts = nn.Parameter(torch.randn(8, 16, 32) * 0.02)


def layer_scale() -> nn.Module:
    return _Scaled()


def slow_factory() -> nn.Module:
    """Each build takes 0.4 s: a run of many builds outlasts a short --timeout, no build does."""
    import time

    time.sleep(0.4)
    return nn.Sequential(nn.LayerNorm(4))


def stuck_factory() -> nn.Module:
    """Builds twice (the audit's first build, which is also its look at what the factory
    returns, then its second), then never finishes."""
    import time

    stuck_factory.calls = getattr(stuck_factory, "calls", 0) + 1  # type: ignore[attr-defined]
    if stuck_factory.calls > 2:  # type: ignore[attr-defined]
        time.sleep(3600)
    return nn.Sequential(nn.LayerNorm(4))


class _Odd(nn.Module):
    """Parameters an audit cannot check: empty, a zero fan, integers, complex; and a scalar
    and a float16 constant it can describe."""

    def __init__(self) -> None:
        super().__init__()
        self.empty = nn.Linear(0, 4)
        self.ints = nn.Parameter(torch.arange(6).reshape(2, 3), requires_grad=False)
        self.cplx = nn.Parameter(torch.randn(4, 4, dtype=torch.complex64))
        self.scalar = nn.Parameter(torch.tensor(2.5))
        self.tenth = nn.Parameter(torch.full((8,), 0.1, dtype=torch.float16))


def odd_parameters() -> nn.Module:
    return _Odd()


def located_normal() -> nn.Module:
    """A weight drawn N(1, 0.1^2): a normal rule with a location."""
    import torch

    m = nn.Linear(64, 64, bias=False)
    with torch.no_grad():
        m.weight.normal_(mean=1.0, std=0.1)
    return m
