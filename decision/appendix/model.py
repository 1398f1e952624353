"""The appendix content model: one tree of sections and blocks built from an Evaluation.

Markdown, HTML and Word render this same tree, so they cannot disagree. Every number in it is
formatted here from the engine's tables (decision.report, decision.timeline); renderers only lay out.
"""

from __future__ import annotations

import datetime as dt
import math
import shlex
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import yaml

from decision import currency
from decision.appendix import charts
from decision.current_state import CurrentState
from decision.dates import from_day, horizon_adjective, horizon_end_day, to_day, year_starts
from decision.engine import CRITERION_COLUMNS, Evaluation, better_on
from decision.explain import (
    BY_CODE,
    TIE_REASONS,
    UNDER_A_TENTH,
    and_list,
    close_call_change,
    count,
    lead_points,
    names_left_out,
    plural,
    points,
    reason_list,
    reason_text,
    weight_takers,
)
from decision.options import LABELS, OPTIONS
from decision.profiles import FIELD_BY_NAME, FIELDS, GROUPS, profile_to_mapping
from decision.report import (
    DIGEST_HEX,
    ca_ties,
    custom_files,
    deployments,
    names_dropped,
    profile_hash,
    renewal_calendar,
    versions,
)
from decision.safe_output import formula_safe
from decision.safeyaml import load_yaml_file
from decision.scoring import CRITERION_NAMES
from decision.sensitivity import Sensitivity, analyse
from decision.timeline import EVENT_KINDS, cost_events, cumulative, rule_changes
from decision.views import ca_label, field_label, name_label  # the labels the app shows

TEXTS_FILE = Path(__file__).with_name("texts.yaml")
DASH = "—"
CLIENT_KIND = "clients and users"
CRITERION_LABELS = {"cost": "Direct cost", "trust": "Trust", "reconfiguration": "Devices to touch",
                    "url_change": "Users: new address"}


# ----------------------------------------------------------------------------------------- blocks
@dataclass(frozen=True)
class Run:
    """A piece of running text; `code` is set in a monospaced font."""

    text: str
    bold: bool = False
    code: bool = False


@dataclass(frozen=True)
class Paragraph:
    runs: tuple[Run, ...]
    kind: ClassVar[str] = "paragraph"

    @property
    def text(self) -> str:
        return "".join(r.text for r in self.runs)


@dataclass(frozen=True)
class Bullets:
    items: tuple[Paragraph, ...]
    checklist: bool = False
    kind: ClassVar[str] = "bullets"


@dataclass(frozen=True)
class Note:
    """A highlighted remark (a close call, a warning)."""

    body: Paragraph
    tone: str = "info"  # info | warning
    kind: ClassVar[str] = "note"


@dataclass(frozen=True)
class Table:
    label: str  # "Table 3"
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    align: tuple[str, ...]  # "l" | "r" per column
    widths: tuple[float, ...]  # relative column widths (Word)
    highlight: frozenset[int] = frozenset()  # row indexes to emphasise (the recommended option)
    group_rows: frozenset[int] = frozenset()  # rows whose first cell is a group heading across the table
    small: bool = False
    kind: ClassVar[str] = "table"


@dataclass(frozen=True)
class Figure:
    key: str  # file-name part of the PNG written beside Markdown
    label: str  # "Figure 1"
    caption: str
    spec: str  # Vega-Lite JSON
    kind: ClassVar[str] = "figure"


@dataclass(frozen=True)
class Code:
    lines: tuple[str, ...]
    language: str
    kind: ClassVar[str] = "code"


@dataclass(frozen=True)
class Subheading:
    number: str
    title: str
    kind: ClassVar[str] = "subheading"


Block = Paragraph | Bullets | Note | Table | Figure | Code | Subheading


@dataclass(frozen=True)
class Section:
    number: int
    title: str
    blocks: tuple[Block, ...]
    new_page: bool = False
    landscape: bool = False


@dataclass(frozen=True)
class Logo:
    data: bytes
    mime: str
    ext: str


@dataclass(frozen=True)
class Appendix:
    """Everything a renderer needs: title block, sections, document properties."""

    title: str
    kicker: str
    subtitle: str
    org: str
    firm: str | None
    logo: Logo | None
    generated: dt.date
    sections: tuple[Section, ...]
    keywords: tuple[str, ...]
    header: str  # each Word page's running header (the organisation's name cut to one line: `running_org`)
    page_footer: str  # each Word page's footer (likewise)
    footer: str  # the document's footer (HTML), with the whole name
    figures: tuple[Figure, ...] = field(default=())


RUNNING_ORG = 48  # characters of the organisation's name that a page's running header and footer show


def running_org(org: str) -> str:
    """The organisation's name as one line of a page's running header or footer: whole words up to RUNNING_ORG
    characters, then '…'."""
    if len(org) <= RUNNING_ORG:
        return org
    fits = org[:RUNNING_ORG + 1]  # a word of RUNNING_ORG characters fits when a space follows it
    words = fits.rsplit(" ", 1)[0] if " " in fits else org[:RUNNING_ORG - 1]
    return words.rstrip(" ,;:·-") + "…"


# ------------------------------------------------------------------------------------- formatting
def money(value: float) -> str:
    return f"{value:,.0f}"


def pct(value: float) -> str:
    return f"{value:.0%}"


def apportion(parts: np.ndarray, total: float) -> np.ndarray:
    """Whole units for `parts` that add up to `total` as `money` rounds it (largest remainder): each part is rounded
    down, and the units short of the total go to the largest remainders (taken from the smallest where the parts
    round above it)."""
    parts = np.asarray(parts, dtype=float)
    floors = np.floor(parts)
    short = int(money(total).replace(",", "")) - int(floors.sum())
    order = np.argsort(-(parts - floors), kind="stable")
    if short < 0:
        order = order[::-1]
    np.add.at(floors, order[np.arange(abs(short)) % len(parts)], np.sign(short))
    return floors


def score(value: float) -> str:
    return DASH if pd.isna(value) else points(value)


def long_date(day: dt.date) -> str:
    return f"{day.day} {day.strftime('%B')} {day.year}"


def agrees(n: float, one: str, many: str) -> str:
    """The verb form that agrees with `plural(n, ...)`'s noun."""
    return one if int(n) == 1 else many


def para(*parts: str | Run) -> Paragraph:
    return Paragraph(tuple(p if isinstance(p, Run) else Run(p) for p in parts if p))


def bold(text: str) -> Run:
    return Run(text, bold=True)


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value) or DASH
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
        return DASH
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _option(value: Any) -> str | None:
    """An option id from the recommendations table, or None where there is none (None / NaN / '')."""
    return None if value is None or pd.isna(value) or not str(value) else str(value)


# ------------------------------------------------------------------------------------------ texts
def param_label(name: str) -> str:
    """A parameter's row label: as the app labels the profile field it gives the default of ('Admin rate', 'Cost
    weight'), else its name in words ('DCV reuse days')."""
    f = FIELD_BY_NAME.get(name)
    if f is None:
        return name_label(name)
    return field_label(f, with_unit=False) + (" weight" if f.unit == "weight" else "")


@lru_cache(maxsize=4)
def load_texts(path: str = str(TEXTS_FILE)) -> dict[str, Any]:
    """The option descriptions, refused-name advice and checklist items (decision/appendix/texts.yaml)."""
    return load_yaml_file(path, shipped=Path(path).resolve() == TEXTS_FILE.resolve())


@dataclass(frozen=True)
class Facts:
    """What texts.yaml conditions look at: the recommended option, its reasons, the profile, its DNS records."""

    option: str
    codes: set[str]
    profile: Mapping[str, Any]
    servers: int
    dns: tuple[str, ...]


def applies(item: Mapping[str, Any], facts: Facts) -> bool:
    """Whether a texts.yaml item's conditions hold for the recommended option."""
    option, codes, profile = facts.option, facts.codes, facts.profile
    if "options" in item and option not in item["options"]:
        return False
    if "reasons" in item and not codes & set(item["reasons"]):
        return False
    if codes & set(item.get("without", ())):
        return False
    for flag in item.get("profile", ()):
        negate = flag.startswith("not ")
        if bool(profile[flag.removeprefix("not ")]) == negate:
            return False
    if "dns" in item and not any(item["dns"] in record for record in facts.dns):
        return False
    return not (item.get("servers") == "many" and facts.servers < 2)


def fill(text: str, values: Mapping[str, str]) -> str:
    """Fill {placeholders}; an unknown placeholder is an error in texts.yaml, not in the output."""
    return string.Formatter().vformat(" ".join(text.split()), (), values)


# ---------------------------------------------------------------------------------------- builder
class _Builder:
    """Builds the sections of one profile's appendix from an Evaluation."""

    def __init__(self, ev: Evaluation, i: int, texts: Mapping[str, Any], current: CurrentState | None = None):
        self.ev, self.i, self.texts, self.current = ev, i, texts, current
        self.profile = ev.profiles.iloc[i]
        self.mapping = profile_to_mapping(ev.profiles, i)
        self.rows = ev.option_rows(i)
        self.rec = ev.recommendations.iloc[i]
        self.winner: str | None = _option(self.rec["recommendation"])
        self.runner: str | None = _option(self.rec["runner_up"])
        self.feasible = self.rows[self.rows["feasible"]]
        self.currency = str(self.profile["currency"])
        # amounts of the data files in another currency, added unconverted (decision.currency), and the rates that are
        # defaults estimated in the parameters' currency
        self.foreign = currency.foreign_prices(self.currency, ev.params, ev.catalog)
        self.default_rates = currency.default_rates(self.profile, ev.params)
        self.start = from_day(int(self.profile["start"]))
        self.years = float(self.profile["horizon_years"])
        self.servers = [s.upper() for s in str(self.profile["servers"]).split(";") if s]  # as the shell commands spell them
        self.tables = 0
        self.figures: list[Figure] = []

    # ------------------------------------------------------------------ helpers
    @cached_property
    def sens(self) -> Sensitivity:
        """The profile's sensitivity analysis, worked out once for the close-call notes and section 6."""
        return analyse(self.ev, self.i)

    def row(self, option: str) -> pd.Series:
        return self.rows[self.rows["option"] == option].iloc[0]

    def codes(self, option: str) -> set[str]:
        return {c for c in str(self.row(option)["reasons"]).split("; ") if c}

    def ca_name(self, ca_id: str) -> str:
        """The CA's short name (its catalog name without the parenthesised brands)."""
        return self.ev.catalog[ca_id].short_name if ca_id in self.ev.catalog.ids else DASH

    def table(self, caption: str, columns: Iterable[str], rows: Iterable[Iterable[str]], align: str,
              widths: Iterable[float], **extra: Any) -> Table:
        self.tables += 1  # cells are formula-safe: a table copied into a spreadsheet never runs one
        return Table(f"Table {self.tables}", caption, tuple(formula_safe(str(c)) for c in columns),
                     tuple(tuple(formula_safe(str(c)) for c in r) for r in rows), tuple(align), tuple(widths), **extra)

    def figure(self, key: str, caption: str, spec: str) -> Figure:
        fig = Figure(key, f"Figure {len(self.figures) + 1}", caption, spec)
        self.figures.append(fig)
        return fig

    def horizon_text(self) -> str:
        return f"{horizon_adjective(self.years)} horizon from {long_date(self.start)}"

    def placeholders(self, dates: list[str]) -> dict[str, str]:
        """The values the texts' {placeholders} take; `dates`: the recommended option's issuance dates."""
        option = self.winner or ""
        row = self.row(option) if option else None
        return {
            "org": str(self.profile["org"]),
            "owa_host": str(self.profile["owa_host"]),
            "external_domain": str(self.profile["external_domain"]),
            "first_server": self.servers[0] if self.servers else "the Exchange server",
            "other_servers": ", ".join(self.servers[1:]) or "the other servers",
            "ca_name": self.ca_name(str(row["ca"])) if row is not None else DASH,
            "lead_days": f"{self.ev.params.value('manual_renewal_lead_days'):g}",
            "email_dcv_end": str(self.ev.params.value("email_dcv_end")),
            "renewals_a_year": f"{self.ev.params.value('frequent_manual_renewals_per_year'):g}",
            "internal_names_ban": str(self.ev.params.value("internal_names_ban")),
            "issuances": count(row["certificate_issuances"]) if row is not None else "0",
            "first_renewal": dates[1] if len(dates) > 1 else "after the horizon",
        }

    # ---------------------------------------------------------------- sections
    def summary(self) -> Section:
        org = str(self.profile["org"])
        if self.winner is None:
            return Section(1, "Executive summary", (
                para(f"None of the seven certificate strategies is feasible for {org} as assessed. "
                     "Section 3 lists what rules each one out; changing the fact behind a rule brings that option "
                     "back into the comparison."), *self.named_ca_fails()))
        w = self.row(self.winner)
        label = LABELS[self.winner]
        cost, tco = float(w["cost_total"]), float(w["tco"])
        devices, users = float(w["devices_to_reconfigure"]), float(w["users_url_change"])
        codes = self.codes(self.winner)
        intro = para("We recommend ", bold(label), f" for {org}: {self.texts['options'][self.winner]}.")
        money_text = (f"Over the {self.horizon_text()} it costs {self.currency} {money(cost)} in direct costs "
                      "(certificate fees, administrator time")
        money_text += ", the extra public IP)" if "extra_ip" in codes else ")"
        client_cost = tco - cost
        money_text += (f", or {self.currency} {money(tco)} once the time of client devices and users is counted."
                       if client_cost > 0.5 else "; it costs users and devices no time.")
        if devices == 0 and users == 0:
            asks = "Nothing has to change on users' devices and nobody has to learn a new address"
        else:
            parts = []
            if devices:
                parts.append(f"{plural(devices, 'device')} must be touched once (certificate trust or server name)")
            if users:
                parts.append(f"{plural(users, 'user')} must learn a new address")
            asks = " and ".join(parts)
            asks = asks[0].upper() + asks[1:]
        asks += f"; {pct(float(w['trust']))} of clients connect without a certificate warning."
        blocks: list[Block] = [intro, para(money_text), para(asks), para(self.issuance_sentence(self.winner, codes)),
                               para("Why: " + self.ev.why(self.i))]
        if self.runner is not None and self.close_call():
            blocks.append(self.close_call_note())
        facts = [("Recommended strategy", label), ("Certification authority", self.ca_name(str(w["ca"]))),
                 ("Certificates at any one time", count(w["certificates"])),
                 ("Issuances over the horizon", count(w["certificate_issuances"])),
                 (f"Direct cost ({self.currency})", money(cost)), (f"Total cost of ownership ({self.currency})", money(tco)),
                 ("Clients without a warning", pct(float(w["trust"]))),
                 ("Devices to touch", count(devices)), ("Users who learn a new address", count(users)),
                 ("Score (of 100)", score(w["score"])),
                 ("Runner-up", f"{LABELS[self.runner]} ({self.behind()})" if self.runner
                  else "none (the only feasible option)")]
        blocks.append(self.table("Key figures of the recommendation", ("Item", "Value"), facts, "ll", (3, 4)))
        warnings = self.ev.warnings(self.i, how_to=False) + self.current_state_points()
        if warnings:
            blocks += [para(bold("Points to note")), Bullets(tuple(para(w) for w in warnings))]
        return Section(1, "Executive summary", tuple(blocks))

    def named_ca_fails(self) -> list[Block]:
        """Where the CA the profile names no longer serves (distrusted or discontinued, on the start date or before a
        renewal), a note naming it, the day and the options it rules out, with the advice to choose another CA or
        cheapest; else nothing."""
        ca_id = str(self.profile["ca"])
        if ca_id not in self.ev.catalog.ids:
            return []
        # the sentences of the options' reasons, without their advice (the note gives its own)
        said = self.ev.ca_status_details(self.i, self.ev.catalog[ca_id], named=False)
        ruled_out = [r.option for r in self.rows[~self.rows["feasible"]].itertuples() if self.codes(r.option) & said.keys()]
        if not ruled_out:
            return []
        only_ca = [o for o in ruled_out if all(c.startswith("ca_") or c == "too_many_names"
                                               for c in self.codes(o) if BY_CODE[c].kind == "infeasible")]
        status = "; ".join(said[c] for c in said if any(c in self.codes(o) for o in ruled_out))
        text = (f"{status[0].upper()}{status[1:]}. That rules out {and_list([LABELS[o] for o in ruled_out])}. "
                "Choosing another CA, or cheapest (for each option the cheapest CA that can serve it), ")
        text += (f"can bring back the options nothing else rules out: {and_list([LABELS[o] for o in only_ca])}." if only_ca
                 else "brings them back only once the other reasons section 3 gives are removed.")
        return [Note(para(bold("Certification authority."), " " + text), tone="warning")]

    def organisation(self) -> Section:
        p, m = self.profile, self.mapping
        org = str(p["org"])
        n_servers = len(self.servers)
        server_text = (f"on {plural(n_servers, 'client access server')} ({', '.join(self.servers)})"
                       if n_servers else "(servers not listed)")
        extra = m["extra_domains"]
        domains = (f"; {plural(len(extra), 'other accepted domain')} ({', '.join(extra)}) also "
                   f"{agrees(len(extra), 'needs', 'need')} autodiscover" if extra else "")
        internal = (f" The Active Directory DNS domain is {m['internal_domain']}." if m["internal_domain"] else "")
        yes = {True: "", False: "no "}
        words = [
            para(f"{org} runs Exchange {m['exchange_version']} {server_text}. Users reach web mail, ActiveSync and "
                 f"Outlook Anywhere at {m['owa_host']}; the primary mail domain is {m['external_domain']}{domains}."
                 f"{internal}"),
            para(f"{plural(m['users'], 'mailbox user')} {agrees(m['users'], 'works', 'work')} from "
                 f"{plural(m['desktops'], 'Outlook desktop')} "
                 f"({pct(m['domain_joined_share'])} joined to the domain) and "
                 f"{plural(m['mobile_devices'], 'phone or tablet', 'phones and tablets')} "
                 f"({pct(m['mdm_share'])} managed by MDM)."),
            para(f"Infrastructure: {yes[m['split_dns']]}split DNS, {yes[m['internal_ca']]}AD CS enterprise CA, "
                 f"ACME client {'allowed' if m['acme_ok'] else 'not allowed'}, {yes[m['dns_api']]}DNS API, "
                 f"{yes[m['spare_ip']]}spare public IP; hybrid / partner SMTP TLS "
                 f"{'needs' if m['partner_tls'] else 'does not need'} a publicly trusted certificate. "
                 f"Time is costed at {m['currency']} {m['admin_rate']:g} an hour for administrators and "
                 f"{m['currency']} {m['user_rate']:g} for users{self.default_rates_text()}."),
        ]
        rows, groups = [], set()
        for group in GROUPS:
            groups.add(len(rows))
            rows.append((group.capitalize(), "", ""))
            for f in FIELDS:
                if f.group != group or (f.name == "id" and m["id"] == m["org"]):  # a default id repeats the name
                    continue
                value = m[f.name]
                shown = pct(value) if f.kind == "share" else count(value) if f.kind == "integer" else _cell(value)
                if f.unit == "money/hour" and shown != DASH:  # money code first, as every amount: 'EUR 75 an hour'
                    shown = f"{m['currency']} {shown} an hour"
                elif f.kind == "ca":
                    shown = ca_label(self.ev.catalog, str(value), int(self.profile["start"]))
                elif f.unit and f.unit != "weight" and f.kind not in ("share", "bool") and shown != DASH:
                    shown = f"{shown} {f.unit}"
                if f.name in self.default_rates:
                    shown += f" (default estimated in {self.ev.params.currency}, not converted)"
                rows.append((field_label(f, with_unit=False), f.help, shown))  # the value shows the unit
        table = self.table(f"The profile of {org} as assessed (validated, with defaults filled in)",
                           ("Field", "Meaning", "Value"), rows, "lll", (2.2, 5, 2.8), group_rows=frozenset(groups),
                           small=True)
        return Section(2, "The organisation as assessed", (*words, table, *self.current_state_blocks()))

    def current_state_points(self) -> list[str]:
        """Section 1's point on the certificates in place (an imported server export), when any needs action."""
        if self.current is None:
            return []
        levels = [f.level for f in self.current.findings]
        now, soon = levels.count("error"), levels.count("warning")
        if not now and not soon:
            return []
        parts = [f"{plural(now, 'problem')} that clients or services have now" if now else "",
                 f"{plural(soon, 'other thing')} to act on" if soon else ""]
        return [f"The certificates on the servers today ({long_date(self.current.today)}) show "
                f"{' and '.join(p for p in parts if p)}: see 2.1."]

    def current_state_blocks(self) -> list[Block]:
        """2.1: the certificates a server export shows today, what is wrong with them and when each is replaced."""
        state = self.current
        if state is None:
            return []
        lead = {"error": "Problem now:", "warning": "To act on:", "info": ""}  # current_state.LEVELS
        findings = tuple(para(bold(lead[f.level]), " ", f.text) if lead[f.level] else para(f.text)
                         for f in state.findings)
        columns = ("Certificate", "Issuer", "Servers", "Services", "Expires", "Status", "Replace by")
        rows = [(r["certificate"], r["issuer"], r["servers"], r["services"], r["expires"] or DASH, r["status"],
                 r["replace by"] or DASH) for r in state.certificate_rows()]
        read = (f"{plural(len(rows), 'certificate')} on the servers, their expiries and replacements followed to "
                f"{long_date(state.horizon_end)}" if rows else "no certificates, so their state could not be assessed")
        return [Subheading("2.1", "The certificates in place today"),
                para(f"From the export of the Exchange servers, as read on {long_date(state.today)}: {read}."),
                *([Bullets(findings)] if findings else []),
                self.table(f"The certificates on the servers on {long_date(state.today)}", columns, rows, "lllllll",
                           (3, 2.2, 1.6, 1.4, 1.4, 1.6, 1.4), small=True)]

    def default_rates_text(self) -> str:
        """'; the administrators' rate is the default, estimated in USD ...' for rates that are defaults estimated in
        the parameters' currency, or ''."""
        if not self.default_rates:
            return ""
        whose = " and ".join({"admin_rate": "administrators'", "user_rate": "users'"}[r] for r in self.default_rates)
        one = len(self.default_rates) == 1
        return (f"; the {whose} {'rate is the default' if one else 'rates are the defaults'}, estimated in "
                f"{self.ev.params.currency} per hour and not converted to {self.currency}")

    def currency_note(self) -> list[Block]:
        """A warning where amounts are shown when the data files' prices are in another currency, else nothing."""
        text = currency.mixed_sentence(self.currency, self.ev.params, self.ev.catalog, how_to=False)
        return [Note(para(bold("Currencies."), " " + text), tone="warning")] if text else []

    def options_compared(self) -> Section:
        cur = self.currency
        # soft hyphens (U+00AD) let narrow Word columns break long headings cleanly
        columns = ("Rank", "Option", "CA", "Certif\u00adicates", "Issu\u00adances", f"Direct cost ({cur})", f"TCO ({cur})",
                   "Trust", "Devices to touch", "Users: new address", "Score")
        rows, highlight = [], set()
        for k, r in enumerate(self.rows.itertuples()):
            if r.rank == 1:
                highlight.add(k)
            rows.append((str(r.rank) if r.rank else DASH, LABELS[r.option], self.ca_name(r.ca), count(r.certificates),
                         count(r.certificate_issuances), money(r.cost_total), money(r.tco), pct(r.trust),
                         count(r.devices_to_reconfigure), count(r.users_url_change), score(r.score)))
        blocks: list[Block] = [
            para("Seven strategies were scored on four criteria: direct cost over the horizon, the share of clients "
                 "that connect without a certificate warning (trust), the devices someone must touch, and the users "
                 "who must learn a new address. Each criterion is scaled across the feasible options (best = 1) and "
                 "weighted; the score is out of 100. TCO adds the time of client devices and users to the direct cost."),
            self.table("All seven options, feasible ones ranked (— = not feasible)", columns, rows, "rllrrrrrrrr",
                       (0.8, 2.8, 1.6, 1.2, 1.1, 1.2, 1.2, 0.9, 1.1, 1.2, 0.9), highlight=frozenset(highlight), small=True),
        ]
        if len(self.feasible):
            blocks.append(self.figure("tradeoff", "Trade-off between direct cost and score of the feasible options "
                                                  "(the recommended option is ringed)",
                                      charts.tradeoff_chart(self.feasible, self.winner, cur)))
        pro_con = []
        for r in self.feasible.itertuples():
            listed = reason_list(self._mask(r.option), self.ev.reason_details(self.i, r.option))
            pro_con.append((LABELS[r.option], "; ".join(x["text"] for x in listed if x["kind"] == "pro") or DASH,
                            "; ".join(x["text"] for x in listed if x["kind"] in ("con", "risk")) or DASH))
        if pro_con:
            blocks.append(self.table("What speaks for and against each feasible option", ("Option", "For", "Against"),
                                     pro_con, "lll", (2.2, 3.5, 5), small=True))
        infeasible = self.rows[~self.rows["feasible"]]
        if len(infeasible):
            blocks.append(self.table("Options ruled out, and why", ("Option", "Why it is not feasible"),
                                     [(LABELS[r.option], reason_text(r.reasons, self.ev.reason_details(self.i, r.option)))
                                      for r in infeasible.itertuples()],
                                     "ll", (2.2, 8.5)))
        return Section(3, "Options compared", tuple(blocks))

    def _mask(self, option: str) -> int:
        return int(self.ev.scored.columns["reasons"][self.i][OPTIONS.index(option)])

    def cost(self) -> Section:
        cur = self.currency
        events = cost_events(self.ev, self.i)
        feasible = list(self.feasible["option"])
        blocks: list[Block] = [para(
            f"Costs are dated events over the {self.horizon_text()}: yearly fees, one-time set-up, administrator time "
            "at every issuance, monitoring and extra IP addresses (together the direct cost), plus the one-time time of "
            "client devices and users (which makes the total cost of ownership, TCO).")]
        blocks += self.currency_note()
        if feasible:
            steps = cumulative(self.ev, self.i)
            changes = rule_changes(self.ev, self.i)
            blocks.append(self.figure("cumulative-cost", "Cumulative direct cost of the feasible options; dashed lines "
                                                         "mark dated rule changes",
                                      charts.cumulative_chart(steps[steps["option"].isin(feasible)], changes, cur)))
            sums = events.pivot_table(index="option", columns="kind", values="amount", aggfunc="sum", fill_value=0.0)
            kinds = [k for k in EVENT_KINDS if k != CLIENT_KIND]
            rows, highlight = [], set()
            for k, r in enumerate(self.feasible.itertuples()):
                part = sums.loc[r.option] if r.option in sums.index else pd.Series(dtype=float)
                if r.option == self.winner:
                    highlight.add(k)
                rows.append((LABELS[r.option], *[money(part.get(kind, 0.0)) for kind in kinds], money(r.cost_total),
                             money(part.get(CLIENT_KIND, 0.0)), money(r.tco)))
            blocks.append(self.table(f"Cost over the horizon by kind ({cur})",
                                     ("Option", *[k[0].upper() + k[1:] for k in kinds], "Direct cost", "Clients and users",
                                      "TCO"),
                                     rows, "l" + "r" * (len(kinds) + 3), (2.4, *[1.1] * len(kinds), 1.2, 1.2, 1.1),
                                     highlight=frozenset(highlight), small=True))
        if self.winner:
            blocks.append(self.yearly_table(events))
        changes = rule_changes(self.ev, self.i)
        if len(changes):
            text = ("These dated rule changes fall inside the horizon; they set how often certificates are renewed and how "
                    "names are validated")
            shorter = [day.isoformat() for day, _ in self.ev.shorter_lifetimes(self.i, self.winner)] if self.winner else []
            if shorter:
                dates = and_list(shorter)
                text += (f". The change{'s' if len(shorter) > 1 else ''} of {dates} shorten"
                         f"{'' if len(shorter) > 1 else 's'} the certificates of the recommended option "
                         f"({LABELS[self.winner]}), which is why it is renewed more often from then")
            blocks.append(para(text + ":"))
            blocks.append(self.table("Dated rule changes inside the horizon", ("Date", "Rule change", "Parameter"),
                                     [(r.date, r.rule, param_label(r.parameter)) for r in changes.itertuples()], "lll",
                                     (1.5, 5, 3)))
        else:
            blocks.append(para("No dated rule change falls inside the horizon: the certificate rules in force on the "
                               "start date apply throughout."))
        return Section(4, "Cost over the horizon", tuple(blocks))

    def year_starts(self) -> list[int]:
        return year_starts(int(self.profile["start"]), self.years)

    def year_of(self, days: np.ndarray) -> np.ndarray:
        return np.searchsorted(np.array(self.year_starts()), days, side="right") - 1

    def issuance_years(self, option: str) -> tuple[list[str], np.ndarray]:
        """The option's issuance dates and the horizon year (0-based) each falls in."""
        dates = renewal_calendar(self.ev, self.i, option)
        return dates, self.year_of(np.array([to_day(d) for d in dates], dtype=np.int64))

    def issuance_sentence(self, option: str, codes: set[str]) -> str:
        w = self.row(option)
        certs = int(w["certificates"])
        dates, year = self.issuance_years(option)
        per_year = self.issuances_per_year(year, certs)
        how = "automatically by the ACME client" if "automated_renewal" in codes else "by hand"
        text = (f"The certificate{'s are' if certs > 1 else ' is'} issued {plural(w['certificate_issuances'], 'time')} "
                f"over the horizon, {how}")
        if certs > 1:
            text += f" ({certs} certificates on each of {len(dates)} dates)"
        last = f"year {len(per_year)}{self.part_year_note()}"
        if len(per_year) > 5:  # too many years to list: the first, the range of those between, the last
            middle = per_year[1:-1]
            between = (f"{min(middle)} a year" if min(middle) == max(middle)
                       else f"between {min(middle)} and {max(middle)} a year")
            return text + (f": {per_year[0]} in year 1, {between} in years 2 to {len(per_year) - 1} and {per_year[-1]} "
                           f"in {last}; section 4 gives each year.")
        if len(per_year) > 1:
            listed = [f"{n} in year {k + 1}" for k, n in enumerate(per_year[:-1])] + [f"{per_year[-1]} in {last}"]
            return text + ": " + and_list(listed) + "."
        return text + "."

    def issuances_per_year(self, year: np.ndarray, certs: int) -> list[int]:
        """Certificate issuances in each horizon year: the issuance dates in it (`year`: each date's, from
        `issuance_years`) times the option's `certs` certificates (each date issues all of them), the unit of the
        issuance totals of Tables 1 and 3."""
        return [certs * int((year == k).sum()) for k in range(len(self.year_starts()))]

    def part_year_note(self) -> str:
        """' (6 months)' after the last year's label where the horizon ends part-way through it, else ''; the months to
        a tenth (as the horizon is written), days where that is under one month or rounds to twelve."""
        whole = math.floor(self.years)
        if self.years == whole:
            return ""
        months = round((self.years - whole) * 12, 1)
        if 1 <= months < 12:  # 12.0 (2.999 years) is a year short by days: those are told
            return f" ({months:g} month{'' if months == 1 else 's'})"
        days = horizon_end_day(int(self.profile["start"]), self.years) - self.year_starts()[-1]
        return f" ({plural(days, 'day')})"

    def year_label(self, k: int) -> str:
        """'Year 3', with the length of a partial last year: 'Year 3 (6 months)'."""
        return f"Year {k + 1}" + (self.part_year_note() if k == len(self.year_starts()) - 1 else "")

    def yearly_table(self, events: pd.DataFrame) -> Table:
        """The recommended option year by year: certificate issuances and costs, each money column rounded so that it
        adds up to the rounded total that Tables 1, 3 and 5 show (`apportion`)."""
        option = str(self.winner)
        w = self.row(option)
        mine = events[events["option"] == option]
        year = self.year_of(mine["day"].to_numpy())
        client = (mine["kind"] == CLIENT_KIND).to_numpy()
        amount = mine["amount"].to_numpy(dtype=float)
        n = len(self.year_starts())
        direct = np.bincount(year[~client], weights=amount[~client], minlength=n)
        clients = np.bincount(year[client], weights=amount[client], minlength=n)
        columns = [apportion(direct, w["cost_total"]), apportion(clients, clients.sum()),
                   apportion(direct + clients, w["tco"])]
        per_year = self.issuances_per_year(self.issuance_years(option)[1], int(w["certificates"]))
        rows = [(self.year_label(k), from_day(first).isoformat(), count(issued), *(money(c[k]) for c in columns))
                for k, (first, issued) in enumerate(zip(self.year_starts(), per_year, strict=True))]
        cur = self.currency
        return self.table(f"{LABELS[option]} (recommended) year by year ({cur}; each column adds up to its total over the "
                          "horizon)",
                          ("Year", "From", "Issuances", "Direct cost", "Clients and users", "TCO"), rows, "llrrrr",
                          (1.6, 1.6, 1.2, 1.5, 1.8, 1.4))

    def recommended(self) -> Section:
        if self.winner is None:
            return Section(5, "The recommended option in detail",
                           (para("There is no recommended option: no strategy is feasible for this profile."),))
        option = self.winner
        w = self.row(option)
        codes = self.codes(option)
        dates, year = self.issuance_years(option)
        values = self.placeholders(dates)
        commands, dns = deployments(self.ev, self.i)
        names = [n for n in str(w["names"]).split(", ") if n]
        refused = dict(zip(self.rows["option"], self.rows["not_issuable"], strict=True))
        left_out = [g for g in names_left_out(refused, self.ev.params) if option in g.options]
        certs = int(w["certificates"])
        dropped = names_dropped(self.ev, self.i, option)
        dropped_from = long_date(dt.date.fromisoformat(dropped.day)) if dropped else ""
        later = (f" The renewals from {dropped_from} carry "
                 f"{plural(len(names) - len(dropped.names), 'name')}: not the internal names (5.2)." if dropped else "")
        facts = Facts(option, codes, self.profile, len(self.servers), tuple(dns[option]))
        blocks: list[Block] = [
            Subheading("5.1", "Certificate names to request"),
            para(f"{LABELS[option]} from {self.ca_name(str(w['ca']))}: "
                 f"{plural(certs, 'certificate')} carrying {plural(len(names), 'name')}"
                 + (" (one certificate per name)." if certs > 1 and certs == len(names) else ".") + later
                 + "".join(f" {sentence[0].upper()}{sentence[1:]}." for sentence in ca_ties(self.ev, self.i)
                           .get(option, {}).values())),
            Bullets(tuple(para(Run(n, code=True)) for n in names)),
            Subheading("5.2", "Names left off the certificate, and what to do instead"),
        ]
        refused_texts = self.texts["refused"]
        advice = [para(fill(a["text"], values)) for a in refused_texts["advice"]
                  if applies(a, facts)]
        for group in left_out:  # each rule that leaves names out, with its own sentence and list
            blocks += [para(group.sentence), Bullets(tuple(para(Run(n, code=True)) for n in group.names))]
        if dropped:
            blocks += [para(fill(refused_texts["dropped"], {**values, "dropped_from": dropped_from})),
                       Bullets(tuple(para(Run(n, code=True)) for n in dropped.names))]
        if not (left_out or dropped):
            blocks.append(para(fill(refused_texts["not_all" if advice else "none"], values)))
        if advice:
            blocks += [para(bold("What to do instead" if left_out or dropped else "What to do")), Bullets(tuple(advice))]
        blocks += [
            Subheading("5.3", f"Exchange Management Shell (Exchange {self.profile['exchange_version']})"),
            para("Run in the Exchange Management Shell; replace the values in angle brackets."),
            Code(tuple(commands[option]), "powershell"),
            Subheading("5.4", "DNS records"),
            Code(tuple(dns[option]), "dns"),
            Subheading("5.5", "Renewal calendar"),
        ]
        blocks += self.calendar(option, certs, dates, year)
        items = [para(fill(c["text"], values)) for c in self.texts["checklist"]
                 if applies(c, facts)]
        blocks += [Subheading("5.6", "Automation and monitoring checklist"), Bullets(tuple(items), checklist=True)]
        return Section(5, "The recommended option in detail", tuple(blocks), new_page=True)

    def calendar(self, option: str, certs: int, dates: list[str], year: np.ndarray) -> list[Block]:
        """Section 5.5: the option's issuance `dates` and their horizon `year` (`issuance_years`), year by year."""
        if not dates:
            return [para("No issuance falls inside the horizon.")]
        rows = [(self.year_label(k), count(issued),
                 ", ".join(d for d, y in zip(dates, year, strict=True) if y == k) or DASH)
                for k, issued in enumerate(self.issuances_per_year(year, certs))]
        each = (f" Each date is one issuance of all {certs} certificates, {plural(certs * len(dates), 'certificate issuance')}"
                " in all (the Issuances column counts certificates)." if certs > 1 else "")
        return [para(f"{plural(len(dates), 'issuance date')} inside the horizon (the first is the initial issuance).{each}"),
                self.table(f"Issuance dates of {LABELS[option]}", ("Year", "Issuances", "Dates"), rows, "lrl",
                           (1.6, 1.1, 8))]

    def close_call(self) -> bool:
        return bool(self.rec["close_call"])

    def sensitivity(self, sens: Sensitivity) -> list[Block]:
        """How far each weight, field and price can move before the recommendation changes (decision.sensitivity)."""
        rows = [(CRITERION_LABELS[b.criterion], pct(b.weight), pct(b.low), pct(b.high),
                 LABELS[b.below] if b.below else DASH, LABELS[b.above] if b.above else DASH)
                for b in sens.weights.values()]
        blocks: list[Block] = [
            Subheading("6.1", "How robust the recommendation is"),
            self.table("Weight stability: the range of each weight (the others rescaled) over which the recommendation "
                       "stays the same, and what takes over beyond it",
                       ("Criterion", "Weight", "Holds from", "Holds to", "Below: winner", "Above: winner"), rows,
                       "lrrrll", (2.6, 1.2, 1.3, 1.3, 2.4, 2.4)),
        ]
        flips = sens.flip_points + sens.price_flips
        if flips:
            blocks.append(para("What would have to change in the organisation or in the prices, one at a time "
                               "(each checked by scoring the changed profile):"))
            blocks.append(Bullets(tuple(para(f.text) for f in flips)))
        else:
            blocks.append(para("No single change of users, desktops, phones, shares, horizon, admin rate or the CA "
                               "prices within the searched ranges changes the recommendation."))
        return blocks

    def weights_would_change(self, w: pd.Series, r: pd.Series, sens: Sensitivity) -> str:
        """Which change of the weights (if any) brings the runner-up (row `r`) ahead of the winner (row `w`)."""
        winner, runner = LABELS[self.winner or ""], LABELS[self.runner or ""]
        assumption = "an assumption behind the winner's advantage (section 7) turns out differently"
        ahead, behind = better_on(r, w), better_on(w, r)
        if ahead:
            return (f"The recommendation changes if the weights move toward {self.criteria_text(ahead, r, w)}, on which "
                    f"{runner} is better, or if {assumption}.")
        if behind:
            text = (f"{runner} is better on no criterion: {winner} is at least as good on each and better on "
                    f"{self.criteria_text(behind, w, r)}, so no change of the weights puts {runner} ahead.")
        else:
            tie = self.ev.tie(self.i)
            text = (f"{winner} and {runner} are equal on every criterion, so no change of the weights separates them"
                    + (f": {winner} is ranked first as it {TIE_REASONS[tie]}." if tie else "."))
        takers = weight_takers(sens.weights.values(), LABELS)
        if takers:
            text += f" Moving one weight far enough lets {and_list(takers)} take over instead (6.1)."
        return f"{text} The recommendation changes if {assumption}."

    def criteria_text(self, criteria: list[str], a: pd.Series, b: pd.Series) -> str:
        """Criteria in words; where the comparison table shows rows `a` and `b` alike, their values in full."""
        parts = []
        for c in criteria:
            ours, theirs = a[CRITERION_COLUMNS[c]], b[CRITERION_COLUMNS[c]]
            if c == "cost" and money(ours) == money(theirs):
                parts.append(f"cost ({self.currency} {ours:,.2f} against {self.currency} {theirs:,.2f})")
            elif c == "trust" and pct(ours) == pct(theirs):
                parts.append(f"trust ({ours:.2%} against {theirs:.2%} of clients without a warning)")
            else:
                parts.append(CRITERION_NAMES[c])
        return and_list(parts)

    def close_call_note(self) -> Note:
        share = float(self.ev.params.value("close_call_share"))
        runner = LABELS[str(self.runner)]
        if self.ev.tie(self.i):
            return Note(para(bold("Close call."), f" {runner} scores exactly the same: only the tie-break puts "
                             f"{LABELS[str(self.winner)]} first, and a small change in the assumptions could reverse "
                             "the order."), tone="warning")
        margin = lead_points(float(self.rec["margin"]))
        margin = f"{'A margin' if margin == UNDER_A_TENTH else 'The margin'} of {margin} points"
        change = close_call_change(runner, bool(self.ev.runner_up_better_on(self.i)),
                                   weight_takers(self.sens.weights.values(), LABELS))
        return Note(para(bold("Close call."), f" {margin} is less than {pct(share)} of the winner's score: {runner} is "
                         f"nearly as good, and {change}."), tone="warning")

    def behind(self) -> str:
        """How far the runner-up is behind the winner, in score points as shown."""
        if self.ev.tie(self.i):
            return "the same score, second on the tie-break"
        return f"{lead_points(float(self.rec['margin']))} points behind"

    def what_would_change(self) -> Section:
        blocks: list[Block] = []
        if self.winner is None or self.runner is None:
            blocks.append(para("There is no runner-up: " + (
                "only one option is feasible." if self.winner else "no option is feasible.")))
        else:
            w, r = self.row(self.winner), self.row(self.runner)
            margin = float(self.rec["margin"])
            share = margin / float(self.rec["score"]) if self.rec["score"] else 0.0
            shown = pct(share) if pct(share) != pct(0) or not margin else f"less than {pct(0.01)}"
            blocks.append(para("The runner-up is ", bold(LABELS[self.runner]), (
                f", with exactly the same score of {score(w['score'])}." if self.ev.tie(self.i) else
                f", {self.behind()} ({shown} of the winner's score of {score(w['score'])}).")))
            if self.close_call():
                blocks.append(self.close_call_note())
            weights = self.ev.weights(self.i)
            cur = self.currency
            rows = [(f"{CRITERION_LABELS['cost']} ({cur})", money(w["cost_total"]), money(r["cost_total"]), pct(weights["cost"])),
                    (CRITERION_LABELS["trust"], pct(w["trust"]), pct(r["trust"]), pct(weights["trust"])),
                    (CRITERION_LABELS["reconfiguration"], count(w["devices_to_reconfigure"]),
                     count(r["devices_to_reconfigure"]), pct(weights["reconfiguration"])),
                    (CRITERION_LABELS["url_change"], count(w["users_url_change"]), count(r["users_url_change"]),
                     pct(weights["url_change"])),
                    (f"TCO ({cur})", money(w["tco"]), money(r["tco"]), DASH),
                    ("Score (of 100)", score(w["score"]), score(r["score"]), DASH)]
            blocks.append(self.table("The recommendation against the runner-up, with the criteria's weights",
                                     ("Criterion", LABELS[self.winner], LABELS[self.runner], "Weight"), rows, "lrrr",
                                     (3, 2.5, 2.5, 1.2)))
            blocks.append(para(self.weights_would_change(w, r, self.sens)))
            blocks.extend(self.sensitivity(self.sens))
        ruled_out = self.rows[~self.rows["feasible"]]
        if len(ruled_out):
            blocks.append(para("Options ruled out by a hard rule come back into the comparison if the fact behind the "
                               "rule changes:"))
            blocks.append(Bullets(tuple(para(bold(LABELS[r.option]),
                                             ": " + reason_text(r.reasons, self.ev.reason_details(self.i, r.option)) + ".")
                                        for r in ruled_out.itertuples())))
        return Section(6, "What would change the recommendation", tuple(blocks))

    def assumptions(self) -> Section:
        params = self.ev.params
        grouped: dict[str, list[dict[str, Any]]] = {}
        for r in params.records():
            grouped.setdefault(r["parameter"], []).append(r)
        prow = [(param_label(name), rs[0]["description"],
                 "\n".join(f"{_cell(r['value'])} from {r['from']}" if r["from"] else _cell(r["value"]) for r in rs),
                 rs[0]["unit"], rs[0]["source"], rs[0]["as_of"]) for name, rs in grouped.items()]
        cat = self.ev.catalog
        blocks: list[Block] = [
            para(f"Every rule, price and labour figure the engine used, from the parameters file (as of {params.as_of}, "
                 f"amounts of money in {params.currency}) and the CA catalog (as of {cat.as_of}, prices in "
                 f"{cat.currency}). Values marked \"estimate\" are the authors' judgement: the organisation's own figures "
                 "(quotes, rates) can replace them, and a rerun of this appendix shows their effect. The parameters are listed "
                 "in the order of the parameters file."),
            *self.unconverted(),
            self.table(f"Parameters (a dated value applies from the date shown; amounts of money in {params.currency})",
                       ("Parameter", "Meaning", "Value", "Unit", "Source", "As of"), prow, "llllll",
                       (2.9, 4.2, 2.0, 1.4, 4.3, 1.1), small=True),
        ]
        used = [c for c in self.ev.catalog.ids if c in set(self.rows["ca"])]
        if used:
            start = int(self.profile["start"])
            records = cat.records(used, params, start, horizon_end_day(start, self.years))
            keys = [k for k in records[0] if k not in ("ca", "name")]
            words = self.texts["ca_attributes"]
            rows = [(words.get(k) or name_label(k), *[_cell(rec[k]) for rec in records]) for k in keys]
            blocks.append(self.table(f"Certification authorities used by the options (status on the start date; prices "
                                     f"in {cat.currency} a year)",
                                     ("Attribute", *[rec["name"] for rec in records]), rows, "l" * (len(used) + 1),
                                     (2, *[8 / len(used)] * len(used)), small=True))
        return Section(7, "Assumptions and sources", tuple(blocks), new_page=True, landscape=True)

    def unconverted(self) -> list[Block]:
        """What section 7 says when the data files' amounts are in another currency than the profile's: they were
        added as given, so the totals mix currencies (how to price them in the profile's is the tool user's concern:
        the app and the command line say it)."""
        if not self.foreign:
            return []
        codes = " and ".join(dict.fromkeys(s.currency for s in self.foreign))
        return [para(f"These {codes} prices were added to this appendix's {self.currency} amounts as given, not "
                     f"converted, so the totals mix currencies; a costing in {self.currency} throughout needs them in "
                     f"{self.currency}.")]

    def stamp(self, generated: dt.date) -> Section:
        """Section 8: what produced the numbers (data files by name, origin and content hash) and the command that
        reproduces them, with the data files that are not the shipped ones."""
        v = versions(self.ev)
        rows = [("Engine version", f"CertStrategy {v['engine']}")]
        for key, what in (("parameters", "Parameters"), ("catalog", "CA catalog")):
            shipped = v[f"{key}_source"] == "shipped"
            rows += [(f"{what} file", f"{v[f'{key}_file']} ({'shipped' if shipped else 'your own, not the shipped one'})"),
                     (f"{what} as of", v[f"{key}_as_of"]),
                     (f"{what} file hash (SHA-256, first {DIGEST_HEX} hex)", v[f"{key}_sha256"])]
        rows += [(f"Profile hash (SHA-256, first {DIGEST_HEX} hex)", profile_hash(self.mapping)),
                 ("Generated on", generated.isoformat())]
        read = self.current.today.isoformat() if self.current else None
        if read:
            rows.append(("Certificates in place (2.1)", f"from an export of the Exchange servers, read on {read}"))
        custom = custom_files(v)
        command = " ".join(["python -m decision appendix profile.yaml -o appendix.docx",
                            *(f"{option} {shlex.quote(name)}" for option, name in custom),
                            *([f"--export export.json --date {read}"] if read else [])])
        text = yaml.safe_dump(self.mapping, sort_keys=False, allow_unicode=True, width=1000).rstrip("\n")
        kinds = {"--parameters": "parameters file", "--catalog": "CA catalog"}  # the prose names no command-line option
        keep = [para(f"This appendix used its own {and_list([f'{kinds[option]} ({name})' for option, name in custom])} "
                     "instead of the data files shipped with CertStrategy: keep "
                     f"{'that file' if len(custom) == 1 else 'those files'} with this appendix. The command below reads "
                     f"{'it' if len(custom) == 1 else 'them'} from the folder it runs in; a copy is the same file when "
                     "its hash matches the stamp.")] if custom else []
        return Section(8, "Reproducibility", (
            para("The same profile, data files and engine version reproduce every number in this appendix. A data "
                 f"file's hash is the first {DIGEST_HEX} hex digits of the SHA-256 of its bytes (",
                 Run("sha256sum FILE", code=True), ", or ", Run("Get-FileHash FILE", code=True), " in PowerShell)."),
            self.table("Reproducibility stamp", ("Item", "Value"), rows, "ll", (3, 5)),
            *keep,
            para("The profile as evaluated, by the field names of the profile file (save it as profile.yaml and "
                 "run ", Run(command, code=True),
                 ", with the same server export saved as export.json" if read else "", "):"),
            Code(tuple(text.splitlines()), "yaml"),
        ))


def build_model(ev: Evaluation, i: int = 0, *, firm: str | None = None, logo: Logo | None = None,
                generated: dt.date | None = None, current: CurrentState | None = None) -> Appendix:
    """The appendix of profile `i` of an Evaluation, ready for any renderer; `current`: the certificates an imported
    server export shows (section 2.1)."""
    if not 0 <= i < len(ev.profiles):
        raise IndexError(f"profile {i} is not in this evaluation ({len(ev.profiles)} profiles)")
    generated = generated or dt.date.today()
    b = _Builder(ev, i, load_texts(), current)
    sections = (b.summary(), b.organisation(), b.options_compared(), b.cost(), b.recommended(),
                b.what_would_change(), b.assumptions(), b.stamp(generated))
    org = str(b.profile["org"])
    firm = (firm or "").strip() or None
    unconverted = " and ".join(dict.fromkeys(s.currency for s in b.foreign))
    subtitle = (f"Exchange {b.profile['exchange_version']} · {b.horizon_text()} · amounts in {b.currency}"
                + (f" (with {unconverted} prices, not converted)" if unconverted else ""))
    kicker, running = "Appendix: certificate cost and strategy", running_org(org)
    return Appendix(
        title=f"Certificate strategy for {org}", kicker=kicker,
        subtitle=subtitle, org=org, firm=firm, logo=logo, generated=generated, sections=sections,
        keywords=("Exchange", "TLS certificates", LABELS.get(b.winner or "", "no feasible option")),
        header=f"{kicker} · {running}", page_footer=f"{firm + ' · ' if firm else ''}Certificate strategy for {running}",
        footer=f"{firm + ' · ' if firm else ''}Certificate strategy for {org}", figures=tuple(b.figures))


__all__ = ["DASH", "Appendix", "Block", "Bullets", "Code", "Figure", "Logo", "Note", "Paragraph", "Run",
           "Section", "Subheading", "Table", "build_model", "load_texts",
           "param_label"]
