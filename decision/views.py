"""Pure helpers for the Streamlit app: widget specs from the profile schema, profile YAML in and out,
Exchange exports in (issue 7), lazily evaluated results per profile, dominance, tables, the robustness
views of `decision.sensitivity` (issue 5), and Altair charts with one colour per option.

Nothing here computes a figure the engine did not: tables and charts re-shape `Evaluation` data.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import functools
import json
import math
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import yaml

from decision import report, timeline
from decision.catalog import Catalog
from decision.current_state import CurrentState, assess_horizon
from decision.dates import from_day
from decision.engine import Evaluation, evaluate, long_table
from decision.errors import InputError, Issue
from decision.exchange_import import ExchangeExport, other_organisation, parse_export, profile_from_export
from decision.explain import (
    TIE_REASONS,
    LeftOut,
    and_list,
    close_call_change,
    names_left_out,
    one_decimal,
    reason_text,
    weight_takers,
)
from decision.limits import LIMITS, size_text
from decision.options import LABELS, OPTIONS
from decision.parameters import Parameters
from decision.profiles import (
    FIELD_BY_NAME,
    FIELDS,
    GROUPS,
    MAX_TEXT,
    TEMPLATE_FIELD,
    WEIGHT_FIELDS,
    Field,
    derived_default,
    frame_from_mappings,
    profile_to_mapping,
    read_yaml_profiles,
    validate,
)
from decision.scoring import CRITERIA, HIGHER_IS_BETTER
from decision.sensitivity import PRICE_LABELS, FlipPoint, Sensitivity, WeightBand, analyse, tornado_frame
from decision.slugs import file_name as file_name  # re-exported: the app's download names
from decision.slugs import slug as slug

# One colour per option (Tableau 10), used by every chart so an option looks the same everywhere.
OPTION_COLOURS: dict[str, str] = dict(zip(OPTIONS, ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                                    "#b07aa1", "#9c755f"), strict=True))
# The option-table column behind each scoring criterion.
CRITERION_COLUMNS = {"cost": "cost_total", "trust": "trust", "reconfiguration": "devices_to_reconfigure",
                     "url_change": "users_url_change"}
# Presentation only: the number-input step per unit, and words shown in capitals in labels.
STEP_BY_UNIT = {"years": 0.25, "money/hour": 5.0, "weight": 0.05}
ACRONYMS = {"owa": "OWA", "mdm": "MDM", "ca": "CA", "tls": "TLS", "acme": "ACME", "dns": "DNS", "ip": "IP",
            "api": "API", "id": "ID", "url": "URL", "exchange": "Exchange", "san": "SAN", "dcv": "DCV",
            "rsa": "RSA", "caa": "CAA", "srv": "SRV", "letsencrypt": "Let's Encrypt", "sp1": "SP1",
            "eab": "EAB", "pop": "POP", "imap": "IMAP", "windows": "Windows", "email": "e-mail",
            "ios": "iOS", "android": "Android"}
WIDGET_BY_KIND = {"text": "text_input", "dns": "text_input", "dns_list": "text_input", "host_list": "text_input",
                  "currency": "text_input", "choice": "selectbox", "ca": "selectbox", "date": "date_input",
                  "integer": "number_input", "number": "number_input", "share": "slider", "bool": "toggle"}
CHART_HEIGHT = 250  # pixels of a chart's plot area: axes and legends come on top (autosize fit-x, `_styled`)
CHEAPEST = FIELD_BY_NAME["ca"].default  # the `ca` value that lets each option use its cheapest suitable CA


# ------------------------------------------------------------------------------------ widgets

@dataclass(frozen=True)
class WidgetSpec:
    """How one profile field is edited: Streamlit widget name, label, help and static arguments."""

    field: Field
    widget: str
    label: str
    help: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    blank_means: str = ""  # what the field is when left blank: another field ('users') or a template of fields

    @property
    def name(self) -> str:
        return self.field.name

    @property
    def key(self) -> str:
        return widget_key(self.field.name)


def widget_key(name: str) -> str:
    """Session-state key of a profile field's widget."""
    return f"in_{name}"


def name_label(name: str) -> str:
    """'mobile_devices' (or 'max names') → 'Mobile devices': words capitalised, acronyms in capitals."""
    text = " ".join(ACRONYMS.get(w, w) for w in re.split(r"[_ ]", name))
    return text[0].upper() + text[1:]


def field_label(f: Field, currency: str = "USD", *, with_unit: bool = True) -> str:
    """'mobile_devices' → 'Mobile devices'; a unit the words don't already say is added in brackets (unless
    `with_unit` is off: where the value shows its unit)."""
    words = f.name.removeprefix("w_").split("_") if f.name in WEIGHT_FIELDS else f.name.split("_")
    text = name_label(" ".join(words))
    unit = _unit(f, currency) if with_unit else ""
    shown = {w.lower() for w in words}
    if unit and not shown & set(unit.lower().replace("/", " ").split()) and f.unit not in ("weight", "share"):
        text += f" ({unit})"
    return text


def _unit(f: Field, currency: str) -> str:
    """The field's unit as shown: 'money/hour' in the profile's currency ('EUR/hour')."""
    return f.unit.replace("money", currency)


def _range_text(f: Field, currency: str) -> str:
    if f.low is None and f.high is None:
        return ""
    if f.kind == "date":
        return f"Range {from_day(int(f.low))} to {from_day(int(f.high))}."
    unit = f" {_unit(f, currency)}" if f.unit else ""
    return f"Range {_number(f.low)}–{_number(f.high)}{unit}."


def _number(value: float | None) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"


def template_placeholder(rule: str, values: Mapping[str, Any]) -> str:
    """A template default ('mail.<external_domain>') as a blank field's placeholder shows it: each field in it as
    typed (`values`, by field name), read as validation reads a name (stripped, lower case, no trailing dot), or its
    label in angle brackets while blank ('mail.<external domain>'), never the field's internal name."""
    shown = {}
    for name in TEMPLATE_FIELD.findall(rule):
        text = str(values.get(name) or "").strip().lower().removesuffix(".")
        shown[name] = text or f"<{field_label(FIELD_BY_NAME[name]).lower()}>"
    return str(derived_default(rule, shown))


def number_placeholder(f: Field, params: Parameters | None) -> str | None:
    """What a blank number box stands for: 'required', or its default ('3 (default)'; one from the parameters only
    with `params`)."""
    if f.required:
        return "required"
    default = f.default
    if isinstance(default, str) and default.startswith("param:"):
        default = params.value(default.removeprefix("param:")) if params is not None else None
    return f"{_number(default)} (default)" if isinstance(default, (int, float)) else None


def widget_specs(ca_ids: Iterable[str], currency: str = "USD", values: Mapping[str, Any] | None = None,
                 params: Parameters | None = None) -> tuple[WidgetSpec, ...]:
    """One widget spec per profile field, in schema order, generated from `decision.profiles.FIELDS`; `values`, the
    fields as typed (by field name), fill a template default's placeholder (`template_placeholder`), and `params`
    give a number's default from the parameters (`number_placeholder`)."""
    specs = []
    for f in FIELDS:
        kwargs: dict[str, Any] = {}
        blank_means = ""
        rule = f.default.removeprefix("rule:") if isinstance(f.default, str) and f.default.startswith("rule:") else ""
        if rule in FIELD_BY_NAME:
            blank_means = rule
            kwargs["placeholder"] = f"same as {field_label(FIELD_BY_NAME[rule], currency).lower()}"
        elif rule and f.kind != "date":
            blank_means = rule if TEMPLATE_FIELD.search(rule) else ""  # mail.<external_domain>
            kwargs["placeholder"] = template_placeholder(rule, values or {})
        if f.kind in ("choice", "ca"):
            kwargs["options"] = (CHEAPEST, *ca_ids) if f.kind == "ca" else f.choices
        elif f.kind == "text":
            kwargs["max_chars"] = MAX_TEXT
        elif f.kind in ("dns_list", "host_list"):
            kwargs["placeholder"] = "separate names with ;"
        elif f.kind in ("integer", "number"):
            # value=None: a cleared box is blank (the default), not Streamlit's min_value. No min/max: the browser
            # would refuse a number out of range with only an icon in the box; validation names it (and the range)
            # in the app's "not valid" box, as for any other field. The step's type gives the widget's (int, float).
            kwargs.update(value=None, step=1 if f.kind == "integer" else STEP_BY_UNIT.get(f.unit, 0.01))
            if "placeholder" not in kwargs and (placeholder := number_placeholder(f, params)):
                kwargs["placeholder"] = placeholder
        elif f.kind == "share":
            kwargs.update(min_value=float(f.low), max_value=float(f.high), step=0.01, format="%.2f")
        elif f.kind == "date":
            kwargs["format"] = "YYYY-MM-DD"
            if f.low is not None and f.high is not None:
                kwargs.update(min_value=from_day(int(f.low)), max_value=from_day(int(f.high)))
        help_text = " ".join(t for t in (f.help, _range_text(f, currency)) if t) + f"  \nProfile field: `{f.name}`."
        specs.append(WidgetSpec(f, WIDGET_BY_KIND[f.kind], field_label(f, currency), help_text, kwargs, blank_means))
    return tuple(specs)


def specs_by_group(specs: Iterable[WidgetSpec]) -> dict[str, list[WidgetSpec]]:
    """Specs grouped as the schema's GROUPS, in order."""
    out: dict[str, list[WidgetSpec]] = {g: [] for g in GROUPS}
    for spec in specs:
        out[spec.field.group].append(spec)
    return out


def state_from_profile(profile: Mapping[str, Any], specs: Iterable[WidgetSpec]) -> dict[str, Any]:
    """A validated profile (`profile_to_mapping`) → widget values keyed by widget key."""
    state: dict[str, Any] = {}
    for spec in specs:
        value = profile.get(spec.name)
        kind = spec.field.kind
        if spec.blank_means and value == derived_default(spec.blank_means, profile):  # the default: left blank, to follow
            value = None if kind == "integer" else ""
        elif kind == "date":
            value = dt.date.fromisoformat(str(value))
        elif kind in ("dns_list", "host_list"):
            value = ";".join(value) if isinstance(value, list) else str(value or "")
        elif kind == "integer":
            value = int(value)
        elif kind in ("number", "share"):
            value = float(value)
        elif kind == "bool":
            value = bool(value)
        else:
            value = "" if value is None else str(value)
        state[spec.key] = value
    return state


def profile_from_state(state: Mapping[str, Any], specs: Iterable[WidgetSpec]) -> dict[str, Any]:
    """Widget values → a raw profile mapping for `decision.evaluate`; blank fields are left to their defaults,
    a blank required field is passed as None, so the engine names it as a problem of the row."""
    profile: dict[str, Any] = {}
    for spec in specs:
        value = state.get(spec.key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if spec.field.required:
                profile[spec.name] = None
            continue
        profile[spec.name] = value.isoformat() if isinstance(value, dt.date) else value
    return profile


def profile_key(profile: Mapping[str, Any]) -> str:
    """A canonical JSON text of a raw profile mapping: the cache key of its evaluation (`json.loads` gives it back)."""
    return json.dumps(dict(profile), sort_keys=True, ensure_ascii=False)


# ------------------------------------------------------------------------------ profile YAML

def profile_yaml(profile: Mapping[str, Any]) -> bytes:
    """A validated profile as a YAML file that `parse_profile_upload` (and the CLI) read back unchanged."""
    header = "# CertStrategy profile, saved from the what-if app. Fields: see decision/profiles.py.\n"
    return (header + yaml.safe_dump(dict(profile), sort_keys=False, allow_unicode=True)).encode("utf-8")


def check_upload_size(name: str, size: int) -> None:
    """Refuse an upload over the `upload_max_bytes` limit (data/parameters.yaml) before it is read."""
    if size > LIMITS["upload_max_bytes"]:
        raise InputError(Issue(name, 0, "", f"the file is larger than {size_text(LIMITS['upload_max_bytes'])}, "
                                            "the most the app accepts; is this a profile or an Exchange export?"))


def parse_profile_upload(data: bytes, name: str, params: Parameters, catalog: Catalog,
                         today: dt.date | None = None) -> dict[str, Any]:
    """Uploaded YAML bytes → one validated profile mapping; every problem raises one InputError."""
    check_upload_size(name, len(data))
    if len(data) > LIMITS["profile_yaml_max_bytes"]:
        raise InputError(Issue(name, 0, "", f"file is larger than {size_text(LIMITS['profile_yaml_max_bytes'])}"))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(Issue(name, 0, "", "not a UTF-8 text file; upload a profile YAML")) from None
    raw, issues = read_yaml_profiles(text, name)
    if len(raw) > 1:
        raise InputError(Issue(name, 0, "", f"holds {len(raw)} profiles; the app shows one "
                                            "(score many with `python -m decision score`)"))
    try:
        result = validate(raw, name, params, catalog, today)
    except InputError as exc:  # a whole-input problem; the problems found while reading come first
        raise InputError(issues + exc.issues) from None
    if issues or result.issues or result.frame.empty:
        raise InputError(issues + result.issues)
    return profile_to_mapping(result.frame, 0)


# ------------------------------------------------------------------------- Exchange exports

EXPORT_SUFFIXES = (".json", ".txt")


def is_export_name(name: str) -> bool:
    """An upload named *.json or *.txt is an Exchange export (collect-exchange.ps1 or pasted Format-List)."""
    return name.lower().endswith(EXPORT_SUFFIXES)


@dataclass(frozen=True)
class Imported:
    """An uploaded Exchange export: what it says, the validated profile for the widgets, and the import notes.

    Without a usable mailbox count `users_known` is False and `profile` has no `users` (nor `desktops`,
    which defaults to it): the app leaves that widget blank rather than show a made-up number.
    """

    name: str
    export: ExchangeExport
    profile: dict[str, Any]
    notes: tuple[str, ...]
    users_known: bool

    @property
    def users_note(self) -> str:
        """The import note on `users`: where the number came from, or why the export has none."""
        return next(n for n in self.notes if n.startswith("users:"))

    def widget_state(self, specs: Iterable[WidgetSpec]) -> dict[str, Any]:
        """Widget values for this profile, the server names as exported (the profile has them in lower case);
        `users` (and `desktops`, which follows it) blank when not counted."""
        exported = {s.name.lower(): s.name for s in self.export.servers}
        servers = ";".join(exported.get(name, name) for name in self.profile["servers"])
        if self.users_known:
            return {**state_from_profile(self.profile, specs), widget_key("servers"): servers}
        state = state_from_profile({**self.profile, "users": 0, "desktops": 0}, specs)
        return {**state, widget_key("servers"): servers, widget_key("users"): None}


def parse_export_upload(data: bytes, name: str, params: Parameters, catalog: Catalog,
                        today: dt.date | None = None) -> Imported:
    """Uploaded export bytes → `Imported`; an unreadable export or an invalid profile raises one InputError."""
    check_upload_size(name, len(data))
    export = parse_export(data, name)  # an unreadable export raises ExportParseError, an InputError naming the upload
    profile, notes = profile_from_export(export)
    users_known = "users" in profile
    raw, issues = frame_from_mappings([{**profile, "users": profile.get("users", 0)}], name)
    result = validate(raw, name, params, catalog, today)
    if issues or result.issues or result.frame.empty:
        raise InputError(issues + result.issues)
    validated = profile_to_mapping(result.frame, 0)
    if not users_known:
        del validated["users"], validated["desktops"]
    return Imported(name, export, validated, tuple(notes), users_known)


def current_state(imported: Imported, params: Parameters, catalog: Catalog, start: dt.date, years: float,
                  today: dt.date) -> CurrentState:
    """The export's certificates on `today` against the horizon of `years` from `start` (`assess_horizon`)."""
    return assess_horizon(imported.export, params, catalog, start, years, today)


def export_of_another(imported: Imported, profiles: pd.DataFrame) -> str | None:
    """Why the uploaded export looks like another organisation's than the profile shown (its first validated row), as
    after an import the sidebar is edited to another client's domain and servers; None when they share one."""
    return other_organisation(imported.export, profile_to_mapping(profiles, 0))


# ---------------------------------------------------------------------------------- results

class ProfileResults:
    """One profile's evaluation and what the app shows from it; each part is computed on first use and kept.

    The app caches one per profile and shares it read-only between reruns and sessions.
    """

    def __init__(self, profile: Mapping[str, Any], params: Parameters, catalog: Catalog) -> None:
        self.profile = dict(profile)
        self.params, self.catalog = params, catalog
        self._timelines: dict[bool, tuple[pd.DataFrame, pd.DataFrame]] = {}

    @functools.cached_property
    def ev(self) -> Evaluation:
        """The engine's evaluation without name lists: all a what-if rerun needs."""
        return evaluate(self.profile, parameters=self.params, catalog=self.catalog, names=False)

    @property
    def valid(self) -> bool:
        return not self.ev.profiles.empty

    @functools.cached_property
    def named(self) -> Evaluation:
        """The same evaluation with the names on each option's certificates materialised."""
        ev = self.ev
        return dataclasses.replace(ev, options=long_table(ev.scored, ev.catalog, ev.params, names=True))

    @functools.cached_property
    def validated(self) -> dict[str, Any]:
        """The validated profile, defaults filled (what "download this profile" saves)."""
        return profile_to_mapping(self.ev.profiles, 0)

    @functools.cached_property
    def table(self) -> pd.DataFrame:
        return option_table(self.ev)

    @functools.cached_property
    def named_table(self) -> pd.DataFrame:
        return option_table(self.named)

    @functools.cached_property
    def results(self) -> pd.DataFrame:
        """The option table as the CSV / Excel download holds it (`results_frame`)."""
        return results_frame(self.named_table, str(self.ev.profiles["currency"].iloc[0]))

    @functools.cached_property
    def dropped_names(self) -> dict[str, list[str]]:
        """What the feasible options' renewals within the horizon can no longer carry (`report.Dropped.sentence`),
        each with the labels of the options it applies to."""
        out: dict[str, list[str]] = {}
        for option in self.named_table.loc[self.named_table["feasible"], "option"]:
            dropped = report.names_dropped(self.named, 0, option)
            if dropped:
                out.setdefault(dropped.sentence(), []).append(LABELS[option])
        return out

    @functools.cached_property
    def left_out(self) -> list[LeftOut]:
        """Per rule, the names options leave off their certificates and why (`explain.names_left_out`, as appendix 5.2
        says it)."""
        table = self.named_table
        return names_left_out(dict(zip(table["option"], table["not_issuable"], strict=True)), self.params)

    @functools.cached_property
    def close_call_change(self) -> str:
        """What a small change can do in a close call (`explain.close_call_change`, as the appendix's note says it)."""
        rec = self.ev.recommendations.iloc[0]
        return close_call_change(LABELS[rec["runner_up"]], bool(self.ev.runner_up_better_on()),
                                 weight_takers(self.bands.weights.values(), LABELS))

    @functools.cached_property
    def why(self) -> str:
        return self.ev.why(0)

    @functools.cached_property
    def warnings(self) -> list[str]:
        return self.ev.warnings(0)

    @functools.cached_property
    def deployments(self) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        return report.deployments(self.named, 0)

    @functools.cached_property
    def calendars(self) -> dict[str, list[str]]:
        return {o: report.renewal_calendar(self.ev, 0, o) for o in OPTIONS}

    @functools.cached_property
    def bands(self) -> Sensitivity:
        """Margin, close call and the exact weight bands, without the flip searches (a millisecond or two)."""
        return analyse(self.ev, 0, flips=False)

    @functools.cached_property
    def sensitivity(self) -> Sensitivity:
        """Weight bands plus the flip points in profile values and CA prices (a few engine calls, ~0.1–0.3 s)."""
        return analyse(self.ev, 0)

    @functools.cached_property
    def tornado(self) -> pd.DataFrame:
        """`decision.sensitivity.tornado_frame` of `sensitivity` (its price factors name the CAs by short name)."""
        return tornado_frame(self.sensitivity)

    def timeline(self, include_clients: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(cumulative cost per option, dated rule changes) from `decision.timeline`."""
        if include_clients not in self._timelines:
            self._timelines[include_clients] = (timeline.cumulative(self.ev, 0, include_clients=include_clients),
                                                timeline.rule_changes(self.ev, 0))
        return self._timelines[include_clients]


# -------------------------------------------------------------------------------------- text

def md_escape(text: str) -> str:
    """Escape the Markdown inline text could trigger, so names and values from profiles show literally."""
    return re.sub(r"([\\`*_\[\]<>#|~$])", r"\\\1", text)


def options_text(options: Iterable[str]) -> str:
    """Options' labels in words, or 'every option but …' where that names fewer."""
    chosen = list(options)
    others = [o for o in OPTIONS if o not in chosen]
    if not others:
        return "every option"
    if len(others) < len(chosen):
        return "every option but " + and_list([LABELS[o] for o in others])
    return and_list([LABELS[o] for o in chosen])


def literal_lines(lines: list[str]) -> str:
    """Markdown showing each line verbatim, as a list of inline code spans (they wrap, where a code block would
    scroll sideways); each span's fence is longer than any backtick run in its line."""
    items = []
    for line in (line for line in lines if line.strip()):
        fence = "`" * (1 + max((len(r) for r in re.findall("`+", line)), default=0))
        items.append(f"- {fence} {line} {fence}")
    return "\n".join(items)


# ------------------------------------------------------------------------------------ tables

def dominated(rows: pd.DataFrame) -> pd.Series:
    """True for a feasible option that another feasible option beats: no worse on every criterion, better on one."""
    feasible = rows["feasible"].to_numpy(dtype=bool)
    sign = np.array([1.0 if HIGHER_IS_BETTER[c] else -1.0 for c in CRITERIA])
    values = rows[[CRITERION_COLUMNS[c] for c in CRITERIA]].to_numpy(dtype=float) * sign
    no_worse = (values[:, None, :] >= values[None, :, :]).all(axis=2)
    better = (values[:, None, :] > values[None, :, :]).any(axis=2)
    beats = no_worse & better & feasible[:, None] & feasible[None, :]
    return pd.Series(beats.any(axis=0) & feasible, index=rows.index, name="dominated")


def option_table(ev: Evaluation, i: int = 0) -> pd.DataFrame:
    """Profile `i`'s seven option rows, ranked first, with labels, the CA's short name (`ca_name`), readable reasons
    and dominance.

    Uses the engine's `dominated` column when the engine provides one, else `dominated()` above.
    """
    rows = ev.option_rows(i)
    flags = rows["dominated"].astype(bool) if "dominated" in rows.columns else dominated(rows)
    ties = report.ca_ties(ev, i)
    texts = [reason_text(codes, ev.reason_details(i, option) | ties.get(option, {}))
             for codes, option in zip(rows["reasons"], rows["option"], strict=True)]
    return rows.assign(label=rows["option"].map(LABELS), ca_name=ca_names(rows["ca"], ev.catalog), dominated=flags,
                       reasons_text=texts)


def ca_names(ids: pd.Series, catalog: Catalog) -> pd.Series:
    """Catalog ids as the CAs' short names ('letsencrypt' → "Let's Encrypt"), as the rest of the page names them;
    a value that is no catalog id stays as it is."""
    names = {ca: catalog[ca].short_name for ca in catalog.ids}
    return ids.map(lambda ca: names.get(ca, ca))


DOWNLOAD_COLUMNS = ("profile", "rank", "option", "label", "feasible", "score", "cost_total", "tco", "currency", "trust",
                    "devices_to_reconfigure", "users_url_change", "certificates", "certificate_issuances", "ca",
                    "names", "not_issuable", "dominated", "reasons", "reasons_text")


COUNT_COLUMNS = ("Devices to touch", "Users with a new URL", "Certificates", "Issuances")  # ranked_frame's counts


def ranked_frame(table: pd.DataFrame, years: float, currency: str, current: Mapping[str, Any] | None = None
                 ) -> pd.DataFrame:
    """The ranked table as shown, the reasons right after the key numbers (score, cost, TCO, trust) so that they
    are in view on a laptop screen; `current` (`CurrentState.option_row`) adds the current state as the first row,
    with no rank, score, cost or trust: the engine scores options, not what is installed (and no issuances when
    the horizon ended before today: `CurrentState.counted`).

    Score is to one decimal as every output writes it (`explain.one_decimal`); the counts (COUNT_COLUMNS) are
    nullable integers, so that the current state's empty cells do not turn them into floats."""
    cost, tco = f"Cost ({currency}, {years:g} y)", f"TCO ({currency})"
    shown = pd.DataFrame({
        "Rank": table["rank"].where(table["rank"] > 0).astype("Int64"),
        "Option": table["label"],
        "Score": one_decimal(table["score"]),
        cost: table["cost_total"],
        tco: table["tco"],
        "Trust": table["trust"],
        "Why / notes": [t if f else f"Not feasible: {t}" for t, f in zip(table["reasons_text"], table["feasible"],
                                                                        strict=True)],
        "Devices to touch": table["devices_to_reconfigure"],
        "Users with a new URL": table["users_url_change"],
        "Certificates": table["certificates"],
        "Issuances": table["certificate_issuances"],
        "CA": table["ca_name"],
        "Dominated": table["dominated"],
    }).reset_index(drop=True).astype(dict.fromkeys(COUNT_COLUMNS, "Int64"))
    if current is None:
        return shown
    shown["Dominated"] = shown["Dominated"].astype("boolean")
    row = pd.DataFrame({"Rank": pd.array([pd.NA], dtype="Int64"), "Option": [current["label"]],
                        "Why / notes": [current["notes"]], "Certificates": [current["certificates"]],
                        "Issuances": pd.array([current["certificate_issuances"]], dtype="Int64"), "CA": [current["ca"]],
                        "Dominated": pd.array([pd.NA], dtype="boolean")})
    return pd.concat([row, shown], ignore_index=True)[list(shown.columns)]


def results_frame(table: pd.DataFrame, currency: str) -> pd.DataFrame:
    """The option table as downloaded: contract columns plus label, the currency of its amounts, readable reasons
    and dominance; an infeasible option's rank blank, as the batch's long table and the JSON leave it."""
    table = table.assign(currency=currency, rank=table["rank"].astype("Int64").mask(~table["feasible"]))
    return table[[c for c in DOWNLOAD_COLUMNS if c in table.columns]].reset_index(drop=True)


def criteria_frame(ev: Evaluation, table: pd.DataFrame, i: int = 0) -> pd.DataFrame:
    """Long frame of feasible options × criteria: normalised value (best = 1), raw value, weight."""
    feasible = table[table["feasible"]]
    n, k = len(feasible), len(CRITERIA)
    weights = ev.weights(i)
    positions = [OPTIONS.index(o) for o in feasible["option"]]
    return pd.DataFrame({
        "option": np.repeat(feasible["option"].to_numpy(dtype=object), k),
        "label": np.repeat(feasible["label"].to_numpy(dtype=object), k),
        "criterion": np.tile(np.array(CRITERIA, dtype=object), n),
        "order": np.tile(np.arange(k), n),
        "criterion_label": np.tile([f"{c.replace('_', ' ')} (weight {weights[c]:.0%})" for c in CRITERIA], n),
        "weight": np.tile([weights[c] for c in CRITERIA], n),
        "normalised": ev.scored.normalised[i][positions].reshape(-1),
        "value": feasible[[CRITERION_COLUMNS[c] for c in CRITERIA]].to_numpy(dtype=float).reshape(-1),
    })


def display_records(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows of mixed values (parameters, catalog rows) as a table: all-bool or all-number columns keep their
    type, any other column becomes text (lists '; '-joined, None empty)."""
    frame = pd.DataFrame(records, dtype=object)
    for column in frame.columns:
        values = frame[column].tolist()
        if all(isinstance(v, bool) for v in values):
            frame[column] = frame[column].astype(bool)
        elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            frame[column] = pd.to_numeric(frame[column])
        else:
            frame[column] = [("; ".join(map(str, v)) if isinstance(v, list) else "" if v is None else str(v))
                             for v in values]
    return frame


def calendar_frame(calendars: Mapping[str, list[str]]) -> pd.DataFrame:
    """{option: [ISO dates]} → one row per issuance (option, label, date)."""
    rows = [(o, LABELS[o], d) for o, dates in calendars.items() for d in dates]
    frame = pd.DataFrame(rows, columns=["option", "label", "date"])
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


# -------------------------------------------------------------------------------- robustness

NO_FLIP = "No change of the recommendation in the range searched."
NO_CHANGE = "no change over the range"  # the tornado tooltip's "Changes at" where nothing flips
TAKES_OVER = "takes over"  # how a new winner wins at a flip where it does more than tie today's winner's score


def band_caption(band: WeightBand) -> str:
    """'Recommendation holds for 0.00–2.99 (other weights fixed); above: Internal CA (AD CS)': the engine's band
    in raw weight units ('0.00 and up (no limit)' when it has no upper end) and the options taking over past it."""
    high = band.raw_high
    bounded = high is not None and math.isfinite(high)
    span = f"{band.raw_low:.2f}–{high:.2f}" if bounded else f"{band.raw_low:.2f} and up (no limit)"
    text = f"Recommendation holds for {span} (other weights fixed)"
    sides = [f"{side}: {LABELS[option]}" for side, option in (("below", band.below), ("above", band.above)) if option]
    return "; ".join([text, *sides])


def band_captions(sens: Sensitivity) -> dict[str, str]:
    """{weight field: `band_caption`}; empty when nothing is recommended (no band to show)."""
    fields = dict(zip(CRITERIA, WEIGHT_FIELDS, strict=True))
    return {fields[c]: band_caption(b) for c, b in sens.weights.items()}


def flip_how(tie: str | None) -> str:
    """How the new winner wins at a flip, in the engine's words (sensitivity's flip sentences): it takes over, or
    (`tie`, a scoring.TIE_BREAKS key) it only draws level with today's winner and the tie-break ranks it first."""
    if tie is None:
        return TAKES_OVER
    return f"draws level (an exact tie on score), ranked first as it {TIE_REASONS[tie]}"


def _flip_columns(points: list[FlipPoint]) -> dict[str, list[Any]]:
    return {"Direction": [p.direction for p in points],
            "Now": [p.current for p in points],
            "Still today's winner at": [p.before for p in points],
            "Changes at": [p.value for p in points],
            "New winner": [LABELS[p.option] if p.option else "no feasible option" for p in points],
            "How": [flip_how(p.tie) for p in points]}


def flip_frame(points: list[FlipPoint], currency: str) -> pd.DataFrame:
    """The engine's flip points in profile values, one row each, the input named as its sidebar widget."""
    return pd.DataFrame({"Input": [field_label(FIELD_BY_NAME[p.field], currency) for p in points],
                         **_flip_columns(points)})


def price_flip_frame(points: list[FlipPoint], catalog: Catalog) -> pd.DataFrame:
    """The engine's flip points in CA prices (in the catalog's currency): which CA row, the options paying it, and
    where the winner changes."""
    return pd.DataFrame({"CA": [catalog[p.ca].name for p in points],
                         "Price": [f"{PRICE_LABELS[p.price]} ({catalog.currency})" for p in points],
                         "Used by": [", ".join(LABELS[o] for o in p.options) for p in points],
                         **_flip_columns(points)})


def _tooltip_number(value: float) -> str:
    """`value` as the charts' tooltips write numbers (d3 format ',.4~f'): up to 4 decimals, no trailing zeros."""
    text = f"{value:,.4f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def tornado_chart_frame(frame: pd.DataFrame, sens: Sensitivity) -> pd.DataFrame:
    """`tornado_frame` of `sens` plus what the chart shows: the label of the new winner, the factor's rank (most
    sensitive first, as the engine ordered them) and tooltip texts: where the recommendation changes (`NO_CHANGE`
    where it does not), the new winner and how it wins (`flip_how`: a takeover or a tie; dashes where none) and the
    engine's sentence (or `NO_FLIP`)."""
    flip = frame["flip"].to_numpy(dtype=bool)
    label = frame["option"].map(LABELS)
    ties = {f.text: f.tie for f in [*sens.flip_points, *sens.price_flips]}  # a flip's row carries its sentence
    how = [flip_how(ties.get(text)) if f else "—" for text, f in zip(frame["text"], flip, strict=True)]
    return frame.assign(label=label, rank=pd.factorize(frame["factor"])[0],
                        changes_at=[_tooltip_number(v) if f else NO_CHANGE for v, f in zip(frame["value"], flip, strict=True)],
                        new_winner=np.where(flip, label, "—"), how=how, note=np.where(flip, frame["text"], NO_FLIP))


# ------------------------------------------------------------------------------------ charts
# Charts are built with Altair on named datasets and compiled once per (chart, axis titles) to a
# Vega-Lite dict; each rerun only attaches the data (Altair's schema validation costs ~30 ms a chart).

LEGEND_COLUMN = 250  # pixels a legend column takes (labels cut at LEGEND_LABEL); the columns follow the chart width
LEGEND_LABEL = 220


def option_colour(shown: tuple[str, ...] | None) -> alt.Color:
    """The shared option → colour encoding (all seven options in the domain, so colours never shift), its legend
    listing only the options `shown` (None: no legend) in as many columns as the chart's width has room for."""
    scale = alt.Scale(domain=[LABELS[o] for o in OPTIONS], range=[OPTION_COLOURS[o] for o in OPTIONS])
    legend = None if shown is None else alt.Legend(
        orient="bottom", values=list(shown), labelLimit=LEGEND_LABEL,
        columns=alt.ExprRef(f"max(1, floor(width / {LEGEND_COLUMN}))"))
    return alt.Color("label:N", scale=scale, title="Option", legend=legend)


def plotted_labels(data: Mapping[str, pd.DataFrame]) -> tuple[str, ...]:
    """The labels of the options the datasets plot (a `label` column), in OPTIONS order: a chart's legend."""
    present = {str(v) for frame in data.values() if "label" in frame.columns for v in frame["label"].dropna()}
    return tuple(LABELS[o] for o in OPTIONS if LABELS[o] in present)


def _styled(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """Shared fonts; the chart fits the width, and its height grows with the legend rows a narrow width needs
    (Streamlit's default autosize fits the height too, and so squeezes the plot to make room for them)."""
    return (chart.properties(autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))
            .configure_axis(labelFontSize=12, titleFontSize=13, labelLimit=300)
            .configure_legend(labelFontSize=12, titleFontSize=13).configure_view(stroke=None))


def criteria_chart(shown: tuple[str, ...]) -> alt.TopLevelMixin:
    """Grouped bars of dataset `criteria` (`criteria_frame`): normalised criterion per feasible option."""
    chart = alt.Chart(alt.NamedData("criteria")).mark_bar().encode(
        # the weight on a second line, so that the four labels fit a narrow chart (Vega drops overlapping ones)
        x=alt.X("criterion_label:N", title=None, sort=alt.SortField("order"), axis=alt.Axis(
            labelAngle=0, labelExpr="[slice(datum.label, 0, indexof(datum.label, ' (')), "
                                    "slice(datum.label, indexof(datum.label, ' (') + 1)]")),
        xOffset=alt.XOffset("label:N", sort=[LABELS[o] for o in OPTIONS]),
        y=alt.Y("normalised:Q", title="Normalised (best feasible option = 1)", scale=alt.Scale(domain=[0, 1])),
        color=option_colour(shown),
        tooltip=[alt.Tooltip("label:N", title="Option"), alt.Tooltip("criterion:N", title="Criterion"),
                 alt.Tooltip("value:Q", title="Value", format=",.4~f"),
                 alt.Tooltip("normalised:Q", title="Normalised", format=".2f"),
                 alt.Tooltip("weight:Q", title="Weight", format=".0%")],
    ).properties(height=CHART_HEIGHT)
    return _styled(chart)


def cost_trust_chart(shown: tuple[str, ...], currency: str, years: float) -> alt.TopLevelMixin:
    """Dataset `options` (`scatter_frame`): cost against trust; non-dominated options as large labelled diamonds."""
    base = alt.Chart(alt.NamedData("options")).encode(
        x=alt.X("cost_total:Q", title=f"Cost over {report.years_text(years)} ({currency})",
                scale=alt.Scale(zero=False, nice=True)),
        # a precision of its own: without one, the axis takes it from the tick step, and options that all have the
        # same trust give a zero step and ticks such as 100.000000%
        y=alt.Y("trust:Q", title="Clients without a warning", axis=alt.Axis(format=".1~%"),
                scale=alt.Scale(zero=False, nice=True, padding=14)),
        color=option_colour(shown),
    )
    front = alt.Scale(domain=["non-dominated", "dominated"], range=["diamond", "circle"])
    points = base.mark_point(filled=True).encode(
        shape=alt.Shape("front:N", title="Dominance", scale=front, legend=alt.Legend(orient="top")),
        size=alt.Size("front:N", title="Dominance", legend=alt.Legend(orient="top"),
                      scale=alt.Scale(domain=["non-dominated", "dominated"], range=[280, 90])),
        tooltip=[alt.Tooltip("label:N", title="Option"), alt.Tooltip("front:N", title="Dominance"),
                 alt.Tooltip("cost_total:Q", title=f"Cost ({currency})", format=",.0f"),
                 alt.Tooltip("tco:Q", title=f"TCO ({currency})", format=",.0f"),
                 alt.Tooltip("trust:Q", title="Trust", format=".0%"),
                 alt.Tooltip("devices_to_reconfigure:Q", title="Devices to touch", format=",.0f"),
                 alt.Tooltip("users_url_change:Q", title="Users with a new URL", format=",.0f"),
                 alt.Tooltip("score:Q", title="Score", format=".1f")],
    )
    labels = base.mark_text(align="left", dx=12, dy=-10, fontSize=12, fontWeight="bold").encode(text="label:N").transform_filter(
        alt.datum.front == "non-dominated")
    return _styled((points + labels).properties(height=CHART_HEIGHT))


def cumulative_chart(shown: tuple[str, ...], currency: str) -> alt.TopLevelMixin:
    """Datasets `cumulative` (`decision.timeline.cumulative`) and `rules` (`rule_frame`): step lines per
    option with the dated rule changes as dashed vertical rules labelled with their date."""
    lines = alt.Chart(alt.NamedData("cumulative")).mark_line(interpolate="step-after", strokeWidth=2.5).encode(
        x=alt.X("date:T", title=None, axis=alt.Axis(format="%Y-%m")),
        y=alt.Y("cumulative:Q", title=f"Cumulative cost ({currency})", axis=alt.Axis(format=",.0f")),
        color=option_colour(shown),
        tooltip=[alt.Tooltip("label:N", title="Option"), alt.Tooltip("date:T", title="Date", format="%Y-%m-%d"),
                 alt.Tooltip("amount:Q", title=f"Spent that day ({currency})", format=",.2f"),
                 alt.Tooltip("cumulative:Q", title=f"Cumulative ({currency})", format=",.2f")],
    )
    rules = alt.Chart(alt.NamedData("rules")).encode(x=alt.X("when:T"))
    marks = rules.mark_rule(strokeDash=[5, 4], color="#555", strokeWidth=1.5).encode(
        tooltip=[alt.Tooltip("date:N", title="From"), alt.Tooltip("rule:N", title="Rule change")])
    text = rules.mark_text(angle=270, align="right", baseline="bottom", dx=-4, dy=-2, fontSize=11,
                           color="#444").encode(y=alt.value(0), text="date:N")
    return _styled(alt.layer(lines, marks, text).properties(height=CHART_HEIGHT + 40))


def renewal_chart(shown: tuple[str, ...]) -> alt.TopLevelMixin:
    """Dataset `calendar` (`calendar_frame`): one tick per issuance and option over the horizon."""
    chart = alt.Chart(alt.NamedData("calendar")).mark_tick(thickness=2.5, size=22).encode(
        x=alt.X("date:T", title=None, axis=alt.Axis(format="%Y-%m")),
        y=alt.Y("label:N", title=None, sort=list(shown)),
        color=option_colour(None),
        tooltip=[alt.Tooltip("label:N", title="Option"), alt.Tooltip("date:T", title="Issued", format="%Y-%m-%d")],
    ).properties(height=alt.Step(34))
    return _styled(chart)


def tornado_chart(shown: tuple[str, ...]) -> alt.TopLevelMixin:
    """Dataset `tornado` (`tornado_chart_frame`): per factor, a bar from the centre to the flip on each side
    (lower side left, higher side right), as a share of the range searched; coloured by the option that takes
    over, grey where the recommendation holds over the whole range."""
    bars = alt.Chart(alt.NamedData("tornado")).mark_bar(height={"band": 0.7}).encode(
        y=alt.Y("factor:N", title=None, sort=alt.EncodingSortField("rank", op="min")),
        x=alt.X("position:Q", scale=alt.Scale(domain=[-1, 1]),
                title="← lower · distance to the change, share of the range searched · higher →",
                axis=alt.Axis(labelExpr="format(abs(datum.value), '.0%')")),
        x2=alt.X2Datum(0),
        color=alt.condition(alt.datum.flip, option_colour(shown), alt.value("#e8e8e8")),
        tooltip=[alt.Tooltip("factor:N", title="Factor"), alt.Tooltip("side:N", title="Side"),
                 alt.Tooltip("current:Q", title="Now", format=",.4~f"),
                 alt.Tooltip("changes_at:N", title="Changes at"),
                 alt.Tooltip("limit:Q", title="Searched to", format=",.4~f"),
                 alt.Tooltip("new_winner:N", title="New winner"), alt.Tooltip("how:N", title="How"),
                 alt.Tooltip("note:N", title="What changes")],
    )
    centre = alt.Chart(alt.Data(values=[{}])).mark_rule(color="#555").encode(x=alt.datum(0))
    return _styled(alt.layer(bars, centre).properties(height=alt.Step(24)))


CHARTS = {"criteria": criteria_chart, "cost_trust": cost_trust_chart, "cumulative": cumulative_chart,
          "renewals": renewal_chart, "tornado": tornado_chart}


_THEME_LOCK = threading.Lock()


@functools.lru_cache(maxsize=64)
def _compiled(chart: str, args: tuple[Any, ...]) -> dict[str, Any]:
    with _THEME_LOCK, alt.theme.enable("none"):  # as st.altair_chart does: no default width/height
        return CHARTS[chart](*args).to_dict()


def chart_spec(chart: str, data: Mapping[str, pd.DataFrame], *args: Any) -> dict[str, Any]:
    """A Vega-Lite spec for `st.vega_lite_chart`: the compiled chart `chart(shown, *args)` with its named datasets,
    `shown` the options they plot (`plotted_labels`: the legend leaves out the options not plotted)."""
    spec = copy.deepcopy(_compiled(chart, (plotted_labels(data), *args)))
    spec["datasets"] = dict(data)
    return spec


def scatter_frame(table: pd.DataFrame) -> pd.DataFrame:
    """Feasible options for the cost-trust chart, with 'dominated' / 'non-dominated' as text; the score (a tooltip)
    to one decimal as every output writes it (`explain.one_decimal`)."""
    data = table[table["feasible"]]
    return data[["label", "cost_total", "tco", "trust", "devices_to_reconfigure", "users_url_change"]].assign(
        score=one_decimal(data["score"]), front=np.where(data["dominated"], "dominated", "non-dominated"))


def rule_frame(rules: pd.DataFrame) -> pd.DataFrame:
    """`decision.timeline.rule_changes` with a datetime column `when` for the chart."""
    return rules.assign(when=pd.to_datetime(rules["date"]))[["when", "date", "rule"]]


# --------------------------------------------------------------------------------- CA panel

def ca_label(catalog: Catalog, ca_id: str, day: int) -> str:
    """A CA picker entry: its name, and its status on `day` in capitals unless active."""
    if ca_id == CHEAPEST:
        return "Cheapest per option"
    status = catalog[ca_id].status_on(day)
    return catalog[ca_id].name + ("" if status == "active" else f" — {status.upper()}")


def ca_summary(record: Mapping[str, Any], params: Parameters, day: int) -> str:
    """A catalog row (`CA.record(day)`) as one line of capabilities; a dated lifetime as its value on `day`."""
    if record["san"]:
        limit = f"up to {record['max names']} names" if record["max names"] else "no name limit"
        san = f"SAN ({limit})"
    else:
        san = "no SAN"
    acme = ("ACME (free)" if record["acme free"] else "ACME (paid)") if record["acme"] else "no ACME"
    parts = [record["kind"], san, "wildcard" if record["wildcard"] else "no wildcard", acme,
             "manual orders" if record["manual orders"] else "no manual orders",
             f"lifetime: {_lifetime(record['lifetime'], params, day)}",
             f"client-auth EKU: {record['client-auth EKU']}"]
    return " · ".join(parts)


def _lifetime(lifetime: Any, params: Parameters, day: int) -> str:
    if isinstance(lifetime, str) and lifetime in params.items:
        return f"{params.value(lifetime, day)} days on {from_day(day).isoformat()} ({lifetime})"
    return f"{lifetime} days" if isinstance(lifetime, int) else str(lifetime)
