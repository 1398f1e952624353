"""The seven certificate strategies: one small vectorised rule set each, producing cost components,
trust, reconfiguration and URL-change figures for every profile at once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, fields, is_dataclass
from functools import cache, reduce
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from decision.catalog import CA, STATUSES, Catalog
from decision.dates import horizon_end, purchase_years, years_before
from decision.explain import BIT
from decision.names import name_facts, revoked_lifetime
from decision.parameters import LEGACY_ERAS, Parameters
from decision.renewals import (
    Picked,
    Schedule,
    fraction_interval,
    fresh_validations,
    horizons,
    manual_interval,
    picked,
    read_only,
    schedule,
)
from decision.scoring import TCO_DECIMALS, count_true, first_true
from decision.textops import arrow_text

OPTIONS = ("san", "classic", "split_site", "wildcard", "acme", "internal_ca", "srv_record")
CHEAPEST = -1
ACTIVE = STATUSES.index("active")
LABELS = {
    "san": "SAN / UCC certificate",
    "classic": "Single name (autodiscover only)",
    "split_site": "Split site (own autodiscover site)",
    "wildcard": "Wildcard certificate",
    "acme": "ACME, automated",
    "internal_ca": "Internal CA (AD CS)",
    "srv_record": "SRV-record autodiscover",
}


def _bits(mask: np.ndarray, code: str) -> np.ndarray:
    return np.asarray(mask, dtype=bool) * BIT[code]


def _only(mask: np.ndarray, values: np.ndarray | float) -> np.ndarray:
    """`values` (finite, not below zero) where `mask`, else 0: np.where(mask, values, 0) as a product, as np.where
    branches on every element, many times slower where the mask has no long runs."""
    return values * mask


def _where_bits(mask: np.ndarray, a: np.ndarray | int, b: np.ndarray | int) -> np.ndarray:
    """np.where(mask, a, b) of integers (reason bits, CA indexes) by bit arithmetic: np.where branches on every
    element, many times slower where the mask has no long runs."""
    return b ^ ((a ^ b) & -mask.astype(np.int64))


# the reasons a CA's status on a certificate's first issuance day rules it out, by status code + 1 (-1: not operating)
_STATUS_FAILS = {"distrusted": BIT["ca_distrusted"], "discontinued": BIT["ca_discontinued"]}
FIRST_DAY_FAILS = np.array([BIT["ca_not_operating"], *(_STATUS_FAILS.get(s, 0) for s in STATUSES)], dtype=np.int64)


@dataclass
class Population:
    """Who connects: desktops and mobile devices split by how they are managed."""

    users: np.ndarray
    desktops: np.ndarray
    joined: np.ndarray
    unmanaged_desktops: np.ndarray
    offsite: np.ndarray  # domain-joined computers that set up Outlook outside the office
    inside: np.ndarray
    mobile: np.ndarray
    managed_mobile: np.ndarray
    unmanaged_mobile: np.ndarray
    android: np.ndarray
    unmanaged_ios: np.ndarray
    unmanaged_android: np.ndarray

    @property
    def clients(self) -> np.ndarray:
        return self.desktops + self.mobile


def population(frame: pd.DataFrame, params: Parameters) -> Population:
    desktops = frame["desktops"].to_numpy(dtype=float)
    joined = np.rint(desktops * frame["domain_joined_share"].to_numpy(dtype=float))
    offsite = np.rint(joined * params.value("domain_joined_offsite_share"))
    mobile = frame["mobile_devices"].to_numpy(dtype=float)
    managed = np.rint(mobile * frame["mdm_share"].to_numpy(dtype=float))
    ios_share = params.value("ios_share_of_mobile")
    unmanaged = mobile - managed
    unmanaged_ios = np.rint(unmanaged * ios_share)
    return Population(
        users=frame["users"].to_numpy(dtype=float), desktops=desktops, joined=joined,
        unmanaged_desktops=desktops - joined, offsite=offsite, inside=joined - offsite,
        mobile=mobile, managed_mobile=managed, unmanaged_mobile=unmanaged,
        android=mobile - np.rint(mobile * ios_share), unmanaged_ios=unmanaged_ios,
        unmanaged_android=unmanaged - unmanaged_ios,
    )


@dataclass
class Components:
    """Everything an option costs and asks of clients, per profile; money is derived from these. The arrays are
    read-only (`_assemble`): copy one before changing it."""

    feasible: np.ndarray
    reasons: np.ndarray
    ca: np.ndarray  # index into the catalog, -1 = none
    certificates: np.ndarray
    names: np.ndarray
    schedule: Schedule | Picked
    fee_per_year: np.ndarray  # a year's fee for the names of the first certificate
    later_fee_per_year: np.ndarray  # a year's fee once a renewal may no longer carry the internal names
    purchase_years: np.ndarray
    first_fee_years: np.ndarray  # purchase years at `fee_per_year` (the rest at `later_fee_per_year`)
    setup_minutes: np.ndarray
    issuance_minutes: np.ndarray  # admin minutes per renewal event (all certificates together)
    dcv_names: np.ndarray  # public names validated by hand per validation (dated minutes per name)
    dcv_minutes: np.ndarray  # Σ over the issuances that validate afresh of the dated validation minutes of those names
    names_lost_from: np.ndarray  # day of the first issuance without the internal names (horizon's end or later: none)
    yearly_minutes: np.ndarray
    ip_per_month: np.ndarray
    device_minutes: np.ndarray  # admin time on clients (root installs, reconfiguration)
    client_setup_minutes: np.ndarray  # one-time client-side work (MDM profile)
    user_minutes: np.ndarray  # end users' time (URL change, prompts)
    warned: np.ndarray
    devices: np.ndarray
    users_url_change: np.ndarray
    failed_ca: np.ndarray  # the CA an infeasible option's CA reasons are about, -1 = none or several

    @property
    def issuances(self) -> np.ndarray:
        counts = self.schedule.counts if self.schedule is not None else np.zeros(len(self.feasible))
        return counts * self.certificates

    def year_fees(self, i: int) -> np.ndarray:
        """Fee of each purchase year of profile `i`, for the names its certificate carries."""
        years = np.arange(int(self.purchase_years[i]))
        return np.where(years < self.first_fee_years[i], self.fee_per_year[i], self.later_fee_per_year[i])

    def cost_total(self, years: np.ndarray, admin_rate: np.ndarray) -> np.ndarray:
        """Fees, admin time and public IPs over the horizon (the fees and admin time as `_offer_cost` adds them)."""
        events = self.schedule.counts if self.schedule is not None else 0
        admin = _admin_cost(self.setup_minutes, events, self.issuance_minutes, self.dcv_minutes, self.yearly_minutes,
                            years, admin_rate)
        fees = _fees(self.fee_per_year, self.later_fee_per_year, self.first_fee_years, self.purchase_years)
        return fees + admin + self.ip_per_month * 12.0 * years

    def client_cost(self, admin_rate: np.ndarray, user_rate: np.ndarray) -> np.ndarray:
        return ((self.device_minutes + self.client_setup_minutes) / 60.0 * admin_rate
                + self.user_minutes / 60.0 * user_rate)


def _fees(first: np.ndarray, later: np.ndarray, first_years: np.ndarray, years: np.ndarray,
          later_rows: np.ndarray | None = None) -> np.ndarray:
    """Fees over the horizon: `first_years` of the purchase `years` at the `first` yearly fee, the others at `later`.

    The later years are added at `later_rows` only (the few rows that have any; worked out where not given): fees are
    finite and not below zero, so elsewhere adding their 0 would change no sum.
    """
    fees = first * first_years
    rows = np.flatnonzero(years != first_years) if later_rows is None else later_rows
    fees[rows] += later[rows] * (years[rows] - first_years[rows])
    return fees


def _admin_cost(setup: np.ndarray | float, events: np.ndarray | int, per_event: np.ndarray | float,
                dcv: np.ndarray | float, yearly: np.ndarray | float, years: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """What the admin time over the horizon costs at `rate` an hour: setup, each renewal `events`' minutes, the
    domain validations and the yearly minutes."""
    return (setup + events * per_event + dcv + yearly * years) / 60.0 * rate


def _index_in(values: pd.Series, keys: list[str]) -> np.ndarray:
    """Position of each text value in `keys`, -1 where it is not one of them."""
    found = pc.index_in(arrow_text(values), value_set=pa.array(keys, pa.string()))
    return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def _read_only(value: Any) -> Any:
    """`value`, with every array in it (in tuples, lists and dataclass fields, at any depth) made read-only, so that an
    in-place write to an array handed to several options raises instead of changing the others' figures. Schedules
    are read-only as made: passed over (a walk through their rounds' arrays cost a few ms per batch)."""
    if isinstance(value, np.ndarray):
        read_only(value)
    elif isinstance(value, tuple | list):
        for item in value:
            _read_only(item)
    elif isinstance(value, Schedule | Picked):
        pass
    elif is_dataclass(value) and not isinstance(value, type):
        for name in _field_names(type(value)):
            _read_only(getattr(value, name))
    return value


@cache
def _field_names(kind: type) -> tuple[str, ...]:
    """The field names of a dataclass (dataclasses.fields builds them anew on every call)."""
    return tuple(f.name for f in fields(kind))


def _memo(cache: dict[Hashable, Any], key: Hashable, make: Callable[[], Any]) -> Any:
    """`cache[key]`, set to `make()` made read-only (`_read_only`) the first time: whoever asks for it again gets
    the same arrays, so none may change them in place (copy first)."""
    if key not in cache:
        cache[key] = _read_only(make())
    return cache[key]


class Context:
    """One batch of validated profiles with the facts every option shares.

    `prices` (default none) overrides catalog prices per profile row: {(CA id, price key): array of n
    prices, NaN = the catalog's}. The sensitivity analysis uses it to score many candidate prices in one
    call; every other caller leaves it out.
    """

    def __init__(self, frame: pd.DataFrame, params: Parameters, catalog: Catalog,
                 prices: Mapping[tuple[str, str], np.ndarray] | None = None):
        self.frame, self.params, self.catalog = frame, params, catalog
        self.price_overrides = dict(prices or {})
        self.n = len(frame)
        self.start = frame["start"].to_numpy(dtype=np.int64)
        self.years = frame["horizon_years"].to_numpy(dtype=float)
        self.end = horizon_end(self.start, self.years)
        self.purchase_years = purchase_years(self.years)
        self.facts = name_facts(frame, params, self.end)
        # a year is billed for the names of the certificate in force on its first day: after the internal names
        # are lost, at the later renewals' fee (where none are lost, `later_fee_per_year` equals the first)
        lost = self.facts["internal_lost"] > 0
        self.first_fee_years = self.purchase_years.copy()
        if lost.any():
            self.first_fee_years[lost] = years_before(self.start[lost], self.years[lost],
                                                      self.facts["internal_lost_on"][lost])
        self.later_fee_rows = np.flatnonzero(self.first_fee_years != self.purchase_years)  # the few billed a later fee
        self.pop = population(frame, params)
        self.admin_rate = frame["admin_rate"].to_numpy(dtype=float)
        self.version_facts = {v: params.exchange_versions[v] for v in params.exchange_versions}
        facts = list(self.version_facts.values())
        version = _index_in(frame["exchange_version"], list(self.version_facts))  # validated: always known
        self.sni = np.array([bool(f["sni"]) for f in facts])[version]
        self.modern_era = np.array([f["era"] == "2016" for f in facts])[version]
        # the profile's CA as a catalog index; CHEAPEST (-1) lets the engine pick per option
        self.ca_choice = _index_in(frame["ca"], list(catalog.ids))
        self.flags = {name: frame[name].to_numpy(dtype=bool) for name in
                      ("split_dns", "partner_tls", "internal_ca", "acme_ok", "dns_api", "spare_ip")}
        # with partner TLS the connectors name the certificate by issuer and subject (-TlsCertificateName) from Exchange
        # 2013 on (2007/2010 pick it by FQDN): the first public certificate an option puts in place needs them
        # re-pointed once, and a rotating ACME issuer at every issuance
        self.connectors_repointed = self.flags["partner_tls"] & np.array([f["era"] not in LEGACY_ERAS for f in facts])[version]
        self.first_repointing_minutes = self.connectors_repointed * float(params.value("connector_update_minutes"))
        self._horizons = horizons(self.start, self.end)
        self._everywhere = np.ones(self.n, dtype=bool)
        self._shared: dict[Hashable, Any] = {}
        self.dcv_minutes_param, self.dcv_reuse = params["dcv_minutes_per_name"], params["dcv_reuse_days"]
        # what every CA's offer shares: servers beyond the first get a copy of each certificate
        self.servers_beyond_first = np.maximum(self.facts["n_servers"], 1) - 1
        self.extra_server_minutes = self.servers_beyond_first * float(params.value("extra_server_minutes"))
        self.profile_bits = {
            "acme_not_allowed": _bits(~self.flags["acme_ok"], "acme_not_allowed"),
            "acme_wildcard_needs_dns_api": _bits(~self.flags["dns_api"], "acme_wildcard_needs_dns_api"),
            "multi_server_copy": _bits(self.servers_beyond_first > 0, "multi_server_copy"),
            "email_dcv_ends": _bits(self.end > params.day("email_dcv_end"), "email_dcv_ends"),
        }

    def named(self, index: int) -> np.ndarray:
        """The profiles whose `ca` field names the CA at catalog `index` (cached)."""
        return self.shared(("named", index), lambda: np.flatnonzero(self.ca_choice == index))

    def schedule(self, ca: CA, mode: str, revoked: bool = False, named: int | None = None) -> Schedule:
        """Issuance schedule of one certificate from `ca`, renewed by hand or by ACME; `revoked`: the certificate
        carries internal names, so one still valid on `internal_names_revocation` is replaced before then.

        `named` (the CA's catalog index): only the profiles naming it need the schedule, so unless the whole one is at
        hand it is worked out for their horizons alone (every other profile is given the first one's)."""
        key = ("schedule", ca.kind, ca.lifetime, mode, revoked)
        if named is not None and key not in self._shared:
            key = (*key, named)

        def make() -> Schedule:
            params = self.params  # the schedule keeps `lifetime`: it must not hold on to this context and its caches

            def own(days: np.ndarray) -> np.ndarray:
                return ca.certificate_days(days, params, mode)
            lifetime = revoked_lifetime(own, params) if revoked else own
            interval = (fraction_interval(params.value("acme_renew_fraction")) if mode == "acme"
                        else manual_interval(params.value("manual_renewal_lead_days")))
            distinct = self._horizons if named is None else self._horizons_of(self.named(named))
            return schedule(self.start, self.end, lifetime, interval, distinct)
        return self.shared(key, make)

    def _horizons_of(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The distinct horizons of the profiles at `rows` (some), and per profile the index of its own among them, or
        where it is none of them, of the first."""
        uniq, inverse = self._horizons
        needed = np.unique(inverse.take(rows))
        position = np.zeros(len(uniq), dtype=np.int64)
        position[needed] = np.arange(len(needed))
        return uniq[needed], position.take(inverse)

    def internal_validated(self, mode: str) -> np.ndarray:
        """Where a public SAN certificate issued by hand or by ACME (`mode`) can carry the internal names a public CA
        issues: by hand, a CA validates them by DNS or e-mail; an ACME client without a DNS API validates by HTTP-01,
        which reaches a name only through its public DNS, and none of them leads to Exchange from the internet."""
        return self.flags["dns_api"] if mode == "acme" else self._everywhere

    def revoked(self, mode: str) -> np.ndarray:
        """Where a public SAN certificate issued by hand or by ACME (`mode`) carries internal names that are revoked
        (cached per mode)."""
        return self.shared(("revoked", mode), lambda: self.facts["internal_revoked"] & self.internal_validated(mode))

    def acme_fails(self, ca: CA, wildcard: bool) -> np.ndarray:
        """Why `ca` cannot issue a certificate (a wildcard one if `wildcard`) through ACME, whatever its status, as
        reason bits: ACME not allowed, no DNS API for a wildcard, or the CA's ACME service not yet issuing on the start
        day (cached per day the service started)."""
        def make() -> np.ndarray:
            fails = self.profile_bits["acme_not_allowed"]
            if ca.acme_from is not None:
                fails = fails | self.by_horizon(_bits(~ca.acme_available(self._horizons[0][:, 0]), "ca_not_operating"))
            if wildcard:
                fails = fails | self.profile_bits["acme_wildcard_needs_dns_api"]
            return fails
        return self.shared(("acme fails", ca.acme_from, wildcard), make)

    def revocable_schedule(self, ca: CA, mode: str, named: int | None = None) -> Picked:
        """The schedule of a SAN certificate from a public `ca`: `schedule(ca, mode, revoked=True)` where the profile's
        internal names are revoked, else `schedule(ca, mode)` (cached per schedule pair; `named` as there)."""
        pair = (self.schedule(ca, mode, named=named), self.schedule(ca, mode, revoked=True, named=named))
        return self.shared(("revocable", *map(id, pair)), lambda: Picked(pair, self.revoked(mode).astype(np.int64)))

    def price(self, ca: CA, key: str) -> float | np.ndarray:
        """The CA's price `key` (catalog.PRICE_KEYS), per row where an override is given."""
        override = self.price_overrides.get((ca.id, key))
        return ca.prices[key] if override is None else np.where(np.isnan(override), ca.prices[key], override)

    def dcv_total(self, sched: Schedule | Picked) -> np.ndarray:
        """Σ over a schedule's fresh domain validations (the first issuance, and each one outside the validation reuse
        period `dcv_reuse_days` of the last validation) of the dated validation minutes per name (cached per
        schedule)."""
        if isinstance(sched, Picked):
            return sched.pick([self.dcv_total(s) for s in sched.schedules])
        return self.shared(("dcv", id(sched)), lambda: sched.total(self.dcv_minutes_param.at,
                                                                   fresh_validations(sched.days, self.dcv_reuse.at)))

    def by_horizon(self, values: np.ndarray) -> np.ndarray:
        """Per profile, the value of its distinct horizon (`values`: one per horizon). Cached by content: CAs whose
        status or client-auth dates fall alike on every horizon share one array."""
        return self.shared(("by horizon", values.dtype.str, values.tobytes()), lambda: values.take(self._horizons[1]))

    def status(self, ca: CA) -> tuple[np.ndarray, np.ndarray]:
        """A CA's status code on the first day of each distinct horizon, and per profile the reason bit
        `ca_status_changes` where the status on its last day differs (cached per CA)."""
        def make() -> tuple[np.ndarray, np.ndarray]:
            uniq = self._horizons[0]
            first = ca.status_at(uniq[:, 0])
            return first, self.by_horizon(_bits(first != ca.status_at(uniq[:, 1] - 1), "ca_status_changes"))
        return self.shared(("status", ca.id), make)

    def frequent_manual(self, sched: Schedule | Picked) -> np.ndarray:
        """The reason bit `frequent_manual_renewals` of a schedule renewed by hand (cached per schedule)."""
        if isinstance(sched, Picked):
            return sched.pick([self.frequent_manual(s) for s in sched.schedules])
        return self.shared(("frequent manual", id(sched)), lambda: _bits(
            sched.counts / np.maximum(self.years, 1e-9) > self.params.value("frequent_manual_renewals_per_year"),
            "frequent_manual_renewals"))

    def status_fails(self, ca: CA, sched: Schedule | Picked) -> np.ndarray:
        """Why a CA cannot issue every certificate of `sched`, as reason bits (cached per CA and schedule).

        The CA must be active on each issuance day: on the first (ca_distrusted, ca_discontinued,
        ca_not_operating) and on every renewal within the horizon (ca_*_in_horizon).
        """
        if isinstance(sched, Picked):
            return sched.pick([self.status_fails(ca, s) for s in sched.schedules])
        first_day = self.shared(("status fails", ca.id),
                                lambda: self.by_horizon(FIRST_DAY_FAILS.take(self.status(ca)[0] + 1)))
        ends = [s for s in ("distrusted", "discontinued") if s in ca.statuses]
        if not ends:  # most CAs never stop: no renewal to look at
            return first_day

        def make() -> np.ndarray:
            then_active = self.by_horizon(self.status(ca)[0] == ACTIVE)
            fails = first_day
            for status in ends:
                code = STATUSES.index(status)
                for_good = all(then == status for then in ca.statuses[ca.statuses.index(status):])
                later = sched.ever(lambda days, code=code: ca.status_at(days) == code, for_good) & then_active
                fails = fails | _bits(later, f"ca_{status}_in_horizon")
            return fails
        return self.shared(("status fails", ca.id, id(sched)), make)

    def server_auth_only(self, ca: CA, sched: Schedule | Picked) -> np.ndarray | int:
        """The risk bit `partner_tls_server_auth_only` where a profile with partner TLS gets from `ca` a certificate of
        `sched` without the client-authentication EKU (`CA.client_auth_at`); cached per schedule and client-auth dates
        (most CAs share theirs)."""
        if isinstance(sched, Picked):
            return sched.pick([np.broadcast_to(self.server_auth_only(ca, s), self.n) for s in sched.schedules])
        if not self.flags["partner_tls"].any() or ca.client_auth.all():
            return 0

        def make() -> np.ndarray:
            dropped_for_good = not np.any(ca.client_auth[1:] & ~ca.client_auth[:-1])  # never carried again
            lacking = sched.ever(lambda days: ~ca.client_auth_at(days), dropped_for_good)
            return _bits(lacking & self.flags["partner_tls"], "partner_tls_server_auth_only")
        return self.shared(("server auth only", ca.client_auth_starts.tobytes(), ca.client_auth.tobytes(), id(sched)),
                           make)

    def zeros(self) -> np.ndarray:
        return np.zeros(self.n)

    def shared(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """`make()`, worked out once per batch for the options that need it alike, made read-only (`_memo`). Keys are
        a name, or tuples led by one; an object's id in a key is of an object this cache holds too (the context's
        schedules, `_offer`'s parts), so no other object can take that id while the context lives."""
        return _memo(self._shared, key, make)


# ----------------------------------------------------------------------------- CA selection

@dataclass
class Offer:
    """What one CA would charge and demand for an option, per profile (a number where the same for every profile)."""

    ok: np.ndarray
    fails: np.ndarray
    fee_per_year: np.ndarray
    later_fee_per_year: np.ndarray
    schedule: Schedule | Picked
    issuance_minutes: np.ndarray
    dcv_names: np.ndarray | float  # public names validated by hand per fresh validation
    dcv_minutes: np.ndarray | float  # Σ over the fresh validations of the minutes of those names
    setup_minutes: np.ndarray | float
    yearly_minutes: np.ndarray | float
    reasons: np.ndarray  # but free_certificates, which only the chosen offer's fee tells (_choose)
    sells: bool = True  # whether the CA sells the product at all (else every profile's fails say ca_no_product or ca_private)


def sells(ca: CA, product: str, mode: str) -> bool:
    """Whether a CA sells a product (single | san | wildcard) by hand or through ACME at all."""
    if mode == "acme":
        return ca.acme and (product != "wildcard" or ca.wildcard) and (product != "san" or ca.san)
    return ca.manual and (product == "single" or (product == "san" and ca.san) or (product == "wildcard" and ca.wildcard))


def _offer(ctx: Context, ca: CA, product: str, mode: str, certificates: np.ndarray,
           names: np.ndarray, shared: dict[tuple, Any] | None = None, named: int | None = None) -> Offer:
    """One CA's offer for a product (single | san | wildcard) issued by hand or by ACME; `names` as floats.

    A private CA only ever makes offers for the internal-CA option. `shared` keeps the figures that depend on the
    CA's kind, schedule and issuer rotation only, for the other CAs' offers of the same call (same product, mode,
    certificates and names). `named` (the CA's catalog index): only the figures of the profiles naming it are needed
    (Context.schedule).
    """
    p, n = ctx.params, ctx.n
    shared = {} if shared is None else shared

    def once(key: tuple, make: Callable[[], Any]) -> Any:
        return _memo(shared, key, make)

    def either(*parts: np.ndarray | int) -> np.ndarray:
        """The reason bits of all `parts`, once per batch for the same arrays (kept with it, so no other array can
        take an id of theirs): most parts are the context's, which every option's offers share."""
        held = ctx.shared(("either", *map(id, parts)), lambda: (parts, reduce(np.bitwise_or, parts)))
        return held[1]

    sched: Schedule | Picked = ctx.schedule(ca, mode, named=named)
    validated = ctx.internal_validated(mode)  # else the certificate carries no internal name: none is lost or revoked
    if product == "san" and ca.public and ctx.revoked(mode).any():  # a certificate with internal names is replaced early
        sched = ctx.revocable_schedule(ca, mode, named)
    fails = ctx.status_fails(ca, sched)
    if mode == "acme":
        fails = either(fails, ctx.acme_fails(ca, product == "wildcard"))
    if not sells(ca, product, mode):
        fails = fails | BIT["ca_no_product"]
    if product == "san" and ca.max_names is not None:
        fails = fails | once(("too many names", ca.max_names), lambda: _bits(names > ca.max_names, "too_many_names"))

    if product == "san":
        def san_fee(count: np.ndarray) -> np.ndarray:
            extra = once(("extra names", id(count), ca.included_names), lambda: np.maximum(
                0, count - (ca.included_names if ca.included_names is not None else count)))
            return ctx.price(ca, "san_base") + extra * ctx.price(ca, "san_extra_name")
        fee = san_fee(names)
        # a public certificate no longer carries the internal names a renewal loses; a private one keeps them
        later = (san_fee(once(("kept names",), lambda: names - _only(validated, ctx.facts["internal_lost"])))
                 if ca.public else fee)
    else:
        fee = later = ctx.price(ca, product) * certificates
    if mode == "acme" and ca.acme_free:
        fee = later = np.zeros(n)
    extra_servers = ctx.extra_server_minutes
    if mode == "acme":
        def connector() -> np.ndarray:
            return ctx.connectors_repointed & ca.issuer_rotates
        issuance = once(("acme issuance", ca.issuer_rotates), lambda: (
            certificates * (p.value("automated_renewal_minutes") + extra_servers)
            + connector() * p.value("connector_update_minutes")))
        setup = once(("acme setup", ca.acme_eab, ca.issuer_rotates), lambda: (
            p.value("acme_setup_hours") * 60.0 + ca.acme_eab * p.value("acme_eab_setup_minutes")
            + (0.0 if ca.issuer_rotates else ctx.first_repointing_minutes)))  # a rotating issuer's first issuance counts it
        yearly = p.value("acme_monitoring_hours_per_year") * 60.0
        dcv = dcv_minutes = 0.0
        reasons = ctx.shared(("acme reasons", ca.issuer_rotates), lambda: (
            ctx.profile_bits["multi_server_copy"] | BIT["automated_renewal"] | _bits(connector(), "connector_update")))
    else:
        per_cert = p.value("manual_issuance_minutes") if ca.public else p.value("internal_ca_issuance_minutes")
        issuance = once(("manual issuance", ca.public), lambda: certificates * (per_cert + extra_servers))
        setup = ctx.first_repointing_minutes if ca.public else 0.0  # a private CA's certificate cannot serve hybrid mail
        yearly = 0.0
        # a CA validates control of the public names only: none can validate an internal name it may still carry;
        # a wildcard's validation is of its domain (BR §3.2.2.6), which covers the bare domain it carries too
        dcv = (once(("dcv names",), lambda: (names - ctx.facts["internal_unvalidated"] if product == "san"
                                             else certificates if product == "wildcard" else names))
               if ca.public else 0.0)
        dcv_minutes = once(("dcv minutes", ca.public, id(sched)), lambda: _dcv_minutes(ctx, dcv, sched))
        reasons = ctx.shared(("manual reasons", ca.public, id(sched)), lambda: (  # sched: the context's (Context.schedule)
            ctx.profile_bits["multi_server_copy"] | ctx.frequent_manual(sched)
            | (ctx.profile_bits["email_dcv_ends"] if ca.public else 0)))
    reasons = either(reasons, ctx.status(ca)[1], ctx.server_auth_only(ca, sched))
    return Offer(fails == 0, fails, fee, later, sched, issuance, dcv, dcv_minutes, setup, yearly, reasons,
                 sells(ca, product, mode))


def _dcv_minutes(ctx: Context, dcv_names: np.ndarray | float, sched: Schedule | Picked) -> np.ndarray | float:
    """Σ over an offer's fresh validations of the minutes of the public names each certificate carries (the same
    names every time: the internal names a renewal loses were never validated)."""
    if not np.any(dcv_names):  # ACME and private CAs validate nothing by hand
        return 0.0
    return dcv_names * ctx.dcv_total(sched)


@dataclass
class Choice:
    """The CA chosen per profile for one option (ca = catalog index, -1 when none can serve)."""

    feasible: np.ndarray
    fails: np.ndarray
    ca: np.ndarray
    offer: Offer
    failed_ca: np.ndarray  # where infeasible: the named CA, or the only CA selling the product; else -1


CENTS = 10.0 ** TCO_DECIMALS  # a cost × CENTS, to the nearest integer, is the cost np.round(·, TCO_DECIMALS) keeps
BEYOND = 1e300  # more than any cost in cents: what an offer costs a profile the CA may not serve


def _offer_cost(ctx: Context, offer: Offer, admin_costs: dict[tuple, np.ndarray]) -> np.ndarray:
    """What an offer costs each profile over its horizon: fees and admin time. `admin_costs` keeps the admin time's
    cost per set of figures for the other offers of one choice (most CAs' offers share their figures)."""
    key = (id(offer.schedule), *(value if np.ndim(value) == 0 else id(value) for value in (
        offer.setup_minutes, offer.issuance_minutes, offer.dcv_minutes, offer.yearly_minutes)))
    if key not in admin_costs:
        admin_costs[key] = _admin_cost(offer.setup_minutes, offer.schedule.counts, offer.issuance_minutes,
                                       offer.dcv_minutes, offer.yearly_minutes, ctx.years, ctx.admin_rate)
    cost = _fees(offer.fee_per_year, offer.later_fee_per_year, ctx.first_fee_years, ctx.purchase_years,
                 ctx.later_fee_rows)
    cost += admin_costs[key]  # fees, then the admin time, as Components.cost_total adds them (so the same rounding)
    return cost


def _cents(cost: np.ndarray, allowed: np.ndarray, out: np.ndarray) -> None:
    """A cost rounded to the cent as scoring.tie_keys rounds it (np.round multiplies by CENTS, rounds to the integer
    and divides again: the division keeps distinct cents distinct, so they compare alike), BEYOND any cost where not
    `allowed` (arithmetic, not np.where: that is many times slower on a mask without long runs); into `out`."""
    np.multiply(cost, CENTS, out=out)
    np.rint(out, out=out)
    out += ~allowed * BEYOND


def _choose(ctx: Context, offers: list[tuple[int, Offer]], choice: np.ndarray | None = None) -> Choice:
    """Per profile, the profile's own CA (`choice`: catalog index, default its `ca` field) or the cheapest that can serve.

    CAs whose costs are equal to the cent tie, as options do (scoring.tie_keys): the one needing fewer issuances
    goes first, then the one first in the catalog (an option's certificates are as many with any CA); the chosen
    offer's reasons say so (ca_tie_issuances, ca_tie_order).
    """
    n = ctx.n
    choice = ctx.ca_choice if choice is None else choice
    if not offers:
        fails, failed_ca = _explain_failure([], choice)
        empty = Schedule(np.zeros((1, 0), dtype=np.int64), np.zeros(n, dtype=np.int64))
        z = np.zeros(n)
        return Choice(z > 0, fails, np.full(n, -1), Offer(z > 0, fails, z, z, empty, z, z, z, z, z, np.zeros(n, np.int64)),
                      failed_ca)
    # a CA that sells the product to nobody is never priced: it is shown only where named, and then infeasible
    sellers = [(row, offer) for row, (_, offer) in enumerate(offers) if offer.sells]
    admin_costs: dict[tuple, np.ndarray] = {}
    costs = {row: _offer_cost(ctx, offer, admin_costs) for row, offer in sellers}
    pick, feasible, tie_bits = _cheapest(offers, sellers, costs, choice, n)
    # the reasons matter only where no CA can serve (mostly a few rows): worked out for those alone
    bad = np.flatnonzero(~feasible)
    fails, failed_ca = np.zeros(n, dtype=np.int64), np.full(n, -1, dtype=np.int64)
    if len(bad):
        pick[bad] = _shown_instead(ctx, offers, costs, choice[bad], bad)
        fails[bad], failed_ca[bad] = _explain_failure(
            [(index, offer.sells, offer.fails[bad]) for index, offer in offers], choice[bad])
    ca = np.array([i for i, _ in offers]).take(pick)
    ca[bad] = -1
    merged = _merge(offers, pick, n)
    merged.reasons = merged.reasons | tie_bits | _bits(merged.fee_per_year == 0, "free_certificates")
    return Choice(feasible, fails, ca, merged, failed_ca)


def _cheapest(offers: list[tuple[int, Offer]], sellers: list[tuple[int, Offer]], costs: dict[int, np.ndarray],
              choice: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per profile, the offer (position in `offers`) of the cheapest of the `sellers` (position, offer) allowed to
    serve it, whether there is one, and the tie reason bits (see `_choose`); `costs` by position."""
    pick, tie_bits = np.zeros(n, dtype=np.intp), np.zeros(n, dtype=np.int64)
    if not sellers:
        return pick, np.zeros(n, dtype=bool), tie_bits
    cheapest = choice == CHEAPEST
    cents = np.empty((len(sellers), n))  # sellers × profiles
    for at, (row, offer) in enumerate(sellers):
        _cents(costs[row], offer.ok & (cheapest | (choice == offers[row][0])), cents[at])
    least = cents.min(axis=0)
    feasible = least < BEYOND
    tied = cents == least  # where feasible: the CAs allowed whose cost rounds to the least
    contested = np.flatnonzero((count_true(tied) > 1) & feasible)
    first = first_true(tied)
    if len(contested):
        fewest = _fewest_issuances([offer for _, offer in sellers], tied[:, contested], contested)
        first[contested] = first_true(fewest)  # the first of the fewest issuances
        tie_bits[contested] = _where_bits(count_true(fewest) > 1, BIT["ca_tie_order"], BIT["ca_tie_issuances"])
    return np.array([row for row, _ in sellers], dtype=np.intp).take(first), feasible, tie_bits


def _fewest_issuances(offers: list[Offer], tied: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Of the CAs `tied` on cost (their `offers` × the profiles at `columns`), those needing the fewest issuances."""
    counts = np.vstack([offer.schedule.counts[columns] for offer in offers])
    return tied & (counts == np.where(tied, counts, np.iinfo(np.int64).max).min(axis=0))


def _shown_instead(ctx: Context, offers: list[tuple[int, Offer]], costs: dict[int, np.ndarray], choice: np.ndarray,
                   columns: np.ndarray) -> np.ndarray:
    """Where no CA can serve (the profiles at `columns`, with their `choice`), the offer whose figures are shown: the
    named CA's, else the cheapest seller's (the first offer where none sells)."""
    named = np.zeros(len(ctx.catalog.cas) + 1, dtype=np.int64)  # offer of each catalog index + 1 (0: the first)
    named[[index + 1 for index, _ in offers]] = np.arange(len(offers))
    shown = named.take(choice + 1)
    sellers = list(costs)
    cheapest = np.flatnonzero(choice == CHEAPEST)
    if sellers and len(cheapest):
        at = columns[cheapest]
        shown[cheapest] = np.array(sellers).take(np.argmin(np.vstack([costs[row][at] for row in sellers]), axis=0))
    return shown


def _explain_failure(offers: list[tuple[int, bool, np.ndarray]], choice: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Why no CA can serve: the chosen CA's reasons, or what every product-offering CA has in common.

    `offers`: (catalog index, whether it sells the product, reason bits) of each CA's offer, for the rows of
    `choice`. Also returns the CA those reasons are about: the chosen one, or the only offering CA (-1 when several
    or none).
    """
    sellers = [(index, offer_fails) for index, sells, offer_fails in offers if sells]
    reasons = np.full(len(choice), BIT["no_ca_available"], dtype=np.int64)
    if sellers:
        common = reduce(np.bitwise_and, [offer_fails for _, offer_fails in sellers])
        reasons = np.where(common > 0, common, reasons)
    failed_ca = choice.copy()
    cheapest = choice == CHEAPEST
    failed_ca[cheapest] = sellers[0][0] if len(sellers) == 1 else -1
    named = np.flatnonzero(~cheapest)
    reasons[named] = 0  # a named CA that makes no offer
    for index, _, offer_fails in offers:
        at = named[choice[named] == index]
        reasons[at] = offer_fails[at]
    return reasons, failed_ca


def _merge(offers: list[tuple[int, Offer]], pick: np.ndarray, n: int) -> Offer:
    """Per profile, the figures of the offer at `pick`: those of the offer picked most, with the others' put in where
    they are picked."""
    counts = np.bincount(pick, minlength=len(offers))
    most = int(np.argmax(counts))
    rows = {k: np.flatnonzero(pick == k) for k in np.flatnonzero(counts) if k != most}

    def take(attr: str) -> np.ndarray:
        values = [getattr(o, attr) for _, o in offers]
        if all(values[k] is values[most] for k in rows):  # one array (or number) for every CA picked
            return np.full(n, values[most]) if np.ndim(values[most]) == 0 else values[most]
        out = np.empty(n, dtype=np.result_type(*values))
        out[...] = values[most]
        for k, at in rows.items():
            if values[k] is not values[most]:
                out[at] = values[k] if np.ndim(values[k]) == 0 else values[k][at]
        return out

    return Offer(np.zeros(n), np.zeros(n, dtype=np.int64), take("fee_per_year"), take("later_fee_per_year"),
                 picked([o.schedule for _, o in offers], pick),
                 take("issuance_minutes"), take("dcv_names"), take("dcv_minutes"), take("setup_minutes"),
                 take("yearly_minutes"), take("reasons"))


def _public_option(ctx: Context, product: str, modes: str, certificates: np.ndarray,
                   names: np.ndarray) -> Choice:
    """Offers of every public CA (modes: 'manual', 'acme', or 'auto' = manual if sold by hand else ACME)."""
    offers, names = [], names.astype(float, copy=False)
    shared: dict[tuple, Any] = {}  # what the CAs' offers have in common (see _offer)
    mode = {ca.id: modes if modes != "auto" else ("manual" if ca.manual else "acme") for ca in ctx.catalog.cas}
    sellers = {ca.id for ca in ctx.catalog.cas if ca.public and sells(ca, product, mode[ca.id])}
    for index, ca in enumerate(ctx.catalog.cas):
        if ca.id not in sellers and not len(ctx.named(index)):
            continue  # cannot serve anyone, and nobody asked for it by name
        # where another CA sells the product, one that does not is shown only to the profiles naming it (_choose)
        shown_to_named = ca.id not in sellers and bool(sellers)
        offer = _offer(ctx, ca, product, mode[ca.id], certificates, names, shared, index if shown_to_named else None)
        if not ca.public:
            offer.ok = np.zeros(ctx.n, dtype=bool)
            offer.fails = offer.fails | BIT["ca_private"]
            offer.sells = False
        offers.append((index, offer))
    return _choose(ctx, offers)


def _single_name_choice(ctx: Context) -> Choice:
    """The public CA per profile for one single-name certificate bought by hand: classic and srv_record both need
    it, so it is chosen once per batch."""
    one = np.ones(ctx.n)
    return ctx.shared("single name", lambda: _public_option(ctx, "single", "manual", one, one))


# -------------------------------------------------------------------------------- the options

def _internal_names_effects(ctx: Context, carried: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Internal names asked for but not on the certificate: (reasons, setup minutes, warned clients)."""
    f, p = ctx.facts, ctx.params
    missing = (f["internal_wanted"] > 0) & ~carried
    split = ctx.flags["split_dns"]
    setup = _only(missing & split, p.value("internal_url_change_hours") * 60.0)
    warned = _only(missing & ~split, ctx.pop.inside)
    reasons = _bits(missing & ~split, "internal_names_warn")
    return reasons, setup, warned


def _root_effects(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """The bare domain points at Exchange but is not on the certificate: Outlook outside the domain warns."""
    exposed = ctx.facts["root_extra"]
    warned = _only(exposed, ctx.pop.unmanaged_desktops + ctx.pop.offsite)
    return _bits(exposed, "root_domain_not_covered"), warned


def _required_public(ctx: Context, names: tuple[str, ...]) -> np.ndarray:
    """Whether names clients must use are public, or (under the internal-name rule) allowed at every issuance."""
    return ctx.shared(("required public", names), lambda: reduce(np.logical_and, [ctx.facts[name] for name in names])
                      | ctx.facts["internal_ok_throughout"])


def _assemble(ctx: Context, chosen: Choice, *, certificates: np.ndarray,
              names: np.ndarray, extra_feasible: np.ndarray, extra_fails: np.ndarray, reasons: np.ndarray,
              setup: np.ndarray, warned: np.ndarray, devices: np.ndarray | None = None,
              device_minutes: np.ndarray | None = None, client_setup: np.ndarray | None = None,
              user_minutes: np.ndarray | None = None, url_change: np.ndarray | None = None,
              ip_per_month: np.ndarray | None = None) -> Components:
    """An option's components: the chosen CA's offer, with the option's own figures (zeros where not given). Read-only
    (`_read_only`): many of their arrays are another option's too (the context's, the cached ones), or another
    field's (the zeros); their schedule's are the context's (Context.schedule), read-only already."""
    offer = chosen.offer
    z = ctx.zeros()
    feasible = chosen.feasible & extra_feasible
    return _read_only(Components(
        feasible=feasible,
        reasons=_where_bits(feasible, reasons | offer.reasons, extra_fails | chosen.fails),
        ca=chosen.ca,
        certificates=certificates.astype(float), names=names.astype(float), schedule=offer.schedule,
        fee_per_year=offer.fee_per_year, later_fee_per_year=offer.later_fee_per_year,
        purchase_years=ctx.purchase_years, first_fee_years=ctx.first_fee_years,
        setup_minutes=offer.setup_minutes + setup, issuance_minutes=offer.issuance_minutes,
        dcv_names=offer.dcv_names, dcv_minutes=offer.dcv_minutes, names_lost_from=ctx.facts["internal_lost_on"],
        yearly_minutes=offer.yearly_minutes, ip_per_month=z if ip_per_month is None else ip_per_month,
        device_minutes=z if device_minutes is None else device_minutes,
        client_setup_minutes=z if client_setup is None else client_setup,
        user_minutes=z if user_minutes is None else user_minutes,
        warned=warned, devices=z if devices is None else devices,
        users_url_change=z if url_change is None else url_change,
        failed_ca=_where_bits(feasible, -1, chosen.failed_ca),
    ))


def _multi_name_public(ctx: Context, mode: str) -> Components:
    """san and acme: one certificate with every name a public CA may issue (and the client can validate)."""
    f = ctx.facts
    issued = f["internal_wanted"] - f["internal_blocked"]  # internal names a public CA issues on the first certificate
    validated = ctx.internal_validated(mode)
    names = 1 + f["root_extra"] + f["n_domains"] - f["owa_is_any_autodiscover"] + _only(validated, issued)
    chosen = _public_option(ctx, "san", mode, np.ones(ctx.n), names)
    # names a renewal may not carry are missing for part of the horizon: internal URLs move (or clients warn);
    # a renewal cannot carry them after the ban, or the certificate carrying them is revoked and replaced
    lost, revoked = (f["internal_lost"] > 0) & validated, f["internal_revoked"] & validated
    carried = (f["internal_blocked"] == 0) & ~lost & validated
    internal_reasons, setup, warned = _internal_names_effects(ctx, carried)
    required = _required_public(ctx, ("owa_public", "ext_public", "extras_public"))
    reasons = (internal_reasons | BIT["one_certificate"] | _bits(f["internal_blocked"] > 0, "internal_names_refused")
               | _bits((issued > 0) & ~validated, "internal_names_http01")
               | _bits(lost & ~revoked, "internal_names_ban_in_horizon") | _bits(revoked, "internal_names_revoked_in_horizon"))
    return _assemble(ctx, chosen, certificates=np.ones(ctx.n), names=names, extra_feasible=required,
                     extra_fails=_bits(~required, "required_name_not_issuable"), reasons=reasons,
                     setup=setup, warned=warned)


def option_san(ctx: Context) -> Components:
    return _multi_name_public(ctx, "manual")


def option_acme(ctx: Context) -> Components:
    return _multi_name_public(ctx, "acme")


def _not_carried(ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Single-name and wildcard options never carry internal names (worked out once per batch)."""
    return ctx.shared("not carried", lambda: _not_carried_effects(ctx))


def _not_carried_effects(ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`_not_carried`, worked out: (reasons, setup minutes, warned clients)."""
    f = ctx.facts
    reasons, setup, warned = _internal_names_effects(ctx, np.zeros(ctx.n, dtype=bool))
    reasons |= _bits(f["internal_blocked"] > 0, "internal_names_refused")
    reasons |= _bits((f["internal_wanted"] > 0) & (f["internal_blocked"] == 0), "internal_names_not_carried")
    return reasons, setup, warned


def _single_name_effects(ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Single-name options carry neither the internal names nor the bare domain: (reasons, setup, warned), worked out
    once per batch."""
    def make() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        reasons, setup, warned = _not_carried(ctx)
        root_reasons, root_warned = _root_effects(ctx)
        return reasons | root_reasons, setup, warned + root_warned
    return ctx.shared("single name effects", make)


def option_classic(ctx: Context) -> Components:
    """One single-name certificate for autodiscover.<domain>; OWA/EAS/OA move to that name."""
    f, p, pop = ctx.facts, ctx.params, ctx.pop
    one = np.ones(ctx.n)
    chosen = _single_name_choice(ctx)
    reasons, setup, warned = _single_name_effects(ctx)
    moves = ~f["owa_is_autodiscover"]
    phones = _only(moves, pop.unmanaged_mobile)
    managed = moves & (pop.managed_mobile > 0)
    required = _required_public(ctx, ("ext_public",))
    single_domain = f["n_domains"] == 1
    return _assemble(
        ctx, chosen, certificates=one, names=one, extra_feasible=required & single_domain,
        extra_fails=_bits(~required, "required_name_not_issuable") | _bits(~single_domain, "single_name_multi_domain"),
        reasons=reasons | _bits(moves, "url_change") | _bits(phones > 0, "mobile_reconfigure"),
        setup=setup + _only(moves, p.value("url_change_admin_hours") * 60.0),
        warned=warned, devices=phones,
        device_minutes=phones * p.value("mobile_reconfigure_minutes"),
        client_setup=_only(managed, p.value("mdm_profile_setup_hours") * 60.0),
        user_minutes=_only(moves, pop.users * p.value("url_change_minutes_per_user")),
        url_change=_only(moves, pop.users),
    )


def option_split_site(ctx: Context) -> Components:
    """A single-name certificate for OWA on the default web site, and one for each other autodiscover name on a
    second web site. An autodiscover name that is the OWA host stays on the default site: where it is the only one
    (a single mail domain), there is nothing to split off and the single-name option serves it as it is."""
    f, p = ctx.facts, ctx.params
    sites = f["n_domains"] - f["owa_is_any_autodiscover"]  # the autodiscover names beside OWA's, a second site each
    split = sites > 0
    certificates = 1 + sites
    chosen = _public_option(ctx, "single", "manual", certificates, certificates)
    reasons, setup, warned = _single_name_effects(ctx)
    # the second site, and its copy on every further client access server (each serves autodiscover)
    setup = setup + _only(split, ctx.servers_beyond_first * p.value("split_site_extra_server_setup_hours") * 60.0)
    setup = setup + _only(split, p.value("split_site_setup_hours") * 60.0)
    ip_per_month, ip_bits = _own_ip_bindings(ctx, sites.astype(float))
    required = _required_public(ctx, ("owa_public", "ext_public", "extras_public"))
    reasons = reasons | ip_bits | _bits(ctx.modern_era, "second_site_unconfirmed")
    return _assemble(ctx, chosen, certificates=certificates, names=certificates, extra_feasible=required & split,
                     extra_fails=_bits(~required, "required_name_not_issuable") | _bits(~split, "nothing_to_split"),
                     reasons=reasons, setup=setup, warned=warned, ip_per_month=ip_per_month)


def _own_ip_bindings(ctx: Context, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Monthly cost of the public IPs `count` web sites or bindings beside the default one need, and the reason bits
    that say how they are served: with SNI by host name on the existing IP; without, one IP each, the spare one
    serving the first."""
    spare, wanted = ctx.flags["spare_ip"], count > 0
    ips = _only(~ctx.sni, np.maximum(count - spare, 0.0))
    bits = (_bits(ips > 0, "extra_ip") | _bits(ctx.sni & wanted, "sni_binding")
            | _bits(~ctx.sni & spare & wanted, "spare_ip_used"))
    return ips * ctx.params.value("extra_ip_per_month"), bits


def option_wildcard(ctx: Context) -> Components:
    """`*.<domain>` per registered domain, and each bare domain clients use (the OWA host, or root_on_exchange):
    `*.<domain>` does not cover it, so it is a name of its own, which CAs sell with a wildcard at no extra price.

    IIS serves one certificate per binding: the one covering the OWA host is the site's own, each further domain's
    gets host-name bindings with SNI, or without SNI a binding on a public IP of its own.
    """
    f, p, pop = ctx.facts, ctx.params, ctx.pop
    certificates = f["n_domains"].astype(float)
    names = certificates + f["wildcard_bare"]
    chosen = _public_option(ctx, "wildcard", "auto", certificates, names)
    reasons, setup, warned = _not_carried(ctx)
    old_share = p["wildcard_unsupported_mobile_share"].at(ctx.start)
    old = np.rint(pop.mobile * old_share)
    required = _required_public(ctx, ("ext_public", "extras_public"))
    ip_per_month, ip_bits = _own_ip_bindings(ctx, certificates - 1.0)  # each further domain's certificate
    reasons = reasons | BIT["wildcard_pop_imap"] | _bits(old > 0, "wildcard_old_clients") | ip_bits
    covered = f["owa_under_wildcard"]
    return _assemble(ctx, chosen, certificates=certificates, names=names, extra_feasible=required & covered,
                     extra_fails=_bits(~required, "required_name_not_issuable") | _bits(~covered, "owa_not_under_wildcard"),
                     reasons=reasons, setup=setup + p.value("wildcard_pop_imap_minutes"), warned=warned + old,
                     ip_per_month=ip_per_month)


def option_internal_ca(ctx: Context) -> Components:
    """A SAN certificate from the organisation's AD CS CA, with internal names if wanted."""
    f, p, pop = ctx.facts, ctx.params, ctx.pop
    names = 1 + f["root_extra"] + f["n_domains"] - f["owa_is_any_autodiscover"] + f["internal_wanted"]
    private = [(i, ca) for i, ca in enumerate(ctx.catalog.cas) if ca.kind == "private"]
    one = np.ones(ctx.n)
    offers = [(i, _offer(ctx, ca, "san", "manual", one, names.astype(float))) for i, ca in private[:1]]
    # the profile's `ca` field chooses among public CAs; the internal option always uses its own CA
    chosen = _choose(ctx, offers, np.full(ctx.n, CHEAPEST))
    has_ca, partner = ctx.flags["internal_ca"], ctx.flags["partner_tls"]
    devices = pop.unmanaged_desktops + pop.unmanaged_mobile
    android_refuse = np.rint(pop.android * (1.0 - p.value("android_user_ca_trusted_share")))
    reasons = (BIT["long_private_lifetime"] | BIT["one_certificate"] | _bits(f["internal_wanted"] > 0, "carries_internal_names")
               | _bits(devices > 0, "root_install") | _bits(pop.android > 0, "android_may_ignore_root"))
    return _assemble(
        ctx, chosen, certificates=one, names=names, extra_feasible=has_ca & ~partner,
        extra_fails=_bits(~has_ca, "no_internal_ca") | _bits(partner, "partner_tls_needs_public"),
        reasons=reasons, setup=ctx.zeros(), warned=android_refuse, devices=devices,
        device_minutes=(pop.unmanaged_desktops * p.value("root_install_minutes_unmanaged_desktop")
                        + pop.unmanaged_ios * p.value("root_install_minutes_ios")
                        + pop.unmanaged_android * p.value("root_install_minutes_android")),
        client_setup=_only(pop.managed_mobile > 0, p.value("mdm_profile_setup_hours") * 60.0),
    )


def option_srv_record(ctx: Context) -> Components:
    """A single-name certificate for the OWA host; autodiscover through _autodiscover._tcp SRV records, one for each
    mail domain whose autodiscover name is not the OWA host (Outlook finds that one by its A record). Where none is
    left (the OWA host is autodiscover.<domain> of the only mail domain) nothing needs redirecting: the single-name
    option serves it as it is."""
    f, p, pop = ctx.facts, ctx.params, ctx.pop
    one = np.ones(ctx.n)
    chosen = _single_name_choice(ctx)
    reasons, setup, warned = _single_name_effects(ctx)
    prompts = pop.unmanaged_desktops + pop.offsite
    supported = ctx.start >= p.day("srv_autodiscover_from")
    required = _required_public(ctx, ("owa_public",))
    records = f["n_domains"] - f["owa_is_any_autodiscover"]
    redirects = records > 0
    return _assemble(
        ctx, chosen, certificates=one, names=one, extra_feasible=supported & required & redirects,
        extra_fails=(_bits(~supported, "srv_not_supported_yet") | _bits(~required, "required_name_not_issuable")
                     | _bits(~redirects, "nothing_to_redirect")),
        reasons=reasons | _bits(prompts > 0, "redirect_prompt"),
        setup=setup + records * p.value("srv_setup_minutes"), warned=warned,
        devices=prompts, user_minutes=prompts * p.value("redirect_prompt_minutes"),
    )


RULES = {
    "san": option_san, "classic": option_classic, "split_site": option_split_site,
    "wildcard": option_wildcard, "acme": option_acme, "internal_ca": option_internal_ca,
    "srv_record": option_srv_record,
}


def evaluate_options(ctx: Context) -> dict[str, Components]:
    """Every option's components for every profile."""
    return {name: RULES[name](ctx) for name in OPTIONS}

