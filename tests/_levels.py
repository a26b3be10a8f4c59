"""The significance levels of the default test run's statistical assertions, in one place.

A default run is derandomized (the same cases every time), so it cannot fail by chance; what
is left to chance is a fresh set of cases (a Hypothesis or numpy upgrade, an edited seed).
By Bonferroni the chance that a fresh set holds a false failure is at most the sum of the
levels of the assertions that a correct implementation passes plus the miss rates of the
detections asserted at a planned effect; docs/error-rates.md counts that sum (at most 1e-4)
from a decision log of a real run.
"""

from __future__ import annotations

#: Family-wise level of a verdict that a test asserts *passes* on a correct implementation
#: (a conformance check's ``alpha``, a property's ``alpha``): about 400 such verdicts in a
#: default run, so their sum stays near 4e-5. A check plans its sample size at this level, so
#: it keeps the power it states (about 40% more entries than at the default 1e-4).
PASS_ALPHA = 1e-7

#: ``PASS_ALPHA`` as the commands' option (``weight-init check`` / ``audit`` /
#: ``check-forward``).
PASS_ALPHA_ARGS = ("--alpha", repr(PASS_ALPHA))

#: Level of one statistical assertion outside a verdict (a KS or binomial test on simulated
#: p-values, a z test of a moment): about 20 in a default run.
ASSERTION_LEVEL = 1e-6

#: Miss rate of a detection asserted at the plan's smallest effects: such a test asks the plan
#: for power ``1 - PLANNED_MISS_RATE`` (the plan's default power 0.99 is what ``weight-init
#: calibrate --power`` measures).
PLANNED_MISS_RATE = 1e-6
