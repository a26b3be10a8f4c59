"""Builders of the Haiku, Equinox and Flax NNX audits: ``builds`` seeded constructions of a
model factory's model, each as a :data:`~weight_init.properties.audit._builds.Build`.

The protocols (what ``factory()`` returns; :func:`weight_init.properties.audit._frameworks.
audit_model` tells them apart by the returned object):

* **Haiku**: ``(transformed, *example_inputs)`` with ``transformed`` an ``hk.Transformed`` or
  ``hk.TransformedWithState`` (``hk.transform(f)``). Build ``s``:
  ``transformed.init(jax.random.PRNGKey(s), *example_inputs)`` (its ``params``; the state of
  a ``TransformedWithState`` is not a parameter). Parameters are ``{module_name: {name:
  array}}``, named ``module_name/name`` (``mlp/~/linear_0/w``); the owner is the module whose
  method created them, recorded by ``hk.intercept_methods`` (``haiku/_src/module.py``: it
  sees ``context.module``, whose ``module_name`` is the parameter dictionary's key) during
  the first build. A submodule of a module that passes its own initializer down (Haiku's
  ``MultiHeadAttention``: its ``hk.Linear`` projections get its required ``w_init``) is
  reported under that module (``("MultiHeadAttention", "query.w")``).
* **Equinox**: a callable ``make(key) -> eqx.Module`` (a model needs its key when it is
  built, and ``factory()`` takes no argument): ``factory()`` returns ``make``, e.g.
  ``lambda key: eqx.nn.MLP(4, 2, 16, 2, key=key)``. Build ``s``:
  ``make(jax.random.PRNGKey(s))``. Parameters are the inexact-array leaves of the module
  (``eqx.filter(model, eqx.is_inexact_array)``) with their pytree paths
  (``jax.tree_util.tree_flatten_with_path``), named by the path joined with ``.``
  (``layers.0.weight``), each owned by the ``eqx.Module`` holding it.
* **Flax NNX**: a callable ``make(rngs) -> nnx.Module``: build ``s`` is
  ``make(nnx.Rngs(s))``. Parameters are ``nnx.state(model, nnx.Param)`` with their paths,
  named with ``.`` (``layers.0.kernel``), each owned by the ``nnx.Module`` holding it; a gate
  ``Linear`` of a recurrent cell is reported under the cell (``("LSTMCell", "hi.kernel")``)
  as for linen.

A callable is tried as Equinox's ``make(key)`` when ``equinox`` is imported, then as NNX's
``make(rngs)`` when ``flax.nnx`` is (neither imports the other); the first that returns its
framework's module decides.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from weight_init.errors import AuditError, InitializerTypeError, describe_exception
from weight_init.properties.audit._builds import Build, BuiltParam, call_factory, host_array
from weight_init.properties.audit._expectations import documented_defaults
from weight_init.properties.audit._layer_param import Framework

__all__ = [
    "equinox_builds",
    "haiku_builds",
    "is_haiku",
    "make_framework",
    "nnx_builds",
]

_MAKE = "the model factory's make(key) / make(rngs)"


def is_haiku(obj: Any) -> bool:
    """``obj`` is ``(hk.Transformed | hk.TransformedWithState, *inputs)`` (Haiku imported)."""
    hk = sys.modules.get("haiku")
    return (
        isinstance(obj, tuple)
        and bool(obj)
        and hk is not None
        and isinstance(obj[0], (hk.Transformed, hk.TransformedWithState))
    )


def _key(seed: int) -> Any:
    import jax

    return jax.random.PRNGKey(seed)


def _rngs(seed: int) -> Any:
    from flax import nnx

    return nnx.Rngs(seed)


def _is_equinox(obj: Any) -> bool:
    eqx = sys.modules.get("equinox")
    return eqx is not None and isinstance(obj, eqx.Module)


def _is_nnx(obj: Any) -> bool:
    nnx = sys.modules.get("flax.nnx")
    return nnx is not None and isinstance(obj, nnx.Module)


def _equinox_arrays(model: Any) -> Any:
    import equinox as eqx

    return eqx.filter(model, eqx.is_inexact_array)


def _nnx_arrays(model: Any) -> Any:
    from flax import nnx

    return nnx.state(model, nnx.Param)


@dataclass(frozen=True)
class _MakeProtocol:
    """How a framework whose factory returns ``make`` builds a model and reads its arrays."""

    framework: Framework
    module: str  # the framework's module in sys.modules (tried only when imported)
    arg: Callable[[int], Any]  # build seed -> make's argument
    is_model: Callable[[Any], bool]
    returned: str  # "make(key) returned X, not <returned>"
    call: str
    arrays: Callable[[Any], Any]  # model -> the pytree of its parameters
    drop_last: bool  # NNX's paths end in the Param's ``value``


_MAKES = (
    _MakeProtocol(
        Framework.EQUINOX, "equinox", _key, _is_equinox, "an eqx.Module", "make(key)",
        _equinox_arrays, False,
    ),
    _MakeProtocol(
        Framework.FLAX_NNX, "flax.nnx", _rngs, _is_nnx, "an nnx.Module", "make(rngs)",
        _nnx_arrays, True,
    ),
)  # fmt: skip


def make_framework(make: Any, seed: int = 0) -> Framework | None:
    """The framework of a callable ``make`` a factory returned: Equinox when
    ``make(PRNGKey(seed))`` is an ``eqx.Module``, Flax NNX when ``make(nnx.Rngs(seed))`` is an
    ``nnx.Module`` (each tried only when its framework is imported); None otherwise. When
    every try raised, the last error is raised as an
    :class:`~weight_init.errors.AuditError`."""
    if not callable(make):
        return None
    tries = [m for m in _MAKES if m.module in sys.modules]
    error: BaseException | None = None
    for m in tries:
        try:
            got = make(m.arg(seed))
        except (Exception, SystemExit) as exc:
            error = exc
            continue
        if m.is_model(got):
            return m.framework
    if error is not None:
        raise AuditError(f"{_MAKE} raised {describe_exception(error)}") from None
    return None


def _walk(obj: Any, keys: tuple[Any, ...]) -> Any:
    """The object at a pytree path of raw keys (attribute, index or dict key), or None."""
    for k in keys:
        try:
            if isinstance(k, str) and not isinstance(obj, Mapping) and hasattr(obj, k):
                obj = getattr(obj, k)
            else:
                obj = obj[k]
        except Exception:
            return None
    return obj


def _raw(k: Any) -> Any:
    """A pytree path entry's key: ``DictKey.key``, ``GetAttrKey.name``, ``SequenceKey.idx``."""
    for attr in ("key", "name", "idx"):
        if hasattr(k, attr):
            return getattr(k, attr)
    return k


def _groups(owner: Any) -> int:
    for attr in ("groups", "feature_group_count"):
        g = getattr(owner, attr, None)
        if isinstance(g, int) and g > 0:
            return g
    return 1


def _tree_build(model: Any, tree: Any, framework: Framework, drop_last: bool) -> Build:
    """Parameters of ``tree`` (a pytree of arrays mirroring ``model``) named by their paths
    joined with ``.``, owned by the module at the path less its last key; a cell's gate
    submodule is reported under the cell when the cell's defaults name it."""
    import jax

    defaults = documented_defaults(framework.value)
    params, values = [], []
    for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
        keys = tuple(_raw(k) for k in path)
        if drop_last:  # NNX: .../kernel/value
            keys = keys[:-1]
        names = tuple(str(k) for k in keys)
        owner = _walk(model, keys[:-1])
        layer, local = type(owner).__name__ if owner is not None else "?", names[-1]
        parent = _walk(model, keys[:-2]) if len(keys) >= 2 else None
        owner_path = ".".join(names[:-1])
        if parent is not None and (type(parent).__name__, f"{names[-2]}.{local}") in defaults:
            layer, local = type(parent).__name__, f"{names[-2]}.{local}"
            owner_path = ".".join(names[:-2])
        a, fmt = host_array(leaf)
        params.append(
            BuiltParam(
                ".".join(names), layer, local, a.shape, _groups(owner), owner_path, dtype=fmt
            )
        )
        values.append(a)
    return params, values


def _make_builds(
    protocol: _MakeProtocol, factory: Callable[[], Any], seeds: Sequence[int]
) -> Iterator[Build]:
    make = call_factory(factory)
    for s in seeds:
        model = call_factory(make, protocol.arg(s), what=_MAKE)
        if not protocol.is_model(model):
            raise InitializerTypeError(
                f"{protocol.call} returned {type(model).__name__}, not {protocol.returned}"
            )
        tree = protocol.arrays(model)
        yield _tree_build(model, tree, protocol.framework, protocol.drop_last)


def equinox_builds(factory: Callable[[], Any], seeds: Sequence[int]) -> Iterator[Build]:
    """``make(PRNGKey(s))`` per build seed ``s``, ``make = factory()`` (module docstring)."""
    return _make_builds(_MAKES[0], factory, seeds)


def nnx_builds(factory: Callable[[], Any], seeds: Sequence[int]) -> Iterator[Build]:
    """``make(nnx.Rngs(s))`` per build seed ``s``, ``make = factory()`` (module docstring)."""
    return _make_builds(_MAKES[1], factory, seeds)


def haiku_builds(factory: Callable[[], Any], seeds: Sequence[int]) -> Iterator[Build]:
    """``transformed.init(PRNGKey(s), *inputs)`` per build seed ``s`` (module docstring)."""
    import haiku as hk

    from weight_init.properties.audit._catalog_haiku import PARENT_OWNED

    got = call_factory(factory)
    if not is_haiku(got):
        raise InitializerTypeError(
            f"the model factory returned {type(got).__name__}, not an (hk.Transformed, "
            "*example_inputs) tuple"
        )
    transformed, inputs = got[0], tuple(got[1:])
    owners: dict[str, Any] = {}

    def record(next_fun: Any, args: Any, kwargs: Any, context: Any) -> Any:
        name = getattr(context.module, "module_name", None)  # unset during __init__
        if name:
            owners.setdefault(name, context.module)
        return next_fun(*args, **kwargs)

    with_state = isinstance(transformed, hk.TransformedWithState)
    for i, s in enumerate(seeds):
        try:
            if i == 0:
                with hk.intercept_methods(record):
                    got = transformed.init(_key(s), *inputs)
            else:
                got = transformed.init(_key(s), *inputs)
        except Exception as exc:
            raise AuditError(f"transformed.init raised {describe_exception(exc)}") from None
        tree = got[0] if with_state else got
        params, values = [], []
        for module_name, leaves in tree.items():
            owner = owners.get(module_name)
            head, _, last = module_name.rpartition("/")
            parent_name = head[:-2] if head.endswith("/~") else head
            parent = owners.get(parent_name) if head else None
            for pname, leaf in leaves.items():
                a, fmt = host_array(leaf)
                layer = type(owner).__name__ if owner is not None else "?"
                local, owner_path = pname, module_name
                if parent is not None and type(parent).__name__ in PARENT_OWNED:
                    layer, local, owner_path = type(parent).__name__, f"{last}.{pname}", parent_name
                name = f"{module_name}/{pname}"
                params.append(
                    BuiltParam(name, layer, local, a.shape, _groups(owner), owner_path, dtype=fmt)
                )
                values.append(a)
        yield params, values
