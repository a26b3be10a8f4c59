"""The backward pass agrees with finite differences and obeys the notes' gradient claims."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from weight_init.activations import activation_names
from weight_init.backward import backward_prop, forward_backward, gradient_descent
from weight_init.schemes import get_scheme

SMOOTH = [a for a in activation_names() if a not in ("relu", "leaky_relu")]


def _loss(
    x: np.ndarray, ws: list[np.ndarray], act: str, target: np.ndarray | None, g: np.ndarray | None
) -> float:
    return forward_backward(x, ws, act, target=target, output_grad=g).loss


@given(
    widths=st.lists(st.integers(1, 5), min_size=1, max_size=4),
    n=st.integers(1, 4),
    d=st.integers(1, 5),
    act=st.sampled_from(activation_names()),
    linear_loss=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_weight_gradients_match_central_differences(
    widths: list[int], n: int, d: int, act: str, linear_loss: bool, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    fans = [d, *widths]
    ws = [
        rng.standard_normal((fans[i], fans[i + 1])) / np.sqrt(fans[i]) for i in range(len(widths))
    ]
    g = rng.standard_normal((n, widths[-1])) if linear_loss else None
    target = None if linear_loss else rng.standard_normal((n, widths[-1]))
    grads = forward_backward(x, ws, act, target=target, output_grad=g)
    h = 1e-6
    for l, w in enumerate(ws):
        fd = np.zeros_like(w)
        for idx in np.ndindex(*w.shape):
            plus = [v.copy() for v in ws]
            minus = [v.copy() for v in ws]
            plus[l][idx] += h
            minus[l][idx] -= h
            fd[idx] = (_loss(x, plus, act, target, g) - _loss(x, minus, act, target, g)) / (2 * h)
        np.testing.assert_allclose(
            grads.weight_grads[l],
            fd,
            rtol=1e-4,
            atol=1e-7,
            err_msg=f"dL/dW_{l + 1} vs finite differences; reproduce: widths={widths}, n={n}, "
            f"d={d}, act={act!r}, linear_loss={linear_loss}, seed={seed}",
        )
        prev = x if l == 0 else grads.acts[l - 1]
        np.testing.assert_allclose(grads.weight_grads[l], prev.T @ grads.preact_grads[l])


def test_zeros_give_identical_zero_updates() -> None:
    """The notes' first claim: under W = 0 every unit of a layer gets the same update."""
    grads = backward_prop(
        [8, 8, 8], get_scheme("zeros"), seed=0, n_samples=16, input_dim=5, target=np.ones((16, 8))
    )
    for l, gw in enumerate(grads.weight_grads):
        assert np.all(gw == gw[:, :1]), f"layer {l + 1}: columns of dL/dW differ under zeros"


def test_gradient_descent_keeps_constant_init_symmetric() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((10, 4))
    ws = [np.full((4, 6), 0.3), np.full((6, 6), 0.3), np.full((6, 1), 0.3)]
    out = gradient_descent(
        x, ws, "tanh", steps=5, learning_rate=0.5, target=rng.standard_normal((10, 1))
    )
    for l, w in enumerate(out[:-1]):
        np.testing.assert_array_equal(
            w, np.repeat(w[:, :1], w.shape[1], axis=1), err_msg=f"layer {l + 1} units diverged"
        )
    assert not np.allclose(out[0], ws[0]), "gradient descent did not move the weights"


def test_backward_prop_sees_the_same_network_as_forward_prop() -> None:
    from weight_init.experiment import forward_prop

    f = forward_prop([7, 5], get_scheme("glorot_normal"), seed=3, n_samples=9, input_dim=4)
    b = backward_prop([7, 5], get_scheme("glorot_normal"), seed=3, n_samples=9, input_dim=4)
    for i in range(2):
        np.testing.assert_array_equal(f.acts[i], b.acts[i])
