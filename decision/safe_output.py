"""Safe tables for people to open: formula-injection-proof CSV / XLSX, Parquet, atomic file writes.

Spreadsheets run a cell that starts with `=`, `+`, `-`, `@` (or a tab / carriage return) as a formula, also
after spaces they trim on import, so every text cell that starts that way is prefixed with a single quote in CSV
output; in XLSX output it is a text cell (never run as a formula) that keeps its text and is marked with the
quote-prefix style, so a spreadsheet keeps it text when a user edits it.
Numbers are left as numbers (in XLSX with the number format a caller gives a column, e.g. a percentage); CSV
starts with a UTF-8 byte order mark, for Excel. Files are written to a temporary file next to the target and
renamed over it at the end, so a crash never leaves a half-written file in place of a previous one.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from decision.errors import writing
from decision.textops import cell_bytes

if TYPE_CHECKING:
    from openpyxl.cell import WriteOnlyCell

FORMULA_PATTERN = r"^(?:[=+\-@\t\r]| +[=+\-@])"  # after spaces too: spreadsheets may trim them on import
FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".parquet": "parquet"}
XLSX_MAX_ROWS = 1_048_576  # including the header row
PARQUET_ROW_GROUP = 50_000  # rows per Parquet row group, wherever the chunks written were cut
XLSX_WIDTHS = (10, 60)  # characters: the narrowest and the widest XLSX column (a cell shows all of a longer text when selected)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def output_format(path: Path | str) -> str:
    """'csv', 'xlsx' or 'parquet' from a file name; ValueError for anything else."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"unsupported output type '{suffix}' for {path} (use .csv, .xlsx or .parquet)")
    return FORMATS[suffix]


def _is_text(col: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(col.dtype) or col.dtype == object


def formula_safe(text: str) -> str:
    """One text cell that a spreadsheet would run as a formula, with a quote in front; any other unchanged."""
    return "'" + text if re.match(FORMULA_PATTERN, text) else text


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` in which text cells that a spreadsheet would run as a formula start with a quote.

    Text columns come back as text (missing values stay missing); other columns are untouched.
    """
    out = frame.copy(deep=False)
    for name in out.columns:
        if not _is_text(out[name]):
            continue
        out[name] = _neutralised(out[name])
    return out


def _neutralised(col: pd.Series) -> pd.Series:
    """A text column as text, its cells that a spreadsheet would run as a formula starting with a quote."""
    col, risky = _text_and_risky(col)
    return col if risky is None else col.mask(risky, "'" + col)


def _text_and_risky(col: pd.Series) -> tuple[pd.Series, np.ndarray | None]:
    """A text column as text, and which of its cells a spreadsheet would run as a formula (None: none)."""
    col = col.astype("str")
    if not _may_start_a_formula(pa.array(col.array)):
        return col, None
    risky = col.str.contains(FORMULA_PATTERN, regex=True).fillna(False).to_numpy(dtype=bool)
    return col, risky if risky.any() else None


_FORMULA_STARTS = b"=+-@\t\r "  # the first characters FORMULA_PATTERN can match


def _may_start_a_formula(text: pa.Array | pa.ChunkedArray) -> bool:
    """Whether a cell of an arrow text array may start the way `FORMULA_PATTERN` looks for, told by the first byte of
    each cell (False: no cell is risky; the pattern then need not run on the column)."""
    for found in cell_bytes(text if isinstance(text, pa.ChunkedArray) else pa.chunked_array([text])):
        if found is None:
            return True
        data, offsets = found
        firsts = data[offsets[:-1][offsets[1:] > offsets[:-1]]].tobytes()  # of the cells that are not empty
        if any(byte in firsts for byte in _FORMULA_STARTS):  # a memchr each
            return True
    return False


def _arrow(frame: pd.DataFrame) -> pa.Table:
    text = {c: frame[c].astype("str") for c in frame.columns if frame[c].dtype == object}
    return pa.Table.from_pandas(frame.assign(**text) if text else frame, preserve_index=False)


def _csv_table(frame: pd.DataFrame) -> pa.Table:
    """`_arrow(neutralise(frame))` without pandas' schema metadata, which CSV does not write: each column converted
    as `pa.Table.from_pandas` converts it, with none of its per-table work (index, metadata); text columns go through
    pandas (`neutralise`) only when a cell may start like a formula."""
    return pa.Table.from_arrays([_csv_column(col) for _, col in frame.items()], names=[str(name) for name in frame.columns])


def _csv_column(col: pd.Series) -> pa.Array | pa.ChunkedArray:
    """One column of `_csv_table`: text as text, neutralised (see `neutralise`); any other as it is."""
    if col.dtype.kind == "f" and isinstance(col.dtype, np.dtype):  # NaN is missing, found by numpy: 3x as fast
        values = col.to_numpy()
        missing = np.isnan(values)
        return pa.array(values, mask=missing if missing.any() else None)
    if not _is_text(col):
        return pa.array(col, from_pandas=True)
    return pa.array(_neutralised(col), from_pandas=True)


def _write_csv_rows(table: pa.Table, sink: BinaryIO | pa.NativeFile) -> None:
    """A table's rows as CSV, without a header, at the end of `sink` (left open)."""
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False))


@dataclass(frozen=True)
class CsvLines:
    """Rows as `TableWriter` writes them to CSV (neutralised, no header), formatted elsewhere (by a Dask worker),
    with the column types they were formatted with. The bytes are an arrow buffer: pickled out of band, Dask sends
    them without copying them into its message, and they arrive as a view of the bytes received."""

    data: pa.Buffer
    schema: pa.Schema
    rows: int

    def __len__(self) -> int:
        return self.rows


def csv_lines(frame: pd.DataFrame) -> CsvLines:
    """A frame's rows as a CSV `TableWriter` would write them, for `TableWriter.write_lines`."""
    table, sink = _csv_table(frame), pa.BufferOutputStream()
    _write_csv_rows(table, sink)
    return CsvLines(sink.getvalue(), table.schema, len(frame))


class TableWriter:
    """Write a table chunk by chunk as CSV, XLSX or Parquet (CSV and XLSX neutralised).

    Every chunk must have the same columns; the first chunk fixes the column types. For XLSX, `widths` gives the
    characters a column's values take and `formats` a number column's number format (e.g. '0.00%'), both known before
    the first row, so the file does not depend on how the rows were cut into chunks; a column without a width is as
    wide as its header (with the filter button). Parquet rows go in row groups of PARQUET_ROW_GROUP rows, for the same
    reason (the chunks of a run depend on the engine and its workers).
    """

    def __init__(self, target: Path | str | BinaryIO, fmt: str, *, sheet: str = "data",
                 widths: Mapping[str, int] | None = None, formats: Mapping[str, str] | None = None):
        self.fmt, self.rows = fmt, 0
        self._target, self._sheet = target, sheet
        self._widths, self._formats = dict(widths or {}), dict(formats or {})
        self._parquet: pq.ParquetWriter | None = None
        self._held: list[pa.Table] = []  # Parquet rows not yet in a row group
        self._sink: BinaryIO | pa.NativeFile | None = None  # where CSV goes
        self._file: pa.NativeFile | None = None  # a CSV file this writer opened
        self._schema: pa.Schema | None = None
        self._book = None
        self._ws = None
        self._columns = 0

    def write(self, frame: pd.DataFrame) -> None:
        if self.fmt == "xlsx":
            self._write_xlsx(frame)
        else:
            table = _csv_table(frame) if self.fmt == "csv" else _arrow(frame)
            if self._schema is None:
                self._start(table.schema)
            elif table.schema != self._schema:
                table = table.cast(self._schema)
            if self._parquet is not None:
                self._hold(table)
            else:
                _write_csv_rows(table, self._sink)
        self.rows += len(frame)

    def _hold(self, table: pa.Table) -> None:
        """Add rows to the Parquet file, a whole row group at a time."""
        self._held.append(table)
        held = sum(map(len, self._held))
        if held >= PARQUET_ROW_GROUP:
            rows = pa.concat_tables(self._held)
            whole = held - held % PARQUET_ROW_GROUP
            # one array per column: the pages of a column chunk would otherwise follow where the chunks were cut
            self._parquet.write_table(rows.slice(0, whole).combine_chunks(), row_group_size=PARQUET_ROW_GROUP)
            self._held = [rows.slice(whole)]

    def write_lines(self, lines: CsvLines) -> None:
        """Append rows `csv_lines` formatted (CSV only); ValueError if their column types are not the file's."""
        if self._schema is None:
            self._start(lines.schema)
        elif lines.schema != self._schema:
            raise ValueError(f"rows formatted with other column types ({lines.schema}) than the file's ({self._schema})")
        self._sink.write(lines.data)
        self.rows += len(lines)

    def _start(self, schema: pa.Schema) -> None:
        """Open the output for rows of `schema`: a CSV file gets its header, a Parquet file its writer."""
        self._schema = schema
        if self.fmt == "csv":
            self._sink = self._csv_sink()
            pacsv.write_csv(schema.empty_table(), self._sink)  # the header line alone
        else:
            self._parquet = pq.ParquetWriter(self._target, schema)

    def _csv_sink(self) -> BinaryIO | pa.NativeFile:
        """Where CSV goes, after a UTF-8 byte order mark: without one Excel reads the file in the computer's
        ANSI code page and shows 'Müller' as 'MÃ¼ller' (pandas, pyarrow and this tool's reader skip it)."""
        sink = self._target
        if isinstance(sink, (str, Path)):
            sink = self._file = pa.OSFile(str(sink), "wb")  # arrow's own file: writes without holding the GIL
        sink.write(codecs.BOM_UTF8)
        return sink

    def _write_xlsx(self, frame: pd.DataFrame) -> None:
        # openpyxl is imported where an XLSX is written: ~0.1 s at start that CSV and Parquet runs need not pay
        from openpyxl import Workbook
        from openpyxl.cell.cell import ERROR_CODES
        from openpyxl.utils import get_column_letter

        if self.rows + len(frame) + 1 > XLSX_MAX_ROWS:
            if self._ws is not None:
                self._ws.close()  # finish the sheet's stream, so nothing is left half open
                self._book = self._ws = None
            raise ValueError(f"more than {XLSX_MAX_ROWS - 1:,} rows do not fit in an XLSX sheet (use .csv or .parquet)")
        if self._book is None:
            self._book = Workbook(write_only=True)
            self._ws = self._book.create_sheet(self._sheet)
            self._ws.freeze_panes = "A2"  # the header stays in view while scrolling
            narrowest, widest = XLSX_WIDTHS
            for i, name in enumerate(frame.columns, start=1):
                width = max(narrowest, len(str(name)) + 3, self._widths.get(str(name), 0) + 2)
                self._ws.column_dimensions[get_column_letter(i)].width = min(widest, width)
            self._ws.append([str(c) for c in frame.columns])
            self._columns = len(frame.columns)
        columns = []
        for name in frame.columns:
            col, marked = frame[name], np.zeros(0, dtype=np.intp)
            if _is_text(col):  # text openpyxl would write as a formula, or as an error value ('#N/A'): text cells
                col, risky = _text_and_risky(col)
                marked = np.flatnonzero(col.isin(ERROR_CODES).to_numpy(dtype=bool) | (False if risky is None else risky))
            values = _xml_safe(col).astype(object).where(col.notna(), None).to_numpy(copy=len(marked) > 0)
            for i in marked:
                values[i] = self._text_cell(values[i])
            if str(name) in self._formats and _is_number(col):
                values = self._formatted(values, self._formats[str(name)])
            columns.append(values)
        for row in zip(*columns, strict=True):
            self._ws.append([v.item() if isinstance(v, np.generic) else v for v in row])

    def _text_cell(self, text: str) -> WriteOnlyCell:
        """A text cell with the quote-prefix style, for text openpyxl would write as a formula (one that starts like a
        formula) or as an error value ('#N/A'): a spreadsheet shows it as given, and keeps it text when a user edits it."""
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(self._ws, value=text)
        cell.data_type = "s"
        cell.quotePrefix = True
        return cell

    def _formatted(self, values: np.ndarray, number_format: str) -> list:
        """Numbers as cells with `number_format` (missing values stay None: no cell). openpyxl's write-only sheet
        takes a format only on a cell of its own. Setting the format on each cell costs ~2.2 µs a cell, a named style
        ~4.3 µs (openpyxl 3.1.5 looks its name up in a list for every cell)."""
        from openpyxl.cell import WriteOnlyCell

        ws, out = self._ws, []
        for v in values.tolist():
            if v is not None:
                v = WriteOnlyCell(ws, value=v)
                v.number_format = number_format
            out.append(v)
        return out

    def close(self, columns: list[str] | pd.DataFrame | None = None) -> None:
        """Finish the file; `columns` gives the header of a table that received no rows (as a frame of no rows, also
        the column types a Parquet file keeps; as names, its columns are text)."""
        if self._schema is None and self._book is None:
            empty = columns if isinstance(columns, pd.DataFrame) else pd.DataFrame(
                {c: pd.Series(dtype="str") for c in columns or []})
            self.write(empty)
        if self._parquet is not None:
            rest = pa.concat_tables(self._held).combine_chunks()
            if len(rest) or not self.rows:  # a file without rows gets its one empty row group, as before
                self._parquet.write_table(rest)
            self._parquet.close()
        if self._file is not None:
            self._file.close()
        if self._book is not None:
            from openpyxl.utils import get_column_letter

            self._ws.auto_filter.ref = f"A1:{get_column_letter(max(1, self._columns))}{self.rows + 1}"  # sort and filter
            _save_xlsx(self._book, self._target)


# control characters an XLSX cell cannot hold (XML 1.0 forbids them) → their Unicode "control pictures" (␋ for
# a vertical tab): a rejected value in the errors file keeps where its stray character was
_CONTROL_PICTURES = {code: 0x2400 + code for code in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20))}


def _is_number(col: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype)


def _xml_safe(col: pd.Series) -> pd.Series:
    """A column with the control characters an XLSX cell cannot hold shown as control pictures (text only)."""
    if not _is_text(col):
        return col
    text = col.astype("str")
    bad = text.str.contains(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", regex=True).fillna(False).to_numpy(dtype=bool)
    return text.mask(bad, text.str.translate(_CONTROL_PICTURES)) if bad.any() else col


def _save_xlsx(book, target: Path | str | BinaryIO) -> None:
    """Save a workbook with fixed timestamps, so the same table gives the same bytes."""
    book.properties.creator = "CertStrategy"
    book.properties.created = datetime(2000, 1, 1)
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(buffer) as src:
        entries = [(info.filename, src.read(info.filename)) for info in src.infolist()]
    out = target if not isinstance(target, (str, Path)) else open(target, "wb")  # noqa: SIM115
    try:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            for name, data in entries:
                if name == "docProps/core.xml":
                    data = _fixed_modified(data)
                info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                dst.writestr(info, data)
    finally:
        if out is not target:
            out.close()


def _fixed_modified(core: bytes) -> bytes:
    return re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>2000-01-01T00:00:00Z\g<2>", core)


# number formats of the product's money and share columns in XLSX (the values stay numbers)
NUMBER_FORMATS = {"cost_total": "#,##0.00", "tco": "#,##0.00", "trust": "0.00%"}


def table_bytes(frame: pd.DataFrame, fmt: str, *, sheet: str = "data") -> bytes:
    """One DataFrame → the bytes of a safe CSV / XLSX (or a Parquet) file, e.g. for a download button. In XLSX
    each column is as wide as its longest cell (the whole table is known) and money and shares are formatted."""
    buffer = io.BytesIO()
    widths = ({str(name): int(frame[name].astype("str").str.len().fillna(0).max()) for name in frame.columns}
              if fmt == "xlsx" and len(frame) else {})
    writer = TableWriter(buffer, fmt, sheet=sheet, widths=widths, formats=NUMBER_FORMATS)
    if len(frame.columns):
        writer.write(frame)
    writer.close([str(c) for c in frame.columns])
    return buffer.getvalue()


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A DataFrame as safe CSV bytes."""
    return table_bytes(frame, "csv")


def xlsx_bytes(frame: pd.DataFrame, *, sheet: str = "data") -> bytes:
    """A DataFrame as safe, deterministic XLSX bytes."""
    return table_bytes(frame, "xlsx", sheet=sheet)


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name the same file (also through links), so an output would overwrite an input."""
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


@contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path next to `path`; on success it is synced and renamed over `path`.

    On an exception the temporary file is removed and `path` is left as it was. A temporary file that cannot be
    made, synced or renamed (a folder without write permission, a full disk) raises InputError (`writing`). A symbolic
    link is written through, as a shell's `>` writes: its target is replaced and the link stays (a 'latest' link).
    """
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()
    with writing(path):
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        with writing(path):
            os.chmod(tmp_path, path.stat().st_mode & 0o7777 if path.exists() else _default_mode())
        yield tmp_path
        with writing(path):
            with open(tmp_path, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def _default_mode() -> int:
    """0o666 less the process umask: the mode a plainly created file would get."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_table(frame: pd.DataFrame, path: Path | str, *, sheet: str = "data") -> None:
    """Write a DataFrame atomically as safe CSV / XLSX or as Parquet, chosen by the file extension."""
    fmt = output_format(path)
    with atomic_path(path) as tmp:
        writer = TableWriter(tmp, fmt, sheet=sheet)
        if len(frame.columns):
            writer.write(frame)
        writer.close([str(c) for c in frame.columns])
