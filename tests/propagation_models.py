"""Small torch models for ``weight-init propagate`` tests: the notes' MLP, a plain CNN,
residual networks with and without normalization, transformer blocks (pre-LN, post-LN), and
misbehaving factories. Factories take no arguments (``MODULE:FACTORY`` on the command line).
"""

from __future__ import annotations

import math
import os
import sys
from typing import Any

import torch
from torch import nn

from weight_init.schemes import get_scheme

#: The notes' network: 10 tanh layers of 500 units, no bias, input 1000 x 500.
NOTES_DEPTH, NOTES_WIDTH, NOTES_INPUT = 10, 500, (1000, 500)


def mlp(
    scheme: str = "xavier",
    activation: type[nn.Module] = nn.Tanh,
    depth: int = NOTES_DEPTH,
    width: int = NOTES_WIDTH,
    input_dim: int = NOTES_WIDTH,
) -> nn.Module:
    """Bias-free linear layers with weights drawn by the registered ``scheme`` (in ``in_out``
    and transposed to torch's ``(out, in)``), each followed by ``activation``."""
    sch = get_scheme(scheme)
    layers: list[nn.Module] = []
    fan_in = input_dim
    for _ in range(depth):
        lin = nn.Linear(fan_in, width, bias=False)
        seed = int(torch.randint(0, 2**31 - 1, ()).item())
        w = sch.sample(fan_in, width, rng=__import__("numpy").random.default_rng(seed))
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w.T.copy()).float())
        layers += [lin, activation()]
        fan_in = width
    return nn.Sequential(*layers)


def notes_mlp() -> nn.Module:
    """The notes' network under their "Xavier", ``randn / sqrt(fan_in)``."""
    return mlp("xavier")


def notes_mlp_small() -> nn.Module:
    """The notes' network under ``0.01 * randn``: the signal vanishes."""
    return mlp("small_normal")


def plain_cnn() -> nn.Module:
    """Conv-ReLU stacks with He init and a global average pool, for 3 x 16 x 16 inputs."""
    model = nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(32, 32, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(32, 64, 3, padding=1, stride=2),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(64, 10),
    )
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
    return model


class NFBlock(nn.Module):
    """Brock et al.'s normalizer-free block: ``x + alpha * f(x / beta)``, ``beta`` the stream's
    expected std, ``f = conv(relu(conv(relu(.))))`` with He init (variance preserving)."""

    def __init__(self, channels: int, alpha: float, beta: float) -> None:
        super().__init__()
        self.alpha, self.beta = alpha, beta
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        for c in (self.conv1, self.conv2):
            nn.init.kaiming_normal_(c.weight, nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv2(torch.relu(self.conv1(torch.relu(x / self.beta))))
        return x + self.alpha * h


class PlainBlock(nn.Module):
    """An unnormalized, unscaled residual block ``x + conv(relu(conv(relu(x))))``, He init."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        for c in (self.conv1, self.conv2):
            nn.init.kaiming_normal_(c.weight, nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(torch.relu(self.conv1(torch.relu(x))))


class BNBlock(nn.Module):
    """The original (post-activation) ResNet block: ``relu(x + bn(conv(relu(bn(conv(x))))))``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += x
        return self.relu(out)


class PreBNBlock(nn.Module):
    """The pre-activation ResNet block: ``x + conv(relu(bn(conv(relu(bn(x))))))``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(torch.relu(self.bn1(x)))
        return x + self.conv2(torch.relu(self.bn2(h)))


def _resnet(blocks: list[nn.Module], channels: int, relu_stem: bool = False) -> nn.Module:
    """A 3 x 3 stem convolution (then a ReLU for post-activation blocks, whose stream is a
    ReLU's output) and ``blocks``."""
    stem = nn.Conv2d(3, channels, 3, padding=1, bias=False)
    nn.init.kaiming_normal_(stem.weight, nonlinearity="relu" if relu_stem else "linear")
    return nn.Sequential(stem, *([nn.ReLU()] if relu_stem else []), *blocks)


RESNET_BLOCKS, RESNET_CHANNELS, RESNET_INPUT = 8, 16, (16, 3, 8, 8)


def nf_resnet() -> nn.Module:
    """Normalizer-free ResNet: stream variance ``1 + k alpha^2`` after block k (linear)."""
    alpha = 0.4
    blocks = [
        NFBlock(RESNET_CHANNELS, alpha, math.sqrt(1.0 + k * alpha**2)) for k in range(RESNET_BLOCKS)
    ]
    return _resnet(list(blocks), RESNET_CHANNELS)


def plain_resnet() -> nn.Module:
    """Unnormalized He-initialized ResNet: each block doubles the stream's variance."""
    return _resnet([PlainBlock(RESNET_CHANNELS) for _ in range(RESNET_BLOCKS)], RESNET_CHANNELS)


def bn_resnet() -> nn.Module:
    """Post-activation BatchNorm ResNet (torchvision's BasicBlock without downsampling)."""
    blocks: list[nn.Module] = [BNBlock(RESNET_CHANNELS) for _ in range(RESNET_BLOCKS)]
    return _resnet(blocks, RESNET_CHANNELS, relu_stem=True)


def bn_resnet_zero_gamma() -> nn.Module:
    """The post-activation BatchNorm ResNet with each branch's last scale at zero (Goyal et
    al. 2017): every block is the identity at initialization, the stream flat."""
    model = bn_resnet()
    for m in model.modules():
        if isinstance(m, BNBlock):
            nn.init.zeros_(m.bn2.weight)
    return model


def prebn_resnet() -> nn.Module:
    """Pre-activation BatchNorm ResNet: each normalized branch adds about its own variance."""
    return _resnet([PreBNBlock(RESNET_CHANNELS) for _ in range(RESNET_BLOCKS)], RESNET_CHANNELS)


class TransformerBlock(nn.Module):
    """Self-attention and MLP sub-blocks, layer norm before (``pre``) or after the addition."""

    def __init__(self, dim: int, heads: int, pre: bool) -> None:
        super().__init__()
        self.pre = pre
        self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pre:
            h = self.ln1(x)
            x = x + self.attn(h, h, h, need_weights=False)[0]
            return x + self.mlp(self.ln2(x))
        x = self.ln1(x + self.attn(x, x, x, need_weights=False)[0])
        return self.ln2(x + self.mlp(x))


TRANSFORMER_DEPTH, TRANSFORMER_DIM, TRANSFORMER_INPUT = 6, 32, (8, 16, 32)


def pre_ln_transformer() -> nn.Module:
    return nn.Sequential(
        *[TransformerBlock(TRANSFORMER_DIM, 4, pre=True) for _ in range(TRANSFORMER_DEPTH)]
    )


def post_ln_transformer() -> nn.Module:
    return nn.Sequential(
        *[TransformerBlock(TRANSFORMER_DIM, 4, pre=False) for _ in range(TRANSFORMER_DEPTH)]
    )


class DataDependent(nn.Module):
    """Control flow on the data: fx cannot trace it, the module-order fallback runs."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(20, 20)
        self.b = nn.Linear(20, 20)
        self.act = nn.Tanh()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act(self.a(x))
        if h.sum() > -1e9:
            h = self.act(self.b(h))
        return h


def data_dependent() -> nn.Module:
    return DataDependent()


# ----------------------------------------------------------------------------- misbehaving


def not_a_module() -> Any:
    return "a string"


def factory_raises() -> nn.Module:
    raise RuntimeError("factory broke")


class Raises(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise ValueError("forward broke")


def forward_raises() -> nn.Module:
    return Raises()


def exits_zero() -> nn.Module:
    sys.stdout.write("PASS\n")
    sys.stdout.flush()
    os._exit(0)


def small_mlp() -> nn.Module:
    """20 -> 20 -> 20 tanh, torch's defaults (fast)."""
    return nn.Sequential(nn.Linear(20, 20), nn.Tanh(), nn.Linear(20, 20), nn.Tanh())


def token_inputs(seed: int) -> torch.Tensor:
    """Inputs for the transformers from ``seed`` (the ``--input`` protocol)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(TRANSFORMER_INPUT, generator=g)


class LayerScaleBlock(nn.Module):
    """A ConvNeXt-style block written with functions: depthwise conv, ``F.layer_norm`` on the
    block's own parameters, an MLP, a layer-scale vector ``gamma`` and a sigmoid gate."""

    def __init__(self, dim: int, scale: float) -> None:
        super().__init__()
        self.dw = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))
        self.fc1, self.fc2 = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)
        self.gate = nn.Linear(dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), scale))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.dw(x).permute(0, 2, 3, 1)
        h = torch.nn.functional.layer_norm(h, h.shape[-1:], self.weight, self.bias, 1e-6)
        h = self.fc2(torch.nn.functional.gelu(self.fc1(h)))
        h = h * torch.sigmoid(self.gate(h))
        return x + (self.gamma * h).permute(0, 3, 1, 2)


def layer_scale_net() -> nn.Module:
    """Four :class:`LayerScaleBlock` of 16 channels, layer scale 0.5, on a conv stem."""
    stem = nn.Conv2d(3, 16, 3, padding=1)
    return nn.Sequential(stem, *[LayerScaleBlock(16, 0.5) for _ in range(4)])
