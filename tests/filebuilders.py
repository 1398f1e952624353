"""Small in-memory XLSX and Parquet files for tests that build inputs at run time."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterable
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import Workbook


def workbook_bytes(rows: list[list[Any]], merged: Iterable[str] = (), hidden: Iterable[int] = ()) -> bytes:
    """An .xlsx with `rows` (the first is the header) on its first sheet, the ranges `merged` ("D2:D4") merged and
    the rows numbered `hidden` hidden."""
    book = Workbook()
    for row in rows:
        book.active.append(row)
    for cells in merged:
        book.active.merge_cells(cells)
    for number in hidden:
        book.active.row_dimensions[number].hidden = True
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def zip_patched(data: bytes, member: str, patch: Callable[[bytes], bytes]) -> bytes:
    """A zip file (an .xlsx) with `patch` applied to one member."""
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            target.writestr(info.filename, patch(body) if info.filename == member else body)
    return out.getvalue()


def parquet_bytes(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()
