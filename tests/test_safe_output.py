"""Safe tables (decision/safe_output.py): formula neutralising, deterministic XLSX, atomic writes."""

from __future__ import annotations

import codecs
import io
import os
import stat
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from decision.safe_output import (
    TableWriter,
    atomic_path,
    csv_bytes,
    neutralise,
    output_format,
    table_bytes,
    write_table,
    xlsx_bytes,
)

RISKY = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx", " =1+1", "   @cmd"]


def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "text": [*RISKY, "plain", None],
        "mixed": pd.Series(["=a", 1, True, None, "b", "c", "d", " a", " 1 = 1", "-e"], dtype=object),
        "number": [-1.5, 2.0, np.nan, 0, 3, 4, 5, 6, 7, -6],
        "count": pd.array([1, None, 3, 4, 5, 6, 7, 8, 9, -8], dtype="Int64"),
    })


def test_every_formula_start_gets_a_quote_and_nothing_else_changes():
    safe = neutralise(frame())
    assert safe["text"].tolist()[:len(RISKY)] == ["'" + v for v in RISKY]
    assert safe["text"].iloc[-2] == "plain" and pd.isna(safe["text"].iloc[-1])
    assert safe["mixed"].tolist()[:3] == ["'=a", "1", "True"] and safe["mixed"].iloc[-1] == "'-e"
    assert safe["mixed"].tolist()[7:9] == [" a", " 1 = 1"]  # spaces before other text change nothing
    pd.testing.assert_series_equal(safe["number"], frame()["number"])
    pd.testing.assert_series_equal(safe["count"], frame()["count"])


@pytest.mark.parametrize("start", [*RISKY, "a"])
def test_a_risky_cell_is_found_in_a_slice_of_a_text_column_and_one_outside_it_is_not(start):
    """The first bytes of the cells decide whether the pattern runs: a slice's own cells, not its neighbours'."""
    column = pd.Series([start, "x", "y", start], dtype="str")
    risky = start != "a"
    assert neutralise(column.iloc[1:3].to_frame("t"))["t"].tolist() == ["x", "y"]
    assert neutralise(column.iloc[2:].to_frame("t"))["t"].tolist() == ["y", "'" * risky + start]


def test_csv_bytes_are_safe_and_keep_numbers():
    text = csv_bytes(frame()).decode()
    back = pd.read_csv(io.StringIO(text))
    assert back["text"].tolist()[:4] == ["'=1+1", "'+SUM(A1)", "'-2+3", "'@cmd"]
    assert back["number"].iloc[0] == -1.5 and back["count"].iloc[-1] == -8
    assert "\n=" not in text and ',"=' not in text


def test_csv_cells_are_those_of_arrows_conversion_of_the_neutralised_frame():
    """The CSV writer converts each column itself (NaN found by numpy, text sent through `neutralise` only where a cell
    may start like a formula): the same bytes as writing pyarrow's conversion of the whole neutralised frame."""
    table = pd.DataFrame({
        "float": [1.5, np.nan, -0.0, np.inf, 1e21, 0.1 + 0.2, -2.25, 3.0],
        "float32": np.array([0.1, np.nan, 2, -1, 0, 5, 6, 7], dtype=np.float32),
        "whole": [0.0, 1, 2, 3, 4, 5, 6, 7],  # no NaN
        "int": range(8),
        "bool": [True, False] * 4,
        "count": pd.array([1, None, 3, 4, 5, 6, 7, 8], dtype="Int64"),
        "text": pd.Series(["a", None, "=1", "b", "", " -x", 'say "hi"', "d"], dtype="str"),
        "plain": pd.Series(["a", None, "", "b,c", "x\ny", "é", "f", "g"], dtype="str"),
        "mixed": pd.Series(["=a", 1, True, None, 2.5, "b", "c", "d"], dtype=object),
    })
    expected = io.BytesIO(codecs.BOM_UTF8)
    expected.seek(0, io.SEEK_END)
    pacsv.write_csv(pa.Table.from_pandas(neutralise(table), preserve_index=False), expected)
    assert csv_bytes(table) == expected.getvalue()
    assert csv_bytes(table.iloc[3:6]) == csv_bytes(table.iloc[3:6].reset_index(drop=True))  # a slice's own cells


def test_xlsx_bytes_are_safe_typed_and_deterministic():
    data = xlsx_bytes(frame(), sheet="scores")
    sheet = openpyxl.load_workbook(io.BytesIO(data))["scores"]
    rows = list(sheet.values)
    assert rows[0] == ("text", "mixed", "number", "count")
    assert rows[1] == ("=1+1", "=a", -1.5, 1)  # as given: text cells, never formulas, marked to stay text when edited
    text = [row[0] for row in sheet.iter_rows(min_row=2, max_row=len(RISKY) + 2)]
    assert [(c.value, c.data_type, c.quotePrefix) for c in text] == [
        *((v, "s", True) for v in RISKY), ("plain", "s", False)]
    assert rows[3][2] is None and rows[2][3] is None  # missing stays empty
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        assert {info.date_time for info in book.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert b"2000-01-01T00:00:00Z" in book.read("docProps/core.xml")
    assert xlsx_bytes(frame(), sheet="scores") == data


def test_a_downloaded_xlsx_fits_its_columns_to_their_cells_and_formats_money_and_trust_as_numbers():
    """The app's Excel download (one table, known whole) had every column as wide as its header: 'reasons' cut off at
    10 characters, and money and trust in the General format, as the batch output had before."""
    table = pd.DataFrame({"option": ["san", "internal_ca"], "cost_total": [827.5, 12345.25], "trust": [1.0, 0.8593],
                          "reasons": ["one certificate for every name", "x" * 200]})
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(table, sheet="options")))["options"]
    widths = {c[0].value: sheet.column_dimensions[c[0].column_letter].width for c in sheet.iter_cols(max_row=1)}
    assert widths == {"option": 13, "cost_total": 13, "trust": 10, "reasons": 60}  # longest cell + 2 or header + 3, 10 to 60
    cells = {c[0].value: c[2] for c in sheet.iter_cols(max_row=3)}
    assert (cells["cost_total"].value, cells["cost_total"].number_format) == (12345.25, "#,##0.00")
    assert (cells["trust"].value, cells["trust"].number_format) == (0.8593, "0.00%")
    assert cells["option"].number_format == "General"
    empty = table.assign(ca=None, rank=np.nan)  # a column with no value at all (no CA, no rank) is as wide as its header
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(empty)))["data"]
    assert [sheet.column_dimensions[c].width for c in ("E", "F")] == [10, 10]


def test_xlsx_shows_control_characters_it_cannot_hold_as_control_pictures():
    """XML 1.0 (and so an XLSX cell) cannot hold most control characters: a rejected value with a stray vertical tab
    crashed the errors workbook. Tabs and line breaks, which a cell holds, stay as they are."""
    frame = pd.DataFrame({"value": ["A\x0bB", "D\x00E\x1aF", "tab\tand\nbreak", None], "n": [1, 2, 3, 4]})
    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(frame)))
    assert [r[0].value for r in book.active.iter_rows(min_row=2)] == ["A\u240bB", "D\u2400E\u241aF", "tab\tand\nbreak",
                                                                       None]


def test_xlsx_keeps_the_header_in_view_and_filters_every_row(tmp_path):
    writer = TableWriter(tmp_path / "t.xlsx", "xlsx", sheet="scores")
    writer.write(frame().iloc[:3])
    writer.write(frame().iloc[3:])
    writer.close()
    sheet = openpyxl.load_workbook(tmp_path / "t.xlsx")["scores"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:D11"  # the header and all 10 rows, every column
    assert sheet.column_dimensions["A"].width >= len("text")


def test_xlsx_widths_and_number_formats_come_from_the_caller_not_from_the_chunks():
    """A column is as wide as the caller says its values are (capped at 60), else as its header; a number column
    given a format has it on every number, which stays a number; text and missing cells are left as they were."""
    table = frame().assign(share=[0.8593, 1, None, 0, 0.5, 0.25, 0.125, 0.1, 0.01, 0.001])
    widths = {"text": 200, "number": 14, "mixed": 3}
    formats = {"number": "#,##0.00", "share": "0.00%", "text": "0.00%"}

    def written(*cuts: int) -> bytes:
        buffer = io.BytesIO()
        writer = TableWriter(buffer, "xlsx", widths=widths, formats=formats)
        for part in np.split(np.arange(len(table)), cuts):
            writer.write(table.iloc[part])
        writer.close()
        return buffer.getvalue()

    data = written()
    assert written(1) == written(3, 7) == data
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert {c: sheet.column_dimensions[c].width for c in "ABCDE"} == {"A": 60, "B": 10, "C": 16, "D": 10, "E": 10}
    assert [(c.value, c.number_format, c.data_type) for c in sheet["E"][1:3]] == [(0.8593, "0.00%", "n"), (1, "0.00%", "n")]
    assert [(c.value, c.number_format) for c in sheet["C"][1:4]] == [(-1.5, "#,##0.00"), (2, "#,##0.00"), (None, "General")]
    assert [c.number_format for c in (sheet["A2"], sheet["A10"], sheet["D2"], sheet["E1"])] == ["General"] * 4
    assert sheet["A2"].quotePrefix and sheet["A2"].value == "=1+1"


def test_table_writer_appends_chunks_under_one_header(tmp_path):
    writer = TableWriter(tmp_path / "t.csv", "csv")
    writer.write(frame().iloc[:3])
    writer.write(frame().iloc[3:])
    writer.close()
    assert writer.rows == 10
    assert (tmp_path / "t.csv").read_bytes() == csv_bytes(frame())


def test_csv_starts_with_a_byte_order_mark_so_excel_reads_utf8():
    """Without it Excel reads a CSV in the ANSI code page: 'Müller GmbH' showed as 'MÃ¼ller GmbH'."""
    data = csv_bytes(pd.DataFrame({"org": ["Müller GmbH"], "n": [1]}))
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1
    assert pd.read_csv(io.BytesIO(data))["org"].tolist() == ["Müller GmbH"]


def test_an_empty_table_still_has_its_header():
    assert table_bytes(pd.DataFrame(columns=["a", "b"]), "csv").decode("utf-8-sig").strip() == '"a","b"'


def test_xlsx_refuses_more_rows_than_a_sheet_holds(monkeypatch):
    monkeypatch.setattr("decision.safe_output.XLSX_MAX_ROWS", 5)
    with pytest.raises(ValueError, match="do not fit in an XLSX sheet"):
        xlsx_bytes(frame())
    writer = TableWriter(io.BytesIO(), "xlsx")
    writer.write(frame().iloc[:3])
    with pytest.raises(ValueError, match="do not fit"):
        writer.write(frame().iloc[3:])


def test_atomic_path_replaces_only_on_success(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    os.chmod(target, 0o640)
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash while writing")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # a replaced file keeps its permissions


def test_write_table_picks_the_format_from_the_extension(tmp_path):
    write_table(frame(), tmp_path / "t.parquet")
    assert pd.read_parquet(tmp_path / "t.parquet")["text"].iloc[0] == "=1+1"  # Parquet is data, not a spreadsheet
    write_table(frame(), tmp_path / "t.xlsx")
    cell = openpyxl.load_workbook(tmp_path / "t.xlsx").active["A2"]
    assert (cell.value, cell.data_type, cell.quotePrefix) == ("=1+1", "s", True)
    assert output_format("X.CSV") == "csv"
    with pytest.raises(ValueError, match="unsupported output type"):
        write_table(frame(), tmp_path / "t.json")


def test_xlsx_keeps_text_that_reads_like_an_error_value_as_text():
    """A profile exported from a lookup that failed says '#N/A': the XLSX output shows that text, not an error cell."""
    table = pd.DataFrame({"org": ["#N/A", "#DIV/0!", "#N/A later", None], "n": [1, 2, 3, 4]})
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(table))).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [(c.value, c.data_type) for c in cells] == [("#N/A", "s"), ("#DIV/0!", "s"), ("#N/A later", "s"), (None, "n")]


def test_parquet_row_groups_do_not_depend_on_how_the_rows_came_in_chunks(tmp_path, monkeypatch):
    """Dask workers and --workers cut a run into other chunks than the pandas engine: the same rows give the same
    Parquet bytes, in row groups of PARQUET_ROW_GROUP rows (found by QA: a row group per chunk)."""
    import pyarrow.parquet as pq

    monkeypatch.setattr("decision.safe_output.PARQUET_ROW_GROUP", 7)
    frame = pd.DataFrame({"profile": [f"p{i}" for i in range(30)], "score": np.linspace(0, 100, 30),
                          "rank": pd.array(range(30), dtype="Int64"),
                          "names": [f"{i}." + "mail.contoso.com;" * 12_000 for i in range(30)]})  # pages of 1 MB
    for name, cuts in (("whole", [30]), ("pieces", [5, 12, 1, 12]), ("small", [3] * 10)):
        writer = TableWriter(tmp_path / f"{name}.parquet", "parquet")
        start = 0
        for n in cuts:
            writer.write(frame.iloc[start:start + n])
            start += n
        writer.close()
    meta = pq.read_metadata(tmp_path / "whole.parquet")
    assert [meta.row_group(g).num_rows for g in range(meta.num_row_groups)] == [7, 7, 7, 7, 2]
    assert (tmp_path / "pieces.parquet").read_bytes() == (tmp_path / "whole.parquet").read_bytes()
    assert (tmp_path / "small.parquet").read_bytes() == (tmp_path / "whole.parquet").read_bytes()
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "small.parquet"), frame)


def test_an_output_through_a_symbolic_link_replaces_its_target_and_keeps_the_link(tmp_path):
    """A 'latest.csv' link to this month's file: writing to the link updates the file it names, as `>` does (found by
    QA: the link was replaced by a file, and the month's file left as it was)."""
    (tmp_path / "2026-11").mkdir()
    month = tmp_path / "2026-11" / "scores.csv"
    month.write_text("old\n")
    latest = tmp_path / "latest.csv"
    latest.symlink_to(month)
    write_table(pd.DataFrame({"a": [1]}), latest)
    assert latest.is_symlink() and latest.resolve() == month.resolve()
    assert month.read_bytes() == codecs.BOM_UTF8 + b'"a"\n1\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-11", "latest.csv"]
    assert sorted(p.name for p in month.parent.iterdir()) == ["scores.csv"]
