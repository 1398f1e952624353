"""Dated parameters from data/parameters.yaml: the value of each rule on any date, vectorised."""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from decision import iso4217
from decision.dates import to_day
from decision.errors import InputError, Issue
from decision.safeyaml import load_yaml_file

DATA = Path(__file__).resolve().parent.parent / "data"
PARAMETERS_FILE = DATA / "parameters.yaml"
EXCHANGE_VERSIONS = ("2007", "2010", "2013", "2016", "2019", "SE")
# syntax eras before Exchange 2013: no -Server on some certificate cmdlets, no connector -TlsCertificateName,
# no front-end/back-end split of the client access services
LEGACY_ERAS = ("2007", "2010")


RUN = 64  # days from which `stepwise` looks for them in order (fewer: looking costs more than it saves)


def stepwise(breaks: np.ndarray, values: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Per day, `values[i]` where `i` of the `breaks` (sorted; one fewer than the values) fall on or before it. Days in
    order (a run of days, as the renewal schedules look their days up) are cut at the breaks instead of each looked up
    among them: a quarter of the time."""
    days = np.asarray(days)
    if days.ndim == 1 and len(days) > RUN and bool(np.all(days[1:] >= days[:-1])):
        cuts = np.zeros(len(breaks) + 2, dtype=np.intp)  # where each value's days begin, and the end
        cuts[1:-1] = np.searchsorted(days, breaks, side="left")
        cuts[-1] = len(days)
        return np.repeat(values, cuts[1:] - cuts[:-1])
    return values.take(np.searchsorted(breaks, days, side="right"))


@dataclass(frozen=True)
class Parameter:
    """One parameter: a constant or a dated schedule, with unit and source."""

    name: str
    description: str
    unit: str
    source: str
    starts: np.ndarray  # first day each value applies (sorted); a constant has one start
    values: tuple[Any, ...]
    minimum: tuple[float, str] | None = None  # the least value the rules work with, and what the value is
    maximum: tuple[float, str] | None = None  # the greatest, likewise

    @property
    def estimate(self) -> bool:
        return self.source.strip().lower().startswith("estimate")

    def on(self, day: int) -> Any:
        """The value in force on one day."""
        i = int(np.searchsorted(self.starts, day, side="right")) - 1
        return self.values[max(i, 0)]

    def at(self, days: np.ndarray) -> np.ndarray:
        """The values in force on many days (numeric parameters); the first also before its start."""
        if len(self.values) == 1:
            return np.full(np.shape(days), float(self.values[0]))
        return stepwise(self.starts[1:], self.numbers, days)

    @cached_property
    def numbers(self) -> np.ndarray:
        return np.asarray(self.values, dtype=float)


@dataclass(frozen=True)
class Parameters:
    """All parameters and Exchange version facts of one parameters file."""

    path: str
    as_of: str
    items: dict[str, Parameter]
    exchange_versions: dict[str, dict[str, Any]]
    currency: str  # ISO 4217 code of every amount of money in the file (extra IP price, default rates)

    def __getitem__(self, name: str) -> Parameter:
        return self.items[name]

    def value(self, name: str, day: int | None = None) -> Any:
        """A constant parameter's value, or a dated one on `day` (default: its latest value)."""
        p = self.items[name]
        return p.values[-1] if day is None else p.on(day)

    def day(self, name: str) -> int:
        """A date parameter as days since 1970-01-01."""
        return to_day(self.value(name))

    def records(self) -> list[dict[str, Any]]:
        """One row per parameter value, for the assumptions table."""
        rows = []
        for p in self.items.values():
            dated = len(p.values) > 1 or p.starts[0] > np.iinfo(np.int64).min
            for start, value in zip(p.starts, p.values, strict=True):
                rows.append({
                    "parameter": p.name,
                    "value": value,
                    "unit": p.unit,
                    "from": _iso(start) if dated else "",
                    "source": p.source,
                    "description": p.description,
                    "as_of": self.as_of,
                })
        return rows


def _iso(day: np.integer) -> str:
    return (dt.date(1970, 1, 1) + dt.timedelta(days=int(day))).isoformat()


def _parse_parameter(name: str, raw: Any, source_file: str) -> Parameter:
    def bad(reason: str) -> InputError:
        return InputError(Issue(source_file, 0, f"parameters.{name}", reason))

    if not isinstance(raw, dict):
        raise bad("must be a mapping with unit, source and value or values")
    for key in ("unit", "source", "description"):
        if not str(raw.get(key, "")).strip():
            raise bad(f"missing '{key}' (a source may be the word 'estimate')")
    if ("value" in raw) == ("values" in raw):
        raise bad("give exactly one of 'value' or 'values'")
    if "value" in raw:
        starts, values = np.array([np.iinfo(np.int64).min]), (raw["value"],)
    else:
        entries = raw["values"]
        if not isinstance(entries, list) or not entries:
            raise bad("'values' must be a non-empty list of {from, value}")
        try:
            starts = np.array([to_day(e["from"]) for e in entries], dtype=np.int64)
            values = tuple(e["value"] for e in entries)
        except (KeyError, TypeError, ValueError):
            raise bad("each entry of 'values' needs a date 'from' and a 'value'") from None
        if np.any(np.diff(starts) <= 0):
            raise bad("'values' must be in increasing 'from' order")
    return Parameter(name, str(raw["description"]).strip(), str(raw["unit"]), str(raw["source"]).strip(),
                     starts, values, _bound(raw, "minimum", bad), _bound(raw, "maximum", bad))


def _bound(raw: dict, key: str, bad: Callable[[str], InputError]) -> tuple[float, str] | None:
    """A declared `minimum` or `maximum`: {value: NUMBER, what: TEXT} → (value, what), or None."""
    bound = raw.get(key)
    if bound is None:
        return None
    value = bound.get("value") if isinstance(bound, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not str(bound.get("what", "")).strip():
        raise bad(f"'{key}' must be {{value: NUMBER, what: TEXT}}")
    return float(value), str(bound["what"]).strip()


def currency_code(raw: Mapping[str, Any], path: str, what: str) -> str:
    """A data file's `currency`: the ISO 4217 code of `what` (its amounts of money), which are never converted."""
    value = raw.get("currency")
    if not (isinstance(value, str) and iso4217.is_code(value)):
        got = "missing" if value is None else f"got {value!r}"
        raise InputError(Issue(path, 0, "currency", f"must be the ISO 4217 code of {what}, such as USD ({got})"))
    return value


def _in_currency(items: dict[str, Parameter], currency: str, path: str) -> None:
    """A unit written in a currency ('EUR per hour') must be in the file's: its amount is used as given."""
    problems = [Issue(path, 0, f"parameters.{p.name}", f"the unit '{p.unit}' is not in the file's currency {currency} "
                                                       f"(amounts are never converted: give it in {currency})")
                for p in items.values()
                if iso4217.is_code(word := p.unit.split(" ", 1)[0]) and word != currency]
    if problems:
        raise InputError(problems)


def load_parameters(path: Path | str = PARAMETERS_FILE) -> Parameters:
    """Load and check a parameters file; every problem is an InputError naming the entry."""
    path = Path(path)
    shipped = path.resolve() == PARAMETERS_FILE.resolve()
    raw = load_yaml_file(path, shipped=shipped)
    if not isinstance(raw, dict) or not isinstance(raw.get("parameters"), dict):
        raise InputError(Issue(str(path), 0, "parameters", "missing the 'parameters' mapping"))
    items = {name: _parse_parameter(name, body, str(path)) for name, body in raw["parameters"].items()}
    currency = currency_code(raw, str(path), "the amounts of money in the file")
    _in_currency(items, currency, str(path))
    versions = {str(k): v for k, v in (raw.get("exchange_versions") or {}).items()}
    missing = [v for v in EXCHANGE_VERSIONS if v not in versions]
    if missing:
        raise InputError(Issue(str(path), 0, "exchange_versions", f"missing versions {missing}"))
    for version, facts in versions.items():
        for key in ("era", "sni", "services", "enable", "client_access_cmdlet", "source", "released", "end_of_support",
                    "windows_server", "windows_source", "coexists_with", "coexistence_source"):
            if key not in facts:
                raise InputError(Issue(str(path), 0, f"exchange_versions.{version}", f"missing '{key}'"))
        if not isinstance(facts["coexists_with"], list) or not set(map(str, facts["coexists_with"])) <= set(versions):
            raise InputError(Issue(str(path), 0, f"exchange_versions.{version}.coexists_with",
                                   f"must be a list of the versions {sorted(versions)} (got {facts['coexists_with']!r})"))
        facts["coexists_with"] = [str(v) for v in facts["coexists_with"]]  # 2016 unquoted is the version "2016"
        for key, empty in (("released", False), ("end_of_support", True)):
            if not isinstance(facts[key], dt.date) and not (empty and facts[key] is None):
                raise InputError(Issue(str(path), 0, f"exchange_versions.{version}.{key}",
                                       f"must be a date (YYYY-MM-DD){' or null' if empty else ''} (got {facts[key]!r})"))
    loaded = Parameters(str(path), str(raw.get("as_of", "")), items, versions, currency)
    if not shipped:
        _check_like(loaded, default_parameters())
    return loaded


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, dt.date):
        return "date"
    return "list" if isinstance(value, list) else "text"


def _check_like(loaded: Parameters, shipped: Parameters) -> None:
    """Another parameters file must give every parameter the rules use, each value of the kind the shipped file
    gives (a number, a date ...), and numbers as finite as theirs, not below zero, within the shipped `minimum` and
    `maximum`."""
    problems = [Issue(loaded.path, 0, f"parameters.{name}", f"missing (the rules use it: {p.description})")
                for name, p in shipped.items.items() if name not in loaded.items]
    for name, p in loaded.items.items():
        if name not in shipped.items:
            continue
        kind = _kind(shipped[name].values[0])
        for value in p.values:
            shown = f"'{value}'" if isinstance(value, str) else str(value)
            if _kind(value) != kind:
                problems.append(Issue(loaded.path, 0, f"parameters.{name}", f"must be a {kind} ({p.unit}) (got {shown})"))
            elif kind == "number" and not (np.isfinite(value) and value >= min(0.0, *shipped[name].values)):
                problems.append(Issue(loaded.path, 0, f"parameters.{name}", f"must be a finite number, at least 0 "
                                                                             f"({p.unit}) (got {shown})"))
            elif kind == "number":
                for bound, beyond, word in ((shipped[name].minimum, operator.lt, "least"),
                                            (shipped[name].maximum, operator.gt, "most")):
                    if bound and beyond(value, bound[0]):
                        (limit, what), unit = bound, shipped[name].unit
                        problems.append(Issue(loaded.path, 0, f"parameters.{name}",
                                              f"{what} must be at {word} {limit:g} ({unit}) (got {shown})"))
    if problems:
        raise InputError(problems)


@lru_cache(maxsize=8)
def default_parameters(path: str = str(PARAMETERS_FILE)) -> Parameters:
    """The shipped parameters, loaded once per process."""
    return load_parameters(path)
