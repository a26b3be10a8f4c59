"""``propagate`` on the zoo's real architectures (torchvision's ResNet-18, timm's ViT and
ConvNeXt, built with random weights): traced, every layer with a rule predicted, no record
disagreeing with its prediction (the diagnosis's t-tests, Holm at 1e-3, 5% tolerance, 3
builds), pooling and attention passed through with their reason. Needs torchvision and timm
(the zoo environment); skipped otherwise."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
timm = pytest.importorskip("timm")
pytestmark = pytest.mark.torch

from weight_init.properties.propagation import propagate  # noqa: E402

RULED = {"conv", "linear", "batchnorm", "layernorm", "activation", "add"}


@pytest.fixture(autouse=True)
def _one_thread() -> Any:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def resnet18() -> Any:
    return torchvision.models.resnet18(weights=None)


def vit_tiny() -> Any:
    return timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=64)


def convnext_atto() -> Any:
    return timm.create_model("convnext_atto", pretrained=False)


@pytest.mark.parametrize("factory", [resnet18, vit_tiny, convnext_atto])
def test_real_architectures_are_predicted_where_a_rule_exists(factory: Any) -> None:
    r = propagate(factory, input_shape=(4, 3, 64, 64), builds=3, seed=0)
    assert r.graph == "torch.fx trace"
    bad = [d for d in r.diagnosis.disagreements if d.outcome == "disagrees"]
    assert not bad, bad
    for rec in r.records:
        if rec.kind in RULED:
            assert rec.status == "predicted", (rec.name, rec.reason)
        if rec.status == "passed through":
            assert rec.reason, rec.name
    assert r.diagnosis.residual is not None and r.diagnosis.signal is not None
