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
