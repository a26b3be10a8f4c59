"""``--preset torchvision``: what torchvision's model families draw at construction, as data
(:mod:`~weight_init.properties.audit._presets`), read at torchvision 0.29.

* ResNet (``torchvision/models/resnet.py: ResNet.__init__``): every ``nn.Conv2d`` weight
  ``kaiming_normal_(mode="fan_out", nonlinearity="relu")`` = ``variance_scaling(2, fan_out,
  normal)`` at torch's fans; ``BatchNorm2d``/``GroupNorm`` weight 1, bias 0 (torch's
  defaults, restated); the classifier keeps ``nn.Linear``'s default. ``zero_init_residual``
  is off by default and not stored on the model: a model built with it on shows its last BN
  weights as ``zeros`` against this preset's 1.
"""

from __future__ import annotations

from weight_init.properties.audit._presets import Preset, PresetRule

__all__ = ["TORCHVISION_PRESETS"]

_NORM = "isa:torch.nn.modules.batchnorm.BatchNorm2d|torch.nn.modules.normalization.GroupNorm"

#: Every torchvision preset, by family; ``models`` are the model classes it is for.
TORCHVISION_PRESETS: dict[str, Preset] = {
    "resnet": Preset(
        "torchvision",
        "resnet",
        ("torchvision.models.resnet.ResNet",),
        "torchvision/models/resnet.py: ResNet.__init__",
        (
            PresetRule(
                "isa:torch.nn.modules.conv.Conv2d",
                "weight",
                "variance_scaling(2, fan_out, normal)",
                layout="torch.conv",
            ),
            PresetRule(_NORM, "weight", "ones"),
            PresetRule(_NORM, "bias", "zeros"),
        ),
    ),
}
