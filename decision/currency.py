"""Which currency each amount is in, and what to tell the reader when they differ.

A profile's `currency` is the currency of the rates it gives (admin_rate, user_rate) and of every total. The CA
catalog's prices and the parameters' amounts (the extra IP price, the default rates) are in the currency their file
declares. Nothing is converted: when the currencies differ, the totals add amounts of both, and these sentences
say so wherever totals are shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from decision.catalog import Catalog
from decision.parameters import Parameters

RATES = ("admin_rate", "user_rate")  # profile fields whose default is a parameter in the parameters' currency
RATE_WORDS = {"admin_rate": "an administrator's hourly rate", "user_rate": "an end user's hourly rate"}


def same(a: str, b: str) -> bool:
    """Whether two currency labels name the same currency ('eur' is EUR)."""
    return a.strip().upper() == b.strip().upper()


class Source(NamedTuple):
    """Amounts of one data file: what they are, the file, the option that gives another, and their currency."""

    what: str
    file: str
    option: str
    currency: str


def _sources(params: Parameters, catalog: Catalog) -> list[Source]:
    return [Source("the CA prices", "a CA catalog", "--catalog", catalog.currency),
            Source("the extra public IP price", "a parameters file", "--parameters", params.currency)]


def foreign_prices(currency: str, params: Parameters, catalog: Catalog) -> list[Source]:
    """The data files' amounts that are not in `currency`."""
    return [s for s in _sources(params, catalog) if not same(currency, s.currency)]


def default_rates(profile: Mapping[str, Any], params: Parameters) -> list[str]:
    """The rates of a profile that are the parameters' defaults while the profile's currency is another: an
    estimate in the parameters' currency, used in the profile's without conversion."""
    if same(str(profile["currency"]), params.currency):
        return []
    return [name for name in RATES if float(profile[name]) == float(params.value(name))]


def _named(sources: list[Source]) -> str:
    """'the CA prices and the extra public IP price (USD)', or each with its own currency when they differ."""
    if len({s.currency for s in sources}) == 1:
        return f"{' and '.join(s.what for s in sources)} ({sources[0].currency})"
    return " and ".join(f"{s.what} ({s.currency})" for s in sources)


def mixed_sentence(currency: str, params: Parameters, catalog: Catalog, *, how_to: bool = True) -> str | None:
    """What the reader must know when the data files' prices are in another currency than the profile's, or None;
    with `how_to`, how the tool's user prices them in `currency` (data files, command-line options): the app and the
    command line say it, the client's appendix does not."""
    foreign = foreign_prices(currency, params, catalog)
    if not foreign:
        return None
    text = (f"Money is shown in {currency}, but {_named(foreign)} {'is' if len(foreign) == 1 else 'are'} added as "
            "given, not converted, so the costs mix currencies.")
    if how_to:
        text += (f" To cost in {currency} throughout, use {' and '.join(s.file for s in foreign)} priced in {currency} "
                 f"(on the command line: {' '.join(f'{s.option} FILE' for s in foreign)}, declaring currency: "
                 f"{currency}).")
    return text


def rates_sentence(profile: Mapping[str, Any], params: Parameters) -> str | None:
    """What the reader must know when a rate is the default estimated in another currency, or None."""
    rates = default_rates(profile, params)
    if not rates:
        return None
    shown = " and ".join(f"{RATE_WORDS[name]} ({float(profile[name]):g})" for name in rates)
    shown = shown[0].upper() + shown[1:]
    one = len(rates) == 1
    return (f"{shown} {'equals' if one else 'equal'} the default {'rate' if one else 'rates'}, estimated in "
            f"{params.currency} per hour and used as {profile['currency']} without conversion: give the "
            f"organisation's own {'rate' if one else 'rates'} in {profile['currency']}.")


def warnings(profile: Mapping[str, Any], params: Parameters, catalog: Catalog, *, how_to: bool = True) -> list[str]:
    """The currency warnings of one profile (none when every amount is in its currency); `how_to` as in
    `mixed_sentence`."""
    return [s for s in (mixed_sentence(str(profile["currency"]), params, catalog, how_to=how_to),
                        rates_sentence(profile, params)) if s]


def totals_note(currencies: Iterable[str], params: Parameters, catalog: Catalog) -> str | None:
    """The note under a batch's totals per currency when some of them add the data files' amounts unconverted."""
    mixed = [c for c in currencies if foreign_prices(c, params, catalog)]
    if not mixed:
        return None
    rates = (f", and the default {' / '.join(RATES)} ({params.currency} per hour) where a row gives none,"
             if any(not same(c, params.currency) for c in mixed) else "")
    return (f"note: the {', '.join(mixed)} totals add {_named(_sources(params, catalog))}{rates} as given, not "
            "converted; to total in one currency, score with --catalog and --parameters files that declare it "
            "(currency: CODE)")
