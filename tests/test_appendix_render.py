"""How the appendix is drawn: HTML table cells that never split a number, the trade-off chart's layer order, and
the app's file names for it (QA s14 B: faults 1 and 2, judgement C)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from decision import LABELS, evaluate
from decision.appendix import build, charts, content, download_name

PROFILES = Path(__file__).resolve().parent.parent / "data" / "profiles"
ACME_NEAR_WILDCARD = {  # QA s14 B p_acme.yaml: ACME EUR 1,789 and Wildcard EUR 1,817, both score 100.0
    "option": ["acme", "wildcard", "san", "classic"], "cost_total": [1789.0, 1817.0, 11337.0, 8360.0],
    "score": [100.0, 100.0, 98.7, 35.1]}


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


def layers(spec: str) -> list[dict]:
    """The chart's layers, each with its data rows as `rows`."""
    spec = json.loads(spec)
    return [{**layer, "rows": spec["datasets"][layer["data"]["name"]]} for layer in spec["layer"]]


def test_the_recommended_point_is_drawn_on_top_of_a_runner_up_at_the_same_place():
    """Fault 2: ACME (recommended) was drawn first and Wildcard's point covered it, so the ring enclosed Wildcard's
    colour. The winner is drawn after every other point, and the ring and its note after it."""
    rows = pd.DataFrame(ACME_NEAR_WILDCARD)
    drawn = layers(charts.tradeoff_chart(rows, "acme", "EUR"))
    points = [layer for layer in drawn if layer["mark"]["type"] == "point" and layer["mark"].get("filled")]
    assert [[r["label"] for r in p["rows"]] for p in points] == [
        [LABELS[o] for o in ("wildcard", "san", "classic")], [LABELS["acme"]]]
    [ring] = [i for i, layer in enumerate(drawn) if layer["mark"]["type"] == "point" and not layer["mark"].get("filled")]
    assert drawn.index(points[0]) < drawn.index(points[1]) < ring
    # the two points are 3 pixels apart: a note names both, the recommended one as the one on top
    [note] = [layer for layer in drawn if layer["mark"]["type"] == "text" and "field" in layer["encoding"]["text"]]
    assert [r["text"] for r in note["rows"]] == [
        f"overlapping: {LABELS['acme']} (on top) · {LABELS['wildcard']}"]


def test_points_apart_get_no_overlap_note_and_distant_groups_are_told_apart():
    assert charts.overlapping(pd.DataFrame({"option": ["acme", "san"], "cost": [0.0, 1000.0],
                                            "score": [90.0, 90.0]})) == []
    near = pd.DataFrame({"option": ["acme", "wildcard", "san", "classic", "srv_record"],
                         "cost": [1000.0, 1010.0, 5000.0, 5005.0, 9000.0], "score": [90.0, 90.0, 50.0, 51.0, 20.0]})
    assert charts.overlapping(near) == [["acme", "wildcard"], ["san", "classic"]]
    spec = charts.tradeoff_chart(near.rename(columns={"cost": "cost_total"}), "srv_record", "USD")
    assert all(layer["mark"]["type"] != "text" or "field" not in layer["encoding"]["text"]
               or len(layer["rows"]) == 2 for layer in layers(spec))


def test_the_shipped_examples_without_overlaps_have_no_overlap_note():
    ev = evaluate(PROFILES / "contoso-2026.yaml")
    [figure] = [f for f in content(ev, 0).figures if "tradeoff" in f.key]
    assert "overlapping" not in figure.spec


@pytest.mark.parametrize(("org", "name"), [
    ("Contoso Inc", "contoso-inc-certificate-strategy.docx"),
    ("contoso.com", "contoso-com-certificate-strategy.docx"),
    ("Ärztekammer Zürich Große Söhne GmbH", "arztekammer-zurich-grosse-sohne-gmbh-certificate-strategy.docx"),
    ("株式会社テスト & Ωmega", "株式会社テスト-ωmega-certificate-strategy.docx"),
    ("../../etc/passwd <script> Ünïcode", "etc-passwd-script-unicode-certificate-strategy.docx"),
    ("***", "profile-certificate-strategy.docx"),
])
def test_the_appendix_download_name_transliterates_and_follows_the_apps_one_style(org, name):
    """Judgement C: 'Ärztekammer' lost its Ä ('rztekammer'), a Japanese name left only 'mega', and the appendix was
    named certificate-strategy-Contoso-Inc.docx beside contoso-inc-options.csv."""
    data = yaml.safe_load((PROFILES / "contoso-2026.yaml").read_text())
    assert download_name(evaluate({**data, "org": org}), 0, "docx") == name


def test_a_printed_html_appendix_keeps_the_table_headers_backgrounds(appendix_html):
    """Browsers leave backgrounds out of print by default, and the header cells' text is white on the header colour:
    printed, the headers read white on white (Chromium's PDF showed them empty)."""
    rules = css_rules(appendix_html)
    assert "color: #fff" in rules["th"]
    assert "print-color-adjust: exact" in rules["*"]
    assert appendix_html.index("@media print") < appendix_html.index("print-color-adjust: exact")


def test_a_long_organisation_name_is_shortened_in_the_running_header_and_footer_only():
    """QA s14 B judgement F: a 160-character name filled two lines of every Word page's header and footer."""
    import io

    from docx import Document

    name = "Ärztekammer Zürich Großhändler und Söhne GmbH " * 4
    ev = evaluate({"org": name.strip(), "external_domain": "example.com", "users": 50})
    document = Document(io.BytesIO(build(ev, 0, "docx")))
    section = document.sections[0]
    header, footer = section.header.paragraphs[0].text, section.footer.paragraphs[0].text
    assert header == "Appendix: certificate cost and strategy · Ärztekammer Zürich Großhändler und Söhne GmbH…"
    assert footer.startswith("Certificate strategy for Ärztekammer Zürich Großhändler und Söhne GmbH… · page ")
    assert name.strip() in "\n".join(p.text for p in document.paragraphs)  # the title and the text keep it whole
    short = Document(io.BytesIO(build(evaluate(PROFILES / "contoso-2026.yaml"), 0, "docx")))
    assert short.sections[0].header.paragraphs[0].text == "Appendix: certificate cost and strategy · Contoso Inc"


def test_the_html_footer_keeps_the_whole_name_and_a_word_of_48_characters_is_kept_whole():
    """Only Word's running header and footer are cut (review of 857a984: the HTML footer was cut too)."""
    from decision.appendix.model import RUNNING_ORG, running_org

    name = "Ärztekammer Nordrhein-Westfalen Körperschaft des öffentlichen Rechts Düsseldorf"
    page = build(evaluate({"org": name, "external_domain": "example.com", "users": 50}), 0, "html").decode()
    footer = re.search(r"<footer>(.*?)</footer>", page, re.S)[1]
    assert html.unescape(footer).startswith(f"Certificate strategy for {name} · generated ")
    word = "x" * RUNNING_ORG
    assert running_org(f"{word} and more") == f"{word}…"
    assert running_org(word + "y") == "x" * (RUNNING_ORG - 1) + "…"
