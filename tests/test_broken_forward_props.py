"""Deliberately broken forward_props: each must fail at least one property of the suite.

Each is written twice: with the reference's keyword options (so every property can
run it) and in the notes' bare contract ``forward_prop(hidden_layer_sizes, init)``.

The suite runs at ``ALPHA`` = 1e-7 per verdict (``PASS_ALPHA``; its default is 1e-3): the
controls (the reference and a correct forward_prop written the same way) then fail by chance
on a fresh seed with probability at most 9 x 1e-7 each, and every verdict is still conclusive (the
properties' power is planned at that level) while every broken one still fails, its smallest
p-value many orders below its Holm threshold (docs/error-rates.md, "A default test run").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from _levels import PASS_ALPHA
from weight_init.activations import get_activation
from weight_init.properties.claims._suite import run_suite

Array = np.ndarray

#: Family-wise false-fail rate of each verdict of the suite here.
ALPHA = PASS_ALPHA


def _make(
    layer: Callable[[Array, Array, Array, Any], tuple[Array, Array]],
    *,
    swap_fans: bool = False,
    report_preacts: bool = False,
    unchained: bool = False,
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """A keyword-accepting and a notes-contract forward_prop from one layer rule."""

    def core(sizes: list[int], init: Callable[..., Any], x: Array, rng: Any, act: str) -> Any:
        phi = get_activation(act).phi
        acts: dict[int, Array] = {}
        pre_stats: list[tuple[float, float]] = []
        h = x
        for i, n in enumerate(sizes):
            if unchained:
                h = x  # the bug: every layer reads the network's input
            fan_in = h.shape[1]
            kw = {"rng": rng} if rng is not None else {}
            w = init(n, fan_in, **kw).T if swap_fans else init(fan_in, n, **kw)
            z, h = layer(x, h, np.asarray(w), phi)
            acts[i] = h
            pre_stats.append((float(z.mean()), float(z.std())))
        if report_preacts:
            return acts, [m for m, _ in pre_stats], [s for _, s in pre_stats]
        return (
            acts,
            [float(a.mean()) for a in acts.values()],
            [float(a.std()) for a in acts.values()],
        )

    def flexible(
        hidden_layer_sizes: list[int],
        init: Callable[..., Any],
        *,
        x: Array | None = None,
        seed: int | None = None,
        activation: str = "tanh",
        keep_activations: bool = True,
    ) -> Any:
        rng = np.random.default_rng(seed)
        xin = rng.standard_normal((1000, 500)) if x is None else x
        return core(list(hidden_layer_sizes), init, xin, rng, activation)

    def notes_contract(hidden_layer_sizes: list[int], init: Callable[..., Any]) -> Any:
        x = np.random.randn(1000, 500)  # noqa: NPY002 (the notes' contract)
        return core(list(hidden_layer_sizes), init, x, None, "tanh")

    return flexible, notes_contract


def _chained(x: Array, h: Array, w: Array, phi: Any) -> tuple[Array, Array]:
    z = h @ w
    return z, phi(z)


def _linear(x: Array, h: Array, w: Array, phi: Any) -> tuple[Array, Array]:
    z = h @ w
    return z, z


def _with_bias(x: Array, h: Array, w: Array, phi: Any) -> tuple[Array, Array]:
    z = h @ w + 0.1
    return z, phi(z)


BROKEN = {
    "no nonlinearity": _make(_linear),
    "layers not chained": _make(_chained, unchained=True),
    "fans swapped": _make(_chained, swap_fans=True),
    "bias added": _make(_with_bias),
    "pre-activation stats reported": _make(_chained, report_preacts=True),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
@pytest.mark.parametrize("contract", ["flexible", "notes"])
def test_broken_forward_prop_fails_a_property(name: str, contract: str) -> None:
    flexible, notes_contract = BROKEN[name]
    fp = flexible if contract == "flexible" else notes_contract
    verdicts = run_suite(fp, seed=0, alpha=ALPHA, stop_on_failure=True)
    failed = [v.metadata["property"] for v in verdicts if v.outcome == "fail"]
    assert failed, (
        f"broken forward_prop {name!r} ({contract} contract) passed every property: "
        + "; ".join(f"{v.metadata['property']}={v.outcome}" for v in verdicts)
        + f"\nreproduce: run_suite(BROKEN[{name!r}][{0 if contract == 'flexible' else 1}], "
        f"seed=0, alpha={ALPHA})"
    )


def test_reference_passes_the_same_suite() -> None:
    """The control: the reference fails nothing on the same cases."""
    verdicts = run_suite(None, seed=0, alpha=ALPHA)
    assert all(v.outcome == "pass" for v in verdicts), "\n\n".join(
        v.format_table() for v in verdicts if v.outcome != "pass"
    )


@pytest.mark.parametrize("contract", ["flexible", "notes"])
def test_a_correct_forward_prop_written_the_same_way_passes(contract: str) -> None:
    """The control for the broken ones: the same scaffolding with the right layer rule passes
    every property it can run (inconclusive is not a pass), in either contract (the
    notes-contract path seeds numpy's legacy state)."""
    flexible, notes_contract = _make(_chained)
    fp = flexible if contract == "flexible" else notes_contract
    verdicts = run_suite(fp, seed=0, alpha=ALPHA)
    assert verdicts and all(v.outcome == "pass" for v in verdicts), "\n\n".join(
        v.format_table() for v in verdicts if v.outcome != "pass"
    )
