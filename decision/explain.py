"""Reason codes and their plain-language sentences; the recommendation's 'why'.

Options carry reasons as a bit mask (one bit per code) so millions of rows stay numeric; the
codes and sentences are materialised only for output.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from string import Formatter
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from decision.catalog import CA
from decision.dates import from_day
from decision.names import in_reverse_zone, reverse_zone_refusal
from decision.parameters import Parameters
from decision.scoring import CRITERIA, CRITERION_NAMES

if TYPE_CHECKING:
    from decision.sensitivity import WeightBand


@dataclass(frozen=True)
class Reason:
    code: str
    kind: str  # infeasible | con | risk (unverified: changes neither feasibility nor score) | pro | info (neither: how
    # the CA was chosen)
    text: str
    # the sentence with specifics: {ca} the CA's name and {date} the day its status changes (`status_details`) or its
    # first certificate without the client-authentication EKU (`server_auth_details`), or {name} a data/parameters.yaml
    # value (`parameter_details`), so the YAML and the sentence cannot disagree
    detail: str = ""


REASONS: tuple[Reason, ...] = (
    # why an option cannot be used
    Reason("no_internal_ca", "infeasible", "there is no AD CS enterprise CA"),
    Reason("partner_tls_needs_public", "infeasible",
           "hybrid / partner SMTP TLS needs a publicly trusted certificate; an internal CA is not accepted"),
    Reason("acme_not_allowed", "infeasible", "policy or network does not allow an ACME client on the server"),
    Reason("acme_wildcard_needs_dns_api", "infeasible",
           "a free ACME wildcard needs DNS-01 validation, and the DNS host has no API"),
    Reason("ca_distrusted", "infeasible", "the chosen CA is distrusted by browsers for new certificates",
           "the chosen CA is distrusted by browsers for new certificates: {ca}, since {date}"),
    Reason("ca_discontinued", "infeasible", "the chosen CA no longer issues certificates",
           "the chosen CA no longer issues certificates: {ca} stopped on {date}"),
    Reason("ca_not_operating", "infeasible", "no CA that could serve this option issued yet on the start date"),
    Reason("ca_distrusted_in_horizon", "infeasible",
           "the chosen CA is distrusted for new certificates before a renewal within the horizon",
           "{ca} is distrusted for new certificates from {date}, within the horizon"),
    Reason("ca_discontinued_in_horizon", "infeasible",
           "the chosen CA stops issuing before a renewal within the horizon",
           "{ca} stops issuing on {date}, within the horizon"),
    Reason("ca_private", "infeasible", "the chosen CA is a private CA; public options need a public CA"),
    Reason("ca_no_product", "infeasible", "the chosen CA does not sell this kind of certificate this way"),
    Reason("too_many_names", "infeasible", "more names than the CA allows on one certificate"),
    Reason("no_ca_available", "infeasible",
           "no CA in the catalog can issue this option's certificates on the start date and at every renewal"),
    Reason("required_name_not_issuable", "infeasible",
           "a name clients must use (OWA host or a mail domain) is not a public DNS name, so no public CA can issue it"),
    Reason("single_name_multi_domain", "infeasible",
           "one autodiscover name cannot serve several mail domains"),
    Reason("nothing_to_split", "infeasible",
           "the OWA host is the only autodiscover name (autodiscover.<domain>), so there is no autodiscover site to "
           "split off: the single-name option already serves it without a URL change"),
    Reason("nothing_to_redirect", "infeasible",
           "the OWA host is the only autodiscover name (autodiscover.<domain>): Outlook finds it by its own record, so "
           "there is nothing for an SRV record to redirect, and the single-name option already serves it"),
    Reason("owa_not_under_wildcard", "infeasible",
           "the OWA host is not one label under a mail domain, so no *.<domain> certificate covers it (a wildcard "
           "covers mail.contoso.com, not mail.eu.contoso.com or a name in another domain)"),
    Reason("srv_not_supported_yet", "infeasible", "Outlook could not use autodiscover SRV records yet on the start date"),
    # notable cons
    Reason("internal_names_refused", "con",
           "a public CA refuses the internal names; internal URLs must move to external names"),
    Reason("internal_names_not_carried", "con",
           "this option cannot carry the internal names; internal URLs must move to external names"),
    Reason("internal_names_http01", "con",
           "the ACME client proves control of each name over HTTP (HTTP-01: the DNS host has no API), which works only "
           "for names whose public DNS leads to Exchange; the internal names (the AD domain, the servers' FQDNs) do "
           "not, so the certificate cannot carry them: internal URLs must move to external names"),
    Reason("internal_names_warn", "con",
           "without split DNS, internal clients using internal names get certificate name warnings"),
    Reason("internal_names_ban_in_horizon", "con",
           "a renewal within the horizon would expire after the last day a public certificate may carry internal "
           "names, so it cannot carry them: internal URLs must move to external names",
           "a renewal within the horizon would expire after {internal_names_ban}, so it cannot carry the internal "
           "names: internal URLs must move to external names"),
    Reason("internal_names_revoked_in_horizon", "con",
           "the certificate carrying the internal names is revoked within the horizon (every public certificate "
           "with internal names was), and its replacement cannot carry them: internal URLs must move to external names",
           "a certificate issued before {internal_names_rule_from} may carry internal names, but every one still "
           "valid on {internal_names_revocation}, within the horizon, is revoked that day: its replacement would expire "
           "after {internal_names_ban}, so it cannot carry them, and internal URLs must move to external names"),
    Reason("root_domain_not_covered", "con",
           "the bare domain points at Exchange but is not on the certificate: Outlook outside the domain warns "
           "(remove the bare domain's record from Exchange)"),
    Reason("url_change", "con", "users must learn a new OWA / ActiveSync address"),
    Reason("mobile_reconfigure", "con", "hand-configured phones must be set to the new server name"),
    Reason("extra_ip", "con", "needs an extra public IP for each further certificate's web site or binding "
                                   "(no SNI on this platform)"),
    Reason("second_site_unconfirmed", "con",
           "a second front-end web site for Autodiscover is not confirmed as supported on this Exchange version"),
    Reason("frequent_manual_renewals", "con", "frequent manual renewals under the lifetime rules",
           "more than {frequent_manual_renewals_per_year} manual renewals a year under the lifetime rules"),
    Reason("email_dcv_ends", "con", "manual renewals once e-mail domain validation ends need DNS or HTTP domain "
                                    "validation",
           "manual renewals from {email_dcv_end} need DNS or HTTP domain validation"),
    Reason("multi_server_copy", "con", "each renewal must be copied to every client access server"),
    Reason("connector_update", "con",
           "the issuer changes between renewals: hybrid/partner connectors' TlsCertificateName must be updated"),
    Reason("root_install", "con", "unmanaged computers and phones must be given the internal root certificate"),
    Reason("android_may_ignore_root", "con", "Android 7+ mail apps may ignore an installed private root"),
    Reason("redirect_prompt", "con", "Outlook asks each user once to allow the SRV redirect"),
    Reason("wildcard_pop_imap", "con", "a wildcard cannot be enabled for POP/IMAP: set their certificate name"),
    Reason("wildcard_old_clients", "con", "some mobile clients reject wildcard certificates"),
    Reason("ca_status_changes", "con", "the CA's status changes during the horizon"),
    # notable pros
    Reason("automated_renewal", "pro", "renewals are automated by an ACME client"),
    Reason("free_certificates", "pro", "certificates cost nothing"),
    # how the CA was chosen among CAs that cost the same: neither for nor against the option (`ca_tie_sentence` names them)
    Reason("ca_tie_issuances", "info", "another CA costs the same here but needs more renewals"),
    Reason("ca_tie_order", "info", "other CAs cost the same here and need as many renewals; the one chosen is listed first"),
    Reason("long_private_lifetime", "pro", "private certificates are not bound by the public lifetime caps"),
    Reason("carries_internal_names", "pro", "may carry internal names"),
    Reason("one_certificate", "pro", "one certificate for every name"),
    Reason("sni_binding", "pro", "SNI lets the further certificates share the existing IP"),
    Reason("spare_ip_used", "pro", "uses the spare public IP for a further certificate's web site or binding"),
    # risks to check: unverified, they change neither feasibility nor score
    Reason("partner_tls_server_auth_only", "risk",
           "risk to check (unverified; not scored): certificates issued within the horizon carry server "
           "authentication only, without the TLS Client Authentication EKU; Exchange Online connectors or partners "
           "that require a client certificate from this server for SMTP TLS may refuse the session: ask TLS partners, "
           "and test the hybrid connectors and partner mail flow with such a certificate before enabling it for SMTP",
           "risk to check (unverified; not scored): the {ca} certificates issued from {date} on carry server "
           "authentication only, without the TLS Client Authentication EKU; Exchange Online connectors or partners "
           "that require a client certificate from this server for SMTP TLS may refuse the session: ask TLS partners, "
           "and test the hybrid connectors and partner mail flow with such a certificate before enabling it for SMTP"),
)
BIT = {r.code: np.int64(1) << np.int64(i) for i, r in enumerate(REASONS)}
BY_CODE = {r.code: r for r in REASONS}
assert len(REASONS) < 63


def codes_of(mask: int) -> list[str]:
    """Reason codes set in one mask, infeasible first."""
    found = [r for i, r in enumerate(REASONS) if int(mask) >> i & 1]
    order = {"infeasible": 0, "con": 1, "risk": 2, "pro": 3, "info": 4}
    return [r.code for r in sorted(found, key=lambda r: order[r.kind])]


def reason_strings(masks: np.ndarray) -> np.ndarray:
    """Masks → 'code; code' strings (computed once per distinct mask)."""
    uniques, inverse = np.unique(np.asarray(masks, dtype=np.int64), return_inverse=True)
    text = np.array(["; ".join(codes_of(m)) for m in uniques], dtype=object)
    return text[inverse.reshape(-1)]


INFEASIBLE = np.bitwise_or.reduce([BIT[r.code] for r in REASONS if r.kind == "infeasible"])


def why_no_option(masks: np.ndarray, none: np.ndarray) -> np.ndarray:
    """Per profile (rows of `masks`, profiles × options): where `none` of its options is feasible, the codes that
    rule them out ('code; code', each once, worked out for those profiles only); None elsewhere."""
    none = np.asarray(none, dtype=bool)
    out = np.full(len(none), None, dtype=object)
    out[none] = reason_strings(np.bitwise_or.reduce(np.asarray(masks, dtype=np.int64)[none] & INFEASIBLE, axis=1))
    return out


def status_details(ca: CA, start: int, end: int) -> dict[str, str]:
    """Sentences naming `ca` and the day its status changes within [start, end), for the ca_*_in_horizon codes."""
    out: dict[str, str] = {}
    for day, status in zip(ca.status_starts, ca.statuses, strict=True):
        code = f"ca_{status}_in_horizon"
        if start < day < end and code in BY_CODE and code not in out:
            out[code] = BY_CODE[code].detail.format(ca=ca.name, date=from_day(day).isoformat())
    return out


CHOOSE_ANOTHER_CA = " (choose another CA, or cheapest)"
START_STATUS_CODES = ("ca_distrusted", "ca_discontinued")  # a CA that no longer serves on the start date


def start_status_details(ca: CA, start: int, named: bool) -> dict[str, str]:
    """The sentence naming `ca` (its short name) and the day it became distrusted or discontinued, where it is so on
    the `start` day (ca_distrusted, ca_discontinued); where the profile `named` it, with the advice to choose another
    CA or cheapest."""
    at = int(np.searchsorted(ca.status_starts, start, side="right")) - 1
    code = f"ca_{ca.statuses[at]}" if at >= 0 else ""
    if code not in START_STATUS_CODES:
        return {}
    text = BY_CODE[code].detail.format(ca=ca.short_name, date=from_day(ca.status_starts[at]).isoformat())
    return {code: text + (CHOOSE_ANOTHER_CA if named else "")}


# what each option buys from a CA: (product, mode); mode 'auto' buys by order where the CA sells so, else through ACME
OPTION_PRODUCTS = {"san": ("san", "manual"), "acme": ("san", "acme"), "classic": ("single", "manual"),
                   "split_site": ("single", "manual"), "srv_record": ("single", "manual"),
                   "wildcard": ("wildcard", "auto"), "internal_ca": ("san", "manual")}
PRODUCT_WORDS = {"single": "single-name", "san": "SAN", "wildcard": "wildcard"}


def buys_through_acme(ca: CA, option: str) -> bool:
    """Whether `option` gets its certificates from `ca` through ACME (else by order)."""
    mode = OPTION_PRODUCTS[option][1]
    return mode == "acme" or (mode == "auto" and not ca.manual)


def first_issuing_day(ca: CA, acme: bool) -> int:
    """The first day `ca` issued (through ACME where `acme`: the later of that and its ACME service's first day)."""
    first = int(ca.status_starts[0])
    return max(first, ca.acme_from) if acme and ca.acme_from is not None else first


def not_operating_details(option: str, ca: CA | None, named: bool, sellers: Iterable[CA]) -> dict[str, str]:
    """The sentence of ca_not_operating: the CA the option's reasons are about (`ca`; where the profile `named` it,
    with the advice to choose another CA or cheapest) and the day it first issued, by order or through ACME as the
    option buys; with no such CA (cheapest, several CAs sell the product), the first of the `sellers` to issue."""
    code = "ca_not_operating"
    if ca is not None:
        acme = buys_through_acme(ca, option)
        day = from_day(first_issuing_day(ca, acme)).isoformat()
        who = f"the chosen CA, {ca.short_name}," if named else ca.short_name
        return {code: f"{who} did not issue{' through ACME' if acme else ''} yet on the start date (from {day})"
                      + (CHOOSE_ANOTHER_CA if named else "")}
    days = {c.short_name: first_issuing_day(c, buys_through_acme(c, option)) for c in sellers}
    if not days:
        return {}
    first = min(days, key=days.__getitem__)
    kind = ("ACME CA" if OPTION_PRODUCTS[option][1] == "acme"
            else f"CA selling {PRODUCT_WORDS[OPTION_PRODUCTS[option][0]]} certificates")
    return {code: f"no {kind} issued yet on the start date (the first, {first}, from "
                  f"{from_day(days[first]).isoformat()})"}


def no_product_details(option: str, ca: CA) -> dict[str, str]:
    """The sentence of ca_no_product: what `ca` does not sell that `option` needs (by order, through ACME, the
    product)."""
    product, acme = OPTION_PRODUCTS[option][0], buys_through_acme(ca, option)
    name, words = ca.short_name, PRODUCT_WORDS[product]
    if not acme and not ca.manual:
        text = f"{name} issues only through ACME, not by order" if ca.acme else f"{name} does not sell certificates by order"
    elif acme and not ca.acme:
        text = f"{name} does not issue through ACME"
    else:
        text = f"{name} does not sell {words} certificates{' through ACME' if acme else ''}"
    return {"ca_no_product": text}


def server_auth_details(ca: CA, issued: np.ndarray) -> dict[str, str]:
    """The sentence of partner_tls_server_auth_only naming `ca` and the first of the `issued` days (a certificate's
    issuances) whose certificate lacks the client-authentication EKU; empty when none does."""
    lacking = issued[~ca.client_auth_at(issued)]
    if not len(lacking):
        return {}
    code = "partner_tls_server_auth_only"
    return {code: BY_CODE[code].detail.format(ca=ca.short_name, date=from_day(lacking.min()).isoformat())}


def parameter_details(params: Parameters) -> dict[str, str]:
    """Sentences of the codes whose detail quotes parameters ({name}), filled in from `params` (code → sentence)."""
    out: dict[str, str] = {}
    for r in REASONS:
        names = {name for _, name, _, _ in Formatter().parse(r.detail) if name}
        if names and names <= params.items.keys():
            out[r.code] = r.detail.format_map({name: str(params.value(name)) for name in names})
    return out


def _text(code: str, details: Mapping[str, str] | None) -> str:
    return (details or {}).get(code) or BY_CODE[code].text


def reason_list(mask: int, details: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """Masks → [{code, kind, text}] for JSON and reports; `details` (code → sentence) names the CA where known."""
    return [{"code": c, "kind": BY_CODE[c].kind, "text": _text(c, details)} for c in codes_of(mask)]


def reason_text(codes: str, details: Mapping[str, str] | None = None) -> str:
    """'code; code' → the sentences, for tables people read (`details` as in `reason_list`)."""
    return "; ".join(_text(c, details) for c in codes.split("; ") if c in BY_CODE)


def _comparisons(row: pd.Series, runner: pd.Series, currency: str) -> tuple[list[str], list[str]]:
    """(where the winner is better, where it is worse) than the runner-up, in words; a criterion whose two values
    read the same as shown (direct cost to the whole unit, trust to the whole percent) is left out."""
    better, worse = [], []

    def compare(column: str, lower_is_better: bool, show: str, text: str) -> None:
        ours, theirs = format(row[column], show), format(runner[column], show)
        if ours != theirs:
            (better if (row[column] < runner[column]) == lower_is_better else worse).append(text.format(ours, theirs))

    compare("cost_total", True, ",.0f", f"direct cost {currency} {{}} against {currency} {{}}")
    compare("trust", False, ".0%", "{} of clients without a certificate warning against {}")
    compare("devices_to_reconfigure", True, ",.0f", "{} devices to touch against {}")
    compare("users_url_change", True, ",.0f", "{} users learning a new address against {}")
    return better, worse


def money_text(value: float, currency: str) -> str:
    """'USD 830', 'EUR 1,235': an amount over the horizon as the sentences and the tables show it, code first, to the
    whole unit (cents only where two amounts compared would otherwise read the same)."""
    return f"{currency} {value:,.0f}"


TIE_REASONS = {"tco": "has the lower total cost of ownership", "issuances": "needs fewer certificate issuances",
               "certificates": "needs fewer certificates", "order": "comes first in the fixed order of the options"}


def _tie_break(row: pd.Series, runner: pd.Series, tie: str, name: str, currency: str) -> tuple[list[str], str]:
    """(what else the two have in common, why `name` goes first) for a tie on score broken on `tie` (TIE_BREAKS)."""
    tco, issuances, certificates = (f"total cost of ownership ({money_text(row['tco'], currency)})",
                                    f"certificate issuances ({row['certificate_issuances']:,.0f})",
                                    f"certificates ({row['certificates']:,.0f})")
    first = f"{name} {TIE_REASONS[tie]}"
    if tie == "tco":
        ours, theirs = f"{row['tco']:,.0f}", f"{runner['tco']:,.0f}"
        if ours == theirs:
            ours, theirs = f"{row['tco']:,.2f}", f"{runner['tco']:,.2f}"
        return [], f"{first} ({currency} {ours} against {currency} {theirs})"
    if tie == "issuances":
        return [tco], f"{first} ({row['certificate_issuances']:,.0f} against {runner['certificate_issuances']:,.0f})"
    if tie == "certificates":
        return [tco, issuances], f"{first} ({row['certificates']:,.0f} against {runner['certificates']:,.0f})"
    return [tco, issuances, certificates], first


def count(value: float) -> str:
    """A count as text: '1,000'."""
    return f"{int(value):,}"


def plural(n: float, one: str, many: str | None = None) -> str:
    """'1 issuance', '2 issuances' (or the plural `many`)."""
    return f"{count(n)} {one if int(n) == 1 else (many or one + 's')}"


def and_list(items: list[str], word: str = "and") -> str:
    """'a', 'a and b', 'a, b and c' (or another `word`: 'a, b or c')."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"


CA_TIE_CODES = ("ca_tie_order", "ca_tie_issuances")


def ca_tie_sentence(chosen: str, level: list[str], more: list[tuple[str, int]], money: str) -> str:
    """How `chosen` was picked among CAs that cost the same (`money`, over the horizon): `level` need as many
    renewals (the first listed in the CA catalog wins), `more` (name, extra renewals) need more."""
    cost = f"cost{'s' if not level and len(more) == 1 else ''} the same here ({money} over the horizon)"
    if not level:
        names = and_list([n for n, _ in more])
        return (f"{chosen} is chosen over {names}, which {cost} but need{'s' if len(more) == 1 else ''} "
                f"{and_list([str(k) for _, k in more])} more renewals{' respectively' if len(more) > 1 else ''}")
    out = f"{and_list([chosen, *level])} {cost} and need as many renewals; {chosen} is listed first"
    for name, extra in more:
        out += f"; {name} costs the same but needs {extra} more renewals"
    return out


_CRITERION_COLUMNS = ("cost_total", "trust", "devices_to_reconfigure", "users_url_change")
_COLUMN_OF = dict(zip(CRITERIA, _CRITERION_COLUMNS, strict=True))  # each criterion's column in the option rows


def one_decimal(score: float | np.ndarray) -> np.ndarray:
    """A score or a margin (a score difference) to one decimal, from its two-decimal value as the engine publishes
    it (`engine.long_table`, `engine.recommendations`) rounded half up: 82.054 → 82.05 → 82.1, never 82.0 (82.05 is
    82.0499… in binary, so formatting it with `.1f` gives 82.0). NaN stays NaN."""
    hundredths = np.rint(np.asarray(score, dtype=float) * 100)  # as np.round(score, 2) does before it divides
    return np.sign(hundredths) * np.floor((np.abs(hundredths) + 5) / 10) / 10


def points(score: float) -> str:
    """A score or a margin as every output writes it: one decimal (`one_decimal`), '82.1'."""
    return f"{float(one_decimal(score)):.1f}"


UNDER_A_TENTH = "less than 0.1"  # a lead that one decimal shows as 0.0


def lead_points(margin: float) -> str:
    """A winner's lead over the runner-up as every output writes it: one decimal ('4.8', `points`), or
    UNDER_A_TENTH where that would show 0.0 although the winner is ahead."""
    text = points(margin)
    return UNDER_A_TENTH if text == points(0) else text


def recommendation_why(row: pd.Series, runner: pd.Series | None, weights: dict[str, float],
                       labels: dict[str, str], currency: str, margin: float, tie: str | None = None) -> str:
    """Plain-language reason for the winner: what decided it, what it gives up, against the runner-up.

    `margin`: the winner's lead over the runner-up (`engine.recommendations`, NaN without one): the sentence writes
    the lead that the app's figure and the appendix write, not the difference of two rounded scores.
    `tie`: the scoring.TIE_BREAKS key that put the winner first when the two scores tie exactly (None: no tie).
    """
    name = labels[row["option"]]
    if runner is None:
        return f"{name} is the only feasible option."
    runner_name = labels[runner["option"]]
    better, worse = _comparisons(row, runner, currency)
    weights_text = f"Weights: {_weights_text(weights)} ({CRITERION_NAMES[max(weights, key=weights.get)]} weighs most)."
    if tie is not None:
        lead = f"{name} and {runner_name} both score {points(row['score'])} of 100"
        same, first = _tie_break(row, runner, tie, name, currency)
        if all(row[c] == runner[c] for c in _CRITERION_COLUMNS):
            return f"{lead}: an exact tie on {and_list(['every criterion', *(f'on {s}' for s in same)])}; {first}."
        differ = [k for k, c in _COLUMN_OF.items() if row[c] != runner[c]]
        if all(weights[k] == 0 for k in differ):  # nothing to balance: the criteria they differ in carry no weight
            text = (f"{lead}: they differ only in {and_list([CRITERION_NAMES[k] for k in differ])}, which "
                    f"{'carries' if len(differ) == 1 else 'carry'} no weight here.")
        else:
            text = f"{lead}: their differences balance out under these weights."
        text += f" Better: {'; '.join(better)}." if better else ""
        text += f" It gives up: {'; '.join(worse)}." if worse else ""
        on_tie = f"with equal {and_list(same)}, {first}" if same else first
        return f"{text} On the tie, {on_tie}. {weights_text}"
    lead = f"{name} scores {points(row['score'])} of 100, {lead_points(margin)} ahead of {runner_name}"
    if not better and not worse:
        return (f"{lead}: they differ by less than shown here (direct cost to the whole {currency}, trust to the "
                f"whole percent). {weights_text}")
    text = f"{lead}. Better: {'; '.join(better)}." if better else f"{lead}."
    if worse:
        text += f" It gives up: {'; '.join(worse)}."
    return f"{text} {weights_text}"


def _weights_text(weights: dict[str, float]) -> str:
    return ", ".join(f"{CRITERION_NAMES[k]} {v:.0%}" for k, v in weights.items())


# ------------------------------------------------------------------------- names an option leaves out (5.2, app)

@dataclass(frozen=True)
class LeftOut:
    """Names asked for that options leave off their certificates, by the rule that leaves them out: `rule` is
    internal (the internal-name rule), reverse_zone (names in an IP reverse zone) or http01 (an ACME client without a
    DNS API cannot validate them); `sentence` says why; `parameter` is the data/parameters.yaml rule quoted, if any."""

    rule: str
    names: tuple[str, ...]
    options: tuple[str, ...]
    sentence: str
    parameter: str | None


LEFT_OUT_TITLES = {"internal": "Internal names a public CA refuses",
                   "reverse_zone": "Names in an IP reverse zone a public CA refuses",
                   "http01": "Names ACME cannot validate by HTTP-01"}


def _internal_sentence(names: list[str], params: Parameters) -> str:
    """Why a public CA refuses these internal names: the kinds they are (one label; a suffix nobody can register,
    named), and the rule's dates."""
    listed = [str(s).lower() for s in params.value("internal_suffixes")]
    suffixes: dict[str, None] = {}
    for name in (n.lower() for n in names if "." in n):
        matched = [s for s in listed if name.endswith("." + s)]
        suffixes[max(matched, key=len) if matched else name.rsplit(".", 1)[1]] = None
    kinds = ["server names of a single label"] if any("." not in n for n in names) else []
    if suffixes:
        under = and_list([f".{s}" for s in suffixes])
        kinds.append(f"names under {under} (a suffix that is reserved or not delegated in the root zone)"
                     if len(suffixes) == 1 else
                     f"names under {under} (suffixes that are reserved or not delegated in the root zone)")
    ban, since = params.value("internal_names_ban"), params.value("internal_names_rule_from")
    return (f"A public certification authority refuses internal names: {and_list(kinds)}. Since {since} no publicly "
            f"trusted certificate that carries one may expire after {ban}, so no certificate issued from {ban} on can "
            "carry them.")


def _reverse_zone_sentence(params: Parameters) -> str:
    since, zones = reverse_zone_refusal(params)
    return (f"No publicly trusted certificate issued from {since} may carry a name in an IP reverse zone "
            f"({', '.join(zones)}), and this horizon's certificates are issued or renewed from then on.")


HTTP01_SENTENCE = ("A public certification authority would issue these names, but the ACME client proves control of each "
                   "name over HTTP (HTTP-01), as the DNS host has no API: that works only for names whose public DNS "
                   "leads to Exchange, and these internal names (the AD domain, the servers' FQDNs) do not, so the "
                   "ACME certificate cannot carry them (a CA that validates by DNS or e-mail can).")


def names_left_out(refused: Mapping[str, str], params: Parameters) -> list[LeftOut]:
    """Per rule, the names options leave off their certificates and the options that do, from each option's
    `not_issuable` (', '-joined, one profile; `names.names_by_option`). What every option but ACME leaves out a
    public CA refuses: names in an IP reverse zone (`reverse_zone_suffixes`) and other internal names
    (`internal_names_ban`); ACME leaves out too the internal names its client cannot validate by HTTP-01."""
    lists = {option: [n for n in str(names).split(", ") if n] for option, names in refused.items()}
    by_rule = {n for option, names in lists.items() if option != "acme" for n in names}
    reverse = set(in_reverse_zone(sorted(by_rule), params))

    def rule_of(name: str) -> str:
        return "http01" if name not in by_rule else "reverse_zone" if name in reverse else "internal"
    groups: dict[str, tuple[dict[str, None], dict[str, None]]] = {r: ({}, {}) for r in LEFT_OUT_TITLES}
    for option, names in lists.items():
        for name in names:
            found, options = groups[rule_of(name)]
            found[name] = None
            options[option] = None
    out = []
    for rule, (found, options) in groups.items():
        if found:
            sentence = (_internal_sentence(list(found), params) if rule == "internal" else
                        _reverse_zone_sentence(params) if rule == "reverse_zone" else HTTP01_SENTENCE)
            parameter = {"internal": "internal_names_ban", "reverse_zone": "reverse_zone_suffixes"}.get(rule)
            out.append(LeftOut(rule, tuple(found), tuple(options), sentence, parameter))
    return out


def close_call_change(runner: str, better: bool, takers: list[str]) -> str:
    """What a small change can do in a close call with the runner-up `runner` (label): the weights too only where it
    is `better` on a criterion; else no change of the weights puts it first, but moving one far enough may hand the
    recommendation to `takers` (labels, `weight_takers`)."""
    if better:
        return "a small change in the weights or the assumptions could reverse the order"
    others = f"; moving one weight far enough lets {and_list(takers)} take over instead" if takers else ""
    return (f"a small change in the assumptions could reverse the order (no change of the weights can: {runner} is "
            f"better on no criterion{others})")


def weight_takers(bands: Iterable[WeightBand], labels: Mapping[str, str]) -> list[str]:
    """The options (their `labels`, sorted) that take over where one weight moves out of its band."""
    return sorted({labels[o] for b in bands for o in (b.below, b.above) if o})
