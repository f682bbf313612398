"""Printable documents (certificates, reports, DPIA and RoPA drafts) from Jinja2 templates kept
beside this module: the same HTML is shown on a page, saved as a file and turned into a PDF."""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).parent / "doc_templates"


@cache
def _env() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render_document(name: str, **context: Any) -> str:
    """The whole standalone HTML document (its own styles, nothing fetched)."""
    return _env().get_template(name).render(**context)


def render_body(name: str, **context: Any) -> str:
    """Only the document's `body` block: for a page of the web app, which brings its own layout
    and styles (no inline styles there: the CSP forbids them)."""
    template = _env().get_template(name)
    return "".join(template.blocks["body"](template.new_context(context)))


def svg_data_uri(svg: str) -> str:
    """An SVG as a data: URL, the only kind of URL the PDF renderer will read."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
