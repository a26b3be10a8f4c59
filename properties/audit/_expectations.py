"""What an audit expects of a parameter: ``--expect PATTERN=RULE[@LAYOUT]`` rules and the
documented default of each torch, Keras, Flax (linen and NNX), Haiku or Equinox layer type
(sources cited in ``docs/frameworks.md``).

A parameter gets the first expectation whose shell-style pattern matches its dotted name,
else the default of its (layer type, parameter) pair, else none (``unchecked``). RULE is the
rule language (:func:`weight_init.rules.parse_rule`): a scheme expression, ``skip``, or
``SCHEME + zero_rows(...)``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from weight_init.errors import InvalidParameterError
from weight_init.layouts import get_layout
from weight_init.properties.audit._default import Default
from weight_init.rules import Rule, parse_rule
from weight_init.schemes import Scheme, constant, get_scheme


@dataclass(frozen=True)
class Expectation:
    """``PATTERN=RULE[@LAYOUT]``: parameters whose name matches get ``scheme`` (``None``:
    ``skip``, not audited), with ``zero_rows`` exactly zero."""

    pattern: str
    scheme: Scheme | None
    layout: str | None = None
    zero_rows: tuple[int, ...] = ()

    @property
    def skip(self) -> bool:
        return self.scheme is None

    def matches(self, name: str) -> bool:
        return fnmatch.fnmatchcase(name, self.pattern)


def parse_expect(text: str, parse: Callable[[str], Rule | Scheme] | None = None) -> Expectation:
    """Parse ``PATTERN=RULE[@LAYOUT]`` (RULE through ``parse``, default
    :func:`~weight_init.rules.parse_rule`; a parser of schemes gives rules without
    ``skip`` or zero rows)."""
    from weight_init.errors import InvalidParameterError

    pattern, sep, rest = text.partition("=")
    if not sep or not pattern.strip() or not rest.strip():
        raise InvalidParameterError(f"expected PATTERN=SCHEME[@LAYOUT], got {text!r}")
    rule_text, at, layout = rest.rpartition("@") if "@" in rest else (rest, "", "")
    if at:
        get_layout(layout.strip())
    got = (parse or parse_rule)(rule_text.strip())
    rule = got if isinstance(got, Rule) else Rule(got.name, got)
    return Expectation(pattern.strip(), rule.scheme, layout.strip() or None, rule.zero_rows)


def documented_defaults(framework: str = "torch") -> dict[tuple[str, str], Default]:
    """(layer type, parameter) -> its documented default in ``framework`` (a
    :class:`~weight_init.properties.audit._layer_param.Framework` value: torch, keras, flax (linen),
    haiku, equinox or nnx; ``*``: every parameter of the layer type)."""
    if framework == "keras":
        from weight_init.properties.audit._catalog_keras import keras_defaults

        return keras_defaults()
    if framework == "flax":
        from weight_init.properties.audit._catalog_flax import flax_defaults

        return flax_defaults()
    if framework == "equinox":
        from weight_init.properties.audit._catalog_equinox import equinox_defaults

        return equinox_defaults()
    if framework == "nnx":
        from weight_init.properties.audit._catalog_nnx import nnx_defaults

        return nnx_defaults()
    if framework == "haiku":
        from weight_init.properties.audit._catalog_haiku import haiku_defaults

        return haiku_defaults()
    from weight_init.properties.audit._catalog_torch import TORCH_DEFAULT, TORCH_RNN_DEFAULT, ZEROS

    nn = "torch/nn/modules"
    ones = constant(1.0, name="ones")
    out: dict[tuple[str, str], Default] = {}
    for cls in ("Linear", "NonDynamicallyQuantizableLinear", "Bilinear"):
        out[(cls, "weight")] = Default(TORCH_DEFAULT, "out_in", "weight", f"{nn}/linear.py")
        out[(cls, "bias")] = Default(TORCH_DEFAULT, "out_in", "owner", f"{nn}/linear.py")
    for d in (1, 2, 3):
        for cls, lay in (
            (f"Conv{d}d", "torch.conv"),
            (f"ConvTranspose{d}d", "torch.conv_transpose"),
        ):
            out[(cls, "weight")] = Default(TORCH_DEFAULT, lay, "weight", f"{nn}/conv.py")
            out[(cls, "bias")] = Default(TORCH_DEFAULT, lay, "owner", f"{nn}/conv.py")
    for cls in ("LSTM", "GRU", "RNN"):
        out[(cls, "*")] = Default(TORCH_RNN_DEFAULT, "out_in", "rnn", f"{nn}/rnn.py")
    mha = f"{nn}/activation.py"
    out[("MultiheadAttention", "in_proj_weight")] = Default(
        get_scheme("glorot_uniform"), "out_in", "weight", mha
    )
    out[("MultiheadAttention", "in_proj_bias")] = Default(ZEROS, "out_in", "weight", mha)
    out[("MultiheadAttention", "out_proj.bias")] = Default(ZEROS, "out_in", "weight", mha)
    out[("MultiheadAttention", "out_proj.weight")] = Default(
        TORCH_DEFAULT, "out_in", "weight", f"{nn}/linear.py (not re-initialized by {mha})"
    )
    out[("Embedding", "weight")] = Default(
        get_scheme("big_normal"), "in_out", "weight", f"{nn}/sparse.py"
    )
    for cls in ("LayerNorm", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "GroupNorm"):
        src = f"{nn}/{'normalization' if cls in ('LayerNorm', 'GroupNorm') else 'batchnorm'}.py"
        out[(cls, "weight")] = Default(ones, "out_in", "weight", src)
        out[(cls, "bias")] = Default(ZEROS, "out_in", "weight", src)
    return out


def check_rules(expect: Sequence[Expectation], params: Sequence[Any], subject: str) -> None:
    """Every ``--expect`` pattern must match a parameter's name; one that matches only
    aliases of tied tensors names the tensor's audited name instead."""
    for e in expect:
        if any(e.matches(p.name) for p in params):
            continue
        tied = [(a, p.name) for p in params for a in p.aliases if e.matches(a)]
        if tied:
            alias, name = tied[0]
            raise InvalidParameterError(
                f"--expect {e.pattern}: {alias} is tied to {name} (one tensor, audited as "
                f"{name}); write the rule for {name}"
            )
        names = [p.name for p in params]
        shown = ", ".join(names[:6]) + (f", ... ({len(names)} in all)" if len(names) > 6 else "")
        raise InvalidParameterError(
            f"--expect {e.pattern}: matches no parameter of {subject} (its parameters: {shown})"
        )
