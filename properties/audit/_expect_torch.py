"""What each parameter of a torch model is expected to hold, and why: the audit's plan.

For every parameter the walk lists (:mod:`~weight_init.properties.audit._walk_torch`), in
order of precedence:

1. the first ``--expect PATTERN=RULE[@LAYOUT]`` whose pattern matches its name;
2. the preset's rule (``--preset transformers|timm``,
   :mod:`~weight_init.properties.audit._presets`), when one reaches it;
3. the documented default of its owner's class, looked up through the class hierarchy: the
   owner's class, then each base up to the first that initializes its parameters itself
   (defines ``reset_parameters``/``_reset_parameters``/``init_weights``/``_init_weights``);
   torch's own layers by their class name in the torch catalog, third-party classes in the
   zoo catalog (:mod:`~weight_init.properties.audit._catalog_torch_zoo`);
4. nothing: ``unchecked``.

Bad input, one line each (:class:`~weight_init.errors.InvalidParameterError`): an ``--expect``
pattern that matches no parameter, or that names only an alias of a tied tensor (the tensor
is audited once, under its first name); a preset that does not apply to the model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from weight_init.errors import InvalidParameterError
from weight_init.layouts import get_layout
from weight_init.properties.audit._builds import BuiltParam
from weight_init.properties.audit._catalog_torch_zoo import ZOO_DEFAULTS
from weight_init.properties.audit._expectations import Default, Expectation, documented_defaults
from weight_init.properties.audit._planned import Planned
from weight_init.properties.audit._presets import (
    Preset,
    PresetExpectation,
    module_numbers,
    preset_expectations,
)
from weight_init.rules import parse_rule
from weight_init.schemes import Scheme

__all__ = ["PRESETS", "natural_layout", "plan_torch", "select_preset"]

#: The presets ``--preset`` accepts.
PRESETS = ("transformers", "timm", "torchvision")


def _fits(layout: str, shape: tuple[int, ...]) -> bool:
    if len(shape) < 2:
        return True
    try:
        get_layout(layout).fans(shape)
    except InvalidParameterError:
        return False
    return True


def natural_layout(shape: tuple[int, ...]) -> str:
    """torch's own fan convention for a parameter without a layout: ``out_in`` up to two
    axes, ``torch.conv`` (``_calculate_fan_in_and_fan_out``: dim 1 and dim 0 times the
    product of the rest) beyond."""
    return "out_in" if len(shape) <= 2 else "torch.conv"


def _default(
    p: BuiltParam, defaults: Mapping[tuple[str, str], Default], owner: Any
) -> tuple[Scheme, str, str, str, str] | None:
    """(scheme, layout, fan mode, source, quirk) of ``p``'s documented default through its
    owner's class hierarchy (module docstring)."""
    chain = p.lineage or (p.layer,)
    for q in chain:
        inherited = "" if q == chain[0] else f", inherited by {chain[0]}"
        short = q.rpartition(".")[2]
        if q.startswith("torch.nn.modules.") or q == short:
            key = short if p.lineage else p.layer
            d = defaults.get((key, p.local)) or defaults.get((key, "*"))
            if d is not None:
                return d.scheme, d.layout, d.fans, f"default: {d.source}{inherited}", ""
        z = ZOO_DEFAULTS.get((q, p.local))
        if z is not None:
            rule = parse_rule(z.rule, module_numbers(owner) if owner is not None else {})
            if rule.scheme is not None:
                return rule.scheme, z.layout, "weight", f"default: {z.source}{inherited}", z.quirk
    return None


def _padding_rows(p: BuiltParam, owner: Any) -> tuple[int, ...]:
    """torch's ``Embedding`` zeroes its ``padding_idx`` row in ``reset_parameters``
    (``torch/nn/modules/sparse.py: _fill_padding_idx_with_zero``)."""
    idx = getattr(owner, "padding_idx", None)
    if p.local != "weight" or not isinstance(idx, int) or isinstance(idx, bool):
        return ()
    return (idx,) if "torch.nn.modules.sparse.Embedding" in p.lineage else ()


def plan_torch(
    params: Sequence[BuiltParam],
    modules: Mapping[str, Any],
    expect: Sequence[Expectation],
    preset: Mapping[str, PresetExpectation] | None = None,
    preset_name: str = "",
) -> list[Planned]:
    """Each parameter's :class:`Planned` expectation (module docstring)."""
    defaults = documented_defaults()
    out = []
    for p in params:
        owner = modules.get(p.owner)
        dflt = _default(p, defaults, owner)
        rule = next((e for e in expect if e.matches(p.name)), None)
        pe = (preset or {}).get(p.name)
        layout = dflt[1] if dflt else natural_layout(p.shape)
        how = dflt[2] if dflt else "weight"
        if rule is not None:
            if rule.layout:
                layout, how = rule.layout, "weight"
            planned = Planned(
                rule.scheme, rule.skip, layout, how, f"--expect {rule.pattern}", rule.zero_rows
            )
        elif pe is not None and pe.rule is not None:
            if pe.layout:
                layout, how = pe.layout, "weight"
            quirks = (pe.quirk,) if pe.quirk else ()
            source = f"preset {preset_name}: {pe.source}"
            planned = Planned(
                pe.rule.scheme, pe.rule.skip, layout, how, source, pe.rule.zero_rows, quirks
            )
        elif dflt is not None:
            source = dflt[3] if pe is None else f"preset {preset_name}: {pe.source} ({dflt[3]})"
            quirks = (dflt[4],) if dflt[4] else ()
            rows = _padding_rows(p, owner)
            planned = Planned(dflt[0], False, layout, how, source, rows, quirks)
        else:
            planned = Planned(None, False, layout, how, "")
        if not _fits(planned.layout, p.shape):
            planned = Planned(
                planned.scheme,
                planned.skip,
                natural_layout(p.shape),
                "weight",
                planned.source,
                planned.zero_rows,
                planned.quirks,
            )
        out.append(planned)
    return out


def _config(model: Any) -> dict[str, Any]:
    config = getattr(model, "config", None)
    if config is None or not hasattr(config, "to_dict"):
        return {}
    keys = set(config.to_dict()) | set(getattr(config, "attribute_map", {}) or {})
    out = {}
    for k in sorted(keys):
        try:
            out[k] = getattr(config, k)
        except Exception:  # a property that needs what a small config lacks: not a number
            continue
    return out


def select_preset(
    name: str, model: Any, params: Sequence[BuiltParam], modules: Mapping[str, Any]
) -> tuple[str, dict[str, PresetExpectation]]:
    """The preset ``name`` for ``model`` (its label, e.g. ``transformers gpt2``) and each
    parameter's expectation under it; one line of bad input when it does not apply."""
    from weight_init.properties.audit._walk_torch import lineage

    chain = set()
    for c in type(model).__mro__:
        chain.add(f"{c.__module__}.{c.__qualname__}")
    preset: Preset | None = None
    config: dict[str, Any] = {}
    derived: dict[str, float] = {}
    if name == "transformers":
        from weight_init.properties.audit._presets_transformers import TRANSFORMERS_PRESETS

        if "transformers.modeling_utils.PreTrainedModel" not in chain:
            raise InvalidParameterError(
                f"--preset transformers: the model is a {lineage(type(model))[0]}, not a "
                "transformers PreTrainedModel"
            )
        config = _config(model)
        kind = str(config.get("model_type", ""))
        preset = TRANSFORMERS_PRESETS.get(kind)
        if preset is None:
            raise InvalidParameterError(
                f"--preset transformers: no preset for model_type {kind!r} (presets: "
                f"{', '.join(sorted(TRANSFORMERS_PRESETS))}); state its rules with --expect"
            )
        if preset.derive is not None:
            derived = preset.derive(model.config)
    elif name in ("timm", "torchvision"):
        from weight_init.properties.audit._presets_timm import TIMM_PRESETS
        from weight_init.properties.audit._presets_torchvision import TORCHVISION_PRESETS

        table = TIMM_PRESETS if name == "timm" else TORCHVISION_PRESETS
        preset = next((p for p in table.values() if any(m in chain for m in p.models)), None)
        if preset is None:
            known = sorted(m for p in table.values() for m in p.models)
            raise InvalidParameterError(
                f"--preset {name}: no preset for {lineage(type(model))[0]} (presets: "
                f"{', '.join(known)}); state its rules with --expect"
            )
    else:
        raise InvalidParameterError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    label = f"{preset.library} {preset.family}"
    return label, preset_expectations(preset, list(params), modules, config, derived)
