"""Rules: what a parameter is expected to hold, as text an audit's ``--expect`` and presets use.

A rule is a scheme expression (:mod:`weight_init.scheme_expressions`), optionally with rows
that must be exactly zero, or the word ``skip``:

============================================  ===============================================
rule                                           meaning
============================================  ===============================================
``SCHEME``                                     every entry follows SCHEME
``SCHEME + zero_rows(i, ...)``                 rows ``i, ...`` (indices along the first axis;
                                               negative counts from the end) are exactly 0 in
                                               every build; every other row follows SCHEME
                                               (an embedding's padding row: ``normal(std=0.02)
                                               + zero_rows(0)``)
``skip``                                       not audited; listed as skipped
============================================  ===============================================

Row indices are arithmetic (:mod:`weight_init.arithmetic`) that must come out whole, so a
configuration's ``pad_token_id`` may be named where it is bound.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass

from weight_init.arithmetic import evaluate_number
from weight_init.errors import InvalidParameterError
from weight_init.scheme_expressions import parse_tree, scheme_from_tree
from weight_init.schemes import Scheme

__all__ = ["SKIP", "Rule", "parse_rule"]

#: The word that says a parameter is not audited.
SKIP = "skip"


@dataclass(frozen=True)
class Rule:
    """A parsed rule: ``scheme`` (``None`` for ``skip``) and the rows that must be zero."""

    text: str
    scheme: Scheme | None
    zero_rows: tuple[int, ...] = ()

    @property
    def skip(self) -> bool:
        return self.scheme is None

    def __str__(self) -> str:
        return self.text


def _rows(call: ast.Call) -> tuple[int, ...]:
    if call.keywords or not call.args:
        raise InvalidParameterError(
            "zero_rows() takes the row indices as positional numbers, e.g. zero_rows(0)"
        )
    rows = []
    for arg in call.args:
        v = evaluate_number(arg, "a zero row")
        if not v.is_integer():
            raise InvalidParameterError(f"a zero row must be a whole number, got {v:g}")
        rows.append(int(v))
    if len(set(rows)) != len(rows):
        raise InvalidParameterError(f"zero_rows() names a row twice: {ast.unparse(call)}")
    return tuple(rows)


def _is_zero_rows(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "zero_rows"
    )


def parse_rule(text: str | Rule, names: Mapping[str, float] | None = None) -> Rule:
    """The rule ``text`` states (module docstring).

    Parameters
    ----------
    text : str or Rule
        The rule (a rule is returned unchanged).
    names : mapping of str to float, optional
        Numbers the rule's bare names stand for (a configuration's ``pad_token_id``).

    Returns
    -------
    Rule
        Its scheme (``None`` for ``skip``) and the rows that must be exactly zero.

    Raises
    ------
    InvalidParameterError
        One line: text that is not a rule.

    Examples
    --------
    >>> from weight_init.rules import parse_rule
    >>> parse_rule("normal(std=0.02) + zero_rows(pad)", {"pad": 1}).zero_rows
    (1,)
    >>> parse_rule("skip").skip
    True
    """
    if isinstance(text, Rule):
        return text
    tree = parse_tree(text, names)
    if isinstance(tree, ast.Name) and tree.id == SKIP:
        return Rule(SKIP, None)
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Add) and _is_zero_rows(tree.right):
        assert isinstance(tree.right, ast.Call)
        if _is_zero_rows(tree.left) or (isinstance(tree.left, ast.Name) and tree.left.id == SKIP):
            raise InvalidParameterError(f"expected SCHEME + zero_rows(...), got {text!r}")
        scheme = scheme_from_tree(tree.left)
        if scheme.family == "orthogonal":
            raise InvalidParameterError("zero_rows() does not apply to an orthogonal scheme")
        return Rule(ast.unparse(tree), scheme, _rows(tree.right))
    if any(_is_zero_rows(n) for n in ast.walk(tree)) or any(
        isinstance(n, ast.Name) and n.id == SKIP for n in ast.walk(tree)
    ):
        raise InvalidParameterError(
            f"cannot parse {text!r}: zero_rows(...) is added last (SCHEME + zero_rows(0)) and "
            "skip stands alone"
        )
    scheme = scheme_from_tree(tree)
    return Rule(scheme.name, scheme)
