"""Small torch models for ``bench_audit.py`` (torch only: no transformers, timm, torchvision).

Every factory takes no argument and returns a ``torch.nn.Module`` with torch's default
initialization, so that the audit checks every parameter against its layer's documented
default:

* :func:`transformer`: a small pre-LN transformer encoder (embedding, 2 layers of width 128,
  4 heads, feed-forward 512, classifier head): about 0.7 M parameters in 30 tensors;
* :func:`resnet`: a CIFAR-style ResNet (3 stages of 3 basic blocks, 16/32/64 channels, batch
  norm, a linear head): about 0.27 M parameters in 65 tensors;
* :func:`slow_build`: a model whose single build is slow: a 60,000 x 256 embedding table and
  four 1024 x 1024 linear layers (about 19 M parameters, 17 M of them normal draws);
* :func:`transformer_10x`: :func:`transformer` at width 512, 4 layers, feed-forward 2048
  (about 10x the parameters), for how time and memory grow.
"""

from __future__ import annotations

import torch
from torch import nn


class _Encoder(nn.Module):
    def __init__(self, vocab: int, width: int, layers: int, heads: int, ff: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        layer = nn.TransformerEncoderLayer(width, heads, ff, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.norm(self.encoder(self.embed(x))).mean(dim=1))


def transformer() -> nn.Module:
    return _Encoder(2000, 128, 2, 4, 512)


def transformer_10x() -> nn.Module:
    return _Encoder(8000, 512, 4, 8, 2048)


class _Block(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = (
            nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
            if stride != 1 or cin != cout
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.down(x))


def resnet() -> nn.Module:
    layers: list[nn.Module] = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16)]
    cin = 16
    for cout, stride in ((16, 1), (32, 2), (64, 2)):
        for i in range(3):
            layers.append(_Block(cin, cout, stride if i == 0 else 1))
            cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


def slow_build() -> nn.Module:
    return nn.Sequential(
        nn.Embedding(60_000, 256),
        nn.Linear(256, 1024),
        nn.Linear(1024, 1024),
        nn.Linear(1024, 1024),
        nn.Linear(1024, 1024),
    )
