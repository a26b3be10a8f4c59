"""The calling conventions of the code this package runs: an initializer and a forward_prop.

Stated once, here; every module that calls user code asks :func:`keywords_of` (the one
place that inspects a signature) instead of inspecting it itself.

Initializer
    ``init(fan_in, fan_out)`` returns a ``(fan_in, fan_out)`` array in the reference's
    ``in_out`` layout (a framework's own layout is named by an adapter, see
    :mod:`weight_init.layouts`). It may take an ``rng=`` keyword (a
    :class:`numpy.random.Generator`) or a ``seed=`` keyword (an int); without either it
    draws from global state (numpy's legacy ``np.random``, Python's :mod:`random`,
    torch's default generator), which the caller seeds. :func:`seeding_of` says which.

Forward prop
    The notes' contract: ``forward_prop(hidden_layer_sizes, init)`` returns ``(acts,
    means, stds)`` (``acts`` a dict ``layer index (0-based) -> (n_samples, width)``
    activations) for the fixed ``1000 x 500`` standard-normal input and tanh, drawing from
    numpy's legacy global state. The flexible contract adds keywords among
    ``x`` (the input), ``seed``, ``activation`` and ``keep_activations``
    (:data:`FORWARD_KEYWORDS`); :func:`forward_keywords_of` says which are accepted.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Literal, Protocol, runtime_checkable

from numpy.typing import NDArray

#: How a seed reaches an initializer: an ``rng=`` Generator, a ``seed=`` int, or global state.
Seeding = Literal["rng", "seed", "global"]

#: The keywords of the flexible forward_prop contract.
FORWARD_KEYWORDS: frozenset[str] = frozenset({"x", "seed", "activation", "keep_activations"})


@runtime_checkable
class Initializer(Protocol):
    """``init(fan_in, fan_out, [rng=Generator | seed=int]) -> (fan_in, fan_out) array``."""

    def __call__(self, fan_in: int, fan_out: int, /, **kwargs: Any) -> NDArray[Any]: ...


@runtime_checkable
class ForwardPropFn(Protocol):
    """``forward_prop(hidden_layer_sizes, init, **flexible) -> (acts, means, stds)``."""

    def __call__(self, hidden_layer_sizes: Any, init: Any, /, **kwargs: Any) -> Any: ...


def named_keywords(fn: Callable[..., Any]) -> frozenset[str]:
    """The parameter names ``fn`` declares that can be passed as keywords (``**kwargs`` aside).

    A callable whose signature cannot be read (some builtins and C extensions) declares none
    as far as this package is concerned: it is called positionally only.
    """
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return frozenset()
    return frozenset(
        p.name
        for p in params
        if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    )


def keywords_of(fn: Callable[..., Any]) -> frozenset[str] | None:
    """The names ``fn`` accepts as keywords; ``None`` when it takes ``**kwargs`` (any name)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return frozenset()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    return named_keywords(fn)


def accepts_keyword(fn: Callable[..., Any], name: str) -> bool:
    """Whether ``fn`` can be called with the keyword ``name`` (explicitly or via ``**kwargs``)."""
    names = keywords_of(fn)
    return names is None or name in names


def seeding_of(fn: Callable[..., Any]) -> Seeding:
    """How an initializer is seeded: an explicit ``rng`` parameter, else ``seed``, else global.

    Only explicitly named parameters count (a ``**kwargs`` initializer is seeded through
    global state: it cannot be assumed to honour either keyword).
    """
    names = named_keywords(fn)
    if "rng" in names:
        return "rng"
    if "seed" in names:
        return "seed"
    return "global"


def forward_keywords_of(fn: Callable[..., Any]) -> frozenset[str]:
    """The flexible-contract keywords a forward_prop accepts (all of them for ``**kwargs``)."""
    names = keywords_of(fn)
    return FORWARD_KEYWORDS if names is None else FORWARD_KEYWORDS & names
