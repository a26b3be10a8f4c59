"""Every parameter of a torch model, once: the walk an audit of a ``torch.nn.Module`` makes.

:func:`walk` visits ``model.named_modules(remove_duplicate=False)`` and each module's own
parameters (``named_parameters(recurse=False)``), so a tensor reachable under several names --
tied weights (GPT-2's ``lm_head.weight`` is ``transformer.wte.weight``), a shared module (T5's
``shared``, ``encoder.embed_tokens`` and ``decoder.embed_tokens``) -- is found under each. It
is listed once, under the first name (the one ``model.named_parameters()`` keeps, owned by
the module found first), with every other name as an alias. Parameters of any rank are
listed (class tokens ``(1, 1, D)``, experts ``(E, out, in)``); buffers are not parameters
and are never listed.

Each :class:`~weight_init.properties.audit._builds.BuiltParam` carries what the expectations
need: the owner's type and the parameter's name within it (``MultiheadAttention``'s
``out_proj.weight`` is reported under the attention module, which re-initializes it), the
owner's path, its class lineage (qualified names, most derived first, for defaults through the
class hierarchy), the tensor's dtype and the owner's ``groups``. Values are numpy arrays;
``bfloat16`` (which numpy lacks) is widened to float32 exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from weight_init.errors import InitializerTypeError, InvalidParameterError
from weight_init.precision import canonical_format
from weight_init.properties._torch_seed import manual_seed
from weight_init.properties.audit._builds import Build, BuiltParam, build_seeds, call_factory

__all__ = ["lineage", "torch_builds", "walk", "walk_values"]


#: Methods by which a class initializes its parameters itself.
INIT_METHODS = ("reset_parameters", "_reset_parameters", "init_weights", "_init_weights")


def lineage(cls: type) -> tuple[str, ...]:
    """``module.qualname`` of ``cls`` and of the bases whose initialization it inherits: in
    method-resolution order, up to and including the first class that defines one of
    :data:`INIT_METHODS` itself, never ``torch.nn.Module`` (or ``object``)."""
    out = []
    for c in cls.__mro__:
        q = f"{c.__module__}.{c.__qualname__}"
        if q in ("torch.nn.modules.module.Module", "builtins.object"):
            break
        out.append(q)
        if any(m in vars(c) for m in INIT_METHODS):
            break
    return tuple(out)


def _array(name: str, p: Any) -> np.ndarray[Any, Any]:
    import torch

    if isinstance(p, torch.nn.parameter.UninitializedParameter):
        raise InvalidParameterError(
            f"parameter {name} is uninitialized (a lazy module): the factory must run the "
            "model once so that its shapes exist"
        )
    t = p.detach().cpu()
    if t.dtype == torch.bfloat16:
        t = t.float()  # exact: bfloat16 is float32's upper half
    return np.asarray(t.numpy())


def walk(model: Any) -> tuple[list[BuiltParam], list[np.ndarray[Any, Any]], dict[str, Any]]:
    """The parameters of ``model`` (module docstring), their values, and the model's modules
    by path (the first path of each)."""
    seen: dict[int, int] = {}
    params: list[BuiltParam] = []
    values: list[np.ndarray[Any, Any]] = []
    aliases: list[list[str]] = []
    modules: dict[str, Any] = {}
    for mname, module in model.named_modules(remove_duplicate=False):
        modules.setdefault(mname, module)
        for pname, p in module.named_parameters(recurse=False):
            full = f"{mname}.{pname}" if mname else pname
            if id(p) in seen:
                aliases[seen[id(p)]].append(full)
                continue
            seen[id(p)] = len(params)
            owner, layer, local, cls = mname, type(module).__name__, pname, type(module)
            parent_name = mname.rpartition(".")[0]
            parent = model.get_submodule(parent_name) if mname else None
            if parent is not None and type(parent).__name__ == "MultiheadAttention":
                layer, local = "MultiheadAttention", f"{mname.rpartition('.')[2]}.{pname}"
                owner, cls = parent_name, type(parent)
            a = _array(full, p)
            g = getattr(module, "groups", 1)
            params.append(
                BuiltParam(
                    full,
                    layer,
                    local,
                    tuple(a.shape),
                    g if isinstance(g, int) and g > 0 else 1,
                    owner,
                    lineage=lineage(cls),
                    dtype=canonical_format(p.dtype),
                )
            )
            values.append(a)
            aliases.append([])
    for i, names in enumerate(aliases):
        if names:
            params[i] = params[i].with_aliases(tuple(names))
    return params, values, modules


def walk_values(model: Any) -> list[np.ndarray[Any, Any]]:
    """The values :func:`walk` lists, in its order, without describing the parameters (the
    builds after the first, whose descriptions are the first's)."""
    seen: set[int] = set()
    values: list[np.ndarray[Any, Any]] = []
    for mname, module in model.named_modules(remove_duplicate=False):
        for pname, p in module.named_parameters(recurse=False):
            if id(p) not in seen:
                seen.add(id(p))
                values.append(_array(f"{mname}.{pname}" if mname else pname, p))
    return values


def torch_builds(
    factory: Callable[[], Any],
    builds: int,
    seed: int,
    progress: Callable[[str], None] | None = None,
) -> list[Build]:
    """``builds`` walks of ``factory()``, each built under ``torch.random.fork_rng`` and
    ``torch.manual_seed`` of its seed (:func:`~weight_init.properties.audit._builds.
    build_seeds`); ``progress`` is told each build before it starts."""
    return [b for b, _ in torch_builds_with_models(factory, builds, seed, progress=progress)]


def torch_builds_with_models(
    factory: Callable[[], Any],
    builds: int,
    seed: int,
    keep_first: bool = True,
    progress: Callable[[str], None] | None = None,
) -> list[tuple[Build, dict[str, Any]]]:
    """:func:`torch_builds` with each build's modules by path (only the first build's, when
    ``keep_first``: presets and owner attributes read them; later builds' are dropped)."""
    import torch

    out: list[tuple[Build, dict[str, Any]]] = []
    for i, s in enumerate(build_seeds(builds, seed)):
        if progress is not None:
            progress(f"build {i + 1} of {builds}")
        with torch.random.fork_rng(devices=[]):
            manual_seed(torch, s)
            model = call_factory(factory)
        if not isinstance(model, torch.nn.Module):
            raise InitializerTypeError(
                f"the model factory returned {type(model).__name__}, not a torch.nn.Module"
            )
        params, values, modules = walk(model)
        out.append(((params, values), modules if (i == 0 or not keep_first) else {}))
    return out
