"""Render the report's blocks as one HTML page (``index.html``, figures beside it)."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from weight_init.reports._blocks import Block, Code, Heading, Image, Para, Table

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1040px;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
img { max-width: 100%; height: auto; display: block; margin: 1em 0; border: 1px solid #ddd; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.88em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.55em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td { font-variant-numeric: tabular-nums; }
code { background: #f3f3f3; padding: 0 0.2em; }
.pass { color: #116611; } .fail { color: #b00020; font-weight: bold; }
.inconclusive { color: #8a6d00; }
nav a { margin-right: 1em; }
"""


def inline(text: str) -> str:
    """Escape ``text``; `backticks` become <code>."""
    parts = re.split(r"`([^`]*)`", text)
    return "".join(
        f"<code>{html.escape(p)}</code>" if i % 2 else html.escape(p) for i, p in enumerate(parts)
    )


def _td(text: str) -> str:
    cls = f' class="{text}"' if text in ("pass", "fail", "inconclusive") else ""
    return f"<td{cls}>{inline(text)}</td>"


def render_html(blocks: Sequence[Block], title: str = "weight-init report") -> str:
    body: list[str] = []
    nav = [b for b in blocks if isinstance(b, Heading) and b.level == 2]
    for b in blocks:
        if isinstance(b, Heading):
            body.append(f'<h{b.level} id="{html.escape(b.anchor)}">{inline(b.text)}</h{b.level}>')
            if b.level == 1 and nav:
                links = " ".join(
                    f'<a href="#{html.escape(h.anchor)}">{inline(h.text)}</a>' for h in nav
                )
                body.append(f"<nav>{links}</nav>")
        elif isinstance(b, Para):
            body.append(f"<p>{inline(b.text)}</p>")
        elif isinstance(b, Image):
            src = html.escape(b.path)
            alt = html.escape(b.alt)
            body.append(
                f'<figure><img src="{src}" alt="{alt}"><figcaption>{alt}</figcaption></figure>'
            )
        elif isinstance(b, Table):
            head = "".join(f"<th>{inline(h)}</th>" for h in b.header)
            rows = "".join("<tr>" + "".join(_td(c) for c in row) + "</tr>" for row in b.rows)
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif isinstance(b, Code):
            body.append(f"<pre><code>{html.escape(b.text)}</code></pre>")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<style>{CSS}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )
