"""The layer catalog: every framework's documented layer defaults behind one registry.

The entries are :class:`~weight_init.properties.audit._layer_param.LayerParam` objects, one per
documented parameter, in one module per framework (:mod:`~.layers_torch`,
:mod:`~.layers_keras`, :mod:`~.layers_flax`, :mod:`~.layers_haiku`, :mod:`~.layers_equinox`,
:mod:`~.layers_nnx`); importing a catalog module never imports its framework (the layers are
built on :meth:`LayerParam.draw`). Names are
``FRAMEWORK:Layer.param`` (``torch:Conv2d.weight``, ``keras:Conv2D.kernel``,
``flax:Conv.kernel``, ``equinox:Conv2d.weight``, ``nnx:Conv.kernel``, ``haiku:Conv2D.w``).

:func:`check_layer_param` instantiates the layer at each spec of the design under the
framework's seeding (seeds from the check's seed, one per layer), extracts the parameter and
runs :func:`weight_init.properties.conformance._kernels.check_parameter` against the documented
default (or a given scheme) at the fans the documented rule reads (or given fans), then fits the
layout's candidate fan rules (plus "fan computed over the stacked matrix" for stacked
parameters) so that a known quirk fails with its name.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from weight_init.layouts import Fans, KernelSpec, Role, get_layout
from weight_init.properties.audit._catalog_equinox import EQUINOX_PARAMS
from weight_init.properties.audit._catalog_flax import FLAX_PARAMS
from weight_init.properties.audit._catalog_haiku import HAIKU_PARAMS
from weight_init.properties.audit._catalog_keras import KERAS_PARAMS
from weight_init.properties.audit._catalog_nnx import NNX_PARAMS
from weight_init.properties.audit._catalog_torch import (
    TORCH_DEFAULT,
    TORCH_PARAMS,
    TORCH_RNN_DEFAULT,
    ZEROS,
)
from weight_init.properties.audit._layer_param import Framework, LayerParam
from weight_init.properties.conformance import _power as powerplan
from weight_init.properties.conformance._kernels import (
    FanOf,
    KernelVerdict,
    candidate_rules,
    check_parameter,
    stacked_rule,
)
from weight_init.schemes import Scheme, get_scheme

__all__ = [
    "EQUINOX_PARAMS",
    "FLAX_PARAMS",
    "HAIKU_PARAMS",
    "KERAS_PARAMS",
    "LAYER_PARAMS",
    "NNX_PARAMS",
    "TORCH_DEFAULT",
    "TORCH_PARAMS",
    "TORCH_RNN_DEFAULT",
    "ZEROS",
    "Framework",
    "LayerParam",
    "check_layer_param",
    "connectivity_fans",
    "get_param",
    "per_block_fans",
]

#: Every catalog entry, by ``FRAMEWORK:Layer.param``.
LAYER_PARAMS: Mapping[str, LayerParam] = MappingProxyType(
    {**TORCH_PARAMS, **KERAS_PARAMS, **FLAX_PARAMS, **HAIKU_PARAMS, **EQUINOX_PARAMS, **NNX_PARAMS}
)


def get_param(name: str) -> LayerParam:
    from weight_init.errors import InvalidParameterError

    try:
        return LAYER_PARAMS[name]
    except KeyError:
        raise InvalidParameterError(
            f"unknown layer parameter {name!r}; choose one of {', '.join(LAYER_PARAMS)}"
        ) from None


def check_layer_param(
    param: str | LayerParam,
    scheme: str | Scheme | None = None,
    *,
    fans_of: FanOf | None = None,
    design: tuple[KernelSpec, ...] | None = None,
    seed: int = 0,
    alpha: float = powerplan.DEFAULT_ALPHA,
    n_entries: int | None = None,
) -> KernelVerdict:
    """Check a layer parameter against ``scheme`` (default: its documented default) at the
    fans ``fans_of`` (default: the ones its documented rule reads), over ``design``."""
    p = get_param(param) if isinstance(param, str) else param
    sch = p.default if scheme is None else get_scheme(scheme)
    fans = fans_of or p.fans_of
    rules = list(candidate_rules(get_layout(p.layout), fans))
    if p.blocks > 1 and not p.part:
        rules.append(stacked_rule(p.blocks, Role.OUT, per_block_fans(p)))
    return check_parameter(
        p.draw,
        sch,
        p.layout,
        design or p.design,
        fans_of=fans,
        rules=rules,
        seed=seed,
        alpha=alpha,
        n_entries=n_entries,
        subject=f"{p.name} as {sch.name}",
    )


def per_block_fans(p: LayerParam) -> FanOf:
    """The fans of one stacked block of ``p`` (``(E, E)`` for MultiheadAttention, ``(in,
    units)`` for a Keras LSTM kernel ``(in, 4 units)``)."""
    if p.blocks == 1 or not p.stacked_default:
        return p.fans_of
    return lambda s: Fans(p.fans_of(s).fan_in, p.fans_of(s).fan_out // p.blocks)


def connectivity_fans(s: KernelSpec) -> Fans:
    return s.true_fans()
