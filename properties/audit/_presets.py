"""Library initialization policies as presets: what a library's own init code draws, as data.

A :class:`Preset` is one library's policy for one model family (``transformers``' GPT-2,
``timm``'s ResNet, ...): a tuple of :class:`PresetRule` transcribed from the library's source
(each preset cites the file and function), applied after the library-wide rules it builds on
(``PreTrainedModel._init_weights`` for every transformers family).

A rule attaches to a module -- ``isa:QUALNAME`` (an instance of that class or a subclass, as
``isinstance`` tests), ``class:QUALNAME`` (that class exactly) or ``name:PATTERN`` (a class
*name* matching the shell pattern, as transformers matches ``"RMSNorm" in
module.__class__.__name__``) -- and names parameters by their path from that module
(``c_proj.weight``; a shell pattern). Libraries initialize children before parents (torch's
``Module.apply``, transformers' ``smart_apply``, timm's ``named_apply`` depth first), so a
parameter gets the rule of its *outermost* matching ancestor, and at one module the rule
listed last (a family's override after the library's base).

The rule text is the rule language (:func:`weight_init.rules.parse_rule`) with names bound
from the model: the configuration's numbers (``initializer_range``, ``n_layer``,
``initializer_factor``, ``d_model``...), the numbers the preset derives (transformers'
``base_std``), and the owning module's numbers (an ``Embedding``'s ``padding_idx``, a conv's
``out_channels``, ``groups`` and ``receptive_field``, a layer scale's ``init_values``). An
empty rule text means "the layer's documented default" (torch's own init, which the library
calls, e.g. ``MultiheadAttention._reset_parameters``). ``when`` gates a rule on the
configuration or the owner: ``NAME`` (set: neither ``None`` nor ``False``; 0 is set),
``not NAME``, ``NAME == 'text'`` or ``NAME > NUMBER``.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from weight_init.errors import InvalidParameterError
from weight_init.properties.audit._builds import BuiltParam
from weight_init.rules import Rule, parse_rule

__all__ = ["Preset", "PresetExpectation", "PresetRule", "module_numbers", "preset_expectations"]


@dataclass(frozen=True)
class PresetRule:
    """One statement of a library's init code (module docstring)."""

    module: str
    param: str
    rule: str
    quirk: str = ""
    when: str = ""
    layout: str | None = None


@dataclass(frozen=True)
class Preset:
    """A library's policy for a model family: ``rules`` after ``base``; ``models`` says which
    models it is for (transformers: ``config.model_type`` values; timm: class qualnames)."""

    library: str
    family: str
    models: tuple[str, ...]
    source: str
    rules: tuple[PresetRule, ...]
    base: tuple[PresetRule, ...] = ()
    base_source: str = ""
    #: numbers the library derives from the model (transformers' ``base_std``)
    derive: Callable[[Any], dict[str, float]] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class PresetExpectation:
    """What a preset expects of one parameter: ``rule`` (``None``: the layer's documented
    default), the layout the rule's fans are read in, the quirk it names and its source."""

    rule: Rule | None
    layout: str | None
    quirk: str
    source: str


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _attaches(spec: str, module: Any) -> bool:
    kind, _, what = spec.partition(":")
    names = what.split("|")
    if kind == "isa":
        mro = {_qualname(c) for c in type(module).__mro__}
        return any(n in mro for n in names)
    if kind == "class":
        return _qualname(type(module)) in names
    if kind == "name":
        return any(fnmatch.fnmatchcase(type(module).__name__, n) for n in names)
    raise InvalidParameterError(f"preset rule attaches to {spec!r}: expected isa:, class:, name:")


def module_numbers(module: Any) -> dict[str, float]:
    """The numbers of a module a rule may name: its int and float attributes (``padding_idx``
    when set, ``out_channels``, ``groups``, ``init_values``...) and, for a kernel,
    ``receptive_field`` (the product of ``kernel_size``)."""
    out: dict[str, float] = {}
    for k, v in vars(module).items():
        if isinstance(v, (int, float)) and not isinstance(v, bool) and not k.startswith("_"):
            out[k] = float(v)
    k = getattr(module, "kernel_size", None)
    if isinstance(k, tuple) and all(isinstance(x, int) for x in k):
        out["receptive_field"] = float(math.prod(k))
    return out


def _holds(when: str, values: Mapping[str, Any]) -> bool:
    if not when:
        return True
    text = when.strip()
    if text.startswith("not "):
        return not _holds(text[4:], values)
    name, eq, literal = text.partition("==")
    if eq:
        return str(values.get(name.strip())) == literal.strip().strip("'\"")
    name, gt, number = text.partition(">")
    if gt:
        v = values.get(name.strip())
        return isinstance(v, (int, float)) and _is_number(v) and float(v) > float(number)
    v = values.get(text)
    return v is not None and v is not False  # 0 is set: padding_idx 0 is a row


def preset_expectations(
    preset: Preset,
    params: list[BuiltParam],
    modules: Mapping[str, Any],
    config: Mapping[str, Any],
    derived: Mapping[str, float],
) -> dict[str, PresetExpectation]:
    """Each parameter's expectation under ``preset`` (module docstring), by name; parameters
    no rule reaches are absent. ``modules``: the model's modules by path; ``config``: the
    configuration's attributes (numbers are bound, anything may gate a rule)."""
    rules = [(r, preset.base_source) for r in preset.base]
    rules += [(r, preset.source) for r in preset.rules]
    numbers = {k: float(v) for k, v in config.items() if _is_number(v)}
    numbers.update(derived)
    out: dict[str, PresetExpectation] = {}
    for p in params:
        parts = p.name.split(".")
        best: tuple[int, int] | None = None
        for depth in range(len(parts) - 1, -1, -1):  # deepest ancestor first
            path = ".".join(parts[:depth])
            module = modules.get(path)
            if module is None:
                continue
            rel = ".".join(parts[depth:])
            for i, (r, _) in enumerate(rules):
                if fnmatch.fnmatchcase(rel, r.param) and _attaches(r.module, module):
                    owner = modules.get(".".join(parts[:-1]))
                    values = {**config, **(vars(owner) if owner is not None else {})}
                    if _holds(r.when, values):
                        best = (depth, i)  # outer ancestors come later and win
        if best is None:
            continue
        r, source = rules[best[1]]
        owner = modules.get(".".join(parts[:-1]))
        names = {**numbers, **(module_numbers(owner) if owner is not None else {})}
        rule = parse_rule(r.rule, names) if r.rule else None
        out[p.name] = PresetExpectation(rule, r.layout, r.quirk, source)
    return out


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
