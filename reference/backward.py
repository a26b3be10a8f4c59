"""Backward pass through the notes' bias-free network.

Forward: ``Z_l = H_{l-1} W_l``, ``H_l = phi(Z_l)``, ``H_0 = X`` (m samples).
Loss, one of:

* ``"mse"`` (default): ``L = ||H_L - Y||_F^2 / (2 m)`` with target ``Y``
  (zeros unless given), so ``dL/dH_L = (H_L - Y) / m``;
* a linear read-out: ``L = sum(G * H_L)`` for a given ``output_grad`` ``G``
  (``dL/dH_L = G``), which probes gradient propagation without depending on
  the output's scale.

Backward recursion: ``delta_l = dL/dZ_l = (dL/dH_l) * phi'(Z_l)``,
``dL/dW_l = H_{l-1}^T delta_l`` (shape ``(fan_in, fan_out)``) and
``dL/dH_{l-1} = delta_l W_l^T``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from weight_init.activations import Activation, ArrayFn, get_activation
from weight_init.errors import InvalidInputError
from weight_init.experiment import Init, check_weights, draw_weights, resolve_input, resolve_rng
from weight_init.schemes import RNG


@dataclass(frozen=True)
class Gradients:
    """Everything one forward/backward pass computed, layer ``l`` at index ``l - 1``.

    Attributes
    ----------
    loss : float
        The loss ``L`` (:mod:`weight_init.backward`: mse, or the linear read-out).
    preacts : list of ndarray
        ``Z_l = H_{l-1} W_l``.
    acts : list of ndarray
        ``H_l = phi(Z_l)``.
    weight_grads : list of ndarray
        ``dL/dW_l = H_{l-1}^T delta_l``, shape ``(fan_in, fan_out)``.
    preact_grads : list of ndarray
        ``delta_l = dL/dZ_l = (dL/dH_l) * phi'(Z_l)``.

    Examples
    --------
    >>> import numpy as np
    >>> from weight_init.backward import forward_backward
    >>> x = np.ones((2, 3))
    >>> grads = forward_backward(x, [np.eye(3)], "linear")  # L = ||x||^2 / (2 m)
    >>> grads.loss, grads.weight_grads[0].shape
    (1.5, (3, 3))
    """

    loss: float
    preacts: list[NDArray[Any]]
    acts: list[NDArray[Any]]
    weight_grads: list[NDArray[Any]]
    preact_grads: list[NDArray[Any]]

    @property
    def weight_grad_norms(self) -> list[float]:
        """Frobenius norm of ``dL/dW_l`` per layer."""
        return [float(np.linalg.norm(g)) for g in self.weight_grads]

    @property
    def preact_grad_stds(self) -> list[float]:
        """Population std of ``dL/dZ_l`` per layer."""
        return [float(np.std(d)) for d in self.preact_grads]


def forward_backward(
    x: object,
    weights: Sequence[object],
    activation: str | Activation | ArrayFn = "tanh",
    *,
    target: object = None,
    output_grad: object = None,
) -> Gradients:
    """Exact gradients of the loss w.r.t. every ``W_l`` and ``Z_l``.

    Forward: ``Z_l = H_{l-1} W_l``, ``H_l = phi(Z_l)``, ``H_0 = X`` (m samples). Loss: ``mse``,
    ``L = ||H_L - Y||_F^2 / (2 m)`` (``dL/dH_L = (H_L - Y) / m``), or the linear read-out
    ``L = sum(G * H_L)`` (``dL/dH_L = G``), which probes gradient propagation without
    depending on the output's scale. Backward: ``delta_l = (dL/dH_l) * phi'(Z_l)``,
    ``dL/dW_l = H_{l-1}^T delta_l`` and ``dL/dH_{l-1} = delta_l W_l^T``.

    Parameters
    ----------
    x : array_like
        The input ``X``, ``(m, input_dim)``, finite.
    weights : sequence of array_like
        ``W_1 .. W_L``, each ``(fan_in, fan_out)``, chained.
    activation : str or Activation or callable, default "tanh"
        ``phi``.
    target : array_like, optional
        ``Y`` of the mse loss (default zeros).
    output_grad : array_like, optional
        ``G`` of the linear loss (give ``target`` or ``output_grad``, not both).

    Returns
    -------
    Gradients
        The loss, the pre-activations, activations and both gradients per layer.

    Raises
    ------
    InvalidInputError
        A malformed input, weight, target or output gradient (naming the layer).

    Examples
    --------
    >>> import numpy as np
    >>> from weight_init.backward import forward_backward
    >>> x = np.ones((2, 3))
    >>> grads = forward_backward(x, [np.eye(3)], "linear", output_grad=np.ones((2, 3)))
    >>> grads.loss, grads.weight_grads[0]
    (6.0, array([[2., 2., 2.],
           [2., 2., 2.],
           [2., 2., 2.]]))
    """
    phi = get_activation(activation)
    h: NDArray[Any] = resolve_input(x, None, None, None)
    if not weights:
        raise InvalidInputError("weights is empty: give at least one layer")
    ws: list[NDArray[Any]] = []
    fan_in = h.shape[1]
    for i, w in enumerate(weights):
        arr = np.asarray(w) if hasattr(w, "__array__") else w
        shape: tuple[int, ...] = tuple(getattr(arr, "shape", ()))
        fan_out = shape[1] if len(shape) == 2 else -1
        if fan_out <= 0:
            raise InvalidInputError(
                f"layer {i + 1}: weights must be a 2-D array (fan_in, fan_out), got shape {shape}"
            )
        ws.append(check_weights(arr, i + 1, fan_in, fan_out).astype(np.float64, copy=False))
        fan_in = fan_out
    if target is not None and output_grad is not None:
        raise InvalidInputError("give either target (mse loss) or output_grad (linear loss)")

    h0 = h
    preacts: list[NDArray[Any]] = []
    acts: list[NDArray[Any]] = []
    for w in ws:
        z = h @ w
        h = phi.phi(z)
        preacts.append(z)
        acts.append(h)

    m = h.shape[0]
    if output_grad is not None:
        g = _matching(output_grad, h.shape, "output_grad")
        loss = float(np.sum(g * h))
        dh = g
    else:
        y = np.zeros_like(h) if target is None else _matching(target, h.shape, "target")
        diff = h - y
        loss = float(np.sum(diff * diff) / (2.0 * m))
        dh = diff / m

    weight_grads: list[NDArray[Any]] = [np.empty(0)] * len(ws)
    preact_grads: list[NDArray[Any]] = [np.empty(0)] * len(ws)
    for l in range(len(ws) - 1, -1, -1):
        delta = dh * phi.dphi(preacts[l])
        prev = acts[l - 1] if l > 0 else h0
        weight_grads[l] = prev.T @ delta
        preact_grads[l] = delta
        dh = delta @ ws[l].T
    return Gradients(loss, preacts, acts, weight_grads, preact_grads)


def _matching(value: object, shape: tuple[int, ...], what: str) -> NDArray[np.float64]:
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != shape:
        raise InvalidInputError(f"{what} has shape {arr.shape}, expected the output's {shape}")
    if not np.isfinite(arr).all():
        raise InvalidInputError(f"{what} contains NaN or infinite values")
    return arr


def backward_prop(
    hidden_layer_sizes: Sequence[int],
    init: Init,
    *,
    activation: str | Activation | ArrayFn = "tanh",
    n_samples: int | None = None,
    input_dim: int | None = None,
    x: object = None,
    rng: RNG = None,
    seed: int | None = None,
    target: object = None,
    output_grad: object = None,
) -> Gradients:
    """:func:`~weight_init.experiment.forward_prop`'s experiment followed by the backward pass.

    Draws ``X`` then the weights from the same source as ``forward_prop`` does, so with equal
    ``seed`` both see identical networks.

    Parameters
    ----------
    hidden_layer_sizes : sequence of int
        The width of each layer.
    init : callable
        ``init(fan_in, fan_out)``, as for ``forward_prop``.
    activation : str or Activation or callable, default "tanh"
        ``phi``.
    n_samples, input_dim : int, optional
        The size of the standard-normal input (default 1000 x 500).
    x : array_like, optional
        An explicit input instead of the drawn one.
    rng : numpy.random.Generator, optional
        The generator of the input and the weights.
    seed : int, optional
        Seed of a fresh ``numpy.random.default_rng(seed)`` used as ``rng``.
    target, output_grad : array_like, optional
        The loss, as for :func:`forward_backward`.

    Returns
    -------
    Gradients
        The forward and backward pass of the drawn network.

    Examples
    --------
    >>> from weight_init import forward_prop, get_scheme
    >>> from weight_init.backward import backward_prop
    >>> xavier = get_scheme("xavier")
    >>> grads = backward_prop([50, 50], xavier, n_samples=100, input_dim=50, seed=0)
    >>> run = forward_prop([50, 50], xavier, n_samples=100, input_dim=50, seed=0)
    >>> bool((grads.acts[-1] == run.acts[1]).all())
    True
    """
    gen = resolve_rng(rng, seed)
    h0 = resolve_input(x, n_samples, input_dim, gen)
    weights = draw_weights(hidden_layer_sizes, init, h0.shape[1], rng=gen)
    return forward_backward(h0, weights, activation, target=target, output_grad=output_grad)


def gradient_descent(
    x: object,
    weights: Sequence[NDArray[np.float64]],
    activation: str | Activation | ArrayFn = "tanh",
    *,
    steps: int = 1,
    learning_rate: float = 0.1,
    target: object = None,
) -> list[NDArray[np.float64]]:
    """``steps`` full-batch gradient-descent updates ``W_l <- W_l - lr * dL/dW_l`` (mse loss).

    Parameters
    ----------
    x : array_like
        The input.
    weights : sequence of ndarray
        The starting weights (not modified).
    activation : str or Activation or callable, default "tanh"
        ``phi``.
    steps : int, default 1
        The number of updates.
    learning_rate : float, default 0.1
        ``lr``.
    target : array_like, optional
        ``Y`` of the mse loss (default zeros).

    Returns
    -------
    list of ndarray
        The updated weights.

    Examples
    --------
    >>> import numpy as np
    >>> from weight_init.backward import forward_backward, gradient_descent
    >>> x = np.ones((4, 3))
    >>> w = [np.full((3, 2), 0.5)]
    >>> trained = gradient_descent(x, w, "linear", steps=50)
    >>> forward_backward(x, trained, "linear").loss < forward_backward(x, w, "linear").loss
    True
    """
    ws = [np.array(w, dtype=np.float64) for w in weights]
    for _ in range(steps):
        grads = forward_backward(x, ws, activation, target=target)
        ws = [w - learning_rate * g for w, g in zip(ws, grads.weight_grads, strict=True)]
    return ws
