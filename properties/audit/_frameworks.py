"""Audit a Keras 3, Flax (linen, NNX), Haiku or Equinox model; pick the framework of a factory.

:func:`audit_model` calls ``factory()`` once to see what it returns, then audits it with the
framework's own seeding (``K`` builds, seeds ``SeedSequence(seed).generate_state(K)``):

* a ``torch.nn.Module``: :func:`weight_init.properties.audit._loop.audit_torch`;
* a *built* Keras model or layer (``keras.layers.Layer``, so ``keras.Model`` too): each
  build is ``keras.utils.set_random_seed(s)``, ``factory()`` (the first one after
  ``keras.backend.clear_session()``, so that layer names start afresh). Parameters are the
  trainable variables in Keras' order, named by the first build's ``variable.path``
  (``sequential/conv2d/kernel``) and pooled by position (every build must have the same
  structure), each owned by the layer that created it (an ``LSTM``'s by its ``LSTMCell``);
* a tuple ``(module, *example_inputs)`` with ``module`` a ``flax.linen.Module``: each build
  is ``module.init(jax.random.PRNGKey(s), *example_inputs)``; parameters are the
  ``"params"`` collection, named by their path joined with ``/`` (``Conv_0/kernel``), each
  owned by the module that declared it, except that a ``Dense`` gate inside a recurrent cell
  is reported under the cell (``("LSTMCell", "hi.kernel")``, orthogonal, not ``Dense``'s
  default);
* an ``(hk.Transformed, *example_inputs)`` tuple, or a callable ``make(key) -> eqx.Module`` /
  ``make(rngs) -> nnx.Module``: Haiku, Equinox, Flax NNX
  (:mod:`~weight_init.properties.audit._jax_modules`).

Every framework audit takes its options as an
:class:`~weight_init.properties.audit._result.AuditOptions` or as its keywords.

Expectations: the first ``--expect PATTERN=SCHEME[@LAYOUT]`` whose pattern matches the name,
else the documented default of the owner type in that framework
(:func:`~weight_init.properties.audit._expectations.documented_defaults`, the catalog's
schemes), else none (``unchecked``). A default with ``blocks`` (Keras' LSTM bias under
``unit_forget_bias``) is audited per block, ``NAME[i/n]``. Fans are the framework's, from the
layout and the stored shape (:meth:`weight_init.layouts.Layout.fans`). Every framework runs
through the one loop of :mod:`~weight_init.properties.audit._loop` (:data:`ADAPTERS`): the
probe build gives the sites, the builds stream into the statistics, the verdicts are the same
code for every framework.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np

from weight_init.errors import (
    AuditError,
    InitializerTypeError,
    InvalidParameterError,
    describe_exception,
)
from weight_init.layouts import Fans, KernelSpec, get_layout
from weight_init.precision import canonical_format
from weight_init.properties.audit._builds import (
    Build,
    BuiltParam,
    build_seeds,
    call_factory,
    host_array,
)
from weight_init.properties.audit._expectations import (
    Expectation,
    check_rules,
    documented_defaults,
)
from weight_init.properties.audit._jax_modules import (
    equinox_builds,
    haiku_builds,
    is_haiku,
    make_framework,
    nnx_builds,
)
from weight_init.properties.audit._layer_param import Framework
from weight_init.properties.audit._loop import (
    TORCH,
    Adapter,
    audit_command,
    parse_expect,
    run_audit,
    torch_builds,
    torch_model,
    torch_sites,
)
from weight_init.properties.audit._planned import at_precision, unfit
from weight_init.properties.audit._result import AuditOptions, AuditReport
from weight_init.properties.audit._verdicts import Site
from weight_init.properties.conformance import _power as powerplan

__all__ = ["audit_flax", "audit_keras", "audit_model", "framework_of"]

PROTOCOL = (
    "a torch.nn.Module, a built Keras model or layer, a (flax.linen.Module, *example_inputs) "
    "tuple, an (hk.Transformed, *example_inputs) tuple, or a callable make(key) -> eqx.Module "
    "/ make(rngs) -> nnx.Module"
)


def framework_of(obj: Any) -> Framework | None:
    """The framework of a factory's return value (only frameworks already imported count;
    a callable is Equinox's or NNX's ``make``:
    :func:`~weight_init.properties.audit._jax_modules.make_framework` calls it once)."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(obj, torch.nn.Module):
        return Framework.TORCH
    keras = sys.modules.get("keras")
    if keras is not None and isinstance(obj, keras.layers.Layer):
        return Framework.KERAS
    if is_haiku(obj):
        return Framework.HAIKU
    linen = sys.modules.get("flax.linen")
    if isinstance(obj, tuple) and obj and linen is not None and isinstance(obj[0], linen.Module):
        return Framework.FLAX
    if callable(obj):
        return make_framework(obj)
    return None


def audit_model(
    factory: Callable[[], Any],
    options: AuditOptions | None = None,
    *,
    executor: Executor | None = None,
    slots: int = 1,
    **kwargs: Any,
) -> AuditReport:
    """Audit every parameter of a model against its layer's documented default or a declared rule.

    ``factory()`` is called once to see what it returns (a torch model under build 0's seed:
    it is the audit's first build, not an extra one), then the model is built ``K`` times
    with the framework's own seeding (seeds ``SeedSequence(seed).generate_state(K)``), each
    build reduced to the statistics the tests need in one pass
    (:mod:`~weight_init.properties.audit._loop`, the one loop of every framework):

    * a ``torch.nn.Module``: each build under ``torch.random.fork_rng`` and
      ``torch.manual_seed``;
    * a *built* Keras model or layer (``keras.layers.Layer``, so ``keras.Model`` too): each
      build is ``keras.utils.set_random_seed(s)``, ``factory()`` (the first one after
      ``keras.backend.clear_session()``, so that layer names start afresh); parameters are the
      trainable variables in Keras' order, named by the first build's ``variable.path``
      (``sequential/conv2d/kernel``) and pooled by position (every build must have the same
      structure), each owned by the layer that created it (an ``LSTM``'s by its ``LSTMCell``);
    * a tuple ``(module, *example_inputs)`` with ``module`` a ``flax.linen.Module``: each
      build is ``module.init(jax.random.PRNGKey(s), *example_inputs)``; parameters are the
      ``"params"`` collection, named by their path joined with ``/`` (``Conv_0/kernel``),
      each owned by the module that declared it, except that a ``Dense`` gate inside a
      recurrent cell is reported under the cell (``("LSTMCell", "hi.kernel")``, orthogonal,
      not ``Dense``'s default);
    * an ``(hk.Transformed, *example_inputs)`` tuple, or a callable ``make(key) ->
      eqx.Module`` / ``make(rngs) -> nnx.Module``: Haiku, Equinox, Flax NNX.

    Each parameter is checked (the tests of :func:`check_initializer` on its builds, the
    parameter as a 2-D matrix) against its expectation *at its own fans*: the first
    ``expect`` rule whose shell-style pattern matches its name, else the documented default
    of its layer type in that framework (cited in ``docs/frameworks.md``), else none
    (``unchecked``). A default with ``blocks`` (Keras' LSTM bias under ``unit_forget_bias``)
    is audited per block, ``NAME[i/n]``. Fans are the framework's, from the layout and the
    stored shape (:meth:`weight_init.layouts.Layout.fans`). Each row states its resolution
    (what its entries, or its pooled group's, detect with power 0.99) and passes only when no
    test rejects and the resolution reaches the target; otherwise it is ``inconclusive``,
    never ``pass`` (``docs/checking.md``).

    Parameters
    ----------
    factory : callable
        ``factory()`` returns a model, as above.
    options : AuditOptions, optional
        What the audit is asked; its keywords below replace its fields.
    executor : concurrent.futures.Executor, optional
        Runs the builds after the first (local processes or a Dask cluster's executor);
        the verdicts do not depend on it.
    slots : int, default 1
        How many of the executor's tasks run at once.
    **kwargs
        The fields of :class:`AuditOptions`: ``builds`` (None: the fewest with which every
        checked parameter reaches ``resolution``, at least 10, at most ``max_builds``),
        ``seed``, ``expect``, ``alpha``, ``resolution``, ``max_builds``, ``pool``,
        ``workers``, ``spec``, ``progress``, ``subject``. An unknown keyword is a
        ``TypeError``.

    Returns
    -------
    AuditReport
        One :class:`ParamAudit` per parameter; ``passed`` only when every checked parameter
        passed.

    Raises
    ------
    InitializerTypeError
        ``factory()`` returns something that is not a model of a supported framework.
    AuditError
        The factory (or a framework's ``init``) raised.

    Examples
    --------
    torch's ``nn.Linear`` weight against its documented default, ``kaiming_uniform_(a=sqrt(5))``:

    >>> import torch
    >>> from weight_init import audit
    >>> report = audit(lambda: torch.nn.Linear(128, 64, bias=False), alpha=1e-6)
    >>> report.outcome, report.builds
    ('pass', 10)
    >>> weight = report.params[0]
    >>> weight.name, weight.layout, weight.expected, weight.identified
    ('weight', 'out_in', 'torch_linear_default', '1/(3 fan_in)')
    """
    opts = AuditOptions.of(options, **kwargs)
    torch = sys.modules.get("torch")
    if torch is not None:  # the probe leaves torch's global generator as it was
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(build_seeds(1, opts.seed)[0])
            probe = call_factory(factory)
    else:
        probe = call_factory(factory)
    fw = framework_of(probe)
    if fw is Framework.TORCH:
        # the audit's first build when it was seeded (torch imported before the call; a
        # factory that imports torch itself built it unseeded: built again under the seed)
        holder = [probe] if torch is not None else []
        del probe  # released once the loop has read it
        adapter = Adapter(functools.partial(_torch_probe, holder), torch_builds)
        return run_audit(adapter, factory, opts, executor=executor, slots=slots)
    if fw is not None and opts.preset:
        raise InvalidParameterError(
            f"--preset {opts.preset}: presets describe torch libraries; this is a {fw.value} model"
        )
    if fw is not None:
        return run_audit(ADAPTERS[fw], factory, opts, executor=executor, slots=slots)
    got = type(probe).__name__
    raise InitializerTypeError(f"the model factory returned {got}, not {PROTOCOL}")


def _torch_probe(
    holder: list[Any], factory: Callable[[], Any], seed: int, opts: AuditOptions
) -> tuple[list[Any], list[Site]]:
    """The torch probe from the model the framework detection built under build 0's seed
    (taken out of ``holder``: the loop holds the only reference)."""
    model = holder.pop() if holder else torch_model(factory, seed)
    return torch_sites(model, opts)


def _keras_params(model: Any) -> Build:
    import keras

    if not isinstance(model, keras.layers.Layer):
        raise InitializerTypeError(
            f"the model factory returned {type(model).__name__}, not a Keras model or layer"
        )
    if not model.built or not model.weights:
        raise InitializerTypeError(
            "the Keras model the factory returned is not built: give it an Input or call "
            "model.build(input_shape) in the factory"
        )
    params, values = [], []
    for layer in [model, *model._flatten_layers(include_self=False, recursive=True)]:
        for v in layer._trainable_variables:
            a, fmt = host_array(keras.ops.convert_to_numpy(v))
            groups = int(getattr(layer, "groups", 1) or 1)
            params.append(
                BuiltParam(v.path, type(layer).__name__, v.name, a.shape, groups, dtype=fmt)
            )
            values.append(a)
    return params, values


def _keras_builds(factory: Callable[[], Any], seeds: Sequence[int]) -> Iterator[Build]:
    import keras

    for i, s in enumerate(seeds):
        if i == 0:
            keras.backend.clear_session()  # names start afresh (0.5 s: once per chunk)
        keras.utils.set_random_seed(s)
        yield _keras_params(call_factory(factory))


def _flax_init(factory: Callable[[], Any]) -> tuple[Any, tuple[Any, ...]]:
    got = call_factory(factory)
    if framework_of(got) is not Framework.FLAX:
        raise InitializerTypeError(
            f"the model factory returned {type(got).__name__}, not a (flax.linen.Module, "
            "*example_inputs) tuple"
        )
    return got[0], tuple(got[1:])


def _flax_builds(factory: Callable[[], Any], seeds: Sequence[int]) -> Iterator[Build]:
    import jax
    from flax import linen as nn

    module, inputs = _flax_init(factory)
    owners: dict[tuple[str, ...], Any] = {}

    def record(next_fun: Any, args: Any, kwargs: Any, context: Any) -> Any:
        owners.setdefault(tuple(context.module.path), context.module)
        return next_fun(*args, **kwargs)

    defaults = documented_defaults("flax")
    for i, s in enumerate(seeds):
        try:
            if i == 0:
                with nn.intercept_methods(record):
                    variables = module.init(jax.random.PRNGKey(s), *inputs)
            else:
                variables = module.init(jax.random.PRNGKey(s), *inputs)
        except Exception as exc:
            raise AuditError(f"module.init raised {describe_exception(exc)}") from None
        flat = jax.tree_util.tree_flatten_with_path(dict(variables.get("params", {})))[0]
        params, values = [], []
        for path, leaf in flat:
            keys = tuple(str(getattr(k, "key", k)) for k in path)
            name, (a, fmt) = "/".join(keys), host_array(leaf)
            owner = owners.get(keys[:-1])
            layer, local = type(owner).__name__ if owner else "?", keys[-1]
            parent = owners.get(keys[:-2]) if len(keys) >= 2 else None
            if parent is not None and (type(parent).__name__, f"{keys[-2]}.{local}") in defaults:
                layer, local = type(parent).__name__, f"{keys[-2]}.{local}"
            groups = int(getattr(owner, "feature_group_count", 1) or 1)
            params.append(BuiltParam(name, layer, local, a.shape, groups, dtype=fmt))
            values.append(a)
        order = {path: k for k, path in enumerate(owners)}  # the order the modules ran in
        rank = [order.get(tuple(p.name.split("/")[:-1]), len(order)) for p in params]
        idx = sorted(range(len(params)), key=lambda k: rank[k])
        yield [params[k] for k in idx], [values[k] for k in idx]


def _fans(
    p: BuiltParam, layout: str, how: str, siblings: dict[tuple[str, str], BuiltParam]
) -> Fans:
    """``p``'s fans under its default's ``how`` (:class:`~weight_init.properties.
    audit_expectations.Default`): ``embed``, JAX's fans of an embedding table; ``owner``, a
    bias at the fan_in of its sibling ``weight`` (Equinox); ``rnn``, Equinox's cells, whose
    every parameter reads ``hidden`` (the sibling ``weight_hh``'s last axis); else the
    layout's fans of ``p`` (a vector: its length)."""
    if how == "embed":  # JAX's _compute_fans with in_axis=-2, out_axis=0 on (N, F)
        return Fans(p.shape[-1], p.shape[-1])
    weight = siblings.get((p.owner, "weight"))
    if how == "owner" and weight is not None and len(weight.shape) >= 2:
        return Fans(get_layout(layout).fans(weight.shape).fan_in, p.shape[0])
    hh = siblings.get((p.owner, "weight_hh"))
    if how == "rnn" and hh is not None:
        hidden = hh.shape[-1]
        return Fans(p.shape[1] if len(p.shape) == 2 else hidden, hidden)
    if len(p.shape) >= 2:
        return get_layout(layout).fans(p.shape)
    return Fans(p.shape[0], p.shape[0]) if p.shape else Fans(1, 1)


def _layout_of(p: BuiltParam) -> str:
    """The layout of a parameter without expectation: ``in_out``, or for more than two axes
    JAX's ``_compute_fans`` convention (``flax.conv``: ``(..., in, out)``, the other axes a
    receptive field), e.g. an attention ``DenseGeneral`` kernel ``(in, heads, head_dim)``."""
    return "in_out" if len(p.shape) <= 2 else "flax.conv"


def _fits(layout: str, shape: tuple[int, ...]) -> bool:
    """Whether ``layout`` can hold a parameter of ``shape`` (a vector always can)."""
    if len(shape) < 2:
        return True
    try:
        get_layout(layout).fans(shape)
    except InvalidParameterError:
        return False
    return True


def _spec(p: BuiltParam, layout: str) -> KernelSpec | None:
    try:
        return get_layout(layout).spec_of(p.shape, p.groups) if len(p.shape) >= 2 else None
    except Exception:  # a shape or groups the layout cannot hold: no fan-rule naming
        return None


def sites_of(
    framework: Framework,
    params: Sequence[BuiltParam],
    expect: Sequence[Expectation],
    values: Sequence[Any] | None = None,
) -> list[Site]:
    """Every parameter (a default with ``blocks``: every block) of one build with its
    expectation, layout and fans (module docstring); with the build's ``values``, the rule's
    ``skip`` and zero rows, constants at the parameter's float format, and why a parameter
    cannot be checked (empty, not float, a fan of 0)."""
    defaults = documented_defaults(framework.value)
    siblings = {(p.owner, p.local): p for p in params}
    sites: list[Site] = []
    for j, p in enumerate(params):
        rule = next((e for e in expect if e.matches(p.name)), None)
        dflt = defaults.get((p.layer, p.local)) or defaults.get((p.layer, "*"))
        layout = (rule.layout if rule else None) or (dflt.layout if dflt else _layout_of(p))
        if not (rule and rule.layout) and not _fits(layout, p.shape):
            layout = _layout_of(p)  # Haiku's BatchNorm scale (1, 1, 1, C): JAX's fans
        how = dflt.fans if dflt and not (rule and rule.layout) else "weight"
        if rule is None and dflt is not None and dflt.blocks:
            n = len(dflt.blocks)
            shape = (*p.shape[:-1], p.shape[-1] // n)
            for i, block_scheme in enumerate(dflt.blocks):
                bp = BuiltParam(f"{p.name}[{i}/{n}]", p.layer, p.local, shape)
                src = f"default: {dflt.source} (block {i} of {n})"
                bf = _fans(bp, layout, how, siblings)
                sites.append(
                    Site(
                        bp.name,
                        p.layer,
                        p.local,
                        shape,
                        layout,
                        bf,
                        block_scheme,
                        src,
                        None,
                        j,
                        (i, n),
                    )
                )
            continue
        fans = _fans(p, layout, how, siblings)
        scheme = rule.scheme if rule else (dflt.scheme if dflt else None)
        source = f"--expect {rule.pattern}" if rule else (f"default: {dflt.source}" if dflt else "")
        spec = _spec(p, layout) if how == "weight" else None
        value = None if values is None else np.asarray(values[j])
        dtype = p.dtype or (canonical_format(value.dtype) if value is not None else None)
        why = "" if value is None else unfit(value, fans.as_tuple())
        skip = bool(rule and rule.skip)
        scheme = None if (skip or why) else at_precision(scheme, dtype)
        sites.append(
            Site(
                p.name,
                p.layer,
                p.local,
                p.shape,
                layout,
                fans,
                scheme,
                source,
                spec,
                j,
                zero_rows=rule.zero_rows if rule and not why else (),
                skip=skip,
                dtype=dtype,
                quirks=(why,) if why else (),
            )
        )
    return sites


def _probe(
    framework: Framework,
    build: Callable[[Callable[[], Any], Sequence[int]], Iterator[Build]],
    factory: Callable[[], Any],
    seed: int,
    opts: AuditOptions,
) -> tuple[list[Any], list[Site]]:
    params, values = next(iter(build(factory, [seed])))
    if opts.rules_must_match:
        check_rules(opts.expect, params, opts.subject)
    return values, sites_of(framework, params, opts.expect, values)


def _values(
    build: Callable[[Callable[[], Any], Sequence[int]], Iterator[Build]],
    factory: Callable[[], Any],
    seeds: Sequence[int],
) -> Iterator[list[Any]]:
    for _, values in build(factory, seeds):
        yield values


def audit_keras(
    factory: Callable[[], Any], options: AuditOptions | None = None, **kwargs: Any
) -> AuditReport:
    """Audit the trainable variables of the built Keras model ``factory()`` (module
    docstring); options as in :func:`~weight_init.properties.audit._loop.audit_torch`."""
    return run_audit(ADAPTERS[Framework.KERAS], factory, options, **kwargs)


def audit_flax(
    factory: Callable[[], Any], options: AuditOptions | None = None, **kwargs: Any
) -> AuditReport:
    """Audit the ``params`` of ``module.init(PRNGKey(s), *inputs)`` with ``(module, *inputs)
    = factory()`` (module docstring); options as in
    :func:`~weight_init.properties.audit._loop.audit_torch`."""
    return run_audit(ADAPTERS[Framework.FLAX], factory, options, **kwargs)


_BUILDERS: dict[Framework, Callable[[Callable[[], Any], Sequence[int]], Iterator[Build]]] = {
    Framework.KERAS: _keras_builds,
    Framework.FLAX: _flax_builds,
    Framework.HAIKU: haiku_builds,
    Framework.EQUINOX: equinox_builds,
    Framework.FLAX_NNX: nnx_builds,
}

#: The loop's adapter of every framework but torch's (module-level partials: workers get them
#: by reference).
ADAPTERS: dict[Framework, Adapter] = {
    fw: Adapter(functools.partial(_probe, fw, b), functools.partial(_values, b))
    for fw, b in _BUILDERS.items()
}
ADAPTERS[Framework.TORCH] = TORCH


def audit_spec(
    spec: str,
    expect: Sequence[str] = (),
    *,
    builds: int | None = None,
    seed: int = 0,
    alpha: float = powerplan.DEFAULT_ALPHA,
    executor: Executor | None = None,
    slots: int = 1,
    preset: str | None = None,
    **options: Any,
) -> AuditReport:
    """:func:`~weight_init.properties.audit._frameworks.audit_model` (any framework) of the
    model factory ``spec`` (``MODULE:FACTORY``, imported: the caller isolates it) under the
    ``--expect PATTERN=RULE[@LAYOUT]`` rules ``expect`` (RULE in the rule language,
    :func:`weight_init.rules.parse_rule`) and the library ``preset`` (torch models);
    ``options``: the other :class:`~weight_init.properties.audit._result.AuditOptions`
    fields; builds run on ``executor`` when given."""
    from weight_init.properties.conformance._adapters import resolve, select_keras_backend

    rules = [parse_expect(text) for text in expect]
    select_keras_backend()  # before the user's module imports keras
    on_step = options.get("on_step") or (lambda step: None)
    on_step(f"importing {spec.partition(':')[0]}")  # a step of its own: the user's imports
    factory = resolve(spec).fn
    on_step("the first build")
    opts = AuditOptions(
        builds=builds, seed=seed, expect=rules, alpha=alpha, subject=spec, spec=spec, preset=preset
    )
    report = audit_model(
        factory, dataclasses.replace(opts, **options), executor=executor, slots=slots
    )
    pool = options.get("pool", True)
    return dataclasses.replace(report, reproduce=audit_command(spec, expect, report, pool, preset))


#: The public name of the model audit (:mod:`weight_init.properties.audit`).
audit = audit_model
