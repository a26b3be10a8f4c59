"""Griffe extension for the docs build: reST roles in docstrings become inline code.

The docstrings use Sphinx-style roles (``:mod:`weight_init.theory```, ``:func:`~x.y```);
mkdocstrings renders Markdown, where they would show literally. Each role becomes an inline
code span of its target (``~`` keeps the last component, as Sphinx does); a paragraph
ending in reST's literal-block marker ``::`` ends in ``:`` (the indented block that follows
is already a Markdown code block).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_LITERAL = re.compile(r"(\S)::$", re.M)
_ROLE = re.compile(r":(?:py:)?(?:mod|func|class|meth|attr|data|exc|obj|const):`(~?)([^`]+)`")


def _code(match: re.Match[str]) -> str:
    tilde, target = match.groups()
    return f"`{target.rsplit('.', 1)[-1] if tilde else target}`"


class ReSTRoles(griffe.Extension):
    """Rewrite ``:role:`target``` to ```target``` and ``text::`` to ``text:`` in docstrings."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            text = _ROLE.sub(_code, obj.docstring.value)
            obj.docstring.value = _LITERAL.sub(r"\1:", text)
