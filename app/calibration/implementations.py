"""The correct implementations a false-alarm run cycles over: each conforms by construction.

* every registered non-constant scheme of :mod:`weight_init.schemes`, called as an
  initializer ``scheme(fan_in, fan_out, rng=...)`` and declared as itself;
* the framework initializers that implement a registered scheme (:data:`ADAPTERS`), through
  :func:`weight_init.properties.adapters.resolve`, when the framework is installed;

each in its native layout and transposed (``in_out`` <-> ``out_in``), declared with the layout
it then returns, so both layouts of the conformance check are exercised. A check of one of
these that fails is a false alarm.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from weight_init.families import CONSTANT
from weight_init.schemes import SCHEMES

#: ``framework -> ((SPEC, scheme it implements), ...)``; the framework's own tests pin these.
ADAPTERS: dict[str, tuple[tuple[str, str], ...]] = {
    "torch": (
        ("torch:xavier_normal_", "glorot_normal"),
        ("torch:xavier_uniform_", "glorot_uniform"),
        ("torch:kaiming_normal_", "he_normal"),
        ("torch:kaiming_uniform_", "he_uniform"),
        ("torch:orthogonal_", "orthogonal"),
        ("torch:Linear", "torch_linear_default"),
        ("torch:kaiming_uniform_(a=2.23606797749979)", "torch_linear_default"),
    ),
    "jax": (
        ("jax:glorot_normal", "glorot_truncated_normal"),
        ("jax:glorot_uniform", "glorot_uniform"),
        ("jax:he_normal", "he_truncated_normal"),
        ("jax:he_uniform", "he_uniform"),
        ("jax:lecun_normal", "lecun_truncated_normal"),
        ("jax:lecun_uniform", "lecun_uniform"),
        ("jax:orthogonal", "orthogonal"),
    ),
    "keras": (
        ("keras:glorot_normal", "glorot_truncated_normal"),
        ("keras:GlorotUniform", "glorot_uniform"),
        ("keras:HeNormal", "he_truncated_normal"),
        ("keras:he_uniform", "he_uniform"),
        ("keras:LecunNormal", "lecun_truncated_normal"),
        ("keras:Orthogonal", "orthogonal"),
    ),
}

_OTHER = {"in_out": "out_in", "out_in": "in_out"}


@dataclass(frozen=True)
class Implementation:
    """A correct implementation of ``scheme``: ``spec`` (``scheme:NAME`` or an adapter SPEC),
    optionally transposed; ``layout`` is the layout of the array it returns."""

    spec: str
    scheme: str
    layout: str
    transposed: bool = False

    @property
    def name(self) -> str:
        return f"{self.spec} (transposed)" if self.transposed else self.spec

    def build(self) -> Callable[..., Any]:
        """The initializer, seeded as its origin is (``rng=`` for schemes, ``seed=`` for
        adapters), returning the array in :attr:`layout`."""
        if self.spec.startswith("scheme:"):
            scheme = SCHEMES[self.spec.partition(":")[2]]
            if not self.transposed:
                return scheme

            def scheme_t(fan_in: int, fan_out: int, rng: Any = None) -> Any:
                return scheme(fan_in, fan_out, rng=rng).T

            return scheme_t
        from weight_init.properties.adapters import resolve

        fn = resolve(self.spec).fn
        if not self.transposed:
            return fn

        def adapter_t(fan_in: int, fan_out: int, seed: int | None = None) -> Any:
            return fn(fan_in, fan_out, seed=seed).T

        return adapter_t


def installed_frameworks() -> list[str]:
    """The frameworks of :data:`ADAPTERS` whose package is importable (found, not imported)."""
    return [f for f in ADAPTERS if importlib.util.find_spec(f) is not None]


def catalogue(
    frameworks: Sequence[str], schemes: Sequence[str] | None = None
) -> list[Implementation]:
    """Schemes then adapters of ``frameworks``, each native then transposed; ``schemes``
    keeps only the implementations declared as one of them."""
    native: list[tuple[str, str, str]] = [
        (f"scheme:{n}", n, "in_out") for n, s in SCHEMES.items() if s.family != CONSTANT
    ]
    native += [
        (spec, scheme, "in_out" if fw != "torch" else "out_in")
        for fw in frameworks
        for spec, scheme in ADAPTERS[fw]
    ]
    keep = set(schemes) if schemes else None
    out: list[Implementation] = []
    for spec, scheme, layout in native:
        if keep is None or scheme in keep:
            out.append(Implementation(spec, scheme, layout))
            out.append(Implementation(spec, scheme, _OTHER[layout], transposed=True))
    return out
