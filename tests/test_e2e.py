"""The what-if app in a real browser (Debian's Chromium): inputs rerun the engine, the CSV and appendix download."""

from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from docx import Document
from figures import tenths
from playwright.sync_api import Page, expect
from st_helpers import rerun_after, set_number, wait_for_app_idle

import decision
from decision import LABELS

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="apt-get install chromium"),
              pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning")]  # pytest-playwright's base_url

CONTOSO = Path(__file__).resolve().parents[1] / "data" / "profiles" / "contoso-2026.yaml"
SCREENSHOT = Path(tempfile.gettempdir()) / "certstrategy-what-if.png"
expect.set_options(timeout=30_000)  # as st_helpers waits: on a busy 2-core machine a first run can take over 5 s


def engine(**changes) -> decision.Evaluation:
    return decision.evaluate({**yaml.safe_load(CONTOSO.read_text()), **changes})


def toggle(page: Page, label: str) -> None:
    page.get_by_test_id("stCheckbox").filter(has_text=label).locator("label").click()


def open_with_upload(page: Page, url: str, path: Path) -> None:
    """Open the app and upload a file in the sidebar (a profile or an Exchange export), waiting for the rerun."""
    page.goto(url)
    wait_for_app_idle(page)
    uploader = page.get_by_test_id("stFileUploader").locator("input[type=file]")
    rerun_after(page, lambda: uploader.set_input_files(str(path)))


def test_a_what_if_change_reruns_the_engine_and_the_results_download(page: Page, streamlit_url):
    page.goto(streamlit_url)
    wait_for_app_idle(page)
    card = page.get_by_test_id("stHeading").filter(has_text="Recommended:")
    first = engine().recommendations.iloc[0]["recommendation"]
    expect(card).to_have_text(f"Recommended: {LABELS[first]}")

    rerun_after(page, lambda: set_number(page, "Mobile devices", 2000))
    expect(page.get_by_text(engine(mobile_devices=2000).why(0))).to_be_visible()

    rerun_after(page, lambda: toggle(page, "ACME ok"))
    ev = engine(mobile_devices=2000, acme_ok=False)
    recommended = ev.recommendations.iloc[0]["recommendation"]
    assert recommended != first
    expect(card).to_have_text(f"Recommended: {LABELS[recommended]}")
    expect(page.get_by_text(ev.why(0))).to_be_visible()

    with page.expect_download() as download:
        page.get_by_test_id("stDownloadButton").filter(has_text="Results (CSV)").get_by_role("button").click()
    assert download.value.suggested_filename == "contoso-inc-options.csv"
    csv = pd.read_csv(io.BytesIO(Path(download.value.path()).read_bytes()), keep_default_na=False)
    rows = ev.option_rows(0)
    assert list(csv["option"]) == list(rows["option"])
    np.testing.assert_array_equal(csv["cost_total"], rows["cost_total"])
    assert list(csv["names"]) == list(rows["names"])

    with page.expect_download(timeout=60_000) as download:
        page.get_by_test_id("stDownloadButton").filter(has_text="Appendix (Word)").get_by_role("button").click()
    assert download.value.suggested_filename == "contoso-inc-certificate-strategy.docx"
    document = Document(io.BytesIO(Path(download.value.path()).read_bytes()))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Certificate strategy for Contoso Inc" in text and LABELS[recommended] in text

    expect(page.get_by_test_id("stVegaLiteChart").first).to_be_visible()
    page.get_by_test_id("stMain").evaluate("el => el.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000


def test_an_uploaded_exchange_export_shows_the_current_state_beside_the_options(page: Page, streamlit_url):
    export = Path(__file__).resolve().parent / "data" / "exchange" / "exse-contoso.txt"
    open_with_upload(page, streamlit_url, export)
    panel = page.locator(".st-key-current_state")
    expect(panel.get_by_role("heading", name="Current state: the certificates on the servers today")).to_be_visible()
    expect(panel.get_by_text("ex02.contoso.com (EWS internal URL) is on no certificate bound to IIS")).to_be_visible()
    expect(page.get_by_test_id("stHeading").filter(has_text="beside the current state")).to_be_visible()
    expect(page.get_by_test_id("stCaptionContainer").filter(has_text="imported exse-contoso.txt").first).to_be_visible()
    panel.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOT.with_name("certstrategy-current-state.png")), full_page=False)
    with page.expect_download(timeout=60_000) as download:  # the appendix the consultant sends shows them too (2.1)
        page.get_by_test_id("stDownloadButton").filter(has_text="Appendix (HTML)").get_by_role("button").click()
    html = Path(download.value.path()).read_text(encoding="utf-8")
    assert "The certificates in place today" in html
    assert "ex02.contoso.com (EWS internal URL) is on no certificate bound to IIS" in html


def test_an_upload_error_shows_each_problem_literally_and_wrapped(page: Page, streamlit_url, tmp_path):
    key = "**owner** :red[note] <b>x</b> " + " ".join(["a field the client added to the profile by hand"] * 4)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"org": "X", "external_domain": "x.com", "users": 5, key: "y"}))
    open_with_upload(page, streamlit_url, bad)
    alert = page.get_by_test_id("stAlert").filter(has_text="Could not load bad.yaml")
    expect(alert).to_be_visible()
    assert f"bad.yaml, field '{key}': unknown field" in alert.inner_text()  # no bold, colour or HTML made of it
    overflowing = alert.evaluate(
        "el => [el, ...el.querySelectorAll('*')].filter(e => e.scrollWidth > e.clientWidth + 1).length")
    assert overflowing == 0, "a problem line scrolls sideways instead of wrapping"
    alert.screenshot(path=str(SCREENSHOT.with_name("certstrategy-upload-error.png")))


def test_the_download_buttons_show_their_whole_labels_in_a_narrow_window(page: Page, streamlit_url):
    page.set_viewport_size({"width": 800, "height": 1000})
    page.goto(streamlit_url)
    wait_for_app_idle(page)
    labels = ["Results (CSV)", "Results (Excel)", "Appendix (Word)", "Appendix (HTML)"]
    buttons = page.get_by_test_id("stDownloadButton").filter(has_text=re.compile(r"^(Results|Appendix) \("))
    expect(buttons).to_have_text(labels)
    cut = buttons.evaluate_all(
        "els => els.flatMap(el => [el, ...el.querySelectorAll('*')]).filter(e => e.scrollWidth > e.clientWidth + 1)"
        ".map(e => e.textContent)")
    assert cut == [], "a download label is cut off (drawn with an ellipsis)"


@pytest.mark.parametrize("width", [800, 1400])
def test_the_recommendation_cards_figures_are_shown_whole(page: Page, streamlit_url, width):
    page.set_viewport_size({"width": width, "height": 1000})
    page.goto(streamlit_url)
    wait_for_app_idle(page)
    rec = engine().recommendations.iloc[0]
    figures = page.get_by_test_id("stMetricValue")  # the card's are the only figures on the page
    expect(figures).to_have_text([f"{tenths(rec['score'])} / 100", f"+{tenths(rec['margin'])}", f"USD {rec['cost_total']:,.0f}",
                                  f"USD {rec['tco']:,.0f}", f"{rec['trust']:.0%}"])
    cut = page.get_by_test_id("stMetric").evaluate_all(
        "els => els.flatMap(el => [el, ...el.querySelectorAll('*')]).filter(e => e.scrollWidth > e.clientWidth + 1)"
        ".map(e => e.textContent)")
    assert cut == [], f"a figure or its label is cut off (drawn with an ellipsis) at {width} px"


def test_the_trust_axis_reads_whole_percentages_when_every_option_has_the_same_trust(page: Page, streamlit_url, tmp_path):
    """QA: with every plotted option at 100 % trust the cost-against-trust chart's axis read 100.000000% (the browser's
    Vega takes an axis format's missing precision from the tick step, which one value makes zero)."""
    profile = tmp_path / "same-trust.yaml"
    profile.write_text(yaml.safe_dump({"org": "M", "external_domain": "m.de", "owa_host": "mail.m.de", "users": 85,
                                       "start": "2027-04-01", "internal_names": False, "acme_ok": True}))
    assert {o for o in decision.evaluate(profile).options.query("feasible")["trust"]} == {1.0}
    open_with_upload(page, streamlit_url, profile)
    chart = page.get_by_test_id("stVegaLiteChart").filter(has_text="Clients without a warning")
    expect(chart).to_be_visible()
    ticks = [t for t in chart.locator("svg text").all_text_contents() if t.endswith("%")]
    assert ticks == ["100%"], ticks


LEGEND_BOXES = """els => els.map(chart => {
    const box = chart.getBoundingClientRect();
    return [...chart.querySelectorAll('g.role-legend')].map(legend => {
        const b = legend.getBoundingClientRect();
        return {inside: b.left >= box.left - 1 && b.right <= box.right + 1 && b.bottom <= box.bottom + 1,
                labels: [...legend.querySelectorAll('g.role-legend-label text')].map(t => t.textContent)};
    });
})"""


def test_every_chart_legend_is_shown_whole_in_an_800_px_window(page: Page, streamlit_url):
    """QA s14 B fault 3: at 800 px the option legends ran off the right edge (Wildcard certificate and the Dominance
    legend not shown at all), and the criteria chart dropped two of its four group labels."""
    page.set_viewport_size({"width": 800, "height": 1000})
    page.goto(streamlit_url)
    wait_for_app_idle(page)
    table = engine().options.query("feasible")
    plotted = [LABELS[o] for o in LABELS if o in set(table["option"])]
    charts = page.get_by_test_id("stVegaLiteChart")
    expect(charts.filter(has_text="Clients without a warning")).to_be_visible()
    expect(charts.first.locator("g.role-legend-label text").first).to_be_attached()
    tradeoffs = charts.evaluate_all(LEGEND_BOXES)
    assert [[legend["labels"] for legend in chart] for chart in tradeoffs] == [
        [plotted], [plotted, ["non-dominated", "dominated"]]], tradeoffs
    assert all(legend["inside"] for chart in tradeoffs for legend in chart), tradeoffs
    axis = charts.first.locator("g.role-axis-label text").all_text_contents()
    assert all(any(text.startswith(group) for text in axis) for group in ("cost", "trust", "reconfiguration", "url"))
    page.get_by_role("tab", name="Cost over time").click()
    cost = charts.filter(has_text="Cumulative cost")
    expect(cost.locator("g.role-legend-label text").first).to_be_attached()
    [[legend]] = cost.evaluate_all(LEGEND_BOXES)
    assert legend == {"inside": True, "labels": plotted}
