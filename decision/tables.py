"""Reading tables of profiles (CSV, XLSX, Parquet) in parts of bounded size, the same way for every front end.

`decision.profiles.read_table` (evaluate, appendix, the API) joins the parts; `python -m decision score`
scores them one by one, so its memory does not grow with the file. Row numbers are those a spreadsheet
shows (header = row 1, unless blank lines come before it). Rows without any value are skipped. A row that
cannot become a profile (a CSV line with more fields than the header, or with fewer, as a line cut short by an
interrupted download; an XLSX row with values under no heading) is not dropped: it is listed in `unread` with
its row number.
"""

from __future__ import annotations

import codecs
import csv
import re
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from decision.errors import InputError, Issue
from decision.safeyaml import FALLBACK_ERRORS, UTF32_BOMS, UTF32_TEXT
from decision.textops import cell_bytes, text_offsets

CSV_SUFFIXES = (".csv", ".txt")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
YAML_SUFFIXES = (".yaml", ".yml")
_READ = (*CSV_SUFFIXES, *XLSX_SUFFIXES, ".parquet", *YAML_SUFFIXES)
INPUT_TYPES = f"{', '.join(_READ[:-1])} or {_READ[-1]}"  # the file types read, for messages
SEPARATORS = (",", ";", "\t")
LOOKAHEAD = 1000  # lines below the header checked for too many fields before the table is read
SCAN_BYTES = 1 << 20  # bytes of a CSV file read at a time to count the fields of its lines (see `_ShortLines`)
# Text columns are parsed as arrow text, which pandas' C parser builds straight from its buffer (dtype=str goes
# through a Python string per cell: 2-3x the time), then viewed as `str` (see `_as_str`): the same values.
_PARSED_TEXT = pd.ArrowDtype(pa.large_string())
_UNCLOSED = re.compile(r"EOF inside string starting at row (\d+)")
_SKIPPED = re.compile(r"Skipping line (\d+): expected \d+ fields, saw (\d+)")
BOM = b"\xef\xbb\xbf"
UTF16_BOMS = {b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be"}
TRANSCODE_BYTES = 1 << 20  # bytes of a UTF-16 file transcoded to UTF-8 at a time
_SEPARATOR_LINE = re.compile(rb"sep=(.)(?:\r\n|\n|\r)")  # Excel's: the file's field separator, then the table
# PowerShell 5.1 writes '#TYPE <class>'; spreadsheets save an empty row as a line of separators (',,,')
_ABOVE_HEADER = re.compile(rb"(?:#TYPE [^\r\n]*(?:\r\n|\n|\r))?(?:[,;\t]*(?:\r\n|\n|\r))*")
READ_AS_TEXT = (";", "\t")  # separators of files read as text, whose numbers are read as written (see plain_numbers)


@dataclass
class TablePart:
    """Raw profiles of one part of a table: `raw.attrs["rows"]` holds positions 1..n, `rows` where each came from;
    `span` counts the rows of the table the part covers, blank ones included (where the next part starts); `notes`
    are problems read around without losing a row (a workbook's damaged merged range), for the user to see."""

    raw: pd.DataFrame
    rows: np.ndarray
    unread: list[Issue] = field(default_factory=list)
    span: int = 0
    notes: list[Issue] = field(default_factory=list)


def heading_key(heading: Any) -> str:
    """The field name a column heading stands for when written another way: 'Users', 'External domain',
    'DOMAIN-JOINED SHARE' and PowerShell's 'DomainJoinedShare' or 'OWAHost' stand for users, external_domain,
    domain_joined_share and owa_host."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", str(heading).strip())
    return re.sub(r"[\s_-]+", "_", words.lower())


TITLE_ROWS_SEEN = 10  # rows of a sheet searched for a header below title rows, to say where it is


def _problem(path: Path | str, reason: str) -> InputError:
    return InputError(Issue(str(path), 0, "", reason))


def _part(raw: pd.DataFrame, rows: np.ndarray, unread: list[Issue] | None = None, span: int | None = None,
          notes: list[Issue] | None = None) -> TablePart:
    raw = raw.reset_index(drop=True)
    raw.attrs["rows"] = np.arange(1, len(raw) + 1)
    unread = unread or []
    return TablePart(raw, np.asarray(rows, dtype=np.int64), unread, len(raw) + len(unread) if span is None else span,
                     notes or [])


def table_parts(path: Path, chunk_rows: int, text_columns: Mapping[str, str],
                sized: Callable[[int | None], None] | None = None) -> Iterator[TablePart]:
    """Parts of at most `chunk_rows` rows of a CSV, XLSX or Parquet file; at least one (maybe empty), so the
    columns of a header-only table are checked too. `text_columns` are read as text ('007' stays '007').
    `sized` is told how many rows a workbook's sheet records below its header when it is opened (see `xlsx_parts`)."""
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return csv_parts(path, chunk_rows, text_columns)
    if suffix == ".parquet":
        return parquet_parts(path, chunk_rows)
    if suffix in XLSX_SUFFIXES:
        return xlsx_parts(path, chunk_rows, text_columns, sized)
    raise _problem(path, f"unsupported file type '{suffix}' (use {INPUT_TYPES})")


# ------------------------------------------------------------------------------------------ CSV

def utf16_encoding(path: Path) -> str | None:
    """'utf-16-le' or 'utf-16-be' for a file that starts with that byte order mark (BOM), else None."""
    with path.open("rb") as fh:
        return UTF16_BOMS.get(fh.read(2))


def _utf16_without_bom(head: bytes) -> bool:
    """Whether bytes holding NULs look like UTF-16 text without a BOM: a table's characters are mostly ASCII, each
    a NUL byte beside one that is not, the NULs on one side of the pairs."""
    even, odd = head[0::2].count(0), head[1::2].count(0)
    return max(even, odd) > len(head) // 4 and min(even, odd) * 10 < max(even, odd)


@contextmanager
def open_csv(path: Path) -> Iterator[BinaryIO]:
    """A CSV file opened for `parse_csv`, after refusing UTF-32 text and binary files (NULs in the first 4 KiB of
    text): its own bytes or, for UTF-16 text with a BOM (Windows PowerShell 5.1's `Out-File` and `>`, Excel's
    "Unicode Text"), the same text as UTF-8 (see `_as_utf8`): the same lines, so the same rows."""
    with path.open("rb") as raw:
        head = raw.read(4096)
        raw.seek(0)
        if head.startswith(UTF32_BOMS):
            raise _problem(path, UTF32_TEXT)
        encoding = UTF16_BOMS.get(head[:2])
        if b"\x00" in (head.decode(encoding, "replace").encode() if encoding else head):
            if not encoding and _utf16_without_bom(head):
                raise _problem(path, "UTF-16 text without a byte order mark (BOM): save it as CSV (UTF-8)")
            raise _problem(path, "binary file, not a CSV table")
        with (_as_utf8(raw, encoding, path) if encoding else nullcontext(raw)) as source:
            yield source


@contextmanager
def _as_utf8(source: BinaryIO, encoding: str, path: Path) -> Iterator[BinaryIO]:
    """UTF-16 text (BOM included, which becomes UTF-8's) as UTF-8, transcoded `TRANSCODE_BYTES` at a time into an
    anonymous temporary file, deleted when closed. Text that is not valid UTF-16 is refused, naming its line."""
    decode = codecs.getincrementaldecoder(encoding)().decode
    feeds = returns = 0  # line ends before the chunk: '\n', and '\r' for files with old Mac line ends
    with tempfile.TemporaryFile() as target:
        while True:
            data = source.read(TRANSCODE_BYTES)
            try:
                text = decode(data, final=not data)
            except UnicodeDecodeError as exc:
                before = exc.object[:exc.start].decode(encoding)
                line = 1 + ((feeds + before.count("\n")) or (returns + before.count("\r")))
                raise _problem(path, f"not valid UTF-16 text: {exc.reason} on line {line} (a damaged or cut-off "
                                     "file?)") from None
            target.write(text.encode())
            feeds, returns = feeds + text.count("\n"), returns + text.count("\r")
            if not data:
                break
        target.seek(0)
        yield target


@contextmanager
def csv_problems(path: Path | str) -> Iterator[None]:
    """A CSV the parser gives up on is a whole-input problem."""
    try:
        yield
    except pd.errors.EmptyDataError:
        raise _problem(path, "the file is empty") from None
    except pd.errors.ParserError as exc:
        text = str(exc).splitlines()[0]
        if unclosed := _UNCLOSED.search(text):  # the parser counts rows from 0 at the header
            raise InputError(Issue(str(path), int(unclosed[1]) + 1, "", "cannot read the CSV: a quoted value that "
                                   "starts in this row is never closed")) from None
        raise _problem(path, f"cannot read the CSV: {text[:200]}") from None


def csv_parts(path: Path, chunk_rows: int, text_columns: Mapping[str, str]) -> Iterator[TablePart]:
    """A CSV file in parts (see `open_csv` and `parse_csv`)."""
    with open_csv(path) as source, csv_problems(path):
        yield from parse_csv(source, chunk_rows=chunk_rows, path=path, text_columns=text_columns)


def _with_warnings(read: Callable[[], pd.DataFrame]) -> tuple[pd.DataFrame | None, list[tuple[int, int]], list[str]]:
    """read() → (frame, [(line, fields) skipped for too many fields], the parser's other warnings); no frame when
    the reader had no rows left (it may have skipped lines on the way: the last line of the file)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        try:
            frame = read()
        except StopIteration:
            frame = None
    texts = [str(w.message) for w in caught]
    skipped = [(int(line), int(saw)) for text in texts for line, saw in _SKIPPED.findall(text)]
    return frame, skipped, [text for text in texts if not _SKIPPED.search(text)]


def _start(source: BinaryIO) -> bytes:
    """The first 64 KiB of a CSV file object from where it stands (left there), without a UTF-8 BOM."""
    origin = source.tell()
    start = source.read(64 * 1024)
    source.seek(origin)
    return start.removeprefix(BOM)


def _separator_line(source: BinaryIO, path: Path | str) -> str | None:
    """The separator Excel's "sep=;" first line sets, leaving `source` past that line (Excel does not show it as a
    row); None, and `source` where it was, when the file does not start with one."""
    origin = source.tell()
    head = source.read(16)
    line = _SEPARATOR_LINE.match(head, len(BOM) if head.startswith(BOM) else 0)
    source.seek(origin + (line.end() if line else 0))
    if line is None:
        return None
    sep = line[1].decode("latin-1")
    if sep not in SEPARATORS:
        raise _problem(path, f"the first line ('sep={sep}') sets a field separator this tool does not read: "
                             "save the CSV with ',' or ';' between the fields")
    return sep


def _above_header(start: bytes) -> bytes:
    """What comes before the header line: the '#TYPE ...' line of Windows PowerShell's Export-Csv, blank lines and
    lines of separators only (an empty row as a spreadsheet saves it)."""
    return _ABOVE_HEADER.match(start)[0]


def _separator(start: bytes) -> str:
    """The field separator: ',' unless the header line holds more ';' (as spreadsheets in many European
    locales save CSV) or tabs. Profile field names contain none of them, so the header line decides."""
    line = next(iter(start[len(_above_header(start)):].splitlines()), b"")
    counts = {sep: line.count(sep.encode()) for sep in SEPARATORS}
    best = max(SEPARATORS, key=counts.__getitem__)  # a tie keeps the first, ','
    return best if counts[best] else ","


def _lines_above_header(start: bytes) -> int:
    """How many lines come before the header (the parser is told to skip them; a spreadsheet shows them as rows)."""
    above = _above_header(start)
    return above.count(b"\n") or above.count(b"\r")  # '\r' alone ends old Mac lines


def _head(source: BinaryIO, sep: str, above: int) -> tuple[list[str], list[tuple[int, int]]]:
    """The header's names as written (pandas would rename a repeated one 'users.1'), and the lines right
    below it with more fields than the header (`above`: lines before the header): pandas would read
    the first of them as a row *index*. `source` is left where it was."""
    origin = source.tell()
    head, skipped, _ = _with_warnings(lambda: pd.read_csv(
        source, header=None, skiprows=above, nrows=LOOKAHEAD, dtype=str, keep_default_na=False,
        encoding="utf-8-sig", encoding_errors=FALLBACK_ERRORS, skipinitialspace=True, on_bad_lines="warn", sep=sep))
    source.seek(origin)
    names = [str(c).strip() for c in head.iloc[0].tolist()] if len(head) else []
    bad = dict(skipped)
    leading = []
    while (line := above + len(leading) + 2) in bad:
        leading.append((line, bad[line]))
    return names, leading


def parse_csv(source: BinaryIO, *, chunk_rows: int | None, path: Path | str,
              text_columns: Mapping[str, str]) -> Iterator[TablePart]:
    """CSV bytes (a binary file object, from where it stands) → parts of `chunk_rows` rows (`None`: one part).

    UTF-8 with or without BOM (`open_csv` gives UTF-16 files as UTF-8); bytes that are not UTF-8 are read as
    Windows-1252, so "ANSI" files and files mixing both encodings keep their characters. Fields are separated
    by ',', ';' or tabs (see `_separator`). A ';' or tab file is read as text, and every part carries its
    separator in `raw.attrs["separator"]`: validation reads numbers as a spreadsheet with that separator writes
    them (see `plain_numbers`).
    Row numbers are those a spreadsheet shows (a quoted value over several lines is one row; blank lines are
    rows too, so the header is row 1 unless blank lines come before it). Rows without any value (blank lines,
    the ",,," lines spreadsheets save for empty rows, above the header too) are skipped, as blank rows of a
    sheet are. Above the header, Excel's "sep=;" line sets the separator (and is not a row); Windows
    PowerShell's "#TYPE ..." line is a row.
    A line with more fields than the header is an `unread` row, and so is one with fewer than the header's named
    columns (see `_ShortLines`): a line cut short, whose missing values the parser would read as empty. A row
    that writes its empty values (',,') is whole.
    """
    told = _separator_line(source, path)
    start = _start(source)
    sep, above = told or _separator(start), _lines_above_header(start)
    names, leading = _head(source, sep, above)
    headed = len(names)  # spreadsheets save empty headings right of the table (",,"): those columns are dropped
    while headed and not names[headed - 1]:
        headed -= 1
    twice = sorted({n for n in names[:headed] if n and names.count(n) > 1})  # validation names unheaded ones
    if twice:
        raise InputError([Issue(str(path), above + 1, n, "the column appears more than once") for n in twice])

    def unread(lines: list[tuple[int, int]]) -> list[Issue]:
        mark = {",": "comma", ";": "semicolon", "\t": "tab"}[sep]
        return [Issue(str(path), line, "", f"has {saw} values but the header has {len(names)} columns (a {mark} in a "
                                           "value that is not in quotes?)") for line, saw in lines]

    def cut_short(row: int, fields: int) -> Issue:
        empty = {",": "',,'", ";": "';;'", "\t": "two tabs"}[sep]
        return Issue(str(path), row, names[fields], f"has {fields} value{'s' * (fields != 1)} but the header has "
                                                    f"{headed} columns: the line looks cut short (write an empty "
                                                    f"value as {empty}, do not leave it out)")

    skipped = [line for line, _ in leading]
    pending = unread(leading)
    dtype: Any = _PARSED_TEXT if sep in READ_AS_TEXT else {name: _parsed(text_columns[heading_key(name)]) for name in names
                                                  if heading_key(name) in text_columns}
    errors = _decoding_errors(source)
    lengths = _ShortLines(source, sep, _line_end(start[len(_above_header(start)):]), errors, len(names), headed, above)
    with pd.read_csv(source, header=0, skiprows=[*range(above), *(line - 1 for line in skipped)], index_col=False,
                     encoding="utf-8-sig", encoding_errors=errors, skipinitialspace=True,
                     dtype=dtype, on_bad_lines="warn", chunksize=chunk_rows, iterator=True, sep=sep,
                     skip_blank_lines=False) as reader:
        parts = 0
        while True:
            raw, lines, other = _with_warnings(reader.get_chunk if chunk_rows else reader.read)
            if raw is None:
                pending += unread(lines)
                if pending or not parts:
                    yield _part(pd.DataFrame({n: pd.Series(dtype=object) for n in names[:headed]}), np.zeros(0),
                                pending)
                return
            if any("loss of data" in text for text in other):
                raise _problem(path, f"cannot read the CSV: more than {LOOKAHEAD:,} lines below the header have "
                                     "more fields than the header")
            skipped.extend(line for line, _ in lines)
            raw = _as_str(raw)
            rows = raw.index.to_numpy(dtype=np.int64) + above + 2
            for line in sorted(skipped):
                rows[rows >= line] += 1
            raw.columns = names
            span = len(raw) + len(pending) + len(lines)
            short = lengths.short_rows(raw, rows, [line for line, _ in (leading if not parts else []) + lines])
            raw, rows = _without_blank_rows(raw, rows)
            cut = np.isin(rows, list(short)) if short else np.zeros(len(rows), dtype=bool)
            if cut.any():
                pending += [cut_short(int(row), short[row]) for row in rows[cut]]
                raw, rows = raw.loc[~cut], rows[~cut]
            beyond: list[Issue] = []
            if headed < len(names):
                raw, rows, beyond = _without_unheaded_columns(raw, rows, headed, path)
            raw.attrs["separator"] = sep
            yield _part(raw, rows, pending + unread(lines) + beyond, span)
            pending, parts = [], parts + 1
            if not chunk_rows:
                return


def _decoding_errors(source: BinaryIO) -> str:
    """How the parser decodes bytes that are not UTF-8: as Windows-1252 (`FALLBACK_ERRORS`), or 'strict' when there
    are none from where `source` stands (left there) to its end. Both read valid UTF-8 alike, but only with 'strict'
    does pandas' C parser build text columns straight from its buffer (the error handler costs 2x the parse)."""
    origin = source.tell()
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while block := source.read(TRANSCODE_BYTES):
            if not block.isascii() or decoder.getstate()[0]:  # ASCII after a whole character is UTF-8 as it is
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return FALLBACK_ERRORS
    finally:
        source.seek(origin)
    return "strict"


def _parsed(dtype: str) -> Any:
    """The dtype the parser is given for a column to be read as `dtype`."""
    return _PARSED_TEXT if dtype == "str" else dtype


def _as_str(raw: pd.DataFrame) -> pd.DataFrame:
    """The columns parsed as arrow text as `str` columns (arrow-backed too: no copy), in place, column by column: a
    quarter of the time `DataFrame.astype` takes, which builds the frame again."""
    for position, dtype in enumerate(raw.dtypes):
        if dtype == _PARSED_TEXT:
            raw.isetitem(position, raw.iloc[:, position].array.astype("str"))
    return raw


def _occurrences(raw: pd.DataFrame, chars: bytes) -> list[int]:
    """How often each of `chars` (ASCII) occurs in the values of `raw` that are text (numbers and true/false hold
    none), counted in the bytes of the arrow text columns."""
    counts = [0] * len(chars)
    for _, col in raw.items():
        if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
            continue
        text = col if getattr(col.dtype, "storage", None) == "pyarrow" else col.astype("str")
        array = pa.array(text.array)
        for found in cell_bytes(array if isinstance(array, pa.ChunkedArray) else pa.chunked_array([array])):
            if found is not None:
                data, offsets = found
                cells = data[offsets[0]:offsets[-1]]
                counts = [n + int(np.count_nonzero(cells == c)) for n, c in zip(counts, chars, strict=True)]
    return counts


class _ShortLines:
    """The rows of a CSV file with fewer fields than its header, found part by part as the parser reads them.

    pandas' C parser reads the fields a short line lacks as empty, as if written ',,', and does not say so (with
    `keep_default_na=False` too, they read as ''). A part's lines end in the file after as many line ends as it
    has rows and line breaks inside values; in those bytes, the separators less those inside values must number
    the header's fields less one on every line. Counting two bytes is cheap: only a part where the count falls
    short (a line cut short, a blank line) or that holds a line skipped for too many fields is read again, by the
    `csv` module, for the fields of each line. `at` is where the next part starts in `source` (which is left where
    the parser has it); None once that is not known (the `csv` module read the lines otherwise than the parser),
    and no more rows are checked.
    """

    def __init__(self, source: BinaryIO, sep: str, eol: bytes, errors: str, fields: int, headed: int,
                 above: int) -> None:
        self.source, self.sep, self.eol, self.errors = source, sep, eol, errors
        self.fields, self.headed = fields, headed
        origin = source.tell()
        self.at: int | None = origin + len(BOM) * (source.read(len(BOM)) == BOM)
        source.seek(origin)
        self._read(above + 1)  # the lines above the header, and the header

    def short_rows(self, raw: pd.DataFrame, rows: np.ndarray, skipped: list[int]) -> dict[int, int]:
        """Row number → its fields, for the rows of a part read with fewer fields than the header's named columns
        (blank ones too); `rows` numbers the part's rows, `skipped` the lines among them it skipped."""
        if self.at is None:
            return {}
        if not skipped:
            breaks, seps = _occurrences(raw, self.eol + self.sep.encode())
            scanned = self._scan(len(raw) + breaks)
            if scanned and scanned[1] - seps == len(raw) * (self.fields - 1):
                self.at = scanned[0]
                return {}
        lines = np.sort(np.concatenate([rows, np.array(skipped, dtype=np.int64)]))
        counts = self._read(len(lines))
        if counts is None:
            return {}
        short = {int(line): count for line, count in zip(lines, counts, strict=True) if count < self.headed}
        read = np.isin(rows, list(short))
        fields = np.array([short[line] for line in rows[read]], dtype=np.int64)
        if (raw.loc[read].notna().to_numpy() & (np.arange(raw.shape[1]) >= fields[:, None])).any():
            self.at = None  # a field the `csv` module found missing holds a value: its lines are not the parser's
            return {}
        return short

    def _scan(self, lines: int) -> tuple[int, int] | None:
        """Where the next `lines` lines from `at` end, and the separators in them; None if the file ends first."""
        origin, sep, eol = self.source.tell(), ord(self.sep), self.eol[0]
        end, seps, last = self.at, 0, eol  # last: the last byte read
        block, marks = np.empty(SCAN_BYTES, np.uint8), np.empty(SCAN_BYTES, bool)
        try:
            self.source.seek(end)
            while lines:
                size = self.source.readinto(block)
                if not size:  # the last line may have no line end
                    return (end, seps) if lines == 1 and last != eol else None
                chars, found = block[:size], marks[:size]
                np.equal(chars, eol, out=found)
                breaks = int(np.count_nonzero(found))
                if breaks >= lines:
                    cut = int(np.flatnonzero(found)[lines - 1]) + 1
                    return end + cut, seps + int(np.count_nonzero(chars[:cut] == sep))
                np.equal(chars, sep, out=found)
                lines, end, last, seps = lines - breaks, end + size, chars[-1], seps + int(np.count_nonzero(found))
            return end, seps
        finally:
            self.source.seek(origin)

    def _read(self, count: int) -> list[int] | None:
        """The fields of each of the next `count` lines from `at`, as the `csv` module reads them, moving `at` past
        them; None, and `at` unknown, if it cannot."""
        origin, read = self.source.tell(), 0

        def lines() -> Iterator[str]:
            nonlocal read
            self.source.seek(self.at)
            rest = b""
            while block := self.source.read(SCAN_BYTES):
                pieces = (rest + block).splitlines(keepends=True)  # a '\r' at the end may be half of '\r\n'
                rest = b"" if pieces[-1].endswith(b"\n") else pieces.pop()
                for piece in pieces:
                    read += len(piece)
                    yield piece.decode("utf-8", self.errors)
            if rest:
                read += len(rest)
                yield rest.decode("utf-8", self.errors)

        try:
            counts = [len(fields) for fields in islice(csv.reader(lines(), delimiter=self.sep, skipinitialspace=True,
                                                                  strict=False), count)]
        except (csv.Error, UnicodeDecodeError):  # a field longer than the module reads
            counts = []
        finally:
            self.source.seek(origin)
        if len(counts) < count:
            self.at = None
            return None
        self.at += read
        return counts


RECORD_SEARCH = 4  # a CSV block grows to at most this many block sizes while looking for the end of a record


def _header_line(path: Path) -> tuple[bytes, bytes]:
    """The header line of a CSV file (with its line end and any blank lines above it) and the byte that ends
    lines: a line feed, or a carriage return in files with old Mac line ends (a carriage return alone)."""
    with path.open("rb") as fh:
        head = fh.read(64 * 1024)
    text = head.removeprefix(BOM)
    if told := _SEPARATOR_LINE.match(text):
        text = text[told.end():]
    text = text[len(_above_header(text)):]
    eol = _line_end(text)
    end = len(head) - len(text) + (text.find(eol) + 1 or len(text))
    return head[:end], eol


def _line_end(text: bytes) -> bytes:
    """The byte that ends the lines of CSV text (from its header line on): a line feed, or a carriage return in
    files with old Mac line ends (a carriage return alone)."""
    newline, cr = text.find(b"\n"), text.find(b"\r")
    return b"\r" if cr != -1 and (newline == -1 or cr < newline - 1) else b"\n"


class CsvBlock(NamedTuple):
    """A block of a CSV file's records: where it starts, its length in bytes, and its line ends (see `_line_ends`)."""

    offset: int
    length: int
    line_ends: int


def _line_breaks(data: bytes) -> np.ndarray:
    """Positions of the '\r' and '\n' bytes outside quoted values: after an even number of quotes (with CSV
    quoting, a quote inside a quoted value is doubled). Vectorised, with the quotes' parity summed per line: no
    array of quote positions (a file with quotes around every value has millions)."""
    chars = np.frombuffer(data, np.uint8)
    breaks = np.flatnonzero((chars == ord("\n")) | (chars == ord("\r")) if b"\r" in data else chars == ord("\n"))
    if not len(breaks) or b'"' not in data:
        return breaks
    quotes = (chars[:breaks[-1] + 1] == ord('"')).view(np.uint8)
    odd = np.bitwise_xor.accumulate(np.bitwise_xor.reduceat(quotes, np.concatenate(([0], breaks[:-1] + 1))))
    return breaks[odd == 0]


def _line_ends(chars: np.ndarray, breaks: np.ndarray, end: int) -> int:
    """The records that end in chars[:end] as pandas' C parser reads it: '\r\n', '\r' and '\n' end one each,
    outside quoted values (`breaks`, from `_line_breaks`). A stray quote inside an unquoted value (which the
    parser reads as text) can make the count wrong: whoever relies on it checks it against the records parsed."""
    breaks = breaks[:np.searchsorted(breaks, end)]
    cr = breaks[chars[breaks] == ord("\r")]
    return len(breaks) - int(np.count_nonzero(chars[cr[cr + 1 < end] + 1] == ord("\n")))


def _block_end(data: bytes, eol: bytes, search: bool) -> tuple[int, int]:
    """(length, line ends) of the block that `data` (which starts a record) begins: with `search`, its longest
    prefix that ends a record (at a line end outside quotes), else its prefix up to its last line end; (0, 0)
    when there is none."""
    chars, breaks = np.frombuffer(data, np.uint8), _line_breaks(data)
    if search:
        ends = breaks[chars[breaks] == eol[0]]
        cut = int(ends[-1]) + 1 if len(ends) else 0
    else:
        cut = data.rfind(eol) + 1
    return cut, _line_ends(chars, breaks, cut)


def _read_at(fh: BinaryIO, offset: int, size: int) -> bytes:
    """`size` bytes of a file from `offset` (fewer at its end), read straight into one bytes object."""
    fh.seek(offset)
    return fh.read(size)


def csv_blocks(path: Path, blocksize: int) -> tuple[bytes, Iterator[CsvBlock]]:
    """The header line of a CSV file and the blocks of about `blocksize` bytes below it.

    Each block ends at the end of a record, so a quoted value with line breaks is never cut in two. A block
    grows to at most `RECORD_SEARCH` block sizes looking for one; beyond that (an odd number of stray quotes in
    unquoted values, which the parser reads as text) it ends at its last line end.
    """
    header, eol = _header_line(path)

    def blocks() -> Iterator[CsvBlock]:
        with path.open("rb") as fh:
            offset, size = len(header), blocksize
            while data := _read_at(fh, offset, size):
                if len(data) < size:  # the end of the file
                    yield CsvBlock(offset, len(data), _line_ends(np.frombuffer(data, np.uint8), _line_breaks(data),
                                                                 len(data)))
                    return
                cut, line_ends = _block_end(data, eol, search=size < RECORD_SEARCH * blocksize)
                if cut:
                    yield CsvBlock(offset, cut, line_ends)
                    offset, size = offset + cut, blocksize
                else:  # no record ends in it: read it again, one block size longer
                    size += blocksize

    return header, blocks()


def _empty_cells(col: pd.Series, where: np.ndarray) -> np.ndarray:
    """Which cells hold no value: missing, or text of spaces only (text is checked only `where`, to spare work)."""
    empty = col.isna().to_numpy(dtype=bool, copy=True)
    check = where & ~empty
    if check.any() and pd.api.types.is_string_dtype(col):  # not bytes, not true/false with blanks
        check &= _may_be_spaces(col)
        if check.any():
            empty[check] = col[check].astype("str").str.strip().eq("").to_numpy(dtype=bool)
    return empty


def _may_be_spaces(col: pd.Series) -> np.ndarray:
    """Which cells of a text column could hold nothing but white space: told by their first byte in arrow text (an
    ASCII white-space character is a byte up to the space, any other starts with a byte above 0x7F), every cell
    of other text. Most cells start with a letter or digit: they need not be stripped."""
    array = pa.array(col.array) if getattr(col.dtype, "storage", None) == "pyarrow" else None
    if array is None:
        return np.ones(len(col), dtype=bool)
    found = []
    for chunk in array.chunks if isinstance(array, pa.ChunkedArray) else [array]:
        if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
            return np.ones(len(col), dtype=bool)
        offsets = text_offsets(chunk)
        starts, filled = offsets[:-1], offsets[1:] > offsets[:-1]
        may = ~filled
        if filled.any():
            first = np.frombuffer(chunk.buffers()[2], np.uint8)[starts[filled]]
            may[filled] = (first <= 0x20) | (first >= 0x80)
        found.append(may)
    return np.concatenate(found) if found else np.zeros(0, dtype=bool)


def _without_blank_rows(raw: pd.DataFrame, rows: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """The table without the rows that hold no value (empty or only spaces in every column)."""
    blank = np.ones(len(raw), dtype=bool)
    for j in range(raw.shape[1]):
        blank &= _empty_cells(raw.iloc[:, j], blank)  # only rows that may still be blank are looked at
        if not blank.any():
            return raw, rows
    return raw.loc[~blank], rows[~blank]


def _without_unheaded_columns(raw: pd.DataFrame, rows: np.ndarray, headed: int,
                              path: Path | str) -> tuple[pd.DataFrame, np.ndarray, list[Issue]]:
    """The table without the columns right of its last heading; a row with a value in them is unread."""
    every = np.ones(len(raw), dtype=bool)
    filled = np.zeros(len(raw), dtype=bool)
    for j in range(headed, raw.shape[1]):
        filled |= ~_empty_cells(raw.iloc[:, j], every)
    issues = [_value_without_heading(path, row, headed) for row in rows[filled]]
    return raw.iloc[~filled, :headed], rows[~filled], issues


def _value_without_heading(path: Path | str, row: int, headed: int) -> Issue:
    return Issue(str(path), int(row), "", f"a value in a column without a heading (the table has {headed} headed "
                                          "columns)")


# Numbers as a spreadsheet formats them in a CSV, by the field separator its locale uses: per separator,
# (pattern of a number with grouped thousands, the characters that group them).
_GROUPED_NUMBERS = {
    ",": [(r"^\s*[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?\s*$", ",")],  # 1,360 and 1,234,567.5 (English)
    ";": [(r"^\s*[+-]?[1-9]\d{0,2}(?:[. \u00a0\u202f]\d{3})+(?:,\d+)?\s*$", ". \u00a0\u202f"),  # 5.000, 1 234,5
          (r"^\s*[+-]?[1-9]\d{0,2}(?:['\u2019]\d{3})+(?:\.\d+)?\s*$", "'\u2019")],  # 1'234.5 (Swiss)
}
_DECIMAL_COMMA = r"^\s*[+-]?\d*,\d+\s*(?:%\s*)?$"  # 0,85 and 12,5 % in a ';' file


def plain_numbers(text: pd.Series, separator: str, decimal: np.ndarray | None = None, whole: bool = False) -> pd.Series:
    """Numbers written as a spreadsheet writes them in a CSV with `separator` between fields, as plain numbers:
    the marks that group thousands dropped ("1,360" in a ',' file; "5.000", "1 605,5", "1'605.5" in a ';'
    file) and, in a ';' file, decimal commas as points ("0,5", also beside "0.25"). Other cells unchanged.
    A tab file may come from any locale (see `_tab_numbers`; `decimal` and `whole` are used there only)."""
    if separator == "\t":
        return _tab_numbers(text, np.full(len(text), "") if decimal is None else decimal, whole)
    for pattern, marks in _GROUPED_NUMBERS.get(separator, []):
        grouped = text.str.match(pattern, na=False)
        if grouped.any():
            text = text.where(~grouped, text.str.replace(f"[{marks}]", "", regex=True))
    if separator == ";" and (decimal_comma := text.str.match(_DECIMAL_COMMA, na=False)).any():
        text = text.where(~decimal_comma, text.str.replace(",", ".", regex=False))
    return text


# A tab file (Excel's "Unicode Text", or "Text (Tab delimited)") holds numbers as the spreadsheet's locale writes
# them: 1,360 and 0.85 (English) or 1.360 and 0,85 (most of Europe). A number with one mark before three digits
# ('1.360', '1,360') reads either way; every other form says which mark is the decimal one. The patterns are for
# stripped cells, written so that pyarrow's RE2 runs them (no \s, \d or \u escapes: pandas would match cell by cell).
_SPACES = " \u00a0\u202f"  # the spaces that group thousands, or come before '%'
_ONE_GROUP = r"^[+-]?[1-9][0-9]{0,2}[.,][0-9]{3}$"
_TAB_GROUPED = [  # forms only one locale writes, and the marks that group their thousands
    (r"^[+-]?[1-9][0-9]{0,2}(?:(?:,[0-9]{3})+\.[0-9]+|(?:,[0-9]{3}){2,})$", ","),  # 1,234.5 and 1,234,567
    (r"^[+-]?[1-9][0-9]{0,2}(?:(?:\.[0-9]{3})+,[0-9]+|(?:\.[0-9]{3}){2,})$", "."),  # 1.234,5 and 1.234.567
    (f"^[+-]?[1-9][0-9]{{0,2}}(?:[{_SPACES}][0-9]{{3}})+(?:,[0-9]+)?$", _SPACES),  # 1 234,5 (French)
    ("^[+-]?[1-9][0-9]{0,2}(?:['\u2019][0-9]{3})+(?:\\.[0-9]+)?$", "'\u2019"),  # 1'234.5 (Swiss)
]
_TAB_DECIMAL_COMMA = f"^[+-]?[0-9]*,[0-9]+[{_SPACES}]*%?$"  # 0,85 and 12,5 %
_DECIMAL_MARKS = {  # cells that show which mark is the decimal one (a one-group number shows neither)
    ",": f"^[+-]?(?:[0-9]*|[1-9][0-9]{{0,2}}(?:[.{_SPACES}][0-9]{{3}})+),[0-9]+[{_SPACES}]*%?$"
         r"|^[+-]?[1-9][0-9]{0,2}(?:\.[0-9]{3}){2,}$",
    ".": f"^[+-]?(?:[0-9]*|[1-9][0-9]{{0,2}}(?:[,'\u2019][0-9]{{3}})+)\\.[0-9]+[{_SPACES}]*%?$"
         r"|^[+-]?[1-9][0-9]{0,2}(?:,[0-9]{3}){2,}$",
}


def decimal_marks(cells: Sequence[pd.Series], rows: int) -> np.ndarray:
    """Per row of a tab file, the decimal mark its number cells (`cells`, one text column each) show: ',' where one
    shows a decimal comma and none a decimal point, '.' the other way round, '' where none (or both) do."""
    shows = {mark: np.zeros(rows, dtype=bool) for mark in _DECIMAL_MARKS}
    for text in (cell.str.strip() for cell in cells):
        one = text.str.match(_ONE_GROUP, na=False).to_numpy(dtype=bool)
        for mark, pattern in _DECIMAL_MARKS.items():
            shows[mark] |= text.str.match(pattern, na=False).to_numpy(dtype=bool) & ~one
    return np.where(shows[","] & ~shows["."], ",", np.where(shows["."] & ~shows[","], ".", ""))


def unsure_numbers(text: pd.Series, decimal: np.ndarray) -> np.ndarray:
    """Cells of a tab file's column of fractional numbers that read either way ('1.360': 1360 or 1.36) in rows whose
    other numbers do not show the decimal mark (see `decimal_marks`): they are rejected, not guessed."""
    return text.str.match(_ONE_GROUP, na=False).to_numpy(dtype=bool) & (decimal == "")


def _tab_numbers(text: pd.Series, decimal: np.ndarray, whole: bool) -> pd.Series:
    """A tab file's numbers as plain numbers: forms only one locale writes as it means them ('1,234.5', '1.234,5',
    '0,85'); a one-group number ('1.360') by its row's decimal mark (`decimal`, see `decimal_marks`), or, in a column
    of whole numbers (`whole`), as thousands wherever the row does not show it (1.36 users is no count). Cells that
    read either way otherwise are left as they are (see `unsure_numbers`)."""
    one = text.str.match(_ONE_GROUP, na=False).to_numpy(dtype=bool)
    if one.any():
        mark = np.where(text.str.contains(",", regex=False, na=False).to_numpy(dtype=bool), ",", ".")
        groups = one & np.where(decimal == "", whole, mark != decimal)
        text = text.where(~groups, text.str.replace(r"[.,]", "", regex=True))
        one &= ~groups
    for pattern, marks in _TAB_GROUPED:
        grouped = text.str.match(pattern, na=False)
        if grouped.any():
            text = text.where(~grouped, text.str.replace(f"[{marks}]", "", regex=True))
    comma = text.str.match(_TAB_DECIMAL_COMMA, na=False).to_numpy(dtype=bool) & (~one | (decimal == ","))
    return text.where(~comma, text.str.replace(",", ".", regex=False)) if comma.any() else text


# Dates as spreadsheets and exports write them, as (pattern, its date as YYYY-MM-DD): ISO with a time of day
# (LibreOffice's date cells, SQL and JSON exports), day.month.year (German and most of Europe, in any file) and
# day/month/year in a ';' file (France, Spain, Italy). In other files a date with slashes may be month/day (US).
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
_DATE_FORMS = {
    None: [(rf"^(\d{{4}})-(\d{{1,2}})-(\d{{1,2}}){_TIME}$", r"\1-\2-\3"),
           (rf"^(\d{{1,2}})\.(\d{{1,2}})\.(\d{{4}}){_TIME}$", r"\3-\2-\1")],
    ";": [(rf"^(\d{{1,2}})/(\d{{1,2}})/(\d{{4}}){_TIME}$", r"\3-\2-\1")],
}
SLASHED_DATE = r"^\d{1,2}/\d{1,2}/\d{4}"


def iso_dates(text: pd.Series, separator: str | None) -> pd.Series:
    """Dates written as spreadsheets write them (see _DATE_FORMS; `separator`: a CSV's, None for other inputs)
    as YYYY-MM-DD; other cells unchanged (ISO dates pass, anything else stays for the date check to reject)."""
    for pattern, iso in _DATE_FORMS[None] + (_DATE_FORMS[";"] if separator == ";" else []):
        written = text.str.match(pattern, na=False)
        if written.any():
            text = text.where(~written, text.str.replace(pattern, iso, regex=True))
    return text


# -------------------------------------------------------------------------------------- Parquet

def _parquet_frame(data: pa.RecordBatch | pa.Table) -> pd.DataFrame:
    """Arrow data read from a Parquet file as a DataFrame (see `_index_as_columns`), after checking it in full (a
    damaged file may hold text that is not UTF-8, which would fail later, in the middle of validation)."""
    data.validate(full=True)
    try:
        frame = data.to_pandas()
    except Exception as exc:  # pyarrow reads the pandas metadata stored in the file; damaged, it fails in many ways
        raise ValueError(f"damaged pandas metadata ({type(exc).__name__})") from None
    return _index_as_columns(frame)


def _index_as_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with the named levels of the index that pyarrow restored from the pandas metadata as columns: a file
    written by `df.set_index('id').to_parquet()` holds the ids in a column. A RangeIndex is no column of the file;
    a level named like a column and holding its values (`set_index('org', drop=False)`) is left out."""
    if isinstance(frame.index, pd.RangeIndex):
        return frame
    named = [name for name in frame.index.names if name is not None and name not in frame.columns]
    for name in (name for name in frame.index.names if name is not None and name in frame.columns):
        if not frame.index.get_level_values(name).equals(pd.Index(frame[name])):
            raise ValueError(f"it holds the column '{name}' twice (as the index and as a column), with other values")
    return frame.reset_index(level=named) if named else frame


def parquet_part(data: pa.RecordBatch | pa.Table, first_row: int) -> TablePart:
    """Rows of a Parquet file from `first_row` on (the header being row 1), without the rows that hold no value."""
    raw = _parquet_frame(data)
    return _part(*_without_blank_rows(raw, np.arange(first_row, first_row + len(raw))))


def parquet_parts(path: Path, chunk_rows: int) -> Iterator[TablePart]:
    """Row batches of a Parquet file; a file without rows gives one empty part with its columns."""
    try:
        source = pq.ParquetFile(path)
        first = 2
        for batch in source.iter_batches(batch_size=chunk_rows):
            yield parquet_part(batch, first)
            first += len(batch)
        if first == 2:
            yield _part(_parquet_frame(source.schema_arrow.empty_table()), np.zeros(0))
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise _problem(path, f"cannot read the Parquet file: {str(exc).splitlines()[0][:200]}") from None


# ----------------------------------------------------------------------------------------- XLSX

def xlsx_parts(path: Path, chunk_rows: int, text_columns: Mapping[str, str],
               sized: Callable[[int | None], None] | None = None) -> Iterator[TablePart]:
    """Stream the profiles' sheet (see `_profile_sheet`) with the values as last computed by Excel; its header is
    its first row that holds a value, blank rows are skipped, and row numbers stay those the sheet shows. Merged
    cells read as the sheet shows them (see `_MergedCells`). A row with a value under no heading, or with a formula
    that has no saved result (a workbook written by a program, never opened in a spreadsheet), is `unread`:
    reading the formula's cell as empty would score the row on a default instead. A merged range whose reference
    names no cells of a sheet (a damaged file) is ignored, with a note on the first part. Once the sheet is found,
    `sized` is told how many rows its recorded size (dimension) counts below the header (None: not recorded), for a
    progress bar (opening the workbook again for it parsed all its shared strings a second time); the rows are read
    to the sheet's last, whatever size is recorded."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise _problem(path, f"cannot read the workbook: not a valid .xlsx file ({type(exc).__name__})") from None
    try:
        recorded = {sheet.title: sheet.max_row for sheet in book.worksheets}
        for sheet in book.worksheets:  # read-only sheets stop at the recorded size, which a program may have written short
            sheet.reset_dimensions()
        sheet, top, header = _profile_sheet(path, book.worksheets, text_columns)
        names = [str(h).strip() if h is not None else "" for h in header]
        while names and not names[-1]:
            names.pop()
        twice = sorted({n for n in names if n and names.count(n) > 1})
        if twice:
            raise InputError([Issue(str(path), top, n, "the column appears more than once") for n in twice])
        if sized:
            sized(max(0, recorded[sheet.title] - top) if recorded[sheet.title] else None)
        xml = _sheet_xml(path, sheet._worksheet_path)  # read-only sheets keep their zip member
        merged = _MergedCells(xml.merged, top, header)
        buffer: list[tuple] = []
        numbers: list[int] = []
        unread: list[Issue] = []
        notes = _damaged_merges(path, sheet.title, xml.damaged)
        parts = 0
        rows = sheet.iter_rows(min_row=top + 1, values_only=True)
        if xml.last_row is not None:  # not on to what follows the rows, which openpyxl parses (refusing damaged merges)
            rows = islice(rows, max(0, xml.last_row - top))
        hidden: list[int] = []  # the hidden rows read as profiles
        for number, values in enumerate(rows, start=top + 1):
            formulas = xml.unsaved.get(number, [])
            shown, problem = merged.apply(number, values, formulas)  # every row, so merged ranges are followed down
            if not formulas and all(_blank(v) for v in values):  # also when a merged cell covers it: no value of its own
                continue
            if formulas or problem:  # one issue per row: each unread issue counts as an input row
                reason, columns = (UNSAVED_FORMULA, formulas) if formulas else problem
                unread.append(Issue(str(path), number, ", ".join(names[c] for c in columns if c < len(names)), reason))
                continue
            values = shown
            if not all(_blank(v) for v in values[len(names):]):
                unread.append(_value_without_heading(path, number, len(names)))
                continue
            buffer.append(values[:len(names)] + (None,) * (len(names) - len(values)))
            numbers.append(number)
            if number in xml.hidden:
                hidden.append(number)
            if len(buffer) == chunk_rows:
                yield _xlsx_part(buffer, names, numbers, unread, notes)
                buffer, numbers, unread, notes, parts = [], [], [], [], parts + 1
        notes += _hidden_rows(path, sheet.title, hidden)
        if buffer or unread or notes or not parts:
            yield _xlsx_part(buffer, names, numbers, unread, notes)
    except InputError:
        raise
    except Exception as exc:  # a sheet damaged past its first rows
        raise _problem(path, f"cannot read the workbook: {type(exc).__name__}") from None
    finally:
        book.close()


def _profile_sheet(path: Path, sheets: list[Any], text_columns: Mapping[str, str]) -> tuple[Any, int, tuple]:
    """The visible sheet whose header names a profile field (a workbook may open with a sheet of notes), or else the
    first visible sheet that holds a value (its header is then reported), with its header's row number and values.
    Hidden sheets (a template's example rows, lookups) are never read; a workbook with no visible sheet that holds a
    value, or with profiles on more than one visible sheet (one would be dropped), is refused; a sheet with only the
    profile header (an empty copy) holds no profiles, and if every such sheet is header-only the first is read (no
    rows, as a CSV file with only its header). A sheet's header is its first row that holds a value (blank rows may
    come above)."""
    visible = [sheet for sheet in sheets if sheet.sheet_state == "visible"]
    first, profiles = None, []
    for sheet in visible:
        header = _first_filled_row(sheet)
        if header is None:
            continue
        if _names_a_field(header[1], text_columns):
            profiles.append((sheet, *header))
        first = first or (sheet, *header)
    if len(profiles) > 1:
        profiles = [found for found in profiles if _rows_below(path, *found[:2])] or profiles[:1]
    if len(profiles) > 1:
        titles = [f"'{found[0].title}'" for found in profiles]
        both = "both" if len(titles) == 2 else "all"
        raise _problem(path, f"sheets {', '.join(titles[:-1])} and {titles[-1]} {both} hold profiles: score one sheet "
                             "per file, or move the rows onto one sheet")
    if profiles:
        return profiles[0]
    if first:
        _refuse_a_header_below_titles(path, visible, text_columns)
        return first
    hidden = [f"'{sheet.title}'" for sheet in sheets if sheet.sheet_state != "visible"]
    if hidden:
        raise _problem(path, f"no visible sheet holds a value (hidden sheets are not read: {', '.join(hidden)}): "
                             "unhide the sheet of profiles")
    raise _problem(path, "the sheet is empty")


def _names_a_field(values: tuple, text_columns: Mapping[str, str]) -> bool:
    """Whether a sheet's row names a profile field: a header."""
    return any(heading_key(v) in text_columns for v in values if v is not None)


def _refuse_a_header_below_titles(path: Path, sheets: list[Any], text_columns: Mapping[str, str]) -> None:
    """Where no sheet's first filled row names a profile field, but a row below it does on one (a title row above the
    table, as exports often have): name that sheet and its header row, rather than quote another sheet's first row."""
    for sheet in sheets:
        filled = [(n, values) for n, values in enumerate(sheet.iter_rows(max_row=TITLE_ROWS_SEEN, values_only=True), 1)
                  if not all(_blank(v) for v in values)]
        for number, values in filled[1:]:
            if _names_a_field(values, text_columns):
                title = next(str(v) for v in filled[0][1] if not _blank(v))
                raise _problem(path, f"sheet '{sheet.title}': its header is row {number}, below '{title[:60]}': the "
                                     "header must be the sheet's first row that holds a value (delete the rows above it)")


def _first_filled_row(sheet: Any) -> tuple[int, tuple] | None:
    """The number and values of a sheet's first row that holds a value; None for a blank sheet."""
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        if not all(_blank(v) for v in values):
            return number, values
    return None


def _rows_below(path: Path, sheet: Any, header_row: int) -> bool:
    """Whether a sheet has a row below its header: one that holds a value or a formula without a saved result (which
    reads as blank, but is a row: it is reported, not dropped)."""
    if any(not all(_blank(v) for v in values) for values in sheet.iter_rows(min_row=header_row + 1, values_only=True)):
        return True
    return any(row > header_row for row in _sheet_xml(path, sheet._worksheet_path).unsaved)


UNSAVED_FORMULA = ("a formula without a saved result (the workbook was written by a program and never saved in a "
                   "spreadsheet): open and save it in Excel or LibreOffice, or write the value")
# a cell not typed as text ("" is a saved text result), its formula (or a reference to a shared one), then no value
_FORMULA_WITHOUT_RESULT = re.compile(
    rb'<(?:\w+:)?c\b(?![^>]*\bt="str")[^>]*\br="([A-Z]{1,3})(\d+)"[^>]*>'
    rb"<(?:\w+:)?f\b[^>]*(?:/>|>[^<]*</(?:\w+:)?f>)"
    rb"(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v></(?:\w+:)?v>)?</(?:\w+:)?c>")
_ROWS_END = re.compile(rb"</(\w+:)?sheetData>|<(?:\w+:)?sheetData\s*/>")
_ROW_NUMBER = re.compile(rb'<(?:\w+:)?row\b[^>]*?\sr="(\d+)"')
_HIDDEN_ROW = re.compile(rb'<(?:\w+:)?row\b(?=[^>]*\shidden="(?:1|true)")[^>]*?\sr="(\d+)"')
_MERGED_RANGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*\bref="([^"]*)"')
LAST_ROW, LAST_COLUMN = 1_048_576, 16_384  # the size of a sheet in Excel: row 1048576, column XFD


@dataclass
class _SheetXml:
    """What a read-only openpyxl sheet does not tell, found in the sheet's XML."""

    unsaved: dict[int, list[int]]  # row number → column positions (0 = A) of formula cells without a saved result
    hidden: set[int]  # numbers of the rows hidden in the spreadsheet (by hand or by a filter)
    last_row: int | None  # the number of its last row, None if that row does not say it
    merged: list[tuple[int, int, int, int]]  # merged ranges: (first column, first row, last column, last row), from 1
    damaged: list[str]  # references of merged ranges that name no cells of a sheet ('A1:'), as written


def _rows_end(data: bytes) -> re.Match | None:
    """Where the sheet's rows end (`</sheetData>`) in `data`, if they do."""
    name = data.rfind(b"sheetData")  # the opening tag comes first: the last one is the closing one, if there is one
    return _ROWS_END.match(data, data.rfind(b"<", 0, name)) if name >= 0 else None


def _sheet_xml(path: Path, member: str) -> _SheetXml:
    """Scan the sheet's XML once, in chunks: the formula cells without a saved result in its rows (openpyxl reads such
    a cell as empty and cannot tell it from a blank one), its last row and the merged ranges listed after them."""
    from openpyxl.utils import column_index_from_string

    found: dict[int, list[int]] = {}
    hidden: set[int] = set()
    last_row: int | None = None
    merged: list[tuple[int, int, int, int]] = []
    damaged: list[str] = []
    with zipfile.ZipFile(path) as archive, archive.open(member) as xml:
        rest, in_rows = b"", True
        while chunk := xml.read(1 << 22):
            data = rest + chunk
            if in_rows:
                close = _rows_end(data)
                last = data.rfind(b"</row>")  # scan whole rows; the rest waits for the next chunk
                end = close.start() if close else (last + len(b"</row>") if last >= 0 else 0)
                formulas = b"<f" in data or b":f" in data  # most profile sheets hold none: skip the pattern
                for letters, row in _FORMULA_WITHOUT_RESULT.findall(data, 0, end) if formulas else ():
                    found.setdefault(int(row), []).append(column_index_from_string(letters.decode()) - 1)
                if b'hidden="' in data:  # most sheets hide no row: skip the pattern
                    hidden.update(int(row) for row in _HIDDEN_ROW.findall(data, 0, end))
                prefix = (close[1] if close else None) or b""  # rows with one ('<x:row') are all here when they end
                if (head := data.rfind(b"<" + prefix + b"row", 0, end)) >= 0:
                    number = _ROW_NUMBER.match(data, head)
                    last_row = int(number[1]) if number else None
                if close is None:
                    rest = data[end:]
                    continue
                in_rows, data = False, data[close.end():]
            end = data.rfind(b">") + 1  # after the rows, whole tags are scanned; a cut one waits for the next chunk
            for ref in _MERGED_RANGE.findall(data, 0, end):
                if (bounds := _merged_range(ref)) is None:
                    damaged.append(ref.decode("utf-8", "replace"))
                elif bounds[:2] != bounds[2:]:  # cells, not one with itself
                    merged.append(bounds)
            rest = data[end:]
    return _SheetXml(found, hidden, last_row, merged, damaged)


def _merged_range(ref: bytes) -> tuple[int, int, int, int] | None:
    """A merged range's reference ('D2:D4') as (first column, first row, last column, last row), from 1; None when it
    names no cells of a sheet ('A1:', 'D4:D2', 'A0:B2', a row past 1048576, whole columns 'A:A')."""
    from openpyxl.utils import range_boundaries

    try:
        left, top, right, bottom = range_boundaries(ref.decode("ascii"))
    except ValueError:  # UnicodeDecodeError is one too
        return None
    if None in (left, top, right, bottom) or not (1 <= left <= right <= LAST_COLUMN and 1 <= top <= bottom <= LAST_ROW):
        return None
    return left, top, right, bottom


def _hidden_rows(path: Path, sheet: str, rows: list[int]) -> list[Issue]:
    """The note on profile rows hidden in the spreadsheet (by hand or by a filter): they are scored like the others,
    which a reader of the sheet may not expect."""
    if not rows:
        return []
    runs = np.split(np.asarray(rows), np.flatnonzero(np.diff(rows) != 1) + 1)
    spans = [f"{run[0]}" if len(run) == 1 else f"{run[0]}-{run[-1]}" for run in runs]
    shown = ", ".join(spans[:5]) + (f" and {len(spans) - 5:,} more ranges" if len(spans) > 5 else "")
    count = f"{len(rows):,} row{'s' if len(rows) > 1 else ''}"
    return [Issue(str(path), 0, "", f"sheet '{sheet}': {count} hidden in the spreadsheet (by hand or by a filter) "
                                    f"{'is' if len(rows) == 1 else 'are'} scored like the others "
                                    f"(row{'s' if len(rows) > 1 else ''} {shown}): delete the rows you mean to leave out")]


def _damaged_merges(path: Path, sheet: str, refs: list[str]) -> list[Issue]:
    """The note on merged ranges whose reference names no cells: they are ignored (as LibreOffice ignores them), so
    the cells they would cover read as written."""
    if not refs:
        return []
    shown = ", ".join(f"'{ref[:40]}'" for ref in refs[:5]) + (f" and {len(refs) - 5:,} more" if len(refs) > 5 else "")
    what = (f"the merged range {shown} names" if len(refs) == 1
            else f"{len(refs):,} merged ranges ({shown}) name")
    return [Issue(str(path), 0, "", f"sheet '{sheet}': {what} no cells of a sheet (a damaged file?) and "
                                    f"{'is' if len(refs) == 1 else 'are'} ignored: the cells are read as they are written")]


@dataclass
class _Merge:
    """A merged range (columns from 0, rows as the sheet numbers them) and what the sheet shows in all of it: the value
    of its top-left cell (`unsaved`: a formula without a saved result)."""

    left: int
    top: int
    right: int
    bottom: int
    value: Any = None
    unsaved: bool = False


class _MergedCells:
    """A sheet's merged ranges that reach below its header, applied to its rows as they stream past (so a range may
    span parts). A range in one column gives each row it covers its top cell's value, as the sheet shows it; one that
    holds a value over several columns, or reaches down from the header, leaves the data rows it covers unread. A range
    without a value reads as blank (whatever a program left in the cells it hides). Rows without a value of their own
    are blank, whatever range covers them (see `xlsx_parts`)."""

    def __init__(self, ranges: list[tuple[int, int, int, int]], header_row: int, header: tuple) -> None:
        self._header_row, self._header = header_row, header
        self._waiting = sorted(((max(top, header_row + 1), left - 1, top, right - 1, bottom)
                                for left, top, right, bottom in ranges if bottom > header_row), reverse=True)
        self._active: list[_Merge] = []

    def apply(self, number: int, values: tuple, formulas: list[int]) -> tuple[tuple, tuple[str, Sequence[int]] | None]:
        """Row `number` (`formulas`: its cells with unsaved formulas) as the sheet shows it, and why it cannot be
        read (the reason and the columns concerned), if a merged range says so."""
        if self._active:
            self._active = [m for m in self._active if m.bottom >= number]
        while self._waiting and self._waiting[-1][0] <= number:
            _, left, top, right, bottom = self._waiting.pop()
            source = values if top == number else self._header if top == self._header_row else ()  # blank above it
            value = source[left] if left < len(source) else None
            self._active.append(_Merge(left, top, right, bottom, value, top == number and left in formulas))
        if not self._active:
            return values, None
        shown = list(values)
        width = max(len(shown), len(self._header))  # no column right of it has a value or a heading
        for m in self._active:
            columns = range(m.left, min(m.right + 1, width))
            if m.unsaved and number > m.top:
                return values, (UNSAVED_FORMULA, [m.left])
            if _blank(m.value):
                shown[m.left:m.right + 1] = [None] * len(shown[m.left:m.right + 1])
            elif m.top <= self._header_row:
                return values, (f"a merged cell joins this row to the header in row {self._header_row} (unmerge it and "
                                "write one value per cell)", columns)
            elif m.right > m.left:
                from openpyxl.utils import get_column_letter as letter

                return values, (f"a merged cell spans columns {letter(m.left + 1)}:{letter(m.right + 1)} (unmerge it and "
                                "write one value per cell)", columns)
            else:
                shown += [None] * (m.left + 1 - len(shown))  # a row read without the sheet's size may end before
                shown[m.left] = m.value
        return tuple(shown), None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _xlsx_part(values: list[tuple], names: list[str], numbers: list[int], unread: list[Issue],
               notes: list[Issue]) -> TablePart:
    """Rows of a sheet; numbers in text cells are read as in a ',' CSV file ("1,360" as an English spreadsheet
    writes 1360; see `plain_numbers`), number cells are numbers already."""
    raw = pd.DataFrame(values, columns=names, dtype=object)
    raw.attrs["separator"] = ","
    return _part(raw, np.array(numbers, dtype=np.int64), unread, notes=notes)
