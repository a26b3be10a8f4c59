"""Numbers in a rule, as arithmetic: parsed by ``ast``, evaluated by walking the tree, never
``eval``.

A number may be written as an expression of numeric literals, the operators ``+ - * / **``,
unary ``-``/``+``, parentheses, ``sqrt(x)`` and names bound by the caller (a model's
configuration: ``0.02 / sqrt(2 * n_layer)``, ``(d_model * d_kv) ** -0.5``, ``1/3``). Every
intermediate value is a Python ``float``; the result must be finite. Anything else -- another
function, an attribute, a subscript, a string, a name nobody bound -- is an
:class:`~weight_init.errors.InvalidParameterError` naming what was written, raised before any
value is computed from it.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping

from weight_init.errors import InvalidParameterError

__all__ = ["FUNCTIONS", "evaluate_number", "names_in", "substitute"]

_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[float], float]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}
#: The functions a number may call.
FUNCTIONS: dict[str, Callable[[float], float]] = {"sqrt": math.sqrt}


def _value(node: ast.expr, names: Mapping[str, float]) -> float:
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ValueError(f"{v!r} is not a number")
        return float(v)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return _BINARY[type(node.op)](_value(node.left, names), _value(node.right, names))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_value(node.operand, names))
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in FUNCTIONS
        and len(node.args) == 1
        and not node.keywords
    ):
        return FUNCTIONS[node.func.id](_value(node.args[0], names))
    if isinstance(node, ast.Name):
        if node.id in names:
            return float(names[node.id])
        raise ValueError(f"unknown name {node.id!r}")
    raise ValueError(f"{ast.unparse(node)!r} is not arithmetic")


def evaluate_number(node: ast.expr, what: str, names: Mapping[str, float] | None = None) -> float:
    """The finite value of the arithmetic ``node`` (module docstring).

    Parameters
    ----------
    node : ast.expr
        The expression's syntax tree.
    what : str
        What the number is, for the error message (``"std"``).
    names : mapping of str to float, optional
        The bare names the expression may use.

    Returns
    -------
    float
        Its value.

    Raises
    ------
    InvalidParameterError
        One line: not arithmetic, an unbound name, a non-finite value.

    Examples
    --------
    >>> import ast
    >>> from weight_init.arithmetic import evaluate_number
    >>> evaluate_number(ast.parse("0.02 / sqrt(2 * n)", mode="eval").body, "std", {"n": 2})
    0.01
    """
    try:
        value = _value(node, names or {})
    except (ValueError, ZeroDivisionError, OverflowError, TypeError, RecursionError) as exc:
        raise InvalidParameterError(
            f"{what} must be a number (literals, + - * / **, parentheses, sqrt), got "
            f"{ast.unparse(node)!r}: {exc}"
        ) from None
    if isinstance(value, complex) or not math.isfinite(value):
        raise InvalidParameterError(f"{what} must be a finite number, got {ast.unparse(node)!r}")
    return float(value)


def names_in(node: ast.AST) -> set[str]:
    """Every bare name in ``node`` (function names of calls excluded)."""
    called = {id(n.func) for n in ast.walk(node) if isinstance(n, ast.Call)}
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and id(n) not in called}


class _Substitute(ast.NodeTransformer):
    def __init__(self, names: Mapping[str, float]) -> None:
        self.names = names

    def visit_Call(self, node: ast.Call) -> ast.AST:
        node.args = [self.visit(a) for a in node.args]
        for kw in node.keywords:
            kw.value = self.visit(kw.value)
        return node  # the function's own name is never a variable

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.names:
            v = float(self.names[node.id])
            return ast.copy_location(ast.Constant(int(v) if v.is_integer() else v), node)
        return node


def substitute(tree: ast.expr, names: Mapping[str, float]) -> ast.expr:
    """``tree`` with every bare name bound in ``names`` replaced by its value (so the
    expression's canonical text shows the numbers a configuration gave it)."""
    out = _Substitute(names).visit(tree)
    assert isinstance(out, ast.expr)
    return out
