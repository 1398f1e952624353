"""How the appendix is drawn: HTML table cells that never split a number (QA s14 B fault 1)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from decision import evaluate
from decision.appendix import build

PROFILES = Path(__file__).resolve().parent.parent / "data" / "profiles"


def css_rules(page: str) -> dict[str, str]:
    """{selector: declarations} of the page's style sheet."""
    style = page[page.index("<style>") + 7:page.index("</style>")]
    return {sel.strip(): body.strip() for sel, body in re.findall(r"([^{}]+)\{([^{}]*)\}", style)}


def td_cells(page: str) -> list[tuple[str, str]]:
    """(class, text) of every data cell."""
    return [(cls or "", html.unescape(re.sub(r"<[^>]+>", "\n", text)))
            for cls, text in re.findall(r'<td(?: class="([^"]*)")?>(.*?)</td>', page, re.S)]


@pytest.fixture(scope="module")
def appendix_html() -> str:
    return build(evaluate(PROFILES / "contoso-2026.yaml"), 0, "html").decode()


def test_no_html_table_cell_breaks_inside_a_number_or_a_short_label(appendix_html):
    """Fault 1: `td { overflow-wrap: anywhere }` let a printed page split '2,544' into '2,54' and '4' and 'Let's
    Encrypt' into 'Let's Encr' and 'ypt'. Only cells with a long unbroken token (a URL) may break inside a word."""
    rules = css_rules(appendix_html)
    assert "anywhere" not in rules["td"] and "overflow-wrap: normal" in rules["td"]
    assert "white-space: nowrap" in rules["td.r, td.short"] and "overflow-wrap: anywhere" in rules["td.wrap"]
    cells = td_cells(appendix_html)
    numbers = [t for c, t in cells if re.fullmatch(r"[\d,.%]+", t)]
    assert {c for c, t in cells if re.fullmatch(r"[\d,.%]+", t)} <= {"r", "short"} and len(numbers) > 100
    assert {c for c, t in cells if t in ("automated", "100%", "2026-12-01", "Sectigo")} <= {"r", "short"}
    assert {c for c, t in cells if t == "Let's Encrypt"} == {""}, "may wrap at its space, never inside a word"
    wrap = [t for c, t in cells if c == "wrap"]
    assert wrap and all(max(map(len, t.split())) > 24 for t in wrap), "only text with a long token may break anywhere"
    assert any("https://" in t for t in wrap)
    assert all(c == "wrap" for c, t in cells if max(map(len, t.split()), default=0) > 24 and c != "r")
