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
