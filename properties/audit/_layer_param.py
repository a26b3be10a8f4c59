"""One parameter of one framework layer type and its documented default, as a typed object.

A :class:`LayerParam` names the framework, the layer, the parameter, its layout, the fans its
documented rule reads, the rule (a :class:`~weight_init.schemes.Scheme`), the source file
stating it, a builder and a design of :class:`~weight_init.layouts.KernelSpec`.
:meth:`LayerParam.draw` instantiates the layer at a spec under the framework's own seeding,
one layer per seed ``s``:

* torch: ``torch.random.fork_rng`` and ``torch.manual_seed(s)``; ``build(spec)`` returns the
  module, ``param`` is a dotted attribute path (``out_proj.weight``).
* Keras 3: ``keras.utils.set_random_seed(s)`` (Python, numpy and backend seeds: Keras'
  initializers built with ``seed=None`` draw their seed from Python's ``random``);
  ``build(spec)`` returns a *built* layer, ``param`` is an attribute path (``cell.kernel``).
* Flax (linen): ``build(spec)`` returns ``(module, *example_inputs)``; the parameter is read
  from ``module.init(jax.random.PRNGKey(s), *inputs)["params"]`` at the dotted path
  (``hi.kernel``).
* Haiku: ``build(spec)`` returns ``(hk.transform(f), *example_inputs)``; ``param`` is
  ``[MODULE/]NAME`` in ``transformed.init(jax.random.PRNGKey(s), *inputs)`` (``w``,
  ``linear/w``: the one module whose name is or ends with ``MODULE``, else that holds ``NAME``).
* Equinox: ``build(spec)`` returns ``make`` with ``make(key=jax.random.PRNGKey(s))`` the
  module; ``param`` is an attribute path (``weight_ih``); a bias is read as a vector.
* Flax NNX: ``build(spec)`` returns ``make`` with ``make(rngs=nnx.Rngs(s))`` the module;
  ``param`` is an attribute path to an ``nnx.Param`` (``hi.kernel``).

``blocks``/``part``: the parameter stacks ``blocks`` equal blocks along ``stack_axis``;
``part`` (when set) keeps only those blocks (Keras' LSTM bias with ``unit_forget_bias``: the
forget block is ones, the three others zeros).

The designs below are shared by the frameworks' catalogs (``layers_torch``, ``layers_keras``,
``layers_flax``, ``layers_haiku``, ``layers_equinox``, ``layers_nnx``;
:mod:`weight_init.properties.audit._catalog` is the registry).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

from weight_init.layouts import Fans, KernelSpec
from weight_init.properties._torch_seed import manual_seed
from weight_init.properties.conformance._kernels import FanOf
from weight_init.schemes import Scheme, constant


class Framework(Enum):
    """The framework a layer belongs to (the prefix of its catalog name)."""

    TORCH = "torch"
    KERAS = "keras"
    FLAX = "flax"  # linen
    HAIKU = "haiku"
    EQUINOX = "equinox"
    FLAX_NNX = "nnx"


#: The constant defaults every catalog names (biases, norm scales).
ZEROS = constant(0.0, name="zeros")
ONES = constant(1.0, name="ones")


def in_out_fans(s: KernelSpec) -> Fans:
    """The fans of a dense spec: ``(in_channels, out_channels)``."""
    return Fans(s.in_channels, s.out_channels)


CONV_1D = (
    KernelSpec(3, 8, (3,)),
    KernelSpec(8, 4, (5,)),
    KernelSpec(4, 6, (7,)),
    KernelSpec(16, 2, (1,)),
)
CONV_2D = (
    KernelSpec(16, 8, (1, 1)),
    KernelSpec(4, 6, (3, 3)),
    KernelSpec(2, 4, (7, 7)),
    KernelSpec(3, 5, (5, 5)),
)
CONV_3D = (KernelSpec(2, 3, (3, 3, 3)), KernelSpec(4, 4, (1, 1, 1)), KernelSpec(3, 2, (3, 1, 5)))
GROUPED_2D = (
    KernelSpec(8, 8, (3, 3), groups=4),
    KernelSpec(4, 8, (5, 5), groups=2),
    KernelSpec(12, 6, (3, 3), groups=3),
)
#: No 1x1 depthwise spec: its fan_in is 1, and a ``(1, n)`` matrix of float32 draws repeats a
#: column with probability about ``C(n, 2) 2^-24`` per call (~2% per check of the bias, n =
#: 96), found by ``weight-init calibrate --kernels``. "distinct units" now judges such ties
#: at the draws' resolution (``_checks.resolution.ties_plausible``), so it is no longer a false
#: alarm, but a unit of one entry carries no evidence either. Kernel size 1 stays covered
#: by the other designs.
DEPTHWISE_2D = (
    KernelSpec(6, 12, (3, 3), groups=6),
    KernelSpec(4, 4, (5, 5), groups=4),
    KernelSpec(8, 16, (3, 1), groups=8),
    KernelSpec(3, 9, (7, 7), groups=3),
)
DENSE = (
    KernelSpec(8, 256),
    KernelSpec(256, 8),
    KernelSpec(24, 24),
    KernelSpec(48, 160),
    KernelSpec(160, 48),
)
RNN = (KernelSpec(8, 16), KernelSpec(16, 8), KernelSpec(4, 32), KernelSpec(12, 12))


@dataclass(frozen=True)
class LayerParam:
    """One parameter of one layer type and its documented default (module docstring)."""

    layer: str
    param: str
    layout: str
    default: Scheme
    documented: str
    source: str
    build: Callable[[KernelSpec], Any]
    design: tuple[KernelSpec, ...]
    fans_of: FanOf
    blocks: int = 1
    stacked_default: bool = False  # the documented rule reads the fans of the whole stack
    framework: Framework = Framework.TORCH
    part: tuple[int, ...] = ()  # keep only these of the ``blocks`` stacked blocks
    stack_axis: int = -1
    label: str = ""  # the name's suffix when ``param`` is not unique (``bias[forget]``)

    @property
    def name(self) -> str:
        return f"{self.framework.value}:{self.layer}.{self.label or self.param}"

    def draw(self, spec: KernelSpec, seed: int) -> Any:
        a = _DRAW[self.framework](self, spec, seed)
        if self.part:
            blocks = np.split(np.asarray(a), self.blocks, axis=self.stack_axis)
            a = np.concatenate([blocks[i] for i in self.part], axis=self.stack_axis)
        return a


def catalog_entry(
    framework: Framework,
    builder: Callable[[str], Callable[[KernelSpec], Any]],
    layer: str,
    param: str,
    layout: str,
    default: Scheme,
    documented: str,
    source: str,
    kind: str,
    design: tuple[KernelSpec, ...],
    fans_of: FanOf,
    **extra: Any,
) -> LayerParam:
    """A :class:`LayerParam` of ``framework`` built by ``builder(kind)`` (the framework's
    layer builder, e.g. :func:`~weight_init.properties.audit._catalog_keras.keras_layer`);
    ``extra``:
    the other fields (``blocks``, ``part``, ``label``, ...). Each framework's catalog binds the
    first two with :func:`functools.partial`."""
    return LayerParam(
        layer,
        param,
        layout,
        default,
        documented,
        source,
        builder(kind),
        design,
        fans_of,
        framework=framework,
        **extra,
    )


def _attr(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def _draw_torch(p: LayerParam, spec: KernelSpec, seed: int) -> Any:
    import torch

    with torch.random.fork_rng(devices=[]):
        manual_seed(torch, seed)
        module = p.build(spec)
    return _attr(module, p.param).detach().cpu().numpy()


def _draw_keras(p: LayerParam, spec: KernelSpec, seed: int) -> Any:
    import keras

    keras.utils.set_random_seed(seed)
    layer = p.build(spec)
    return np.asarray(keras.ops.convert_to_numpy(_attr(layer, p.param)))


@functools.lru_cache(maxsize=256)
def _flax_init(build: Callable[[KernelSpec], Any], spec: KernelSpec) -> tuple[Any, tuple[Any, ...]]:
    """``jax.jit(module.init)`` and the inputs of ``build(spec)``, compiled once per spec (the
    draws are those of ``module.init``: jit does not change JAX's counter-based random bits)."""
    import jax

    module, *inputs = build(spec)
    return jax.jit(module.init), tuple(inputs)


def _draw_flax(p: LayerParam, spec: KernelSpec, seed: int) -> Any:
    import jax

    init, inputs = _flax_init(p.build, spec)
    tree: Any = init(jax.random.PRNGKey(seed), *inputs)["params"]
    for part in p.param.split("."):
        tree = tree[part]
    return np.asarray(tree)


def _draw_equinox(p: LayerParam, spec: KernelSpec, seed: int) -> Any:
    import jax

    a = np.asarray(_attr(p.build(spec)(key=jax.random.PRNGKey(seed)), p.param))
    return a.reshape(-1) if p.param == "bias" else a  # a conv bias is (O, 1, ..., 1)


def _draw_nnx(p: LayerParam, spec: KernelSpec, seed: int) -> Any:
    from flax import nnx

    return np.asarray(_attr(p.build(spec)(rngs=nnx.Rngs(seed)), p.param)[...])


def _draw_haiku(p: LayerParam, spec: KernelSpec, seed: int) -> Any:
    import jax

    init, inputs = _haiku_init(p.build, spec)
    params = init(jax.random.PRNGKey(seed), *inputs)
    module, _, name = p.param.rpartition("/")
    hits = [m for m in params if m == module or m.endswith("/" + module)] if module else []
    hits = hits or [m for m in params if name in params[m]]
    if len(hits) != 1:
        raise LookupError(f"{p.name}: {len(hits)} modules hold {p.param!r}: {list(params)}")
    return np.asarray(params[hits[0]][name])


@functools.lru_cache(maxsize=256)
def _haiku_init(
    build: Callable[[KernelSpec], Any], spec: KernelSpec
) -> tuple[Any, tuple[Any, ...]]:
    """``jax.jit(transformed.init)`` and the inputs of ``build(spec)`` (as for Flax)."""
    import jax

    transformed, *inputs = build(spec)
    return jax.jit(transformed.init), tuple(inputs)


_DRAW: dict[Framework, Callable[[LayerParam, KernelSpec, int], Any]] = {
    Framework.TORCH: _draw_torch,
    Framework.KERAS: _draw_keras,
    Framework.FLAX: _draw_flax,
    Framework.HAIKU: _draw_haiku,
    Framework.EQUINOX: _draw_equinox,
    Framework.FLAX_NNX: _draw_nnx,
}
