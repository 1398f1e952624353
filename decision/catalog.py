"""The CA-capability table (data/cas.yaml): load, check, look up, and dated status."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from decision.dates import from_day, to_day
from decision.errors import InputError, Issue
from decision.parameters import DATA, Parameters, currency_code, default_parameters, stepwise
from decision.safeyaml import load_yaml_file

CATALOG_FILE = DATA / "cas.yaml"
STATUSES = ("active", "distrusted", "discontinued")
PRICE_KEYS = ("single", "san_base", "san_extra_name", "wildcard")


def public_lifetime(days: np.ndarray, params: Parameters) -> np.ndarray:
    """Validity of a certificate a public CA sells by hand on each day: the commercial term (`commercial_term_days`)
    under the public cap, re-issued within the term when the cap is shorter."""
    return np.minimum(float(params.value("commercial_term_days")), params["public_max_lifetime_days"].at(days))


@dataclass(frozen=True)
class CA:
    """One certification authority's capabilities, prices and dated status."""

    id: str
    name: str
    kind: str  # public | private
    status_starts: np.ndarray
    statuses: tuple[str, ...]
    manual: bool
    acme: bool
    acme_free: bool
    acme_eab: bool
    acme_from: int | None
    san: bool
    max_names: int | None
    included_names: int | None
    wildcard: bool
    lifetime: int | str | None  # days, a parameter name, or None for the public maximum
    issuer_rotates: bool
    client_auth_starts: np.ndarray  # days the client-authentication EKU comes or goes (`client_auth_eku`)
    client_auth: np.ndarray  # bool: carried before the first of those days (a private CA: always), then from each
    client_auth_estimated: tuple[bool, ...]  # per change: its source is an estimate
    prices: dict[str, float]  # a year of the term, in `currency`
    currency: str  # the catalog's (ISO 4217)
    price_source: str
    as_of: str
    sources: tuple[str, ...]
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @property
    def public(self) -> bool:
        return self.kind == "public"

    @property
    def short_name(self) -> str:
        """The name without its parenthesised brands, as sentences use it: 'Sectigo', not 'Sectigo (Comodo)'."""
        return self.name.split(" (")[0]

    @cached_property
    def _codes(self) -> np.ndarray:
        """-1 (before the CA existed), then the STATUSES index of each dated status."""
        return np.array([-1, *(STATUSES.index(s) for s in self.statuses)], dtype=np.int64)

    def status_at(self, days: np.ndarray) -> np.ndarray:
        """Status code per day: index into STATUSES, or -1 before the CA existed."""
        return stepwise(self.status_starts, self._codes, days)

    def status_on(self, day: int) -> str:
        code = int(self.status_at(np.array([day]))[0])
        return "not yet operating" if code < 0 else STATUSES[code]

    def client_auth_at(self, days: np.ndarray) -> np.ndarray:
        """Whether a certificate issued on each day carries the TLS Client Authentication EKU."""
        return stepwise(self.client_auth_starts, self.client_auth, days)

    def acme_available(self, days: np.ndarray) -> np.ndarray:
        return np.full(np.shape(days), False) if not self.acme else days >= (self.acme_from or 0)

    def lifetime_days(self, days: np.ndarray, params: Parameters) -> np.ndarray:
        """Validity of a certificate issued on each day: the CA's own limit under the public maximum."""
        days = np.asarray(days)
        if self.kind == "private":
            return np.full(days.shape, float(self.lifetime))
        cap = params["public_max_lifetime_days"].at(days)
        if self.lifetime is None:
            return cap
        own = params[self.lifetime].at(days) if isinstance(self.lifetime, str) else float(self.lifetime)
        return np.minimum(cap, own)

    def certificate_days(self, days: np.ndarray, params: Parameters, mode: str = "manual") -> np.ndarray:
        """Validity of a certificate issued on each day by hand or through ACME (mode 'manual' | 'acme').

        A public CA sells by hand what any does (`public_lifetime`), under its own limit.
        """
        life = self.lifetime_days(days, params)
        if mode == "manual" and self.public:
            return np.minimum(public_lifetime(days, params), life)
        return life

    def lifetime_text(self, params: Parameters, start: int, end: int) -> str:
        """The lifetime as a reader wants it: days; a dated parameter as its value on `start` and its changes before
        `end` ('90 days; 64 from 2027-02-10'); or 'public maximum'."""
        if self.lifetime is None:
            return "public maximum"
        if not isinstance(self.lifetime, str):
            return f"{self.lifetime:g} days"
        p = params[self.lifetime]
        later = [f"{value:g} from {from_day(s).isoformat()}" for s, value in zip(p.starts, p.values, strict=True)
                 if start < s < end]
        return "; ".join([f"{p.on(start):g} days", *later])

    def client_auth_text(self) -> str:
        """Whether certificates carry the client-authentication EKU, with each dated change and estimate marked:
        'yes; no from 2026-05-15' (a private CA: what its template sets)."""
        if not self.public:
            return "as its template sets"
        changes = [f"{'yes' if value else 'no'} from {from_day(int(day)).isoformat()}" + (" (estimate)" if estimate else "")
                   for day, value, estimate in zip(self.client_auth_starts, self.client_auth[1:],
                                                   self.client_auth_estimated, strict=True)]
        return "; ".join(["yes" if self.client_auth[0] else "no", *changes])

    def record(self, day: int | None = None) -> dict[str, Any]:
        """A flat row for assumptions tables and the app's CA panel."""
        return {
            "ca": self.id, "name": self.name, "kind": self.kind,
            "status": self.status_on(day) if day is not None else self.statuses[-1],
            "manual orders": self.manual, "acme": self.acme, "acme free": self.acme and self.acme_free,
            "san": self.san, "max names": self.max_names, "included names": self.included_names,
            "wildcard": self.wildcard,
            "lifetime": self.lifetime if self.lifetime is not None else "public maximum",
            "client-auth EKU": self.client_auth_text(),
            **{f"price {k} ({self.currency}/yr)": v for k, v in self.prices.items()},
            "price source": self.price_source, "as_of": self.as_of, "sources": " ; ".join(self.sources),
        }


@dataclass(frozen=True)
class Catalog:
    """All CAs of one catalog file, in file order."""

    path: str
    as_of: str
    cas: tuple[CA, ...]
    currency: str  # ISO 4217 code of every price; prices are used as given, never converted

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.cas)

    def __getitem__(self, ca_id: str) -> CA:
        for ca in self.cas:
            if ca.id == ca_id:
                return ca
        raise KeyError(ca_id)

    def records(self, ca_ids: list[str], params: Parameters, start: int, end: int) -> list[dict[str, Any]]:
        """Rows of an assumptions table for a horizon: each CA's status on `start`, its lifetime in days."""
        return [{**self[c].record(start), "lifetime": self[c].lifetime_text(params, start, end)} for c in ca_ids]


def _check_lifetime(lifetime: Any, kind: str, bad: Callable[[str], InputError]) -> None:
    """`lifetime_days` is null or a parameter name (public CAs only), or a finite number of days no shorter than the shipped
    parameters' least certificate lifetime (`public_max_lifetime_days.minimum`): 0 or 0.5 crashed the renewal
    calendar, NaN gave a silent result."""
    if kind == "public" and (lifetime is None or isinstance(lifetime, str)):
        return
    least, what = default_parameters()["public_max_lifetime_days"].minimum or (1.0, "a certificate lifetime")
    shown = f"'{lifetime}'" if isinstance(lifetime, str) else str(lifetime)
    if not isinstance(lifetime, (int, float)) or isinstance(lifetime, bool) or not np.isfinite(lifetime):
        kinds = ("null, a parameter name or a number of days" if kind == "public"
                 else "a number of days (the validity of its certificate template)")
        raise bad(f"lifetime_days must be {kinds} (got {shown})")
    if lifetime < least:
        raise bad(f"lifetime_days: {what} must be at least {least:g} days (got {shown})")


def _client_auth(raw: dict[str, Any], bad: Callable[[str], InputError]
                 ) -> tuple[np.ndarray, np.ndarray, tuple[bool, ...]]:
    """`client_auth_eku` of a public CA as (days of change, carried before the first then from each, whether each
    change's source is an estimate): true | false, or a dated list of {from: DATE, value: true|false, source: TEXT}
    in date order, each change with its source."""
    value = raw.get("client_auth_eku")
    form = "true, false or a list of {from: DATE, value: true|false, source: TEXT}, in date order"
    if raw["kind"] == "private":
        if "client_auth_eku" in raw:
            raise bad("client_auth_eku is for public CAs only: a private CA's certificates carry what its template sets")
        return np.zeros(0, dtype=np.int64), np.array([True]), ()
    if isinstance(value, bool):
        return np.zeros(0, dtype=np.int64), np.array([value]), ()
    if not isinstance(value, list) or not value:
        raise bad(f"client_auth_eku must be {form} (got {'nothing' if value is None else repr(value)})")
    for k, entry in enumerate(value, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("value"), bool):
            raise bad(f"client_auth_eku entry {k} must be {{from: DATE, value: true|false, source: TEXT}} (got {entry!r})")
        if not str(entry.get("source") or "").strip():
            raise bad(f"client_auth_eku entry {k} needs a source (a URL, or 'estimate' and why)")
    try:
        starts = np.array([to_day(e["from"]) for e in value], dtype=np.int64)
    except (KeyError, TypeError, ValueError):
        raise bad(f"client_auth_eku must be {form}: an entry's 'from' is not a date") from None
    if np.any(np.diff(starts) <= 0):
        raise bad(f"client_auth_eku must be {form}: the dates are not in order")
    estimated = tuple(str(e["source"]).strip().lower().startswith("estimate") for e in value)
    return starts, np.array([True, *(e["value"] for e in value)]), estimated


def _parse_ca(raw: Any, path: str, params: Parameters | None, currency: str) -> CA:
    ident = str(raw.get("id", "")) if isinstance(raw, dict) else ""

    def bad(reason: str) -> InputError:
        return InputError(Issue(path, 0, f"cas.{ident or '?'}", reason))

    if not isinstance(raw, dict) or not ident:
        raise bad("each CA needs an 'id'")
    for key in ("name", "kind", "status", "prices", "as_of", "sources", "san", "acme"):
        if key not in raw:
            raise bad(f"missing '{key}'")
    if raw["kind"] not in ("public", "private"):
        raise bad("kind must be public or private")
    try:
        starts = np.array([to_day(s["from"]) for s in raw["status"]], dtype=np.int64)
        statuses = tuple(str(s["value"]) for s in raw["status"])
    except (KeyError, TypeError, ValueError):
        raise bad("status must be a list of {from: DATE, value: STATUS}") from None
    if any(s not in STATUSES for s in statuses) or np.any(np.diff(starts) <= 0):
        raise bad(f"status values must be one of {STATUSES}, in date order")
    prices = raw["prices"]
    try:
        price_values = {k: float(prices[k]) for k in PRICE_KEYS}
    except (KeyError, TypeError, ValueError):
        raise bad(f"prices need numbers for {PRICE_KEYS}") from None
    if any(v < 0 for v in price_values.values()) or not str(prices.get("source", "")).strip():
        raise bad("prices must be >= 0 and carry a source (or 'estimate')")
    acme, san = raw["acme"] or {}, raw["san"] or {}
    for key in ("max_names", "included_names"):
        count = san.get(key) if isinstance(san, dict) else None
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
            raise bad(f"san.{key} must be a whole number of names, or null for no limit (got {count!r})")
    lifetime = raw.get("lifetime_days")
    if isinstance(lifetime, str) and params is not None and lifetime not in params.items:
        raise bad(f"lifetime_days names an unknown parameter '{lifetime}'")
    _check_lifetime(lifetime, raw["kind"], bad)
    client_auth_starts, client_auth, client_auth_estimated = _client_auth(raw, bad)
    return CA(
        id=ident, name=str(raw["name"]), kind=raw["kind"], status_starts=starts, statuses=statuses,
        manual=bool(raw.get("manual", False)), acme=bool(acme.get("supported", False)),
        acme_free=bool(acme.get("free", False)), acme_eab=bool(acme.get("eab", False)),
        acme_from=to_day(acme["from"]) if acme.get("from") else None,
        san=bool(san.get("supported", False)), max_names=san.get("max_names"),
        included_names=san.get("included_names"), wildcard=bool(raw.get("wildcard", False)),
        lifetime=lifetime, issuer_rotates=bool(raw.get("issuer_rotates", False)),
        client_auth_starts=client_auth_starts, client_auth=client_auth, client_auth_estimated=client_auth_estimated,
        prices=price_values, currency=currency, price_source=str(prices["source"]), as_of=str(raw["as_of"]),
        sources=tuple(str(s) for s in raw["sources"]), raw=raw,
    )


def load_catalog(path: Path | str = CATALOG_FILE, params: Parameters | None = None) -> Catalog:
    """Load and check a CA catalog; problems are InputErrors naming the CA row."""
    path = Path(path)
    raw = load_yaml_file(path, shipped=path.resolve() == CATALOG_FILE.resolve())
    if not isinstance(raw, dict) or not isinstance(raw.get("cas"), list):
        raise InputError(Issue(str(path), 0, "cas", "missing the 'cas' list"))
    currency = currency_code(raw, str(path), "the CA prices")
    cas = tuple(_parse_ca(row, str(path), params, currency) for row in raw["cas"])
    ids = [c.id for c in cas]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise InputError(Issue(str(path), 0, "cas", f"duplicate CA ids {dupes}"))
    if "cheapest" in ids:
        raise InputError(Issue(str(path), 0, "cas", "'cheapest' is reserved and cannot be a CA id"))
    return Catalog(str(path), str(raw.get("as_of", "")), cas, currency)


@lru_cache(maxsize=8)
def default_catalog(path: str = str(CATALOG_FILE)) -> Catalog:
    """The shipped catalog, loaded once per process."""
    return load_catalog(path, default_parameters())
