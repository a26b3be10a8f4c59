"""``--preset timm``: what timm's model families draw at construction, transcribed from timm 1.0
(read at 1.0.31), as data (:mod:`~weight_init.properties.audit._presets`).

* ResNet (``timm/models/resnet.py: ResNet.init_weights``): every ``nn.Conv2d`` weight
  ``kaiming_normal_(mode="fan_out", nonlinearity="relu")`` = ``variance_scaling(2, fan_out,
  normal)`` at torch's fans; then ``zero_init_last()`` of each block zeroes the last BN weight
  of the residual branch (``BasicBlock.bn2``, ``Bottleneck.bn3``); BatchNorm and the
  classifier keep torch's defaults.
* Vision Transformer (``timm/models/vision_transformer.py: VisionTransformer.init_weights``,
  mode ``''``: ``init_weights_vit_timm``): ``pos_embed`` ``trunc_normal_(std=.02)`` (absolute
  bounds +-2, i.e. 100 std: the normal law), ``cls_token``/``reg_token`` ``N(0, 1e-6^2)``;
  every ``nn.Linear`` weight ``trunc_normal_(std=.02)``, bias 0; other modules their own
  ``init_weights`` (``LayerScale``: ``init_values``) or ``reset_parameters`` (torch's
  defaults: the patch embedding's conv, LayerNorm).
* ConvNeXt (``timm/models/convnext.py: _init_weights``): ``nn.Conv2d`` and ``nn.Linear``
  weights ``trunc_normal_(std=.02)``, biases 0 (the head scaled by ``head_init_scale``, 1 by
  default); each block's layer scale ``gamma = ls_init_value * ones`` with ConvNeXt's default
  ``ls_init_value = 1e-6`` (``ConvNeXtBlock.__init__``: not stored on the module, so a model
  built with another value fails here, naming the value).
* EfficientNet / MobileNet (``timm/models/_efficientnet_builder.py: _init_weight_goog``):
  ``nn.Conv2d`` weight ``N(0, 2 / fan_out)`` with the group-divided ``fan_out = k_h k_w
  out_channels / groups``, bias 0; BatchNorm weight 1, bias 0; ``nn.Linear`` weight
  ``U(-1/sqrt(out_features), +)``, bias 0.
"""

from __future__ import annotations

from weight_init.properties.audit._presets import Preset, PresetRule

__all__ = ["TIMM_PRESETS"]

_T = "timm.models"
_CONV = "isa:torch.nn.modules.conv.Conv2d"
_LINEAR = "isa:torch.nn.modules.linear.Linear"
_BN = "isa:torch.nn.modules.batchnorm.BatchNorm2d"
_TRUNC = "truncated_normal(std=0.02, a=-2, b=2)"
_GOOG = "_efficientnet_builder.py: _init_weight_goog"
_GOOG_CONV = "normal(std=sqrt(2 * groups / (receptive_field * out_channels)))"

#: Every timm preset, by family; ``models`` are the model classes it is for.
TIMM_PRESETS: dict[str, Preset] = {
    p.family: p
    for p in (
        Preset(
            "timm",
            "resnet",
            (f"{_T}.resnet.ResNet",),
            "timm/models/resnet.py: ResNet.init_weights",
            (
                PresetRule(
                    _CONV, "weight", "variance_scaling(2, fan_out, normal)", layout="torch.conv"
                ),
                PresetRule(
                    f"class:{_T}.resnet.BasicBlock",
                    "bn2.weight",
                    "zeros",
                    quirk="zero-init residual branch",
                ),
                PresetRule(
                    f"class:{_T}.resnet.Bottleneck",
                    "bn3.weight",
                    "zeros",
                    quirk="zero-init residual branch",
                ),
            ),
        ),
        Preset(
            "timm",
            "vit",
            (f"{_T}.vision_transformer.VisionTransformer",),
            "timm/models/vision_transformer.py: VisionTransformer.init_weights, "
            "init_weights_vit_timm",
            (
                PresetRule(_LINEAR, "weight", _TRUNC),
                PresetRule(_LINEAR, "bias", "zeros"),
                PresetRule(
                    "isa:timm.layers.layer_scale.LayerScale",
                    "gamma",
                    "constant(init_values)",
                    quirk="layer scale",
                ),
                PresetRule(f"isa:{_T}.vision_transformer.VisionTransformer", "pos_embed", _TRUNC),
                PresetRule(
                    f"isa:{_T}.vision_transformer.VisionTransformer",
                    "cls_token",
                    "normal(std=1e-6)",
                ),
                PresetRule(
                    f"isa:{_T}.vision_transformer.VisionTransformer",
                    "reg_token",
                    "normal(std=1e-6)",
                ),
            ),
        ),
        Preset(
            "timm",
            "convnext",
            (f"{_T}.convnext.ConvNeXt",),
            "timm/models/convnext.py: _init_weights, ConvNeXtBlock.__init__",
            (
                PresetRule(_CONV, "weight", _TRUNC),
                PresetRule(_CONV, "bias", "zeros"),
                PresetRule(_LINEAR, "weight", _TRUNC),
                PresetRule(_LINEAR, "bias", "zeros"),
                PresetRule(
                    f"class:{_T}.convnext.ConvNeXtBlock",
                    "gamma",
                    "constant(1e-6)",
                    quirk="layer scale",
                ),
            ),
        ),
        Preset(
            "timm",
            "efficientnet",
            (f"{_T}.efficientnet.EfficientNet", f"{_T}.mobilenetv3.MobileNetV3"),
            f"timm/models/{_GOOG}",
            (
                PresetRule(_CONV, "weight", _GOOG_CONV),
                PresetRule(
                    _CONV, "weight", _GOOG_CONV, quirk="group-divided fan_out", when="groups > 1"
                ),
                PresetRule(_CONV, "bias", "zeros"),
                PresetRule(_BN, "weight", "ones"),
                PresetRule(_BN, "bias", "zeros"),
                PresetRule(
                    _LINEAR, "weight", "uniform(-1 / sqrt(out_features), 1 / sqrt(out_features))"
                ),
                PresetRule(_LINEAR, "bias", "zeros"),
            ),
        ),
    )
}
