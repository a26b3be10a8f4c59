"""The correct implementations a false-alarm run cycles over: each conforms by construction.

* every registered non-constant scheme of :mod:`weight_init.schemes`, called as an
  initializer ``scheme(fan_in, fan_out, rng=...)`` and declared as itself;
* the framework initializers that implement a registered scheme (:data:`ADAPTERS`), through
  :func:`weight_init.properties.conformance._adapters.resolve`, when the framework is installed;

each in its native layout and transposed (``in_out`` <-> ``out_in``), declared with the layout
it then returns, so both layouts of the conformance check are exercised. A check of one of
these that fails is a false alarm.

Kernel implementations (``weight-init calibrate --kernels``, :func:`kernel_catalogue`), each
checked through its layout by :mod:`weight_init.properties.conformance._kernels` over the default
kernel design (1-3 spatial dims, kernel sizes 1/3/5/7, groups 1, >1 and depthwise where the layout
has groups):

* every registered i.i.d. scheme drawn as a kernel of each spatial layout of
  :data:`weight_init.layouts.LAYOUTS` (the scheme's variance at the fans the layout yields,
  the family's law, i.i.d. entries: conforming by construction);
* ``torch.nn.init``'s ``kaiming_*``/``xavier_*`` on ``torch.conv`` and
  ``torch.conv_transpose`` kernels (torch computes their fans as those layouts say);
* torch's ``ConvNd``/``ConvTransposeNd`` (grouped and depthwise too) weight and bias defaults
  of :data:`weight_init.properties.audit._catalog.TORCH_PARAMS`, checked against their documented
  rule.

Every implementation has ``check(seed, alpha)``: the verdict a false-alarm task records
(adding an implementation touches this module only).
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
        from weight_init.properties.conformance._adapters import resolve

        fn = resolve(self.spec).fn
        if not self.transposed:
            return fn

        def adapter_t(fan_in: int, fan_out: int, seed: int | None = None) -> Any:
            return fn(fan_in, fan_out, seed=seed).T

        return adapter_t

    def check(self, seed: int, alpha: float) -> Any:
        """``check_initializer`` of the implementation against its scheme and layout."""
        from weight_init.properties.conformance._runner import check_initializer

        return check_initializer(
            self.build(), self.scheme, self.layout, seed=seed, alpha=alpha, identify=False
        )


#: ``torch.nn.init`` initializers checked as kernels, and the scheme each implements.
TORCH_KERNEL_INITS: tuple[tuple[str, str], ...] = (
    ("kaiming_normal_", "he_normal"),
    ("kaiming_uniform_", "he_uniform"),
    ("xavier_normal_", "glorot_normal"),
    ("xavier_uniform_", "glorot_uniform"),
)

#: Layouts the ``torch.nn.init`` kernels are stored in.
TORCH_KERNEL_LAYOUTS: tuple[str, ...] = ("torch.conv", "torch.conv_transpose")


@dataclass(frozen=True)
class KernelImplementation:
    """A correct kernel (or conv layer parameter) implementation of ``scheme`` in ``layout``.

    ``spec`` is ``scheme:NAME`` (the reference scheme drawn as a kernel), ``torch.nn.init:NAME``
    or ``torch:Layer.param`` (a parameter of
    :data:`~weight_init.properties.audit._catalog.TORCH_PARAMS`).
    """

    spec: str
    scheme: str
    layout: str

    @property
    def name(self) -> str:
        return f"{self.spec}@{self.layout}"

    def check(self, seed: int, alpha: float) -> Any:
        """The kernel check (a
        :class:`~weight_init.properties.conformance._kernels.KernelVerdict`)."""
        from weight_init.properties.conformance import _kernels as kernels

        kind, _, name = self.spec.partition(":")
        if kind == "torch":
            from weight_init.properties.audit._catalog import check_layer_param

            return check_layer_param(self.spec, seed=seed, alpha=alpha)
        init = kernels.torch_kernel_init(name) if kind == "torch.nn.init" else self._reference()
        return kernels.check_kernel_initializer(
            init, self.scheme, self.layout, seed=seed, alpha=alpha
        )

    def _reference(self) -> Callable[[tuple[int, ...], int], Any]:
        """``init(shape, seed)``: i.i.d. entries of the scheme's family with the scheme's
        variance at the fans ``layout`` reads from ``shape`` (``numpy.random.default_rng``)."""
        import numpy as np

        from weight_init.layouts import get_layout
        from weight_init.schemes import variance_scaling

        scheme, layout = SCHEMES[self.scheme], get_layout(self.layout)

        def init(shape: tuple[int, ...], seed: int) -> Any:
            v = scheme.variance(*layout.fans(shape).as_tuple())
            fixed = variance_scaling(v, "fixed", scheme.family)
            n = int(np.prod(shape))
            return fixed(1, n, rng=np.random.default_rng(seed)).reshape(shape)

        init.__name__ = init.__qualname__ = f"{self.scheme} as a {self.layout} kernel"
        return init


def kernel_catalogue(
    frameworks: Sequence[str], schemes: Sequence[str] | None = None
) -> list[KernelImplementation]:
    """Reference schemes through every spatial layout, then (torch installed and in
    ``frameworks``) ``torch.nn.init`` kernels and torch's conv layer defaults; ``schemes``
    keeps only the implementations declared as one of them."""
    from weight_init.layouts import LAYOUTS

    spatial = [name for name, lay in LAYOUTS.items() if lay.spatial]
    out = [
        KernelImplementation(f"scheme:{n}", n, lay)
        for n, s in SCHEMES.items()
        if s.family.is_iid
        for lay in spatial
    ]
    if "torch" in frameworks:
        from weight_init.properties.audit._catalog import TORCH_PARAMS

        out += [
            KernelImplementation(f"torch.nn.init:{fn}", scheme, lay)
            for fn, scheme in TORCH_KERNEL_INITS
            for lay in TORCH_KERNEL_LAYOUTS
        ]
        out += [
            KernelImplementation(name, p.default.name, p.layout)
            for name, p in TORCH_PARAMS.items()
            if p.layer.startswith("Conv") and p.default.family.is_random
        ]
    keep = set(schemes) if schemes else None
    return [i for i in out if keep is None or i.scheme in keep]


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
