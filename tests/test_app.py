"""AppTest: the what-if app shows what `decision.evaluate` says as the inputs change, profiles round-trip
through download and upload, and an Exchange export becomes a profile with the current state beside the
options. Expected values come from the engine (and decision.current_state) on the same input."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from figures import tenths
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

import decision
from decision import LABELS, views
from decision.appendix import build
from decision.appendix.model import pct as appendix_pct
from decision.catalog import default_catalog
from decision.current_state import LABEL as CURRENT_STATE
from decision.explain import BY_CODE, HTTP01_SENTENCE, LEFT_OUT_TITLES
from decision.parameters import default_parameters
from decision.profiles import FIELD_BY_NAME, FIELDS, profile_to_mapping
from decision.report import deployments
from decision.sensitivity import analyse, tornado_frame
from decision.timeline import rule_changes

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
EXAMPLES = ROOT / "data" / "profiles"
CONTOSO = EXAMPLES / "contoso-2026.yaml"
EXPORTS = ROOT / "tests" / "data" / "exchange"
KEYS = [views.widget_key(f.name) for f in FIELDS]


def run_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    return at


def engine(**changes) -> decision.Evaluation:
    """The engine's evaluation of the shipped Contoso example with `changes` applied."""
    return decision.evaluate({**yaml.safe_load(CONTOSO.read_text()), **changes})


def key(name: str) -> str:
    return views.widget_key(name)


def shown_table(at: AppTest) -> pd.DataFrame:
    """The ranked options table (the first table with a Rank column)."""
    return next(d.value for d in at.dataframe if "Rank" in d.value.columns)


def charts(at: AppTest) -> list[dict[str, pd.DataFrame]]:
    """The datasets of every chart on the page, by dataset name."""
    return [{d.name: convert_arrow_bytes_to_pandas_df(d.data.data) for d in c.proto.datasets}
            for c in at.get("vega_lite_chart")]


def assert_shows(at: AppTest, ev: decision.Evaluation, current: dict | None = None) -> None:
    """The recommendation card and the ranked table show exactly the engine's result; with `current`
    (`CurrentState.option_row`) the table starts with that row, unranked and unscored."""
    assert not at.exception
    rec = ev.recommendations.iloc[0]
    assert [s.value for s in at.subheader if s.value.startswith("Recommended")] == [
        f"Recommended: {LABELS[rec['recommendation']]}"]
    assert ev.why(0) in [m.value for m in at.markdown]
    rows = ev.option_rows(0)
    table = shown_table(at)
    if current is not None:
        first = table.iloc[0]
        assert first["Option"] == current["label"] == CURRENT_STATE
        assert pd.isna(first["Rank"]) and pd.isna(first["Score"]) and pd.isna(first["Trust"])
        assert (first["Certificates"], first["Issuances"], first["CA"], first["Why / notes"]) == (
            current["certificates"], current["certificate_issuances"], current["ca"], current["notes"])
        table = table.iloc[1:].reset_index(drop=True)
    else:
        assert CURRENT_STATE not in set(table["Option"])
    assert list(table["Option"]) == [LABELS[o] for o in rows["option"]]
    cost = next(c for c in table.columns if c.startswith("Cost ("))
    np.testing.assert_array_equal(table["Score"].to_numpy(dtype=float),
                                  [float(tenths(s)) if pd.notna(s) else np.nan for s in rows["score"]])
    for shown, column in ((cost, "cost_total"), ("Trust", "trust"),
                          ("Devices to touch", "devices_to_reconfigure"), ("Users with a new URL", "users_url_change"),
                          ("Issuances", "certificate_issuances")):
        np.testing.assert_array_equal(table[shown].to_numpy(dtype=float), rows[column].to_numpy(dtype=float),
                                      err_msg=shown)
    if pd.notna(rec["runner_up"]):
        assert at.metric[1].value == f"+{tenths(rec['margin'])}"



def test_starts_on_the_contoso_example_with_an_explanation():
    at = run_app()
    assert at.title[0].value.startswith("CertStrategy")
    assert "compares seven ways to put TLS certificates on on-premises Exchange" in at.markdown[0].value
    assert at.selectbox(key="example").value == "contoso-2026"
    assert at.caption[0].value.endswith("example contoso-2026.yaml")
    assert_shows(at, decision.evaluate(CONTOSO))
    assert all(k in at.session_state for k in KEYS), "one widget per profile field"
    assert at.number_input(key=key("mobile_devices")).value == 120


def test_more_mobile_devices_change_the_numbers_as_the_engine_says():
    at = run_app()
    before = shown_table(at)
    at.number_input(key=key("mobile_devices")).set_value(2000).run()
    ev = engine(mobile_devices=2000)
    assert_shows(at, ev)
    assert ev.recommendations.iloc[0]["runner_up"] == "wildcard"  # its one validation of contoso.com covers both names
    assert not shown_table(at).equals(before)
    assert at.caption[0].value.endswith("example contoso-2026.yaml, edited")


def test_switching_off_the_internal_ca_makes_that_option_infeasible():
    at = run_app()
    at.toggle(key=key("internal_ca")).set_value(False).run()
    assert_shows(at, engine(internal_ca=False))
    row = shown_table(at).set_index("Option").loc[LABELS["internal_ca"]]
    assert pd.isna(row["Rank"]) and row["Why / notes"] == "Not feasible: there is no AD CS enterprise CA"


def test_hybrid_mail_flow_shows_the_client_authentication_risk_in_the_notes_as_the_engine_words_it():
    """domain-facts §1.6: public certificates from 2026 carry server authentication only; with partner TLS each public
    option's notes say so (a risk to check, not scored), the internal CA's do not."""
    at = run_app()
    assert not any("risk to check" in n for n in shown_table(at)["Why / notes"])
    at.toggle(key=key("partner_tls")).set_value(True).run()
    ev = engine(partner_tls=True)
    assert_shows(at, ev)
    notes = shown_table(at).set_index("Option")["Why / notes"]
    for option in ("san", "acme"):
        sentence = ev.reason_details(0, option)["partner_tls_server_auth_only"]
        assert sentence.startswith("risk to check (unverified; not scored): the ")
        assert sentence in notes[LABELS[option]]
    assert "risk to check" not in notes[LABELS["internal_ca"]]


def ranked_element(at: AppTest):
    """The ranked options table element (the first with a Rank column)."""
    return next(d for d in at.dataframe if "Rank" in d.value.columns)


@pytest.mark.parametrize("upload", [EXAMPLES / "contoso-2007.yaml", EXPORTS / "ex2016-contoso.json"])
def test_the_cells_without_a_value_show_a_dash_not_the_word_none(upload):
    """Infeasible options have no rank or score, the current state no numbers: st.dataframe draws such a
    cell as its placeholder, which is the text "None" unless one is given."""
    at = run_app()
    at.file_uploader(key="upload").set_value((upload.name, upload.read_bytes(), "text/plain")).run()
    element = ranked_element(at)
    assert element.value[["Rank", "Score"]].isna().any(axis=None), "the table has cells without a value"
    assert element.proto.placeholder == "—"


def shown_text(element) -> pd.DataFrame:
    """The text a table's cells show where the app formats them itself (pandas Styler display values)."""
    display = element.proto.arrow_data.styler.display_values
    assert display, "the table leaves the text of its cells to the browser's number format"
    return convert_arrow_bytes_to_pandas_df(display)


@pytest.mark.parametrize("upload", [None, EXPORTS / "ex2016-contoso.json"])
def test_the_ranked_table_shows_money_in_whole_units_as_the_card_and_the_appendix_do(upload):
    """Cost and TCO had as many decimals as each value needed (827.5 beside 913.12, 75 beside 2,874.75); a half
    (the split site's 4,716.5: 2 certificates, 4,854 until the renewals reused domain validation, 2 names x 110 minutes
    = 137.5 less) is rounded as Python rounds it on the card, in the reasons and in the appendix (to even: 4,716), not
    as the browser would (4,717)."""
    at = run_app()
    if upload is not None:
        at.file_uploader(key="upload").set_value((upload.name, upload.read_bytes(), "text/plain")).run()
    element = ranked_element(at)
    cost = next(c for c in element.value.columns if c.startswith("Cost ("))
    tco = next(c for c in element.value.columns if c.startswith("TCO ("))
    text = shown_text(element)
    for column in (cost, tco):
        assert list(text[column]) == ["—" if pd.isna(v) else f"{v:,.0f}" for v in element.value[column]], column
    table = views.option_table(decision.evaluate(json.loads(at.session_state["good_key"])))
    rec = table[table["rank"] == 1].iloc[0]
    shown = text[element.value["Rank"] == 1].iloc[0]
    card = {m.label: m.value for m in at.metric}
    assert card["Cost over 3 years"] == f"USD {shown[cost]}" == f"USD {rec['cost_total']:,.0f}"
    assert card["Total cost of ownership"] == f"USD {shown[tco]}"
    if upload is None:
        assert 4716.5 in set(element.value[cost]) and "4,716" in set(text[cost]), "a half is rounded to even"


@pytest.mark.parametrize("upload", [None, EXPORTS / "ex2016-contoso.json"])
def test_the_ranked_table_shows_trust_in_whole_percent_as_the_card_and_the_appendix_do(upload):
    """The table wrote trust with two decimals (85.93%) beside the card's 100%; the appendix writes whole percent."""
    at = run_app()
    if upload is not None:
        at.file_uploader(key="upload").set_value((upload.name, upload.read_bytes(), "text/plain")).run()
    element = ranked_element(at)
    trust, text = element.value["Trust"], shown_text(element)["Trust"]
    assert any(v * 100 != round(v * 100) for v in trust.dropna()), "a trust with decimals to round"
    assert list(text) == ["—" if pd.isna(v) else appendix_pct(v) for v in trust]
    card = {m.label: m.value for m in at.metric}
    assert card["Clients without a warning"] == text[element.value["Rank"] == 1].iloc[0]
    tooltip = views.chart_spec("cost_trust", {}, "USD", 3.0)["layer"][0]["encoding"]["tooltip"]
    assert next(t["format"] for t in tooltip if t["title"] == "Trust") == ".0%", "the cost-trust chart's tooltip too"


def test_the_card_the_why_and_the_table_write_the_same_one_decimal_score():
    """QA: Contoso 2026 over 3 months. SAN scores 82.054: the why wrote its published 82.05 with `.1f` (82.0499... in
    binary: 82.0), the Score figure below it the unrounded value (82.1), and the table's `%.1f` of 82.05 gives 82.0."""
    at = run_app()
    at.number_input(key=key("horizon_years")).set_value(0.25).run()
    ev = engine(horizon_years=0.25)
    rec = ev.recommendations.iloc[0]
    assert rec["recommendation"] == "san" and rec["score"] == pytest.approx(82.054, abs=5e-4)
    assert_shows(at, ev)
    card = {m.label: m.value for m in at.metric}
    assert card["Score"] == "82.1 / 100" and card["Lead over the runner-up"] == "+4.8"
    assert any(m.value.startswith("SAN / UCC certificate scores 82.1 of 100, 4.8 ahead of") for m in at.markdown)
    table = shown_table(at).set_index("Option")
    assert table.loc[[LABELS["san"], LABELS["wildcard"]], "Score"].tolist() == [82.1, 77.3]
    appendix = build(ev, 0, "md").decode()  # the appendix writes them so too
    assert "SAN / UCC certificate scores 82.1 of 100, 4.8 ahead of" in appendix
    assert "| 82.1 |" in appendix and "| 77.3 |" in appendix


@pytest.mark.parametrize("upload", [None, EXPORTS / "exse-contoso.json"])
def test_the_ranked_table_writes_counts_as_whole_numbers_and_the_current_states_as_a_dash(upload):
    """QA: after an export was imported, the current state's empty cells made devices and users floats, which the
    table wrote with six decimals (0.000000, 330.000000, 655.000000)."""
    at = run_app()
    if upload is not None:
        at.file_uploader(key="upload").set_value((upload.name, upload.read_bytes(), "text/plain")).run()
    element = ranked_element(at)
    text = shown_text(element)
    for column in ("Devices to touch", "Users with a new URL", "Certificates", "Issuances"):
        values = element.value[column]
        assert list(text[column]) == ["—" if pd.isna(v) else f"{int(v):,}" for v in values], column
    if upload is not None:
        assert text["Devices to touch"].iloc[0] == "—" and {"0", "330"} <= set(text["Devices to touch"])


def test_the_current_certificates_without_a_replacement_show_a_dash_not_the_word_none():
    at = upload_export(run_app(), "ex2016-contoso.json")
    element = next(d for d in at.dataframe if "thumbprint" in d.value.columns)
    assert element.value["replacement lives (days)"].isna().any(), "self-signed certificates get no replacement"
    assert element.proto.placeholder == "—"


def test_with_no_feasible_option_the_chart_tabs_say_what_rules_each_option_out_instead_of_empty_charts():
    at = run_app()
    at.selectbox(key=key("ca")).set_value("entrust")
    at.toggle(key=key("internal_ca")).set_value(False)
    at.run()
    table = views.option_table(engine(ca="entrust", internal_ca=False))
    assert not table["feasible"].any()
    for tab in ("Tradeoffs", "Cost over time"):
        at.session_state["tab"] = tab
        at.run()
        assert not at.exception
        assert len(at.get("vega_lite_chart")) == 0, f"{tab}: a chart with nothing to plot"
        [box] = [i.value for i in at.info if i.value.startswith("**No option is feasible for this profile")]
        assert "change the inputs in the sidebar" in box
        for label, reasons in zip(table["label"], table["reasons_text"], strict=True):
            assert f"- **{views.md_escape(label)}**: {views.md_escape(reasons)}" in box


def test_a_weight_changes_scores_runner_up_and_the_weights_shown():
    at = run_app()
    at.number_input(key=key("w_cost")).set_value(2.0).run()
    ev = engine(w_cost=2.0)
    assert_shows(at, ev)
    assert ev.recommendations.iloc[0]["runner_up"] == "internal_ca"
    criteria = charts(at)[0]["criteria"]
    assert f"cost (weight {ev.weights(0)['cost']:.0%})" in set(criteria["criterion_label"])


def test_a_distrusted_ca_shows_its_status_and_changes_the_recommendation():
    at = run_app()
    ca = at.selectbox(key=key("ca"))
    assert "Entrust — DISTRUSTED" in ca.options
    ca.set_value("entrust").run()
    ev = engine(ca="entrust")
    assert ev.recommendations.iloc[0]["recommendation"] == "internal_ca"
    assert_shows(at, ev)
    assert [m.label for m in at.metric][1] != "Lead over the runner-up", "no runner-up: every other option is infeasible"
    assert any("Status on 2026-12-01: distrusted" in e.value for e in at.sidebar.error)
    notes = shown_table(at).set_index("Option")["Why / notes"]
    assert "the chosen CA is distrusted by browsers for new certificates" in notes[LABELS["san"]]


def test_another_currency_shows_the_engines_warnings_that_usd_prices_and_default_rates_are_not_converted():
    at = run_app()
    assert not [w.value for w in at.warning if "USD" in w.value]
    at.text_input(key=key("currency")).set_value("EUR").run()
    ev = engine(currency="EUR")
    assert_shows(at, ev)
    unconverted = [w for w in ev.warnings(0) if "USD" in w]
    assert [w.value for w in at.warning if "USD" in w.value] == unconverted and len(unconverted) == 2
    assert unconverted[0].startswith("Money is shown in EUR, but the CA prices and the extra public IP price (USD) are "
                                     "added as given, not converted")
    assert at.metric[2].value == f"EUR {ev.recommendations.iloc[0]['cost_total']:,.0f}"
    at.session_state["tab"] = "Assumptions"
    at.run()
    cas = next(d.value for d in at.dataframe if "ca" in d.value.columns).set_index("ca")
    assert "price single (USD/yr)" in cas.columns, "CA prices keep the catalog's currency"
    assert cas.loc["letsencrypt", "lifetime"] == "90 days; 64 from 2027-02-10; 45 from 2028-02-16"
    assert any("prices in USD a year" in m.value for m in at.markdown)
    at.text_input(key=key("currency")).set_value(" eur ").run()  # read as EUR, labels too (they said 'eur/hour')
    assert at.metric[2].value == f"EUR {ev.recommendations.iloc[0]['cost_total']:,.0f}"
    assert at.number_input(key=key("admin_rate")).label == views.field_label(FIELD_BY_NAME["admin_rate"], "EUR")
    assert "EUR" in at.number_input(key=key("admin_rate")).label
    assert "Range 0–10,000 EUR/hour." in at.number_input(key=key("admin_rate")).help  # the tooltip too
    at.text_input(key=key("currency")).set_value("usd").run()
    assert not at.exception and not [w.value for w in at.warning if "USD" in w.value]


@pytest.mark.parametrize("example", sorted(p.stem for p in EXAMPLES.glob("*.yaml")))
def test_the_picker_loads_every_example(example):
    at = run_app()
    at.selectbox(key="example").set_value(example).run()
    assert_shows(at, decision.evaluate(EXAMPLES / f"{example}.yaml"))
    assert f"{example}.yaml" in at.caption[0].value


def test_a_downloaded_profile_uploads_back_to_the_same_view():
    at = run_app()
    at.number_input(key=key("mobile_devices")).set_value(2000)
    at.selectbox(key=key("ca")).set_value("digicert")
    at.number_input(key=key("w_cost")).set_value(2.0)
    at.run()
    state = {k: at.session_state[k] for k in KEYS}
    table = shown_table(at)
    ev = engine(mobile_devices=2000, ca="digicert", w_cost=2.0)
    shown_profile = decision.evaluate(json.loads(at.session_state["good_key"])).profiles
    assert profile_to_mapping(shown_profile, 0) == profile_to_mapping(ev.profiles, 0)
    saved = views.profile_yaml(profile_to_mapping(ev.profiles, 0))  # the bytes "Download this profile" serves

    at.selectbox(key="example").set_value("small-office").run()
    assert not shown_table(at).equals(table)
    at.file_uploader(key="upload").set_value(("contoso-what-if.yaml", saved, "application/x-yaml")).run()
    assert not at.exception and not at.error
    assert {k: at.session_state[k] for k in KEYS} == state
    pd.testing.assert_frame_equal(shown_table(at), table)
    assert "uploaded contoso-what-if.yaml" in at.caption[0].value


@pytest.mark.parametrize(("name", "edited", "default"), [
    ("horizon_years", 1.0, 3.0), ("admin_rate", 200.0, default_parameters()["admin_rate"].values[0]),
    ("w_cost", 2.0, default_parameters()["w_cost"].values[0]), ("desktops", 200, 150), ("mobile_devices", 2000, 0)])
def test_a_cleared_number_field_is_blank_and_takes_its_default_not_the_widgets_minimum(name, edited, default):
    """QA 18a fault 1: a cleared number box went to Streamlit's min_value (a 3-month horizon, free labour, a weight
    of 0, no desktops) and the downloaded profile said so; blank means the field's default, as for text fields."""
    at = run_app()
    at.number_input(key=key(name)).set_value(edited).run()
    assert_shows(at, engine(**{name: edited}))
    at.number_input(key=key(name)).set_value(None).run()
    assert at.number_input(key=key(name)).value is None and not at.error
    shown = at.number_input(key=key(name)).proto.placeholder  # what the blank box stands for
    assert shown == ("same as users" if name == "desktops" else f"{default:g} (default)")
    profile = views.profile_from_state({k: at.session_state[k] for k in KEYS}, views.widget_specs(default_catalog().ids))
    assert name not in profile
    contoso = yaml.safe_load(CONTOSO.read_text())
    contoso.pop(name, None)
    ev = decision.evaluate(contoso)
    assert_shows(at, ev)
    saved = profile_to_mapping(decision.evaluate(json.loads(at.session_state["good_key"])).profiles, 0)
    assert saved == profile_to_mapping(ev.profiles, 0) and saved[name] == default  # what "Download this profile" saves
    at.selectbox(key="example").set_value("small-office").run()  # a loaded example fills the box again
    assert at.number_input(key=key(name)).value == views.state_from_profile(
        profile_to_mapping(decision.evaluate(EXAMPLES / "small-office.yaml").profiles, 0),
        views.widget_specs(default_catalog().ids))[key(name)]


def test_a_cleared_users_box_is_a_required_field_left_empty_not_zero_users():
    at = run_app()
    at.number_input(key=key("users")).set_value(None).run()
    assert at.number_input(key=key("users")).value is None
    assert at.number_input(key=key("users")).proto.placeholder == "required"
    [error] = [e.value for e in at.error]
    assert error.startswith("**Some inputs are not valid** — the results below are for the last valid profile")
    assert "Users (users): required field is empty" in error
    assert_shows(at, decision.evaluate(CONTOSO))  # the last valid profile's results, not those of 0 users
    at.number_input(key=key("users")).set_value(400).run()
    assert not at.error and at.number_input(key=key("desktops")).value is None
    assert_shows(at, engine(users=400, desktops=400))


@pytest.mark.parametrize(("content", "line"), [
    (b"org: X\nexternal_domain: x.com\nusres: 5\n",
     "bad.yaml, field 'usres': unknown field (did you mean 'users'?)"),
    (b"org: X\nexternal_domain: x.com\nusers: -5\n", "bad.yaml, row 1, field 'users': must be at least 0 (got '-5')"),
    (b"org: [unclosed\n", "bad.yaml: not valid YAML at line 2, column 1"),
])
def test_an_invalid_upload_shows_the_problems_and_keeps_the_previous_state(content, line):
    at = run_app()
    at.number_input(key=key("mobile_devices")).set_value(2000).run()
    state = {k: at.session_state[k] for k in KEYS}
    table = shown_table(at)
    at.file_uploader(key="upload").set_value(("bad.yaml", content, "application/x-yaml")).run()
    assert not at.exception
    assert len(at.error) == 1 and "Could not load bad.yaml" in at.error[0].value and line in at.error[0].value
    assert {k: at.session_state[k] for k in KEYS} == state
    pd.testing.assert_frame_equal(shown_table(at), table)
    assert_shows(at, engine(mobile_devices=2000))


def test_an_invalid_input_shows_why_and_keeps_the_last_valid_results():
    at = run_app()
    table = shown_table(at)
    at.text_input(key=key("external_domain")).set_value("not a domain").run()
    assert not at.exception
    assert "External domain (external_domain): not a valid DNS name" in at.error[0].value
    pd.testing.assert_frame_equal(shown_table(at), table)
    at.text_input(key=key("external_domain")).set_value("fabrikam.com").run()
    assert not at.error
    # the example's OWA host is the default mail.<external_domain>: it follows the domain (it kept mail.contoso.com)
    assert_shows(at, engine(external_domain="fabrikam.com", owa_host="mail.fabrikam.com"))


@pytest.mark.parametrize(("name", "typed"), [("users", -5), ("users", 99_999_999_999), ("horizon_years", 50.0),
                                            ("horizon_years", 0.0), ("admin_rate", -1.0), ("w_cost", 2000.0)])
def test_a_number_out_of_range_is_named_in_the_not_valid_box_with_its_range(name, typed):
    """QA 18a A: the browser refused a number out of the widget's range with only an icon in the box, and the page
    kept the old results without a word; it now reaches validation, which names the field and the range."""
    at = run_app()
    table, before = shown_table(at), at.number_input(key=key(name)).value
    at.number_input(key=key(name)).set_value(typed).run()
    assert not at.exception and at.number_input(key=key(name)).value == typed  # not clamped or reset to a default
    [issue] = engine(**{name: typed}).issues
    assert issue.field == name and re.fullmatch(r"must be at (least|most) [\d,.]+", issue.reason)
    label = views.field_label(FIELD_BY_NAME[name])
    [error] = [e.value for e in at.error]
    assert error.startswith("**Some inputs are not valid** — the results below are for the last valid profile")
    assert f"{label} ({name}): {issue.reason} (got '{typed}')" in error
    pd.testing.assert_frame_equal(shown_table(at), table)
    at.number_input(key=key(name)).set_value(before).run()
    assert not at.error


def test_an_import_without_users_shows_its_current_state_over_the_default_horizon_while_the_typed_one_is_not_valid():
    """A horizon out of range no longer stops at the widget: the current state panel (shown until users is filled
    in) took it as it was (a million years: an exception)."""
    at = upload_export(run_app(), "ex2010-litware.txt")
    at.number_input(key=key("horizon_years")).set_value(1e6).run()
    assert not at.exception
    [error] = [e.value for e in at.error if "Fill in the inputs" in e.value]
    assert "Horizon years (horizon_years): must be at most 10 (got '1000000.0')" in error
    assert "Users (users): required field is empty" in error
    state = views.current_state(views.parse_export_upload((EXPORTS / "ex2010-litware.txt").read_bytes(),
                                                          "ex2010-litware.txt", default_parameters(), default_catalog()),
                                default_parameters(), default_catalog(), at.date_input(key=key("start")).value,
                                FIELD_BY_NAME["horizon_years"].default, dt.date.today())
    assert any(c.value.endswith(state.period_text()) for c in at.caption)


def test_the_owa_host_placeholder_shows_the_default_host_not_the_internal_field_name():
    """QA 18a F: the blank OWA host's placeholder read 'mail.<external_domain>' in front of the client."""
    at = run_app()
    owa = key("owa_host")
    assert at.text_input(key=owa).value == "" and at.text_input(key=owa).placeholder == "mail.contoso.com"
    at.text_input(key=key("external_domain")).set_value(" Fabrikam.COM. ").run()
    assert at.text_input(key=owa).placeholder == "mail.fabrikam.com"  # the host validation derives and the engine uses
    shown = decision.evaluate(json.loads(at.session_state["good_key"])).profiles
    assert profile_to_mapping(shown, 0)["owa_host"] == "mail.fabrikam.com"
    at.text_input(key=key("external_domain")).set_value("").run()
    assert at.text_input(key=owa).placeholder == "mail.<external domain>"  # the label of the field to fill in
    assert not [s.placeholder for s in at.text_input if "_" in (s.placeholder or "")]


def test_tabs_show_the_engines_tradeoffs_timeline_names_commands_and_assumptions():
    at = run_app()
    ev = decision.evaluate(CONTOSO)
    rows = ev.option_rows(0)
    tradeoffs = charts(at)
    assert [set(c) for c in tradeoffs] == [{"criteria"}, {"options"}]
    feasible = rows[rows["feasible"]]
    normalised = tradeoffs[0]["criteria"].pivot(index="option", columns="criterion", values="normalised")
    for option in feasible["option"]:
        np.testing.assert_allclose(normalised.loc[option, list(decision.scoring.CRITERIA)],
                                   ev.scored.normalised[0][decision.OPTIONS.index(option)])

    at.session_state["tab"] = "Cost over time"
    at.run()
    data = charts(at)[0]
    assert list(data["rules"]["date"]) == list(rule_changes(ev, 0)["date"]) and "2027-03-15" in set(data["rules"]["date"])
    final = data["cumulative"].groupby("option")["cumulative"].last()
    np.testing.assert_allclose(final[feasible["option"]], feasible["cost_total"])
    at.toggle(key="include_clients").set_value(True).run()
    final = charts(at)[0]["cumulative"].groupby("option")["cumulative"].last()
    np.testing.assert_allclose(final[feasible["option"]], feasible["tco"])

    at.session_state["tab"] = "Certificates & names"
    at.run()
    names = at.dataframe[1].value
    assert list(names["Names on the certificate(s)"]) == list(rows["names"])
    assert "contoso.local" in at.info[0].value and "2015-11-01" in at.info[0].value

    at.session_state["tab"] = "Deploy"
    at.run()
    commands, dns = deployments(ev, 0)
    assert at.selectbox(key="deploy_acme").value == "acme"
    assert [c.value for c in at.code] == ["\n".join(commands["acme"]), "\n".join(dns["acme"])]
    at.selectbox(key="deploy_acme").set_value("san").run()
    assert [c.value for c in at.code] == ["\n".join(commands["san"]), "\n".join(dns["san"])]

    at.session_state["tab"] = "Assumptions"
    at.run()
    assert not at.exception
    assert len(at.dataframe[1].value) == len(ev.params.records())
    assert set(at.dataframe[2].value["ca"]) == set(rows["ca"]) - {""}


def left_out_infos(at: AppTest) -> dict[str, str]:
    """The names tab's boxes that say why names are left out, by their title (`explain.LEFT_OUT_TITLES`)."""
    titles = {f"**{t}: ": rule for rule, t in LEFT_OUT_TITLES.items()}
    return {rule: i.value for i in at.info for start, rule in titles.items() if i.value.startswith(start)}


def test_the_table_and_the_names_tab_say_why_acme_by_http_01_and_a_reverse_zone_leave_names_out():
    """QA faults 3 and 9: with the AD domain = the mail domain and no DNS API the ACME client asked for names HTTP-01
    cannot validate, and a reverse-zone AD domain went on the public SAN. The reason and the names tab say why.
    QA s13 fault 4: one box called them all names a public CA refuses; each rule now has its own, for its options."""
    at = run_app()
    at.text_input(key=key("internal_domain")).set_value("contoso.com").run()
    assert not at.exception
    http01 = BY_CODE["internal_names_http01"].text
    assert http01 in shown_table(at).set_index("Option").loc[LABELS["acme"], "Why / notes"]
    at.session_state["tab"] = "Certificates & names"
    at.run()
    infos = left_out_infos(at)
    # contoso.com, the AD domain, stays: it is the bare domain on Exchange (root_on_exchange), reached over HTTP
    assert set(infos) == {"internal", "http01"}
    assert infos["internal"].startswith(f"**{LEFT_OUT_TITLES['internal']}: server01** — left out by every option but "
                                        f"{LABELS['internal_ca']}. ")
    assert "expire after 2015-11-01" in infos["internal"] and "HTTP-01" not in infos["internal"]
    assert infos["http01"].startswith(f"**{LEFT_OUT_TITLES['http01']}: server01.contoso.com** — left out by "
                                      f"{LABELS['acme']}. ")
    assert views.md_escape(HTTP01_SENTENCE) in infos["http01"] and "2015" not in infos["http01"]
    assert not any("reverse zone" in i for i in infos.values())
    at.text_input(key=key("internal_domain")).set_value("5.0.0.10.in-addr.arpa").run()
    infos = left_out_infos(at)
    assert "5.0.0.10.in-addr.arpa" in infos["reverse_zone"] and "HTTP-01" not in infos["reverse_zone"]
    assert ("issued from 2026-03-15 may carry a name in an IP reverse zone (in-addr.arpa, ip6.arpa), and this "
            "horizon's certificates are issued or renewed from then on. Source: CA/B Forum") in infos["reverse_zone"]


def upload_profile(at: AppTest, profile: dict) -> AppTest:
    at.file_uploader(key="upload").set_value(("profile.yaml", yaml.safe_dump(profile).encode(), "text/plain")).run()
    assert not at.exception and not at.error
    return at


ALPHA = {"org": "Alpha Ltd", "external_domain": "alpha.co.uk", "exchange_version": "2019", "users": 1250,
         "mobile_devices": 300, "mdm_share": 0.45, "servers": ["EX1", "EX2"], "split_dns": True, "acme_ok": False,
         "start": "2026-12-01", "horizon_years": 3, "admin_rate": 95.5, "currency": "GBP",
         "internal_domain": "alpha.local", "internal_names": True}  # QA s13 qa13/alpha.yaml


def test_the_names_tab_says_in_sentences_which_dates_and_suffixes_leave_internal_names_out():
    """QA s13 fault 5: the box pasted the parameters' descriptions ('may expire after this date: …', never naming the
    date, then a bare 'DNS suffixes that are never publicly issuable …'). It says what appendix 5.2 says."""
    at = upload_profile(run_app(), ALPHA)
    at.session_state["tab"] = "Certificates & names"
    at.run()
    infos = left_out_infos(at)
    assert list(infos) == ["internal"]
    sentence = ("A public certification authority refuses internal names: server names of a single label and names "
                "under .local (a suffix that is reserved or not delegated in the root zone). Since 2012-07-01 no "
                "publicly trusted certificate that carries one may expire after 2015-11-01, so no certificate issued "
                "from 2015-11-01 on can carry them.")
    assert infos["internal"].startswith(f"**{LEFT_OUT_TITLES['internal']}: alpha.local, ex1.alpha.local, "
                                        f"ex2.alpha.local, ex1, ex2** — left out by every option but "
                                        f"{LABELS['internal_ca']}. {sentence} Source: CA/B Forum BR")
    assert "this date" not in infos["internal"] and "never publicly issuable" not in infos["internal"]
    appendix = build(decision.evaluate(ALPHA), 0, "md").decode()
    assert sentence in appendix.split("### 5.2")[1].split("### 5.3")[0]  # the appendix says the same


def test_the_deploy_tab_shows_the_outlook_anywhere_principal_of_a_wildcard_on_exchange_2007():
    at = run_app()
    at.selectbox(key="example").set_value("contoso-2007").run()
    at.session_state["tab"] = "Deploy"
    at.run()
    [deploy] = [s for s in at.selectbox if s.key.startswith("deploy_")]
    deploy.set_value("wildcard").run()
    shown = at.code[0].value.splitlines()
    assert shown == deployments(decision.evaluate(EXAMPLES / "contoso-2007.yaml"), 0)[0]["wildcard"]
    assert "Set-OutlookProvider -Identity EXPR -CertPrincipalName msstd:*.contoso.com" in shown


# ------------------------------------------------------------------------------------ robustness (issue 5)

def band_captions(at: AppTest) -> list[str]:
    """The stability captions under the weight widgets, in widget order (cost, trust, reconfiguration, URL change)."""
    return [c.value for c in at.sidebar.caption if c.value.startswith("Recommendation holds")]


def shown_tornado(at: AppTest, engine_frame: pd.DataFrame) -> pd.DataFrame:
    """The tornado chart's data, restricted to the engine's columns, missing values as NaN (as Arrow returns them)."""
    [data] = [c["tornado"] for c in charts(at) if "tornado" in c]
    return data[list(engine_frame.columns)]


def test_the_robustness_tab_shows_the_engines_sentences_tornado_and_flip_points():
    at = run_app()
    # small-office: flips in profile values and in a price (the 2007 Contoso, once used here, has only a price flip
    # since its SAN's validation stopped counting the internal names)
    at.selectbox(key="example").set_value("small-office").run()
    at.session_state["tab"] = "Robustness"
    at.run()
    assert not at.exception
    sens = analyse(decision.evaluate(EXAMPLES / "small-office.yaml"), 0)
    assert sens.flip_points and sens.price_flips
    expected = tornado_frame(sens)
    assert "Sectigo SAN price" in set(expected["factor"])  # price factors name the CA, not its catalog id
    pd.testing.assert_frame_equal(shown_tornado(at, expected), expected.fillna(np.nan), check_dtype=False)
    text = "\n".join(m.value for m in at.markdown)
    assert sens.sentences() and all(f"- {views.md_escape(s)}" in text for s in sens.sentences())
    fields = next(d.value for d in at.dataframe if "Input" in d.value.columns)
    prices = next(d.value for d in at.dataframe if "Used by" in d.value.columns)
    assert list(fields["Changes at"]) == [f.value for f in sens.flip_points]
    assert list(prices["Changes at"]) == [f.value for f in sens.price_flips]
    assert list(prices["New winner"]) == [LABELS[f.option] for f in sens.price_flips]

    at.number_input(key=key("w_cost")).set_value(2.0).run()  # a what-if: the tab follows the profile
    sens = analyse(decision.evaluate({**yaml.safe_load((EXAMPLES / "small-office.yaml").read_text()), "w_cost": 2.0}), 0)
    changed = tornado_frame(sens)
    assert not changed.equals(expected)
    pd.testing.assert_frame_equal(shown_tornado(at, changed), changed.fillna(np.nan), check_dtype=False)
    text = "\n".join(m.value for m in at.markdown)
    assert all(f"- {views.md_escape(s)}" in text for s in sens.sentences())


def test_a_flip_that_only_ties_todays_winner_is_told_as_a_tie_in_the_flip_table_and_the_tornado():
    """With a DNS API, free admin labour only brings the wildcard level with ACME: the engine's sentence says it draws
    level and comes first in the option order; the table and the tooltip said it takes over."""
    at = run_app()
    at.toggle(key=key("dns_api")).set_value(True).run()
    at.session_state["tab"] = "Robustness"
    at.run()
    assert not at.exception
    sens = analyse(engine(dns_api=True), 0)
    [tie] = [f for f in sens.flip_points if f.tie]
    assert (tie.field, tie.option, tie.tie) == ("admin_rate", "wildcard", "order")
    words = "draws level (an exact tie on score), ranked first as it comes first in the fixed order of the options"
    fields = next(d.value for d in at.dataframe if "Input" in d.value.columns)
    assert list(fields["How"]) == [words if f.tie else "takes over" for f in sens.flip_points]
    [tornado] = [c["tornado"] for c in charts(at) if "tornado" in c]
    row = tornado[tornado["text"] == tie.text].iloc[0]
    assert (row["new_winner"], row["how"]) == (LABELS["wildcard"], words)
    assert set(tornado.loc[tornado["flip"] & (tornado["text"] != tie.text), "how"]) == {"takes over"}
    [spec] = [c for c in at.get("vega_lite_chart") if "tornado" in c.proto.spec]
    titles = [t["title"] for t in json.loads(spec.proto.spec)["layer"][0]["encoding"]["tooltip"]]
    assert "How" in titles and "Takes over" not in titles


def test_each_weight_shows_the_engines_stability_band_and_it_moves_with_the_other_weights():
    at = run_app()
    bands = analyse(engine(), 0, flips=False).weights
    cost, trust = band_captions(at)[:2]
    assert f"holds for {bands['cost'].raw_low:.2f}–{bands['cost'].raw_high:.2f} (other weights fixed)" in cost
    assert cost.endswith(f"above: {LABELS[bands['cost'].above]}")
    assert bands["trust"].raw_high == np.inf and "0.00 and up (no limit)" in trust
    assert len(band_captions(at)) == 4

    at.number_input(key=key("w_trust")).set_value(1.0).run()
    moved = analyse(engine(w_trust=1.0), 0, flips=False).weights["cost"]
    assert f"{moved.raw_high:.2f}" != f"{bands['cost'].raw_high:.2f}"
    assert f"holds for {moved.raw_low:.2f}–{moved.raw_high:.2f} (other weights fixed)" in band_captions(at)[0]

    at.text_input(key=key("external_domain")).set_value("not a domain").run()
    assert at.error and band_captions(at) == [], "no band for the last valid profile under the current widgets"


@pytest.mark.parametrize(("example", "admin_rate", "changes"), [
    # the wildcard runner-up is better on no criterion: no weights can put it first (QA: the warning said they could),
    # but moving one far enough hands it to the internal CA, as the Robustness tab and the appendix say (QA s13 B)
    ("midsize-byod", None, "assumptions could reverse the order (no change of the weights can: Wildcard certificate is "
                           "better on no criterion; moving one weight far enough lets Internal CA (AD CS) take over "
                           "instead)"),
    # SRV-record autodiscover is cheaper: more weight on cost flips it
    ("small-office", 20.0, "weights or the assumptions could reverse the order"),
    ("contoso-2026", None, None),
])
def test_a_close_call_is_flagged_on_the_recommendation(example, admin_rate, changes):
    at = run_app()
    at.selectbox(key="example").set_value(example).run()
    source = yaml.safe_load((EXAMPLES / f"{example}.yaml").read_text())
    if admin_rate is not None:
        at.number_input(key=key("admin_rate")).set_value(admin_rate).run()
        source["admin_rate"] = admin_rate
    ev = decision.evaluate(source)
    rec = ev.recommendations.iloc[0]
    assert bool(rec["close_call"]) is (changes is not None)
    warnings = [w.value for w in at.warning if w.value.startswith("**Close call:**")]
    if changes:
        assert warnings == [f"**Close call:** {LABELS[rec['runner_up']]} is only {tenths(rec['margin'])} score points behind "
                            f"(under {ev.scored.close_call_share:.0%} of the winner's score), so a small change in the "
                            f"{changes} — see the Robustness tab."]
    else:
        assert warnings == []


def test_the_close_call_card_says_which_option_a_weight_moved_far_enough_hands_the_win_to():
    """QA s13 judgement B (qa13/alpha.yaml): the card said only 'not of the weights: it is better on no criterion',
    while the Robustness tab shows a reconfiguration weight below 2.8% handing the win to SRV-record autodiscover."""
    at = upload_profile(run_app(), ALPHA)
    ev = decision.evaluate(ALPHA)
    rec = ev.recommendations.iloc[0]
    assert (rec["recommendation"], rec["runner_up"], bool(rec["close_call"])) == ("wildcard", "san", True)
    assert analyse(ev, 0, flips=False).weights["reconfiguration"].below == "srv_record"
    change = ("a small change in the assumptions could reverse the order (no change of the weights can: SAN / UCC "
              "certificate is better on no criterion; moving one weight far enough lets SRV-record autodiscover take "
              "over instead)")
    [warning] = [w.value for w in at.warning if w.value.startswith("**Close call:**")]
    assert warning.endswith(f"so {change} — see the Robustness tab.")
    assert f"nearly as good, and {change}." in build(ev, 0, "md").decode()  # the appendix's note says the same


# ------------------------------------------------------------------------- Exchange export upload (issue 7)

def upload_export(at: AppTest, name: str) -> AppTest:
    return at.file_uploader(key="upload").set_value((name, (EXPORTS / name).read_bytes(), "text/plain")).run()


def imported(name: str, **changes) -> tuple[decision.Evaluation, views.Imported]:
    """What the app should show for an export: the engine on the imported profile, and the parsed import."""
    params, catalog = default_parameters(), default_catalog()
    result = views.parse_export_upload((EXPORTS / name).read_bytes(), name, params, catalog)
    return decision.evaluate({**result.profile, **changes}), result


def expected_state(result: views.Imported, ev: decision.Evaluation):
    row = ev.profiles.iloc[0]
    return views.current_state(result, default_parameters(), default_catalog(), dt.date.fromisoformat(
        profile_to_mapping(ev.profiles, 0)["start"]), float(row["horizon_years"]), dt.date.today())


def boxes(at: AppTest, kind: str) -> str:
    return "\n".join(e.value for e in getattr(at, kind))


@pytest.mark.parametrize("name", ["ex2016-contoso.json", "exse-contoso.txt"])
def test_an_exchange_export_fills_the_profile_and_shows_the_current_state_beside_the_options(name):
    at = upload_export(run_app(), name)
    ev, result = imported(name)
    state = expected_state(result, ev)
    assert_shows(at, ev, state.option_row())
    assert at.text_input(key=key("external_domain")).value == "contoso.com"
    assert at.number_input(key=key("users")).value == result.export.counts["user_mailboxes"].value
    assert at.number_input(key=key("mobile_devices")).value == result.export.counts["mobile_devices"].value
    assert at.caption[0].value.endswith(f"imported {name}")
    assert "Current state: the certificates on the servers today" in [s.value for s in at.subheader]
    for finding in state.findings:  # each finding in the box of its level
        kind = {"error": "error", "warning": "warning", "info": "info"}[finding.level]
        assert views.md_escape(finding.text) in boxes(at, kind)
    certificates = next(d.value for d in at.dataframe if "thumbprint" in d.value.columns)
    assert list(certificates["thumbprint"]) == [c["thumbprint"] for c in state.facts["certificates"]]
    assert list(certificates["replace by"]) == [r["replace by"] for r in state.certificate_rows()]
    assert any(f"users: {result.profile['users']} user mailboxes" in m.value for m in at.markdown)


def test_the_se_paste_shows_the_name_clients_warn_about_and_the_expired_certificate():
    at = upload_export(run_app(), "exse-contoso.txt")
    errors = boxes(at, "error")
    assert "ex02.contoso.com (EWS internal URL) is on no certificate bound to IIS" in errors
    assert "CN=EX02 (self-signed; IMAP, POP, SMTP on EX02) expired on 2026-11-08 and is still enabled." in errors
    assert at.selectbox(key=key("exchange_version")).value == "SE"
    assert at.toggle(key=key("partner_tls")).value is True


def test_imported_server_names_keep_their_case_and_a_name_with_a_space_is_not_split():
    at = upload_export(run_app(), "exse-contoso.txt")
    assert at.text_input(key=key("servers")).value == "EX01;EX02"  # it showed ex01;ex02

    text = (EXPORTS / "exse-contoso.txt").read_text()
    renamed = text.replace("Name                : EX01", "Name                : Ex 1").replace("-Server EX01", '-Server "Ex 1"')
    at.file_uploader(key="upload").set_value(("renamed.txt", renamed.encode(), "text/plain")).run()
    assert not at.exception and "Could not load" not in boxes(at, "error")
    assert at.caption[0].value.endswith("imported renamed.txt")
    assert at.text_input(key=key("servers")).value == "EX02"  # it showed ex;1;ex02: two servers made of one
    certificates = next(d.value for d in at.dataframe if "thumbprint" in d.value.columns)
    assert set(certificates["servers"]) == {"Ex 1, EX02", "Ex 1", "EX02"}  # in Windows' order, not upper case first
    assert any("servers: left out 'Ex 1'" in m.value for m in at.markdown)


def test_an_export_without_a_mailbox_count_asks_for_users_and_shows_no_made_up_results():
    at = upload_export(run_app(), "ex2010-litware.txt")
    assert not at.exception
    assert at.number_input(key=key("users")).value is None
    assert not [s for s in at.subheader if s.value.startswith("Recommended")]
    assert not any("Rank" in d.value.columns for d in at.dataframe), "no stale results of the previous profile"
    [error] = [e.value for e in at.error if "Fill in the inputs" in e.value]
    assert "Users (users): required field is empty" in error
    assert views.md_escape("the count 1000 from 'Get-Mailbox | Measure-Object' was not used") in error
    assert "exch01.litware.local" in boxes(at, "error")  # the current state is shown all the same

    at.number_input(key=key("users")).set_value(480).run()
    ev, result = imported("ex2010-litware.txt", users=480)
    assert_shows(at, ev, expected_state(result, ev).option_row())
    assert at.number_input(key=key("mobile_devices")).value == 212


@pytest.mark.parametrize("years_from_today", [1.5, -3.0])
def test_the_current_states_row_and_panel_count_the_options_horizon_and_say_which_period(years_from_today):
    """QA: with the start moved to a later year the row counted issuances from today to the horizon's end beside the
    options' one year; with a horizon that had ended, the panel gave today as its end."""
    start = (dt.date.today() + dt.timedelta(days=round(365 * years_from_today))).replace(day=1)
    at = upload_export(run_app(), "exse-contoso.json")
    at.date_input(key=key("start")).set_value(start)
    at.number_input(key=key("horizon_years")).set_value(1.0).run()
    ev, result = imported("exse-contoso.json", start=start.isoformat(), horizon_years=1.0)
    state = expected_state(result, ev)
    assert (state.start, state.end) == (start, start.replace(year=start.year + 1))
    row = state.option_row()
    if years_from_today > 0:
        assert row["certificate_issuances"] == sum(d >= start for r in state.replacements for d in r.issuances)
        assert_shows(at, ev, row)
    else:
        assert row["certificate_issuances"] is None
        assert shown_text(ranked_element(at))["Issuances"].iloc[0] == "—"
        assert shown_table(at)["Why / notes"].iloc[0] == row["notes"]
    assert row["notes"].endswith(state.period_text())
    [caption] = [c.value for c in at.caption if "server(s)" in c.value]
    assert caption.endswith(views.md_escape(state.period_text()))
    assert f"{state.start.isoformat()} to {state.end.isoformat()}" in caption


def test_a_what_if_change_after_an_import_keeps_the_current_state_and_an_example_clears_it():
    at = upload_export(run_app(), "ex2016-contoso.json")
    at.toggle(key=key("acme_ok")).set_value(True).run()
    ev, result = imported("ex2016-contoso.json", acme_ok=True)
    assert_shows(at, ev, expected_state(result, ev).option_row())
    assert at.caption[0].value.endswith("imported ex2016-contoso.json, edited")
    at.selectbox(key="example").set_value("small-office").run()
    assert_shows(at, decision.evaluate(EXAMPLES / "small-office.yaml"))
    assert "Current state: the certificates on the servers today" not in [s.value for s in at.subheader]


def test_an_export_edited_into_another_organisations_profile_leaves_the_current_state_out():
    """QA: after an import, the sidebar edited to another client's domain and servers paired that client's profile with
    the export's certificates, on the page and in its appendix's section 2.1 (as `appendix --export` refuses)."""
    at = upload_export(run_app(), "ex2016-contoso.json")
    for field, value in (("external_domain", "woodgrovebank.com"), ("extra_domains", ""), ("servers", "MBX01")):
        at.text_input(key=key(field)).set_value(value).run()
    assert any("looks like another organisation's export" in w.value and "left out" in w.value for w in at.warning)
    assert "Current state: the certificates on the servers today" not in [s.value for s in at.subheader]
    at.text_input(key=key("servers")).set_value("EX01").run()  # one server in common: the same organisation
    assert "Current state: the certificates on the servers today" in [s.value for s in at.subheader]


@pytest.mark.parametrize(("content", "line"), [
    (b"{", "bad.json: looks like JSON but cannot be read"),
    (b"hello", "bad.json: neither collect-exchange.ps1 JSON nor recognisable Format-List output"),
    (b'{"servers": [{"Name": "EX01", "AdminDisplayVersion": "Version 15.1 (Build 2507.6)"}]}',
     "bad.json: cannot import: no accepted domain (Get-AcceptedDomain)"),
])
def test_a_bad_export_shows_why_and_keeps_the_previous_state(content, line):
    at = run_app()
    table = shown_table(at)
    at.file_uploader(key="upload").set_value(("bad.json", content, "application/json")).run()
    assert not at.exception
    assert len(at.error) == 1 and "Could not load bad.json" in at.error[0].value and line in at.error[0].value
    pd.testing.assert_frame_equal(shown_table(at), table)


def test_a_one_year_horizon_reads_one_year_on_the_card():
    """The card said 'Cost over 1 years'."""
    at = run_app()
    at.number_input(key=key("horizon_years")).set_value(1.0).run()
    assert "Cost over 1 year" in {m.label for m in at.metric}


ACME_TIE = {"org": "株式会社テスト & Ωmega", "exchange_version": "SE", "start": "2026-12-01", "horizon_years": 5,
            "external_domain": "sunriseenergy4.net", "internal_domain": "corp.sunriseenergy4.net", "servers": ["EXCH01"],
            "internal_names": True, "root_on_exchange": False, "split_dns": True, "users": 32, "desktops": 29,
            "domain_joined_share": 0.81, "mobile_devices": 47, "mdm_share": 0, "partner_tls": False,
            "internal_ca": False, "acme_ok": True, "dns_api": True, "spare_ip": False, "currency": "EUR",
            "admin_rate": 113, "w_cost": 0.02, "w_trust": 0.34, "w_reconfiguration": 0.14,
            "w_url_change": 0.5}  # QA s14 B p_acme.yaml: ACME a hair ahead of Wildcard


def test_a_lead_under_a_tenth_reads_less_than_0_1_on_the_card_as_in_the_why_and_the_appendix():
    """QA s14 B fault 8: the card said 'only 0.0 score points behind' and '+0.0' above the why text's 'less than 0.1
    ahead'."""
    rec = decision.evaluate(ACME_TIE).recommendations.iloc[0]
    assert (rec["recommendation"], rec["runner_up"], bool(rec["close_call"])) == ("acme", "wildcard", True)
    assert tenths(rec["margin"]) == "0.0" and "less than 0.1 ahead" in decision.evaluate(ACME_TIE).why(0)
    at = upload_profile(run_app(), ACME_TIE)
    [warning] = [w.value for w in at.warning if w.value.startswith("**Close call:**")]
    assert warning.startswith(f"**Close call:** {LABELS['wildcard']} is less than 0.1 score points behind (under ")
    assert {m.label: m.value for m in at.metric}["Lead over the runner-up"] == "less than 0.1"
    assert any(f"less than 0.1 ahead of {LABELS['wildcard']}" in m.value for m in at.markdown)
    assert "0.0" not in warning
