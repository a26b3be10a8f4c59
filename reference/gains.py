"""Recommended gains, as ``torch.nn.init.calculate_gain`` documents them.

=================  ====================================
nonlinearity       gain
=================  ====================================
linear, conv*d     1
sigmoid            1
tanh               5/3
relu               sqrt(2)
leaky_relu         sqrt(2 / (1 + negative_slope^2))
selu               3/4
=================  ====================================

The gain multiplies the standard deviation of a variance-scaling rule
(equivalently, ``scale = gain**2`` in :func:`weight_init.schemes.variance_scaling`).
"""

from __future__ import annotations

import math

from weight_init.errors import InvalidParameterError, UnknownActivationError

_UNIT_GAIN = {
    "linear",
    "identity",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
}


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """Gain for ``nonlinearity``, as ``torch.nn.init.calculate_gain`` documents it.

    The gain multiplies the standard deviation of a variance-scaling rule (equivalently,
    ``scale = gain**2`` in :func:`weight_init.schemes.variance_scaling`).

    Parameters
    ----------
    nonlinearity : str
        ``linear``, ``identity``, ``conv1d``..``conv3d``, ``conv_transpose1d``..``3d``,
        ``sigmoid`` (gain 1), ``tanh`` (5/3), ``relu`` (sqrt(2)), ``leaky_relu``
        (``sqrt(2 / (1 + negative_slope^2))``) or ``selu`` (3/4).
    param : float, optional
        leaky_relu's negative slope (default 0.01).

    Returns
    -------
    float
        The gain.

    Raises
    ------
    UnknownActivationError
        No gain is defined for ``nonlinearity``.
    InvalidParameterError
        ``param`` is not a finite number.

    Examples
    --------
    >>> from weight_init.gains import calculate_gain
    >>> calculate_gain("tanh"), calculate_gain("selu")
    (1.6666666666666667, 0.75)
    >>> round(calculate_gain("leaky_relu", 0.2), 6)
    1.38675
    """
    if nonlinearity in _UNIT_GAIN:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "selu":
        return 0.75
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise InvalidParameterError(f"negative_slope {slope!r} is not a number")
        if not math.isfinite(slope):
            raise InvalidParameterError(f"negative_slope {slope!r} is not finite")
        return math.sqrt(2.0 / (1.0 + float(slope) ** 2))
    raise UnknownActivationError(f"no gain is defined for nonlinearity {nonlinearity!r}")
