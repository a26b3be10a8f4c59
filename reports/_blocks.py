"""The blocks a report page is made of: headings, paragraphs, images, tables and code, which
the HTML and Markdown renderers turn into their formats. Kept apart from the document that
assembles them, so that a section (the propagation page) builds blocks without importing
the report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    anchor: str


@dataclass(frozen=True)
class Para:
    text: str


@dataclass(frozen=True)
class Image:
    path: str
    alt: str


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Code:
    text: str


Block = Union[Heading, Para, Image, Table, Code]  # noqa: UP007
