"""Resolve ``SPEC`` strings into numpy initializers ``fn(fan_in, fan_out, seed=...)``.

``SPEC`` is one of

* ``torch:NAME`` -- ``torch.nn.init.NAME`` (an in-place initializer such as
  ``xavier_normal_``), called on ``torch.empty(fan_out, fan_in)`` with a
  ``torch.Generator`` seeded from the check's seed; layout ``out_in``.
  ``torch:Linear`` (or ``torch:nn.Linear``) is ``torch.nn.Linear(fan_in, fan_out).weight``,
  the module's default initialization, under ``torch.random.fork_rng`` and ``manual_seed``.
* ``jax:NAME`` -- ``jax.nn.initializers.NAME`` (a factory such as ``glorot_normal`` is
  called first), applied to ``jax.random.PRNGKey(seed)`` and shape
  ``(fan_in, fan_out)``; layout ``in_out``.
* ``keras:NAME`` -- ``keras.initializers.get(NAME)`` (class names such as
  ``GlorotNormal`` and function names such as ``glorot_normal``), instantiated with
  ``seed=seed`` and called with shape ``(fan_in, fan_out)``; layout ``in_out``. The
  backend is ``$KERAS_BACKEND``, else the first installed of tensorflow, jax, torch.
* ``MODULE:ATTR`` -- ``ATTR`` (dotted) of ``MODULE`` imported from the current
  directory or ``sys.path``, used as it is (the caller states its layout).

Framework names may carry keyword arguments with literal values:
``torch:kaiming_uniform_(a=2.23606797749979)``, ``keras:VarianceScaling(scale=2.0)``.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from weight_init.errors import AdapterError, InitializerTypeError, install_hint
from weight_init.properties._torch_seed import manual_seed

FRAMEWORKS: tuple[str, ...] = ("torch", "jax", "keras")


@dataclass(frozen=True)
class Candidate:
    """A resolved initializer: ``fn(fan_in, fan_out, seed=None) -> ndarray`` and its layout."""

    spec: str
    fn: Callable[..., Any]
    layout: str | None
    framework: str | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec


def parse_call(text: str) -> tuple[str, dict[str, Any]]:
    """``"name(a=1, b='x')"`` -> ``("name", {"a": 1, "b": "x"})``; literal values only."""
    text = text.strip()
    if "(" not in text:
        return text, {}
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        raise AdapterError(
            f"cannot parse {text!r}: expected NAME or NAME(key=value, ...)"
        ) from None
    if not isinstance(node, ast.Call) or node.args:
        raise AdapterError(f"cannot parse {text!r}: only keyword arguments are allowed")
    name = ast.unparse(node.func)
    kwargs: dict[str, Any] = {}
    for kw in node.keywords:
        if kw.arg is None:
            raise AdapterError(f"cannot parse {text!r}: **kwargs are not allowed")
        try:
            kwargs[kw.arg] = ast.literal_eval(kw.value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            # TypeError: a literal that cannot be built, e.g. {[1]: 2} (unhashable key)
            raise AdapterError(
                f"cannot parse {text!r}: the value of {kw.arg} must be a literal"
            ) from None
    return name, kwargs


def _import(module: str, extra: str | None = None) -> Any:
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        hint = f" ({install_hint(extra)})" if extra else ""
        raise AdapterError(f"cannot import module {module!r}: {exc}{hint}") from None
    except Exception as exc:
        raise AdapterError(
            f"importing module {module!r} raised {type(exc).__name__}: {exc}"
        ) from None


def _getattr_path(obj: Any, path: str, where: str) -> Any:
    for part in path.split("."):
        if not hasattr(obj, part):
            raise AdapterError(f"{where} has no attribute {path!r}")
        obj = getattr(obj, part)
    return obj


def resolve(spec: str) -> Candidate:
    """Resolve ``spec`` (see the module docstring) into a :class:`Candidate`."""
    if not isinstance(spec, str) or ":" not in spec:
        raise AdapterError(
            f"expected MODULE:ATTR, torch:NAME, jax:NAME or keras:NAME, got {spec!r}"
        )
    prefix, _, rest = spec.partition(":")
    if not prefix or not rest:
        raise AdapterError(f"expected MODULE:ATTR, got {spec!r}")
    if prefix == "torch":
        return _torch(spec, rest)
    if prefix == "jax":
        return _jax(spec, rest)
    if prefix == "keras":
        return _keras(spec, rest)
    module = _import(prefix)
    fn = _getattr_path(module, rest, f"module {prefix!r}")
    if not callable(fn):
        raise InitializerTypeError(f"{spec} is a {type(fn).__name__}, not callable")
    return Candidate(spec, fn, None)


def _torch(spec: str, rest: str) -> Candidate:
    name, kwargs = parse_call(rest)  # bad syntax is said before a slow framework import
    torch = _import("torch", "torch")
    if name in ("Linear", "nn.Linear"):

        def linear(fan_in: int, fan_out: int, seed: int | None = None) -> NDArray[Any]:
            with torch.random.fork_rng(devices=[]):
                if seed is not None:
                    manual_seed(torch, seed)
                layer = torch.nn.Linear(fan_in, fan_out, **kwargs)
            return layer.weight.detach().numpy()

        return Candidate(spec, linear, "out_in", "torch", kwargs)
    init = _getattr_path(torch.nn.init, name, "torch.nn.init")
    if not callable(init):
        raise InitializerTypeError(f"torch.nn.init.{name} is not callable")
    takes_generator = "generator" in _params(init)

    def torch_init(fan_in: int, fan_out: int, seed: int | None = None) -> NDArray[Any]:
        t = torch.empty(fan_out, fan_in)
        with torch.no_grad():
            if takes_generator:
                g = torch.Generator()
                if seed is not None:
                    g.manual_seed(seed)
                init(t, generator=g, **kwargs)
            else:
                with torch.random.fork_rng(devices=[]):
                    if seed is not None:
                        manual_seed(torch, seed)
                    init(t, **kwargs)
        return t.numpy()

    return Candidate(spec, torch_init, "out_in", "torch", kwargs)


def _params(fn: Any) -> dict[str, inspect.Parameter]:
    try:
        return dict(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return {}


def _jax(spec: str, rest: str) -> Candidate:
    jax = _import("jax", "jax")
    name, kwargs = parse_call(rest)
    initializers = _import("jax.nn.initializers", "jax")
    obj = _getattr_path(initializers, name, "jax.nn.initializers")
    params = _params(obj)
    init = obj if "key" in params and not kwargs else obj(**kwargs)

    def jax_init(fan_in: int, fan_out: int, seed: int | None = None) -> NDArray[Any]:
        key = jax.random.PRNGKey(0 if seed is None else seed)
        return np.asarray(init(key, (fan_in, fan_out), np.float32))

    return Candidate(spec, jax_init, "in_out", "jax", kwargs)


def select_keras_backend() -> None:
    """Keras 3 needs a backend: keep $KERAS_BACKEND, else the first of tensorflow, jax, torch
    that is installed (only before keras is first imported)."""
    if "keras" in sys.modules or os.environ.get("KERAS_BACKEND"):
        return
    for backend in ("tensorflow", "jax", "torch"):
        if importlib.util.find_spec(backend) is not None:
            os.environ["KERAS_BACKEND"] = backend
            return


def _keras(spec: str, rest: str) -> Candidate:
    select_keras_backend()
    name, kwargs = parse_call(rest)
    keras = _import("keras", "keras")
    try:
        proto = keras.initializers.get(name)
    except Exception as exc:
        raise AdapterError(f"keras.initializers has no initializer {name!r} ({exc})") from None
    cls = type(proto)
    takes_seed = "seed" in _params(cls)

    def keras_init(fan_in: int, fan_out: int, seed: int | None = None) -> NDArray[Any]:
        extra = {"seed": seed} if takes_seed and seed is not None else {}
        init = cls(**{**proto.get_config(), **kwargs, **extra}) if (kwargs or extra) else proto
        value = init(shape=(fan_in, fan_out), dtype="float32")
        return np.asarray(keras.ops.convert_to_numpy(value))

    return Candidate(spec, keras_init, "in_out", "keras", kwargs)
