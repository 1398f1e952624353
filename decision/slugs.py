"""File-name stems from free text (an organisation's name, a host name), one implementation for the app's downloads,
the appendix and the certificate requests of the commands. No UI or engine imports: any module may use it."""

from __future__ import annotations

import re
import unicodedata

SLUG_MAX = 60  # characters of a file-name stem from free text

# Latin letters with no compatibility decomposition, so NFKD alone leaves them as they are: their usual ASCII spelling
_LATIN = str.maketrans({"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "æ": "ae", "Æ": "AE", "đ": "d", "Đ": "D",
                        "ð": "d", "Ð": "D", "þ": "th", "Þ": "TH", "œ": "oe", "Œ": "OE"})


def _transliterated(char: str) -> str:
    """`char` as ASCII where its compatibility decomposition starts with ASCII (ä → a, ﬁ → fi, Ａ → A); a letter of
    another script (テ, Ω, 가) stays as it is."""
    parts = unicodedata.normalize("NFKD", char)
    return "".join(c for c in parts if c.isascii()) if parts[0].isascii() else char


def slug(text: str, *, ascii_only: bool = False, limit: int = SLUG_MAX, fallback: str = "profile") -> str:
    """A file-name stem from free text, lower case, words joined by '-': 'Ärztekammer Zürich' → 'arztekammer-zurich',
    'Große Søhne' → 'grosse-sohne', '株式会社テスト & Ωmega' → '株式会社テスト-ωmega'; `fallback` when nothing is left.
    Only letters and digits survive (of any script: browsers and file systems take UTF-8 names; `ascii_only`: ASCII
    ones), so no path separator, dot or quote (PowerShell's typographic ones included) can reach a file name; at most
    `limit` characters."""
    text = "".join(map(_transliterated, unicodedata.normalize("NFC", text).translate(_LATIN))).casefold()
    if ascii_only:
        text = text.encode("ascii", "ignore").decode()
    return re.sub(r"[\W_]+", "-", text).strip("-")[:limit].strip("-") or fallback


def file_name(org: str, kind: str, ext: str) -> str:
    """One naming style for every download of the app: '<org slug>-<kind>.<ext>', e.g. 'contoso-inc-options.csv'."""
    return f"{slug(org)}-{kind}.{ext}"
