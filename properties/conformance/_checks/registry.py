"""The registered conformance checks, in the order a result table lists them.

Adding a check is one :class:`~weight_init.properties.conformance._checks.base.Check` instance
passed to :func:`register_check`; the power plan, the runner and the result table pick it up.
The module-level names (``SHAPE``, ``MEAN``, ...) are the built-in check objects, which
is how code names a check (``result.failed(checks.MEAN)``), never by its text.
"""

from __future__ import annotations

from weight_init.errors import InvalidParameterError
from weight_init.properties.conformance._checks.base import Check
from weight_init.properties.conformance._checks.exact import (
    BoundsCheck,
    ConstantValueCheck,
    DeterminismCheck,
    DistinctUnitsCheck,
    DtypeCheck,
    FiniteCheck,
    FreshDrawsCheck,
    OrthogonalityCheck,
    ShapeCheck,
)
from weight_init.properties.conformance._checks.statistical import (
    DistributionCheck,
    FanRuleCheck,
    IndependenceCheck,
    MeanCheck,
    SignSymmetryCheck,
    VarianceCheck,
)

SHAPE = ShapeCheck()
DTYPE = DtypeCheck()
FINITE = FiniteCheck()
CONSTANT_VALUE = ConstantValueCheck()
BOUNDS = BoundsCheck()
DISTINCT_UNITS = DistinctUnitsCheck()
ORTHOGONALITY = OrthogonalityCheck()
DETERMINISM = DeterminismCheck()
FRESH_DRAWS = FreshDrawsCheck()
MEAN = MeanCheck()
VARIANCE = VarianceCheck()
FAN_RULE = FanRuleCheck()
SIGN_SYMMETRY = SignSymmetryCheck()
DISTRIBUTION = DistributionCheck()
UNIT_INDEPENDENCE = IndependenceCheck(axis=1)
INPUT_INDEPENDENCE = IndependenceCheck(axis=0)

BUILT_IN: tuple[Check, ...] = (
    SHAPE,
    DTYPE,
    FINITE,
    CONSTANT_VALUE,
    BOUNDS,
    DISTINCT_UNITS,
    ORTHOGONALITY,
    DETERMINISM,
    FRESH_DRAWS,
    MEAN,
    VARIANCE,
    FAN_RULE,
    SIGN_SYMMETRY,
    DISTRIBUTION,
    UNIT_INDEPENDENCE,
    INPUT_INDEPENDENCE,
)
_REGISTRY: list[Check] = list(BUILT_IN)


def registered_checks() -> tuple[Check, ...]:
    """Every registered check, in table order.

    Returns
    -------
    tuple of Check
        The built-in checks, then those added by :func:`register_check`, in the order a
        result table lists them.

    Examples
    --------
    >>> from weight_init.properties.conformance import registered_checks
    >>> [c.name for c in registered_checks()][:4]
    ['shape', 'dtype', 'finite', 'constant value']
    """
    return tuple(_REGISTRY)


def register_check(check: Check) -> Check:
    """Append ``check`` (a new name) to the registry; returns it.

    The power plan, the runner and the result table pick it up.

    Parameters
    ----------
    check : Check
        A named :class:`Check` instance whose name no registered check has.

    Returns
    -------
    Check
        ``check`` itself, so a module can write ``MY_CHECK = register_check(MyCheck())``.

    Raises
    ------
    InvalidParameterError
        ``check`` is not a named :class:`Check`, or its name is already registered.

    See Also
    --------
    unregister_check : remove it again.

    Examples
    --------
    >>> from weight_init.properties.conformance import (
    ...     Check, register_check, registered_checks, unregister_check,
    ... )
    >>> class NeverFails(Check):
    ...     name = "never fails"
    ...     def run(self, pool):
    ...         return self.exact(0.0, 0.0, True)
    >>> check = register_check(NeverFails())
    >>> registered_checks()[-1].name
    'never fails'
    >>> unregister_check(check)
    >>> check in registered_checks()
    False
    """
    if not isinstance(check, Check) or not check.name:
        raise InvalidParameterError(f"a check must be a named Check instance, got {check!r}")
    if any(c.name == check.name for c in _REGISTRY):
        raise InvalidParameterError(f"a check named {check.name!r} is already registered")
    _REGISTRY.append(check)
    return check


def unregister_check(check: Check) -> None:
    """Remove a check added by :func:`register_check` (the built-in ones stay).

    Parameters
    ----------
    check : Check
        A check added by :func:`register_check`.

    Raises
    ------
    InvalidParameterError
        ``check`` is built in, or not registered.

    Examples
    --------
    >>> from weight_init.properties.conformance import registered_checks, unregister_check
    >>> unregister_check(registered_checks()[0])
    Traceback (most recent call last):
        ...
    weight_init.errors.InvalidParameterError: check 'shape' is built in and cannot be removed
    """
    if check in BUILT_IN:
        raise InvalidParameterError(f"check {check.name!r} is built in and cannot be removed")
    if check not in _REGISTRY:
        raise InvalidParameterError(f"check {check.name!r} is not registered")
    _REGISTRY.remove(check)


def _spectrum() -> Check:
    from weight_init.properties.conformance._checks.spectrum import SpectrumCheck

    return register_check(SpectrumCheck())


#: Registered like any added check (its own module, its own failure wording).
SPECTRUM = _spectrum()


def _zeros_per_input() -> Check:
    from weight_init.properties.conformance._checks.exact import ZerosPerInputCheck

    return register_check(ZerosPerInputCheck())


#: The sparse family's exact zero count (registered like any added check).
ZEROS_PER_INPUT = _zeros_per_input()


def _added() -> tuple[Check, ...]:
    from weight_init.properties.conformance._checks.anderson_darling import AndersonDarlingCheck
    from weight_init.properties.conformance._checks.between_calls import BetweenCallsCheck
    from weight_init.properties.conformance._checks.extremes import ExtremesCheck
    from weight_init.properties.conformance._checks.homogeneity import HomogeneityCheck
    from weight_init.properties.conformance._checks.spike import SpikeCheck

    checks = (
        BetweenCallsCheck(),
        HomogeneityCheck(axis=1),
        HomogeneityCheck(axis=0),
        ExtremesCheck(),
        AndersonDarlingCheck(),
        SpikeCheck(),
    )
    return tuple(register_check(c) for c in checks)


#: Registered like any added check, each wording its own failure: calls compared with each
#: other, the units' (and inputs') variances compared within a matrix, the largest entry
#: against the law of the maximum, the law of |entry| weighted to its tails (Anderson-Darling),
#: the top direction against the bulk.
(
    BETWEEN_CALLS,
    UNIT_HOMOGENEITY,
    INPUT_HOMOGENEITY,
    EXTREMES,
    ANDERSON_DARLING,
    TOP_DIRECTION,
) = _added()
