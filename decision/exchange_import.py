"""Import an Exchange organisation's current configuration (issue 7).

Reads what ``scripts/collect-exchange.ps1`` writes (JSON), or the ``Format-List`` output of the same
cmdlets pasted into one text file, and turns it into a CertStrategy profile plus a description of the
certificates in place today. The format is detected; bytes in UTF-8 (with or without BOM) or UTF-16
(PowerShell 5 ``Out-File``) are accepted. Anything unreadable raises :class:`ExportParseError`.

Besides configuration, an export may carry two counts (numbers only, no names): user mailboxes
(``Get-Mailbox``) and ActiveSync devices (``Get-MobileDevice`` / ``Get-ActiveSyncDevice``). A count that
may be cut short by the cmdlets' default result size is refused rather than used.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import ipaddress
import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from publicsuffixlist import PublicSuffixList

from decision.catalog import default_catalog
from decision.errors import InputError, Issue
from decision.limits import LIMITS, size_text
from decision.parameters import default_parameters
from decision.profiles import FIELD_BY_NAME, MAX_COUNT, NETBIOS_PATTERN, frame_from_mappings, validate
from decision.safe_output import FORMULA_PATTERN
from decision.shipped import load_shipped

SCHEMA = "certstrategy-exchange-export/1"
BUILDS_FILE = Path(__file__).resolve().parent.parent / "data" / "exchange_builds.yaml"
MAX_EXPORT_BYTES = LIMITS["export_max_bytes"]  # data/parameters.yaml limits

#: virtual directory kind -> the name IIS gives it ("owa (Default Web Site)")
VDIR_KINDS = {
    "owa": "owa",
    "ecp": "ecp",
    "ews": "ews",
    "activesync": "microsoft-server-activesync",
    "oab": "oab",
    "mapi": "mapi",
}
_KIND_BY_IIS_NAME = {iis: kind for kind, iis in VDIR_KINDS.items()}
_KIND_LABELS = {"owa": "OWA", "ecp": "ECP", "ews": "EWS", "activesync": "ActiveSync", "oab": "OAB", "mapi": "MAPI"}
_CLIENT_ROLES = {"mailbox", "clientaccess"}
_CLIENT_DOMAIN_TYPES = {"authoritative", "internalrelay"}
_HYBRID_SUFFIX = ".mail.onmicrosoft.com"


class ExportParseError(InputError):
    """The export cannot be read or lacks what an import needs: which export (`source`; '' for a build string
    read on its own) and why."""

    def __init__(self, source: str, reason: str):
        super().__init__(Issue(source, 0, "", reason))
        self.reason = reason

    def __str__(self) -> str:
        return str(self.issues[0]) if self.issues[0].file else self.reason


#: what each count is, by the cmdlet that produced it
COUNT_CMDLETS = {
    "user_mailboxes": ("get-mailbox",),
    "mobile_devices": ("get-mobiledevice", "get-activesyncdevice"),
}


@dataclass(frozen=True)
class Count:
    """A number the server knows: ``value`` objects returned by ``command`` (no names)."""

    value: int
    command: str | None


@dataclass(frozen=True)
class Server:
    """One ``Get-ExchangeServer`` entry."""

    name: str
    version: str
    build: tuple[int, ...]
    release: str
    site: str | None
    fqdn: str | None
    roles: tuple[str, ...]


@dataclass(frozen=True)
class AcceptedDomain:
    """One ``Get-AcceptedDomain`` entry; ``name`` is lower case."""

    name: str
    type: str
    default: bool


@dataclass(frozen=True)
class Certificate:
    """One ``Get-ExchangeCertificate`` entry (no key material)."""

    thumbprint: str
    subject: str | None
    domains: tuple[str, ...]
    issuer: str | None
    not_before: dt.date | None
    not_after: dt.date | None
    services: tuple[str, ...]
    is_self_signed: bool
    server: str | None = None


@dataclass
class ExchangeExport:
    """Everything read from one export. ``warnings`` are reading problems, ``errors`` collection ones."""

    source: str
    format: str
    servers: list[Server]
    accepted_domains: list[AcceptedDomain]
    autodiscover_internal_uris: list[tuple[str, str | None]] = field(default_factory=list)  # (URI, server)
    #: kind -> (internal URL, external URL, server) of each virtual directory
    virtual_directories: dict[str, list[tuple[str | None, str | None, str | None]]] = field(default_factory=dict)
    #: (internal host name, external host name, server)
    outlook_anywhere: list[tuple[str | None, str | None, str | None]] = field(default_factory=list)
    certificates: list[Certificate] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    collected_at: str | None = None
    counts: dict[str, Count] = field(default_factory=dict)


# --------------------------------------------------------------------------- build numbers


def _dotted(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


@functools.cache
def _releases() -> tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...]:
    data = load_shipped(BUILDS_FILE)
    rows = []
    for entry in data["releases"]:
        low, high = _dotted(str(entry["from"])), _dotted(str(entry["before"]))
        if not entry.get("source") or low >= high:
            raise ValueError(f"{BUILDS_FILE}: bad release entry {entry!r}")
        rows.append((str(entry["release"]), low, high))
    return tuple(rows)


@functools.cache
def default_result_size() -> int:
    """How many objects Get-Mailbox / Get-MobileDevice return without ``-ResultSize Unlimited``."""
    entry = load_shipped(BUILDS_FILE)["cmdlet_defaults"]["result_size"]
    if not entry.get("source") or int(entry["value"]) < 1:
        raise ValueError(f"{BUILDS_FILE}: bad cmdlet_defaults.result_size {entry!r}")
    return int(entry["value"])


def release_order() -> tuple[str, ...]:
    """Release names oldest to newest, as listed in ``data/exchange_builds.yaml``."""
    return tuple(name for name, _, _ in _releases())


_VERSION_RE = re.compile(r"Version\s+(\d{1,9})\.(\d{1,9})\s*\(\s*Build\s+(\d{1,9})\.(\d{1,9})\s*\)", re.IGNORECASE)
_DOTTED_RE = re.compile(r"(\d{1,9})\.(\d{1,9})\.(\d{1,9})(?:\.(\d{1,9}))?")


def parse_build(build: str) -> tuple[int, ...]:
    """``"Version 15.1 (Build 2507.6)"`` or ``"15.01.2507.006"`` -> ``(15, 1, 2507, 6)``."""
    text = build.strip()
    match = _VERSION_RE.fullmatch(text) or _DOTTED_RE.fullmatch(text)
    if not match:
        raise ExportParseError("", f"unrecognised Exchange build {build!r}")
    return tuple(int(group) for group in match.groups() if group is not None)


def exchange_version_from_build(build: str) -> str:
    """Map an AdminDisplayVersion or build string to ``2007`` … ``2019`` or ``SE``."""
    number = parse_build(build)
    for name, low, high in _releases():
        if low <= number < high:
            return name
    raise ExportParseError("", f"Exchange build {build!r} is not a known on-premises release")


# --------------------------------------------------------------------------- decoding


def _decode(data: bytes, source: str) -> str:
    boms = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
    encoding, body = "utf-8", data
    for bom, name in boms:
        if data.startswith(bom):
            encoding, body = name, data[len(bom) :]
            break
    else:
        sample = data[:400]
        if len(sample) >= 4 and sample[1::2].count(0) > len(sample) // 4:
            encoding = "utf-16-le"
        elif len(sample) >= 4 and sample[0::2].count(0) > len(sample) // 4:
            encoding = "utf-16-be"
    try:
        return body.decode(encoding)
    except UnicodeDecodeError as exc:
        if encoding != "utf-8":
            raise ExportParseError(source, f"not valid {encoding.upper()} text ({exc.reason})") from exc
        # Windows PowerShell's "ANSI" output; unreadable bytes become U+FFFD and fail later
        return body.decode("cp1252", errors="replace")


# --------------------------------------------------------------------------- raw records

Record = dict[str, Any]
_CATEGORIES = ("servers", "accepted_domains", "client_access", "virtual_directories", "outlook_anywhere", "certificates",
               "counts")


@dataclass
class _Raw:
    records: dict[str, list[Record]] = field(default_factory=lambda: {c: [] for c in _CATEGORIES})
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    collected_at: str | None = None


def _lower_keys(obj: dict[Any, Any]) -> Record:
    return {str(key).lower(): value for key, value in obj.items()}


def _raw_from_json(text: str, source: str) -> _Raw:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ExportParseError(source, f"looks like JSON but cannot be read: {exc}") from exc
    if not isinstance(data, dict):
        raise ExportParseError(source, f"expected a JSON object from collect-exchange.ps1, got {type(data).__name__}")
    top = _lower_keys(data)
    schema = _text(top.get("schema"))
    if schema is not None and schema != SCHEMA:
        raise ExportParseError(source, f"export schema {schema!r} is not one this reader knows ({SCHEMA!r})")
    raw = _Raw(collected_at=_text(top.get("collected_at")))
    for category in _CATEGORIES:
        for item in _items(top.get(category)):
            if isinstance(item, dict):
                raw.records[category].append(_lower_keys(item))
            else:
                raw.warnings.append(f"ignored a {category} entry that is not an object: {str(item)[:60]!r}")
    raw.skipped = [name for item in _items(top.get("skipped")) if (name := _text(item))]
    for item in _items(top.get("errors")):
        if isinstance(item, dict):
            entry = _lower_keys(item)
            command, message = _text(entry.get("command")), _text(entry.get("message"))
            raw.errors.append(": ".join(part for part in (command, message) if part) or "unknown error")
        elif message := _text(item):
            raw.errors.append(message)
    return raw


_PROPERTY_RE = re.compile(r"(?P<indent>[ \t]*)(?P<name>[A-Za-z][A-Za-z0-9_.-]*)[ \t]*:(?:[ \t]+(?P<value>.*))?")
_PROMPT_RE = re.compile(  # [PS] C:\>, PS>, PS C:\...>, or the latter two after a remote session's [host]:
    r"\s*(?:\[PS\][^>]*>|(?:\[[^\]\r\n]+\]:\s*)?(?:PS\s*>|PS [A-Za-z]:\\[^>]*>))(?P<command>.*)")
_JSON_START_RE = re.compile(r"\{|\[\s*[{\"\[\]]")  # an object, or an array of objects, strings, arrays or nothing
_CERT_SERVER_RE = re.compile(  # -Server EX01, or a quoted name kept whole: -Server "EX 1"
    r"Get-ExchangeCertificate\b.*?-Server\s+(?:(['\"])(?P<quoted>[^'\"]+)\1|(?P<bare>[\w.-]+))", re.IGNORECASE)
_CMDLET_RE = re.compile(r"\b(Get-[A-Za-z]+)\b")
_UNLIMITED_RE = re.compile(r"-ResultSize\s+['\"]?Unlimited\b", re.IGNORECASE)
_BARE_NUMBER_RE = re.compile(r"\s*(\d{1,12})\s*")


def _blocks(text: str) -> list[tuple[str | None, list[str]]]:
    """Blank-line separated blocks, each with the command of the pasted prompt line above it.

    A prompt such as ``[PS] C:\\>Get-ExchangeCertificate -Server EX01 | fl`` tells which server
    the certificate blocks after it come from; ``[PS] C:\\>Get-Mailbox ... | Measure-Object`` what a
    ``Count : 412`` block counts.
    """
    blocks: list[tuple[str | None, list[str]]] = [(None, [])]
    command = None
    # \r\r\n: a CRLF file whose line ends were converted again; splitlines() alone would see two ends
    for line in text.replace("\r\r\n", "\n").replace("\r\n", "\n").splitlines():
        if prompt := _PROMPT_RE.match(line):
            command = prompt["command"].strip() or None
            blocks.append((command, []))
        elif not line.strip():
            blocks.append((command, []))
        else:
            blocks[-1][1].append(line.rstrip())
    return [block for block in blocks if block[1]]


def _count_name(command: str | None) -> str | None:
    """``user_mailboxes`` or ``mobile_devices`` for a command line that counts them, else None."""
    cmdlets = {match.lower() for match in _CMDLET_RE.findall(command or "")}
    return next((name for name, known in COUNT_CMDLETS.items() if cmdlets & set(known)), None)


def _block_properties(lines: list[str]) -> Record:
    """``Name : value`` lines (continuations indented further) -> lower-case name -> text."""
    matches = [_PROPERTY_RE.fullmatch(line) for line in lines]
    indents = [len(m.group("indent").expandtabs()) for m in matches if m]
    if not indents:
        return {}
    base = min(indents)
    props: Record = {}
    current: str | None = None
    for line, match in zip(lines, matches, strict=True):
        if match and len(match.group("indent").expandtabs()) == base:
            current = match.group("name").lower()
            if current in props:  # a repeated name starts no new value: keep the first
                current = None
            else:
                props[current] = (match.group("value") or "").strip()
        elif current is not None:
            props[current] = f"{props[current]} {line.strip()}".strip()
    return props


def _classify(props: Record) -> str | None:
    if "thumbprint" in props:
        return "certificates"
    if "domaintype" in props and "domainname" in props:
        return "accepted_domains"
    if "autodiscoverserviceinternaluri" in props:
        return "client_access"
    if "internalurl" in props or "externalurl" in props:
        return "virtual_directories"
    if "externalhostname" in props or "internalhostname" in props:
        return "outlook_anywhere"
    if "admindisplayversion" in props:
        return "servers"
    if "count" in props:
        return "counts"
    return None


def _raw_from_format_list(text: str, source: str) -> _Raw:
    raw = _Raw()
    for command, lines in _blocks(text):
        props = _block_properties(lines)
        category = _classify(props)
        if category == "certificates" and (server := _CERT_SERVER_RE.search(command or "")):
            props.setdefault("server", (server["quoted"] or server["bare"]).strip())
        if category is None and _count_name(command) and len(lines) == 1 and _BARE_NUMBER_RE.fullmatch(lines[0]):
            category, props = "counts", {"count": lines[0].strip()}  # the output of (Get-Mailbox ...).Count
        if category == "counts":
            props.update(command=command, name=_count_name(command))
            if props["name"] is None:
                raw.warnings.append(
                    f"ignored a count ({props['count'] or 'empty'}) without the Get-Mailbox / Get-MobileDevice command "
                    "line above it; paste the prompt line with the number"
                )
                continue
        if category:
            raw.records[category].append(props)
    if not any(raw.records.values()):
        raise ExportParseError(
            source, "neither collect-exchange.ps1 JSON nor recognisable Format-List output "
            "(expected blocks of 'Property : Value' lines from Get-ExchangeServer, Get-AcceptedDomain, ...)"
        )
    return raw


# --------------------------------------------------------------------------- value coercion


def _items(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _text(value: Any) -> str | None:
    """A value as text; a lone surrogate (a JSON escape such as \\ud800, not text) becomes U+FFFD."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (str, int, float)):
        text = _SURROGATE_RE.sub("\ufffd", str(value)).strip()
        return text or None
    return None


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = (_text(value) or "").lower().lstrip("$")
    return {"true": True, "false": False}.get(text)


def _text_list(value: Any, what: str, warnings: list[str]) -> tuple[str, ...]:
    """A JSON array or PowerShell's ``{a, b, c}``; a list Format-List cut short (``c...}``) is warned about."""
    if isinstance(value, list):
        return tuple(text for item in value if (text := _text(item)))
    text = _text(value)
    if text is None:
        return ()
    inner = text[1:-1] if text.startswith("{") and text.endswith("}") else text
    if inner.endswith(("...", "…")):
        warnings.append(f"{what} was cut short by Format-List; set $FormatEnumerationLimit = -1 before collecting")
        inner = inner.rstrip(".…")
    return tuple(part.strip() for part in inner.split(",") if part.strip())


def _host(value: str | None, what: str, warnings: list[str]) -> str | None:
    """Host name of a URL or host-name value, lower case, without port or trailing dot."""
    if not value:
        return None
    compact = re.sub(r"\s+", "", value)
    try:
        host = urlsplit(compact if "://" in compact else f"//{compact}").hostname
    except ValueError:
        host = None
    if not host:
        warnings.append(f"{what}: cannot read a host name from {value!r}")
        return None
    return host.rstrip(".")


_DOTNET_DATE_RE = re.compile(r"/Date\((-?\d{1,15})(?:[+-]\d{4})?\)/")
_NUMERIC_DATE_RE = re.compile(
    r"(\d{1,4})([./-])(\d{1,2})\2(\d{1,4})(?:[ T]+\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?\s*([AaPp]\.?[Mm]\.?)?)?\s*"
)


def _month_first(texts: list[str], warnings: list[str]) -> bool:
    """Whether this export's short dates put the month first (en-US) or the day (most cultures).

    Format-List prints dates in the collecting machine's culture; one date with a part above 12
    settles it for the whole export. Without such a date, AM/PM suggests en-US.
    """
    parts = [m.groups() for t in texts if (m := _NUMERIC_DATE_RE.fullmatch(t)) and len(m[1]) < 4]
    if any(int(second) > 12 for _, _, second, _, _ in parts):
        return True
    if any(int(first) > 12 for first, _, _, _, _ in parts):
        return False
    month_first = any(ampm for *_, ampm in parts)
    if any(first != second for first, _, second, _, _ in parts):
        order = "month/day" if month_first else "day/month"
        warnings.append(f"dates such as {texts[0]!r} are ambiguous; read as {order}/year")
    return month_first


def _date(value: Any, what: str, warnings: list[str], month_first: bool) -> dt.date | None:
    """ISO 8601 (the script), ``/Date(ms)/`` (ConvertTo-Json) or a culture's short date (Format-List)."""
    text = _text(value)
    if text is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(text)
        return (parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed).date()
    except (ValueError, OverflowError):
        pass
    try:
        if match := _DOTNET_DATE_RE.fullmatch(text):
            epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
            return (epoch + dt.timedelta(milliseconds=int(match[1]))).date()
        if match := _NUMERIC_DATE_RE.fullmatch(text):
            first, _, second, third, _ = match.groups()
            a, b, c = int(first), int(second), int(third)
            if len(first) == 4:
                return dt.date(a, b, c)
            year = c + 2000 if len(third) <= 2 else c
            return dt.date(year, a, b) if month_first else dt.date(year, b, a)
    except (ValueError, OverflowError):
        pass
    warnings.append(f"{what}: cannot read the date {text!r}")
    return None


# --------------------------------------------------------------------------- building the export


def _build_servers(raw: _Raw, rejected: list[str]) -> list[Server]:
    """The servers read, one per name case-insensitively (Windows' EX01 and ex01 are one server): the first kept."""
    servers: dict[str, Server] = {}
    for rec in raw.records["servers"]:
        fqdn = _text(rec.get("fqdn"))
        name = _text(rec.get("name")) or (fqdn.split(".")[0] if fqdn else None)
        version = _text(rec.get("admindisplayversion"))
        if not name or not version:
            rejected.append(f"a server entry without {'Name' if not name else 'AdminDisplayVersion'}")
            continue
        try:
            release = exchange_version_from_build(version)
        except ExportParseError as exc:
            rejected.append(f"server {name}: {exc.reason}")
            continue
        roles = tuple(part.strip() for part in (_text(rec.get("serverrole")) or "").split(",") if part.strip())
        server = servers.setdefault(
            name.casefold(), Server(name, version, parse_build(version), release, _text(rec.get("site")), fqdn, roles))
        if server.version != version:
            rejected.append(f"server {name}: listed again with another version ({version}; {server.name} has "
                            f"{server.version}), the first entry is used: check which build the server runs")
    return list(servers.values())


def _build_domains(raw: _Raw) -> list[AcceptedDomain]:
    domains = []
    for rec in raw.records["accepted_domains"]:
        name = _text(rec.get("domainname"))
        if name is None:
            raw.warnings.append("ignored an accepted domain without DomainName")
            continue
        kind = _text(rec.get("domaintype")) or "Authoritative"
        domains.append(AcceptedDomain(name.lower().rstrip("."), kind, bool(_flag(rec.get("default")))))
    return domains


def _vdir_kind(rec: Record) -> str | None:
    kind = (_text(rec.get("kind")) or "").lower()
    if kind in VDIR_KINDS:
        return kind
    name = _text(rec.get("name")) or (_text(rec.get("identity")) or "").rsplit("\\", 1)[-1]
    return _KIND_BY_IIS_NAME.get(name.split("(")[0].strip().lower())


def _build_certificate(rec: Record, warnings: list[str], month_first: bool) -> Certificate | None:
    thumbprint = re.sub(r"\s+", "", _text(rec.get("thumbprint")) or "").upper()
    if not thumbprint:
        warnings.append("ignored a certificate without Thumbprint")
        return None
    what = f"certificate {thumbprint[:8]}…"
    services = _text_list(rec.get("services"), f"{what} Services", warnings)
    server = _text(rec.get("server"))
    identity = _text(rec.get("identity")) or ""
    if server is None and "\\" in identity:
        server = identity.split("\\")[0]
    return Certificate(
        thumbprint=thumbprint,
        subject=_text(rec.get("subject")),
        domains=tuple(d.lower() for d in _text_list(rec.get("certificatedomains"), f"{what} CertificateDomains", warnings)),
        issuer=_text(rec.get("issuer")),
        not_before=_date(rec.get("notbefore"), f"{what} NotBefore", warnings, month_first),
        not_after=_date(rec.get("notafter"), f"{what} NotAfter", warnings, month_first),
        services=tuple(s for s in services if s.lower() != "none"),
        is_self_signed=bool(_flag(rec.get("isselfsigned"))),
        server=server,
    )


def _count_value(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_COUNT else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and 0 <= value <= MAX_COUNT else None
    text = _text(value)
    if text is None or not text.isascii() or not text.isdigit():
        return None
    return int(text) if int(text) <= MAX_COUNT else None


def _build_counts(raw: _Raw) -> dict[str, Count]:
    """Counts by name; one that is unreadable, contradicted or possibly cut short is warned about and left out."""
    found: dict[str, list[Count]] = {}
    for rec in raw.records["counts"]:
        command = _text(rec.get("command"))
        name = _text(rec.get("name"))
        name = name.lower() if name else _count_name(command)
        if name not in COUNT_CMDLETS:
            continue  # a count this reader does not use
        value = _count_value(rec.get("count"))
        if value is None:
            raw.warnings.append(f"{name}: the count {str(rec.get('count'))[:40]!r} was not used: "
                                f"it is not a whole number from 0 to {MAX_COUNT:,}")
            continue
        if command and not _UNLIMITED_RE.search(command) and value >= default_result_size():
            raw.warnings.append(
                f"{name}: the count {value} from '{command}' was not used: without -ResultSize Unlimited the cmdlet "
                f"stops at {default_result_size()} objects, so it was probably cut short; count again with -ResultSize Unlimited"
            )
            continue
        found.setdefault(name, []).append(Count(value, command))
    counts = {}
    for name, entries in found.items():
        values = sorted({entry.value for entry in entries})
        if len(values) > 1:
            raw.warnings.append(f"{name}: the counts {', '.join(map(str, values))} disagree, so none was used")
        else:
            counts[name] = entries[0]
    return counts


def _build(raw: _Raw, source: str, fmt: str) -> ExchangeExport:
    rejected: list[str] = []
    servers = _build_servers(raw, rejected)
    domains = _build_domains(raw)
    problems = []
    if not servers:
        detail = f" ({'; '.join(rejected)})" if rejected else ""
        problems.append(f"no Exchange server with a readable AdminDisplayVersion (Get-ExchangeServer){detail}")
    if not domains:
        problems.append("no accepted domain (Get-AcceptedDomain)")
    if problems:
        raise ExportParseError(source, "cannot import: " + "; ".join(problems))
    raw.warnings.extend(rejected)

    export = ExchangeExport(source=source, format=fmt, servers=servers, accepted_domains=domains)
    export.skipped, export.errors, export.collected_at = raw.skipped, raw.errors, raw.collected_at
    # a server's name as first seen, in any case, also for its FQDN (-Server ex01.contoso.com)
    spelling = {**{s.fqdn.casefold(): s.name for s in servers if s.fqdn}, **{s.name.casefold(): s.name for s in servers}}

    def server_of(rec: Record, key: str) -> str | None:
        name = _text(rec.get(key))
        return spelling.setdefault(name.casefold(), name) if name else None

    for rec in raw.records["client_access"]:
        if uri := _text(rec.get("autodiscoverserviceinternaluri")):
            export.autodiscover_internal_uris.append((uri, server_of(rec, "name")))
    for rec in raw.records["virtual_directories"]:
        kind = _vdir_kind(rec)
        if kind is None:
            raw.warnings.append(f"ignored a virtual directory of unknown kind: {_text(rec.get('name'))!r}")
            continue
        urls = (_text(rec.get("internalurl")), _text(rec.get("externalurl")), server_of(rec, "server"))
        export.virtual_directories.setdefault(kind, []).append(urls)
    for rec in raw.records["outlook_anywhere"]:
        export.outlook_anywhere.append((_text(rec.get("internalhostname")), _text(rec.get("externalhostname")),
                                        server_of(rec, "server")))
    dates = [text for rec in raw.records["certificates"] for key in ("notbefore", "notafter") if (text := _text(rec.get(key)))]
    month_first = _month_first(dates, raw.warnings)
    # Get-ExchangeCertificate pasted without -Server lists the local server's: certain only when there is one
    only = [s.name for s in servers if "edge" not in {r.lower() for r in s.roles}]
    for rec in raw.records["certificates"]:
        if cert := _build_certificate(rec, raw.warnings, month_first):
            if cert.server is None and len(only) == 1:
                cert = dataclasses.replace(cert, server=only[0])
            elif cert.server is not None:
                cert = dataclasses.replace(cert, server=spelling.setdefault(cert.server.casefold(), cert.server))
            export.certificates.append(cert)
    export.counts = _build_counts(raw)
    export.warnings = raw.warnings
    return export


def _looks_like_json(body: str) -> bool:
    """JSON-shaped: starts as an object or an array of objects/strings, or parses; ``[PS] C:\\>`` and
    ``[ex01]: PS C:\\>`` prompts of a pasted session start with ``[`` too."""
    if _JSON_START_RE.match(body):
        return True
    try:
        json.loads(body)
    except (ValueError, RecursionError):
        return False
    return True


def parse_export(text: str | bytes, source: str = "<export>") -> ExchangeExport:
    """Read collect-exchange.ps1 JSON or pasted Format-List output (format detected)."""
    if len(text) > MAX_EXPORT_BYTES:
        raise ExportParseError(source, f"larger than {size_text(MAX_EXPORT_BYTES)}; is this an export?")
    if isinstance(text, bytes):
        text = _decode(text, source)
    body = text.lstrip("\ufeff \t\r\n")
    if not body:
        raise ExportParseError(source, "the export is empty")
    if _looks_like_json(body):
        return _build(_raw_from_json(body, source), source, "json")
    return _build(_raw_from_format_list(body, source), source, "format-list")


def read_export(path: Path) -> ExchangeExport:
    """The export in the file at `path`; ExportParseError (which file and why) when it cannot be read."""
    try:
        if path.stat().st_size > MAX_EXPORT_BYTES:
            raise ExportParseError(str(path), f"larger than {size_text(MAX_EXPORT_BYTES)}; is this an export?")
        data = path.read_bytes()
    except OSError as exc:
        raise ExportParseError(str(path), f"cannot read: {exc.strerror or exc}") from None
    return parse_export(data, str(path))


def other_organisation(export: ExchangeExport, profile: Mapping[str, Any]) -> str | None:
    """Why `export` looks like another organisation's than `profile`'s (a validated profile as a mapping): None when
    it shares an accepted domain (the external or an extra domain) or a server (by NetBIOS name or the first label of
    its FQDN) with it."""
    domains, servers = [profile["external_domain"], *profile["extra_domains"]], profile["servers"]
    accepted = {d.name.rstrip(".").casefold() for d in export.accepted_domains}
    names = {n.casefold() for s in export.servers for n in (s.name, (s.fqdn or "").split(".")[0]) if n}
    if accepted & {d.rstrip(".").casefold() for d in domains} or names & {s.casefold() for s in servers}:
        return None
    return (f"shares no accepted domain ({', '.join(sorted(accepted))}) with the profile's domains "
            f"({', '.join(domains) or 'none'}) and no server ({', '.join(s.name for s in export.servers)}) with its "
            f"servers ({', '.join(servers) or 'none'}): it looks like another organisation's export")


# --------------------------------------------------------------------------- name analysis


@functools.cache
def _psl() -> PublicSuffixList:
    return PublicSuffixList()


def _is_internal_name(host: str, internal_domain: str) -> bool:
    """NetBIOS name, private IP, a name under the AD domain, or a suffix no public CA can validate."""
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        pass
    if "." not in host or (internal_domain and (host == internal_domain or host.endswith("." + internal_domain))):
        return True
    return _psl().privatesuffix(host.lstrip("*."), accept_unknown=False) is None


def covers(cert_names: tuple[str, ...], host: str) -> bool:
    for name in cert_names:
        if name == host:
            return True
        if name.startswith("*.") and "." in host and host.split(".", 1)[1] == name[2:]:
            return True
    return False


_RDN_RE = re.compile(  # one attribute of a distinguished name; a value is "quoted" (with "" inside) or \-escaped,
    # and a " inside an unquoted value (RFC 4514 wants it escaped; Windows quotes such a value) is taken as it is
    # (as is a value that only starts with a quoted part: 'O="A" B' is '"A" B')
    r'(?:^|[,;+])\s*(?P<key>[A-Za-z][A-Za-z0-9.]*)\s*=\s*'
    r'(?:"(?P<quoted>(?:[^"]|"")*)"\s*(?=[,;+]|$)|(?P<plain>(?:\\.|[^,;+\\])*))')


def dn_attributes(dn: str | None) -> dict[str, str]:
    """``CN=a, O="B, Inc.", C=US`` (as Windows writes a subject or issuer) -> ``{"CN": "a", "O": "B, Inc.",
    "C": "US"}``: each attribute's first value, unquoted."""
    values: dict[str, str] = {}
    for match in _RDN_RE.finditer(dn or ""):
        quoted = match["quoted"]
        value = quoted.replace('""', '"') if quoted is not None else re.sub(r"\\(.)", r"\1", match["plain"])
        values.setdefault(match["key"].upper(), value.strip())
    return values


def _issuer_looks_public(cert: Certificate) -> bool:
    """Not self-signed, and the issuer reads like a commercial CA (O= and C=, no AD CS ``DC=``)."""
    attributes = dn_attributes(cert.issuer)
    return not cert.is_self_signed and "DC" not in attributes and {"O", "C"} <= attributes.keys()


def _issuer_looks_ad_cs(cert: Certificate) -> bool:
    return not cert.is_self_signed and "DC" in dn_attributes(cert.issuer)


def _current_certificate(export: ExchangeExport) -> Certificate | None:
    """The CA-issued certificate in use: one bound to IIS if any is, the latest to expire."""
    issued = [c for c in export.certificates if not c.is_self_signed]
    return max(issued, key=lambda c: (any(s.upper() == "IIS" for s in c.services), c.not_after or dt.date.min),
               default=None)


def _client_servers(export: ExchangeExport) -> list[Server]:
    return [s for s in export.servers if _CLIENT_ROLES & {role.lower() for role in s.roles}]


def _internal_domain(export: ExchangeExport) -> str:
    """AD DNS domain from the client access servers' FQDNs, or "" when it is an accepted domain."""
    servers = _client_servers(export) or export.servers
    suffixes = Counter(s.fqdn.lower().split(".", 1)[1] for s in servers if s.fqdn and "." in s.fqdn)
    if not suffixes:
        return ""
    domain = suffixes.most_common(1)[0][0]
    return "" if domain in {d.name for d in export.accepted_domains} else domain


def _client_domains(export: ExchangeExport) -> list[AcceptedDomain]:
    """Accepted domains whose users need Autodiscover: authoritative / internal relay, no wildcards."""
    return [
        d
        for d in export.accepted_domains
        if d.type.lower() in _CLIENT_DOMAIN_TYPES and not d.name.startswith("*") and not d.name.endswith(_HYBRID_SUFFIX)
    ]


def _primary_domain(export: ExchangeExport, notes: list[str]) -> AcceptedDomain:
    default = next((d for d in export.accepted_domains if d.default), None)
    if default and default.type.lower() == "authoritative":
        return default
    fallback = next((d for d in export.accepted_domains if d.type.lower() == "authoritative"), None)
    chosen = fallback or default or export.accepted_domains[0]
    why = "is not authoritative" if default else "is not in the export"
    notes.append(f"external_domain: the default accepted domain {why}; used {chosen.name}")
    return chosen


def _used_names(export: ExchangeExport, warnings: list[str]) -> list[tuple[str, str, str, str | None]]:
    """``(side, host, what uses it, on which server)`` for every URL and host name; side is ``internal`` or
    ``external``; the server is None where the export does not say."""
    values: list[tuple[str, str | None, str, str | None]] = []
    for kind, entries in export.virtual_directories.items():
        for internal, external, server in entries:
            values += [("internal", internal, f"{_KIND_LABELS[kind]} internal URL", server)]
            values += [("external", external, f"{_KIND_LABELS[kind]} external URL", server)]
    values += [("internal", uri, "Autodiscover internal URI (SCP)", server)
               for uri, server in export.autodiscover_internal_uris]
    for internal, external, server in export.outlook_anywhere:
        values += [("internal", internal, "Outlook Anywhere internal host name", server)]
        values += [("external", external, "Outlook Anywhere external host name", server)]
    used = [(side, host, label, server) for side, value, label, server in values
            if (host := _host(value, label, warnings))]
    return list(dict.fromkeys(used))


# --------------------------------------------------------------------------- profile


_UNKNOWABLE = (
    "desktops, domain_joined_share, mdm_share: how many Outlook desktops there are, how many are domain-joined and "
    "how many phones an MDM manages is not in Exchange's configuration; the defaults apply (desktops = users).",
    "acme_ok, dns_api, spare_ip: network and policy facts the server cannot see; the defaults apply.",
    "start, horizon_years, ca, currency, admin_rate, user_rate, weights: planning choices; the defaults apply.",
)


def why_not_counted(export: ExchangeExport, name: str) -> str:
    """Why the export has no usable count ``name``: skipped, failed, refused or not collected."""
    cmdlets = COUNT_CMDLETS[name]
    failed = [e for e in export.errors if any(c in e.lower() for c in cmdlets)]
    skipped = [s for s in export.skipped if any(c in s.lower() for c in cmdlets) or "-skipcounts" in s.lower()]
    refused = [w for w in export.warnings if w.startswith(f"{name}:")]
    if refused:
        return refused[0].split(": ", 1)[1]
    if failed:
        return f"the count failed ({failed[0]})"
    if skipped:
        return f"the count was skipped ({skipped[0]})"
    return "the export has no count (collect again with the current collect-exchange.ps1, or paste the count)"


def _count_notes(export: ExchangeExport, profile: dict[str, Any], notes: list[str]) -> None:
    """Set ``users`` and ``mobile_devices`` from the export's counts, saying where each came from."""
    if mailboxes := export.counts.get("user_mailboxes"):
        profile["users"] = mailboxes.value
        command = mailboxes.command or "Get-Mailbox"
        scope = ("shared, room and equipment mailboxes are not counted" if "usermailbox" in command.lower() else
                 "this command counts shared, room and equipment mailboxes too: lower it to the people who use mail")
        notes.append(f"users: {mailboxes.value} user mailboxes, counted by {command} ({scope}).")
    else:
        notes.append(f"users: REQUIRED, not set: {why_not_counted(export, 'user_mailboxes')}. Fill it in.")
    if devices := export.counts.get("mobile_devices"):
        profile["mobile_devices"] = devices.value
        notes.append(
            f"mobile_devices: {devices.value} ActiveSync device partnerships, counted by "
            f"{devices.command or 'Get-MobileDevice'}; partnerships of phones that stopped syncing count too, "
            "so lower it if many are stale."
        )
    else:
        notes.append(
            f"mobile_devices: not set, so the default 0 applies: {why_not_counted(export, 'mobile_devices')}. "
            "Set it if phones use ActiveSync."
        )


def profile_from_export(export: ExchangeExport, *, org: str | None = None) -> tuple[dict[str, Any], list[str]]:
    """Profile fields (design.md names) the export can tell, and notes on the ones it cannot."""
    notes: list[str] = []
    warnings: list[str] = []
    primary = _primary_domain(export, notes)
    internal_domain = _internal_domain(export)
    client_servers = _client_servers(export)
    if not client_servers:
        notes.append("servers: no server has the Mailbox or ClientAccess role; left empty")
    order = release_order()
    releases = sorted({s.release for s in client_servers or export.servers}, key=order.index)
    if len(releases) > 1:
        notes.append(f"exchange_version: mixed releases {', '.join(releases)}; used the newest, {releases[-1]}")

    used = _used_names(export, warnings)
    internal_used = {host for side, host, _, _ in used if side == "internal"}
    external_used = {host for side, host, _, _ in used if side == "external"}
    owa_hosts = Counter(host for _, external, _ in export.virtual_directories.get("owa", [])
                        if (host := _host(external, "", [])))
    oa_hosts = [host for _, external, _ in export.outlook_anywhere if (host := _host(external, "", []))]
    if owa_hosts:
        owa_host = owa_hosts.most_common(1)[0][0]
    elif oa_hosts:
        owa_host = oa_hosts[0]
        notes.append("owa_host: no OWA external URL; used the Outlook Anywhere external host name")
    else:
        owa_host = f"mail.{primary.name}"
        notes.append(f"owa_host: no OWA external URL or Outlook Anywhere host name; assumed {owa_host}")

    issued = [c for c in export.certificates if not c.is_self_signed]
    internal_hosts = internal_used | {name for c in issued for name in c.domains}
    all_hosts = internal_hosts | external_used | {name for c in export.certificates for name in c.domains}
    accepted = {d.name for d in export.accepted_domains}
    external_names = external_used | {f"autodiscover.{d.name}" for d in export.accepted_domains}

    profile: dict[str, Any] = {
        "org": org or primary.name,
        "exchange_version": releases[-1],
        "external_domain": primary.name,
        "extra_domains": [d.name for d in _client_domains(export) if d.name != primary.name],
        "internal_domain": internal_domain,
        "servers": _netbios_names(client_servers, notes),
        "owa_host": owa_host,
        "internal_names": any(_is_internal_name(h, internal_domain) for h in internal_hosts),
        "root_on_exchange": bool(all_hosts & accepted),
    }
    _split_dns_note(sorted(internal_used & external_names), sorted(internal_used - external_names), owa_host, profile,
                    notes)
    _subject_fields(_current_certificate(export), org, profile, notes)
    if any(c.is_self_signed for c in export.certificates):
        notes.append("internal_names: self-signed certificates Exchange made itself were not counted")
    if ad_cs := next((c for c in issued if _issuer_looks_ad_cs(c)), None):
        profile["internal_ca"] = True
        notes.append(f"internal_ca: certificate {ad_cs.thumbprint} was issued by {ad_cs.issuer}; check that CA is still in use")
    else:
        notes.append("internal_ca: no certificate from an AD CS CA found; the default applies")
    if hybrid := next((d.name for d in export.accepted_domains if d.name.endswith(_HYBRID_SUFFIX)), None):
        profile["partner_tls"] = True
        notes.append(f"partner_tls: accepted domain {hybrid} shows an Exchange Online hybrid set-up")
    else:
        notes.append("partner_tls: the export cannot show SMTP TLS with partners; the default applies")
    skipped_domains = [d.name for d in export.accepted_domains if d.name.startswith("*")]
    if skipped_domains:
        notes.append(f"extra_domains: wildcard accepted domains left out: {', '.join(skipped_domains)}")
    _count_notes(export, profile, notes)
    notes.extend(_UNKNOWABLE)
    if export.skipped:
        notes.append(f"not collected: {'; '.join(export.skipped)}")
    notes.extend(f"collection error, some values may be missing: {error}" for error in export.errors)
    counted = tuple(f"{name}:" for name in COUNT_CMDLETS)  # already explained in the users / mobile_devices notes
    reading = [w for w in dict.fromkeys(export.warnings + warnings) if not w.startswith(counted)]
    notes.extend(f"reading the export: {w}" for w in reading)
    return profile, notes


def _listed(names: list[str], most: int = 4) -> str:
    """``a, b, c, d and 3 more``."""
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return ", ".join(names[:most]) + more


def _split_dns_note(external: list[str], internal: list[str], owa_host: str, profile: dict[str, Any],
                    notes: list[str]) -> None:
    """``split_dns`` is a capability (internal DNS can answer the external names): an internal URL on an external
    name shows it; internal URLs on internal names (the server's FQDN, as Exchange sets them up) show nothing."""
    if external:
        profile["split_dns"] = True
        others = f" (other internal URLs use {_listed(internal)})" if internal else ""
        notes.append(f"split_dns: true: internal URLs already use {_listed(external)}, so internal DNS answers the "
                     f"external names{others}")
    elif internal:
        zone = _psl().privatesuffix(owa_host) or owa_host
        default = bool(FIELD_BY_NAME["split_dns"].default)
        # commands.py: with split DNS, an option moves the internal URLs unless its certificates carry their names
        moved = (", and the options whose certificates do not carry the internal URLs' names move those URLs to the "
                 "external names" if default else "")
        notes.append(
            f"split_dns: the internal URLs use {_listed(internal)}, no external name (Exchange sets them to the "
            f"server's FQDN by default); that does not show whether internal DNS can answer {owa_host}, so the default "
            f"({str(default).lower()}) applies{moved}. Set split_dns: {str(not default).lower()} if internal DNS "
            f"{'cannot' if default else 'can'} hold {zone} (or a zone for {owa_host} alone)."
        )
    else:
        notes.append("split_dns: the export has no internal URL; the default applies")


#: profile field -> its attribute in a certificate subject, and what applies without it
_SUBJECT_FIELDS = {"org": ("O", "org stays {org}, the primary domain: set the organisation's name"),
                   "country": ("C", "country is left empty, so certificate requests show a placeholder for C=: set "
                                    "the two-letter code")}


def _subject_fields(current: Certificate | None, org: str | None, profile: dict[str, Any], notes: list[str]) -> None:
    """``org`` (unless given) and ``country`` from the O= and C= of the CA-issued certificate in use, each if the
    profile's validation takes it; notes say which were taken and why the others were not."""
    subject = dn_attributes(current.subject) if current else {}
    # a subject holds several values: cut longer than one, enough for those Windows writes (CN, OU, O, L, S, C)
    shown = f"subject '{_clip(current.subject, 120)}', " if current and current.subject else ""
    where = f"the CA-issued certificate in use ({shown}thumbprint {current.thumbprint})" if current else ""
    found = {name: subject.get(key, "") for name, (key, _) in _SUBJECT_FIELDS.items() if name != "org" or not org}
    refused = _refused({name: value for name, value in found.items() if value})
    taken = {name: value for name, value in found.items() if value and name not in refused}
    for name, value in taken.items():
        profile[name] = value.upper() if FIELD_BY_NAME[name].capitals else value
    if taken:
        formula = [name for name, value in taken.items() if re.match(FORMULA_PATTERN, value)]
        warn = (f"; {' and '.join(formula)} starts with {' or '.join(repr(taken[n][0]) for n in formula)}, as a "
                "spreadsheet formula does: the tables the tool writes neutralise it; check it is the name meant"
                if formula else "")
        notes.append(f"{', '.join(taken)}: {' and '.join(str(profile[name]) for name in taken)}, the "
                     f"{' and '.join(_SUBJECT_FIELDS[name][0] + '=' for name in taken)} of {where}{warn}")
    notes.extend(f"{name}: the {_SUBJECT_FIELDS[name][0]}= of {where}, {_clip(found[name])!r}, was not used: {reason}; "
                 f"{_SUBJECT_FIELDS[name][1].format(org=profile['org'])}" for name, reason in refused.items())
    if missing := [name for name, value in found.items() if not value]:
        keys = " or ".join(_SUBJECT_FIELDS[name][0] + "=" for name in missing)
        lack = f"{where} has no {keys} in its subject" if current else f"no CA-issued certificate to take {keys} from"
        otherwise = "; ".join(_SUBJECT_FIELDS[name][1].format(org=profile["org"]) for name in missing)
        notes.append(f"{', '.join(missing)}: {lack}; {otherwise}")


def _clip(text: str, most: int = 60) -> str:
    """`text`, cut to `most` characters with "…" when longer (a note quotes a subject, not a page of it)."""
    return text if len(text) <= most else text[:most] + "…"


def _refused(values: dict[str, str]) -> dict[str, str]:
    """Why the engine's validation refuses any of these profile field values: field -> reason."""
    if not values:
        return {}
    raw, issues = frame_from_mappings([{"org": "-", "external_domain": "example.com", "users": 0, **values}], "")
    issues += validate(raw, "", default_parameters(), default_catalog(), None).issues
    return {issue.field: issue.reason for issue in issues if issue.field in values}


def _netbios_names(servers: list[Server], notes: list[str]) -> list[str]:
    """The servers' names for the profile's `servers` list, as exported; a name that is not one NetBIOS name
    (such as 'EX 1', which the list would read as two) is left out with a note rather than split."""
    names = list(dict.fromkeys(s.name for s in servers))
    odd = [name for name in names if not re.fullmatch(NETBIOS_PATTERN, name, re.IGNORECASE)]
    if odd:
        notes.append(f"servers: left out {', '.join(repr(n) for n in odd)}, not a NetBIOS name (1-15 letters, digits "
                     "or hyphens) as the list needs; the current state shows the servers as exported")
    return [name for name in names if name not in odd]


# --------------------------------------------------------------------------- current state

_TEXT_DIGITS_RE = re.compile(r"([^0-9]*)([0-9]*)")


def _server_order(name: str) -> tuple[list[tuple[str | int, ...]], str]:
    """Sort key for server names as Windows Explorer orders them: case-insensitive, a run of digits by its value
    (EX2 before ex10) where a digit would sort ("Ex 1" before EX02: a space sorts before a digit)."""
    key: list[tuple[str | int, ...]] = []
    for text, digits in _TEXT_DIGITS_RE.findall(name.casefold()):
        key += [(char,) for char in text]
        if digits:
            value = digits.lstrip("0")  # compared by length, then text: its value however long
            key.append(("0", len(value), value))
    return key, name


def _not_collected(export: ExchangeExport, servers: list[str]) -> dict[str, str | None]:
    """Which of `servers` the export has no certificates of -> the collection error or skip that says why (one that
    names the server, else one that names none), or None when nothing does. Certificates whose server is not known
    (a paste without -Server) may be any server's: then only a server an error or skip names is taken as missing."""
    reports = [r for r in export.errors + export.skipped if "get-exchangecertificate" in r.lower()]
    named: dict[str, list[str]] = {}
    for report in reports:
        match = _CERT_SERVER_RE.search(report)
        named.setdefault((match["quoted"] or match["bare"]).casefold() if match else "", []).append(report)
    unattributed = any(c.server is None for c in export.certificates)
    have = {c.server.casefold() for c in export.certificates if c.server}
    missing: dict[str, str | None] = {}
    for server in servers:
        why = named.get(server.casefold()) or (None if unattributed else named.get(""))
        if server.casefold() not in have and (why or not unattributed):
            missing[server] = "; ".join(why) if why else None
    return missing


#: what may be wrong with the certificates IIS serves a name with, on a server: none covers it, only self-signed
#: ones do, or (for a name used from outside) only self-signed ones and ones of the organisation's own CA
_COVERAGE_FAULTS = ("uncovered", "self_signed", "private_ca")


def _coverage(host: str, uses: list[tuple[str, str, str | None]], iis: dict[str | None, dict[str, dict[str, Any]]],
              not_collected: dict[str, str | None], private: set[str]) -> dict[str, dict[str, Any]]:
    """What is wrong with `host` (used as `uses`: side, label, server), checked on each server that uses it against
    the certificates bound to IIS there (those of unknown server count for every server); a use whose server is not
    known is checked against every server's. Servers whose certificates were not collected are not checked.

    Fault (of _COVERAGE_FAULTS) -> ``name``, ``used_by`` (the uses on the servers with that fault), ``servers``
    (those servers), ``everywhere`` (whether every server using the name has it) and ``elsewhere`` (the CA-issued
    certificates that cover the name on the other servers that use it)."""
    anywhere = {t: c for certs in iis.values() for t, c in certs.items()}
    status: dict[str | None, str] = {}
    covering: dict[str | None, list[dict[str, Any]]] = {}
    for server in dict.fromkeys(server for _, _, server in uses):
        if server in not_collected or (server is None and not_collected):
            continue  # its certificates (or those of a server it may be) are not known
        certs = anywhere if server is None else {**iis.get(server, {}), **iis.get(None, {})}
        covering[server] = [c for c in certs.values() if covers(tuple(c["names"]), host)]
        external = any(side == "external" and at == server for side, _, at in uses)
        status[server] = ("uncovered" if not covering[server] else
                          "self_signed" if all(c["self_signed"] for c in covering[server]) else
                          "private_ca" if external and all(c["self_signed"] or c["thumbprint"] in private
                                                           for c in covering[server]) else "")
    found = {}
    for fault in _COVERAGE_FAULTS:
        servers = [server for server, what in status.items() if what == fault]
        if not servers:
            continue
        sides = ("external",) if fault == "private_ca" else ("internal", "external")
        found[fault] = {
            "name": host,
            "used_by": list(dict.fromkeys(label for side, label, at in uses if at in servers and side in sides)),
            "servers": sorted((s for s in servers if s), key=_server_order),
            "everywhere": len(servers) == len({at for _, _, at in uses}),
            "elsewhere": list(dict.fromkeys(c["thumbprint"] for server, what in status.items() if what != fault
                                            for c in covering[server] if not c["self_signed"])),
        }
    return found


def current_state(export: ExchangeExport, *, today: dt.date, horizon_end: dt.date) -> dict[str, Any]:
    """The certificates in place and what is wrong with them today and before ``horizon_end``."""
    internal_domain = _internal_domain(export)
    groups: dict[str, list[Certificate]] = {}
    for cert in export.certificates:
        groups.setdefault(cert.thumbprint, []).append(cert)

    certificates, expiring = [], []
    for thumbprint, copies in groups.items():
        first = copies[0]
        services = list(dict.fromkeys(s for c in copies for s in c.services))
        servers = sorted({c.server for c in copies if c.server}, key=_server_order)
        certificates.append(
            {
                "thumbprint": thumbprint,
                "subject": first.subject,
                "issuer": first.issuer,
                "servers": servers,
                "names": list(first.domains),
                "services": services,
                "bound_to_iis": any(s.upper() == "IIS" for s in services),
                "self_signed": first.is_self_signed,
                "public_issuer": _issuer_looks_public(first),
                "not_before": first.not_before.isoformat() if first.not_before else None,
                "not_after": first.not_after.isoformat() if first.not_after else None,
            }
        )
        if first.not_after and first.not_after < horizon_end:
            expiring.append(
                {
                    "thumbprint": thumbprint,
                    "subject": first.subject,
                    "servers": servers,
                    "services": services,
                    "not_after": first.not_after.isoformat(),
                    "days_left": (first.not_after - today).days,
                    "expired": first.not_after < today,
                }
            )
    on_iis = [c for c in certificates if c["bound_to_iis"]]
    by_thumbprint = {c["thumbprint"]: c for c in certificates}
    iis: dict[str | None, dict[str, dict[str, Any]]] = {}  # server (None: not known) -> its IIS certificates
    for copy in export.certificates:
        if any(s.upper() == "IIS" for s in copy.services):
            iis.setdefault(copy.server, {})[copy.thumbprint] = by_thumbprint[copy.thumbprint]
    uses: dict[str, list[tuple[str, str, str | None]]] = {}
    for side, host, label, server in _used_names(export, []):
        uses.setdefault(host, []).append((side, label, server))
    servers_in_use = [s for s in dict.fromkeys(s for entries in uses.values() for _, _, s in entries) if s]
    candidates = [s.name for s in _client_servers(export)]
    not_collected = _not_collected(export, list(dict.fromkeys(candidates + servers_in_use)))
    private = {thumbprint for thumbprint, copies in groups.items() if _issuer_looks_ad_cs(copies[0])}
    coverage = {status: [] for status in _COVERAGE_FAULTS}
    for host, entries in sorted(uses.items()):
        for status, entry in _coverage(host, entries, iis, not_collected, private).items():
            coverage[status].append(entry)

    autodiscover_names = [f"autodiscover.{d.name}" for d in _client_domains(export)]
    reported = {e["name"] for e in coverage["uncovered"]}
    autodiscover_missing = [] if not_collected else [
        name for name in autodiscover_names
        if name not in reported and not any(covers(tuple(c["names"]), name) for c in on_iis)]
    internal_on_public = [
        {
            "thumbprint": c["thumbprint"],
            "issuer": c["issuer"],
            "servers": c["servers"],
            "names": internal,
            "not_after": c["not_after"],
        }
        for c in certificates
        if c["public_issuer"] and (internal := [n for n in c["names"] if _is_internal_name(n, internal_domain)])
    ]
    return {
        "today": today.isoformat(),
        "horizon_end": horizon_end.isoformat(),
        "certificates": certificates,
        "names_in_use": sorted(uses),
        "certificates_not_collected": [{"server": server, "error": error} for server, error in not_collected.items()],
        "uncovered_names": coverage["uncovered"],
        "self_signed_only_names": coverage["self_signed"],
        "private_ca_only_names": coverage["private_ca"],
        "autodiscover_names_not_covered": autodiscover_missing,
        "internal_names_on_public_certificates": internal_on_public,
        "expiring": sorted(expiring, key=lambda e: e["not_after"]),
        "self_signed_on_iis": [
            {"thumbprint": c["thumbprint"], "subject": c["subject"], "servers": c["servers"]}
            for c in certificates
            if c["self_signed"] and c["bound_to_iis"]
        ],
    }
