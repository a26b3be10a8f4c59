"""The cases ``check-forward`` runs a forward_prop on: widths where width-specific bugs show.

Case 0 is always the notes' own configuration: ``NOTES_DEPTH`` = 10 hidden layers as wide as
the input (500 for the notes' 1000 x 500 input), Xavier. The other cases draw a depth of
2..5 and every layer's width by a kind: the input dimension, 1, equal to its neighbour,
8 times or 1/8 of its neighbour, or any width in 20..300; with two or more drawn cases
each kind appears at least once. Schemes cycle through :data:`CASE_SCHEMES`.
"""

from __future__ import annotations

import numpy as np

NOTES_SAMPLES = 1000
NOTES_INPUT_DIM = 500
#: Schemes the cases cycle through (healthy, ReLU-scaled, uniform, vanishing).
CASE_SCHEMES: tuple[str, ...] = ("xavier", "he_normal", "glorot_uniform", "small_normal")
#: The notes' own configuration: ten hidden layers as wide as the input.
NOTES_DEPTH = 10
#: Kinds of widths a drawn case mixes (each drawn case's layers; every kind appears in the
#: drawn cases whenever there are at least two): a width equal to the input dimension, width
#: 1, a width equal to its neighbour, a width 8 times (or 1/8 of) its neighbour, any width.
WIDTH_KINDS: tuple[str, ...] = ("input_dim", "one", "equal", "unequal", "any")
_KIND_P = (0.2, 0.1, 0.2, 0.2, 0.3)


def _width(kind: str, prev: int, input_dim: int, gen: np.random.Generator) -> int:
    if kind == "input_dim":
        return input_dim
    if kind == "one":
        return 1
    if kind == "equal":
        return prev
    if kind == "unequal":
        big = prev * 8 <= max(320, input_dim) and (prev < 8 or bool(gen.integers(2)))
        return prev * 8 if big else max(1, prev // 8)
    return int(gen.integers(20, 301))


def cases(
    seed: int, n_cases: int, input_dim: int = NOTES_INPUT_DIM
) -> list[tuple[list[int], str, int]]:
    """Case 0 is the notes' own configuration (``NOTES_DEPTH`` layers of width ``input_dim``,
    xavier); the others draw depth 2..5 and each width by a kind of :data:`WIDTH_KINDS`, and
    every kind missing from the drawn cases is appended to the shortest (so a bug that
    shows only at particular widths meets them)."""
    gen = np.random.default_rng([seed, 7])
    out = [([input_dim] * NOTES_DEPTH, "xavier", int(gen.integers(2**31)))]
    kinds: list[list[str]] = []
    for _ in range(1, n_cases):
        depth = int(gen.integers(2, 6))
        kinds.append([str(gen.choice(WIDTH_KINDS, p=_KIND_P)) for _ in range(depth)])
    drawn = {kind for case in kinds for kind in case}
    if len(kinds) >= 2:
        for missing in (kind for kind in WIDTH_KINDS if kind not in drawn):
            min(kinds, key=len).append(missing)  # appended: no drawn kind is lost
    for k, case in enumerate(kinds, start=1):
        sizes: list[int] = []
        for kind in case:
            sizes.append(_width(kind, sizes[-1] if sizes else input_dim, input_dim, gen))
        out.append((sizes, CASE_SCHEMES[k % len(CASE_SCHEMES)], int(gen.integers(2**31))))
    return out
