"""What the observed resolution of the draws makes possible: when a tie is evidence.

An exact check that fails on two equal units, two equal arrays or two equal leading
entries must fail only where a correct draw cannot tie. Draws are rounded: to the
significand of their dtype (``p`` bits: 8 for bfloat16, 24 for float32, 53 for float64),
and possibly to a coarser grid by the sampler (a law rounded to 1/64 of its std is a
correct law on a grid). Either way a single stored value ``x`` has probability at most

    q = max(2^-p, SUP_DENSITY h)

with ``h`` the grid step in standardized units: rounding to ``p`` bits gives ``x`` a mass
of about ``f(x) ulp(x) <= |x| f(x) 2^(1-p) <= 2^-p`` (``sup |x| f(x) <= 1/2`` for the
families' laws: normal 0.242, uniform 1/2), and a grid of step ``h`` gives a mass at most
``h sup f`` (:data:`SUP_DENSITY` bounds the standardized densities: normal 0.399, uniform
0.289, truncated normal 0.368). ``h`` is not known, but every gap between two distinct
values on a grid is a multiple of it, so the smallest gap observed, ``g >= h``
(:func:`grid_step`), bounds it from above. Two given vectors of ``L`` independent entries
then tie with probability at most ``q^L``, and some pair of ``n`` with at most
``C(n, 2) q^L``; above :data:`TIE_BOUND` a tie is not evidence (:func:`ties_plausible`).
Entries that are not independent count as many as the draw's free entries at most
(:meth:`~weight_init.families.Family.free_entries`): a 2 x 2 orthogonal matrix is one angle,
and two of them tie as one entry does.
"""

from __future__ import annotations

import numpy as np

from weight_init.properties.conformance._checks.pool import Array

#: Significand bits of the float formats an initializer may draw in (bfloat16, float16,
#: float32, float64), narrowest first.
SIGNIFICAND_BITS = (8, 11, 24, 53)
#: A tie counts as a failure only where ties this likely under the law at the observed
#: resolution are impossible: ``C(n, 2) q^L <= TIE_BOUND`` (per comparison set, so at most
#: ~1e-6 per check: 1% of alpha 1e-4).
TIE_BOUND = 1e-9
#: An upper bound on the standardized families' densities (module docstring).
SUP_DENSITY = 0.5


def effective_bits(values: Array) -> int:
    """The fewest significand bits ``p`` (of :data:`SIGNIFICAND_BITS`) that represent every
    value exactly: 8 for bfloat16 draws widened to float32 or float64, 24 for float32."""
    m, _ = np.frexp(np.asarray(values, dtype=np.float64).ravel())
    for p in SIGNIFICAND_BITS[:-1]:
        scaled = np.ldexp(m, p)
        if np.array_equal(scaled, np.round(scaled)):
            return p
    return SIGNIFICAND_BITS[-1]


def grid_step(z: Array) -> float:
    """The smallest gap between distinct values of ``z`` (an upper bound on the step of any
    grid they lie on; inf for fewer than two distinct values)."""
    u = np.unique(np.asarray(z, dtype=np.float64).ravel())
    if u.size < 2:
        return float("inf")
    return float(np.min(np.diff(u)))


def value_mass(z: Array, raw: Array) -> float:
    """``q``: an upper bound on the probability of any one stored value (module docstring),
    from standardized values ``z`` and the stored ones ``raw``."""
    return min(1.0, max(2.0 ** -effective_bits(raw), SUP_DENSITY * grid_step(z)))


def ties_plausible(n_vectors: int, length: int, q: float, pairs_factor: float = 1.0) -> bool:
    """Can a correct draw repeat one of ``n_vectors`` vectors of ``length`` entries, each
    value of probability at most ``q``? (``pairs_factor C(n, 2) q^length > TIE_BOUND``; a
    factor 2 when a vector may also match another's negation.)"""
    pairs = pairs_factor * n_vectors * (n_vectors - 1) / 2.0
    return bool(pairs * q**length > TIE_BOUND)
