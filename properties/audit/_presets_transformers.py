"""``--preset transformers``: what ``PreTrainedModel._init_weights`` and each family's
override draw, transcribed from transformers 5 (read at 5.25.0), as data.

Every transformers model runs ``post_init() -> init_weights() -> initialize_weights()``, which
calls ``_init_weights(module)`` on every module, children before parents
(``smart_apply``), then ties the weights. The library-wide part
(``transformers/modeling_utils.py: PreTrainedModel._init_weights``), with ``std`` =
``config.initializer_range`` (0.02 when unset or 0), else ``config.init_std``, else
``config.initializer_factor``, else 0.02 (named ``base_std`` here):

* ``nn.Linear``, ``nn.Conv1d/2d/3d``, ``nn.ConvTranspose1d/2d``: weight ``N(0, std^2)``, bias 0;
* ``nn.LSTM``: every weight ``xavier_uniform_`` (over the stacked gates), every bias 0;
* ``nn.Embedding``: ``N(0, std^2)``, the ``padding_idx`` row 0;
* ``nn.MultiheadAttention``: torch's ``_reset_parameters`` (in-projection Glorot uniform,
  biases 0; ``out_proj.weight`` keeps the ``nn.Linear`` rule above);
* ``GroupNorm``, ``BatchNorm1d/2d/3d`` and any class whose name contains ``LayerNorm`` or
  ``RMSNorm``: weight 1, bias 0.

Families (``config.model_type``) and their overrides, each in its ``modeling_*.py``:
``bert`` (``BertLMPredictionHead.bias`` 0), ``gpt2`` (``Conv1D`` ``N(0,
initializer_range^2)``; ``c_proj`` of ``GPT2Attention``/``GPT2MLP`` ``N(0,
(initializer_range / sqrt(2 n_layer))^2)``: residual scaling), ``t5`` (``initializer_factor``
times ``d_model^-1/2``, ``d_ff^-1/2``, ``(d_model d_kv)^-1/2``, ``(n_heads d_kv)^-1/2``;
``T5LayerNorm`` ``initializer_factor``; ``shared`` ``N(0, factor^2)``), ``vit``
(``trunc_normal_`` at the absolute bounds +-2 of the position and class embeddings),
``mixtral`` and ``qwen2_moe`` (experts' 3-d ``gate_up_proj``/``down_proj`` and the router
``N(0, initializer_range^2)``), ``mamba`` (``A_log = log(1..N)`` and ``dt_proj.bias``, an
inverse softplus of a log-uniform draw, are not schemes: skipped; ``D`` 1; ``dt_proj.weight``
``U(+-time_step_rank^-1/2 time_step_scale)``; ``conv1d``/``out_proj`` torch's
``kaiming_uniform_(a=sqrt(5))``, ``out_proj`` divided by ``sqrt(num_hidden_layers)`` under
``rescale_prenorm_residual``), and families with no override of their own (``llama``,
``mistral``, ``qwen2``).
"""

from __future__ import annotations

from typing import Any

from weight_init.properties.audit._presets import Preset, PresetRule

__all__ = ["TRANSFORMERS_PRESETS", "base_std"]

_SRC = "transformers/models"
_NN = "torch.nn.modules"
_LIN_CONV = "|".join(
    [
        f"{_NN}.linear.Linear",
        *(f"{_NN}.conv.Conv{d}d" for d in (1, 2, 3)),
        *(f"{_NN}.conv.ConvTranspose{d}d" for d in (1, 2)),
    ]
)
_BN = "|".join(
    [f"{_NN}.normalization.GroupNorm", *(f"{_NN}.batchnorm.BatchNorm{d}d" for d in (1, 2, 3))]
)

BASE = (
    PresetRule(f"isa:{_LIN_CONV}", "weight", "normal(std=base_std)"),
    PresetRule(f"isa:{_LIN_CONV}", "bias", "zeros"),
    PresetRule(f"isa:{_NN}.rnn.LSTM", "weight*", "glorot_uniform", layout="out_in"),
    PresetRule(f"isa:{_NN}.rnn.LSTM", "bias*", "zeros"),
    PresetRule(f"isa:{_NN}.sparse.Embedding", "weight", "normal(std=base_std)"),
    PresetRule(
        f"isa:{_NN}.sparse.Embedding",
        "weight",
        "normal(std=base_std) + zero_rows(padding_idx)",
        when="padding_idx",
    ),
    PresetRule(f"isa:{_NN}.activation.MultiheadAttention", "in_proj_*", ""),
    PresetRule(f"isa:{_NN}.activation.MultiheadAttention", "out_proj.bias", ""),
    PresetRule(f"isa:{_NN}.activation.MultiheadAttention", "bias_[kv]", "glorot_normal"),
    PresetRule(f"isa:{_BN}", "weight", "ones"),
    PresetRule(f"isa:{_BN}", "bias", "zeros"),
    PresetRule("name:*LayerNorm*|*RMSNorm*", "weight", "ones"),
    PresetRule("name:*LayerNorm*|*RMSNorm*", "bias", "zeros"),
)
BASE_SOURCE = "transformers/modeling_utils.py: PreTrainedModel._init_weights"


def base_std(config: Any) -> dict[str, float]:
    """``std`` of ``PreTrainedModel._init_weights``: ``initializer_range or 0.02``, else
    ``init_std``, else ``initializer_factor``, else the text config's ``initializer_range``
    (default 0.02)."""
    if hasattr(config, "initializer_range"):
        return {"base_std": float(config.initializer_range or 0.02)}
    if hasattr(config, "init_std"):
        return {"base_std": float(config.init_std)}
    if hasattr(config, "initializer_factor"):
        return {"base_std": float(config.initializer_factor)}
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    return {"base_std": float(getattr(text, "initializer_range", 0.02))}


def _t5_rules() -> tuple[PresetRule, ...]:
    m = f"{_SRC.replace('/', '.')}.t5.modeling_t5"
    f = "initializer_factor"
    dm, dff = f"{f} * d_model ** -0.5", f"{f} * d_ff ** -0.5"
    out = [
        PresetRule(f"class:{m}.T5LayerNorm", "weight", f"constant({f} * 1.0)"),
        PresetRule(
            f"class:{m}.T5Model|{m}.T5ForConditionalGeneration|{m}.T5EncoderModel|"
            f"{m}.T5ForQuestionAnswering",
            "shared.weight",
            f"normal(std={f} * 1.0)",
        ),
        PresetRule(
            f"class:{m}.T5ForConditionalGeneration|{m}.T5ForQuestionAnswering",
            "lm_head.weight",
            f"normal(std={f} * 1.0)",
            when="not tie_word_embeddings",
        ),
        PresetRule(f"class:{m}.T5ForQuestionAnswering", "qa_outputs.weight", f"normal(std={dm})"),
        PresetRule(f"class:{m}.T5ForQuestionAnswering", "qa_outputs.bias", "zeros"),
        PresetRule(f"class:{m}.T5ForTokenClassification", "classifier.weight", f"normal(std={f})"),
        PresetRule(f"class:{m}.T5ForTokenClassification", "classifier.bias", "zeros"),
        PresetRule(f"class:{m}.T5ClassificationHead", "*.weight", f"normal(std={dm})"),
        PresetRule(f"class:{m}.T5ClassificationHead", "*.bias", "zeros"),
        PresetRule(f"class:{m}.T5DenseActDense", "wi.weight", f"normal(std={dm})"),
        PresetRule(f"class:{m}.T5DenseActDense", "wo.weight", f"normal(std={dff})"),
        PresetRule(f"class:{m}.T5DenseActDense", "w[io].bias", "zeros"),
        PresetRule(f"class:{m}.T5DenseGatedActDense", "wi_[01].weight", f"normal(std={dm})"),
        PresetRule(f"class:{m}.T5DenseGatedActDense", "wo.weight", f"normal(std={dff})"),
        PresetRule(f"class:{m}.T5DenseGatedActDense", "w*.bias", "zeros"),
        PresetRule(
            f"class:{m}.T5Attention", "q.weight", f"normal(std={f} * (d_model * d_kv) ** -0.5)"
        ),
        PresetRule(f"class:{m}.T5Attention", "[kv].weight", f"normal(std={dm})"),
        PresetRule(
            f"class:{m}.T5Attention", "o.weight", f"normal(std={f} * (num_heads * d_kv) ** -0.5)"
        ),
        PresetRule(f"class:{m}.T5Attention", "relative_attention_bias.weight", f"normal(std={dm})"),
    ]
    return tuple(out)


def _family(model_type: str, module: str, rules: tuple[PresetRule, ...], what: str) -> Preset:
    return Preset(
        "transformers",
        model_type,
        (model_type,),
        f"{_SRC}/{module}/modeling_{module}.py: {what}",
        rules,
        BASE,
        BASE_SOURCE,
        derive=base_std,
    )


def _mod(name: str) -> str:
    return f"transformers.models.{name}.modeling_{name}"


def _moe(model_type: str, prefix: str) -> Preset:
    m = _mod(model_type)
    return _family(
        model_type,
        model_type,
        (
            PresetRule(
                f"class:{m}.{prefix}Experts", "gate_up_proj", "normal(std=initializer_range)"
            ),
            PresetRule(f"class:{m}.{prefix}Experts", "down_proj", "normal(std=initializer_range)"),
            PresetRule(f"class:{m}.{prefix}TopKRouter", "weight", "normal(std=initializer_range)"),
        ),
        f"{prefix}PreTrainedModel._init_weights",
    )


_GPT2 = _mod("gpt2")
_MAMBA = _mod("mamba")
_DT = "time_step_rank ** -0.5 * time_step_scale"

#: Every transformers preset, by ``config.model_type``.
TRANSFORMERS_PRESETS: dict[str, Preset] = {
    p.family: p
    for p in (
        _family(
            "bert",
            "bert",
            (PresetRule(f"class:{_mod('bert')}.BertLMPredictionHead", "bias", "zeros"),),
            "BertPreTrainedModel._init_weights",
        ),
        _family(
            "gpt2",
            "gpt2",
            (
                PresetRule(
                    "class:transformers.pytorch_utils.Conv1D",
                    "weight",
                    "normal(std=initializer_range)",
                ),
                PresetRule("class:transformers.pytorch_utils.Conv1D", "bias", "zeros"),
                PresetRule(
                    f"class:{_GPT2}.GPT2Attention|{_GPT2}.GPT2MLP",
                    "c_proj.weight",
                    "normal(std=initializer_range / sqrt(2 * n_layer))",
                    quirk="residual scaling 1/sqrt(2 n_layer)",
                ),
            ),
            "GPT2PreTrainedModel._init_weights",
        ),
        _family("t5", "t5", _t5_rules(), "T5PreTrainedModel._init_weights"),
        _family(
            "vit",
            "vit",
            (
                PresetRule(
                    f"class:{_mod('vit')}.ViTEmbeddings",
                    "position_embeddings",
                    "truncated_normal(std=initializer_range, a=-2, b=2)",
                ),
                PresetRule(
                    f"class:{_mod('vit')}.ViTEmbeddings",
                    "cls_token",
                    "truncated_normal(std=initializer_range, a=-2, b=2)",
                ),
                PresetRule(f"class:{_mod('vit')}.ViTEmbeddings", "mask_token", "zeros"),
            ),
            "ViTPreTrainedModel._init_weights",
        ),
        _moe("mixtral", "Mixtral"),
        _moe("qwen2_moe", "Qwen2Moe"),
        _family(
            "mamba",
            "mamba",
            (
                PresetRule(
                    f"class:{_MAMBA}.MambaMixer", "A_log", "skip", quirk="A_log = log(1..N)"
                ),
                PresetRule(f"class:{_MAMBA}.MambaMixer", "D", "ones"),
                PresetRule(
                    f"class:{_MAMBA}.MambaMixer",
                    "dt_proj.weight",
                    f"uniform(-{_DT}, {_DT})",
                    when="time_step_init_scheme == 'random'",
                ),
                PresetRule(
                    f"class:{_MAMBA}.MambaMixer",
                    "dt_proj.weight",
                    f"constant({_DT})",
                    when="time_step_init_scheme == 'constant'",
                ),
                PresetRule(
                    f"class:{_MAMBA}.MambaMixer",
                    "dt_proj.bias",
                    "skip",
                    quirk="inverse softplus of a log-uniform draw",
                ),
                PresetRule(
                    f"class:{_MAMBA}.MambaMixer",
                    "conv1d.weight",
                    "torch_linear_default",
                    layout="torch.conv",
                ),
                PresetRule(f"class:{_MAMBA}.MambaMixer", "conv1d.bias", "zeros"),
                PresetRule(
                    f"class:{_MAMBA}.MambaMixer",
                    "out_proj.weight",
                    "torch_linear_default",
                    layout="out_in",
                ),
                PresetRule(
                    f"class:{_MAMBA}.MambaMixer",
                    "out_proj.weight",
                    "torch_linear_default / sqrt(num_hidden_layers)",
                    quirk="residual scaling 1/sqrt(n_layer)",
                    when="rescale_prenorm_residual",
                    layout="out_in",
                ),
            ),
            "MambaPreTrainedModel._init_weights, MambaMixer.init_mamba_weights",
        ),
        *(
            _family(t, t, (), f"no _init_weights of its own: {BASE_SOURCE}")
            for t in ("llama", "mistral", "qwen2")
        ),
    )
}
