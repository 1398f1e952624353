"""Small in-memory XLSX and Parquet files for tests that build inputs at run time."""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import Workbook


def workbook_bytes(rows: list[list[Any]]) -> bytes:
    """An .xlsx with `rows` (the first is the header) on its first sheet."""
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def parquet_bytes(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()
