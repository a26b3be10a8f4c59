"""Exception types raised by weight_init.

Every error is a ``ValueError`` or ``TypeError`` subclass (so callers that
already catch those keep working) and also a :class:`WeightInitError`, so the
command line can turn any of them into one line on stderr and exit code 2.
Messages are one line and name the layer (1-based, as the notes print them)
and the problem.
"""

from __future__ import annotations


class WeightInitError(Exception):
    """Base class of every error this package raises on bad input.

    Every error is also a ``ValueError`` or ``TypeError`` (so callers that already catch those
    keep working); the command line turns any of them into one line on stderr and exit code 2.
    Messages are one line and name the layer (1-based) and the problem. The subclasses are in
    :mod:`weight_init.errors`.

    Examples
    --------
    >>> from weight_init import WeightInitError, forward_prop, get_scheme
    >>> try:
    ...     forward_prop([10, 0], get_scheme("xavier"), seed=0)
    ... except WeightInitError as exc:
    ...     print(type(exc).__name__, isinstance(exc, ValueError))
    ...     print(exc)
    InvalidLayerSizesError True
    layer 2: width must be a positive integer, got 0
    """


class InvalidLayerSizesError(WeightInitError, ValueError):
    """``hidden_layer_sizes`` is empty, or holds a non-positive or non-integer size."""


class InvalidInputError(WeightInitError, ValueError):
    """The network input (or an option such as ``n_samples``) is malformed."""


class InitializerError(WeightInitError):
    """Base class of the failures of a user-supplied initializer."""


class InitializerCallError(InitializerError, ValueError):
    """The initializer raised an exception when called as ``init(fan_in, fan_out)``."""


class InitializerTypeError(InitializerError, TypeError):
    """The initializer returned something that is not a real numeric array."""


class InitializerShapeError(InitializerError, ValueError):
    """The initializer returned an array of the wrong shape."""


class NonFiniteWeightsError(InitializerError, ValueError):
    """The initializer returned NaN or infinite entries."""


class UnknownSchemeError(WeightInitError, ValueError):
    """No initializer scheme is registered under the given name."""


class UnknownActivationError(WeightInitError, ValueError):
    """No activation is registered under the given name."""


class InvalidParameterError(WeightInitError, ValueError):
    """A numeric parameter (scale, gain, slope, seed, ...) is out of its domain."""


class NotCallableError(WeightInitError, TypeError):
    """A callable was expected (an initializer, a forward_prop) and something else was given."""


class UsageError(WeightInitError, ValueError):
    """A command-line usage error (bad flag, bad value, missing argument)."""


class AdapterError(WeightInitError, ValueError):
    """A ``SPEC`` that cannot be resolved: bad syntax, missing module or attribute."""


class ForwardCheckError(InvalidParameterError):
    """The forward_prop cannot be run for the requested options."""


class ReportOutputError(WeightInitError, ValueError):
    """``--out`` cannot receive a report (not writable, a file, a foreign directory, or one
    holding files the report did not write)."""


class SubjectAbortedError(WeightInitError, ValueError):
    """The code under test exited, was killed by a signal, crashed or raised a non-Exception
    before the check returned a verdict (run in a child process; never a pass)."""


class SubjectTimeoutError(SubjectAbortedError):
    """The code under test did not finish within the time limit (``--timeout``)."""


class UnsupportedCase(WeightInitError, ValueError):
    """The subject cannot run this case (e.g. a notes-contract callable asked for relu); a
    property skips the case, it is not a failure of the subject."""


class CheckFailed(WeightInitError, AssertionError):
    """An initializer did not conform (the message is the check's table). Not bad input: an
    ``AssertionError``, so pytest reports it as a failed test."""


class OwnFaultError(WeightInitError, ValueError):
    """weight-init's own code failed while it ran the user's (an audit's walk, its
    statistics): reported as ours, never as the model's or the initializer's."""


class AuditError(InitializerCallError):
    """The model factory raised, exited, or returned something that is not a model."""


class InternalError(WeightInitError, RuntimeError):
    """A fault inside weight-init itself, neither bad input nor the code under test's doing
    (an overflow in a statistic, a Hypothesis error, a failed internal assertion): reported
    as weight-init's bug with a command that reproduces it, and no verdict."""


def install_hint(extra: str) -> str:
    """How to install an optional extra, as a command that works where weight-init is used
    today: from a clone of its repository (it is not on a package index)."""
    return f"pip install '.[{extra}]' in a clone of weight-init"


def describe_exception(exc: BaseException) -> str:
    """One-line ``Type: message`` rendering of ``exc`` (first line of the message only)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class ForwardPropContractError(WeightInitError, ValueError):
    """A forward_prop returned something other than the contract's ``(acts, means, stds)``
    with one entry per layer of the right shape (e.g. 9 layers for 10 widths)."""


# -- the family and check registries -------------------------------------------------------


class UnknownFamilyError(WeightInitError, ValueError):
    """No distribution family is registered under the given name."""


class UnsupportedSchemeError(WeightInitError, ValueError):
    """A scheme expression states a law no registered family implements (yet)."""


# -- the calibration engine (weight-init calibrate) -----------------------------------------


class RunDirectoryError(WeightInitError, ValueError):
    """An ``--out`` that cannot hold this run: taken by another run, unreadable, unwritable."""


class EngineError(WeightInitError, ValueError):
    """The executor could not be reached, or lost its workers: the run stops (resumable)."""


class DaskMissingError(WeightInitError, ValueError):
    """``--scheduler`` without ``dask.distributed`` installed."""
