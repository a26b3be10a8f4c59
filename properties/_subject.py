"""The implementation under test: any ``forward_prop`` following the notes' contract.

A subject is called ``forward_prop(hidden_layer_sizes, init) -> (acts, means, stds)``
with ``acts`` a dict ``layer index (0-based) -> (n_samples, width) activations``.
If it accepts the reference's keyword options it is called with them
(``x=`` an explicit input drawn from the case's seed, ``seed=``, ``activation=``);
otherwise numpy's legacy global state is seeded with ``np.random.seed(seed)``
and the notes' defaults apply: a 1000 x 500 standard-normal input (unknown to
the properties) and tanh.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from weight_init.errors import ForwardPropContractError, UnsupportedCase
from weight_init.protocols import forward_keywords_of
from weight_init.schemes import Scheme

ForwardPropFn = Callable[..., Any]

#: The notes' input size, used by subjects that only honour the notes' contract.
NOTES_SAMPLES = 1000
NOTES_INPUT_DIM = 500
NOTES_ACTIVATION = "tanh"


#: Second word of the input's seed sequence, ``default_rng([seed, INPUT_STREAM])``.
INPUT_STREAM = 0x5EED


@dataclass(frozen=True)
class Run:
    """One forward pass of a subject: the input (None if unknown) and every layer's output."""

    x: NDArray[np.float64] | None
    acts: list[NDArray[np.float64]]
    means: list[float]
    stds: list[float]
    activation: str
    input_dim: int


def unpack_result(
    result: object, sizes: Sequence[int], n_samples: int
) -> tuple[list[NDArray[np.float64]], list[float], list[float]]:
    """The contract's ``(acts, means, stds)`` as arrays and floats, or a
    :class:`~weight_init.errors.ForwardPropContractError` saying in one line what is wrong
    (``returned 9 layers for 10 widths``, a wrong key or shape, a missing mean or std)."""
    if not isinstance(result, tuple | list) or len(result) != 3:
        raise ForwardPropContractError(f"returned {type(result).__name__}, not (acts, means, stds)")
    acts, means, stds = result
    depth = len(sizes)
    if not isinstance(acts, dict):
        raise ForwardPropContractError(
            f"acts is {type(acts).__name__}, not a dict layer index -> activations"
        )
    if len(acts) != depth:
        raise ForwardPropContractError(f"returned {len(acts)} layers for {depth} widths")
    if sorted(acts) != list(range(depth)):
        raise ForwardPropContractError(f"acts has keys {sorted(acts)}, expected 0..{depth - 1}")
    arrs = [np.asarray(acts[i], dtype=np.float64) for i in range(depth)]
    for i, (a, w) in enumerate(zip(arrs, sizes, strict=True)):
        if a.shape != (n_samples, w):
            raise ForwardPropContractError(
                f"acts[{i}] has shape {a.shape}, expected {(n_samples, w)}"
            )
    try:
        ms, ss = [float(m) for m in means], [float(s) for s in stds]
    except (TypeError, ValueError) as exc:
        raise ForwardPropContractError(f"means/stds are not sequences of numbers: {exc}") from None
    if len(ms) != depth or len(ss) != depth:
        raise ForwardPropContractError(f"{len(ms)} means and {len(ss)} stds for {depth} layers")
    return arrs, ms, ss


@dataclass(frozen=True)
class Subject:
    """A forward_prop and what it accepts; ``Subject.of(None)`` is the reference."""

    forward_prop: ForwardPropFn
    name: str
    keywords: frozenset[str]

    @classmethod
    def of(cls, forward_prop: ForwardPropFn | Subject | None = None) -> Subject:
        if isinstance(forward_prop, Subject):
            return forward_prop
        if forward_prop is None:
            from weight_init.experiment import forward_prop as reference

            return cls(
                reference, "weight_init.experiment.forward_prop", forward_keywords_of(reference)
            )
        module = getattr(forward_prop, "__module__", "?")
        name = f"{module}.{getattr(forward_prop, '__qualname__', repr(forward_prop))}"
        return cls(forward_prop, name, forward_keywords_of(forward_prop))

    @property
    def is_reference(self) -> bool:
        """The reference itself (its results are then the reference's, not a subject's)."""
        from weight_init.experiment import forward_prop as reference

        return self.forward_prop is reference

    @property
    def flexible(self) -> bool:
        """Accepts an explicit input, a seed and an activation (the reference's options)."""
        return {"x", "seed", "activation"} <= self.keywords

    def supports(self, activation: str) -> bool:
        return self.flexible or activation == NOTES_ACTIVATION

    def run(
        self,
        widths: Sequence[int],
        init: Scheme | Callable[..., Any],
        *,
        seed: int,
        activation: str = NOTES_ACTIVATION,
        n_samples: int = NOTES_SAMPLES,
        input_dim: int = NOTES_INPUT_DIM,
    ) -> Run:
        """Run the subject on ``widths``; weights from ``init`` (a Scheme draws from the seed).

        Raises :class:`UnsupportedCase` for a case the subject's contract cannot run, and
        :class:`~weight_init.errors.ForwardPropContractError` (:func:`unpack_result`) for a
        result that breaks the contract; whatever the subject itself raises propagates.
        """
        sizes = [int(w) for w in widths]
        if self.flexible:
            # The input comes from its own stream: drawn from default_rng(seed), the
            # stream the subject draws its weights from, x and the weights would share
            # bits (measured: a 20% bias in a layer's second moment).
            x = np.random.default_rng([seed, INPUT_STREAM]).standard_normal((n_samples, input_dim))
            kwargs: dict[str, Any] = {"x": x, "seed": seed, "activation": activation}
            if "keep_activations" in self.keywords:
                kwargs["keep_activations"] = True
            out = self.forward_prop(sizes, init, **kwargs)
            xin: NDArray[np.float64] | None = x
            dim = input_dim
        else:
            if activation != NOTES_ACTIVATION:
                raise UnsupportedCase(
                    f"{self.name} takes no activation option; only {NOTES_ACTIVATION} can be tested"
                )
            legacy_init = _legacy(init)
            np.random.seed(seed % 2**32)  # noqa: NPY002 (the notes' contract: legacy state)
            out = self.forward_prop(sizes, legacy_init)
            xin = None
            dim = NOTES_INPUT_DIM
            n_samples = NOTES_SAMPLES
        acts, means, stds = unpack_result(out, sizes, n_samples)
        return Run(xin, acts, means, stds, activation, dim)


def _legacy(init: Scheme | Callable[..., Any]) -> Callable[[int, int], Any]:
    """``init`` as a notes-style ``(fan_in, fan_out)`` callable drawing from the legacy state."""
    if isinstance(init, Scheme):
        scheme = init

        def draw(fan_in: int, fan_out: int) -> NDArray[Any]:
            return scheme.sample(fan_in, fan_out, rng=None)

        return draw
    return init
