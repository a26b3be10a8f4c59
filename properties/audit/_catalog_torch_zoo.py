"""Defaults of layer classes the big torch zoos define themselves, each cited to its source.

The torch catalog (:func:`~weight_init.properties.audit._expectations.documented_defaults`)
holds torch's own layers; a subclass of one of them inherits its default through the class
hierarchy (timm's ``LayerNorm2d`` and ``BatchNormAct2d`` are ``nn.LayerNorm`` and
``nn.BatchNorm2d`` that add nothing to the init). These are the classes that are not torch
layers, or that replace the init: what their constructor or ``reset_parameters`` draws, read
from the installed source (transformers 5.25, timm 1.0.31; ``torch.nn.RMSNorm`` since torch
2.4). A rule may name the module's numbers (``LayerScale``'s ``init_values``).

What a library's *model* init re-draws on top of these (``_init_weights``) is a preset's
business (:mod:`~weight_init.properties.audit._presets`), not a layer default.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ZOO_DEFAULTS", "ZooDefault"]


@dataclass(frozen=True)
class ZooDefault:
    """One parameter's default: a rule (text; module numbers may be named), the layout its
    fans are read in, where it is stated, and the quirk it is."""

    rule: str
    layout: str
    source: str
    quirk: str = ""


_TF = "transformers/models"
_RMS = "self.weight = nn.Parameter(torch.ones(hidden_size))"

#: (qualified class name, parameter) -> default.
ZOO_DEFAULTS: dict[tuple[str, str], ZooDefault] = {
    ("transformers.pytorch_utils.Conv1D", "weight"): ZooDefault(
        "normal(std=0.02)", "in_out", "transformers/pytorch_utils.py: Conv1D.__init__ (nx, nf)"
    ),
    ("transformers.pytorch_utils.Conv1D", "bias"): ZooDefault(
        "zeros", "in_out", "transformers/pytorch_utils.py: Conv1D.__init__"
    ),
    **{
        (f"transformers.models.{m}.modeling_{m}.{cls}", "weight"): ZooDefault(
            "ones", "out_in", f"{_TF}/{m}/modeling_{m}.py: {cls}.__init__ ({_RMS})"
        )
        for m, cls in (
            ("llama", "LlamaRMSNorm"),
            ("mistral", "MistralRMSNorm"),
            ("mixtral", "MixtralRMSNorm"),
            ("qwen2", "Qwen2RMSNorm"),
            ("qwen2_moe", "Qwen2MoeRMSNorm"),
            ("mamba", "MambaRMSNorm"),
            ("t5", "T5LayerNorm"),
        )
    },
    ("transformers.models.gemma.modeling_gemma.GemmaRMSNorm", "weight"): ZooDefault(
        "zeros",
        "out_in",
        f"{_TF}/gemma/modeling_gemma.py: GemmaRMSNorm.__init__ (scales by 1 + weight)",
        quirk="zero-centred norm scale",
    ),
    ("torch.nn.modules.normalization.RMSNorm", "weight"): ZooDefault(
        "ones", "out_in", "torch/nn/modules/normalization.py: RMSNorm.reset_parameters"
    ),
    **{
        (f"timm.layers.norm.{cls}", "weight"): ZooDefault(
            "ones", "out_in", f"timm/layers/norm.py: {cls}.reset_parameters"
        )
        for cls in ("RmsNorm", "RmsNormFp32", "RmsNorm2d", "RmsNorm2dFp32")
    },
    **{
        (f"timm.layers.layer_scale.{cls}", "gamma"): ZooDefault(
            "constant(init_values)",
            "out_in",
            f"timm/layers/layer_scale.py: {cls}.reset_parameters",
            quirk="layer scale",
        )
        for cls in ("LayerScale", "LayerScale2d")
    },
}
