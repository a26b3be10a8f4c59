"""Render the report's blocks as GitHub-flavoured Markdown (``report.md``)."""

from __future__ import annotations

from collections.abc import Sequence

from weight_init.reports._blocks import Block, Code, Heading, Image, Para, Table


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(blocks: Sequence[Block]) -> str:
    out: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            out.append(f"{'#' * b.level} {b.text}")
        elif isinstance(b, Para):
            out.append(b.text)
        elif isinstance(b, Image):
            out.append(f"![{b.alt}]({b.path})")
        elif isinstance(b, Table):
            lines = ["| " + " | ".join(_cell(h) for h in b.header) + " |"]
            lines.append("| " + " | ".join("---" for _ in b.header) + " |")
            lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in b.rows]
            out.append("\n".join(lines))
        elif isinstance(b, Code):
            out.append(f"```\n{b.text}\n```")
    return "\n\n".join(out) + "\n"
