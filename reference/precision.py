"""Numbers as a floating-point format holds them: what ``constant(c)`` means for a tensor.

A parameter of dtype ``float32`` filled with ``1e-6`` holds ``9.99999997e-07``, the float32
nearest ``1e-6``; comparing its entries with the Python float ``1e-6`` would call a correct
constant wrong. :func:`round_to` rounds a value to the nearest number of a format
(round-half-to-even, as every IEEE conversion does); :func:`format_in` prints it with the
decimal digits that format needs to name each of its numbers uniquely.

========== ================ ======================= ==============================
format      significand bits decimal digits printed  1e-6 held as
========== ================ ======================= ==============================
bfloat16    8                4                       9.984e-07
float16     11               5                       1.0133e-06 (a subnormal)
float32     24               9                       9.99999997e-07
float64     53               17                      1e-06 (the Python float itself)
========== ================ ======================= ==============================

(digits = ``ceil(1 + bits * log10(2))``, the count that round-trips every number of the
format.) ``bfloat16`` is float32's upper 16 bits; numpy has no such type, so the rounding is
done on the float32 bit pattern (ties to even), as torch and JAX convert.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["DIGITS", "FORMATS", "canonical_format", "format_in", "round_to"]

#: Significand bits (with the implicit bit) of each format.
FORMATS: dict[str, int] = {"bfloat16": 8, "float16": 11, "float32": 24, "float64": 53}
#: Decimal digits that name every number of each format uniquely.
DIGITS: dict[str, int] = {k: math.ceil(1 + b * math.log10(2)) for k, b in FORMATS.items()}


def canonical_format(dtype: object) -> str | None:
    """``"float32"`` for ``torch.float32``, ``np.float32``, ``"float32"``, a JAX dtype...;
    ``None`` for a dtype that is not one of :data:`FORMATS` (integers, float8, complex)."""
    text = str(dtype).rpartition(".")[2].strip("'\"> ")
    aliases = {"half": "float16", "float": "float32", "double": "float64", "f4": "float32"}
    text = aliases.get(text, text)
    return text if text in FORMATS else None


def _bfloat16(value: float) -> float:
    with np.errstate(over="ignore"):
        f32 = np.array([value], dtype=np.float32)
    bits = f32.view(np.uint32).astype(np.uint64)
    if not np.isfinite(f32[0]):
        return float(f32[0])
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return float(rounded.astype(np.uint32).view(np.float32)[0])


def round_to(value: float, fmt: str | None) -> float:
    """``value`` rounded to the nearest number of ``fmt``.

    Parameters
    ----------
    value : float
        The number.
    fmt : str or None
        One of :data:`FORMATS`; ``None`` leaves ``value`` as it is.

    Returns
    -------
    float
        The number of ``fmt`` nearest ``value`` (ties to even), as a Python float.

    Examples
    --------
    >>> from weight_init.precision import round_to
    >>> round_to(1e-6, "float32")
    9.999999974752427e-07
    """
    if fmt is None or fmt == "float64":
        return float(value)
    if fmt == "bfloat16":
        return _bfloat16(value)
    with np.errstate(over="ignore"):
        return float(np.asarray(value, dtype=np.float64).astype(fmt))


def format_in(value: float, fmt: str | None) -> str:
    """``value`` as ``fmt`` holds it.

    Parameters
    ----------
    value : float
        The number.
    fmt : str or None
        One of :data:`FORMATS` (``None``: ``%g`` of ``value``).

    Returns
    -------
    str
        The held number with :data:`DIGITS` significant digits, or ``%g`` when that names it
        exactly (1 prints ``1``, 0.5 ``0.5``).

    Examples
    --------
    >>> from weight_init.precision import format_in
    >>> format_in(1e-6, "float32"), format_in(1.0, "bfloat16")
    ('9.99999997e-07', '1')
    """
    held = round_to(value, fmt)
    short = f"{held:g}"
    if float(short) == held or fmt is None:
        return short
    return f"{held:.{DIGITS[fmt]}g}"
