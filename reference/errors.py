"""Exception types raised by weight_init.

Every error is a ``ValueError`` or ``TypeError`` subclass (so callers that
already catch those keep working) and also a :class:`WeightInitError`, so the
command line can turn any of them into one line on stderr and exit code 2.
Messages are one line and name the layer (1-based, as the seed prints them)
and the problem.
"""

from __future__ import annotations


class WeightInitError(Exception):
    """Base class of every error this package raises on bad input."""


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


def describe_exception(exc: BaseException) -> str:
    """One-line ``Type: message`` rendering of ``exc`` (first line of the message only)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class ForwardPropContractError(WeightInitError, ValueError):
    """A forward_prop returned something other than the contract's ``(acts, means, stds)``
    with one entry per layer of the right shape (e.g. 9 layers for 10 widths)."""


# -- added by the family/check redesign (issue 11) ------------------------------------------


class UnknownFamilyError(WeightInitError, ValueError):
    """No distribution family is registered under the given name."""


class UnsupportedSchemeError(WeightInitError, ValueError):
    """A scheme expression states a law no registered family implements (yet)."""
