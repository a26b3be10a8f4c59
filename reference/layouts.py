"""Weight layouts: which axis of a stored weight is which, and how each framework computes fans.

The reference draws ``(fan_in, fan_out)`` matrices. Real weights are stored otherwise:

* ``in_out``: ``(in, out)``, used as ``H @ W`` (the notes, Keras ``Dense``, JAX/Flax ``Dense``).
* ``out_in``: ``(out, in)``, used as ``H @ W.T`` (``torch.nn.Linear.weight``); PyTorch reads
  fan_in from the *second* axis.
* ``torch.conv``: ``(O, I/g, *k)`` (``torch.nn.ConvNd``).
* ``torch.conv_transpose``: ``(I, O/g, *k)`` (``torch.nn.ConvTransposeNd``).
* ``keras.conv``: ``(*k, I/g, O)``; ``keras.conv_transpose``: ``(*k, O, I)`` (no groups).
* ``flax.conv``: ``(*k, I/g, O)``; ``flax.conv_transpose``: ``(*k, I, O)`` (no groups).

Every framework computes the fans *from the array shape alone*, as ``rf = prod(spatial)``,
``fan_in = shape[a] * rf`` and ``fan_out = shape[b] * rf`` for two fixed axes ``a``, ``b``:

* torch (``torch/nn/init.py: _calculate_fan_in_and_fan_out``): ``a = 1``, ``b = 0``;
* Keras (``keras/src/initializers/random_initializers.py: compute_fans``): ``a = -2``,
  ``b = -1``;
* JAX/Flax (``jax/_src/nn/initializers.py: _compute_fans``, ``in_axis=-2, out_axis=-1``).

So on a transposed convolution torch and Keras read fan_in from the *output*-channel axis
(:attr:`Layout.fans_transposed`), and on a grouped convolution torch's fan_out is ``O * rf``,
not ``O/g * rf``. :meth:`Layout.fans` reproduces these (the framework's quirks included);
:meth:`KernelSpec.true_fans` gives the connectivity fans, ``I/g * rf`` and ``O/g * rf``.

:meth:`Layout.matrix` views an n-d kernel as a 2-D ``(I_stored * rf, O_stored)`` matrix by a
transpose and a reshape: every entry is kept, so for i.i.d. entries the view has the law of a
reference matrix; fans come from :meth:`Layout.fans`, not from the view's shape.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import Any, Literal, TypeVar, cast

import numpy as np
from numpy.typing import NDArray

from weight_init.errors import InvalidParameterError

_F = TypeVar("_F", bound=Callable[..., Any])

#: The two layouts of a 2-D weight (a matrix): ``in_out`` is ``(fan_in, fan_out)``, ``out_in``
#: is ``(fan_out, fan_in)``.
MatrixLayout = Literal["in_out", "out_in"]
MATRIX_LAYOUTS: tuple[str, ...] = ("in_out", "out_in")


def check_matrix_layout(layout: str) -> MatrixLayout:
    """``layout`` if it is a matrix layout (:data:`MATRIX_LAYOUTS`), else
    :class:`~weight_init.errors.InvalidParameterError`."""
    if layout not in MATRIX_LAYOUTS:
        raise InvalidParameterError(
            f"unknown layout {layout!r}; choose in_out (fan_in, fan_out) "
            f"or out_in (fan_out, fan_in)"
        )
    return layout  # type: ignore[return-value]


def shape_for(fan_in: int, fan_out: int, layout: str) -> tuple[int, int]:
    """The array shape a layer with these fans has under ``layout``."""
    return (fan_in, fan_out) if check_matrix_layout(layout) == "in_out" else (fan_out, fan_in)


def to_in_out(w: NDArray[Any], layout: str) -> NDArray[Any]:
    """View ``w`` (laid out by ``layout``) in the reference's ``(fan_in, fan_out)`` layout."""
    return np.asarray(w) if check_matrix_layout(layout) == "in_out" else np.asarray(w).T


def renamed_layout_keyword(fn: _F) -> _F:
    """Accept ``convention=`` (the keyword's earlier name) for ``layout=``, with a
    :class:`DeprecationWarning`; ``layout`` and ``convention`` together are an error."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if "convention" in kwargs:
            if "layout" in kwargs:
                raise InvalidParameterError("give layout=, not both layout= and convention=")
            warnings.warn(
                f"{fn.__name__}(convention=...) is deprecated; use layout=...",
                DeprecationWarning,
                stacklevel=2,
            )
            kwargs["layout"] = kwargs.pop("convention")
        return fn(*args, **kwargs)

    return cast(_F, wrapper)


class Role(Enum):
    """What an axis of a stored weight holds."""

    IN = "in"
    OUT = "out"
    SPATIAL = "spatial"  # zero or more kernel axes, in place of this marker


@dataclass(frozen=True)
class Fans:
    """``(fan_in, fan_out)`` of one weight.

    Parameters
    ----------
    fan_in, fan_out : int
        The fans.

    Examples
    --------
    >>> from weight_init.layouts import get_layout
    >>> get_layout("out_in").fans((4, 3)).as_tuple()  # torch's Linear(3, 4).weight
    (3, 4)
    """

    fan_in: int
    fan_out: int

    def as_tuple(self) -> tuple[int, int]:
        """The fans as a tuple.

        Returns
        -------
        tuple of int
            ``(fan_in, fan_out)``.
        """
        return (self.fan_in, self.fan_out)


@dataclass(frozen=True)
class KernelSpec:
    """A layer's weight in framework-neutral terms: channels, kernel size, groups.

    Parameters
    ----------
    in_channels, out_channels : int
        The layer's channels (not per group), positive; both must be divisible by ``groups``.
    kernel : tuple of int, default ()
        The kernel size per spatial axis; empty for a dense layer.
    groups : int, default 1
        The number of groups (``in_channels``: depthwise).

    Raises
    ------
    InvalidParameterError
        A non-positive size, or ``groups`` not dividing both channel counts.

    Examples
    --------
    >>> from weight_init.layouts import KernelSpec
    >>> spec = KernelSpec(8, 16, (3, 3), groups=2)
    >>> spec.describe(), spec.receptive_field, spec.true_fans().as_tuple()
    ('8->16, k=3x3, g=2', 9, (36, 72))
    """

    in_channels: int
    out_channels: int
    kernel: tuple[int, ...] = ()
    groups: int = 1

    def __post_init__(self) -> None:
        for what, v in (("in_channels", self.in_channels), ("out_channels", self.out_channels)):
            if not isinstance(v, int) or v <= 0:
                raise InvalidParameterError(f"{what} must be a positive integer, got {v!r}")
        if any(not isinstance(k, int) or k <= 0 for k in self.kernel):
            raise InvalidParameterError(f"kernel sizes must be positive, got {self.kernel!r}")
        g = self.groups
        if not isinstance(g, int) or g <= 0 or self.in_channels % g or self.out_channels % g:
            raise InvalidParameterError(
                f"groups={g!r} must divide in_channels={self.in_channels} "
                f"and out_channels={self.out_channels}"
            )

    @property
    def receptive_field(self) -> int:
        """``rf``, the product of the kernel sizes (1 for a dense layer)."""
        return math.prod(self.kernel)

    @property
    def depthwise(self) -> bool:
        """One group per input channel (``groups == in_channels > 1``)."""
        return self.groups > 1 and self.groups == self.in_channels

    def true_fans(self) -> Fans:
        """Connectivity fans: inputs per output unit, outputs per input unit (stride 1).

        Returns
        -------
        Fans
            ``(in_channels / groups * rf, out_channels / groups * rf)``.
        """
        rf = self.receptive_field
        g = self.groups
        return Fans(self.in_channels // g * rf, self.out_channels // g * rf)

    def describe(self) -> str:
        """The spec in words, e.g. ``8->16, k=3x3, g=2``.

        Returns
        -------
        str
            Channels, kernel size and groups (``depthwise`` when it is).
        """
        k = "x".join(map(str, self.kernel)) or "dense"
        grp = "" if self.groups == 1 else f", g={self.groups}"
        grp = ", depthwise" if self.depthwise else grp
        return f"{self.in_channels}->{self.out_channels}, k={k}{grp}"


@dataclass(frozen=True)
class Layout:
    """A framework's storage of a weight and its fan computation, as data.

    The framework's fans are ``shape[fan_in_role] * rf`` and ``shape[fan_out_role] * rf``
    (:meth:`fans`); the registered layouts are :data:`LAYOUTS`, looked up by
    :func:`get_layout`.

    Parameters
    ----------
    name : str
        The layout's name (``torch.conv``, ``keras.conv``, ...).
    axes : tuple of Role
        The roles in storage order (``SPATIAL`` stands for all kernel axes).
    grouped : Role or None
        The channel axis stored divided by ``groups`` (``None``: no groups).
    fan_in_role, fan_out_role : Role
        The axes the framework reads fan_in and fan_out from.
    source : str
        Where the framework computes its fans (file and function).
    description : str, default ""
        The storage in words.

    Examples
    --------
    >>> from weight_init.layouts import KernelSpec, get_layout
    >>> conv = get_layout("torch.conv")
    >>> spec = KernelSpec(8, 16, (3, 3), groups=2)
    >>> conv.shape(spec), conv.spec_fans(spec).as_tuple()  # torch's fan_out ignores groups
    ((16, 4, 3, 3), (36, 144))
    """

    name: str
    axes: tuple[Role, ...]
    grouped: Role | None
    fan_in_role: Role
    fan_out_role: Role
    source: str
    description: str = ""

    @property
    def spatial(self) -> bool:
        """The layout has kernel (spatial) axes."""
        return Role.SPATIAL in self.axes

    @property
    def fans_transposed(self) -> bool:
        """True when the framework reads fan_in from the output-channel axis."""
        return self.fan_in_role is Role.OUT

    def _stored(self, spec: KernelSpec, role: Role) -> int:
        n = spec.in_channels if role is Role.IN else spec.out_channels
        return n // spec.groups if role is self.grouped else n

    def shape(self, spec: KernelSpec) -> tuple[int, ...]:
        """The stored array shape of ``spec``.

        Parameters
        ----------
        spec : KernelSpec
            The layer.

        Returns
        -------
        tuple of int
            The shape the framework stores the weight in.

        Raises
        ------
        InvalidParameterError
            ``spec`` has groups the layout has not, or kernel axes the layout has not (or lacks
            them).
        """
        if spec.groups != 1 and self.grouped is None:
            raise InvalidParameterError(f"layout {self.name} has no groups, got {spec.groups}")
        if bool(spec.kernel) != self.spatial:
            raise InvalidParameterError(
                f"layout {self.name} {'needs' if self.spatial else 'takes no'} kernel axes"
            )
        out: list[int] = []
        for role in self.axes:
            out.extend(spec.kernel if role is Role.SPATIAL else (self._stored(spec, role),))
        return tuple(out)

    def _positions(self, ndim: int) -> dict[Role, int]:
        n_spatial = ndim - (len(self.axes) - (1 if self.spatial else 0))
        if n_spatial < 0 or (n_spatial > 0 and not self.spatial):
            raise InvalidParameterError(f"a {ndim}-d array does not fit layout {self.name}")
        pos: dict[Role, int] = {}
        i = 0
        for role in self.axes:
            if role is Role.SPATIAL:
                i += n_spatial
            else:
                pos[role] = i
                i += 1
        return pos

    def _rf(self, shape: tuple[int, ...]) -> int:
        pos = self._positions(len(shape))
        return math.prod(s for i, s in enumerate(shape) if i not in pos.values())

    def fans(self, shape: tuple[int, ...]) -> Fans:
        """The framework's fans of a stored array of this ``shape`` (its quirks included).

        Parameters
        ----------
        shape : tuple of int
            The stored shape.

        Returns
        -------
        Fans
            ``shape[fan_in_role] * rf`` and ``shape[fan_out_role] * rf``.

        Raises
        ------
        InvalidParameterError
            A shape that does not fit the layout.
        """
        pos = self._positions(len(shape))
        rf = self._rf(shape)
        return Fans(shape[pos[self.fan_in_role]] * rf, shape[pos[self.fan_out_role]] * rf)

    def spec_fans(self, spec: KernelSpec) -> Fans:
        """The framework's fans of ``spec``'s stored shape, ``fans(shape(spec))``.

        Parameters
        ----------
        spec : KernelSpec
            The layer.

        Returns
        -------
        Fans
            The framework's fans.
        """
        return self.fans(self.shape(spec))

    def matrix(self, w: Any) -> NDArray[Any]:
        """``w`` as a 2-D ``(stored in * rf, stored out)`` matrix: all entries, reordered.

        Parameters
        ----------
        w : array_like
            A weight stored in this layout.

        Returns
        -------
        ndarray
            The 2-D view (a transpose and a reshape).
        """
        a = np.asarray(w)
        pos = self._positions(a.ndim)
        spatial = [i for i in range(a.ndim) if i not in pos.values()]
        order = [pos[Role.IN], *spatial, pos[Role.OUT]]
        return np.transpose(a, order).reshape(-1, a.shape[pos[Role.OUT]])

    def spec_of(self, shape: tuple[int, ...], groups: int = 1) -> KernelSpec:
        """The spec whose stored shape is ``shape`` (inverse of :meth:`shape`).

        Parameters
        ----------
        shape : tuple of int
            The stored shape.
        groups : int, default 1
            The layer's groups (ignored by a layout without groups).

        Returns
        -------
        KernelSpec
            The layer.
        """
        pos = self._positions(len(shape))
        g = groups if self.grouped is not None else 1
        n = {r: shape[i] * (g if r is self.grouped else 1) for r, i in pos.items()}
        kernel = tuple(s for i, s in enumerate(shape) if i not in pos.values())
        return KernelSpec(n[Role.IN], n[Role.OUT], kernel, g)

    def spec_for_fans(self, fan_in: int, fan_out: int, n_spatial: int = 1) -> KernelSpec:
        """A spec with kernel 1 (``n_spatial`` axes), groups 1, whose framework fans are given.

        Parameters
        ----------
        fan_in, fan_out : int
            The framework fans wanted.
        n_spatial : int, default 1
            The number of kernel axes (ignored by a dense layout).

        Returns
        -------
        KernelSpec
            A spec with those fans.
        """
        inn, out = (fan_in, fan_out) if self.fan_in_role is Role.IN else (fan_out, fan_in)
        return KernelSpec(inn, out, (1,) * (n_spatial if self.spatial else 0))


_I, _O, _K = Role.IN, Role.OUT, Role.SPATIAL
_TORCH = "torch/nn/init.py: _calculate_fan_in_and_fan_out"
_KERAS = "keras/src/initializers/random_initializers.py: compute_fans"
_JAX = "jax/_src/nn/initializers.py: _compute_fans (in_axis=-2, out_axis=-1)"
_HAIKU = "haiku/_src/conv.py: ConvNDTranspose.__call__ (fan_in_shape = kernel_shape + (I,))"

_LAYOUTS: dict[str, Layout] = {
    lay.name: lay
    for lay in (
        Layout("in_out", (_I, _O), None, _I, _O, "reference", "(in, out), used as H @ W"),
        Layout("out_in", (_O, _I), None, _I, _O, _TORCH, "(out, in): torch.nn.Linear.weight"),
        Layout("torch.conv", (_O, _I, _K), _I, _I, _O, _TORCH, "(O, I/g, *k): nn.ConvNd"),
        Layout(
            "torch.conv_transpose",
            (_I, _O, _K),
            _O,
            _O,
            _I,
            _TORCH,
            "(I, O/g, *k): nn.ConvTransposeNd; torch reads fan_in from dim 1 (O/g)",
        ),
        Layout("keras.conv", (_K, _I, _O), _I, _I, _O, _KERAS, "(*k, I/g, O): keras ConvND"),
        Layout(
            "keras.conv_transpose",
            (_K, _O, _I),
            None,
            _O,
            _I,
            _KERAS,
            "(*k, O, I): keras ConvNDTranspose; compute_fans reads fan_in from axis -2 (O)",
        ),
        Layout("flax.conv", (_K, _I, _O), _I, _I, _O, _JAX, "(*k, I/g, O): flax.linen.Conv"),
        Layout(
            "flax.conv_transpose", (_K, _I, _O), None, _I, _O, _JAX, "(*k, I, O): ConvTranspose"
        ),
        Layout(
            "haiku.conv_transpose",
            (_K, _O, _I),
            None,
            _I,
            _O,
            _HAIKU,
            "(*k, O, I): hk.ConvNDTranspose; its default reads fan_in = I * rf (axis -1)",
        ),
    )
}

#: Registered layouts, by name.
LAYOUTS: Mapping[str, Layout] = MappingProxyType(_LAYOUTS)


def get_layout(name: str | Layout) -> Layout:
    """Look a layout up by name (a :class:`Layout` is returned unchanged).

    Parameters
    ----------
    name : str or Layout
        A registered layout's name (:data:`LAYOUTS`), or a layout.

    Returns
    -------
    Layout
        The layout.

    Raises
    ------
    InvalidParameterError
        No layout is registered under ``name``.

    Examples
    --------
    >>> from weight_init.layouts import get_layout
    >>> get_layout("torch.conv_transpose").fans((8, 16, 3)).as_tuple()  # fan_in from dim 1
    (48, 24)
    """
    if isinstance(name, Layout):
        return name
    try:
        return _LAYOUTS[name]
    except (KeyError, TypeError):
        raise InvalidParameterError(
            f"unknown layout {name!r}; choose one of {', '.join(_LAYOUTS)}"
        ) from None
