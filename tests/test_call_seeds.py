"""The design's call seeds are distinct, and "fresh draws" compares calls with different seeds
only: a repeated 32-bit seed (probability ~ n^2 / 2^33 per check) made two calls return the
same array and failed correct kernel implementations (7 of 718 kernel checks)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from weight_init.properties.conformance._checks.exact import FreshDrawsCheck
from weight_init.properties.conformance._checks.pool import build_pool
from weight_init.properties.conformance._sampling import Draw, call_seeds
from weight_init.schemes import get_scheme


@given(seed=st.integers(0, 2**63 - 1), n=st.integers(1, 3000))
def test_call_seeds_are_distinct_and_extend_the_plain_words(seed: int, n: int) -> None:
    seeds = call_seeds(seed, n)
    assert len(seeds) == n == len(set(seeds))
    words = np.random.SeedSequence(seed).generate_state(n, dtype=np.uint32)
    if len(set(words.tolist())) == n:  # no repeat: exactly the plain words (old designs)
        assert seeds == words.tolist()


def test_a_repeated_seed_is_not_a_repeated_draw() -> None:
    """Two calls given the same seed by a caller's own pool return the same array: not
    evidence that randomness is ignored. Two different seeds giving one array still are."""
    sch = get_scheme("he_normal")

    def fn(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
        return sch(fan_in, fan_out, rng=rng)

    def draw(seed: int) -> Draw:
        return Draw(4, 4, seed, fn(4, 4, np.random.default_rng(seed)))

    same_seed = [draw(11), draw(11), draw(12)]
    pool = build_pool(fn, sch, "in_out", same_seed, 0, "rng")
    result = FreshDrawsCheck().run(pool)
    assert result is not None and result.test.passed, result
    fixed = Draw(4, 4, 13, same_seed[0].raw)  # another seed, the same array
    pool = build_pool(fn, sch, "in_out", [*same_seed, fixed], 0, "rng")
    result = FreshDrawsCheck().run(pool)
    assert result is not None and result.test.passed is False, result
