"""One profile's evaluation as JSON (the contract of `evaluate --format json`), a text table or Markdown."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from decision.catalog import CATALOG_FILE
from decision.commands import deployment
from decision.dates import from_day, horizon_length
from decision.engine import ENGINE_VERSION, OPTION_COLUMNS, Evaluation, evaluate
from decision.explain import (
    CA_TIE_CODES,
    LEFT_OUT_TITLES,
    and_list,
    ca_tie_sentence,
    money_text,
    names_left_out,
    points,
    reason_list,
    reason_text,
)
from decision.names import publicly_registrable
from decision.options import LABELS, OPTIONS
from decision.parameters import PARAMETERS_FILE
from decision.profiles import profile_to_mapping
from decision.scoring import TCO_DECIMALS
from decision.sensitivity import analyse

TABLE_COLUMNS = ("rank", "option", "feasible", "ca", "certificates", "certificate_issuances", "cost_total",
                 "tco", "trust", "devices_to_reconfigure", "users_url_change", "score")


def _plain(value: Any) -> Any:
    """numpy / pandas scalars → JSON-safe Python values."""
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if np.isnan(value) else float(value)
    return value


def _text_or_none(value: Any) -> str | None:
    return None if pd.isna(value) else str(value)


DIGEST_HEX = 16  # hex digits of SHA-256 shown for the profile and the data files


def data_file(path: str, shipped: Path) -> dict[str, str]:
    """A data file the engine read: its name (`data/…` for the shipped file; else the file name only, so a stamp does
    not depend on the folder), `shipped` or `custom`, and the first hex digits of the SHA-256 of its bytes (what
    `sha256sum` or PowerShell's `Get-FileHash` print)."""
    source = Path(path)
    own = source.resolve() == shipped.resolve()
    name = f"{shipped.parent.name}/{shipped.name}" if own else re.sub(r"[\x00-\x1f\x7f]", "?", source.name)
    return {"file": name, "source": "shipped" if own else "custom",
            "sha256": hashlib.sha256(source.read_bytes()).hexdigest()[:DIGEST_HEX]}


def versions(ev: Evaluation) -> dict[str, str]:
    """What produced the numbers: the engine version and, for the parameters file and the CA catalog, the date they
    are as of, their file (see `data_file`) and its content hash."""
    out = {"engine": ENGINE_VERSION}
    for key, data, shipped in (("parameters", ev.params, PARAMETERS_FILE), ("catalog", ev.catalog, CATALOG_FILE)):
        out[f"{key}_as_of"] = data.as_of
        out.update({f"{key}_{k}": v for k, v in data_file(data.path, shipped).items()})
    return out


DATA_OPTIONS = (("parameters", "--parameters"), ("catalog", "--catalog"))  # versions() key, command-line option


def custom_files(v: dict[str, str]) -> list[tuple[str, str]]:
    """(option, file name) of each data file of `versions()` that is not the shipped one, as a command needs them."""
    return [(option, v[f"{key}_file"]) for key, option in DATA_OPTIONS if v[f"{key}_source"] == "custom"]


def data_stamp(v: dict[str, str]) -> str:
    """The `versions()` stamp in one line: 'Engine 0.1.0 · parameters data/parameters.yaml (shipped, as of …,
    SHA-256 …) · CA catalog …'."""
    files = [f"{what} {v[f'{key}_file']} ({v[f'{key}_source']}, as of {v[f'{key}_as_of']}, SHA-256 {v[f'{key}_sha256']})"
             for key, what in (("parameters", "parameters"), ("catalog", "CA catalog"))]
    return " · ".join([f"Engine {v['engine']}", *files])


def left_out(ev: Evaluation, rows: pd.DataFrame, option: str) -> list[tuple[str, str]]:
    """(title, ', '-joined names) per rule that leaves names off `option`'s certificates (`explain.names_left_out`;
    `rows`: one profile's option rows with their names)."""
    refused = dict(zip(rows["option"], rows["not_issuable"], strict=True))
    own = set(str(refused[option]).split(", "))
    return [(LEFT_OUT_TITLES[g.rule], ", ".join(n for n in g.names if n in own))
            for g in names_left_out(refused, ev.params) if option in g.options]


def profile_hash(profile: dict[str, Any]) -> str:
    """A stable hash of a validated profile, for reproducibility stamps."""
    return hashlib.sha256(json.dumps(profile, sort_keys=True).encode()).hexdigest()[:DIGEST_HEX]


def ca_ties(ev: Evaluation, i: int = 0) -> dict[str, dict[str, str]]:
    """Per option of profile `i` whose CA was chosen among CAs that cost the same (ca_tie_order, ca_tie_issuances),
    that reason's sentence naming them: {option: {code: sentence}} (see `explain.ca_tie_sentence`). The other CAs'
    figures come from scoring the profile once with each CA of the catalog."""
    rows = ev.option_rows(i)
    tied = {r.option: code for r in rows.itertuples() for code in CA_TIE_CODES if code in str(r.reasons).split("; ")}
    if not tied:
        return {}
    profile = profile_to_mapping(ev.profiles, i)
    each = evaluate([{**profile, "ca": ca} for ca in ev.catalog.ids], parameters=ev.params, catalog=ev.catalog,
                    names=False)
    out = {}
    for option, code in tied.items():
        row = rows[rows["option"] == option].iloc[0]
        cost, count = round(float(row["cost_total"]), TCO_DECIMALS), int(row["certificate_issuances"])
        level, more = [], []
        for k, ca in enumerate(each.profiles["ca"]):
            other = each.options.iloc[k * len(OPTIONS) + OPTIONS.index(option)]  # profile k's row of the option
            if ca != row["ca"] and other["feasible"] and round(float(other["cost_total"]), TCO_DECIMALS) == cost:
                extra = int(other["certificate_issuances"]) - count
                if extra:
                    more.append((ev.catalog[ca].short_name, extra))
                else:
                    level.append(ev.catalog[ca].short_name)
        money = money_text(float(row["cost_total"]), str(ev.profiles.iloc[i]["currency"]))
        out[option] = {code: ca_tie_sentence(ev.catalog[str(row["ca"])].short_name, level, more, money)}
    return out


LOST_CODES = ("internal_names_ban_in_horizon", "internal_names_revoked_in_horizon")


@dataclass(frozen=True)
class Dropped:
    """Names on an option's certificate that its renewals from `day` can no longer carry (internal names a public CA
    refuses on a certificate expiring after `ban`), and whether split DNS lets the internal URLs move first."""

    day: str
    names: list[str]
    ban: str
    split_dns: bool

    def sentence(self) -> str:
        """What the reader must know and do, in words."""
        then = ("move the internal URLs to the public names before then (the commands do)" if self.split_dns else
                "without split DNS, clients inside that use them get certificate warnings from then")
        return (f"Renewals from {self.day} cannot carry {and_list(self.names)}: a public CA refuses internal names on "
                f"a certificate that would expire after {self.ban}; {then}")


def names_dropped(ev: Evaluation, i: int, option: str) -> Dropped | None:
    """The internal names on `option`'s certificate that a renewal within profile `i`'s horizon may no longer carry
    (reasons internal_names_ban_in_horizon, internal_names_revoked_in_horizon), or None."""
    row = ev.option_rows(i).set_index("option").loc[option]
    if not set(LOST_CODES) & set(str(row["reasons"]).split("; ")):
        return None
    names = np.array([n for n in str(row["names"]).split(", ") if n], dtype=object)
    lost_on = int(ev.scored.components[option].names_lost_from[i])
    return Dropped(from_day(lost_on).isoformat(), names[~publicly_registrable(names, ev.params, lost_on)].tolist(),
                   str(ev.params.value("internal_names_ban")), bool(ev.profiles.iloc[i]["split_dns"]))


def option_records(ev: Evaluation, i: int = 0) -> list[dict[str, Any]]:
    """The seven option rows of one profile as plain dicts (names as lists, reasons with text)."""
    masks = ev.scored.columns["reasons"][i]
    ties = ca_ties(ev, i)
    out = []
    for _, row in ev.option_rows(i).iterrows():
        record = {c: _plain(row[c]) for c in OPTION_COLUMNS}
        record["names"] = [n for n in str(row["names"]).split(", ") if n]
        record["not_issuable"] = [n for n in str(row["not_issuable"]).split(", ") if n]
        dropped = names_dropped(ev, i, row["option"])
        record["renewals_drop"] = None if dropped is None else {"from": dropped.day, "names": dropped.names,
                                                                "text": dropped.sentence()}
        record["reasons"] = reason_list(int(masks[OPTIONS.index(row["option"])]), ev.reason_details(i, row["option"])
                                       | ties.get(row["option"], {}))
        record["rank"] = record["rank"] or None
        record["label"] = LABELS[row["option"]]
        record["ca"] = row["ca"] or None
        record["dominated"] = bool(row["dominated"])
        record["dominated_by"] = _text_or_none(row["dominated_by"])
        out.append(record)
    return out


def deployments(ev: Evaluation, i: int = 0) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(commands, dns_records) per option for one profile."""
    profile = ev.profiles.iloc[i]
    commands, dns = {}, {}
    for _, row in ev.option_rows(i).iterrows():
        sched = ev.scored.components[row["option"]].schedule
        issued = sched.dates_of(i) if sched is not None else None
        lines, records = deployment(profile, row, ev.params, ev.catalog, issued)
        commands[row["option"]], dns[row["option"]] = lines, records
    return commands, dns


def risks(ev: Evaluation, i: int, option: str | None) -> list[str]:
    """The sentences of `option`'s risks to check for profile `i` (reasons of kind risk: unverified, not scored);
    none without an option."""
    if option is None:
        return []
    mask = int(ev.scored.columns["reasons"][i][OPTIONS.index(option)])
    return [r["text"] for r in reason_list(mask, ev.reason_details(i, option)) if r["kind"] == "risk"]


def renewal_calendar(ev: Evaluation, i: int, option: str) -> list[str]:
    """Dates of every issuance of `option` within profile `i`'s horizon."""
    sched = ev.scored.components[option].schedule
    return [] if sched is None else [from_day(d).isoformat() for d in sched.dates_of(i)]


def to_json(ev: Evaluation, i: int = 0) -> dict[str, Any]:
    """The `evaluate --format json` object for profile `i`."""
    rec = ev.recommendations.iloc[i]
    commands, dns = deployments(ev, i)
    profile = profile_to_mapping(ev.profiles, i)
    return {
        "profile": profile,
        "options": option_records(ev, i),
        "recommendation": {"option": _text_or_none(rec["recommendation"]), "why": ev.why(i),
                           "runner_up": _text_or_none(rec["runner_up"]), "margin": _plain(rec["margin"]),
                           "close_call": bool(rec["close_call"])},
        "commands": commands,
        "dns_records": dns,
        "renewals": {o: renewal_calendar(ev, i, o) for o in OPTIONS},
        "warnings": ev.warnings(i),
        "sensitivity": analyse(ev, i).to_json(),
        "versions": {**versions(ev), "profile_hash": profile_hash(profile)},
    }


def _shown(rows: pd.DataFrame) -> pd.DataFrame:
    """The option rows as the human formats show them: no rank or score for infeasible options, money and shares rounded."""
    shown = rows[list(TABLE_COLUMNS)].copy()
    shown["rank"] = shown["rank"].map(lambda r: str(r) if r else "-")
    shown["trust"] = shown["trust"].map(lambda t: f"{t:.0%}")
    shown["score"] = shown["score"].map(lambda s: "" if pd.isna(s) else points(s))
    for c in ("cost_total", "tco"):
        shown[c] = shown[c].map(lambda v: f"{v:,.0f}")
    return shown


def years_text(years: float) -> str:
    """A horizon in words: '1 year', '2.5 years', '3 months' (0.25 years), '18 months' (1.5 years)."""
    shown, unit = horizon_length(years)
    return f"{shown} {unit}" + ("" if shown == "1" else "s")


def _markdown_table(frame: pd.DataFrame, md: Callable[[object], str]) -> str:
    head = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(md(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def _context(profile: pd.Series) -> str:
    """What the figures are for: 'Exchange 2019, from 2026-11-26, 3 years, money in USD'."""
    return (f"Exchange {profile['exchange_version']}, from {from_day(profile['start'])}, "
            f"{years_text(profile['horizon_years'])}, money in {profile['currency']}")


def _markdown(ev: Evaluation, i: int, rows: pd.DataFrame, winner: str | None, ca_tie: list[str],
              commands: dict[str, list[str]], dns: dict[str, list[str]]) -> str:
    """Profile `i` in Markdown, with the facts of the text format; every text from the profile, catalog or engine is
    escaped as the appendix escapes it, and the commands are fenced longer than any backtick run in them."""
    from decision.appendix.render_md import fence, md  # the appendix's model imports this module

    profile = ev.profiles.iloc[i]
    parts = [f"# Certificate strategy for {md(profile['org'])}", "", md(_context(profile)) + ".",
             "", f"**Recommendation: {LABELS.get(winner, 'none')}.** {md(ev.why(i))}", "",
             *[f"{md(t)}\n" for t in ca_tie], *[f"{md(f'{LABELS[winner]}: {t}')}\n" for t in risks(ev, i, winner)],
             _markdown_table(_shown(rows), md), ""]
    infeasible = rows[~rows["feasible"]]
    if len(infeasible):
        parts += ["## Not feasible", ""] + [
            f"- **{LABELS[r.option]}**: {md(reason_text(r.reasons, ev.reason_details(i, r.option)))}"
            for r in infeasible.itertuples()] + [""]
    if winner:
        chosen = rows[rows["option"] == winner].iloc[0]
        parts += ["## Names to request", "", md(chosen["names"]), ""]
        parts += [line for title, names in left_out(ev, rows, winner) for line in (f"{title}: {md(names)}", "")]
        dropped = names_dropped(ev, i, winner)
        if dropped:
            parts += [f"{md(dropped.sentence())}.", ""]
        shell, records = fence(tuple(commands[winner])), fence(tuple(dns[winner]))
        parts += ["## Exchange Management Shell", "", f"{shell}powershell", *commands[winner], shell, "",
                  "## DNS records", "", records, *dns[winner], records, ""]
    warnings = ev.warnings(i)
    parts += ["## Warnings", "", *[f"- {md(w)}" for w in warnings]] if warnings else []
    return "\n".join(parts).rstrip() + "\n"


def render(ev: Evaluation, fmt: str, i: int = 0) -> str:
    """Render profile `i` as json, table or markdown."""
    if fmt == "json":
        return json.dumps(to_json(ev, i), indent=2, ensure_ascii=False)
    profile = ev.profiles.iloc[i]
    rows = ev.option_rows(i)
    rec = ev.recommendations.iloc[i]
    winner = _text_or_none(rec["recommendation"])
    infeasible = rows[~rows["feasible"]]
    commands, dns = deployments(ev, i) if winner else ({}, {})
    ca_tie = [f"Certification authority: {ev.catalog[str(rows.iloc[0]['ca'])].short_name}. {s[0].upper()}{s[1:]}."
              for s in ca_ties(ev, i).get(winner, {}).values()]
    if fmt == "markdown":
        return _markdown(ev, i, rows, winner, ca_tie, commands, dns)
    lines = [f"Certificate strategy for {profile['org']} ({_context(profile)})",
             "", _shown(rows).to_string(index=False), ""]
    lines += [f"Recommendation: {LABELS.get(winner, 'none')}. {ev.why(i)}", *ca_tie]
    lines += [f"{LABELS[winner]}: {t}" for t in risks(ev, i, winner)]
    for r in infeasible.itertuples():
        lines.append(f"  not feasible - {LABELS[r.option]}: {reason_text(r.reasons, ev.reason_details(i, r.option))}")
    if winner:
        lines += ["", "Names to request: " + rows.loc[rows["option"] == winner, "names"].iloc[0]]
        lines += [f"{title}: {names}" for title, names in left_out(ev, rows, winner)]
        dropped = names_dropped(ev, i, winner)
        if dropped:
            lines.append(dropped.sentence() + ".")
        lines += ["", "Exchange Management Shell:", *[f"  {c}" for c in commands[winner]],
                  "", "DNS records:", *[f"  {d}" for d in dns[winner]]]
    lines += ["", *[f"warning: {w}" for w in ev.warnings(i)]]
    return "\n".join(lines).rstrip() + "\n"
