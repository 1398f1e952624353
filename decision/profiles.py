"""The organisation profile: one schema, loaders for YAML/CSV/XLSX/Parquet, vectorised validation.

Every front end (CLI, batch, app, appendix) builds profiles through `validate`, so field names,
ranges, defaults and error messages are defined once, here.
"""

from __future__ import annotations

import datetime as dt
import decimal
import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import idna
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from decision import iso4217
from decision.catalog import Catalog
from decision.dates import from_day, to_day
from decision.errors import InputError, Issue
from decision.limits import LIMITS
from decision.names import public_suffixes
from decision.parameters import EXCHANGE_VERSIONS, Parameters
from decision.safeyaml import load_yaml_text, read_text
from decision.tables import (
    CSV_SUFFIXES,
    SLASHED_DATE,
    XLSX_SUFFIXES,
    YAML_SUFFIXES,
    decimal_marks,
    heading_key,
    iso_dates,
    plain_numbers,
    table_parts,
    unsure_numbers,
)
from decision.textops import arrow_text, cell_bytes, join_by_row, text_offsets

TEXT = pd.StringDtype("pyarrow")  # arrow-backed text: vectorised string kernels (RE2) instead of Python loops
STR = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' "str": the validated profiles' text columns
GROUPS = ("organisation and names", "clients", "infrastructure", "economics", "weights")
MAX_COUNT = 10_000_000
MAX_TEXT = 200


def one_line_problem(text: str) -> str | None:
    """Why `text` cannot be a one-line value given on the command line (an organisation or firm name), or None."""
    if len(text) > MAX_TEXT or re.search(r"[\x00-\x1f\x7f]", text):
        return f"one line of at most {MAX_TEXT} characters, without control characters"
    return None

DATE_SERIAL = r"\d{5}(?:\.\d+)?"  # how a spreadsheet shows a date in a General cell: days since 1900 (1927-2173)
WEIGHT_KEYS = ("cost", "trust", "reconfiguration", "url_change")


@dataclass(frozen=True)
class Field:
    """One profile field: its type, range, default, unit and help text."""

    name: str
    kind: str
    group: str
    help: str
    unit: str = ""
    default: Any = None  # a constant; "param:NAME" = from parameters; "rule:..." = derived
    required: bool = False
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    capitals: bool = False  # a code, read in capitals: 'de' is the country DE
    percent: bool = False  # '40%' reads 0.4, as a share's does (weights: relative, so 40% weighs as 0.4 and 40)


FIELDS: tuple[Field, ...] = (
    Field("org", "text", GROUPS[0], "Organisation name, as it should appear in reports.", required=True),
    Field("id", "text", GROUPS[0], "Optional identifier of this profile in a batch (defaults to the organisation name).",
          default="rule:org"),
    Field("exchange_version", "choice", GROUPS[0], "Exchange release on the client access servers.",
          default="SE", choices=EXCHANGE_VERSIONS),
    Field("start", "date", GROUPS[0], "First day of the planning horizon; the certificate rules in force on each date apply.",
          default="rule:today", low=to_day("1995-01-01"), high=to_day("2100-12-31")),  # public CAs' era, to far ahead
    Field("horizon_years", "number", GROUPS[0],
          "Length of the planning horizon; whole years end on the start's anniversary.", unit="years",
          default=3.0, low=0.25, high=10),
    Field("external_domain", "dns", GROUPS[0], "Primary SMTP / public domain, e.g. contoso.com.", required=True),
    Field("extra_domains", "dns_list", GROUPS[0], "Other accepted domains whose users need autodiscover (separate with ;).",
          default=""),
    Field("internal_domain", "dns", GROUPS[0], "Active Directory DNS domain, e.g. contoso.local (empty if none).",
          default=""),
    Field("servers", "host_list", GROUPS[0], "NetBIOS names of the client access servers, e.g. SERVER01 (separate with ;).",
          default=""),
    Field("owa_host", "dns", GROUPS[0], "Name users and devices use for OWA, ActiveSync and Outlook Anywhere.",
          default="rule:mail.<external_domain>"),
    Field("internal_names", "bool", GROUPS[0],
          "Wants internal names (internal domain, server FQDNs, NetBIOS names) on the certificate, as in 2007.",
          default=False),
    Field("root_on_exchange", "bool", GROUPS[0],
          "The bare domain (https://contoso.com) points at Exchange, so it belongs on the certificate.", default=False),
    Field("country", "text", GROUPS[0],
          "Two-letter ISO 3166 code of the organisation's country (US, DE, GB ...), the C= of certificate requests.",
          default="", capitals=True),
    Field("users", "integer", GROUPS[1], "Mailbox users.", unit="users", required=True, low=0, high=MAX_COUNT),
    Field("desktops", "integer", GROUPS[1], "Outlook desktop clients (defaults to the number of users).",
          unit="clients", default="rule:users", low=0, high=MAX_COUNT),
    Field("domain_joined_share", "share", GROUPS[1], "Share of desktops joined to the AD domain.", unit="share",
          default=0.9, low=0, high=1),
    Field("mobile_devices", "integer", GROUPS[1], "Phones and tablets using ActiveSync.", unit="devices",
          default=0, low=0, high=MAX_COUNT),
    Field("mdm_share", "share", GROUPS[1], "Share of mobile devices managed by MDM.", unit="share",
          default=0.0, low=0, high=1),
    Field("split_dns", "bool", GROUPS[2], "Internal DNS can answer the external names, so internal URLs can use them.",
          default=True),
    Field("partner_tls", "bool", GROUPS[2],
          "SMTP TLS with outside partners or Exchange Online (hybrid) needs a publicly trusted certificate.",
          default=False),
    Field("internal_ca", "bool", GROUPS[2], "An AD CS enterprise CA exists.", default=False),
    Field("acme_ok", "bool", GROUPS[2],
          "Policy and network allow an ACME client on the server (HTTP-01 on port 80, or DNS-01).", default=False),
    Field("dns_api", "bool", GROUPS[2], "The DNS host has an API (DNS-01; needed for ACME wildcards).", default=False),
    Field("spare_ip", "bool", GROUPS[2], "A spare public IP is available for a second web site.", default=False),
    Field("ca", "ca", GROUPS[3], "Which CA's prices and limits to use for public options, or 'cheapest'.",
          default="cheapest"),
    Field("currency", "currency", GROUPS[3],
          "ISO 4217 code (USD, EUR, GBP ...) of the money amounts: the rates given here and the totals. The CA "
          "catalog's prices and the parameters' amounts are not converted (a warning says when their currency is "
          "another).", default="USD"),
    Field("admin_rate", "number", GROUPS[3], "Loaded hourly cost of an administrator.", unit="money/hour",
          default="param:admin_rate", low=0, high=10_000),
    Field("user_rate", "number", GROUPS[3], "Loaded hourly cost of an end user's time.", unit="money/hour",
          default="param:user_rate", low=0, high=10_000),
    Field("w_cost", "number", GROUPS[4], "Weight of direct cost over the horizon.", unit="weight",
          default="param:w_cost", low=0, high=1000, percent=True),
    Field("w_trust", "number", GROUPS[4], "Weight of clients connecting without a certificate warning.", unit="weight",
          default="param:w_trust", low=0, high=1000, percent=True),
    Field("w_reconfiguration", "number", GROUPS[4], "Weight of client devices someone must touch.", unit="weight",
          default="param:w_reconfiguration", low=0, high=1000, percent=True),
    Field("w_url_change", "number", GROUPS[4], "Weight of users who must learn a new address.", unit="weight",
          default="param:w_url_change", low=0, high=1000, percent=True),
)
FIELD_BY_NAME = {f.name: f for f in FIELDS}
FIELD_NAMES = tuple(FIELD_BY_NAME)
NUMERIC_KINDS = ("number", "integer", "share", "bool")
LIST_KINDS = ("dns_list", "host_list")
# what separates a list's items (any run of these characters): ASCII white space too between domain names (none
# can hold it), not between server names, where "NW EX01" is one bad name (Windows computer names hold no spaces),
# not the two servers NW and EX01
LIST_SEPARATORS = {"dns_list": ";,\t\n\f\r ", "host_list": ";,\r\n"}
# Text-like fields are read from CSV as text, so '007' stays '007'; numbers and booleans are left to the parser.
TEXT_COLUMNS = {f.name: "str" for f in FIELDS if f.kind not in NUMERIC_KINDS}
WEIGHT_FIELDS = tuple(f"w_{k}" for k in WEIGHT_KEYS)
BOOL_WORDS = {"true": True, "yes": True, "y": True, "1": True, "on": True,
              "false": False, "no": False, "n": False, "0": False, "off": False,
              # TRUE / FALSE as Excel writes them into CSV in German, French, Spanish, Italian, Dutch, Portuguese
              "wahr": True, "vrai": True, "verdadero": True, "vero": True, "waar": True, "verdadeiro": True,
              "falsch": False, "faux": False, "falso": False, "onwaar": False}
_LABEL = r"(?:xn--[a-z0-9-]{1,59}|[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)"
DNS_PATTERN = rf"{_LABEL}(?:\.{_LABEL})*"
NETBIOS_PATTERN = r"[a-z0-9](?:[a-z0-9-]{0,13}[a-z0-9])?"
_CURRENCY_CODES = pa.array(sorted(iso4217.CODES), pa.string())


@dataclass
class ProfileSet:
    """Validated profiles (one row each, typed, defaults filled) and the rows that were rejected."""

    frame: pd.DataFrame
    issues: list[Issue]
    rows_in: int

    @property
    def rejected_rows(self) -> int:
        return len({(i.file, i.row) for i in self.issues if i.row > 0})


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name a misspelt `name` most likely meant, or None."""
    close = difflib.get_close_matches(name.lower().strip(), list(known), n=1, cutoff=0.6)
    return close[0] if close else None


def suggest(name: str, known: Iterable[str]) -> str:
    """A ' (did you mean …?)' hint for a misspelt name, or ''."""
    meant = closest(name, known)
    return f" (did you mean '{meant}'?)" if meant else ""


# ------------------------------------------------------------------------------------ loading

class _Reported:
    """A YAML value of the wrong shape (a list or mapping in a one-value field), already reported: validation reads
    it as empty without reporting a required field empty as well. Told by its type, so a pickled copy is one too."""

    def __str__(self) -> str:
        return ""


def _flatten_mapping(item: Mapping[str, Any], source: str, row: int) -> tuple[dict[str, Any], list[Issue]]:
    """One YAML mapping → flat field dict (weights mapping expanded, lists joined)."""
    flat: dict[str, Any] = {}
    issues: list[Issue] = []
    for key, value in item.items():
        key = str(key)
        if key == "weights":
            if not isinstance(value, Mapping):
                issues.append(Issue(source, row, "weights", "must be a mapping like {cost: 0.4, trust: 0.3}"))
                continue
            for wk, wv in value.items():
                if str(wk) not in WEIGHT_KEYS:
                    issues.append(Issue(source, row, f"weights.{wk}",
                                        f"unknown weight{suggest(str(wk), WEIGHT_KEYS)}; known: {', '.join(WEIGHT_KEYS)}"))
                elif f"w_{wk}" in item:
                    issues.append(Issue(source, row, f"w_{wk}", "given twice (in weights and as a field)"))
                else:
                    flat[f"w_{wk}"] = wv
        elif isinstance(value, list):
            spec = FIELD_BY_NAME.get(key)
            if spec is not None and spec.kind not in LIST_KINDS:
                issues.append(Issue(source, row, key, "must be a single value, not a list"))
                flat[key] = _Reported()
            elif any(isinstance(v, (list, Mapping)) for v in value):
                issues.append(Issue(source, row, key, "must be a list of names"))
                flat[key] = _Reported() if spec is not None else ""
            else:
                flat[key] = ";".join("" if v is None else str(v) for v in value)
        elif isinstance(value, Mapping):
            issues.append(Issue(source, row, key, "must be a single value, not a mapping"))
            flat[key] = _Reported() if key in FIELD_BY_NAME else ""
        else:
            flat[key] = value
    return flat, issues


def frame_from_mappings(items: list[Any], source: str) -> tuple[pd.DataFrame, list[Issue]]:
    """Profiles given as mappings (YAML, JSON, the app) → raw frame + structural issues."""
    rows: list[dict[str, Any]] = []
    issues: list[Issue] = []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            issues.append(Issue(source, n, "", "each profile must be a mapping of field: value"))
            rows.append({})
            continue
        flat, problems = _flatten_mapping(item, source, n)
        rows.append(flat)
        issues.extend(problems)
    # let pandas type clean columns (ints, bools) so they take the fast path; mixed columns stay object
    try:
        frame = pd.DataFrame(rows) if rows else pd.DataFrame(columns=["org"], dtype=object)
    except (UnicodeError, pa.ArrowException):  # text no encoding can hold (a lone surrogate): validation names it
        frame = pd.DataFrame(rows, dtype=object)
    frame.index = pd.RangeIndex(len(rows))
    frame.attrs["rows"] = np.arange(1, len(rows) + 1)
    return frame, issues


def read_yaml_profiles(text: str, source: str) -> tuple[pd.DataFrame, list[Issue]]:
    """YAML text holding one profile mapping or a list of them."""
    data = load_yaml_text(text, source, profiles=True)
    if data is None:
        raise InputError(Issue(source, 0, "", "the file is empty"))
    if isinstance(data, Mapping) and isinstance(data.get("profiles"), list):
        data = data["profiles"]
    items = data if isinstance(data, list) else [data]
    if not items:
        raise InputError(Issue(source, 0, "", "the file holds no profile"))
    return frame_from_mappings(items, source)


def read_table(path: Path, *, nrows: int | None = None) -> pd.DataFrame:
    """Read a CSV, XLSX or Parquet table of profiles (`decision.tables`); rows numbered as a spreadsheet shows them.

    At most `nrows` rows are read; without it a table longer than the `table_max_rows` limit is refused (score
    it with `python -m decision score`, which streams). Rows that cannot become profiles (a CSV line with too
    many fields) are not in the frame but in `frame.attrs["unread"]`, as Issues with their row numbers.
    """
    limit = nrows or LIMITS["table_max_rows"]
    parts = []
    count = 0
    for part in table_parts(path, min(limit + 1, 50_000), TEXT_COLUMNS):
        parts.append(part)
        count += len(part.raw) + len(part.unread)
        if count > limit:
            if nrows:
                break
            raise InputError(Issue(str(path), 0, "", f"more than {limit:,} rows; score a table this long with "
                                                     "`python -m decision score`, which reads it in parts"))
    for part in parts:  # each part's own row positions: pandas compares the parts' attrs to keep them, and fails on
        part.raw.attrs.pop("rows", None)  # arrays of unequal length (the frame's are set below)
    frame = pd.concat([p.raw for p in parts], ignore_index=True) if len(parts) > 1 else parts[0].raw
    rows = np.concatenate([p.rows for p in parts])
    unread = [i for p in parts for i in p.unread]
    if nrows and len(frame) > nrows:
        frame, rows = frame.iloc[:nrows], rows[:nrows]
        unread = [i for i in unread if i.row < rows[-1]]
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.attrs = {**parts[0].raw.attrs, "rows": rows, "unread": unread}  # and a CSV's separator
    return frame


def read_profiles_file(path: Path | str) -> tuple[pd.DataFrame, list[Issue]]:
    """Any supported profile file → raw frame + structural issues."""
    path = Path(path)
    if path.suffix.lower() in YAML_SUFFIXES:
        return read_yaml_profiles(read_text(path), str(path))
    if path.suffix.lower() not in (*CSV_SUFFIXES, *XLSX_SUFFIXES, ".parquet"):
        raise InputError(Issue(str(path), 0, "", f"unsupported file type '{path.suffix.lower()}' "
                                                 "(use .yaml, .csv, .xlsx or .parquet)"))
    if not path.is_file():
        reason = "a folder, not a file" if path.is_dir() else "cannot read file: No such file or directory"
        raise InputError(Issue(str(path), 0, "", reason))
    frame = read_table(path)
    return frame, frame.attrs.pop("unread")


# --------------------------------------------------------------------------------- validation

class _Checker:
    """Collects issues per row while fields are coerced column by column."""

    def __init__(self, source: str, rows: np.ndarray):
        self.source = source
        self.rows = rows
        self.bad = np.zeros(len(rows), dtype=bool)
        self.issues: list[Issue] = []

    def flag(self, mask: np.ndarray, field: str, reason: str, values: pd.Series | np.ndarray | None = None) -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            positions = np.flatnonzero(mask)
            shown: Any = [""] * len(positions)
            if values is not None:  # the cells flagged, as objects (not the whole column)
                picked = values.iloc[positions] if isinstance(values, pd.Series) else np.asarray(values)[positions]
                shown = np.asarray(picked, dtype=object)
            self.flag_at(positions, field, [reason] * len(positions), shown)

    def flag_at(self, positions: np.ndarray, field: str, reasons: list[str], shown: Iterable[Any]) -> None:
        """Flag rows by position, each with its own reason and offending value."""
        self.bad[positions] = True
        for pos, reason, value in zip(positions, reasons, shown, strict=True):
            text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)[:80]
            self.issues.append(Issue(self.source, int(self.rows[pos]), field, reason, text))


def _stripped(col: pd.Series) -> pd.Series | None:
    """The cells as stripped text, computed once per column (None for number and true/false columns)."""
    if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
        return None
    if isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow":  # a table's text ('str'): its cells
        text = pd.Series(pd.arrays.ArrowStringArray(pa.array(col.array)), index=col.index, name=col.name)  # wrapped,
    else:                                                                           # in a third of astype's time
        text = col.astype(TEXT)
    return text if _unpadded(text) else text.str.strip()


def _unpadded(text: pd.Series) -> bool:
    """Whether no cell starts or ends with white space, told by two bytes per cell: ASCII text whose cells start and
    end with bytes above the space (ASCII's white space is the space and control characters)."""
    for found in cell_bytes(_chunks(text)):
        if found is None:
            return False
        data, offsets = found
        starts, ends = offsets[:-1], offsets[1:]
        filled = ends > starts
        if (data.max(initial=0) >= 0x80 or (data[starts[filled]] <= 0x20).any()
                or (data[ends[filled] - 1] <= 0x20).any()):
            return False
    return True


def _is_blank(col: pd.Series, stripped: pd.Series | None) -> np.ndarray:
    """Which cells are missing, or empty once stripped."""
    if stripped is None:  # numbers, true/false: numpy's by numpy (pandas' isna costs ten times as much)
        if _misses_none(col):
            return np.zeros(len(col), dtype=bool)
        numpy = isinstance(col.dtype, np.dtype)  # else nullable ones (Parquet, YAML)
        return np.isnan(col.to_numpy()) if numpy and col.dtype.kind in "fc" else col.isna().to_numpy()
    return np.concatenate([_empty_cells(chunk) for chunk in _chunks(stripped).chunks] or [np.zeros(0, dtype=bool)])


def _empty_cells(text: pa.Array) -> np.ndarray:
    """Which cells of arrow text are missing or '', read off its offsets (a kernel's mask costs five times as much)."""
    if not len(text):
        return np.zeros(0, dtype=bool)
    offsets = text_offsets(text)
    empty = offsets[1:] == offsets[:-1]
    return empty | _flags(text.is_null()) if text.null_count else empty


NUMBER_KINDS = ("number", "integer", "share")


def _numbers(col: pd.Series, stripped: pd.Series | None, blank: np.ndarray, percent: bool = False,
             separator: str | None = None, decimal: np.ndarray | None = None,
             whole: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column → float array, a mask of cells that are not numbers and one of cells that read as two numbers; with
    `percent`, '93%' reads 0.93; text from a CSV file is read as a spreadsheet with its `separator` writes numbers
    (`tables.plain_numbers`; a tab file's by the decimal mark its rows show, `decimal`, and `whole`: a count)."""
    unsure = np.zeros(len(col), dtype=bool)
    if pd.api.types.is_bool_dtype(col.dtype):
        return np.full(len(col), np.nan), ~blank, unsure
    if stripped is None:
        return _numpy_copy(col, float, np.nan), np.zeros(len(col), dtype=bool), unsure
    # as text, a boolean reads "True"/"False" and is rejected like any other word
    text = stripped.str.replace("_", "", regex=False)
    if separator:
        text = plain_numbers(text, separator, decimal, whole)
    if separator == "\t" and not whole and decimal is not None:
        unsure = unsure_numbers(text, decimal)
    values = pd.to_numeric(_fractions(text) if percent else text, errors="coerce")
    values = values.to_numpy(dtype=float, na_value=np.nan)
    values[unsure] = np.nan
    return values, ~blank & np.isnan(values) & ~unsure, unsure


_PERCENT = "^([+-]?)([0-9]*)(?:[.]([0-9]*))?[\\s\u00a0\u202f]*%$"  # sign, whole part, decimals; French '93 %' too


def _fractions(text: pd.Series) -> pd.Series:
    """Percentages ('93%', '9.5 %') as the fractions they stand for, written out ('0.93', '0.095'): moving the
    decimal point in the text gives exactly the number the fraction written out would, where dividing by 100
    may not; other cells unchanged. Only cells with a '%' are matched (pandas runs the pattern cell by cell)."""
    marked = text.str.contains("%", regex=False, na=False).to_numpy(dtype=bool)
    if not marked.any():
        return text
    parts = text[marked].str.extract(_PERCENT)
    digits = (parts[1].fillna("") + parts[2].fillna("")).str.len().gt(0).to_numpy(dtype=bool)
    found = np.zeros(len(text), dtype=bool)
    found[marked] = parts[1].notna().to_numpy(dtype=bool) & digits
    if not found.any():
        return text
    whole = parts[1].str.zfill(3)
    written = parts[0] + whole.str[:-2] + "." + whole.str[-2:] + parts[2].fillna("")
    return text.where(~found, written)


def _misses_none(col: pd.Series) -> bool:
    """Whether a column cannot miss a value: numpy's integers or true/false (not pandas' nullable ones)."""
    return isinstance(col.dtype, np.dtype) and col.dtype.kind in "biu"


def _numpy_copy(col: pd.Series, dtype: type, missing: Any) -> np.ndarray:
    """`col.to_numpy(dtype=dtype, na_value=missing)` of a number or true/false column: where it misses no value
    (`_misses_none`), copied by numpy (pandas looks for missing values first: ten times the time)."""
    if _misses_none(col):
        return np.array(col.to_numpy(), dtype=dtype)
    return col.to_numpy(dtype=dtype, na_value=missing)


def _bools(col: pd.Series, stripped: pd.Series | None) -> tuple[np.ndarray, np.ndarray]:
    if stripped is None:
        if pd.api.types.is_bool_dtype(col.dtype):
            return _numpy_copy(col, bool, False), np.zeros(len(col), dtype=bool)
        stripped = _text(col)  # a number column: 1 / 0 read as words
    text = _lower(stripped).str.removesuffix(".0")
    mapped = pd.Series(text.to_numpy(dtype=object, na_value=None)).map(BOOL_WORDS)
    return mapped.eq(True).to_numpy(dtype=bool), mapped.isna().to_numpy()


def _text(col: pd.Series) -> pd.Series:
    """Cells as stripped text; whole numbers of a number column (Parquet, a spreadsheet) without '.0' (id 1001)."""
    if pd.api.types.is_float_dtype(col.dtype):
        whole = (col.notna() & col.eq(col.round()) & col.abs().lt(2**53)).to_numpy(dtype=bool)
        col = col.astype(object).where(~whole, col.where(whole, 0).astype(np.int64).astype(object))
    return _filled(col.astype(TEXT).str.strip())


def _filled(text: pd.Series) -> pd.Series:
    """TEXT cells with missing ones as '' (pandas' fillna on arrow text costs ten times this)."""
    cells = pa.array(text.array)
    if not cells.null_count and text.dtype == TEXT:  # nothing missing (as in most columns): the cells as they are
        return text
    return pd.Series(pd.array(pc.fill_null(cells, ""), dtype=TEXT), index=text.index)


def _normalise_dns(text: pd.Series) -> pd.Series:
    """Lower-case, drop one trailing dot, encode internationalised names as punycode."""
    if not _all_ascii(arrow := _chunks(text)):
        return _normalise_dns_slowly(text)
    capitals = _any_byte(arrow, lambda data: (data >= ord("A")) & (data <= ord("Z")))
    # as pandas' str.lower (not ascii_lower: it breaks arrays whose offsets start past 0)
    lower = pc.utf8_lower(arrow) if capitals else arrow
    dotted = pc.ends_with(lower, ".")
    if pc.any(dotted).as_py():
        lower = pc.if_else(dotted, pc.utf8_slice_codeunits(lower, 0, -1), lower)
    return pd.Series(pd.array(lower, dtype=TEXT), index=text.index)


def _data_bytes(text: pa.ChunkedArray) -> list[np.ndarray]:
    """The bytes of all the values (of a slice, maybe of its neighbours too): one pass over them tells whether a
    check could hit any value, without a kernel call per value."""
    return [np.frombuffer(chunk.buffers()[2], np.uint8) for chunk in text.chunks if chunk.buffers()[2] is not None]


def _all_ascii(text: pa.ChunkedArray) -> bool:
    """Whether every value is ASCII."""
    return all(data.max(initial=0) < 128 for data in _data_bytes(text))


def _any_byte(text: pa.ChunkedArray, hit: Callable[[np.ndarray], np.ndarray]) -> bool:
    """Whether `hit` finds a byte in the values (or near them; see `_data_bytes`): if not, no value has one."""
    return any(hit(data).any() for data in _data_bytes(text))


def _lower(text: pd.Series) -> pd.Series:
    """`text.str.lower()`, skipped for ASCII text without capitals (most columns), which it would leave as it is."""
    if _any_byte(_chunks(text), lambda data: (data >= 0x80) | ((data >= ord("A")) & (data <= ord("Z")))):
        return text.str.lower()
    return text


def _upper(text: pd.Series) -> pd.Series:
    """`text.str.upper()`, skipped for ASCII text without small letters, which it would leave as it is."""
    if _any_byte(_chunks(text), lambda data: (data >= 0x80) | ((data >= ord("a")) & (data <= ord("z")))):
        return text.str.upper()
    return text


def _control_characters(text: pd.Series) -> np.ndarray:
    """Which cells hold a control character (U+0000-U+001F, U+007F): bytes that UTF-8 uses for those alone, so none
    in the data means no cell to look at."""
    if not _any_byte(_chunks(text), lambda data: (data < 0x20) | (data == 0x7F)):
        return np.zeros(len(text), dtype=bool)
    return text.str.contains(r"[\x00-\x1f\x7f]", regex=True).fillna(False).to_numpy()


def _normalise_dns_slowly(text: pd.Series) -> pd.Series:
    """`_normalise_dns` of text with non-ASCII characters."""
    text = text.str.lower().str.removesuffix(".")
    non_ascii = ~text.str.isascii().fillna(True)
    if non_ascii.any():
        text = text.copy()
        text[non_ascii] = text[non_ascii].map(_punycode)
    return text


def _punycode(name: str) -> str:
    """An internationalised name in its xn-- form, by IDNA 2008 with UTS #46 mapping (as browsers and CAs do:
    'straße.de' is xn--strae-oqa.de, not strasse.de as Python's own IDNA 2003 codec has it)."""
    try:
        return idna.encode(name, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return name  # left as it is: _dns_problems reports it


def _is_in(text: pd.Series, values: Iterable[str]) -> np.ndarray:
    """`text.isin(values)` of TEXT cells, by one arrow kernel (a third of the time of pandas' isin)."""
    return _flags(pc.is_in(_chunks(text), value_set=pa.array(list(values), pa.string())))


def _flags(values: pa.Array | pa.ChunkedArray, null: bool = False) -> np.ndarray:
    """An arrow boolean result as a numpy mask (nulls read as `null`), by Kleene logic with its validity: fill_null
    costs some twenty times as much on a boolean array with nulls (0.5 ms for 50,000 cells)."""
    if values.null_count:
        values = pc.or_kleene(values, values.is_null()) if null else pc.and_kleene(values, values.is_valid())
    return values.to_numpy(zero_copy_only=False).astype(bool)


def _flags_where(rows: np.ndarray, text: pa.Array, check: Callable[[pa.Array], pa.Array]) -> np.ndarray:
    """`_flags(check(text))` for a check that can only hit the `rows` given, run on those alone."""
    out = np.zeros(len(rows), dtype=bool)
    at = np.flatnonzero(rows)
    if len(at):
        out[at] = _flags(check(text.take(at)))
    return out


# A host name none of the checks of `_dns_reasons` faults, if it is at most 63 characters long (so is each label):
# labels of letters and digits joined by single hyphens, the last one starting with a letter (so not an IP address).
_PLAIN_DNS = r"^(?:[a-z0-9]+(?:-[a-z0-9]+)*\.)*[a-z][a-z0-9]*(?:-[a-z0-9]+)*$"


def _dns_problems(names: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the names that are not valid DNS host names, and why. Most names are plain ones (`_PLAIN_DNS`):
    one pattern clears them, and the checks run on the rest."""
    text = _chunks(names)
    plain = pc.and_(pc.match_substring_regex(text, _PLAIN_DNS), pc.less_equal(pc.binary_length(text), 63))
    odd = np.flatnonzero(~_flags(plain))
    if not len(odd):  # as in most batches: no name to look at
        return odd, np.zeros(0, dtype=object)
    reasons = _dns_reasons(names.iloc[odd])
    found = reasons != ""
    return odd[found], reasons[found]


def _dns_reasons(names: pd.Series) -> np.ndarray:
    """Reason why each non-empty name is not a valid DNS host name ('' when valid)."""
    reason = np.full(len(names), "", dtype=object)
    if len(names):
        text = pa.array(names.array)
        bad_label = ~_flags(pc.match_substring_regex(text, f"^(?:{DNS_PATTERN})$"))
        dashes = _flags(pc.match_substring(text, "--"))
        # the checks below can only hit names with '--', or names that are no DNS name (non-ASCII, a '/'): run there
        reserved_dash = _flags_where(dashes, text, lambda t: pc.match_substring_regex(
            t, r"(?:^|\.)(?:[a-wyz0-9][a-z0-9]|x[a-mo-z0-9])--"))
        reason[bad_label] = ("not a valid DNS name: labels of 1-63 letters, digits or hyphens, "
                             "not starting or ending with a hyphen")
        reason[reserved_dash & ~bad_label] = "not a valid DNS name: '--' in positions 3-4 is reserved for xn-- labels"
        reason[_flags(pc.match_substring_regex(text, r"^[0-9.]+$"))] = "an IP address, not a DNS name"
        reason[_flags_where(bad_label, text, lambda t: pc.invert(pc.string_is_ascii(t)))] = (
            "not a valid internationalised name under IDNA 2008 (a character it does not allow, or a label over 63 "
            "characters once encoded)")
        reason[_flags(pc.greater(pc.utf8_length(text), 253))] = "longer than 253 characters"
        puny = np.flatnonzero(_flags_where(dashes, text, lambda t: pc.match_substring(t, "xn--")) & (reason == ""))
        reason[puny] = ["" if _valid_punycode(n) else "invalid punycode (xn--) label" for n in names.iloc[puny]]
        reason[_flags_where(bad_label, text, lambda t: pc.match_substring_regex(t, r"^[a-z][a-z0-9+.-]*://|/"))] = (
            "a URL or a path: give the host name alone (mail.contoso.com, not https://mail.contoso.com/owa)")
    return reason


def _valid_punycode(name: str) -> bool:
    try:
        idna.decode(name)
        return True
    except (idna.IDNAError, UnicodeError):
        return False


def _check_list(col: pd.Series, text: pd.Series, blank: np.ndarray, field: Field, check: _Checker) -> pd.Series:
    """`a;b, c` → canonical 'a;b;c' (normalised, de-duplicated), flagging bad items.

    Each distinct cell is checked once: batches repeat the same few server lists thousands of times.
    """
    positions = np.flatnonzero(~blank)  # most rows have no list: leave them out (a blank cell's text is '')
    if not len(positions):
        return _arrow_series(pa.repeat(pa.scalar("", pa.large_string()), len(col)))
    listed = _large(text)
    encoded = pc.dictionary_encode(listed if len(positions) == len(listed) else listed.take(positions))
    codes, cells = encoded.indices.to_numpy(), encoded.dictionary  # as pd.factorize, in a third less time
    canonical, problems = _check_cells(cells, field)
    if problems is not None:
        hits = pd.DataFrame({"pos": positions, "cell": codes}).merge(problems, on="cell")
        hits = hits.sort_values(["pos", "item_no"], kind="stable")
        check.flag_at(hits["pos"].to_numpy(), field.name, list(hits["reason"]), hits["item"].to_numpy(dtype=object))
    cell = np.full(len(col), len(cells))  # rows without a list: the '' after the cells
    cell[positions] = codes
    return _arrow_series(pa.concat_arrays([canonical, pa.array([""], canonical.type)]).take(cell))


def _chunks(text: pd.Series) -> pa.ChunkedArray:
    """A TEXT series' cells as arrow chunks, without a copy (for kernels, and for reading their bytes)."""
    return pa.chunked_array(pa.array(text.array))


def _arrow(text: pd.Series) -> pa.Array:
    """A TEXT series' cells as one arrow array."""
    cells = pa.array(text.array)
    return cells.combine_chunks() if isinstance(cells, pa.ChunkedArray) else cells


def _arrow_series(text: pa.Array) -> pd.Series:
    """Arrow text as a TEXT series (no copy)."""
    return pd.Series(pd.array(text, dtype=TEXT))


def _check_cells(cells: pa.Array, field: Field) -> tuple[pa.Array, pd.DataFrame | None]:
    """Per distinct list cell: its canonical form, and a table of its bad items (cell, item_no, item, reason), None
    where none is bad (as most lists: the table would cost more than the checks)."""
    lists = _split_items(cells, LIST_SEPARATORS[field.kind])
    flat, parents = pc.list_flatten(lists), pc.list_parent_indices(lists).to_numpy()
    if field.kind == "host_list":
        flat = pc.utf8_trim_whitespace(flat)
    filled = _flags(pc.not_equal(flat, ""))
    items = pd.Series(pd.array(flat.filter(filled), dtype=TEXT), index=parents[filled])
    if items.empty:
        return pa.repeat(pa.scalar("", pa.large_string()), len(cells)), None
    problems = np.full(len(items), "", dtype=object)
    typed = items  # the errors file shows an item as the user wrote it
    if field.kind == "dns_list":
        items = _normalise_dns(items)
        at, why = _dns_problems(items)
        problems[at] = why
    else:
        items = _lower(items)
        text = _arrow(items)  # arrow's kernels (RE2, as pandas' str methods run): a fifth of their time
        fqdn = _flags(pc.match_substring(text, "."))
        problems[fqdn] = "give the server's NetBIOS name (e.g. SERVER01), not its FQDN"
        problems[~fqdn & ~_flags(pc.match_substring_regex(text, f"^(?:{NETBIOS_PATTERN})$"))] = (
            "not a NetBIOS name: 1-15 letters, digits or hyphens")
        spaced = _flags(pc.match_substring_regex(text, r"\s"))
        problems[spaced] = "a server name holds no spaces: separate the names with ';'"
    if _any_byte(_chunks(items), lambda data: data == ord("[")):
        typename = items.str.fullmatch(r"(?i)system\.[\w.`]+\[\]").fillna(False)  # Export-Csv of an array property
        problems[typename.to_numpy(dtype=bool)] = ("a PowerShell list written as its type name: join its items first "
                                                   "(-join ';')")
    bad = problems != ""
    table = pd.DataFrame({"cell": items.index[bad], "item_no": np.flatnonzero(bad),
                          "item": typed[bad].to_numpy(dtype=object), "reason": problems[bad]}) if bad.any() else None
    good = items[~bad] if table is not None else items  # most batches' lists: every item good, none to drop
    cell = good.index.to_numpy()
    keep = _first_in_cell(cell, good)
    kept = _arrow(good).take(keep)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(cell[keep], minlength=len(cells)))])
    joined = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), kept)
    return pc.binary_join(joined, pa.scalar(";", kept.type)), table


def _split_items(cells: pa.Array, separators: str) -> pa.ListArray:
    """Each cell's items, split at every run of `separators` (empty items too, which a regex split leaves at either
    end and a split at one character between repeated ones): at ';' alone where no cell holds another separator,
    as most do not (a regex split takes three times as long)."""
    others = np.frombuffer(separators.replace(";", "").encode(), np.uint8)
    if _any_byte(pa.chunked_array([cells]), lambda data: np.isin(data, others)):
        return pc.split_pattern_regex(cells, f"[{separators}]+")
    return pc.split_pattern(cells, ";")


def _first_in_cell(cell: np.ndarray, items: pd.Series) -> np.ndarray:
    """Positions of the `items` to keep, in order: each the first of its value in its cell (`cell`, ascending). Only
    cells of more than one item can repeat one: those alone are compared (most cells list a single name)."""
    listed = np.bincount(cell)[cell] > 1 if len(cell) else np.zeros(0, dtype=bool)
    keep = ~listed
    if listed.any():
        at = np.flatnonzero(listed)
        codes = pc.dictionary_encode(_arrow(items).take(at)).indices.to_numpy()  # as pd.factorize, in less time
        keep[at[np.unique(cell[at] * (codes.max() + 1) + codes, return_index=True)[1]]] = True  # first of each pair
    return np.flatnonzero(keep)


def validate(raw: pd.DataFrame, source: str, params: Parameters, catalog: Catalog,
             today: dt.date | None = None) -> ProfileSet:
    """Check and type every field of every row at once; fill defaults; reject bad rows with reasons.

    Unknown or missing required columns are a problem of the whole input and raise InputError.
    """
    today = today or dt.date.today()
    rows = np.asarray(raw.attrs.get("rows", np.arange(1, len(raw) + 1)))[:len(raw)]  # head() keeps its frame's attrs
    separator = raw.attrs.get("separator")
    raw = raw.reset_index(drop=True)
    raw.attrs = {}  # pandas deep-copies a frame's attrs into every column and result made from it (the row numbers)
    raw = _with_field_names(raw, source)
    unknown = [(i, str(c), suggest(str(c), FIELD_NAMES)) for i, c in enumerate(raw.columns, start=1)
               if c not in FIELD_BY_NAME]
    if unknown and len(unknown) == len(raw.columns) and not any(hint for *_, hint in unknown):  # a title row?
        found = ", ".join(f"'{c[:40]}'" for _, c, _ in unknown[:3] if c.strip()) + " ..." * (len(unknown) > 3)
        raise InputError(Issue(source, 0, "", f"no column is a profile field (found {found or 'no names'}): the "
                               "header must be the table's first row (delete any title rows above it), with "
                               "fields such as org, external_domain, users"))
    if unknown:
        raise InputError([Issue(source, 0, c, f"unknown field{hint}") if c.strip()
                          else Issue(source, 0, "", f"column {i} has no heading (name it or delete the column)")
                          for i, c, hint in unknown])
    missing = [f.name for f in FIELDS if f.required and f.name not in raw.columns]
    if missing:
        raise InputError([Issue(source, 0, m, "required field is missing") for m in missing])

    check = _Checker(source, rows)
    n = len(raw)
    decimal = decimal_marks([raw[f.name] for f in FIELDS if f.kind in NUMBER_KINDS and f.name in raw.columns
                             and pd.api.types.is_string_dtype(raw[f.name])], n) if separator == "\t" else None
    out: dict[str, Any] = {}
    percents: dict[str, tuple[np.ndarray, pd.Series, np.ndarray]] = {}  # per weight given: cells in %, column, blanks
    for field in FIELDS:
        if field.name not in raw.columns:  # every row takes the default
            out[field.name], out[field.name + "__blank"] = _placeholder(field, n), np.ones(n, dtype=bool)
            continue
        col, reported = _plain_cells(raw[field.name], field, check)
        stripped = _stripped(col)
        blank = _is_blank(col, stripped)
        if field.required:  # a cell already reported as not a plain value is not reported again as empty
            check.flag(blank if reported is None else blank & ~reported, field.name, "required field is empty")
        out[field.name] = _coerce(field, col, stripped, blank, check, catalog, separator, decimal)
        out[field.name + "__blank"] = blank
        if field.percent:
            percents[field.name] = (_percent_cells(stripped, n), col, blank)
    frame = _fill_defaults(out, n, params, today)
    _without_the_external_domain(frame)
    _no_public_suffixes(frame, check)
    _check_rows(frame, check, ~out["owa_host__blank"])
    _weights_in_one_form(frame, percents, check)
    frame.insert(0, "row", rows)
    good = frame.loc[~check.bad].reset_index(drop=True) if check.bad.any() else frame  # a copy only to drop rows
    return ProfileSet(good, check.issues, n)


def _with_field_names(raw: pd.DataFrame, source: str) -> pd.DataFrame:
    """Headings written another way ('Users', 'External domain') renamed to the fields they stand for; two
    headings for one field are a problem of the whole input."""
    names = {c: c if c in FIELD_BY_NAME or heading_key(c) not in FIELD_BY_NAME else heading_key(c) for c in raw.columns}
    if all(c == name for c, name in names.items()):
        return raw
    headings: dict[str, list[str]] = {}
    for c, name in names.items():
        headings.setdefault(str(name), []).append(str(c))
    twice = {name: found for name, found in headings.items() if len(found) > 1 and name in FIELD_BY_NAME}
    if twice:
        raise InputError([Issue(source, 0, name, f"the column appears more than once (as {' and '.join(map(repr, found))})")
                          for name, found in twice.items()])
    return raw.rename(columns=names)


_PLAIN_TYPES = ("string", "integer", "floating", "mixed-integer-float", "decimal", "boolean", "date", "datetime",
                "datetime64", "empty")
_SCALAR = (str, int, float, bool, np.generic, dt.date, decimal.Decimal)
_SURROGATE = re.compile("[\ud800-\udfff]")  # JSON and YAML escapes can make them; no text encoding can hold one


def _encodable(col: pd.Series) -> bool:
    """Whether every text cell can be stored as UTF-8 (as the arrow-backed text columns validation uses)."""
    try:
        pa.array(col.to_numpy(dtype=object), pa.string())
    except (UnicodeError, pa.ArrowException):
        return False
    return True


def _plain_cells(col: pd.Series, field: Field, check: _Checker) -> tuple[pd.Series, np.ndarray | None]:
    """A column with one plain value per cell (text, number, true/false, date): a list in a list field (a Parquet
    list column, a weight given as a list ...) is joined with ';', anything else (bytes, a mapping, a list in
    another field) flags its row and is read as empty, shown in the errors file as written (a lone surrogate
    backslash-escaped; binary data not at all). Also a mask of the cells read as empty because they were reported,
    here or when a YAML mapping was flattened (None: none)."""
    if col.dtype != object:
        return col, None
    kind = pd.api.types.infer_dtype(col, skipna=True)
    if kind in _PLAIN_TYPES and (kind != "string" or _encodable(col)):
        return col, None
    values = col.to_numpy(dtype=object).copy()
    reported = np.zeros(len(values), dtype=bool)
    bad, reasons, shown = [], [], []
    for i, value in enumerate(values):
        if isinstance(value, _Reported):
            reported[i] = True
            values[i] = None
            continue
        if isinstance(value, str) and _SURROGATE.search(value):
            bad.append(i)
            reasons.append("contains characters that are not Unicode text (a lone surrogate such as \\ud800)")
            shown.append(value.encode("utf-8", "backslashreplace").decode())
            values[i] = None
            continue
        if value is None or isinstance(value, _SCALAR):
            continue
        listed = isinstance(value, (list, tuple, np.ndarray)) and not isinstance(value, str)
        if listed and field.kind in LIST_KINDS and all(isinstance(v, (str, int)) for v in value):
            values[i] = ";".join(str(v) for v in value)
            continue
        binary = isinstance(value, (bytes, bytearray, memoryview))
        bad.append(i)
        reasons.append("binary data, not text" if binary
                       else "must be a single value, not a mapping" if isinstance(value, Mapping)
                       else "must be a single value, not a list" if listed
                       else f"must be text, a number, true/false or a date, not {type(value).__name__}")
        shown.append("" if binary else str(value))
        values[i] = None
    if bad:
        check.flag_at(np.array(bad), field.name, reasons, shown)
        reported[bad] = True
    return pd.Series(values, index=col.index, dtype=object), reported


def _placeholder(field: Field, n: int) -> Any:
    """Typed empty values for a column the input does not have."""
    if field.kind == "bool":
        return np.zeros(n, dtype=bool)
    if field.kind in ("number", "integer", "share", "date"):
        return np.full(n, np.nan)
    return _arrow_series(pa.repeat(pa.scalar("", pa.large_string()), n))


def _days(dates: pd.Series) -> np.ndarray:
    """Dates as days since 1970-01-01, NaN where none (NaT)."""
    return (dates - pd.Timestamp("1970-01-01")).dt.days.to_numpy(dtype=float, na_value=np.nan)


_ISO_DAY = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _iso_days(text: pd.Series) -> np.ndarray:
    """`_days(pd.to_datetime(text, errors="coerce", format="%Y-%m-%d"))`, worked out once per distinct text (a chunk's
    profiles share a few thousand start dates, and pandas parses each cell in Python): a day written YYYY-MM-DD by
    arrow's strptime where it is one (the month and day it reads are those written: arrow rolls 2026-02-30 over into
    March), any other text by pandas (which also reads 2026-1-5, and rejects what arrow rolls over)."""
    encoded = pc.dictionary_encode(_large(text))
    distinct = encoded.dictionary
    days = np.full(len(distinct), np.nan)
    at = np.flatnonzero(_flags(pc.match_substring_regex(distinct, _ISO_DAY)))
    written = distinct.take(at)
    stamps = pc.strptime(written, format="%Y-%m-%d", unit="s", error_is_null=True)
    read = _flags(pc.and_(pc.equal(pc.month(stamps), pc.utf8_slice_codeunits(written, 5, 7).cast(pa.int64())),
                          pc.equal(pc.day(stamps), pc.utf8_slice_codeunits(written, 8, 10).cast(pa.int64()))))
    days[at[read]] = stamps.filter(read).cast(pa.int64()).to_numpy() // 86_400
    rest = np.ones(len(distinct), dtype=bool)
    rest[at[read]] = False
    if rest.any():
        others = pd.Series(pd.array(distinct.filter(rest), dtype=TEXT))
        days[rest] = _days(pd.to_datetime(others, errors="coerce", format="%Y-%m-%d"))
    return days[encoded.indices.to_numpy()]


AMOUNT_AND_WORD = re.compile(r"\s*(\D*?)\s*[-+]?\d[\d.,' \u00a0]*?\s*(\D*?)\s*")  # '$75.00', '75 EUR'


def _with_currency(col: pd.Series, cells: np.ndarray) -> np.ndarray:
    """Which of the `cells` (a mask) hold an amount written with a currency's code or sign (`iso4217`) on one side of
    it: $75.00, 75 EUR, € 75,00, R$ 75, 75 kr (only rejected cells are looked at: a few)."""
    found = np.zeros(len(col), dtype=bool)
    found[cells] = [bool(m) and bool(m[1]) != bool(m[2]) and iso4217.names_a_currency(m[1] or m[2])
                    for m in map(AMOUNT_AND_WORD.fullmatch, col[cells].astype("str"))]
    return found


def _coerce(field: Field, col: pd.Series, stripped: pd.Series | None, blank: np.ndarray, check: _Checker,
            catalog: Catalog, separator: str | None = None, decimal: np.ndarray | None = None) -> Any:
    """Typed values of one column (`stripped`: its cells as stripped text, None for a number or true/false column;
    `decimal`: a tab file's decimal mark per row, see `tables.decimal_marks`)."""
    kind = field.kind
    if kind in NUMBER_KINDS:
        values, not_number, unsure = _numbers(col, stripped, blank, percent=kind == "share" or field.percent,
                                              separator=separator, decimal=decimal, whole=kind == "integer")
        if field.unit == "money/hour" and not_number.any():
            signed = _with_currency(col, not_number)
            check.flag(signed, field.name, "not a number: write the amount alone, without a currency sign or code "
                                           "(75.00 for $75.00); the currency field says which currency it is in", col)
            not_number = not_number & ~signed
        check.flag(not_number, field.name, "not a number", col)
        check.flag(unsure, field.name, "reads as two numbers (is the mark before the last three digits a thousands "
                                       "separator or the decimal one? no other number in the row says): write it "
                                       "without thousands separators", col)
        finite = np.isfinite(values) | np.isnan(values)
        check.flag(~finite, field.name, "must be a finite number", col)
        ok = np.isfinite(values)
        for limit, beyond, word in ((field.low, np.less, "least"), (field.high, np.greater, "most")):
            if limit is not None and (out := ok & beyond(values, limit)).any():
                at = np.flatnonzero(out)
                # a limit in % too where the cell may be written so: a share's always, a weight's if it is
                in_percent = np.full(len(at), kind == "share") | _percent_cells(stripped, len(col))[at]
                check.flag_at(at, field.name, [f"must be at {word} {_shown_limit(limit, percent)}" for percent in in_percent],
                              np.asarray(col.iloc[at], dtype=object))
        if kind == "integer":
            check.flag(ok & (values != np.floor(values)), field.name, "must be a whole number", col)
        return values
    if kind == "bool":
        values, bad = _bools(col, stripped)
        check.flag(bad & ~blank, field.name, "must be true or false", col)
        return values
    text = _text(col) if stripped is None else _filled(stripped)
    if kind in ("dns_list", "host_list"):
        return _check_list(col, text, blank, field, check)
    if kind == "text":
        arrow = _arrow(text)
        long = _flags_where(_flags(pc.greater(pc.binary_length(arrow), MAX_TEXT)), arrow,  # no fewer bytes than characters
                            lambda t: pc.greater(pc.utf8_length(t), MAX_TEXT))
        check.flag(long, field.name, f"longer than {MAX_TEXT} characters", col)
        control = _control_characters(text)
        breaks = control.copy()
        if control.any():
            breaks[control] = text[control].str.contains(r"[\r\n]", regex=True).to_numpy(dtype=bool)
        check.flag(breaks, field.name, "contains a line break (write it on one line)", col)
        check.flag(control & ~breaks, field.name, "contains control characters", col)
        return _upper(text) if field.capitals else text
    if kind == "choice":
        if _any_byte(_chunks(text), lambda data: data == ord(".")):  # '2016.0': a spreadsheet's number as text
            text = text.str.removesuffix(".0")
        text = _upper(text)
        check.flag(~blank & ~_is_in(text, field.choices), field.name,
                   f"must be one of {', '.join(field.choices)}", col)
        return text
    if kind == "currency":
        text = _upper(text)
        bad = ~blank & ~_flags(pc.is_in(_chunks(text), value_set=_CURRENCY_CODES), null=True)
        for value in pd.unique(text[bad]):
            check.flag(bad & (text == value).to_numpy(dtype=bool), field.name,
                       f"not an ISO 4217 currency code{iso4217.hint(value) or ' (such as USD, EUR or GBP)'}", col)
        return text
    if kind == "ca":
        text = _lower(text)
        known = ("cheapest", *catalog.ids)
        bad = ~blank & ~_is_in(text, known)
        for value in pd.unique(text[bad]) if bad.any() else ():
            check.flag(bad & (text == value).to_numpy(), field.name,
                       f"unknown CA id{suggest(value, known)}; known: {', '.join(known)}", col)
        return text
    if kind == "date":
        written = col
        if pd.api.types.is_datetime64_any_dtype(col.dtype):
            written = col.dt.strftime("%Y-%m-%d")
        elif col.dtype == object:  # YAML, Excel and Parquet give date / datetime objects among text
            written = col.map(lambda v: v.isoformat()[:10] if isinstance(v, dt.date) and not pd.isna(v) else v)
        text = _filled(stripped) if written is col and stripped is not None else _text(written)
        days = _iso_days(text)
        other = ~blank & np.isnan(days)  # dates written another way (the rest were ISO, as most are)
        if other.any():
            days[other] = _days(pd.to_datetime(iso_dates(text[other], separator), errors="coerce", format="%Y-%m-%d"))
        bad = ~blank & np.isnan(days)
        slashed, serial = bad.copy(), bad.copy()
        if bad.any():  # most batches have no bad date: no text to look at
            slashed[bad] = text[bad].str.match(SLASHED_DATE, na=False).to_numpy(dtype=bool)
            serial[bad] = text[bad].str.fullmatch(DATE_SERIAL, na=False).to_numpy(dtype=bool)
        check.flag(slashed, field.name, "not a date (use YYYY-MM-DD: with slashes, the day may come first or the "
                                        "month)", col)
        check.flag(serial, field.name, "not a date (use YYYY-MM-DD): a spreadsheet's date serial number? Format the "
                                       "column as a date", col)
        check.flag(bad & ~slashed & ~serial, field.name, "not a date (use YYYY-MM-DD)", col)
        out_of_range = ~np.isnan(days) & ((days < field.low) | (days > field.high))
        check.flag(out_of_range, field.name, f"must be between {from_day(int(field.low))} and {from_day(int(field.high))}",
                   col)
        return days
    if kind == "dns":
        names = _normalise_dns(text)
        given = np.flatnonzero(~blank)
        at, why = _dns_problems(names.iloc[given] if len(given) < len(names) else names)  # required: all given
        codes, reasons = pd.factorize(why)
        for code, reason in enumerate(reasons):
            rows = np.zeros(len(col), dtype=bool)
            rows[given[at[codes == code]]] = True
            check.flag(rows, field.name, reason, col)
        return names
    raise AssertionError(f"unhandled field kind {kind}")


def _shown_number(value: float) -> str:
    """A limit as people write it: 10,000,000 rather than 1e+07."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def _shown_limit(value: float, percent: bool) -> str:
    """A limit as people write it; with `percent`, also as a percentage, for a value that may be given so ('150%')."""
    return f"{_shown_number(value)} ({_shown_number(value * 100)}%)" if percent else _shown_number(value)


TEMPLATE_FIELD = re.compile(r"<(\w+)>")  # a field's value in a default rule such as 'mail.<external_domain>'


def derived_default(rule: str, values: Mapping[str, Any] | pd.DataFrame) -> Any:
    """What a field whose default is 'rule:RULE' holds when left blank: the field RULE names ('users'), or RULE as a
    template ('mail.<external_domain>') with each <field> written out. `values` is one profile (a mapping: a value)
    or many (a frame: a column)."""
    if rule in FIELD_BY_NAME:
        return values.get(rule)
    parts = TEMPLATE_FIELD.split(rule)  # text, field, text, field ..., text
    filled: Any = parts[0]
    for name, text in zip(parts[1::2], parts[2::2], strict=True):
        value = values.get(name, "")
        filled = filled + (value.astype(str) if isinstance(value, pd.Series) else str(value)) + text
    return filled


def _fill_defaults(out: dict[str, Any], n: int, params: Parameters, today: dt.date) -> pd.DataFrame:
    data: dict[str, Any] = {}
    for field in FIELDS:
        values, blank = out[field.name], out[field.name + "__blank"]
        default = field.default
        if isinstance(default, str) and default.startswith("param:"):
            fill: Any = float(params.value(default.removeprefix("param:")))
        elif default == "rule:today":
            fill = float(to_day(today))
        elif isinstance(default, str) and default.startswith("rule:"):
            fill = None  # filled below from other fields (`derived_default`)
        else:
            fill = default
        if fill is not None and fill != "" and blank.any():  # a text field's blank cells hold '' already
            if isinstance(values, pd.Series):  # TEXT: by one kernel (pandas' masked setitem costs ten times as much)
                values = _arrow_series(pc.if_else(pa.array(blank), pa.scalar(fill, pa.large_string()), _large(values)))
            else:
                values = np.where(blank, fill, values)
        data[field.name] = values
    for field in FIELDS:
        if isinstance(field.default, str) and field.default.startswith("rule:") and field.default != "rule:today":
            blank = out[field.name + "__blank"]
            if blank.any():
                data[field.name] = _derived(data, field.name, field.default.removeprefix("rule:"), blank)
    for name in ("users", "desktops", "mobile_devices"):
        counts = np.nan_to_num(np.asarray(data[name], dtype=float), nan=0.0, posinf=0.0, neginf=0.0)
        data[name] = np.clip(counts, 0, MAX_COUNT).astype(np.int64)  # rejected rows may hold anything
    data["start"] = np.nan_to_num(np.asarray(data["start"], dtype=float)).astype(np.int64)
    for field in FIELDS:
        if field.kind in ("text", "choice", "currency", "ca", "dns", "dns_list", "host_list"):
            # arrow-backed: text kernels, no conversions; the TEXT cells wrapped as they are (pd.array: 8x the time)
            data[field.name] = pd.arrays.ArrowStringArray(pa.array(data[field.name].array), dtype=STR)
    return pd.DataFrame(data)  # at once: adding or replacing the columns one by one costs ~0.1 ms each


def _derived(data: dict[str, Any], name: str, rule: str, blank: np.ndarray) -> Any:
    """The column `name` with its `blank` cells given by its rule (`derived_default`)."""
    column = data[name]
    if isinstance(column, pd.Series):  # text: the rule's text of every row, by one kernel, kept where blank
        return _arrow_series(pc.if_else(pa.array(blank), _rule_text(rule, data), _large(column)))
    at = np.flatnonzero(blank)  # numbers: worked out for the blank cells alone
    sources = [rule] if rule in FIELD_BY_NAME else TEMPLATE_FIELD.findall(rule)
    column = column.copy()
    column[at] = derived_default(rule, {source: data[source][at] for source in sources})
    return column


def _rule_text(rule: str, data: Mapping[str, Any]) -> pa.Array:
    """`derived_default` of a rule on text fields, for every row at once, as arrow text (a TEXT column's cells hold
    no missing value: '' where blank)."""
    if rule in FIELD_BY_NAME:
        return _large(data[rule])
    parts = TEMPLATE_FIELD.split(rule)  # text, field, text, field ..., text
    pieces = [_large(data[part]) if i % 2 else pa.scalar(part, pa.large_string()) for i, part in enumerate(parts)]
    return pc.binary_join_element_wise(*pieces, pa.scalar("", pa.large_string()))  # joined with nothing between


def _large(text: pd.Series) -> pa.Array:
    """A TEXT column's cells as one arrow large_string array."""
    return _arrow(text).cast(pa.large_string())


def _check_rows(frame: pd.DataFrame, check: _Checker, owa_given: np.ndarray) -> None:
    """Checks across fields, once defaults are filled (`owa_given`: the rows that give their owa_host, not derived)."""
    weights = np.column_stack([frame[w].to_numpy(dtype=float) for w in WEIGHT_FIELDS])  # a tenth of frame[list]'s time
    zero = np.flatnonzero((weights == 0).all(axis=1))  # a negative or unreadable weight has its own reason
    check.flag_at(zero, "w_cost", ["the weights cannot all be zero"] * len(zero), ["all weights 0"] * len(zero))
    country = frame["country"].astype(str)
    bad = _flags_where((country != "").to_numpy(dtype=bool), _arrow(country),
                       lambda t: pc.invert(pc.match_substring_regex(t, "^[A-Z]{2}$")))  # str.fullmatch, in arrow
    check.flag(bad, "country", "not a two-letter country code (ISO 3166, such as US, DE or GB)", country)
    owa = frame["owa_host"].astype(str)
    text = _arrow(owa)
    too_long = _flags_where(_flags(pc.greater(pc.binary_length(text), 253)), text,  # no fewer bytes than characters
                            lambda t: pc.greater(pc.utf8_length(t), 253))
    check.flag(too_long, "owa_host", f"the default {FIELD_BY_NAME['owa_host'].default.removeprefix('rule:')} is longer "
                                     "than 253 characters", owa)
    single_label = _flags_where(owa_given, text, lambda t: pc.and_(pc.invert(pc.match_substring(t, ".")),
                                                                   pc.not_equal(t, "")))  # a derived one has a dot
    check.flag(single_label, "owa_host", "a single label: give the full name clients outside reach OWA by, such as "
                                         "mail.contoso.com", owa)


def _percent_cells(stripped: pd.Series | None, n: int) -> np.ndarray:
    """Which cells of a column are written in % ('40%'), told by one pass over its bytes where none is."""
    if stripped is None or not _any_byte(_chunks(stripped), lambda data: data == ord("%")):
        return np.zeros(n, dtype=bool)
    return stripped.str.endswith("%").fillna(False).to_numpy(dtype=bool)


def _weights_in_one_form(frame: pd.DataFrame, percents: dict[str, tuple[np.ndarray, pd.Series, np.ndarray]],
                         check: _Checker) -> None:
    """A weight above 1 written as a plain number beside one written in % ('30' beside '40%') weighs as 3000%: the
    row meant percentages throughout, or fractions, but which cannot be told; a plain 0.3 is 30% in either form."""
    if not any(written.any() for written, *_ in percents.values()):
        return
    in_percent = np.any([written for written, *_ in percents.values()], axis=0)
    for name, (written, col, blank) in percents.items():
        above_one = frame[name].to_numpy(dtype=float) > 1  # given: a blank cell's default is no one's writing
        check.flag(in_percent & ~written & above_one & ~blank, name, "a plain number above 1 beside weights written in % "
                   "would weigh over 100%: write every weight in % (30%), or every one as a plain number (30 or 0.3)",
                   col)


def _without_the_external_domain(frame: pd.DataFrame) -> None:
    """Drop the external domain from `extra_domains` (an admin pasting every accepted domain lists it too): it is on
    every certificate already, and listed twice it would count twice (names, wildcards, DNS records)."""
    extra = arrow_text(frame["extra_domains"])
    listing = np.flatnonzero(_flags(pc.not_equal(extra, "")))  # the rows that list any (a few)
    lists = pc.split_pattern(extra.take(listing), ";")
    items, parents = pc.list_flatten(lists), listing[pc.list_parent_indices(lists).to_numpy()]
    own = pc.equal(items, arrow_text(frame["external_domain"]).take(parents)).to_numpy(zero_copy_only=False)
    if own.any():
        keep = ~own & pc.not_equal(items, "").to_numpy(zero_copy_only=False)
        joined = join_by_row(parents[keep], items.to_numpy(zero_copy_only=False)[keep], len(frame), ";")
        frame["extra_domains"] = pd.Series(joined, index=frame.index, dtype="str")


_SUFFIX_HINTS = {"external_domain": "your domain, e.g. contoso.{}", "extra_domains": "the accepted domain, e.g. contoso.{}",
                 "owa_host": "the host name clients use, e.g. mail.contoso.{}"}


def _no_public_suffixes(frame: pd.DataFrame, check: _Checker) -> None:
    """A public suffix (co.uk, com) is nobody's domain: no CA validates it, nor issues a wildcard under it."""
    flat, parents = {}, {}
    for field in _SUFFIX_HINTS:  # extra_domains is a list; a ';' in another field (a row rejected already) splits too
        text = arrow_text(frame[field])
        named = np.flatnonzero(_flags(pc.not_equal(text, "")))  # '' (most rows' extra_domains) is no suffix:
        if len(named) < len(text):  # only the rows that name any are split and looked up
            text = text.take(named)
        if _any_byte(pa.chunked_array([text]), lambda data: data == ord(";")):
            lists = pc.split_pattern(text, ";")
            items, parents[field] = pc.list_flatten(lists), named[pc.list_parent_indices(lists).to_numpy()]
            filled = _flags(pc.not_equal(items, ""))  # a rejected row's list may hold an empty item
            flat[field], parents[field] = items.filter(filled), parents[field][filled]
        else:  # one name per row: splitting would give each alone
            flat[field], parents[field] = text, named
    ends = np.cumsum([len(names) for names in flat.values()])
    found = np.split(public_suffixes(pa.concat_arrays(list(flat.values()))), ends[:-1])  # one look-up: ~1 ms a call
    for (field, hint), items, hits in zip(_SUFFIX_HINTS.items(), flat.values(), found, strict=True):
        hit = np.flatnonzero(hits)
        if len(hit):
            names = items.take(hit).to_pylist()
            check.flag_at(parents[field][hit], field, [f"{n} is a public suffix, not a registered domain: give {hint.format(n)}"
                                                for n in names], names)


def load_profiles(source: Any, params: Parameters, catalog: Catalog, *, today: dt.date | None = None,
                  name: str | None = None) -> ProfileSet:
    """Validate profiles given as a path, a DataFrame, a mapping or a list of mappings."""
    issues: list[Issue] = []
    if isinstance(source, (str, Path)):
        name = name or str(source)
        raw, issues = read_profiles_file(source)
    elif isinstance(source, pd.DataFrame):
        name = name or "<table>"
        raw = source.copy()
        raw.attrs["rows"] = source.attrs.get("rows", np.arange(1, len(source) + 1))
    elif isinstance(source, Mapping):
        name = name or "<profile>"
        raw, issues = frame_from_mappings([source], name)
    elif isinstance(source, list):
        name = name or "<profiles>"
        raw, issues = frame_from_mappings(source, name)
    else:
        raise TypeError("profiles must be a path, a DataFrame, a mapping or a list of mappings")
    try:
        result = validate(raw, name, params, catalog, today)
    except InputError as exc:  # a whole-input problem; the problems found while reading come first
        raise InputError(issues + exc.issues) from None
    if issues:
        bad_rows = {i.row for i in issues}
        keep = ~result.frame["row"].isin(bad_rows).to_numpy()
        unread = bad_rows - {0} - set(np.asarray(raw.attrs.get("rows", [])).tolist())  # table lines never read as rows
        result = ProfileSet(result.frame.loc[keep].reset_index(drop=True), issues + result.issues,
                            result.rows_in + len(unread))
    return result


def profile_to_mapping(frame: pd.DataFrame, i: int = 0) -> dict[str, Any]:
    """One validated row back to a plain YAML-able profile (dates ISO, lists as lists)."""
    row = frame.iloc[i]
    out: dict[str, Any] = {}
    for field in FIELDS:
        value = row[field.name]
        if field.kind == "date":
            value = (dt.date(1970, 1, 1) + dt.timedelta(days=int(value))).isoformat()
        elif field.kind in ("dns_list", "host_list"):
            value = [v for v in str(value).split(";") if v]
        elif field.kind == "bool":
            value = bool(value)
        elif field.kind == "integer":
            value = int(value)
        elif field.kind in ("number", "share"):
            value = float(value)
        else:
            value = str(value)
        out[field.name] = value
    return out
