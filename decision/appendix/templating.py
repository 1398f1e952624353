"""The Jinja2 environment of the appendix templates (decision/appendix/templates/).

HTML templates (*.html.j2) autoescape every value; Markdown templates escape through the `md` filter.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).with_name("templates")


@lru_cache(maxsize=1)
def environment() -> Environment:
    """One shared environment: strict about undefined names, autoescaping HTML."""
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html.j2"]),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
