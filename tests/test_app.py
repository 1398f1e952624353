"""AppTest: the what-if app shows what `decision.evaluate` says as the inputs change, and profiles
round-trip through download and upload. Expected values come from the engine on the same profile."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

import decision
from decision import LABELS, views
from decision.profiles import FIELDS, profile_to_mapping
from decision.report import deployments
from decision.timeline import rule_changes

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
EXAMPLES = ROOT / "data" / "profiles"
CONTOSO = EXAMPLES / "contoso-2026.yaml"
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
    return at.dataframe[0].value


def charts(at: AppTest) -> list[dict[str, pd.DataFrame]]:
    """The datasets of every chart on the page, by dataset name."""
    return [{d.name: convert_arrow_bytes_to_pandas_df(d.data.data) for d in c.proto.datasets}
            for c in at.get("vega_lite_chart")]


def assert_shows(at: AppTest, ev: decision.Evaluation) -> None:
    """The recommendation card and the ranked table show exactly the engine's result."""
    assert not at.exception
    rec = ev.recommendations.iloc[0]
    assert [s.value for s in at.subheader if s.value.startswith("Recommended")] == [
        f"Recommended: {LABELS[rec['recommendation']]}"]
    assert ev.why(0) in [m.value for m in at.markdown]
    rows = ev.option_rows(0)
    table = shown_table(at)
    assert list(table["Option"]) == [LABELS[o] for o in rows["option"]]
    cost = next(c for c in table.columns if c.startswith("Cost ("))
    for shown, column in ((cost, "cost_total"), ("Score", "score"), ("Trust", "trust"),
                          ("Devices to touch", "devices_to_reconfigure"), ("Users with a new URL", "users_url_change"),
                          ("Issuances", "certificate_issuances")):
        np.testing.assert_array_equal(table[shown].to_numpy(dtype=float), rows[column].to_numpy(dtype=float),
                                      err_msg=shown)
    if pd.notna(rec["runner_up"]):
        assert at.metric[1].value == f"{rec['margin']:+.1f}"


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
    assert ev.recommendations.iloc[0]["runner_up"] == "srv_record"
    assert not shown_table(at).equals(before)
    assert at.caption[0].value.endswith("example contoso-2026.yaml, edited")


def test_switching_off_the_internal_ca_makes_that_option_infeasible():
    at = run_app()
    at.toggle(key=key("internal_ca")).set_value(False).run()
    assert_shows(at, engine(internal_ca=False))
    row = shown_table(at).set_index("Option").loc[LABELS["internal_ca"]]
    assert pd.isna(row["Rank"]) and row["Why / notes"] == "Not feasible: there is no AD CS enterprise CA"


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
    assert_shows(at, engine(external_domain="fabrikam.com"))


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
