"""Which DNS names each option puts on its certificates, and which a public CA may issue on a date.

Counts for scoring are computed arithmetically (fast, for millions of profiles); the name lists
themselves are materialised only for output, from the same rules (`name_table`).

Internal names follow the CA/B Forum rule for each certificate's expiry: from `internal_names_rule_from`
a public CA refuses them on a certificate that would expire after `internal_names_ban`, and one that carries them
and is still valid on `internal_names_revocation` (issued before the rule, with a long term) is revoked that day,
so it is replaced early. The certificate checked is the commercial one (`catalog.public_lifetime`), on the first day
and at every renewal of the horizon.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import idna
import numpy as np
import pandas as pd
import publicsuffixlist
import pyarrow as pa
import pyarrow.compute as pc

from decision.catalog import public_lifetime
from decision.dates import from_day, horizon_end
from decision.parameters import Parameters
from decision.renewals import Lifetime, horizons, manual_interval, schedule
from decision.textops import arrow_text, text_offsets

# The order the 2007 article lists names in: OWA, bare domain, internal domain, autodiscover, FQDNs, NetBIOS.
KIND_ORDER = ("owa", "root", "internal_domain", "autodiscover", "server_fqdn", "netbios")
INTERNAL_KINDS = ("internal_domain", "server_fqdn", "netbios")
INTERNAL_CODES = [KIND_ORDER.index(k) for k in INTERNAL_KINDS]


@lru_cache(maxsize=1)
def _tld_values() -> pa.Array:
    return pa.array(sorted(iana_tlds()))


PSL_FILE = Path(publicsuffixlist.__file__).with_name("public_suffix_list.dat")  # the copy the package ships (offline)


def _ascii(name: str) -> str:
    """A name in its xn-- form by IDNA 2008, as profiles write names."""
    return name if name.isascii() else idna.encode(name, uts46=True).decode("ascii")


@lru_cache(maxsize=1)
def iana_tlds() -> frozenset[str]:
    """Top-level domains of the IANA root zone (the ICANN section of the Public Suffix List)."""
    tlds: set[str] = set()
    for line in PSL_FILE.read_text(encoding="utf-8").splitlines():
        if "===END ICANN DOMAINS===" in line:
            break
        line = line.strip()
        if line and not line.startswith("//") and "." not in line and not line.startswith(("*", "!")):
            tlds.add(_ascii(line))
    return frozenset(tlds)


@lru_cache(maxsize=1)
def _public_suffix_rules() -> tuple[pa.Array, pa.Array, pa.Array]:
    """The Public Suffix List's rules, both sections: (suffixes, the parents of wildcard rules such as *.kawasaki.jp,
    exceptions to those such as !city.kawasaki.jp)."""
    rules: dict[str, set[str]] = {"": set(), "*.": set(), "!": set()}
    for line in PSL_FILE.read_text(encoding="utf-8").splitlines():
        rule = line.strip()
        if rule and not rule.startswith("//"):
            prefix = "*." if rule.startswith("*.") else "!" if rule.startswith("!") else ""
            rules[prefix].add(_ascii(rule.removeprefix(prefix)))
    return tuple(pa.array(sorted(rules[prefix]), pa.string()) for prefix in ("", "*.", "!"))


def public_suffixes(names: pd.Series | pa.Array) -> np.ndarray:
    """True where a (normalised) name is itself a public suffix, such as com, co.uk or github.io: nobody registers it,
    so no CA can validate it, and a CA refuses a wildcard under it (CA/B Forum BR §3.2.2.6)."""
    text = names if isinstance(names, pa.Array) else arrow_text(names)
    exact, wildcard_parents, exceptions = _public_suffix_rules()
    parent, dotted = _after_dot(text, last=False)  # one label under a wildcard rule's parent (not a regex of them all:
    under = pc.and_not(pc.and_(pa.array(dotted), pc.is_in(parent, value_set=wildcard_parents)),  # 4 ms to compile)
                       pc.is_in(text, value_set=exceptions))
    return pc.fill_null(pc.or_(_is_in_many(text, exact), under), False).to_numpy(zero_copy_only=False)


def _is_in_many(text: pa.Array, values: pa.Array) -> pa.Array:
    """`pc.is_in(text, value_set=values)` for a long list of `values` (no nulls): where the text is the shorter, the
    values found in it are looked up instead (each look-up builds a hash table of its value set, most of its cost:
    0.4 ms for the ten thousand public suffixes)."""
    if len(text) >= len(values):
        return pc.is_in(text, value_set=values)
    return pc.is_in(text, value_set=values.filter(pc.is_in(values, value_set=text)))


def _after_dot(names: pa.Array, last: bool) -> tuple[pa.Array, np.ndarray]:
    """Each name's part after its first dot (its parent domain) or, `last`, after its last dot (its last label), the
    whole name where it has no dot; and whether it has one. The dot is found in the name's bytes (a dot is never
    part of a multi-byte character), `last` in them reversed: twice as fast as a split at the dot."""
    large = pa.types.is_large_string(names.type)
    data = names.view(pa.large_binary() if large else pa.binary())
    found = pc.find_substring(pc.binary_reverse(data) if last else data, ".").to_numpy(zero_copy_only=False)
    offsets = text_offsets(names)
    start, end = offsets[:-1], offsets[1:]
    dotted = found >= 0
    bounds = np.empty(2 * len(names), dtype=offsets.dtype)  # the parts' starts and ends, over the names' own bytes:
    bounds[0::2] = np.where(dotted, end - found if last else start + found + 1, start)
    bounds[1::2] = end
    parts = pa.Array.from_buffers(names.type, max(len(bounds) - 1, 0),  # the parts and the gaps between them
                                  [None, pa.py_buffer(bounds), names.buffers()[2]])
    return parts.take(np.arange(0, len(parts), 2)), dotted


def _last_labels(names: pa.Array) -> tuple[np.ndarray, pa.Array, np.ndarray]:
    """Each name's last label (`_after_dot`) as a code into the distinct last labels, those labels, and whether the
    name has a dot: the rules on a name's last label are looked up once per distinct label."""
    label, dotted = _after_dot(names, last=True)
    encoded = pc.dictionary_encode(label)
    return encoded.indices.to_numpy(zero_copy_only=False), encoded.dictionary, dotted


def _ends_in(text: pa.Array, suffix: str, labels: tuple[np.ndarray, pa.Array, np.ndarray],
             rows_of: dict[str, np.ndarray]) -> np.ndarray:
    """Whether each name is `suffix` or ends in '.' + `suffix`; looked at only in the names whose last label
    (`labels`: `_last_labels(text)`) is the suffix's, found once per label: `rows_of` keeps them for the next suffix
    with that label (home.arpa, in-addr.arpa, ip6.arpa)."""
    code, distinct, _ = labels
    out = np.zeros(len(text), dtype=bool)
    label = suffix.rsplit(".", 1)[-1]
    if label not in rows_of:
        same = np.flatnonzero(pc.equal(distinct, label).to_numpy(zero_copy_only=False))
        rows_of[label] = np.flatnonzero(code == same[0]) if len(same) else np.zeros(0, dtype=np.int64)
    rows = rows_of[label]
    if len(rows):
        near = text.take(rows)
        out[rows] = pc.or_(pc.equal(near, suffix), pc.ends_with(near, "." + suffix)).to_numpy(zero_copy_only=False)
    return out


def publicly_registrable(names: pd.Series | np.ndarray | pa.Array, params: Parameters,
                         last_day: int | np.ndarray) -> np.ndarray:
    """True where a public CA could issue a name on every certificate issued until `last_day` (per name, or one day):
    two or more labels, an IANA TLD, no internal suffix, and no reverse-zone suffix refused on `last_day`
    (`reverse_zone_suffixes`, dated; each entry lists every suffix refused from its date, the earlier ones too)."""
    text = names if isinstance(names, pa.Array) else arrow_text(names)
    suffixes = [str(s).lower() for s in params.value("internal_suffixes")]
    labels = _last_labels(text)
    code, distinct, dotted = labels
    tld_ok = pc.and_not(pc.is_in(distinct, value_set=_tld_values()),
                        pc.is_in(distinct, value_set=pa.array([s for s in suffixes if "." not in s], pa.string())))
    public = dotted & tld_ok.to_numpy(zero_copy_only=False)[code]
    rows_of: dict[str, np.ndarray] = {}  # the names of each last label the suffixes end in (`_ends_in`)
    for suffix in (s for s in suffixes if "." in s):  # multi-label suffixes such as home.arpa
        public &= ~_ends_in(text, suffix, labels, rows_of)
    rule = params["reverse_zone_suffixes"]
    entry = np.searchsorted(rule.starts, np.asarray(last_day, dtype=np.int64), side="right") - 1  # -1: before any
    for at, refused in enumerate(rule.values):
        applies = entry == at
        if refused and np.any(applies):
            hit = np.logical_or.reduce([_ends_in(text, str(s).lower(), labels, rows_of) for s in refused])
            public = public & ~(hit & applies)
    return public


def reverse_zone_refusal(params: Parameters) -> tuple[str, list[str]]:
    """The first day (ISO) a public CA refuses names in IP reverse zones (`reverse_zone_suffixes`), and every suffix
    the rule lists ('' and none where it lists none)."""
    rule = params["reverse_zone_suffixes"]
    at = next((i for i, refused in enumerate(rule.values) if refused), None)
    return ("" if at is None else from_day(int(rule.starts[at])).isoformat(),
            list(dict.fromkeys(str(s).lower() for v in rule.values for s in v)))


def in_reverse_zone(names: Sequence[str], params: Parameters) -> list[str]:
    """The names that end in an IP reverse-zone suffix (`reverse_zone_refusal`)."""
    suffixes = reverse_zone_refusal(params)[1]
    return [n for n in names if any(n.lower() == s or n.lower().endswith("." + s) for s in suffixes)]


def list_counts(joined: pd.Series | pa.Array) -> np.ndarray:
    """Number of items in ';'-joined lists."""
    text = joined if isinstance(joined, pa.Array) else arrow_text(joined)
    count = pc.add(pc.count_substring(text, ";"), 1).to_numpy(zero_copy_only=False)
    return np.where(pc.equal(text, "").to_numpy(zero_copy_only=False), 0, count).astype(np.int64)


def internal_names_allowed(issued: np.ndarray, params: Parameters) -> np.ndarray:
    """Whether a public certificate issued on each day may carry internal names, by the rule for its expiry.

    Issued before `internal_names_rule_from`: yes. From then: only if its expiry (notAfter, the last valid
    day) is on or before `internal_names_ban`; a CA refuses the names on a certificate that would expire later.
    """
    issued = np.asarray(issued, dtype=np.int64)
    expires = issued + public_lifetime(issued, params) - 1
    return (issued < params.day("internal_names_rule_from")) | (expires <= params.day("internal_names_ban"))


def revoked_lifetime(lifetime: Lifetime, params: Parameters) -> Lifetime:
    """`lifetime` of a certificate that carries internal names where the rule allows them: one issued before
    `internal_names_revocation` and still valid on it is revoked that day, so it lasts until the day before."""
    revoked = params.day("internal_names_revocation")

    def life(issued: np.ndarray) -> np.ndarray:
        full = lifetime(issued)
        cut = internal_names_allowed(issued, params) & (issued < revoked)
        return np.where(cut, np.minimum(full, revoked - issued), full)
    return life


def internal_names_loss(start: np.ndarray, end: np.ndarray,
                        params: Parameters) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Internal names on a commercial certificate kept from `start` to `end`, whose first issuance may carry them.

    Per profile: whether every issuance may carry them; the first day of an issuance that may not (`end` where
    none); and whether a certificate carrying them is revoked within the horizon (`revoked_lifetime`), which is
    then why its replacement, issued before the revocation and expiring after `internal_names_ban`, may not.
    """
    commercial = revoked_lifetime(lambda days: public_lifetime(days, params), params)
    distinct = horizons(start, end)
    sched = schedule(start, end, commercial, manual_interval(params.value("manual_renewal_lead_days")), distinct)
    valid = sched.days >= 0
    days = np.where(valid, sched.days, 0)
    refused = valid & ~internal_names_allowed(days, params)
    first = refused.argmax(axis=1)  # 0 where none: the first issuance is allowed (the caller's condition)
    rows = np.arange(len(days))
    lost = refused.any(axis=1)
    previous = days[rows, np.maximum(first - 1, 0)]
    cut = public_lifetime(previous, params) > commercial(previous)
    lost_on = np.where(lost, days[rows, first], distinct[0][:, 1])
    return (~lost)[sched.inverse], lost_on[sched.inverse], (lost & cut)[sched.inverse]


def _mail_domain_of(host: pa.Array, ext: pa.Array, extra_pos: np.ndarray, extras: pa.Array
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whether a host is one of the profile's mail domains itself (contoso.com), and whether it is one label under one
    (mail.contoso.com; not mail.eu.contoso.com nor a name in a domain the profile does not list), and under the
    external domain; `extra_pos`, `extras`: the extra mail domains and the position of each (`_items`). `*.<domain>`
    covers the second only: the bare domain is a name of its own, which the certificate must carry (a CA prices a
    wildcard with it included)."""
    parent = _after_dot(host, last=False)[0]

    def matches(name: pa.Array) -> tuple[np.ndarray, np.ndarray]:  # (the external domain, any mail domain)
        listed = pc.equal(extras, name.take(extra_pos)).to_numpy(zero_copy_only=False)
        external = pc.equal(name, ext).to_numpy(zero_copy_only=False)
        return external, external | (np.bincount(extra_pos[listed], minlength=len(host)) > 0)
    under_external, under = matches(parent)
    return matches(host)[1], under, under_external


def _public_duplicates(owa: pa.Array, ext: pa.Array, idom: pa.Array, root: np.ndarray, wanted: np.ndarray,
                       servers: pa.Array, extra_pos: np.ndarray, extras: pa.Array) -> np.ndarray:
    """Per profile, how many of the names in its AD domain it asks for (`wanted`: the AD domain itself and each
    server's FQDN) are public names its certificate carries already: the OWA host, the bare domain of
    root_on_exchange or an autodiscover.<mail domain> (an AD domain that is a mail domain, as with split-brain DNS).
    `name_table` lists each such name once, as the public name. Worked out in the profiles asking for them only;
    `extra_pos`, `extras`: the extra mail domains and the position of each (`_items`)."""
    out = np.zeros(len(wanted), dtype=np.int64)
    rows = np.flatnonzero(wanted)
    if not len(rows):
        return out
    owa, ext, idom, root = owa.take(rows), ext.take(rows), idom.take(rows), root[rows]
    listed = wanted[extra_pos]  # the extra domains of those profiles, by position among them
    at = (np.cumsum(wanted) - 1)[extra_pos[listed]]
    idom_is_domain, idom_one_under, _ = _mail_domain_of(idom, ext, at, extras.filter(pa.array(listed)))

    def public(name: pa.Array, pos: np.ndarray) -> np.ndarray:  # the OWA host or the bare domain on Exchange
        return (pc.equal(name, owa.take(pos)).to_numpy(zero_copy_only=False)
                | (root[pos] & pc.equal(name, ext.take(pos)).to_numpy(zero_copy_only=False)))
    everyone = np.arange(len(rows))
    out[rows] = public(idom, everyone) | (pc.starts_with(idom, "autodiscover.").to_numpy(zero_copy_only=False)
                                          & idom_one_under)
    server_pos, items = _items(servers.take(rows))  # <server>.<AD domain>: autodiscover.<mail domain> only as 'autodiscover'
    fqdn = pc.binary_join_element_wise(items, idom.take(server_pos), ".")
    same = public(fqdn, server_pos) | (pc.equal(items, "autodiscover").to_numpy(zero_copy_only=False)
                                       & idom_is_domain[server_pos])
    out[rows] += np.bincount(server_pos[same], minlength=len(rows))
    return out


def name_facts(frame: pd.DataFrame, params: Parameters, end: np.ndarray) -> dict[str, np.ndarray]:
    """Per-profile name counts and issuability, as arrays; `end`: each horizon's end (`dates.horizon_end`).

    `internal_blocked` counts the internal names a public CA refuses on the first certificate; `internal_lost`
    those it carries but a renewal within the horizon may not, from the day `internal_lost_on` (the first such
    renewal); `internal_revoked`: they are lost because the certificate carrying them is revoked on
    `internal_names_revocation`, within the horizon. `internal_unvalidated`: the non-public internal names the first
    certificate carries, whose control no CA can validate. `internal_ok_start` / `internal_ok_throughout`: whether
    internal names (and other non-public names) are allowed on the first / on every issuance. `wildcard_bare`: the
    bare domains the wildcard option's certificates carry. The internal counts leave out the names in the AD domain
    that are public names on the certificate too (`_public_duplicates`): those count once, as public names.
    """
    owa, ext, idom = (arrow_text(frame[c]) for c in ("owa_host", "external_domain", "internal_domain"))
    extras = arrow_text(frame["extra_domains"])
    wants_internal = frame["internal_names"].to_numpy(dtype=bool)
    has_idom = pc.not_equal(idom, "").to_numpy(zero_copy_only=False)
    servers = arrow_text(frame["servers"])
    n_servers = list_counts(servers)
    n_extra = list_counts(extras)
    root = frame["root_on_exchange"].to_numpy(dtype=bool)
    start = frame["start"].to_numpy(dtype=np.int64)
    ok_start = internal_names_allowed(start, params)
    # renewals are looked at only where the first certificate may carry the names
    ok_throughout, lost_on, revoked = ok_start.copy(), np.where(ok_start, end, start), np.zeros(len(start), bool)
    if ok_start.any():
        ok_throughout[ok_start], lost_on[ok_start], revoked[ok_start] = internal_names_loss(
            start[ok_start], end[ok_start], params)
    parents, items = _items(extras)
    n = len(start)  # one look-up of every name (each look-up builds its tables of domains anew)
    last = end - 1  # the names must be issuable on every certificate of the horizon
    owa_public, ext_public, idom_public, items_public = np.split(
        publicly_registrable(pa.concat_arrays([owa, ext, idom, items]), params,
                             np.concatenate([last, last, last, last[parents]])), [n, 2 * n, 3 * n])
    extras_public = np.bincount(parents[~items_public], minlength=n) == 0  # every extra domain (True for none)
    idom_public = idom_public & has_idom
    owa_is_root = pc.equal(owa, ext).to_numpy(zero_copy_only=False)
    owa_is_domain, owa_one_under, owa_under_ext = _mail_domain_of(owa, ext, parents, items)
    owa_autodiscover = pc.starts_with(owa, "autodiscover.").to_numpy(zero_copy_only=False)
    # internal names the profile asks for: the AD domain and each server's FQDN, but those that are public names on
    # the certificate already (counted once, as those), and each NetBIOS name (one label: never a public name)
    in_ad = wants_internal & has_idom
    n_ad = np.where(in_ad, 1 + n_servers, 0) - _public_duplicates(owa, ext, idom, root, in_ad, servers, parents, items)
    n_netbios = np.where(wants_internal, n_servers, 0)

    def blocked(allowed: np.ndarray) -> np.ndarray:
        return np.where(allowed | idom_public, 0, n_ad) + np.where(allowed, 0, n_netbios)

    blocked_start = blocked(ok_start)
    lost = blocked(ok_throughout) - blocked_start
    return {
        "n_domains": 1 + n_extra,
        "n_servers": n_servers,
        "owa_public": owa_public,
        "ext_public": ext_public,
        "extras_public": extras_public,
        "root_extra": root & ~owa_is_root,
        "owa_is_autodiscover": owa_autodiscover & owa_under_ext,  # autodiscover.<external domain>
        # the OWA host is the autodiscover name of one of the mail domains (that name is then on a certificate once)
        "owa_is_any_autodiscover": owa_autodiscover & owa_one_under,
        "owa_under_wildcard": owa_is_domain | owa_one_under,
        # bare domains the wildcard option's certificates carry: the external domain where it is on Exchange (OWA host
        # or root_on_exchange), and a further mail domain that is the OWA host
        "wildcard_bare": (root | owa_is_root).astype(np.int64) + (owa_is_domain & ~owa_is_root),
        "internal_wanted": n_ad + n_netbios,
        "internal_blocked": blocked_start,
        "internal_lost": lost,
        "internal_lost_on": lost_on,
        "internal_unvalidated": blocked(np.zeros(len(start), dtype=bool)) - blocked_start,
        "internal_revoked": revoked & (lost > 0),
        "internal_ok_start": ok_start,
        "internal_ok_throughout": ok_throughout,
    }


@dataclass(frozen=True)
class NameTable:
    """Every name profiles may ask for, by position (`pos`, ascending), kind (index into KIND_ORDER), name, whether
    a public CA may issue it on the profile's start (and, for a reverse-zone name, at every renewal of the horizon),
    whether it is a mail domain itself on Exchange (`bare`: the OWA host or the bare domain of root_on_exchange), and
    whether the profile's ACME client can validate it by DNS-01 (`dns01`: the DNS host has an API; else by HTTP-01,
    only a name whose public DNS leads to Exchange); and their mail domains (the external domain, then the extra
    ones), by position."""

    pos: np.ndarray
    kind: np.ndarray
    name: pa.Array
    issuable: np.ndarray
    internal: np.ndarray
    bare: np.ndarray
    dns01: np.ndarray
    domain_pos: np.ndarray
    domain: pa.Array


def _items(lists: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """The non-empty items of ';'-joined lists, and the position of the list of each."""
    split = pc.split_pattern(lists, ";")
    items, parents = pc.list_flatten(split), pc.list_parent_indices(split).to_numpy()
    filled = pc.not_equal(items, "").to_numpy(zero_copy_only=False)
    return parents[filled], items.filter(pa.array(filled))


def name_table(frame: pd.DataFrame, params: Parameters) -> NameTable:
    """Every name a profile may ask for, in the order of KIND_ORDER (each kind as the profile lists them), each name
    once per profile: position, kind, name, public-CA issuable on `start`; and the profiles' mail domains."""
    n = len(frame)
    pos = np.arange(n)
    owa, ext, idom = (arrow_text(frame[c]) for c in ("owa_host", "external_domain", "internal_domain"))
    wants = frame["internal_names"].to_numpy(dtype=bool)
    fqdn = wants & pc.not_equal(idom, "").to_numpy(zero_copy_only=False)
    root = frame["root_on_exchange"].to_numpy(dtype=bool)
    extra_pos, extras = _items(arrow_text(frame["extra_domains"]))
    server_pos, servers = _items(arrow_text(frame["servers"]))
    fqdn_at, netbios_at = fqdn[server_pos], wants[server_pos]
    parts = [  # (kind, positions, names): the public names first, so that an internal name that is one of them
        (0, pos, owa),  # (the AD domain as autodiscover.<mail domain>) is listed once, as the public name
        (1, pos[root], ext.filter(pa.array(root))),
        (3, pos, pc.binary_join_element_wise("autodiscover.", ext, "")),
        (3, extra_pos, pc.binary_join_element_wise("autodiscover.", extras, "")),
        (2, pos[fqdn], idom.filter(pa.array(fqdn))),
        (4, server_pos[fqdn_at], pc.binary_join_element_wise(servers.filter(pa.array(fqdn_at)),
                                                             idom.take(server_pos[fqdn_at]), ".")),
        (5, server_pos[netbios_at], servers.filter(pa.array(netbios_at))),
    ]
    at = np.concatenate([p for _, p, _ in parts])
    kind = np.concatenate([np.full(len(p), k, dtype=np.int8) for k, p, _ in parts])
    names = pa.concat_arrays([t.cast(pa.string()) for _, _, t in parts])
    codes = pc.dictionary_encode(names).indices.to_numpy().astype(np.int64)
    first = ~pd.Series(at * (codes.max(initial=0) + 1) + codes).duplicated().to_numpy()  # a name once per profile
    order = np.lexsort((kind, at))  # stable: each kind's names as listed
    order = order[first[order]]
    at, kind, names = at[order], kind[order], names.take(order)
    start = frame["start"].to_numpy(dtype=np.int64)
    allowed = internal_names_allowed(start, params)[at]
    last = horizon_end(start, frame["horizon_years"].to_numpy(dtype=float)) - 1
    owa_is_domain = _mail_domain_of(owa, ext, extra_pos, extras)[0]
    bare = (kind == KIND_ORDER.index("root")) | ((kind == KIND_ORDER.index("owa")) & owa_is_domain[at])
    domain_order = np.argsort(np.concatenate([pos, extra_pos]), kind="stable")
    return NameTable(at, kind, names, allowed | publicly_registrable(names, params, last[at]),
                     np.isin(kind, INTERNAL_CODES), bare, frame["dns_api"].to_numpy(dtype=bool)[at],
                     np.concatenate([pos, extra_pos])[domain_order],
                     pa.concat_arrays([ext, extras.cast(pa.string())]).take(domain_order))


def _join(pos: np.ndarray, names: pa.Array, n: int) -> np.ndarray:
    """The names joined with ', ' per position (`pos` ascending), '' where none."""
    offsets = np.concatenate([[0], np.cumsum(np.bincount(pos, minlength=n))])
    return pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), names), ", ").to_numpy(
        zero_copy_only=False)


def names_by_option(table: NameTable, n: int, options: Sequence[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per option, (names on its certificates, names asked for that its CA refuses) per profile: a public CA refuses
    the internal names not issuable on the start date, and an ACME CA validating by HTTP-01 every internal name (none
    leads to Exchange from the internet); the internal CA (internal_ca) refuses none."""
    refused_mask = table.internal & ~table.issuable
    refused = _join(table.pos[refused_mask], table.name.filter(pa.array(refused_mask)), n)
    unvalidated = _unvalidated(table)
    acme_refused = refused
    if unvalidated.any():
        mask = refused_mask | unvalidated
        acme_refused = _join(table.pos[mask], table.name.filter(pa.array(mask)), n)
    chosen = CHOSEN if not unvalidated.any() else {}  # else the ACME certificates carry fewer names than the SAN one
    none_refused = np.full(n, "", dtype=object)
    joined: dict[str, np.ndarray] = {}
    for option in dict.fromkeys(chosen.get(option, option) for option in options):
        joined[option] = _join(*_chosen(table, option), n)
    return {option: (joined[chosen.get(option, option)],
                     none_refused if option == "internal_ca" else acme_refused if option == "acme" else refused)
            for option in options}


CHOSEN = {"acme": "san"}  # options whose certificates carry the names another option's do (unless `_unvalidated`)


def _unvalidated(table: NameTable) -> np.ndarray:
    """The internal names a public CA would issue that an ACME client without a DNS API cannot validate: HTTP-01
    reaches a name only through its public DNS, and none of them leads to Exchange from the internet."""
    return table.internal & table.issuable & ~table.dns01


def _chosen(table: NameTable, option: str) -> tuple[np.ndarray, pa.Array]:
    """The names (positions, names) on an option's certificates, of the names asked for and the profiles' mail
    domains."""
    if option == "internal_ca":
        return table.pos, table.name
    if option == "classic":  # the first mail domain of each profile: its external domain
        first = np.flatnonzero(np.diff(table.domain_pos, prepend=-1) != 0)
        return table.domain_pos[first], pc.binary_join_element_wise("autodiscover.", table.domain.take(first), "")
    if option == "wildcard":  # *.<domain> per mail domain, then each bare domain clients use (*.<domain> misses it)
        at = np.concatenate([table.domain_pos, table.pos[table.bare]])
        order = np.argsort(at, kind="stable")
        wildcards = pc.binary_join_element_wise("*.", table.domain, "")
        return at[order], pa.concat_arrays([wildcards, table.name.filter(pa.array(table.bare))]).take(order)
    if option in ("san", "acme"):
        keep = table.issuable | ~table.internal
        if option == "acme":
            keep = keep & ~_unvalidated(table)
    elif option == "split_site":
        keep = np.isin(table.kind, [KIND_ORDER.index("owa"), KIND_ORDER.index("autodiscover")])
    elif option == "srv_record":
        keep = table.kind == KIND_ORDER.index("owa")
    else:
        raise ValueError(f"unknown option {option}")
    return table.pos[keep], table.name.filter(pa.array(keep))
