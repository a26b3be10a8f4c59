"""The zoo: models people use, built from small configurations with no weights, for
``weight-init audit`` (``tox -e zoo``: torch, torchvision, transformers, timm).

Each factory takes no argument and returns a freshly initialized ``torch.nn.Module``; the
audit seeds torch before each call. Sizes are chosen so that every random parameter but a
few named ones (class tokens, biases of a handful of entries, depthwise kernels) holds at
least ~500 entries a build, so the power plan of each check is met within a few hundred
builds, and a build takes milliseconds. The architecture is the library's own (its classes
and ``_init_weights``/``init_weights``), only narrower and shallower.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

logging.getLogger("transformers").setLevel(logging.ERROR)


def _transformers(config: str, model: str, **kwargs: Any) -> Any:
    import transformers

    return getattr(transformers, model)(getattr(transformers, config)(**kwargs))


def bert() -> Any:
    """BERT for masked LM: word embeddings tied to the decoder, padding row 0 zero."""
    return _transformers(
        "BertConfig",
        "BertForMaskedLM",
        vocab_size=97,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=64,
        type_vocab_size=32,
    )


def gpt2() -> Any:
    """GPT-2 LM head: lm_head tied to wte, Conv1D layers, residual projections scaled."""
    return _transformers(
        "GPT2Config",
        "GPT2LMHeadModel",
        vocab_size=97,
        n_positions=64,
        n_embd=32,
        n_layer=2,
        n_head=4,
        bos_token_id=0,
        eos_token_id=0,
    )


def llama() -> Any:
    """Llama causal LM with grouped-query attention, RMSNorm, padding row 0 zero."""
    return _transformers(
        "LlamaConfig",
        "LlamaForCausalLM",
        vocab_size=97,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=128,
        max_position_embeddings=64,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
    )


def t5() -> Any:
    """T5 for generation: shared, encoder and decoder embeddings and lm_head one tensor."""
    return _transformers(
        "T5Config",
        "T5ForConditionalGeneration",
        vocab_size=97,
        d_model=32,
        d_kv=4,
        d_ff=64,
        num_layers=2,
        num_heads=8,
        relative_attention_num_buckets=128,
    )


def vit() -> Any:
    """ViT image classifier: a class token (1, 1, D) and a position embedding (1, N, D)."""
    return _transformers(
        "ViTConfig",
        "ViTForImageClassification",
        image_size=32,
        patch_size=8,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        num_labels=32,
    )


def mixtral() -> Any:
    """Mixtral: a mixture of experts whose expert weights are 3-d parameters."""
    return _transformers(
        "MixtralConfig",
        "MixtralForCausalLM",
        vocab_size=97,
        hidden_size=64,
        num_hidden_layers=1,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=32,
        num_local_experts=16,
        num_experts_per_tok=2,
        max_position_embeddings=64,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
    )


def mamba() -> Any:
    """Mamba: a state-space model (S4D-real ``A_log``, ``D``, ``dt_proj``), tied lm_head."""
    return _transformers(
        "MambaConfig",
        "MambaForCausalLM",
        vocab_size=97,
        hidden_size=32,
        num_hidden_layers=2,
        state_size=8,
        expand=4,
        time_step_rank=16,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
    )


def timm_resnet() -> Any:
    """timm's ResNet-18 design (BasicBlock, zero-init last BN), one block a stage, narrow."""
    import timm

    return timm.create_model(
        "resnet18", pretrained=False, layers=(1, 1, 1, 1), channels=(16, 32, 48, 64), stem_width=16
    )


def timm_mobilenetv3() -> Any:
    """timm's MobileNetV3-Small 0.5 (goog init: group-divided fan_out, BatchNormAct2d)."""
    import timm

    return timm.create_model("mobilenetv3_small_050", pretrained=False, num_classes=100)


def timm_convnext() -> Any:
    """timm's ConvNeXt-atto design (layer scale 1e-6, LayerNorm2d), one block a stage."""
    import timm

    return timm.create_model(
        "convnext_atto", pretrained=False, depths=(1, 1, 1, 1), dims=(16, 32, 48, 64)
    )


def timm_vit() -> Any:
    """timm's ViT-tiny design on 32x32 images: cls_token N(0, 1e-12), pos_embed, 2 blocks."""
    import timm

    return timm.create_model(
        "vit_tiny_patch16_224",
        pretrained=False,
        img_size=32,
        patch_size=8,
        depth=2,
        embed_dim=64,
        num_heads=4,
    )


def torchvision_resnet() -> Any:
    """torchvision's ResNet (BasicBlock, one block a stage, 100 classes)."""
    from torchvision.models.resnet import BasicBlock, ResNet

    return ResNet(BasicBlock, [1, 1, 1, 1], num_classes=100)


@dataclass(frozen=True)
class ZooCase:
    """One zoo model as the zoo test and ``benchmarks/zoo_table.py`` audit it: its factory
    (``audit_models_zoo:NAME``), the preset that states its library's init, the builds (enough
    for the power plan of its main weights at family-wise alpha 1e-6 per parameter; smaller
    parameters are inconclusive, and say so), the tied aliases and quirks the audit must name,
    and one deliberately wrong rule with the parameters it must fail on, no more, no fewer."""

    name: str
    preset: str
    builds: int
    aliases: dict[str, str]
    quirks: dict[str, str]  # a parameter -> a quirk its row must name
    wrong: str
    wrong_fails: tuple[str, ...]
    skipped: tuple[str, ...] = ()


_C_PROJ = tuple(f"transformer.h.{i}.{m}.c_proj.weight" for i in (0, 1) for m in ("attn", "mlp"))
_T5_Q = tuple(
    f"{part}.block.{i}.layer.{k}.{att}.q.weight"
    for part, atts in (
        ("encoder", ("SelfAttention",)),
        ("decoder", ("SelfAttention", "EncDecAttention")),
    )
    for i in (0, 1)
    for k, att in enumerate(atts)
)

#: The zoo: twelve architectures from four libraries.
ZOO: tuple[ZooCase, ...] = (
    ZooCase(
        "bert",
        "transformers",
        313,
        {
            "cls.predictions.decoder.weight": "bert.embeddings.word_embeddings.weight",
            "cls.predictions.decoder.bias": "cls.predictions.bias",
        },
        {"bert.embeddings.word_embeddings.weight": "padding row 0 zero"},
        "bert.embeddings.word_embeddings.weight=normal(std=0.02)",
        ("bert.embeddings.word_embeddings.weight",),
    ),
    ZooCase(
        "gpt2",
        "transformers",
        313,
        {"lm_head.weight": "transformer.wte.weight"},
        {n: "residual scaling 1/sqrt(2 n_layer)" for n in _C_PROJ},
        "*.c_proj.weight=normal(std=0.02)",
        _C_PROJ,
    ),
    ZooCase(
        "llama",
        "transformers",
        157,
        {},
        {"model.embed_tokens.weight": "padding row 0 zero"},
        "model.embed_tokens.weight=normal(std=0.02)",
        ("model.embed_tokens.weight",),
    ),
    ZooCase(
        "t5",
        "transformers",
        313,
        {
            n: "shared.weight"
            for n in (
                "encoder.embed_tokens.weight",
                "decoder.embed_tokens.weight",
                "lm_head.weight",
            )
        },
        {},
        "*.q.weight=normal(std=32 ** -0.5)",
        _T5_Q,
    ),
    ZooCase(
        "vit",
        "transformers",
        313,
        {},
        {},
        "*.patch_embeddings.projection.weight=torch_linear_default@torch.conv",
        ("vit.embeddings.patch_embeddings.projection.weight",),
    ),
    ZooCase(
        "mixtral",
        "transformers",
        313,
        {},
        {},
        "*.experts.down_proj=normal(std=0.002)",
        ("model.layers.0.mlp.experts.down_proj",),
    ),
    ZooCase(
        "mamba",
        "transformers",
        313,
        {"lm_head.weight": "backbone.embeddings.weight"},
        {},
        "*.dt_proj.weight=uniform(-0.5, 0.5)",
        tuple(f"backbone.layers.{i}.mixer.dt_proj.weight" for i in (0, 1)),
        skipped=tuple(
            f"backbone.layers.{i}.mixer.{p}" for i in (0, 1) for p in ("A_log", "dt_proj.bias")
        ),
    ),
    ZooCase(
        "timm_resnet",
        "timm",
        100,
        {},
        {f"layer{i}.0.bn2.weight": "zero-init residual branch" for i in (1, 2, 3, 4)},
        "*.bn2.weight=ones",
        tuple(f"layer{i}.0.bn2.weight" for i in (1, 2, 3, 4)),
    ),
    ZooCase(
        "timm_mobilenetv3",
        "timm",
        40,
        {},
        {"blocks.1.0.conv_dw.weight": "group-divided fan_out"},
        "blocks.*.conv_dw.weight=variance_scaling(2, fan_out, normal)@torch.conv",
        tuple(
            f"blocks.{b}.conv_dw.weight"
            for b in ("0.0", "1.0", "1.1", "2.0", "2.1", "2.2", "3.0", "3.1", "4.0", "4.1", "4.2")
        ),
    ),
    ZooCase(
        "timm_convnext",
        "timm",
        100,
        {},
        {f"stages.{i}.blocks.0.gamma": "layer scale" for i in range(4)},
        "*.gamma=constant(1e-5)",
        tuple(f"stages.{i}.blocks.0.gamma" for i in range(4)),
    ),
    ZooCase(
        "timm_vit",
        "timm",
        100,
        {},
        {},
        "cls_token=normal(std=0.02)",
        ("cls_token",),
    ),
    ZooCase(
        "torchvision_resnet",
        "torchvision",
        32,
        {},
        {},
        "*conv*.weight=he_normal@torch.conv",
        ("conv1.weight", "layer2.0.conv1.weight", "layer3.0.conv1.weight", "layer4.0.conv1.weight"),
    ),
)
