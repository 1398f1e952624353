"""What an Exchange organisation has today (issue 7): findings, a certificate table and one row beside the options.

`assess` reads the facts `decision.exchange_import.current_state` finds in an export and adds what the
engine's dated rules say about them: which CA issued each certificate (matched against the catalog),
and, for each certificate that expires inside the horizon, when its replacement is due and when that
replacement must be renewed under the lifetime rules in force on the day it is issued
(`public_max_lifetime_days`, a CA's own limit such as `letsencrypt_lifetime_days`), with the renewal
timing the engine uses (`manual_renewal_lead_days`, `acme_renew_fraction`).

The row beside the options counts issuances over the options' horizon [start, end), from today on: the export
shows today's certificates, not those issued before today, so a horizon that ended by today gives no count.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from decision.catalog import CA, Catalog
from decision.dates import from_day, horizon_end_day, to_day
from decision.exchange_import import ExchangeExport, covers, current_state, dn_attributes
from decision.explain import plural
from decision.parameters import Parameters
from decision.renewals import fraction_interval, manual_interval, schedule

LABEL = "Current state (installed today)"
LEVELS = ("error", "warning", "info")  # error: clients warn or a certificate is expired now; warning: act inside the horizon


@dataclass(frozen=True)
class Finding:
    """One thing to know about the current certificates; `level` is one of LEVELS. `text` is for the client (the
    appendix's 2.1); `how_to`, if any, tells the tool's user what to set (the app and the command line add it)."""

    level: str
    text: str
    how_to: str = ""

    @property
    def for_user(self) -> str:
        """The text with the tool user's how-to, for the app and the command line."""
        return f"{self.text} {self.how_to}" if self.how_to else self.text


@dataclass(frozen=True)
class Replacement:
    """A CA-issued certificate in use that expires inside the horizon, and its replacement under the dated rules."""

    thumbprint: str
    subject: str
    issuer: str  # the catalog CA's name, or what the certificate says
    ca: str  # catalog id, "" when the issuer matches no catalog entry
    not_after: dt.date
    replace_on: dt.date  # when the replacement is due (today when that day has passed)
    lifetime_days: int  # the longest life the replacement may have, under the rules on replace_on
    issuances: tuple[dt.date, ...]  # the replacement and its renewals inside the horizon


@dataclass(frozen=True)
class CurrentState:
    """The certificates in place, what is wrong with them and what the rules make of them."""

    today: dt.date
    start: dt.date  # the options' horizon, [start, end); it may lie before today
    end: dt.date
    facts: dict[str, Any]
    issuers: dict[str, tuple[str, str]]  # thumbprint -> (catalog id or "", issuer shown)
    replacements: tuple[Replacement, ...]
    findings: tuple[Finding, ...]
    # thumbprint -> when a self-signed certificate in use that expires inside the horizon is due for renewal
    # (Exchange does not renew its own; today when that day has passed)
    self_signed_due: dict[str, dt.date] = field(default_factory=dict)

    @property
    def horizon_end(self) -> dt.date:
        """Expiries and renewals are followed up to here: the horizon's end, or today when the horizon ended before."""
        return max(self.end, self.today)

    @property
    def counted(self) -> tuple[dt.date, dt.date] | None:
        """The period [first, end) whose issuances the row counts: the options' horizon from today on; None when
        the horizon ended by today."""
        return (max(self.start, self.today), self.end) if self.end > self.today else None

    def period_text(self) -> str:
        """Which period the row's issuances cover, dates written out."""
        horizon = f"{self.start.isoformat()} to {self.end.isoformat()}"
        if self.counted is None:
            return (f"No issuances counted: the options' horizon, {horizon}, ended before today, "
                    f"{self.today.isoformat()}, and the export shows only today's certificates.")
        if self.start < self.today:
            return (f"Issuances counted from today, {self.today.isoformat()}, to {self.end.isoformat()}, not from the "
                    f"horizon's start, {self.start.isoformat()}: the export cannot show what was issued before today.")
        return f"Issuances counted over the options' horizon, {horizon}."

    def certificate_rows(self) -> list[dict[str, Any]]:
        """One row per certificate: issuer, where it is, what it is bound to, names, expiry, replacement."""
        due = {r.thumbprint: r for r in self.replacements}
        rows = []
        for cert in self.facts["certificates"]:
            replacement = due.get(cert["thumbprint"])
            renew = self.self_signed_due.get(cert["thumbprint"])
            rows.append({
                "certificate": cert["subject"] or cert["thumbprint"],
                "issuer": self.issuers[cert["thumbprint"]][1],
                "servers": ", ".join(cert["servers"]),
                "services": ", ".join(cert["services"]) or "none",
                "names": ", ".join(cert["names"]),
                "expires": cert["not_after"] or "",
                "status": _status(cert, self.today),
                "replace by": (replacement.replace_on.isoformat() if replacement
                               else renew.isoformat() if renew else ""),
                "replacement lives (days)": replacement.lifetime_days if replacement else None,
                "then renew on": _next(replacement),
                "thumbprint": cert["thumbprint"],
            })
        return rows

    def option_row(self) -> dict[str, Any]:
        """The current state as a row beside the seven options (no score: the engine does not rank it)."""
        in_use = [c for c in self.facts["certificates"] if c["services"] and not c["self_signed"]]
        on_iis = [c for c in in_use if c["bound_to_iis"]]
        cas = dict.fromkeys(self.issuers[c["thumbprint"]][0] or "unknown CA" for c in in_use)
        counts = {level: sum(f.level == level for f in self.findings) for level in LEVELS}
        when = f"before {self.end.isoformat()}" if self.counted else "now"
        summary = [f"{plural(counts['error'], 'problem')} clients or services have now" if counts["error"] else "",
                   f"{counts['warning']} to act on {when}" if counts["warning"] else ""]
        text = "; ".join(s for s in summary if s) or "no problem found"
        return {
            "label": LABEL,
            "certificates": len(in_use),
            "certificate_issuances": None if self.counted is None else sum(
                self.counted[0] <= day < self.counted[1] for r in self.replacements for day in r.issuances),
            "ca": ", ".join(cas),
            "names": ", ".join(dict.fromkeys(n for c in on_iis for n in c["names"])),
            "notes": f"What the servers have today: {text} (see Current state). {self.period_text()}",
        }

    def lines(self) -> list[str]:
        """The findings as plain text, most urgent first ("error: ...")."""
        return [f"{f.level}: {f.for_user}" for f in self.findings]


def _status(cert: dict[str, Any], today: dt.date) -> str:
    if not cert["not_after"]:
        return "expiry unknown"
    days = (dt.date.fromisoformat(cert["not_after"]) - today).days
    return f"expired {-days} days ago" if days < 0 else f"expires in {days} days"


def _next(replacement: Replacement | None) -> str:
    if replacement is None:
        return ""
    return replacement.issuances[1].isoformat() if len(replacement.issuances) > 1 else "after the horizon"


# ------------------------------------------------------------------------------- issuers

def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def issuer_ca(cert: dict[str, Any], catalog: Catalog) -> CA | None:
    """The catalog CA that issued a certificate: the AD CS entry for an AD CS issuer (``DC=``), a public CA
    whose name (before any bracket) appears in the issuer's O= or CN=, else None (also for self-signed)."""
    if cert["self_signed"]:
        return None
    issuer = dn_attributes(cert["issuer"])
    if "DC" in issuer:
        return next((ca for ca in catalog.cas if not ca.public), None)
    said = " ".join(_squash(issuer[key]) for key in ("CN", "O") if key in issuer)
    for ca in catalog.cas:
        key = _squash(ca.name.split("(")[0])
        if ca.public and key and key in said:
            return ca
    return None


def _issuer_shown(cert: dict[str, Any], ca: CA | None) -> str:
    if cert["self_signed"]:
        return "self-signed"
    if ca is not None:
        return ca.name
    issuer = cert["issuer"] or "unknown issuer"
    return dn_attributes(issuer).get("O") or issuer


# -------------------------------------------------------------------------- replacements


def _replacement(cert: dict[str, Any], ca: CA | None, shown: str, params: Parameters,
                 today: dt.date, horizon_end: dt.date) -> Replacement:
    """When the replacement of `cert` is due, how long it may live then, and its renewals up to `horizon_end`."""
    automated = ca is not None and ca.acme and not ca.manual
    interval = (fraction_interval(float(params.value("acme_renew_fraction"))) if automated
                else manual_interval(float(params.value("manual_renewal_lead_days"))))

    def lifetime(days: np.ndarray) -> np.ndarray:
        if ca is None:  # a public issuer the catalog does not list: the public maximum in force
            return params["public_max_lifetime_days"].at(days)
        return ca.lifetime_days(days, params)

    not_after = dt.date.fromisoformat(cert["not_after"])
    if cert["not_before"]:
        issued = to_day(cert["not_before"])
        due = issued + int(interval.whole_days(np.array([to_day(not_after) - issued], dtype=float))[0])
    else:
        due = to_day(not_after) - int(params.value("manual_renewal_lead_days"))
    start = max(due, to_day(today))
    days = schedule(np.array([start]), np.array([to_day(horizon_end)]), lifetime, interval).dates_of(0)
    return Replacement(
        thumbprint=cert["thumbprint"], subject=cert["subject"] or cert["thumbprint"], issuer=shown,
        ca=ca.id if ca else "", not_after=not_after, replace_on=from_day(start),
        lifetime_days=int(lifetime(np.array([start]))[0]), issuances=tuple(from_day(d) for d in days),
    )


def _installed_replacement(cert: dict[str, Any], certificates: list[dict[str, Any]],
                           today: dt.date) -> dict[str, Any] | None:
    """The latest-expiring certificate from a public CA, enabled for no service, on all of `cert`'s servers, that
    carries all its names and expires after it (and after today): a replacement imported but not enabled yet."""
    after = max(cert["not_after"], today.isoformat())
    found = [c for c in certificates
             if not c["services"] and c["public_issuer"] and not c["self_signed"] and (c["not_after"] or "") > after
             and set(cert["servers"]) <= set(c["servers"]) and all(covers(tuple(c["names"]), n) for n in cert["names"])]
    return max(found, key=lambda c: c["not_after"], default=None)


# ------------------------------------------------------------------------------- findings


def _where(cert: dict[str, Any]) -> str:
    services = ", ".join(cert["services"]) or "no service"
    return f"{services} on {', '.join(cert['servers'])}" if cert["servers"] else services


def _tally(replacement: Replacement, start: dt.date, today: dt.date, end: str) -> str:
    """How many issuances the replacement needs up to `end`, and how many of them fall in a horizon starting later."""
    if not replacement.issuances:
        return ""
    later = (f", {sum(day >= start for day in replacement.issuances)} of them from the horizon's start, "
             f"{start.isoformat()}" if start > today else "")
    return f" ({plural(len(replacement.issuances), 'issuance')} before {end}{later})"


def _self_signed_due(facts: dict[str, Any], params: Parameters, today: dt.date) -> dict[str, dt.date]:
    """Thumbprint -> renewal due date of each self-signed certificate in use that expires inside the horizon: the
    lead of a manual renewal (`manual_renewal_lead_days`) before it expires, or today when that day has passed."""
    lead = dt.timedelta(days=int(params.value("manual_renewal_lead_days")))
    by_thumbprint = {c["thumbprint"]: c for c in facts["certificates"]}
    return {entry["thumbprint"]: max(dt.date.fromisoformat(entry["not_after"]) - lead, today)
            for entry in facts["expiring"]
            if by_thumbprint[entry["thumbprint"]]["self_signed"] and by_thumbprint[entry["thumbprint"]]["services"]}


def _servers_text(servers: list[str]) -> str:
    return " and ".join([", ".join(servers[:-1]), servers[-1]] if len(servers) > 1 else servers)


def _not_collected(entries: list[dict[str, Any]]) -> list[Finding]:
    """That the state of servers whose certificates the export lacks is unknown, and why: one finding for those a
    collection error or skip explains (quoted), one for the others."""
    out = []
    for failed in (True, False):
        servers = [e["server"] for e in entries if bool(e["error"]) == failed]
        if not servers:
            continue
        one = len(servers) == 1
        what = (f"The certificates on {_servers_text(servers)} were not collected "
                f"({'; '.join(dict.fromkeys(e['error'] for e in entries if e['error']))})" if failed else
                f"The export has no certificates from {_servers_text(servers)}")
        out.append(Finding("warning", f"{what}: {'its' if one else 'their'} state is unknown, so the names "
                                      f"{'it serves' if one else 'they serve'} were not checked.",
                           f"Collect {'its' if one else 'their'} certificates (Get-ExchangeCertificate -Server "
                           f"{servers[0] if one else '<name>, once per server'}) and import again."))
    return out


def _coverage_text(entry: dict[str, Any], fault: str, effect: str, by_thumbprint: dict[str, dict[str, Any]],
                   issuers: dict[str, tuple[str, str]]) -> str:
    """``name (uses) <fault>: <effect>.`` (`effect` may say ``{who}``: the clients concerned), naming the servers
    where only some of those that use the name have the fault, and how the CA-issued certificates that cover it on
    the others are missing there."""
    uses = ", ".join(entry["used_by"])
    if entry["everywhere"] or not entry["servers"]:
        return f"{entry['name']} ({uses}) {fault}: {effect.format(who='clients that use it')}."
    where = _servers_text(entry["servers"])
    covered = ""
    for cert in (by_thumbprint[t] for t in entry["elsewhere"]):
        on = _servers_text([s for s in cert["servers"] if s not in entry["servers"]])
        unbound = [s for s in entry["servers"] if s in cert["servers"]]
        absent = [s for s in entry["servers"] if s not in cert["servers"]]
        missing = ([f"not installed on {_servers_text(absent)}"] if absent else []) + (
            [f"on {_servers_text(unbound)} but not enabled for IIS there"] if unbound else [])
        covered += (f"; the {issuers[cert['thumbprint']][1]} certificate that covers it on {on} "
                    f"({cert['subject'] or cert['thumbprint']}) is {' and '.join(missing)}")
    return (f"{entry['name']} ({uses} on {where}) {fault} on {where}: "
            f"{effect.format(who=f'clients that reach {where} by it')}{covered}.")


def _findings(facts: dict[str, Any], issuers: dict[str, tuple[str, str]], replacements: list[Replacement],
              self_signed_due: dict[str, dt.date], params: Parameters, today: dt.date, start: dt.date,
              acme_only: list[str], installed: dict[str, str]) -> list[Finding]:
    out: list[Finding] = _not_collected(facts["certificates_not_collected"])
    by_thumbprint = {c["thumbprint"]: c for c in facts["certificates"]}
    # what to do about a certificate still enabled after it expired: said in its error, not in a warning beside it
    remedy: dict[str, str] = {}
    for old, new in installed.items():
        cert, replacement = by_thumbprint[old], by_thumbprint[new]
        when = "now" if cert["not_after"] < today.isoformat() else f"before {cert['not_after']}"
        remedy[old] = (f"a replacement ({new}, {issuers[new][1]}, expires {replacement['not_after']}) is installed on "
                       f"{', '.join(replacement['servers'])} but not enabled: enable it for "
                       f"{', '.join(cert['services'])} {when}")
    for r in replacements:
        when = "now (overdue)" if r.replace_on <= today else f"by {r.replace_on.isoformat()}"
        renew = (f"renew it on {r.issuances[1].isoformat()}" if len(r.issuances) > 1
                 else f"it lasts past {from_day(to_day(r.replace_on) + r.lifetime_days - 1).isoformat()}")
        remedy[r.thumbprint] = (f"replace it {when}; under the rules then in force the replacement lives at most "
                                f"{r.lifetime_days} days, so {renew}{_tally(r, start, today, facts['horizon_end'])}")
    expired = [e["thumbprint"] for e in facts["expiring"] if e["expired"]]
    enabled_expired = {t for t in expired if by_thumbprint[t]["services"]}
    removable = set(expired) - enabled_expired
    for entry in facts["uncovered_names"]:
        out.append(Finding("error", _coverage_text(entry, "is on no certificate bound to IIS", "{who} see a "
                                                   "certificate warning", by_thumbprint, issuers)))
    for entry in facts["expiring"]:
        cert = by_thumbprint[entry["thumbprint"]]
        name = f"{cert['subject'] or cert['thumbprint']} ({issuers[cert['thumbprint']][1]}; {_where(cert)})"
        if not entry["expired"]:
            continue
        if cert["services"]:
            action = f": {remedy[entry['thumbprint']]}" if entry["thumbprint"] in remedy else ""
            out.append(Finding("error", f"{name} expired on {entry['not_after']} and is still enabled{action}."))
        else:
            out.append(Finding("info", f"{name} expired on {entry['not_after']}; it is bound to no service, "
                                       "so it can be removed."))
    for entry in facts["self_signed_only_names"]:
        out.append(Finding("error", _coverage_text(entry, "is only on self-signed certificates", "clients that do not "
                                                   "trust them see a warning", by_thumbprint, issuers)))
    for entry in facts["private_ca_only_names"]:
        out.append(Finding("warning", _coverage_text(
            entry, "is on a certificate of the organisation's own CA", "phones and computers outside the domain see a "
            "warning unless they were given its root certificate", by_thumbprint, issuers)))
    for name in facts["autodiscover_names_not_covered"]:
        out.append(Finding("warning", f"{name} is on no certificate bound to IIS: if it points at Exchange, Outlook "
                                      "users of that domain see a certificate warning."))
    ban = params["internal_names_ban"]
    for entry in facts["internal_names_on_public_certificates"]:
        if entry["thumbprint"] in removable:
            continue  # expired and bound to nothing: the info finding says to remove it; nothing replaces it
        out.append(Finding("warning", f"A public certificate ({issuers[entry['thumbprint']][1]}, expires "
                                      f"{entry['not_after']}) carries internal names {', '.join(entry['names'])}: no "
                                      f"public certificate with them may expire after {ban.values[-1]}, so its "
                                      "replacement cannot carry them."))
    for entry in facts["self_signed_on_iis"]:
        out.append(Finding("warning", f"Self-signed {entry['subject'] or entry['thumbprint']} is enabled for IIS on "
                                      f"{', '.join(entry['servers'])}: clients reaching that server by a name on it "
                                      "see a warning."))
    for old in (t for t in installed if t not in enabled_expired):
        cert = by_thumbprint[old]
        out.append(Finding("warning", f"{cert['subject'] or old} ({issuers[old][1]}; {_where(cert)}) expires "
                                      f"{cert['not_after']}: {remedy[old]}."))
    for r in replacements:
        if r.thumbprint not in enabled_expired:
            expiry = "expired on" if r.not_after < today else "expires"
            out.append(Finding("warning", f"{r.subject} ({r.issuer}; {_where(by_thumbprint[r.thumbprint])}) {expiry} "
                                          f"{r.not_after.isoformat()}: {remedy[r.thumbprint]}."))
    for entry in facts["expiring"]:
        cert = by_thumbprint[entry["thumbprint"]]
        if cert["self_signed"] and cert["services"] and not entry["expired"]:
            due = self_signed_due[entry["thumbprint"]]
            when = "now" if due <= today else f"by {due.isoformat()}"
            out.append(Finding("warning", f"Self-signed {cert['subject'] or cert['thumbprint']} ({_where(cert)}) expires "
                                          f"{entry['not_after']}: Exchange does not renew it; renew it {when}."))
    for cert in facts["certificates"]:
        if cert["bound_to_iis"] and not cert["self_signed"]:
            out.append(Finding("info", f"{issuers[cert['thumbprint']][1]} certificate bound to IIS on "
                                       f"{', '.join(cert['servers']) or 'the server'} covers {', '.join(cert['names'])}; "
                                       f"expires {cert['not_after'] or 'on an unknown date'}."))
    if acme_only:
        out.append(Finding("info", f"{', '.join(acme_only)} {'issues' if len(acme_only) == 1 else 'issue'} only "
                                   "through ACME, so an ACME client on the server likely renews the certificate: the "
                                   "ACME option counts as allowed only where the organisation confirms that policy and "
                                   "network allow one.",
                           "If one does, switch on ACME ok (profile field acme_ok): the import leaves it at its "
                           "default, off."))
    return sorted(out, key=lambda f: LEVELS.index(f.level))


def assess(export: ExchangeExport, params: Parameters, catalog: Catalog, *, today: dt.date,
           horizon_end: dt.date, start: dt.date | None = None) -> CurrentState:
    """The current state of `export` on `today`, with expiries and replacements up to the end (exclusive) of the
    horizon from `start` (default today) to `horizon_end`, or up to today when that horizon ended before."""
    start = today if start is None else start
    followed = max(horizon_end, today)
    facts = current_state(export, today=today, horizon_end=followed)
    matched = {c["thumbprint"]: issuer_ca(c, catalog) for c in facts["certificates"]}
    issuers = {c["thumbprint"]: (matched[c["thumbprint"]].id if matched[c["thumbprint"]] else "",
                                 _issuer_shown(c, matched[c["thumbprint"]])) for c in facts["certificates"]}
    by_thumbprint = {c["thumbprint"]: c for c in facts["certificates"]}
    installed: dict[str, str] = {}  # a CA-issued certificate in use -> the later one installed, not enabled, beside it
    planned: dict[str, dict[str, Any]] = {}  # the certificates whose replacements are planned, by thumbprint
    for entry in facts["expiring"]:
        cert = by_thumbprint[entry["thumbprint"]]
        if cert["services"] and not cert["self_signed"]:
            if new := _installed_replacement(cert, facts["certificates"], today):
                installed[cert["thumbprint"]] = new["thumbprint"]
                if new["not_after"] < followed.isoformat():
                    planned[new["thumbprint"]] = new
            else:
                planned[cert["thumbprint"]] = cert
    replacements = [_replacement(cert, matched[thumbprint], issuers[thumbprint][1], params, today, followed)
                    for thumbprint, cert in planned.items()]
    acme_only = list(dict.fromkeys(ca.name for c in facts["certificates"] if c["bound_to_iis"]
                                   and (ca := matched[c["thumbprint"]]) and ca.acme and not ca.manual))
    due = _self_signed_due(facts, params, today)
    findings = _findings(facts, issuers, replacements, due, params, today, start, acme_only, installed)
    return CurrentState(today, start, horizon_end, facts, issuers, tuple(replacements), tuple(findings), due)


def assess_horizon(export: ExchangeExport, params: Parameters, catalog: Catalog, start: dt.date, years: float,
                   today: dt.date) -> CurrentState:
    """`assess` against a profile's horizon: `years` from `start`, its issuances counted from today on
    (`CurrentState.counted`), as the options' are."""
    end = from_day(horizon_end_day(to_day(start), years))
    return assess(export, params, catalog, today=today, horizon_end=end, start=start)
