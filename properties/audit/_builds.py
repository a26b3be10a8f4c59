"""What one build of a model yields for the framework audits: its parameters, in order.

Every framework's builder (Keras and Flax linen in
:mod:`~weight_init.properties.audit._frameworks`, Haiku, Equinox and Flax NNX in
:mod:`~weight_init.properties.audit._jax_modules`) turns ``builds`` seeded constructions of the
user's model into a list of :data:`Build`: one :class:`BuiltParam` per parameter (its dotted
or ``/``-joined name, the layer type that owns it, its name within that layer, its shape, the
owner's groups and the owner's path) and the parameter values as numpy arrays, in the same
order in every build. :func:`host_array` reads one value: a ``bfloat16`` array (ml_dtypes'
type, which numpy does not count as a float) is widened to float32 exactly and its format kept
in :attr:`BuiltParam.dtype`, so that its rule, a constant rounded to bfloat16 included, is
checked as torch's are.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from weight_init.errors import AuditError, describe_exception
from weight_init.host_arrays import LOW_PRECISION, to_host
from weight_init.precision import canonical_format


@dataclass(frozen=True)
class BuiltParam:
    """One parameter of the first build: its owner type and local name, shape and groups;
    ``owner`` is the owner's path in the model (its sibling parameters share it).

    ``aliases``: the parameter's other names (the same tensor reached through a tied or
    shared module); ``lineage``: the owner's class and the bases whose documented default it
    inherits (qualified names, most derived first; empty where the framework has no class
    hierarchy to read); ``dtype``: the stored float format (``"float32"``...), ``None`` when
    unknown or not a float."""

    name: str
    layer: str
    local: str
    shape: tuple[int, ...]
    groups: int = 1
    owner: str = ""
    aliases: tuple[str, ...] = ()
    lineage: tuple[str, ...] = ()
    dtype: str | None = None

    def with_aliases(self, aliases: tuple[str, ...]) -> BuiltParam:
        return dataclasses.replace(self, aliases=aliases)


Build = tuple[list[BuiltParam], list[NDArray[Any]]]


def host_array(value: Any) -> tuple[NDArray[Any], str | None]:
    """A framework's parameter value as a numpy array (:func:`weight_init.host_arrays.to_host`)
    and its float format (``"float16"``, ``"bfloat16"``...; ``None`` when not a float):
    ``bfloat16`` is widened to float32, which holds every bfloat16 number exactly, a numpy
    array of ml_dtypes' ``bfloat16`` (what Keras' ``convert_to_numpy`` returns) too."""
    fmt = canonical_format(getattr(value, "dtype", None))
    a = to_host(value)
    if a.dtype.name in LOW_PRECISION:
        a = a.astype(np.float32)
    return a, fmt


def build_seeds(builds: int, seed: int) -> list[int]:
    """The ``builds`` per-build seeds: ``SeedSequence(seed).generate_state(builds)``."""
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(builds, np.uint32)]


def call_factory(factory: Callable[..., Any], *args: Any, what: str = "the model factory") -> Any:
    """``factory(*args)``; whatever it raises (or a ``SystemExit``) becomes one
    :class:`~weight_init.errors.AuditError` line naming ``what``."""
    try:
        return factory(*args)
    except (Exception, SystemExit) as exc:
        raise AuditError(f"{what} raised {describe_exception(exc)}") from None
