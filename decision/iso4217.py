"""ISO 4217 currency codes: the one check of a currency, for the data files' and the profiles' alike.

The list of codes is ISO 4217's as pycountry keeps it (from Debian's iso-codes, updated with each amendment).
"""

from __future__ import annotations

import difflib

import pycountry

CODES = frozenset(c.alpha_3 for c in pycountry.currencies)
_NAMES = {c.name.upper(): c.alpha_3 for c in pycountry.currencies}
# Signs and words written for a currency instead of its code (symbols as Unicode CLDR gives them): each with the codes
# it may stand for; a sign several currencies use is named as such, not read as one of them.
SIGNS: dict[str, tuple[str, ...]] = {
    "€": ("EUR",), "EURO": ("EUR",), "EUROS": ("EUR",), "US$": ("USD",), "USD$": ("USD",), "U$S": ("USD",),
    "$": ("USD", "CAD", "AUD", "NZD", "MXN", "SGD", "HKD"), "DOLLAR": ("USD", "CAD", "AUD", "NZD", "SGD", "HKD"),
    "C$": ("CAD",), "CA$": ("CAD",), "CAN$": ("CAD",), "A$": ("AUD",), "AU$": ("AUD",), "NZ$": ("NZD",),
    "HK$": ("HKD",), "S$": ("SGD",), "MX$": ("MXN",), "R$": ("BRL",), "£": ("GBP",), "UK£": ("GBP",),
    "POUND": ("GBP", "EGP"), "STERLING": ("GBP",), "¥": ("JPY", "CNY"), "JP¥": ("JPY",), "CN¥": ("CNY",),
    "RMB": ("CNY",), "₹": ("INR",), "₽": ("RUB",), "₩": ("KRW",), "₺": ("TRY",), "₪": ("ILS",), "₴": ("UAH",),
    "₱": ("PHP",), "฿": ("THB",), "₫": ("VND",), "₦": ("NGN",), "ZŁ": ("PLN",), "KČ": ("CZK",), "FT": ("HUF",),
    "KR": ("SEK", "NOK", "DKK", "ISK"), "FR": ("CHF",), "SFR": ("CHF",),
}


def is_code(value: str) -> bool:
    """Whether `value` is an ISO 4217 code, as written (capitals, no spaces)."""
    return value in CODES


def names_a_currency(value: str) -> bool:
    """Whether `value` is a currency's code, sign or word (`SIGNS`) in any case: 'usd', '$', 'R$', 'kr', 'Fr.'."""
    key = "".join(value.upper().split()).rstrip(".")
    return key in CODES or key in SIGNS


def hint(value: str) -> str:
    """What a currency that is not an ISO 4217 code most likely means, as a ' (did you mean …?)' hint or a note
    that its sign stands for several currencies; '' when nothing is close."""
    key = " ".join(value.upper().split())
    meant = SIGNS.get(key) or SIGNS.get(key.replace(" ", "")) or ((_NAMES[key],) if key in _NAMES else ())
    if not meant:
        close = difflib.get_close_matches(key, list(_NAMES), n=1, cutoff=0.8)  # 'EUROS', 'US DOLLARS'
        meant = (_NAMES[close[0]],) if close else ()
    if len(meant) > 1:
        return f": '{value}' stands for several currencies (such as {', '.join(meant)}): give the code of yours"
    return f" (did you mean '{meant[0]}'?)" if meant else ""
