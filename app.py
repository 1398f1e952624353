"""CertStrategy what-if app: sidebar widgets → profile → `decision.evaluate` → views.

Run with `streamlit run app.py`. Every figure shown comes from the engine; this file only lays it out.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from decision import LABELS, InputError, appendix, views
from decision.catalog import Catalog, default_catalog
from decision.current_state import CurrentState
from decision.dates import from_day, horizon_end_day, to_day
from decision.errors import Issue
from decision.explain import LEFT_OUT_TITLES, UNDER_A_TENTH, lead_points, points
from decision.parameters import Parameters, default_parameters
from decision.profiles import FIELD_BY_NAME, WEIGHT_FIELDS
from decision.report import data_stamp, versions, years_text
from decision.safe_output import csv_bytes, xlsx_bytes
from decision.sensitivity import NOTES
from decision.views import ProfileResults, literal_lines, md_escape

EXAMPLES = Path(__file__).resolve().parent / "data" / "profiles"
DEFAULT_EXAMPLE = "contoso-2026"
TABS = ("Tradeoffs", "Robustness", "Cost over time", "Certificates & names", "Deploy", "Assumptions")
INTRO = ("CertStrategy compares seven ways to put TLS certificates on on-premises Exchange — on cost, trust, "
         "client reconfiguration and URL changes, under the certificate rules in force on each date — and "
         "recommends one. Describe the organisation in the sidebar (start from an example, or upload what "
         "`scripts/collect-exchange.ps1` exported from your server) and watch the tradeoffs move.")
FINDING_BOXES = {"error": st.error, "warning": st.warning, "info": st.info}
MISSING = "—"  # what a table cell without a value shows (st.dataframe's default is the text "None")


# ------------------------------------------------------------------------------ cached data

@st.cache_resource(show_spinner=False)
def data() -> tuple[Parameters, Catalog]:
    """The shipped parameters and CA catalog."""
    return default_parameters(), default_catalog()


@st.cache_resource(show_spinner=False)
def examples() -> dict[str, dict[str, Any]]:
    """Every example profile in data/profiles, validated, by file stem."""
    params, catalog = data()
    return {p.stem: views.parse_profile_upload(p.read_bytes(), p.name, params, catalog)
            for p in sorted(EXAMPLES.glob("*.yaml"))}


@st.cache_resource(max_entries=256, show_spinner=False)
def results_for(key: str) -> ProfileResults:
    """One profile's results (key = `views.profile_key`), evaluated lazily, shared read-only."""
    params, catalog = data()
    return ProfileResults(json.loads(key), params, catalog)


# -------------------------------------------------------------------------- loading profiles

def specs() -> tuple[views.WidgetSpec, ...]:
    currency = str(st.session_state.get(views.widget_key("currency")) or "").strip().upper()  # as validation reads it
    typed = {name: st.session_state.get(views.widget_key(name)) for name in FIELD_BY_NAME}
    params, catalog = data()
    return views.widget_specs(catalog.ids, currency or "USD", typed, params)


def load_profile(state: dict[str, Any], source: str, imported: views.Imported | None = None) -> None:
    """Put widget values into the widgets (before they are drawn), remember an imported export (or forget
    the last one), and forget an upload error and the last valid results of the previous profile."""
    st.session_state.update(state)
    st.session_state["source"] = source
    st.session_state["loaded_key"] = views.profile_key(views.profile_from_state(state, specs()))
    st.session_state["imported"] = imported
    for stale in ("upload_error", "good_key"):
        st.session_state.pop(stale, None)


def on_example() -> None:
    name = st.session_state["example"]
    load_profile(views.state_from_profile(examples()[name], specs()), f"example {name}.yaml")


def on_upload() -> None:
    """A profile YAML, or an Exchange export (*.json / *.txt) that becomes a profile plus the current state."""
    file = st.session_state.get("upload")
    if file is None:
        return
    params, catalog = data()
    try:
        views.check_upload_size(file.name, file.size)
        if views.is_export_name(file.name):
            imported = views.parse_export_upload(file.getvalue(), file.name, params, catalog)
            load_profile(imported.widget_state(specs()), f"imported {file.name}", imported)
        else:
            profile = views.parse_profile_upload(file.getvalue(), file.name, params, catalog)
            load_profile(views.state_from_profile(profile, specs()), f"uploaded {file.name}")
    except InputError as exc:
        st.session_state["upload_error"] = (file.name, str(exc).splitlines())


# ---------------------------------------------------------------------------------- sidebar

def ca_selector(spec: views.WidgetSpec, params: Parameters, catalog: Catalog) -> None:
    """The CA picker: each CA's status on the start date in the list, the chosen one's capabilities below."""
    start = st.session_state.get(views.widget_key("start")) or dt.date.today()
    day = to_day(start)
    chosen = st.selectbox(spec.label, key=spec.key, help=spec.help,
                          format_func=lambda ca_id: views.ca_label(catalog, ca_id, day), **spec.kwargs)
    if chosen == views.CHEAPEST:
        st.caption("Each public option uses the cheapest CA able to issue it on the start date and at every "
                   "renewal in the horizon; of CAs that cost the same, the one needing fewer issuances, then the first "
                   "in the catalog, and the option's reasons say so (the CAs used are listed under Assumptions).")
        return
    record = catalog[chosen].record(day)
    text = (f"**Status on {start.isoformat()}: {record['status']}** · {views.ca_summary(record, params, day)} · "
            f"as of {record['as_of']}")
    (st.caption if record["status"] == "active" else st.error)(text)


def sidebar(all_specs: tuple[views.WidgetSpec, ...], params: Parameters, catalog: Catalog) -> tuple[Any, dict[str, Any]]:
    """Profile source (examples, upload, download slot) and every profile field, grouped as the schema.
    Returns the download slot and, per weight field, a slot under its widget for the stability band."""
    bar = st.sidebar
    bar.header("Profile")
    names = examples()
    bar.selectbox("Start from an example", list(names), key="example", on_change=on_example,
                  format_func=lambda k: f"{names[k]['org']} ({k})")
    bar.button("Reset to this example", on_click=on_example, width="stretch")
    bar.file_uploader("…or upload a profile (YAML) or an Exchange export (.json / .txt)",
                      type=["yaml", "yml", "json", "txt"], key="upload", on_change=on_upload,
                      help="A profile in the format of data/profiles/*.yaml (or a file saved below), or what "
                           "scripts/collect-exchange.ps1 wrote on the Exchange server (.json), or the Format-List "
                           "output of the same cmdlets pasted into a .txt file: the profile is filled from the "
                           "server's configuration and the current certificates are shown beside the options.")
    slot, bands = bar.container(), {}
    for group, group_specs in views.specs_by_group(all_specs).items():
        with bar.expander(group[0].upper() + group[1:], expanded=True):
            for spec in group_specs:
                if spec.field.kind == "ca":
                    ca_selector(spec, params, catalog)
                else:
                    getattr(st, spec.widget)(spec.label, key=spec.key, help=spec.help, **spec.kwargs)
                if spec.name in WEIGHT_FIELDS:
                    bands[spec.name] = st.empty()
    return slot, bands


# ---------------------------------------------------------------------------------- results

def issue_line(issue: Issue) -> str:
    """'Mobile devices (mobile_devices): must be at least 0 (got '-1')' for a problem with a widget's value."""
    name = issue.field
    label = f"{views.field_label(FIELD_BY_NAME[name])} ({name})" if name in FIELD_BY_NAME else name
    got = f" (got {issue.value!r})" if issue.value else ""
    return f"{label}: {issue.reason}{got}"


def recommendation_card(res: ProfileResults, years: float, currency: str) -> None:
    rec = res.ev.recommendations.iloc[0]
    with st.container(border=True):
        if pd.isna(rec["recommendation"]):
            st.subheader("No option is feasible")
            st.markdown(res.why)
            return
        st.subheader(f"Recommended: {LABELS[rec['recommendation']]}")
        lead = lead_points(rec["margin"])  # "less than 0.1" where one decimal shows 0.0, as the why text says it
        if rec["close_call"]:
            behind = lead if lead == UNDER_A_TENTH else f"only {lead}"
            st.warning(f"**Close call:** {LABELS[rec['runner_up']]} is {behind} score points behind "
                       f"(under {res.ev.scored.close_call_share:.0%} of the winner's score), so "
                       f"{res.close_call_change} — see the Robustness tab.")
        st.markdown(res.why)
        # each figure as wide as its label and value, wrapping onto a second row in a narrow window
        row = st.container(horizontal=True, horizontal_alignment="distribute", gap="medium", key="key_figures")
        row.metric("Score", f"{points(rec['score'])} / 100", width="content")
        if pd.notna(rec["runner_up"]):
            row.metric("Lead over the runner-up", lead if lead == UNDER_A_TENTH else f"+{lead}", width="content",
                       help=f"Score points ahead of {LABELS[rec['runner_up']]}")
        row.metric(f"Cost over {years_text(years)}", f"{currency} {rec['cost_total']:,.0f}", width="content")
        row.metric("Total cost of ownership", f"{currency} {rec['tco']:,.0f}", width="content",
                   help="Cost plus client and end-user time (reconfiguration, new URLs, prompts) in money.")
        row.metric("Clients without a warning", f"{rec['trust']:.0%}", width="content")


def ranked_table(table: pd.DataFrame, years: float, currency: str, current: CurrentState | None) -> None:
    cost, tco = f"Cost ({currency}, {years:g} y)", f"TCO ({currency})"
    shown = views.ranked_frame(table, years, currency, current.option_row() if current else None)
    # money and trust in whole units / percent, rounded as the card, the reasons and the appendix write them
    # (column formats round otherwise, and "percent" has two decimals); counts whole, the current state's blank
    styled = (shown.style.format("{:,.0f}", subset=[cost, tco, *views.COUNT_COLUMNS], na_rep=MISSING)
              .format("{:.0%}", subset=["Trust"], na_rep=MISSING))
    st.dataframe(styled, hide_index=True, width="stretch", placeholder=MISSING, column_config={
        "Score": st.column_config.ProgressColumn(min_value=0, max_value=100, format="%.1f", width=100),
        "Trust": st.column_config.NumberColumn(help="Share of clients that connect without a warning"),
        tco: st.column_config.NumberColumn(help="Cost plus client and end-user time in money"),
        "Dominated": st.column_config.CheckboxColumn(
            help="Another feasible option is at least as good on every criterion and better on one"),
        "Why / notes": st.column_config.TextColumn(width="large"),
    })


def current_state_panel(imported: views.Imported, state: CurrentState) -> None:
    """What the imported export says the servers have today: findings, the certificates, the import notes."""
    export = imported.export
    with st.container(border=True, key="current_state"):
        st.subheader("Current state: the certificates on the servers today")
        kind = "collect-exchange.ps1 JSON" if export.format == "json" else "pasted Format-List text"
        collected = f", collected {export.collected_at}" if export.collected_at else ""
        followed = (f"expiries and renewals up to the end of the horizon, {state.end.isoformat()}" if state.counted
                    else "what has expired by today")
        st.caption(f"From {md_escape(imported.name)} ({kind}{md_escape(collected)}) · {len(export.servers)} server(s) · "
                   f"on {state.today.isoformat()}, with {followed}. {state.period_text()}")
        for level, box in FINDING_BOXES.items():
            texts = [f.for_user for f in state.findings if f.level == level]  # the client text and the how-to
            if texts:
                box("\n".join(f"- {md_escape(t)}" for t in texts))
        rows = state.certificate_rows()
        if rows:
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="current_certificates",
                         placeholder=MISSING, column_config={"names": st.column_config.TextColumn(width="large")})
        with st.expander(f"What the import read and assumed ({len(imported.notes)} notes)"):
            st.markdown("\n".join(f"- {md_escape(n)}" for n in imported.notes))


def downloads(res: ProfileResults, current: CurrentState | None) -> None:
    """Results as CSV and Excel (formula-safe) and the consultants' appendix as Word and HTML (with the certificates
    an imported export shows, `current`, as its section 2.1); built on click."""
    org = str(res.validated["org"])
    row = st.container(horizontal=True, key="downloads")  # buttons as wide as their labels, wrapping when narrow
    row.download_button("Results (CSV)", data=lambda: csv_bytes(res.results),
                        file_name=views.file_name(org, "options", "csv"), mime="text/csv", key="dl_csv",
                        on_click="ignore")
    row.download_button("Results (Excel)", key="dl_xlsx", on_click="ignore",
                        data=lambda: xlsx_bytes(res.results, sheet="options"),
                        file_name=views.file_name(org, "options", "xlsx"),
                        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    row.download_button("Appendix (Word)", key="dl_docx", on_click="ignore",
                        data=lambda: appendix.build(res.named, 0, "docx", current=current),
                        file_name=appendix.download_name(res.ev, 0, "docx"),
                        mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    row.download_button("Appendix (HTML)", key="dl_html", on_click="ignore",
                        data=lambda: appendix.build(res.named, 0, "html", current=current),
                        file_name=appendix.download_name(res.ev, 0, "html"), mime="text/html")


def none_feasible(table: pd.DataFrame) -> bool:
    """True, having said so with what rules out each option (what to change), when no option is feasible: a tab
    then draws no chart, since it would have empty axes."""
    if table["feasible"].any():
        return False
    reasons = (f"- **{md_escape(label)}**: {md_escape(text)}"
               for label, text in zip(table["label"], table["reasons_text"], strict=True))
    st.info("**No option is feasible for this profile, so there is nothing to compare or plot.** An option becomes "
            "feasible once none of its reasons below holds: change the inputs in the sidebar that they name.\n\n"
            + "\n".join(reasons))
    return True


def tradeoffs_tab(res: ProfileResults, years: float, currency: str) -> None:
    table = res.table
    if none_feasible(table):
        return
    st.markdown("**Each criterion, normalised across the feasible options** (best = 1, worst = 0). "
                "The weights (in brackets) decide how much each counts in the score.")
    st.vega_lite_chart(views.chart_spec("criteria", {"criteria": views.criteria_frame(res.ev, table)}), width="stretch")
    st.markdown("**Cost against trust.** Large diamonds are *non-dominated*: no other feasible option is at least "
                "as good on every criterion (cost, trust, devices to touch, URL changes) and better on one.")
    st.vega_lite_chart(views.chart_spec("cost_trust", {"options": views.scatter_frame(table)}, currency, years),
                       width="stretch")
    left_out = table.loc[~table["feasible"], "label"].tolist()
    if left_out:
        st.caption("Not feasible, so not scored or plotted: " + ", ".join(left_out) + ".")


def robustness_tab(res: ProfileResults, currency: str) -> None:
    sens = res.sensitivity
    if sens.recommendation is None:
        st.info("No option is feasible, so there is no recommendation to test.")
        return
    st.markdown("**How far each input can move before the recommendation changes**, one at a time, as a share of "
                "the range searched (lower values to the left, higher to the right). A coloured bar ends where "
                "the option of its colour takes over, or draws level and wins the tie-break (the tooltip says which); a "
                "grey bar means no change over the whole range.")
    data = {"tornado": views.tornado_chart_frame(res.tornado, sens)}
    st.vega_lite_chart(views.chart_spec("tornado", data), width="stretch")
    st.markdown("**What it would take to change the recommendation**")
    st.markdown("\n".join(f"- {md_escape(s)}" for s in sens.sentences()))
    st.markdown("**Flip points in the profile's values** (one value changed, the others as they are):")
    if sens.flip_points:
        st.dataframe(views.flip_frame(sens.flip_points, currency), hide_index=True, width="stretch")
    else:
        st.caption("None: no single value changes the recommendation in the ranges searched.")
    st.markdown("**Flip points in CA prices** (one catalog price changed, the others as they are):")
    if sens.price_flips:
        st.dataframe(views.price_flip_frame(sens.price_flips, res.catalog), hide_index=True, width="stretch")
    else:
        st.caption("None: no single price the options pay changes the recommendation in the ranges searched.")
    with st.expander("How these are found"):
        st.markdown("\n".join(f"- {md_escape(n)}" for n in NOTES))


def cost_tab(res: ProfileResults, currency: str) -> None:
    if none_feasible(res.table):
        return
    include = st.toggle("Include client and user time (total cost of ownership)", key="include_clients")
    cum, rules = res.timeline(include)
    feasible = res.table.loc[res.table["feasible"], "option"]
    data = {"cumulative": cum[cum["option"].isin(feasible)], "rules": views.rule_frame(rules)}
    st.vega_lite_chart(views.chart_spec("cumulative", data, currency), width="stretch")
    if len(rules):
        st.markdown("**Dated rule changes inside the horizon** (dashed lines):")
        st.dataframe(rules[["date", "rule", "parameter"]].rename(columns=str.capitalize), hide_index=True)


def names_tab(res: ProfileResults) -> None:
    table = res.named_table
    st.dataframe(pd.DataFrame({
        "Option": table["label"], "Feasible": table["feasible"], "Certificates": table["certificates"],
        "Names on the certificate(s)": table["names"], "Names left off": table["not_issuable"],
        "Issuances over the horizon": table["certificate_issuances"],
    }), hide_index=True, width="stretch")
    for group in res.left_out:  # each rule that leaves names out, for the options it applies to (as appendix 5.2)
        source = f" Source: {md_escape(res.params[group.parameter].source)}" if group.parameter else ""
        st.info(f"**{LEFT_OUT_TITLES[group.rule]}: {md_escape(', '.join(group.names))}** — left out by "
                f"{md_escape(views.options_text(group.options))}. {md_escape(group.sentence)}{source}")
    for sentence, labels in res.dropped_names.items():
        st.info(f"**{md_escape(', '.join(labels))}:** {md_escape(sentence)}.")
    st.markdown("**Renewal calendar** — every issuance over the horizon under the dated lifetime rules:")
    feasible = set(table.loc[table["feasible"], "option"])
    cal = {o: d for o, d in res.calendars.items() if o in feasible and d}
    if cal:
        st.vega_lite_chart(views.chart_spec("renewals", {"calendar": views.calendar_frame(cal)}), width="stretch")
        with st.expander("Issuance dates per option"):
            for option, dates in cal.items():
                st.markdown(f"**{LABELS[option]}** ({len(dates)}): " + ", ".join(dates))


def deploy_tab(res: ProfileResults) -> None:
    table = res.named_table
    recommended = table.loc[table["rank"] == 1, "option"]
    default = recommended.iloc[0] if len(recommended) else table["option"].iloc[0]
    labels = dict(zip(table["option"], table["label"], strict=True))
    choice = st.selectbox("Option to deploy", list(table["option"]), key=f"deploy_{default}",
                          format_func=lambda o: labels[o] + (" (recommended)" if o == default else ""))
    row = table[table["option"] == choice].iloc[0]
    if not row["feasible"]:
        st.warning("Not feasible for this profile: " + row["reasons_text"])
    commands, dns = res.deployments
    st.markdown(f"**Exchange Management Shell** (Exchange {res.validated['exchange_version']}) — "
                f"names: {md_escape(row['names'])}")
    st.code("\n".join(commands[choice]), language="powershell")
    st.markdown("**DNS records**")
    st.code("\n".join(dns[choice]), language="text")


def assumptions_tab(res: ProfileResults, day: int, years: float) -> None:
    st.caption(md_escape(data_stamp(versions(res.ev))))
    st.markdown("**Parameters** — every rule and assumption used, with its source (or *estimate*); amounts of money "
                f"in {res.params.currency}:")
    params = views.display_records(res.params.records())
    params.insert(4, "estimate", [res.params[n].estimate for n in params["parameter"]])
    st.dataframe(params, hide_index=True, width="stretch")
    used = [c for c in dict.fromkeys(res.table["ca"]) if c]
    st.markdown(f"**CAs used by the options**, status on {from_day(day).isoformat()}; prices in {res.catalog.currency} "
                "a year:")
    if used:
        st.dataframe(views.display_records(res.catalog.records(used, res.params, day, horizon_end_day(day, years))),
                     hide_index=True, width="stretch")


def results(res: ProfileResults, edited: bool, imported: views.Imported | None) -> None:
    row = res.ev.profiles.iloc[0]
    years, currency = float(row["horizon_years"]), str(row["currency"])
    source = st.session_state.get("source", "") + (", edited" if edited else "")
    st.caption(f"**{md_escape(str(row['org']))}** · Exchange {row['exchange_version']} · from {from_day(row['start'])} "
               f"for {years_text(years)} · money in {md_escape(currency)} · {md_escape(source)}")
    for warning in res.warnings:
        st.warning(warning)
    recommendation_card(res, years, currency)
    current = None
    if imported is not None and (other := views.export_of_another(imported, res.ev.profiles)):
        st.warning(f"The uploaded export {md_escape(imported.name)} {md_escape(other)}: its current state is left out "
                   "of this page and of the appendix. Upload this organisation's export, or load its profile again.")
    elif imported is not None:
        current = views.current_state(imported, *data(), from_day(row["start"]), years, dt.date.today())
        current_state_panel(imported, current)
    st.subheader("All seven options, ranked" + (", beside the current state" if current else ""))
    ranked_table(res.table, years, currency, current)
    downloads(res, current)
    tabs = st.tabs(TABS, key="tab", on_change="rerun")
    renderers = (lambda: tradeoffs_tab(res, years, currency), lambda: robustness_tab(res, currency),
                 lambda: cost_tab(res, currency),
                 lambda: names_tab(res), lambda: deploy_tab(res), lambda: assumptions_tab(res, int(row["start"]), years))
    for tab, render in zip(tabs, renderers, strict=True):
        with tab:
            if tab.open:  # only the open tab is computed and drawn
                render()


def incomplete(problems: str, imported: views.Imported | None, invalid: set[str]) -> None:
    """A loaded profile that was never valid (an export without a mailbox count): say what to fill in and show
    the current state, but no results (those of the previous profile would be another organisation's); over the
    horizon typed unless it is one of the `invalid` fields (then the default)."""
    why = f"\n\nFrom the import: {md_escape(imported.users_note)}" if imported and not imported.users_known else ""
    st.error("**Fill in the inputs named below** in the sidebar to see the options.\n\n" + problems + why)
    if imported is not None:
        start = st.session_state.get(views.widget_key("start")) or dt.date.today()
        typed = None if "horizon_years" in invalid else st.session_state.get(views.widget_key("horizon_years"))
        years = float(typed or FIELD_BY_NAME["horizon_years"].default)
        current_state_panel(imported, views.current_state(imported, *data(), start, years, dt.date.today()))


# ------------------------------------------------------------------------------------- main

def main() -> None:
    st.set_page_config(page_title="CertStrategy — certificates for Exchange", page_icon="🔐", layout="wide")
    params, catalog = data()
    if "source" not in st.session_state:
        st.session_state["example"] = DEFAULT_EXAMPLE
        on_example()
    st.title("CertStrategy: which certificate strategy for your Exchange?")
    st.markdown(INTRO)
    all_specs = specs()
    download_slot, band_slots = sidebar(all_specs, params, catalog)
    if error := st.session_state.get("upload_error"):
        name, lines = error
        st.error(f"**Could not load {md_escape(name)}** — the previous profile and results are kept.\n\n"
                 + literal_lines(lines))
    key = views.profile_key(views.profile_from_state(st.session_state.to_dict(), all_specs))
    res = results_for(key)
    imported = st.session_state.get("imported")
    if not res.valid:
        problems = literal_lines([issue_line(i) for i in res.ev.issues])
        if "good_key" not in st.session_state:  # nothing valid since this profile was loaded: an import without users
            incomplete(problems, imported, {i.field for i in res.ev.issues})
            return
        st.error("**Some inputs are not valid** — the results below are for the last valid profile.\n\n" + problems)
        key = st.session_state["good_key"]
        res = results_for(key)
    else:
        for name, caption in views.band_captions(res.bands).items():  # only for the profile the sidebar shows
            band_slots[name].caption(caption)
    st.session_state["good_key"] = key
    download_slot.download_button("Download this profile (YAML)", data=lambda: views.profile_yaml(res.validated),
                                  file_name=views.file_name(str(res.validated["org"]), "profile", "yaml"), key="dl_profile",
                                  mime="application/x-yaml", on_click="ignore", width="stretch")
    results(res, edited=key != st.session_state.get("loaded_key"), imported=imported)


main()
