"""Markdown rendering of the appendix model: one .md file, charts as PNG files beside it."""

from __future__ import annotations

import re

from decision.appendix.model import Appendix, Figure
from decision.appendix.templating import environment

_SPECIAL = re.compile(r"([\\`*\[\]<>|~&])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# what opens a heading, a list or a thematic break at the start of a line (the rest: `>`, `*`, `_`, `<`, fences, already
# escaped by `md`; indentation collapses to one space)
_BLOCK_START = re.compile(r"^(\s*)(?:([#+-])|(\d{1,9})([.)])(?=\s|$))")


def md(text: object) -> str:
    """Inline text with every Markdown / HTML control character backslash-escaped (CommonMark)."""
    return _SPECIAL.sub(lambda m: "\\" + m.group(0), re.sub(r"\s+", " ", str(text)))


def md_start(text: object) -> str:
    """`md` of text that starts a line (a paragraph, a list item, a note), its block marker escaped too: "1. FC Köln"
    stays a paragraph ("1\\. FC Köln") instead of becoming an ordered list; "# x", "- x", "+ x", "1) x" likewise."""
    return _BLOCK_START.sub(lambda m: m[1] + (f"\\{m[2]}" if m[2] else f"{m[3]}\\{m[4]}"), md(text), count=1)


def md_cell(text: object) -> str:
    """A table cell: escaped, lines joined by <br>, never read as a formula if pasted into a spreadsheet."""
    return "<br>".join(md("'" + line if line.startswith(_FORMULA_START) else line) for line in str(text).split("\n"))


def fence(lines: tuple[str, ...]) -> str:
    """A code fence longer than any run of backticks inside the block."""
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    return "`" * max(3, longest + 1)


def code_span(text: str) -> str:
    """An inline code span whose delimiter is longer than any run of backticks inside."""
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def figure_file(stem: str, figure: Figure) -> str:
    return f"{stem}-{figure.label.lower().replace(' ', '-')}-{figure.key}.png"


def render_markdown(appendix: Appendix, stem: str, logo_file: str | None) -> str:
    """The Markdown text; figures and the logo are referenced as files named from `stem`."""
    env = environment()
    template = env.get_template("appendix.md.j2")
    text = template.render(a=appendix, logo_file=logo_file, md=md, md_start=md_start, md_cell=md_cell, fence=fence,
                           code_span=code_span, figure_file=lambda f: figure_file(stem, f))
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
