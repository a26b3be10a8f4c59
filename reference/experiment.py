"""The notes' experiment: forward propagation through bias-free layers.

``forward_prop(hidden_layer_sizes, init)`` behaves exactly as the notes'
function: it draws a 1000 x 500 standard-normal input with numpy's legacy
global state, multiplies by ``W_l = init(fan_in, fan_out)`` (shape
``(fan_in, fan_out)``, layer l's fan_in being the previous width) and applies
tanh, returning ``(acts, means, stds)``: a dict ``layer index (0-based) ->
activations`` and per-layer ``mean(H_l)`` and population ``std(H_l)`` (ddof 0)
over all ``n_samples x width`` entries.

Keyword-only options make it a seeded, general tool: any activation, input
size or explicit input, a ``numpy.random.Generator`` (passed to ``init`` when it
takes an ``rng`` keyword), float32 compute (statistics are always accumulated
in float64) and a statistics-only mode whose memory does not grow with depth.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import DTypeLike, NDArray

from weight_init.activations import Activation, ArrayFn, get_activation
from weight_init.errors import (
    InitializerCallError,
    InitializerShapeError,
    InitializerTypeError,
    InvalidInputError,
    InvalidLayerSizesError,
    NonFiniteWeightsError,
    describe_exception,
)
from weight_init.host_arrays import to_host
from weight_init.protocols import accepts_keyword
from weight_init.schemes import RNG

Init = Callable[..., Any]

#: The notes' input: 1000 samples of dimension 500.
DEFAULT_SAMPLES = 1000
DEFAULT_INPUT_DIM = 500


class ForwardProp(NamedTuple):
    """``(acts, means, stds)`` as the notes unpack them; what :func:`forward_prop` returns.

    Attributes
    ----------
    acts : dict of int to ndarray
        The 0-based layer index -> its ``(n_samples, width)`` activations (empty in
        statistics-only mode).
    means : list of float
        ``means[i]``: the mean of layer ``i + 1``'s activations.
    stds : list of float
        ``stds[i]``: the population standard deviation (ddof 0) of layer ``i + 1``'s
        activations.

    Examples
    --------
    >>> from weight_init import forward_prop, get_scheme
    >>> run = forward_prop([8], get_scheme("zeros"), n_samples=4, input_dim=3, seed=0)
    >>> acts, means, stds = run
    >>> run.means == means, stds
    (True, [0.0])
    """

    acts: dict[int, NDArray[Any]]
    means: list[float]
    stds: list[float]


def check_layer_sizes(hidden_layer_sizes: object) -> list[int]:
    """Validate a non-empty sequence of positive integers and return it as a list."""
    if isinstance(hidden_layer_sizes, (str, bytes)) or not isinstance(
        hidden_layer_sizes, (Sequence, np.ndarray)
    ):
        raise InvalidLayerSizesError(
            f"hidden_layer_sizes must be a sequence of positive integers, "
            f"got {type(hidden_layer_sizes).__name__}"
        )
    sizes = list(hidden_layer_sizes)
    if not sizes:
        raise InvalidLayerSizesError("hidden_layer_sizes is empty: give at least one layer width")
    for i, size in enumerate(sizes):
        if isinstance(size, (bool, np.bool_)) or not isinstance(size, numbers.Integral):
            raise InvalidLayerSizesError(
                f"layer {i + 1}: width must be a positive integer, got {size!r}"
            )
        if int(size) <= 0:
            raise InvalidLayerSizesError(
                f"layer {i + 1}: width must be a positive integer, got {size!r}"
            )
    return [int(s) for s in sizes]


def accepts_rng(init: Init) -> bool:
    """Whether ``init`` can be called with an ``rng=`` keyword (:mod:`weight_init.protocols`)."""
    return accepts_keyword(init, "rng")


def all_finite(arr: NDArray[Any]) -> bool:
    """Whether every entry of a real array is finite, in one read and no temporary.

    A NaN or an infinity anywhere makes the sum non-finite, so a finite sum
    proves every entry finite; only a non-finite sum (a bad entry, or finite
    entries whose sum overflows) pays for the element-wise check.
    """
    if arr.dtype.kind in "iub":
        return True
    with np.errstate(over="ignore", invalid="ignore"):  # overflow or inf - inf: look closer
        total = np.add.reduce(arr, axis=None)
    if np.isfinite(total):
        return True
    return bool(np.isfinite(arr).all())


def layer_moments(h: NDArray[Any]) -> tuple[float, float]:
    """Mean and population std (ddof 0) of all entries of ``h``, accumulated in float64.

    ``m = sum(h) / n``, ``d = h - m`` (in float64 whatever ``h``'s dtype),
    ``std = sqrt(sum(d * d) / n)`` with numpy's pairwise sums: the same
    operations in the same order as ``h.mean(dtype=float64)`` and
    ``h.std(dtype=float64)`` (so the same bits), without computing the mean
    twice or allocating the square.
    """
    flat = np.asarray(h).reshape(-1)  # asarray: a matrix subclass would stay 2-D
    n = flat.size
    with np.errstate(invalid="ignore", over="ignore"):  # a NaN or inf layer reports NaN/inf
        mean = float(np.add.reduce(flat, dtype=np.float64)) / n
        d = np.subtract(flat, mean, dtype=np.float64)
        np.multiply(d, d, out=d)
        return mean, math.sqrt(float(np.add.reduce(d)) / n)


def check_weights(w: object, layer: int, fan_in: int, fan_out: int) -> NDArray[Any]:
    """Validate what an initializer returned for ``layer`` (1-based) and return it as an array.

    It must be an array (``numpy.ndarray`` or anything with ``__array__``, such
    as a torch tensor on any device, requiring grad or not, or a JAX array; read by
    :func:`weight_init.host_arrays.to_host`) of real numbers, shaped ``(fan_in, fan_out)``
    and finite everywhere.
    """
    where = f"layer {layer} (fan_in={fan_in}, fan_out={fan_out})"
    if not isinstance(w, np.ndarray) and not hasattr(w, "__array__"):
        raise InitializerTypeError(
            f"{where}: initializer returned {type(w).__name__}, expected an array"
        )
    try:
        arr = to_host(w)
    except Exception as exc:  # a framework array that cannot be read
        raise InitializerTypeError(
            f"{where}: initializer's result cannot be read as an array ({describe_exception(exc)})"
        ) from exc
    if arr.dtype.kind not in "fiu":
        raise InitializerTypeError(
            f"{where}: initializer returned dtype {arr.dtype}, expected real numbers"
        )
    if arr.shape != (fan_in, fan_out):
        hint = ""
        if arr.shape == (fan_out, fan_in):
            hint = " (transposed: the reference lays weights out (fan_in, fan_out))"
        raise InitializerShapeError(
            f"{where}: initializer returned shape {arr.shape}, expected {(fan_in, fan_out)}{hint}"
        )
    if not all_finite(arr):
        bad = arr.size - int(np.count_nonzero(np.isfinite(arr)))
        raise NonFiniteWeightsError(
            f"{where}: initializer returned {bad} non-finite value(s) (NaN or inf) among {arr.size}"
        )
    return arr


def call_init(
    init: Init, layer: int, fan_in: int, fan_out: int, rng: RNG, pass_rng: bool
) -> NDArray[Any]:
    """Call ``init(fan_in, fan_out[, rng=rng])`` for ``layer`` (1-based) and validate the result."""
    try:
        w = init(fan_in, fan_out, rng=rng) if pass_rng else init(fan_in, fan_out)
    except Exception as exc:
        raise InitializerCallError(
            f"layer {layer} (fan_in={fan_in}, fan_out={fan_out}): initializer raised "
            f"{describe_exception(exc)}"
        ) from exc
    return check_weights(w, layer, fan_in, fan_out)


def resolve_rng(rng: RNG, seed: int | None) -> RNG:
    """``rng`` if given, a fresh ``default_rng(seed)`` if ``seed`` is, else None (legacy state)."""
    if rng is not None and seed is not None:
        raise InvalidInputError("give either rng or seed, not both")
    if rng is not None:
        if not isinstance(rng, (np.random.Generator, np.random.RandomState)):
            raise InvalidInputError(
                f"rng must be a numpy.random.Generator, got {type(rng).__name__}"
            )
        return rng
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise InvalidInputError(f"seed must be a non-negative integer, got {seed!r}")
        return np.random.default_rng(int(seed))
    return None


def standard_normal_input(n_samples: int, input_dim: int, rng: RNG) -> NDArray[np.float64]:
    """The notes' ``np.random.randn(n_samples, input_dim)`` (from ``rng`` when given)."""
    if rng is None:
        return np.random.randn(n_samples, input_dim)  # noqa: NPY002
    return rng.standard_normal((n_samples, input_dim))


def _positive_int_option(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) <= 0:
        raise InvalidInputError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def resolve_input(
    x: object, n_samples: int | None, input_dim: int | None, rng: RNG
) -> NDArray[np.float64]:
    """The network input: ``x`` validated, or a standard-normal draw of the requested size."""
    if x is None:
        n = DEFAULT_SAMPLES if n_samples is None else _positive_int_option(n_samples, "n_samples")
        d = DEFAULT_INPUT_DIM if input_dim is None else _positive_int_option(input_dim, "input_dim")
        return standard_normal_input(n, d, rng)
    try:
        arr = np.asarray(x)
    except Exception as exc:
        raise InvalidInputError(f"input x cannot be read as an array: {exc}") from exc
    if arr.dtype.kind not in "fiu":
        raise InvalidInputError(f"input x has dtype {arr.dtype}, expected real numbers")
    if arr.ndim != 2 or 0 in arr.shape:
        raise InvalidInputError(
            f"input x must be a non-empty 2-D array (n_samples, input_dim), got shape {arr.shape}"
        )
    if n_samples is not None and arr.shape[0] != n_samples:
        raise InvalidInputError(f"input x has {arr.shape[0]} rows but n_samples={n_samples}")
    if input_dim is not None and arr.shape[1] != input_dim:
        raise InvalidInputError(f"input x has {arr.shape[1]} columns but input_dim={input_dim}")
    if not all_finite(arr):
        raise InvalidInputError("input x contains NaN or infinite values")
    return arr.astype(np.float64, copy=False)


def draw_weights(
    hidden_layer_sizes: Sequence[int],
    init: Init,
    input_dim: int = DEFAULT_INPUT_DIM,
    *,
    rng: RNG = None,
    dtype: DTypeLike = np.float64,
) -> list[NDArray[Any]]:
    """Draw and validate every layer's ``(fan_in, fan_out)`` weights in order.

    Parameters
    ----------
    hidden_layer_sizes : sequence of int
        The width of each layer.
    init : callable
        ``init(fan_in, fan_out)``; it receives ``rng=`` if it accepts that keyword and
        ``rng`` is given.
    input_dim : int, default 500
        The input's width (layer 1's fan_in).
    rng : numpy.random.Generator, optional
        The generator (None: numpy's legacy global state).
    dtype : dtype, default float64
        The weights' dtype.

    Returns
    -------
    list of ndarray
        ``W_1 .. W_L``.

    Raises
    ------
    InvalidLayerSizesError
        Empty or non-positive widths.
    InitializerError
        A subclass of it when ``init`` raises or returns a bad array, naming the layer.

    Examples
    --------
    >>> import numpy as np
    >>> from weight_init import get_scheme
    >>> from weight_init.experiment import draw_weights
    >>> ws = draw_weights([4, 3], get_scheme("he_normal"), 5, rng=np.random.default_rng(0))
    >>> [w.shape for w in ws]
    [(5, 4), (4, 3)]
    """
    sizes = check_layer_sizes(hidden_layer_sizes)
    pass_rng = rng is not None and accepts_rng(init)
    fans = [input_dim, *sizes]
    return [
        call_init(init, i + 1, fans[i], fans[i + 1], rng, pass_rng).astype(dtype, copy=False)
        for i in range(len(sizes))
    ]


def forward_prop(
    hidden_layer_sizes: Sequence[int],
    init: Init,
    *,
    activation: str | Activation | ArrayFn = "tanh",
    n_samples: int | None = None,
    input_dim: int | None = None,
    x: object = None,
    rng: RNG = None,
    seed: int | None = None,
    dtype: DTypeLike = np.float64,
    keep_activations: bool = True,
    observe: Callable[[int, NDArray[Any]], None] | None = None,
) -> ForwardProp:
    """Run the notes' experiment: ``H_0 = X``, ``H_l = phi(H_{l-1} @ W_l)``, no bias.

    Called as the notes call it, ``forward_prop(hidden_layer_sizes, init)`` draws
    ``X = np.random.randn(1000, 500)`` and each ``W_l = init(fan_in, fan_out)`` from numpy's
    legacy global state, in that order. With ``rng`` (a ``numpy.random.Generator``) or
    ``seed``, both come from that generator and ``init`` receives it as ``rng=`` if it
    accepts that keyword.

    Parameters
    ----------
    hidden_layer_sizes : sequence of int
        The width of each layer, layer 1 first (non-empty, positive integers).
    init : callable
        ``init(fan_in, fan_out)`` returning a ``(fan_in, fan_out)`` real array (a
        :class:`~weight_init.schemes.Scheme` is one); called once per layer, in order.
    activation : str or Activation or callable, default "tanh"
        ``phi``: a registered activation's name, an
        :class:`~weight_init.activations.Activation`, or an array function.
    n_samples, input_dim : int, optional
        The size of the standard-normal input (default 1000 x 500); with ``x``, they must
        match its shape if given.
    x : array_like, optional
        An explicit ``(n_samples, input_dim)`` finite real input instead of the drawn one.
    rng : numpy.random.Generator, optional
        The generator of the input and of ``init`` (if it takes ``rng=``).
    seed : int, optional
        Seed of a fresh ``numpy.random.default_rng(seed)`` used as ``rng`` (give one of
        ``rng`` and ``seed``, not both).
    dtype : {float64, float32}, default float64
        The dtype the computation runs in; means and stds are always accumulated in float64.
    keep_activations : bool, default True
        Keep every layer's activations in ``acts``. With ``False`` only the current layer
        is held, so peak memory is O(n_samples x max width + max fan_in x fan_out),
        independent of depth (weights are drawn lazily, one layer at a time).
    observe : callable, optional
        ``observe(i, H)``, called after each layer ``i`` (0-based) with its activations,
        for statistics of one's own (e.g. the saturated fraction) without keeping every
        layer.

    Returns
    -------
    ForwardProp
        The named tuple ``(acts, means, stds)``: ``acts`` maps the 0-based layer index to
        its ``(n_samples, width)`` activations (empty when ``keep_activations`` is False);
        ``means[i]`` and ``stds[i]`` are the mean and population std (ddof 0) of layer
        ``i + 1``'s activations.

    Raises
    ------
    InvalidLayerSizesError
        ``hidden_layer_sizes`` is empty or holds a non-positive or non-integer width.
    InvalidInputError
        ``x``, ``n_samples``, ``input_dim``, ``rng``, ``seed`` or ``dtype`` is malformed.
    UnknownActivationError
        ``activation`` names no registered activation.
    InitializerError
        A subclass of it when ``init`` raises, returns a non-array, a wrong shape or
        non-finite entries, naming the layer. Every error is raised before any result is
        returned (:mod:`weight_init.errors`).

    See Also
    --------
    weight_init.theory.predict : the mean-field prediction of the same statistics.

    Examples
    --------
    Xavier's ``1/fan_in`` variance (the notes' ``xavier``) under tanh: the std shrinks
    slowly with depth.

    >>> from weight_init import forward_prop, get_scheme
    >>> acts, means, stds = forward_prop(
    ...     [100, 100, 100], get_scheme("xavier"), n_samples=200, input_dim=100, seed=0
    ... )
    >>> sorted(acts), acts[0].shape
    ([0, 1, 2], (200, 100))
    >>> [round(s, 2) for s in stds]
    [0.62, 0.49, 0.41]

    Small weights vanish by a factor ``0.01 * sqrt(fan_in)`` per layer; ``keep_activations``
    False keeps no layer:

    >>> run = forward_prop(
    ...     [100, 100, 100], get_scheme("small_normal"), n_samples=200, input_dim=100,
    ...     seed=0, keep_activations=False,
    ... )
    >>> run.acts, [f"{s:.0e}" for s in run.stds]
    ({}, ['1e-01', '1e-02', '1e-03'])
    """
    sizes = check_layer_sizes(hidden_layer_sizes)
    phi = get_activation(activation)
    if not callable(init):
        raise InitializerTypeError(f"init must be callable, got {type(init).__name__}")
    compute_dtype = np.dtype(dtype)
    if compute_dtype not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise InvalidInputError(f"dtype must be float64 or float32, got {compute_dtype}")
    gen = resolve_rng(rng, seed)
    h = resolve_input(x, n_samples, input_dim, gen).astype(compute_dtype, copy=False)
    pass_rng = gen is not None and accepts_rng(init)

    acts: dict[int, NDArray[Any]] = {}
    means: list[float] = []
    stds: list[float] = []
    fan_in = h.shape[1]
    for i, fan_out in enumerate(sizes):
        w = call_init(init, i + 1, fan_in, fan_out, gen, pass_rng)
        h = phi.phi(h @ w.astype(compute_dtype, copy=False))
        mean, std = layer_moments(h)
        means.append(mean)
        stds.append(std)
        if observe is not None:
            observe(i, h)
        if keep_activations:
            acts[i] = h
        fan_in = fan_out
    return ForwardProp(acts, means, stds)
