"""Batch scoring (issue 8): `python -m decision score INPUT -o OUTPUT ...` — decision/batch.py."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import errno
import io
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import dask
import distributed
import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from filebuilders import workbook_bytes, zip_patched
from hypothesis import given, settings
from hypothesis import strategies as st

import decision
from decision.batch import (
    DaskCluster,
    Job,
    _dask_tasks,
    _opened_on_worker,
    _pieces,
    _Progress,
    _score_parquet_slice,
    _share,
    _stops_held,
    _Task,
    _write,
    output_columns,
    score_chunk,
    score_file,
)
from decision.catalog import default_catalog
from decision.cli import main, run
from decision.engine import OPTION_COLUMNS
from decision.errors import InputError, Issue
from decision.options import OPTIONS
from decision.parameters import default_parameters
from decision.profiles import profile_to_mapping
from decision.safe_output import CsvLines, TableWriter, csv_lines
from decision.sensitivity import batch_columns
from decision.synth import write_synthetic
from decision.tables import RECORD_SEARCH, _as_utf8, _line_ends, _sheet_xml, csv_blocks

DISK_FULL = "cannot write it: No space left on device (any previous file of that name is unchanged)"

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "data" / "profiles"
TODAY = dt.date(2026, 11, 26)
WIDE = ["profile", "row", "recommendation", "recommended_ca", "no_option_because", "runner_up", "margin", "close_call",
        "nearest_flip", "currency", "cost_total", "tco", "trust", "devices_to_reconfigure", "users_url_change",
        "certificate_issuances", "score", *(f"score_{o}" for o in OPTIONS)]


def score(*args: str | Path) -> tuple[int, str, str]:
    """Run the score command in-process: (exit code, stdout, stderr)."""
    result = CliRunner().invoke(main, ["score", *map(str, args)], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def profiles_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("in") / "clients.csv"
    write_synthetic(120, path, seed=7)
    return path


@pytest.fixture(scope="module")
def reference(profiles_csv) -> decision.Evaluation:
    """The single-engine result the batch must reproduce."""
    return decision.evaluate(profiles_csv)


def test_wide_layout_matches_the_engine(profiles_csv, reference, tmp_path):
    code, out, _ = score(profiles_csv, "-o", tmp_path / "out.csv")
    assert code == 0
    got = pd.read_csv(tmp_path / "out.csv", dtype={"profile": str})
    assert list(got.columns) == WIDE
    want = reference.recommendations
    assert len(got) == len(want) == 120
    assert got["profile"].tolist() == want["profile"].tolist()
    assert got["row"].tolist() == list(range(2, 122))  # spreadsheet rows: header = 1
    assert got["recommendation"].fillna("").tolist() == want["recommendation"].fillna("").tolist()
    assert got["runner_up"].fillna("").tolist() == want["runner_up"].fillna("").tolist()
    ranked_first = reference.options[reference.options["rank"] == 1].set_index("profile")
    assert got["recommended_ca"].fillna("").tolist() == ranked_first.loc[got["profile"], "ca"].fillna("").tolist()
    assert got["recommended_ca"].notna().any() and set(got["recommended_ca"].dropna()) <= set(default_catalog().ids)
    for column, decimals in {"cost_total": 2, "tco": 2, "trust": 4, "margin": 2, "score_acme": 2, "score_san": 2}.items():
        np.testing.assert_allclose(got[column], want[column].astype(float).round(decimals), equal_nan=True)
    assert got["devices_to_reconfigure"].dropna().eq(want["devices_to_reconfigure"].dropna()).all()
    assert got["close_call"].tolist() == want["close_call"].tolist()
    flips = batch_columns(reference.scored)["nearest_flip"].fillna("")
    assert got["nearest_flip"].fillna("").tolist() == flips.tolist()
    assert got["nearest_flip"].fillna("").str.match(r"^(w_\w+ \d+\.\d{3} → \d+\.\d{3}: \w+)?$").all()
    assert "rows in: 120  scored: 120  rejected: 0" in out
    assert "total cost of the recommended options:" in out


def test_a_profile_no_option_fits_says_why_in_the_wide_layout(tmp_path):
    """Its recommendation and scores are empty: the row said nothing of why, while `evaluate` names the reasons.
    The codes are those its options carry in the long layout."""
    source = tmp_path / "in.csv"
    source.write_text("org,external_domain,users,acme_ok,internal_ca\nAlpha,alpha.com,100,true,false\n"
                      "Beta,beta,200,true,false\n", encoding="utf-8")
    assert score(source, "-o", tmp_path / "wide.csv")[0] == 0
    assert score(source, "-o", tmp_path / "long.csv", "--layout", "long")[0] == 0
    wide = pd.read_csv(tmp_path / "wide.csv").set_index("profile")
    long = pd.read_csv(tmp_path / "long.csv").set_index("profile")
    assert wide["recommendation"].isna().tolist() == [False, True]
    assert pd.isna(wide.loc["Alpha", "no_option_because"])
    because = wide.loc["Beta", "no_option_because"].split("; ")
    assert because and set(because) <= {c for r in long.loc["Beta", "reasons"] for c in r.split("; ")}
    assert "no_internal_ca" in because


def test_long_layout_has_one_row_per_profile_and_option(profiles_csv, reference, tmp_path):
    code, _, _ = score(profiles_csv, "-o", tmp_path / "long.parquet", "--layout", "long")
    assert code == 0
    got = pd.read_parquet(tmp_path / "long.parquet")
    assert list(got.columns) == [*OPTION_COLUMNS, "ca", "currency", "dominated", "dominated_by", "row"]
    assert len(got) == 7 * 120
    assert got["option"].tolist()[:7] == list(OPTIONS)
    want = reference.options
    for column in ("profile", "option", "feasible", "reasons", "names", "not_issuable", "ca", "dominated",
                   "dominated_by"):
        assert got[column].fillna("").astype(str).tolist() == want[column].fillna("").astype(str).tolist(), column
    # infeasible options have no rank (design.md), not the engine's 0: sorted by rank they came first
    assert got["rank"].isna().tolist() == (~want["feasible"]).tolist()
    assert got["rank"].dropna().tolist() == want["rank"][want["feasible"]].tolist()
    np.testing.assert_allclose(got["tco"], want["tco"])
    np.testing.assert_allclose(got["score"], want["score"], equal_nan=True)


def _scores(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype={"profile": str})
    return frame.drop(columns=[c for c in ("row", "file") if c in frame]).sort_values("profile").reset_index(drop=True)


def test_every_input_format_gives_the_same_scores(tmp_path):
    n = 40
    for suffix in ("csv", "xlsx", "parquet", "yaml"):
        write_synthetic(n, tmp_path / f"in.{suffix}", seed=11)
    folder = tmp_path / "folder"
    folder.mkdir()
    for i, item in enumerate(yaml.safe_load((tmp_path / "in.yaml").read_text())):
        (folder / f"client-{i:03d}.yaml").write_text(yaml.safe_dump(item))
    results = {}
    for source in ("in.csv", "in.xlsx", "in.parquet", "in.yaml", "folder"):
        code, out, err = score(tmp_path / source, "-o", tmp_path / f"{source}.out.csv")
        assert code == 0, err
        assert f"rows in: {n}  scored: {n}  rejected: 0" in out
        results[source] = _scores(tmp_path / f"{source}.out.csv")
    for source, frame in results.items():
        pd.testing.assert_frame_equal(frame, results["in.csv"], obj=source)
    folder_out = pd.read_csv(tmp_path / "folder.out.csv")
    assert list(folder_out.columns[:3]) == ["profile", "row", "file"]
    assert folder_out["file"].iloc[0] == "client-000.yaml" and folder_out["row"].iloc[0] == 1


def _as_european_csv(source: Path, target: Path, sep: str) -> None:
    """The CSV a spreadsheet saves in a German locale: ';' (or tabs) between fields, decimal commas, WAHR/FALSCH, a
    BOM."""
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    if sep in (";", "\t"):
        frame = frame.replace({r"^(-?\d+)\.(\d+)$": r"\1,\2", r"^true$": "WAHR", r"^false$": "FALSCH"}, regex=True)
    frame.to_csv(target, sep=sep, index=False, encoding="utf-8-sig")


@pytest.mark.parametrize("sep", [";", "\t"], ids=["semicolon", "tab"])
def test_semicolon_and_tab_separated_csv_score_like_the_comma_file(tmp_path, sep):
    write_synthetic(60, tmp_path / "in.csv", seed=12)
    _as_european_csv(tmp_path / "in.csv", tmp_path / "local.csv", sep)
    text = (tmp_path / "local.csv").read_text(encoding="utf-8-sig")
    assert "," not in text.splitlines()[0] and "WAHR" in text and f"{sep}0," in text
    assert score(tmp_path / "in.csv", "-o", tmp_path / "comma.out.csv")[0] == 0
    code, out, err = score(tmp_path / "local.csv", "-o", tmp_path / "local.out.csv")
    assert code == 0, err
    assert "rows in: 60  scored: 60  rejected: 0" in out
    assert (tmp_path / "local.out.csv").read_bytes() == (tmp_path / "comma.out.csv").read_bytes()


def _resaved(source: Path, sep: str) -> str:
    """The text of a CSV file saved again with `sep` between the fields and Windows line ends."""
    return pd.read_csv(source, dtype=str, keep_default_na=False).to_csv(sep=sep, index=False, lineterminator="\r\n")


@pytest.mark.parametrize(("name", "sep"), [("in.csv", ","), ("in.txt", "\t")], ids=["out-file", "excel-unicode-text"])
def test_a_utf16_csv_scores_as_the_same_utf8_file(tmp_path, name, sep):
    """Windows PowerShell 5.1's Out-File writes UTF-16 LE with a BOM; Excel's "Unicode Text" (.txt) too, with tabs."""
    write_synthetic(150, tmp_path / "synthetic.csv", seed=8, bad_share=0.1)
    text, source = _resaved(tmp_path / "synthetic.csv", sep), tmp_path / name
    source.write_bytes(text.encode("utf-8"))
    assert score(source, "-o", tmp_path / "utf8.csv", "--chunk-rows", "40")[0] == 1
    source.write_bytes(("\ufeff" + text).encode("utf-16-le"))
    code, out, err = score(source, "-o", tmp_path / "utf16.csv", "--chunk-rows", "40")
    assert code == 1, err
    assert "rows in: 150" in out
    for kind in ("", ".errors"):
        assert (tmp_path / f"utf16{kind}.csv").read_bytes() == (tmp_path / f"utf8{kind}.csv").read_bytes()


def _as_dask_workers_score(source: Path, chunk_rows: int) -> tuple[set, pd.DataFrame, pd.DataFrame]:
    """The partitions `--engine dask` makes of `source`, each scored as a worker scores it (here, without a cluster):
    (the functions run, the output, the errors)."""
    job = Job("wide", str(source), default_parameters(), default_catalog(), TODAY)
    tasks = list(_dask_tasks(source, _pieces(source, chunk_rows), chunk_rows, 2, numbered=True))
    results = [task.fn(*task.args, job) for task in tasks]
    assert not any(r.relative for r in results)  # rows counted from the file's start: nothing for the driver to shift
    return ({task.fn for task in tasks}, pd.concat([r.output for r in results], ignore_index=True),
            pd.concat([r.errors for r in results], ignore_index=True))


def _pandas_scores(source: Path, chunk_rows: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    score_file(source, source.with_name("pandas.csv"), chunk_rows=chunk_rows, today=TODAY)
    return (pd.read_csv(source.with_name("pandas.csv"), dtype={"profile": str}),
            pd.read_csv(source.with_name("pandas.errors.csv"), dtype=str, keep_default_na=False))


def _same_rows(dask: tuple[set, pd.DataFrame, pd.DataFrame], pandas: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, output, errors = dask
    assert output[["profile", "row", "recommendation"]].astype(str).values.tolist() == \
        pandas[0][["profile", "row", "recommendation"]].astype(str).values.tolist()
    assert errors[["row", "field", "reason"]].astype(str).values.tolist() == \
        pandas[1][["row", "field", "reason"]].astype(str).values.tolist()


def test_dask_sends_the_workers_a_utf16_csv_in_pieces_read_here(tmp_path):
    """Byte ranges of UTF-16 text are not lines the workers' parser reads: the driver reads the file (transcoded)."""
    write_synthetic(150, tmp_path / "synthetic.csv", seed=8, bad_share=0.1)
    source = tmp_path / "in.csv"
    source.write_bytes(_resaved(tmp_path / "synthetic.csv", ";").encode("utf-16"))
    dask = _as_dask_workers_score(source, 40)
    assert dask[0] == {score_chunk} and len(dask[1]) > 100
    _same_rows(dask, _pandas_scores(source, 40))


class _InProcessCluster:
    """Stands in for `DaskCluster`: each partition is scored here when submitted, as a worker would score it."""

    workers = 2

    def __init__(self, scheduler: str | None = None, workers: int = 2) -> None:
        self.client, self.kinds = self, []  # kinds: the type of each result's output, in the order submitted

    def scatter(self, job: Job, broadcast: bool) -> Job:
        return job

    def submit(self, fn, *args, pure: bool):
        result = fn(*args)
        self.kinds.append(type(result.output))
        return type("Done", (), {"result": lambda _: result})()

    def close(self) -> None:
        pass


def test_the_driver_reads_a_utf16_csv_or_a_workbook_once(tmp_path, monkeypatch):
    """Under `--engine dask` the driver reads them and sends the workers pieces: a UTF-16 file is transcoded once and a
    workbook opened once, also when the columns are checked before the cluster starts and with a progress bar (whose
    total a workbook's reader tells); the output is pandas' to the byte."""
    write_synthetic(150, tmp_path / "in.csv", seed=8, bad_share=0.1)
    utf16, book = tmp_path / "in-16.csv", tmp_path / "in.xlsx"
    utf16.write_bytes((tmp_path / "in.csv").read_text(encoding="utf-8").encode("utf-16"))
    pd.read_csv(tmp_path / "in.csv", dtype=str).to_excel(book, index=False)
    read: list[Path] = []
    transcode, load = _as_utf8, openpyxl.load_workbook
    monkeypatch.setattr("decision.tables._as_utf8", lambda source, encoding, path: read.append(path) or
                        transcode(source, encoding, path))
    monkeypatch.setattr("openpyxl.load_workbook", lambda path, **how: read.append(path) or load(path, **how))
    monkeypatch.setattr("decision.batch.DaskCluster", _InProcessCluster)
    for source in (utf16, book):
        score_file(source, tmp_path / "pandas.csv", chunk_rows=40, today=TODAY, progress=True)
        score_file(source, tmp_path / "dask.csv", engine="dask", chunk_rows=40, today=TODAY, progress=True)
        for kind in ("", ".errors"):
            assert (tmp_path / f"dask{kind}.csv").read_bytes() == (tmp_path / f"pandas{kind}.csv").read_bytes()
    assert read == [utf16, utf16, book, book]  # once a run


@pytest.mark.parametrize("index", ["id", "org"])
def test_a_parquet_column_stored_as_the_pandas_index_is_scored_by_both_engines(tmp_path, index):
    """With `df.set_index('id').to_parquet()` the ids name the profiles; with `set_index('org')`, no column is missing."""
    source = tmp_path / "in.parquet"
    write_synthetic(120, source, seed=9, bad_share=0.1)
    want = _pandas_scores(source, 50)
    assert want[0]["profile"].str.fullmatch(r"P\d{8}").all() and len(want[1])
    pd.read_parquet(source).set_index(index).to_parquet(source)
    got = _pandas_scores(source, 50)
    pd.testing.assert_frame_equal(got[0], want[0])
    pd.testing.assert_frame_equal(got[1], want[1])
    dask = _as_dask_workers_score(source, 50)
    assert dask[0] == {_score_parquet_slice}
    _same_rows(dask, want)


def test_bad_rows_are_listed_and_the_rest_scored(tmp_path):
    source = tmp_path / "mixed.csv"
    write_synthetic(300, source, seed=5, bad_share=0.1)
    table = pd.read_csv(source, dtype=str)
    table.loc[3, "users"] = "lots"  # spreadsheet row 5
    table.to_csv(source, index=False)
    code, out, _ = score(source, "-o", tmp_path / "out.csv", "--errors", tmp_path / "bad.csv", "--chunk-rows", "64")
    assert code == 1
    scored = pd.read_csv(tmp_path / "out.csv")
    errors = pd.read_csv(tmp_path / "bad.csv", keep_default_na=False)
    assert list(errors.columns) == ["file", "row", "field", "value", "reason"]
    rejected = errors["row"].nunique()
    assert 15 < rejected < 60
    assert len(scored) + rejected == 300  # nothing lost
    assert not set(scored["row"]) & set(errors["row"])
    assert f"rows in: 300  scored: {len(scored)}  rejected: {rejected}" in out
    lots = errors[errors["row"] == 5]
    assert lots[["field", "value", "reason"]].values.tolist() == [["users", "lots", "not a number"]]
    assert scored["row"].is_monotonic_increasing


def test_a_control_character_in_a_rejected_cell_reaches_the_errors_workbook(tmp_path):
    """A stray vertical tab (FileMaker's line break) crashed the XLSX errors file: exit 1 and nothing written."""
    source = tmp_path / "in.csv"
    source.write_bytes(b"org,external_domain,users\nA\x0bB,a.com,1\nC,c.com,1\n")
    code, _, _ = score(source, "-o", tmp_path / "out.xlsx")
    assert code == 1
    assert pd.read_excel(tmp_path / "out.xlsx")["profile"].tolist() == ["C"]
    errors = pd.read_excel(tmp_path / "out.errors.xlsx")
    assert errors[["row", "value", "reason"]].values.tolist() == [[2, "A\u240bB", "contains control characters"]]


def test_a_crash_is_reported_as_a_bug_and_exits_3_not_1(tmp_path, monkeypatch, capsys):
    """1 means "some rows rejected" to a script; an internal error must not look like that."""
    write_synthetic(3, tmp_path / "in.csv", seed=1)

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("decision.batch.score_file", broken)
    monkeypatch.setattr(sys, "argv", ["certstrategy", "score", str(tmp_path / "in.csv"), "-o", str(tmp_path / "o.csv")])
    with pytest.raises(SystemExit) as done:
        run()
    err = capsys.readouterr().err
    assert done.value.code == 3
    assert "RuntimeError: boom" in err and err.endswith("error: CertStrategy failed on an internal error (a bug: please "
                                                       "report it with the traceback above); no output file was replaced\n")


def test_a_line_with_too_many_fields_is_rejected_and_later_rows_keep_their_numbers(tmp_path):
    source = tmp_path / "ragged.csv"
    write_synthetic(6, source, seed=2)
    lines = source.read_text().splitlines()
    lines[3] += ',"surplus"'  # spreadsheet row 4
    source.write_text("\n".join(lines) + "\n")
    code, _, _ = score(source, "-o", tmp_path / "out.csv", "--chunk-rows", "2")
    assert code == 1
    assert pd.read_csv(tmp_path / "out.csv")["row"].tolist() == [2, 3, 5, 6, 7]
    errors = pd.read_csv(tmp_path / "out.errors.csv")
    assert errors["row"].tolist() == [4] and errors["reason"].iloc[0].startswith("has 32 values but the header has 31 columns")


def test_a_last_line_with_too_many_fields_after_a_full_chunk_is_rejected_not_lost(tmp_path):
    """The parser skips it while finding no rows left: it was neither scored nor rejected (rows in: 2 of 3)."""
    source = tmp_path / "in.csv"
    source.write_text("org,external_domain,users\nA,a.com,1\nB,b.com,2\nC,c.com,3,9\n")
    code, out, _ = score(source, "-o", tmp_path / "out.csv", "--chunk-rows", "2")
    assert code == 1 and "rows in: 3  scored: 2  rejected: 1" in out
    errors = pd.read_csv(tmp_path / "out.errors.csv")
    assert errors["row"].tolist() == [4] and errors["reason"].iloc[0].startswith("has 4 values but the header has 3")


CUT_SHORT = "values but the header has 31 columns: the line looks cut short (write an empty value as ',,', do not leave it out)"


def test_a_line_with_too_few_fields_is_rejected_not_scored_with_defaults(tmp_path):
    """A line cut short (the last, by an interrupted download; one in the middle, by hand) would be scored with the
    defaults of the fields it lacks; the lines that write their empty values (',,,,' at the end of each) are whole."""
    source = tmp_path / "cut.csv"
    write_synthetic(8, source, seed=2)
    lines = source.read_bytes().split(b"\n")
    lines[3] = b",".join(lines[3].split(b",")[:15])  # spreadsheet row 4: id to desktops
    lines[8] = lines[8][:lines[8].index(b'"USD",') + 7]  # row 9 ends in the middle of admin_rate, without a line end
    source.write_bytes(b"\n".join(lines[:9]))
    code, out, _ = score(source, "-o", tmp_path / "out.csv", "--chunk-rows", "2")
    assert code == 1 and "rows in: 8  scored: 6  rejected: 2" in out
    assert pd.read_csv(tmp_path / "out.csv")["row"].tolist() == [2, 3, 5, 6, 7, 8]
    errors = pd.read_csv(tmp_path / "out.errors.csv", dtype=str, keep_default_na=False)
    assert errors[["row", "field", "value", "reason"]].values.tolist() == [
        ["4", "domain_joined_share", "", f"has 15 {CUT_SHORT}"], ["9", "user_rate", "", f"has 26 {CUT_SHORT}"]]


@pytest.mark.parametrize("chunk_rows", [2, 100])
def test_a_line_cut_short_is_told_from_a_quoted_value_over_several_lines(tmp_path, chunk_rows):
    """A quoted value with line breaks (and a comma) is one row of several lines, whole or cut short."""
    source = tmp_path / "in.csv"
    write_synthetic(6, source, seed=2)
    lines = source.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b'"Pioneer Dental GmbH"', b'"Pioneer\nDental, GmbH"')  # row 3, whole
    lines[4] = b",".join(lines[4].split(b",")[:20]).replace(b'"Sunrise Energy SA"', b'"Sunrise\n\nEnergy, SA"')  # row 5
    source.write_bytes(b"\n".join(lines))
    code, out, _ = score(source, "-o", tmp_path / "out.csv", "--chunk-rows", str(chunk_rows))
    assert code == 1 and "rows in: 6  scored: 5  rejected: 1" in out
    assert pd.read_csv(tmp_path / "out.csv")["row"].tolist() == [2, 3, 4, 6, 7]
    errors = pd.read_csv(tmp_path / "out.errors.csv", dtype=str, keep_default_na=False)
    assert errors[["row", "field", "reason"]].values.tolist() == [["5", "acme_ok", f"has 20 {CUT_SHORT}"]]


def test_dask_workers_reject_the_lines_cut_short_as_pandas_does(tmp_path, monkeypatch):
    """Each worker parses a block of the file (here, in this process): the same rows are rejected, to the byte."""
    source = tmp_path / "in.csv"
    write_synthetic(1500, source, seed=5, bad_share=0.1)
    records = list(csv.reader(io.StringIO(source.read_text(), newline="")))
    for i in range(1, len(records)):
        if i % 50 == 0:
            records[i][1] += "\nNorth, East"
        if i % 97 == 0:
            records[i] = records[i][:i % 29 + 1]
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(records)
    source.write_text(text.getvalue()[:-12])  # the last line cut short, without its line end
    score_file(source, tmp_path / "pandas.csv", chunk_rows=300, today=TODAY)
    errors = pd.read_csv(tmp_path / "pandas.errors.csv")
    cut = errors[errors["reason"].str.contains("the line looks cut short")]
    assert cut["row"].tolist() == [i + 1 for i in range(97, 1500, 97)] + [1501]
    monkeypatch.setattr("decision.batch.DaskCluster", _InProcessCluster)
    score_file(source, tmp_path / "dask.csv", engine="dask", chunk_rows=300, today=TODAY)
    for kind in ("", ".errors"):
        assert (tmp_path / f"dask{kind}.csv").read_bytes() == (tmp_path / f"pandas{kind}.csv").read_bytes()


def test_yaml_folder_problems_reject_only_their_profiles(tmp_path):
    folder = tmp_path / "clients"
    folder.mkdir()
    for example in ("contoso-2026.yaml", "small-office.yaml"):
        shutil.copy(EXAMPLES / example, folder / example)
    (folder / "typo.yaml").write_text("org: Typo\nexternal_domain: typo.com\nusers: 10\nuserz: 5\n")
    (folder / "broken.yaml").write_text("org: Broken\nusers: [1\n")
    code, _, _ = score(folder, "-o", tmp_path / "out.xlsx")
    assert code == 1
    book = openpyxl.load_workbook(tmp_path / "out.errors.xlsx")
    errors = list(book.active.values)
    assert errors[0] == ("file", "row", "field", "value", "reason")
    by_file = {row[0]: row for row in errors[1:]}
    assert by_file["typo.yaml"][1:3] == (1, "userz") and "did you mean 'users'" in by_file["typo.yaml"][4]
    assert by_file["broken.yaml"][1] == 0 and "not valid YAML" in by_file["broken.yaml"][4]
    scored = list(openpyxl.load_workbook(tmp_path / "out.xlsx").active.values)
    assert sorted(r[2] for r in scored[1:]) == ["contoso-2026.yaml", "small-office.yaml"]


def test_a_yaml_folder_is_read_with_its_sub_folders_by_relative_path(tmp_path):
    """Clients filed by region are all scored, in the order of their paths, each named by its path in the folder;
    hidden files and folders (an editor's copies, macOS's '._' companions) are not profiles."""
    folder = tmp_path / "clients"
    for sub in ("emea", "apac/jp", ".git", "emea/.cache"):
        (folder / sub).mkdir(parents=True)
    shutil.copy(EXAMPLES / "small-office.yaml", folder / "hq.yaml")
    shutil.copy(EXAMPLES / "contoso-2026.yaml", folder / "emea" / "client1.yaml")
    shutil.copy(EXAMPLES / "midsize-byod.yaml", folder / "apac" / "jp" / "client2.YML")
    (folder / "apac" / "client3.yaml").write_text("org: Three\nexternal_domain: three.com\nusers: x\n")
    for hidden in (".git/config.yaml", "emea/.cache/old.yaml", "emea/._client1.yaml"):
        (folder / hidden).write_text("not: [a profile\n")
    code, out, _ = score(folder, "-o", tmp_path / "out.csv")
    assert code == 1 and "rows in: 4  scored: 3  rejected: 1" in out
    assert pd.read_csv(tmp_path / "out.csv")["file"].tolist() == ["apac/jp/client2.YML", "emea/client1.yaml", "hq.yaml"]
    errors = pd.read_csv(tmp_path / "out.errors.csv")
    assert errors[["file", "row", "field"]].values.tolist() == [["apac/client3.yaml", 1, "users"]]
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / ".hidden.yaml").write_text("org: X\n")
    code, _, err = score(empty, "-o", tmp_path / "empty.csv")
    assert code == 2 and "the folder and its sub-folders hold no .yaml or .yml profile files" in err


def test_a_table_in_a_yaml_folder_is_named_as_not_read(tmp_path):
    """QA 18c: a CSV (or workbook, Parquet file) in a folder of profile YAMLs was skipped without a word, though it may
    be a client list meant to be scored; other files (notes, the run's .txt) are passed over quietly."""
    folder = tmp_path / "clients"
    (folder / "emea").mkdir(parents=True)
    shutil.copy(EXAMPLES / "contoso-2026.yaml", folder / "a.yaml")
    for name in ("emea/list.csv", "book.XLSX", "t.parquet", "readme.txt", "notes.md"):
        (folder / name).write_text("x")
    code, out, err = score(folder, "-o", tmp_path / "out.csv")
    assert code == 0 and "rows in: 1  scored: 1" in out
    why = "a table of profiles, not read: a folder is read for its .yaml and .yml files (score the table on its own)"
    assert err.splitlines() == [f"warning: {folder / name}: {why}" for name in ("book.XLSX", "emea/list.csv", "t.parquet")]


def test_links_in_a_yaml_folder_are_followed_once_and_what_is_skipped_is_said(tmp_path):
    """A link to a folder elsewhere is read; a link back up (a loop), a second path to a folder or file read already
    and a broken link are skipped, each named on stderr with why (QA: a second path to a folder was called a loop);
    every file is scored once, under its own path."""
    folder, elsewhere = tmp_path / "clients", tmp_path / "shared"
    (folder / "emea").mkdir(parents=True)
    elsewhere.mkdir()
    shutil.copy(EXAMPLES / "contoso-2026.yaml", folder / "emea" / "a.yaml")
    shutil.copy(EXAMPLES / "small-office.yaml", elsewhere / "b.yaml")
    (folder / "shared").symlink_to(elsewhere, target_is_directory=True)
    (folder / "emea" / "loop").symlink_to(folder, target_is_directory=True)
    (folder / "emea" / "back").symlink_to(folder / "emea", target_is_directory=True)
    (folder / "alias").symlink_to(folder / "emea", target_is_directory=True)
    (folder / "copy.yaml").symlink_to(folder / "emea" / "a.yaml")
    (folder / "gone.yaml").symlink_to(tmp_path / "nowhere.yaml")
    code, out, err = score(folder, "-o", tmp_path / "out.csv")
    assert code == 0 and "rows in: 2  scored: 2" in out
    assert pd.read_csv(tmp_path / "out.csv")["file"].tolist() == ["emea/a.yaml", "shared/b.yaml"]
    assert err.splitlines() == [
        f"warning: {folder / 'gone.yaml'}: a link to nothing (broken): skipped",
        f"warning: {folder / 'alias'}: a link to the folder 'emea', which is read already (under its own path): "
        "not followed",
        f"warning: {folder / 'emea' / 'back'}: a link to the folder 'emea', which is read already (a link back up "
        "would loop): not followed",
        f"warning: {folder / 'emea' / 'loop'}: a link to the folder '.', which is read already (a link back up would "
        "loop): not followed",
        f"warning: {folder / 'copy.yaml'}: the same file as 'emea/a.yaml', which is read: skipped"]


def test_a_misspelt_required_key_is_one_error_not_also_an_empty_field(tmp_path):
    """`extrnal_domain:` names the field it meant; that field is blank because of it, which needs no second row.
    A row holding both keys keeps the problem of the value it does give."""
    source = tmp_path / "profiles.yaml"
    source.write_text("- {org: A, users: 5, extrnal_domain: a.com}\n"
                      "- {org: B, users: 5, extrnal_domain: b.com, external_domain: 'not a domain'}\n"
                      "- {org: C, users: 5, external_domain: c.com}\n")
    code, _, _ = score(source, "-o", tmp_path / "out.csv")
    assert code == 1
    errors = pd.read_csv(tmp_path / "out.errors.csv")
    assert errors[errors["row"] == 1][["field", "value", "reason"]].values.tolist() == [
        ["extrnal_domain", "a.com", "unknown field (did you mean 'external_domain'?)"]]
    assert sorted(errors[errors["row"] == 2]["field"]) == ["external_domain", "extrnal_domain"]
    assert pd.read_csv(tmp_path / "out.csv")["profile"].tolist() == ["C"]
    # the value under the unknown key is shown as written, though the other profiles leave the key out
    source.write_text("- {org: A, users: 5, external_domain: a.com, horizon_yeras: 3}\n"
                      "- {org: B, users: 5, external_domain: b.com}\n")
    assert score(source, "-o", tmp_path / "out.csv")[0] == 1
    assert pd.read_csv(tmp_path / "out.errors.csv", dtype=str)[["field", "value"]].values.tolist() == [["horizon_yeras", "3"]]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("missing.csv", None, "No such file"),
    ("empty.csv", b"", "the file is empty"),
    ("image.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary file"),
    ("no-bom.csv", "org,external_domain,users\r\nA,a.com,3\r\n".encode("utf-16-le"), "UTF-16 text without a byte order mark"),
    ("cut-off.csv", "org,external_domain,users\r\nA,a.com,3\r\n".encode("utf-16")[:-1], "not valid UTF-16 text"),
    ("typo.csv", b"org,external_domain,userz\nA,a.com,3\n", "unknown field (did you mean 'users'?)"),
    ("damaged.parquet", b"PAR1 not really", "cannot read the Parquet file"),
    ("notes.docx", b"hello", "unsupported file type '.docx' (use .csv, .txt, .xlsx, .xlsm, .parquet, .yaml or .yml, or "
                             "a folder of YAML files)"),  # every type read: Excel's "Unicode Text" is .txt
])
def test_unreadable_input_exits_2_and_keeps_the_previous_output(tmp_path, name, content, message):
    source = tmp_path / name
    if content is not None:
        source.write_bytes(content)
    output = tmp_path / "out.csv"
    output.write_text("previous result\n")
    code, _, err = score(source, "-o", output)
    assert code == 2
    assert message in err and err.startswith("error: ")
    assert output.read_text() == "previous result\n"
    assert {p.name for p in tmp_path.iterdir()} - {name} == {"out.csv"}  # no errors file, no temporary file


def test_a_workbook_with_a_column_twice_is_refused(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["org", "external_domain", "users", "users"])
    book.active.append(["A", "a.com", 3, 4])
    book.save(tmp_path / "in.xlsx")
    code, _, err = score(tmp_path / "in.xlsx", "-o", tmp_path / "out.csv")
    assert code == 2 and "field 'users': the column appears more than once" in err


def test_a_workbook_is_read_from_its_profiles_sheet_and_unsaved_formulas_are_not_read_as_blank(tmp_path):
    """A consultant's template opens with a sheet of notes; a workbook written by a script holds formulas that
    no spreadsheet has computed (openpyxl reads them as empty cells, which would mean 'use the default')."""
    book = openpyxl.Workbook()
    book.active.title = "Read me"
    book.active.append(["How to fill in the Profiles sheet"])
    sheet = book.create_sheet("Profiles")
    sheet.append(["org", "external_domain", "users", "desktops", "mobile_devices"])
    sheet.append(["A", "a.com", 50, "=C2*2", "=C2/2"])
    sheet.append(["B", "b.com", 70, 10, 5])
    book.save(tmp_path / "in.xlsx")
    code, out, _ = score(tmp_path / "in.xlsx", "-o", tmp_path / "out.csv")
    assert code == 1 and "rows in: 2  scored: 1  rejected: 1" in out
    errors = pd.read_csv(tmp_path / "out.errors.csv")
    assert errors[["row", "field"]].values.tolist() == [[2, "desktops, mobile_devices"]]
    assert errors["reason"][0].startswith("a formula without a saved result")
    assert pd.read_csv(tmp_path / "out.csv")["profile"].tolist() == ["B"]


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_a_hidden_sheet_is_never_read(tmp_path, state):
    """A template's hidden sheet (its header and an example row) comes before the visible sheet of clients: the
    clients are scored, not the example; with only hidden sheets holding values the workbook is refused."""
    book = openpyxl.Workbook()
    template = book.active
    template.title = "Template"
    template.append(["org", "external_domain", "users"])
    template.append(["Example Ltd", "example.com", 100])
    template.sheet_state = state
    clients = book.create_sheet("Clients")
    clients.append(["org", "external_domain", "users"])
    for i in range(5):
        clients.append([f"Client {i}", f"client{i}.com", 10 + i])
    book.active = 1
    book.save(tmp_path / "in.xlsx")
    code, out, _ = score(tmp_path / "in.xlsx", "-o", tmp_path / "out.csv")
    assert code == 0 and "rows in: 5  scored: 5" in out
    assert pd.read_csv(tmp_path / "out.csv")["profile"].tolist() == [f"Client {i}" for i in range(5)]
    book.remove(clients)
    book.create_sheet("Blank")
    book.save(tmp_path / "hidden.xlsx")
    code, _, err = score(tmp_path / "hidden.xlsx", "-o", tmp_path / "hidden.csv")
    assert code == 2 and err == (f"error: {tmp_path / 'hidden.xlsx'}: no visible sheet holds a value (hidden sheets "
                                 "are not read: 'Template'): unhide the sheet of profiles\n")


def test_a_workbook_with_profiles_on_several_sheets_is_refused(tmp_path):
    """Scoring the first sheet of profiles would drop the others without a word; a notes sheet does not count."""
    book = openpyxl.Workbook()
    book.active.title = "Read me"
    book.active.append(["How to fill in the sheets"])
    for title, rows in (("Clients", 3), ("More clients", 4)):
        sheet = book.create_sheet(title)
        sheet.append(["Org", "External domain", "users"])
        for i in range(rows):
            sheet.append([f"{title} {i}", f"c{i}.com", 10])
    book.save(tmp_path / "in.xlsx")
    code, out, err = score(tmp_path / "in.xlsx", "-o", tmp_path / "out.csv")
    assert code == 2 and out == "" and not (tmp_path / "out.csv").exists()
    assert err == (f"error: {tmp_path / 'in.xlsx'}: sheets 'Clients' and 'More clients' both hold profiles: score "
                   "one sheet per file, or move the rows onto one sheet\n")
    third = book.create_sheet("Third")
    third.append(["org", "external_domain", "users"])
    third.append(["Third 0", "t0.com", 10])
    book.save(tmp_path / "in.xlsx")
    assert "sheets 'Clients', 'More clients' and 'Third' all hold profiles" in score(
        tmp_path / "in.xlsx", "-o", tmp_path / "out.csv")[2]


def test_a_sheet_with_only_the_profile_header_does_not_count_as_a_sheet_of_profiles(tmp_path):
    """An empty copy of the profiles sheet (its header, no rows) does not make a second sheet of profiles; a sheet whose
    rows are formulas without saved results still does (its rows are not dropped), and a workbook whose profile sheets
    are all header-only has no rows, as a CSV file with only its header."""
    book = openpyxl.Workbook()
    book.active.title = "Clients"
    book.active.append(["org", "external_domain", "users"])
    book.active.append(["A", "a.com", 10])
    book.create_sheet("Copy").append(["org", "external_domain", "users"])
    book.save(tmp_path / "in.xlsx")
    code, out, _ = score(tmp_path / "in.xlsx", "-o", tmp_path / "out.csv")
    assert code == 0 and "rows in: 1  scored: 1" in out
    book["Copy"].append(['="B"', '="b.com"', "=5"])
    book.save(tmp_path / "formulas.xlsx")
    assert "sheets 'Clients' and 'Copy' both hold profiles" in score(tmp_path / "formulas.xlsx", "-o", tmp_path / "f.csv")[2]
    book["Clients"].delete_rows(2)
    book["Copy"].delete_rows(2)
    book.save(tmp_path / "headers.xlsx")
    (tmp_path / "header.csv").write_text("org,external_domain,users\n", encoding="utf-8")
    for name in ("headers.xlsx", "header.csv"):
        code, out, _ = score(tmp_path / name, "-o", tmp_path / f"{name}.csv")
        assert code == 0 and "rows in: 0  scored: 0  rejected: 0" in out
    assert (tmp_path / "headers.xlsx.csv").read_bytes() == (tmp_path / "header.csv.csv").read_bytes()


def test_a_workbook_with_merged_cells_is_scored_as_the_sheet_shows_it(tmp_path):
    """TRUE merged over D2:D4 scores as TRUE written in each row, also across the parts the sheet is read in; a value
    merged over D5:F5 sends its row to the errors file."""
    head = ["org", "external_domain", "users", "internal_ca", "acme_ok", "dns_api"]
    rows = [["A", "a.com", 50, True], ["B", "b.com", 70, True], ["C", "c.com", 90, True], ["D", "d.com", 20, True]]
    (tmp_path / "written.xlsx").write_bytes(workbook_bytes([head, *rows[:3]]))
    (tmp_path / "merged.xlsx").write_bytes(workbook_bytes([head, *rows], merged=["D2:D4", "D5:F5"]))
    assert score(tmp_path / "written.xlsx", "-o", tmp_path / "written.csv")[0] == 0
    code, out, _ = score(tmp_path / "merged.xlsx", "-o", tmp_path / "merged.csv", "--chunk-rows", "2")
    assert code == 1 and "rows in: 4  scored: 3  rejected: 1" in out
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "merged.csv"), pd.read_csv(tmp_path / "written.csv"))
    errors = pd.read_csv(tmp_path / "merged.errors.csv")
    assert errors[["row", "field", "reason"]].values.tolist() == [
        [5, "internal_ca, acme_ok, dns_api", "a merged cell spans columns D:F (unmerge it and write one value per cell)"]]


@pytest.mark.parametrize("chunk", ["2", "100"])
def test_hidden_rows_of_a_workbook_are_scored_with_a_warning(tmp_path, chunk):
    """Rows hidden in Excel (by hand or by a filter) were scored without a word (QA): a reader of the sheet would not
    expect them in the results. They are still scored (nothing is lost), and stderr names them once, as ranges;
    a last chunk that is full does not lose the note."""
    rows = [["org", "external_domain", "users"], *([f"O{i}", f"o{i}.com", 10 + i] for i in range(12))]
    (tmp_path / "hidden.xlsx").write_bytes(workbook_bytes(rows, hidden=[3, 5, 6, 7]))
    (tmp_path / "shown.xlsx").write_bytes(workbook_bytes(rows))
    code, out, err = score(tmp_path / "hidden.xlsx", "-o", tmp_path / "hidden.csv", "--chunk-rows", chunk)
    assert code == 0 and "rows in: 12  scored: 12  rejected: 0" in out
    assert err == (f"warning: {tmp_path / 'hidden.xlsx'}: sheet 'Sheet': 4 rows hidden in the spreadsheet (by hand or "
                   "by a filter) are scored like the others (rows 3, 5-7): delete the rows you mean to leave out\n")
    assert score(tmp_path / "shown.xlsx", "-o", tmp_path / "shown.csv", "--chunk-rows", chunk)[2] == ""
    assert (tmp_path / "hidden.csv").read_bytes() == (tmp_path / "shown.csv").read_bytes()


@pytest.mark.parametrize("ref", ["A1:", "D2:D", "D0:D4", "D2:D1048577", "D4:D2", "A:A", "D2:D4\u00a0"])
def test_a_merged_range_with_a_damaged_reference_is_ignored_with_a_warning(tmp_path, ref):
    """A reference that names no cells (patched into the XML: openpyxl writes none) loses no row: the range is ignored,
    as LibreOffice ignores it, so its cells read as written (B and C blank); the other range still applies (F gets
    E's FALSE), a row bad on its own is still rejected, and stderr says what was ignored, once for the workbook."""
    head = ["org", "external_domain", "users", "internal_ca"]
    rows = [["A", "a.com", 50, True], ["B", "b.com", 70], ["C", "c.com", 90], ["D", "d.com", "lots"],
            ["E", "e.com", 20, False], ["F", "f.com", 30]]
    shown = [*rows[:5], [*rows[5], False]]
    damaged = zip_patched(workbook_bytes([head, *rows], merged=["D2:D4", "D6:D7"]), "xl/worksheets/sheet1.xml",
                          lambda xml: xml.replace(b'ref="D2:D4"', f'ref="{ref}"'.encode()))
    for name, table in [("damaged", damaged), ("shown", workbook_bytes([head, *shown]))]:
        (tmp_path / f"{name}.xlsx").write_bytes(table)
    assert score(tmp_path / "shown.xlsx", "-o", tmp_path / "shown.csv")[0] == 1
    code, out, err = score(tmp_path / "damaged.xlsx", "-o", tmp_path / "damaged.csv", "--chunk-rows", "2")
    assert code == 1 and "rows in: 6  scored: 5  rejected: 1" in out
    assert err == (f"warning: {tmp_path / 'damaged.xlsx'}: sheet 'Sheet': the merged range '{ref}' names no cells of a "
                   "sheet (a damaged file?) and is ignored: the cells are read as they are written\n")
    assert (tmp_path / "damaged.csv").read_bytes() == (tmp_path / "shown.csv").read_bytes()
    errors = pd.read_csv(tmp_path / "damaged.errors.csv")
    assert errors[["row", "field", "value"]].values.tolist() == [[5, "users", "lots"]]
    good = zip_patched(damaged, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(b">lots<", b">40<"))
    (tmp_path / "good.xlsx").write_bytes(good)
    code, out, err = score(tmp_path / "good.xlsx", "-o", tmp_path / "good.csv")
    assert (code, err.count("warning: ")) == (0, 1) and "rows in: 6  scored: 6  rejected: 0" in out


@pytest.mark.parametrize(("cell", "found"), [
    (b'<c r="D2"><f>C2*2</f><v></v></c>', {2: [3]}),  # as openpyxl writes it
    (b'<c r="D3"><f t="shared" si="0"/></c>', {3: [3]}),
    (b'<x:c r="AB12" s="1"><x:f>C2</x:f></x:c>', {12: [27]}),  # a namespace prefix
    (b'<c r="D2"><f>C2*2</f><v>100</v></c>', {}),  # as Excel saves it
    (b'<c r="D2" t="str"><f>IF(C2&gt;0,"","x")</f><v></v></c>', {}),  # a saved empty text
    (b'<c r="D2" t="n"><v>7</v></c>', {}),
])
def test_formula_cells_without_a_saved_result_are_found_in_the_sheet_xml(tmp_path, cell, found):
    with zipfile.ZipFile(tmp_path / "book.xlsx", "w") as archive:
        archive.writestr("sheet.xml", b'<sheetData><row r="2">' + cell + b"</row></sheetData>")
    assert _sheet_xml(tmp_path / "book.xlsx", "sheet.xml").unsaved == found


def test_formula_cells_are_found_across_the_chunks_the_sheet_xml_is_read_in(tmp_path):
    rows = [f'<row r="{r}"><c r="A{r}" t="n"><v>{r}</v></c>'
            + (f'<c r="B{r}"><f>A{r}*2</f><v></v></c>' if r % 997 == 0 else f'<c r="B{r}"><f>A{r}</f><v>{r}</v></c>')
            + "</row>" for r in range(1, 150_001)]  # ~11 MB of XML: read in three chunks
    with zipfile.ZipFile(tmp_path / "book.xlsx", "w") as archive:
        archive.writestr("sheet.xml", "<sheetData>" + "".join(rows) + "</sheetData>")
    found = _sheet_xml(tmp_path / "book.xlsx", "sheet.xml").unsaved
    assert found == {r: [1] for r in range(997, 150_001, 997)}


@pytest.mark.parametrize(("xml", "merged"), [
    (b'<sheetData><row r="2"><c r="D2"><v>1</v></c></row></sheetData><mergeCells count="2"><mergeCell ref="D2:D4"/>'
     b'<mergeCell ref="A7:C7"/></mergeCells>', [(4, 2, 4, 4), (1, 7, 3, 7)]),
    (b'<x:sheetData></x:sheetData><x:mergeCells><x:mergeCell ref="$AB$12:$AC$13"/></x:mergeCells>', [(28, 12, 29, 13)]),
    (b'<sheetData/><mergeCells><mergeCell ref="A1:B1"/></mergeCells>', [(1, 1, 2, 1)]),
    (b'<sheetData></sheetData><mergeCells><mergeCell ref="D2"/></mergeCells>', []),  # a cell merged with itself
    (b'<sheetData/><mergeCells><mergeCell ref="A1:"/><mergeCell ref="B2:C3"/></mergeCells>', [(2, 2, 3, 3)]),  # damaged
])
def test_merged_ranges_are_found_after_the_rows_in_the_sheet_xml(tmp_path, xml, merged):
    with zipfile.ZipFile(tmp_path / "book.xlsx", "w") as archive:
        archive.writestr("sheet.xml", xml)
    assert _sheet_xml(tmp_path / "book.xlsx", "sheet.xml").merged == merged


def test_merged_ranges_are_found_wherever_a_chunk_of_the_sheet_xml_ends(tmp_path):
    """The XML is read in chunks of 4 MiB: one may end anywhere in `</sheetData>` or in the merged ranges after it."""
    rows = b'<worksheet><sheetData><row r="2"><c r="D2"><v>1</v></c></row>'
    tail = b'</sheetData><mergeCells count="2"><mergeCell ref="D2:D4"/><mergeCell ref="E2:F3"/></mergeCells></worksheet>'
    for cut in range(len(tail) + 1):  # the first chunk ends `cut` bytes into the tail
        with zipfile.ZipFile(tmp_path / "book.xlsx", "w") as archive:
            archive.writestr("sheet.xml", rows + b" " * ((1 << 22) - len(rows) - cut) + tail)
        xml = _sheet_xml(tmp_path / "book.xlsx", "sheet.xml")
        assert (xml.merged, xml.last_row) == ([(4, 2, 4, 4), (5, 2, 6, 3)], 2), cut


@pytest.mark.parametrize(("xml", "last_row"), [
    (b'<sheetData><row r="1"><c r="A1"><v>1</v></c></row><row r="7" spans="1:2"/></sheetData>', 7),
    (b'<x:sheetData><x:row r="3"><x:c r="A3"><x:v>1</x:v></x:c></x:row></x:sheetData>', 3),
    (b'<sheetData><row r="2"></row><row><c><v>1</v></c></row></sheetData>', None),  # unnumbered: read to the end
    (b'<sheetData/><mergeCells><mergeCell ref="A1:"/></mergeCells>', None),
])
def test_the_last_row_is_found_in_the_sheet_xml(tmp_path, xml, last_row):
    """Reading stops there: openpyxl would go on to parse what follows the rows, and refuse a damaged merged range."""
    with zipfile.ZipFile(tmp_path / "book.xlsx", "w") as archive:
        archive.writestr("sheet.xml", xml)
    assert _sheet_xml(tmp_path / "book.xlsx", "sheet.xml").last_row == last_row


def test_unreadable_input_in_a_real_process_prints_no_traceback(tmp_path):
    (tmp_path / "in.csv").write_bytes(b"org,external_domain,users\n\"unterminated,a.com,3\n")
    run = subprocess.run([sys.executable, "-m", "decision", "score", str(tmp_path / "in.csv"), "-o", str(tmp_path / "o.csv")],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert run.stderr.startswith("error: ") and "Traceback" not in run.stderr
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize(("address", "reason"), [
    ("nonsense:abc", "not a scheduler address such as tcp://host:8786"),
    ("http://127.0.0.1:8786", "not a scheduler address such as tcp://host:8786 (unknown address scheme 'http'"),
    ("ucx://127.0.0.1:8786", "cannot connect")])
def test_a_malformed_scheduler_address_is_one_error_line(tmp_path, address, reason):
    write_synthetic(3, tmp_path / "in.csv", seed=1)
    run = subprocess.run([sys.executable, "-m", "decision", "score", str(tmp_path / "in.csv"), "-o", str(tmp_path / "o.csv"),
                          "--engine", "dask", "--scheduler", address], cwd=ROOT, capture_output=True, text=True, timeout=60)
    lines = run.stderr.splitlines()
    assert run.returncode == 2 and len(lines) == 1, run.stderr
    assert lines[0].startswith(f"error: Dask scheduler {address}: {reason}")
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.slow
def test_a_scheduler_address_where_nothing_listens_fails_in_seconds(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    write_synthetic(3, tmp_path / "in.csv", seed=1)
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "decision", "score", str(tmp_path / "in.csv"), "-o", str(tmp_path / "o.csv"),
                          "--engine", "dask", "--scheduler", address], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and time.monotonic() - started < 25  # Dask alone waits 30 s
    assert run.stderr == (f"error: Dask scheduler {address}: cannot connect (Timed out trying to connect to {address} "
                          "after 10 s)\n")


@contextlib.contextmanager
def _listening(greeting: bytes | None) -> Iterator[str]:
    """A local port that takes connections and sends `greeting` (None: says nothing), as another service would."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = server.accept()
                held.append(conn)
                if greeting:
                    conn.sendall(greeting)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    finally:
        server.close()
        for conn in held:
            conn.close()


@pytest.mark.parametrize(("greeting", "reason"), [
    (None, "it takes connections but gave no Dask answer in 2 s: not a scheduler's port (the dashboard, usually :8787, "
           "is not the scheduler, usually :8786)"),
    (b"SSH-2.0-OpenSSH_9.6\r\n", "something answers there, but not a Dask scheduler (is it another service's port?)"),
    (b"HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n",
     "something answers there, but not a Dask scheduler (is it another service's port?)")])
def test_a_scheduler_address_of_another_service_is_one_error_line(tmp_path, monkeypatch, greeting, reason):
    """A silent port (a web server, the dashboard) made Dask wait for ever; a greeting (SSH) was read as the length of
    a message, and the run died allocating exabytes (found by QA)."""
    monkeypatch.setattr("decision.batch.CONNECT_TIMEOUT", 1)
    monkeypatch.setattr("decision.batch.ANSWER_TIMEOUT", 1)
    write_synthetic(3, tmp_path / "in.csv", seed=1)
    with _listening(greeting) as address:
        started = time.monotonic()
        code, out, err = score(tmp_path / "in.csv", "-o", tmp_path / "o.csv", "--engine", "dask", "--scheduler", address)
    assert (code, out, err) == (2, "", f"error: Dask scheduler {address}: {reason}\n")
    assert time.monotonic() - started < 10
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


@pytest.mark.slow
def test_a_workers_address_given_as_the_scheduler_is_named(tmp_path):
    write_synthetic(3, tmp_path / "in.csv", seed=1)
    # a worker in this process, over TCP: a worker process would start with Dask's default malloc settings, which the
    # Dask tests after this one would then inherit
    with distributed.LocalCluster(n_workers=1, processes=False, protocol="tcp", dashboard_address=None, host="127.0.0.1",
                                  silence_logs=logging.CRITICAL) as cluster:
        address = next(iter(cluster.scheduler_info["workers"]))
        code, _, err = score(tmp_path / "in.csv", "-o", tmp_path / "o.csv", "--engine", "dask", "--scheduler", address)
    assert (code, err) == (2, f"error: Dask scheduler {address}: a Dask worker answers there, not the scheduler: give "
                              "the scheduler's address\n")


@pytest.mark.slow
def test_a_cluster_that_cannot_score_is_one_error_line(tmp_path, monkeypatch):
    """No workers, or a worker without this project: say so before the first task, instead of waiting for ever
    or failing task by task with tracebacks."""
    write_synthetic(3, tmp_path / "in.csv", seed=1)
    cluster = distributed.LocalCluster(n_workers=0, dashboard_address=None, host="127.0.0.1",
                                       silence_logs=logging.CRITICAL)
    address = cluster.scheduler_address
    args = (tmp_path / "in.csv", "-o", tmp_path / "o.csv", "--engine", "dask", "--scheduler", address)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # a worker started elsewhere, without it
    try:
        with monkeypatch.context() as patched:  # nothing will connect: wait 1 s for a worker, not the 10 s a user gets
            patched.setattr("decision.batch.WAIT_FOR_WORKERS", 1)
            assert score(*args)[::2] == (2, f"error: Dask scheduler {address}: no workers are connected to it (start "
                                            "them with: dask worker ADDRESS)\n")
        worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                                   "--no-dashboard"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            code, _, err = score(*args)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    finally:
        cluster.close()
    assert code == 2 and len(err.splitlines()) == 1
    assert err.startswith(f"error: Dask scheduler {address}: cannot import this project (decision {decision.__version__}) "
                          "on tcp://127.0.0.1:") and "(missing): install it there" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_a_worker_that_cannot_see_the_input_says_so(tmp_path):
    with pytest.raises(InputError, match=r"gone.csv: a Dask worker on .* cannot open it \(No such file or directory\): "
                                         "the workers must see INPUT at the same path"):
        _opened_on_worker(str(tmp_path / "gone.csv"))


def test_the_input_is_never_overwritten(tmp_path):
    source = tmp_path / "in.csv"
    write_synthetic(3, source, seed=1)
    before = source.read_bytes()
    code, _, err = score(source, "-o", source)
    assert code == 2 and "would overwrite the input" in err
    assert source.read_bytes() == before
    linked = tmp_path / "linked.csv"
    linked.hardlink_to(source)  # another name for the same file
    code, _, err = score(source, "-o", linked)
    assert code == 2 and "would overwrite the input" in err
    assert source.read_bytes() == before


def test_an_errors_file_that_would_overwrite_the_input_is_named_as_the_errors_file(tmp_path):
    """`q.errors.csv -o q.csv` collides through the default errors file, not the output the user named: the message
    says which file and how to choose another."""
    source = tmp_path / "q.errors.csv"
    write_synthetic(3, source, seed=1)
    before = source.read_bytes()
    code, _, err = score(source, "-o", tmp_path / "q.csv")
    assert code == 2 and err == (f"error: {source}: the default errors file (OUTPUT.errors.<ext>) would overwrite the "
                                 "input; name another with --errors FILE, or choose another output file\n")
    code, _, err = score(source, "-o", tmp_path / "out.csv", "--errors", source)
    assert code == 2 and err == (f"error: {source}: the errors file would overwrite the input; choose another with "
                                 "--errors FILE\n")
    assert source.read_bytes() == before and not (tmp_path / "q.csv").exists() and not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("suffix", ["csv", "xlsx", "parquet"])
def test_same_input_gives_the_same_bytes(profiles_csv, tmp_path, suffix):
    first, second = tmp_path / f"a.{suffix}", tmp_path / f"b.{suffix}"
    assert score(profiles_csv, "-o", first)[0] == 0
    time.sleep(1.1 if suffix == "xlsx" else 0)  # a clock that moved must not show in the file
    assert score(profiles_csv, "-o", second)[0] == 0
    assert first.read_bytes() == second.read_bytes()


def test_chunk_size_and_threads_do_not_change_the_result(tmp_path):
    source = tmp_path / "in.csv"
    write_synthetic(150, source, seed=9, bad_share=0.2)  # 22 chunks of 7, most with a rejected row: many boundaries
    runs = {"one": [], "many": ["--chunk-rows", "7"], "one-thread": ["--chunk-rows", "7", "--workers", "1"],
            "three-threads": ["--chunk-rows", "7", "--workers", "3"]}
    for name, options in runs.items():
        assert score(source, "-o", tmp_path / f"{name}.csv", *options)[0] == 1
    for name in runs:
        assert (tmp_path / f"{name}.csv").read_bytes() == (tmp_path / "one.csv").read_bytes(), name
        assert (tmp_path / f"{name}.errors.csv").read_bytes() == (tmp_path / "one.errors.csv").read_bytes(), name


def _shown_width(value: object, number_format: str) -> int:
    """Characters a spreadsheet shows for a cell value in the number formats the batch uses."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return len(str(value))
    return len(f"{value:.2%}" if number_format == "0.00%" else f"{value:,.2f}" if number_format == "#,##0.00" else str(value))


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_xlsx_columns_fit_what_they_hold_and_money_and_trust_are_formatted_numbers_whatever_the_chunks(
        tmp_path, monkeypatch, layout):
    """QA 13 B: widths followed the header only (nearest_flip 15 wide for ~45 characters, names and reasons 10, every
    errors column 10, cutting off file and reason) and trust (0.8593) was General. Widths come from what a column can
    hold, known before any row, so the bytes are the same however the rows are cut into chunks or Dask partitions."""
    source = tmp_path / "in.csv"
    write_synthetic(150, source, seed=9, bad_share=0.2)
    score_file(source, tmp_path / "one.xlsx", layout=layout, today=TODAY)
    score_file(source, tmp_path / "seven.xlsx", layout=layout, chunk_rows=7, today=TODAY)
    monkeypatch.setattr("decision.batch.DaskCluster", _InProcessCluster)
    score_file(source, tmp_path / "dask.xlsx", layout=layout, engine="dask", chunk_rows=11, today=TODAY)
    for name in ("seven", "dask"):
        for kind in ("", ".errors"):
            assert (tmp_path / f"{name}{kind}.xlsx").read_bytes() == (tmp_path / f"one{kind}.xlsx").read_bytes(), name
    formats = {"cost_total": "#,##0.00", "tco": "#,##0.00", "trust": "0.00%"}
    widths = {}
    for kind in ("", ".errors"):
        sheet = openpyxl.load_workbook(tmp_path / f"one{kind}.xlsx").active
        header = [c.value for c in sheet[1]]
        for letter, name in zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", header, strict=False):
            width = widths[kind + name] = sheet.column_dimensions[letter].width
            assert 10 <= width <= 60, name
            for cell in sheet[letter][1:]:
                if cell.value is None:
                    continue
                assert cell.number_format == formats.get(name, "General"), (name, cell.coordinate)
                if name in formats:
                    assert cell.data_type == "n" and isinstance(cell.value, (int, float)), (name, cell.coordinate)
                assert _shown_width(cell.value, cell.number_format) < width or width == 60, (name, cell.value, width)
    assert widths[".errorsfile"] == 60 if len(str(source)) >= 60 else widths[".errorsfile"] > len(str(source))
    assert widths[".errorsreason"] == 60
    if layout == "wide":
        assert widths["nearest_flip"] > len("w_reconfiguration 0.050 → 0.047: internal_ca")
        assert widths["no_option_because"] == 60
    else:
        assert widths["names"] == widths["reasons"] == 60


@pytest.mark.parametrize("sep", [";", "\t"], ids=["semicolon", "tab"])
def test_the_errors_file_shows_a_semicolon_files_numbers_as_written_whatever_the_chunks(tmp_path, sep):
    """A ';' file's 100.000 (100000, over the limit) was shown as 100, and its 20.000 as 20: run through float().
    Its cells are read as text in every chunk, so they are shown as written, the same however the file is cut.
    So are a tab file's, whose 100.000 reads two ways in a row whose other numbers do not show the decimal mark."""
    rows = ["q;A;a.com;10;75", "q1;A;a.com;10;100.000", "q2;A;a.com;-5,0;20.000", "q3;A;a.com;10;1.5",
            "q4;A;a.com;2,50;5.0", "q5;A;a.com;10;1e9", "q6;A;a.com;-5;-7,50"]
    source = tmp_path / "de.csv"
    source.write_text(("id;org;external_domain;users;admin_rate\n" + "\n".join(rows * 3) + "\n").replace(";", sep),
                      encoding="utf-8")
    for chunk in ("1", "2", "5", "1000"):
        assert score(source, "-o", tmp_path / f"{chunk}.csv", "--chunk-rows", chunk)[0] == 1
        assert (tmp_path / f"{chunk}.errors.csv").read_bytes() == (tmp_path / "1.errors.csv").read_bytes(), chunk
    errors = pd.read_csv(tmp_path / "1.errors.csv", dtype=str)
    assert errors.loc[errors["row"] == "3", ["field", "value", "reason"]].values.tolist() == [
        ["admin_rate", "100.000", "must be at most 10,000" if sep == ";" else "reads as two numbers (is the mark before "
         "the last three digits a thousands separator or the decimal one? no other number in the row says): write it "
         "without thousands separators"]]
    assert errors.loc[errors["row"] == "4", "reason"].tolist() == ["must be at least 0", "must be at most 10,000"]
    assert errors[["field", "value"]].drop_duplicates().values.tolist() == [  # "'-": text that could start a formula
        ["admin_rate", "100.000"], ["users", "'-5,0"], ["admin_rate", "20.000"], ["users", "2,50"],
        ["admin_rate", "1e9"], ["users", "'-5"], ["admin_rate", "'-7,50"]]


def test_totals_are_per_iso_4217_currency(tmp_path):
    """EURO, €, US$ and XYZ were scored, and the totals split into 'EUR …, EURO …, US$ …, € …'."""
    source = tmp_path / "curr.csv"
    source.write_text("id,org,external_domain,users,currency\nk1,A,a.com,10,EURO\nk2,A,a.com,10,€\nk3,A,a.com,10,usd\n"
                      "k4,A,a.com,10,US$\nk5,A,a.com,10,XYZ\nk6,A,a.com,10, eur \n", encoding="utf-8")
    code, out, _ = score(source, "-o", tmp_path / "out.csv")
    assert code == 1 and "rows in: 6  scored: 2  rejected: 4" in out
    assert re.search(r"total cost of the recommended options: EUR [\d,.]+, USD [\d,.]+\n", out)
    assert pd.read_csv(tmp_path / "out.csv")["currency"].tolist() == ["USD", "EUR"]
    errors = pd.read_csv(tmp_path / "out.errors.csv")
    assert errors[["row", "value", "reason"]].values.tolist() == [
        [2, "EURO", "not an ISO 4217 currency code (did you mean 'EUR'?)"],
        [3, "€", "not an ISO 4217 currency code (did you mean 'EUR'?)"],
        [5, "US$", "not an ISO 4217 currency code (did you mean 'USD'?)"],
        [6, "XYZ", "not an ISO 4217 currency code (such as USD, EUR or GBP)"]]


def test_an_unreadable_line_late_in_the_file_stops_the_threads_and_keeps_the_previous_output(tmp_path):
    source = tmp_path / "in.csv"
    write_synthetic(300, source, seed=3)
    with source.open("a") as fh:
        fh.write('"unterminated,a.com,3\n')
    output = tmp_path / "out.csv"
    output.write_text("previous result\n")
    code, _, err = score(source, "-o", output, "--chunk-rows", "20", "--workers", "2")
    assert code == 2
    assert err == f"error: {source}, row 302: cannot read the CSV: a quoted value that starts in this row is never closed\n"
    assert output.read_text() == "previous result\n"
    assert {p.name for p in tmp_path.iterdir()} == {"in.csv", "out.csv"}


def test_cells_that_look_like_formulas_are_neutralised(tmp_path):
    source = tmp_path / "in.csv"
    write_synthetic(4, source, seed=3)
    table = pd.read_csv(source, dtype=str)
    table["id"] = ["=HYPERLINK(\"http://x\")", "+1+2", "@SUM(A1)", "-3"]
    table.loc[0, "users"] = "=1+1"
    table.to_csv(source, index=False)
    score(source, "-o", tmp_path / "out.csv")
    score(source, "-o", tmp_path / "out.xlsx", "--layout", "long")
    score(source, "-o", tmp_path / "out.parquet")
    assert pd.read_csv(tmp_path / "out.csv")["profile"].tolist() == ["'+1+2", "'@SUM(A1)", "'-3"]
    assert pd.read_csv(tmp_path / "out.csv")["cost_total"].dtype == float  # numbers stay numbers
    assert pd.read_csv(tmp_path / "out.errors.csv")["value"].tolist() == ["'=1+1"]
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx").active
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]  # text as given, in text cells that stay text when edited
    assert {(c.value, c.data_type, c.quotePrefix) for c in cells} == {(v, "s", True) for v in ("+1+2", "@SUM(A1)", "-3")}
    assert pd.read_parquet(tmp_path / "out.parquet")["profile"].tolist() == ["+1+2", "@SUM(A1)", "-3"]


def test_an_output_that_cannot_hold_the_rows_fails_cleanly(tmp_path, monkeypatch):
    monkeypatch.setattr("decision.safe_output.XLSX_MAX_ROWS", 50)
    source = tmp_path / "in.csv"
    write_synthetic(40, source, seed=1)
    (tmp_path / "out.xlsx").write_bytes(b"previous")
    code, _, err = score(source, "-o", tmp_path / "out.xlsx", "--layout", "long", "--chunk-rows", "4")
    assert code == 2 and "do not fit in an XLSX sheet" in err
    assert (tmp_path / "out.xlsx").read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.xlsx"]
    assert not [t for t in threading.enumerate() if t.name.startswith("score")], "the scoring threads were left running"


@pytest.mark.parametrize("stage", ["write", "close"])
def test_a_full_disk_is_one_error_line_and_keeps_the_previous_output(tmp_path, monkeypatch, stage):
    original = getattr(TableWriter, stage)

    def disk_full(self, *args):
        if stage == "close" or self.rows >= 8:
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(self, *args)

    monkeypatch.setattr(TableWriter, stage, disk_full)
    source = tmp_path / "in.csv"
    write_synthetic(40, source, seed=1)
    (tmp_path / "out.csv").write_bytes(b"previous")
    code, _, err = score(source, "-o", tmp_path / "out.csv", "--chunk-rows", "4")
    assert (code, err) == (2, f"error: {tmp_path / 'out.csv'}: {DISK_FULL}\n")
    assert (tmp_path / "out.csv").read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]


@pytest.mark.parametrize(("call", "target"), [("tempfile.mkstemp", "out.csv"), ("tempfile.mkstemp", "e.csv"),
                                              ("os.fsync", "e.csv"), ("os.replace", "e.csv")])
def test_an_output_folder_that_cannot_be_written_is_one_error_line(tmp_path, monkeypatch, call, target):
    """No permission to create the temporary file beside an output, or to sync or rename it (the errors file is
    finished first): the run stops with the file named, exit 2, and leaves no file behind and the previous output as
    it was."""
    module, name = call.split(".")
    original = getattr(getattr(decision.safe_output, module), name)

    def denied(*args, **kwargs):
        about = kwargs.get("prefix", "") if name == "mkstemp" else str(args[-1]) if name == "replace" else target
        if target in about:
            raise PermissionError(errno.EACCES, "Permission denied")
        return original(*args, **kwargs)

    source = tmp_path / "in.csv"
    write_synthetic(20, source, seed=1)
    (tmp_path / "out.csv").write_bytes(b"previous")
    monkeypatch.setattr(getattr(decision.safe_output, module), name, denied)
    code, out, err = score(source, "-o", tmp_path / "out.csv", "--errors", tmp_path / "e.csv")
    assert (code, out, err) == (2, "", f"error: {tmp_path / target}: cannot write it: Permission denied (any previous "
                                       "file of that name is unchanged)\n")
    assert (tmp_path / "out.csv").read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx", ".yaml"])
def test_the_progress_bar_shows_how_far_the_run_is(tmp_path, capsys, suffix):
    """A total where the input tells it (a CSV's size, a Parquet file's row count, a sheet's recorded size),
    ending at 100 %."""
    source = tmp_path / f"in{suffix}"
    write_synthetic(120, source.with_suffix(".csv") if suffix == ".xlsx" else source, seed=3)
    if suffix == ".xlsx":  # saved as a spreadsheet saves it, with the sheet's size recorded
        pd.read_csv(source.with_suffix(".csv"), dtype=str).to_excel(source, index=False)
        source.with_suffix(".csv").unlink()
    score_file(source, tmp_path / "out.csv", chunk_rows=50, today=TODAY, progress=True)
    states = [s.strip() for s in capsys.readouterr().err.split("\r") if s.strip()]
    if suffix == ".yaml":  # unknown until read: a count
        assert states[-1].startswith("120 rows [")
    else:
        assert states[-1].startswith("100%|") and "| 120/120 [" in states[-1]
        assert re.match(r"0%\|.*\| 0\.00/1[12]\d \[", states[0]), states  # about 120 from the start


def test_empty_table_gives_a_header_only_output(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("org,external_domain,users\n")
    code, out, _ = score(source, "-o", tmp_path / "out.csv")
    assert code == 0 and "rows in: 0" in out
    assert pd.read_csv(tmp_path / "out.csv").columns.tolist() == output_columns("wide")


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_a_parquet_output_without_rows_has_the_column_types_of_one_with_rows(tmp_path, layout):
    """Monthly files appended to one another: the months without rejected rows (or profiles) must agree with the
    others' column types (found by QA: every column was text)."""
    import pyarrow.parquet as pq

    some = tmp_path / "some.csv"
    write_synthetic(30, some, seed=2, bad_share=0.3)
    header = some.read_text().splitlines()[0]
    (tmp_path / "none.csv").write_text(header + "\n")
    (tmp_path / "clean.csv").write_text("\n".join(some.read_text().splitlines()[:1] + _valid_lines(some, 3)) + "\n")
    for name in ("some", "none", "clean"):
        score(tmp_path / f"{name}.csv", "-o", tmp_path / f"{name}.parquet", "--layout", layout)

    def types(path: Path) -> list[tuple[str, str]]:
        schema = pq.read_schema(path)
        return list(zip(schema.names, map(str, schema.types), strict=True))
    assert pq.read_metadata(tmp_path / "some.parquet").num_rows and pq.read_metadata(tmp_path / "some.errors.parquet").num_rows
    assert types(tmp_path / "none.parquet") == types(tmp_path / "some.parquet")
    assert types(tmp_path / "clean.errors.parquet") == types(tmp_path / "some.errors.parquet")
    assert ("row", "int64") in types(tmp_path / "clean.errors.parquet")


def _valid_lines(source: Path, n: int) -> list[str]:
    """The first `n` data lines of `source` that score without a rejection."""
    score(source, "-o", source.with_suffix(".probe.csv"))
    rejected = set(pd.read_csv(source.with_suffix(".probe.errors.csv"))["row"])
    lines = source.read_text().splitlines()
    return [lines[i - 1] for i in range(2, len(lines) + 1) if i not in rejected][:n]


@pytest.mark.slow
def test_dask_gives_the_same_bytes_as_pandas(tmp_path, capfd):
    source = tmp_path / "in.csv"
    write_synthetic(1000, source, seed=4, bad_share=0.05)
    write_synthetic(1000, tmp_path / "in.parquet", seed=4, bad_share=0.05)
    score_file(source, tmp_path / "pandas.csv", chunk_rows=250, today=TODAY)
    multiline = _with_line_breaks_in_quotes(source, tmp_path / "in-ml.csv")
    score_file(multiline, tmp_path / "pandas-ml.csv", chunk_rows=40, today=TODAY)
    cluster = DaskCluster(None, workers=2)  # the LocalCluster `--engine dask` starts, shared by both runs
    try:
        env = cluster.client.run(lambda: (os.environ.get("MALLOC_TRIM_THRESHOLD_"), os.environ.get("MALLOC_MMAP_THRESHOLD_")))
        assert set(env.values()) == {("134217728", "33554432")}  # the worker malloc fix is in place
        address = cluster.client.scheduler.address
        summary = score_file(source, tmp_path / "dask.csv", engine="dask", scheduler=address, chunk_rows=250, today=TODAY)
        score_file(tmp_path / "in.parquet", tmp_path / "dask-pq.csv", engine="dask", scheduler=address, chunk_rows=250,
                   today=TODAY)
        _as_european_csv(source, tmp_path / "in-de.csv", ";")
        score_file(tmp_path / "in-de.csv", tmp_path / "dask-de.csv", engine="dask", scheduler=address, chunk_rows=250,
                   today=TODAY)
        excel = tmp_path / "in-sep.csv"  # Excel's separator line is not a row
        excel.write_bytes(b"\xef\xbb\xbfsep=;\r\n" + (tmp_path / "in-de.csv").read_bytes().removeprefix(b"\xef\xbb\xbf"))
        score_file(excel, tmp_path / "dask-sep.csv", engine="dask", scheduler=address, chunk_rows=250, today=TODAY)
        powershell = tmp_path / "in-ps.csv"  # Windows PowerShell's '#TYPE' line is row 1
        pd.read_csv(source, dtype=str, keep_default_na=False).to_csv(powershell, index=False, quoting=csv.QUOTE_ALL)
        powershell.write_bytes(b"#TYPE System.Management.Automation.PSCustomObject\n" + powershell.read_bytes())
        score_file(powershell, tmp_path / "pandas-ps.csv", chunk_rows=250, today=TODAY)
        score_file(powershell, tmp_path / "dask-ps.csv", engine="dask", scheduler=address, chunk_rows=250, today=TODAY)
        tab = tmp_path / "in-tab.txt"  # a German tab file under an empty first row (a line of tabs): the header is row 2
        _as_european_csv(source, tab, "\t")
        tab.write_bytes(b"\xef\xbb\xbf\t\t\t\n" + tab.read_bytes().removeprefix(b"\xef\xbb\xbf"))
        score_file(tab, tmp_path / "pandas-tab.csv", chunk_rows=250, today=TODAY)
        score_file(tab, tmp_path / "dask-tab.csv", engine="dask", scheduler=address, chunk_rows=250, today=TODAY)
        utf16 = tmp_path / "in-16.csv"  # Windows PowerShell 5.1's Out-File: UTF-16 LE with a BOM, read by the driver
        utf16.write_bytes(source.read_text(encoding="utf-8").encode("utf-16"))
        score_file(utf16, tmp_path / "dask-16.csv", engine="dask", scheduler=address, chunk_rows=250, today=TODAY)
        indexed = tmp_path / "in-ix.parquet"  # the ids stored as the pandas index
        pd.read_parquet(tmp_path / "in.parquet").set_index("id").to_parquet(indexed)
        score_file(indexed, tmp_path / "dask-ix.csv", engine="dask", scheduler=address, chunk_rows=250, today=TODAY)
        score_file(multiline, tmp_path / "dask-ml.csv", engine="dask", scheduler=address, chunk_rows=40, today=TODAY)
        old_mac = tmp_path / "in-cr.csv"
        old_mac.write_bytes(source.read_bytes().replace(b"\n", b"\r"))  # lines end in '\r' alone
        score_file(old_mac, tmp_path / "dask-cr.csv", engine="dask", scheduler=address, chunk_rows=250, today=TODAY)
        stray = _with_a_stray_quote(source, tmp_path / "in-stray.csv")
        score_file(stray, tmp_path / "pandas-stray.csv", chunk_rows=250, today=TODAY)
        score_file(stray, tmp_path / "dask-stray.csv", engine="dask", scheduler=address, chunk_rows=250, today=TODAY)
        unclosed = tmp_path / "unclosed.csv"
        unclosed.write_bytes(source.read_bytes() + b'"unterminated,a.com,3\n')
        failed = score(unclosed, "-o", tmp_path / "unclosed.out.csv", "--engine", "dask", "--scheduler", address,
                       "--chunk-rows", "100")
    finally:
        cluster.close()
    # a partition that cannot be read: the pandas path's one line, with the row counted from the file's start;
    # nothing from the workers (a traceback per failed task) on the terminal
    assert failed[0] == 2
    assert failed[2] == (f"error: {unclosed}, row 1002: cannot read the CSV: a quoted value that starts in this row "
                         "is never closed\n")
    assert "Traceback" not in capfd.readouterr().err
    assert summary.rows_in == 1000 and summary.rejected > 0
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()
    assert (tmp_path / "dask.errors.csv").read_bytes() == (tmp_path / "pandas.errors.csv").read_bytes()
    assert (tmp_path / "dask-pq.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()
    assert (tmp_path / "dask-de.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()
    assert (tmp_path / "dask-sep.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()
    assert (tmp_path / "dask-ps.csv").read_bytes() == (tmp_path / "pandas-ps.csv").read_bytes()
    assert (tmp_path / "dask-16.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()
    assert (tmp_path / "dask-ix.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()
    shifted = pd.read_csv(tmp_path / "pandas.csv").assign(row=lambda f: f["row"] + 1)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "pandas-ps.csv"), shifted)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "pandas-tab.csv"), shifted)
    for kind in ("", ".errors"):
        assert (tmp_path / f"dask-tab{kind}.csv").read_bytes() == (tmp_path / f"pandas-tab{kind}.csv").read_bytes()
    # quoted values with line breaks: Dask's partitions end where records end, as the pandas chunks do
    assert (tmp_path / "dask-ml.csv").read_bytes() == (tmp_path / "pandas-ml.csv").read_bytes()
    assert (tmp_path / "dask-ml.errors.csv").read_bytes() == (tmp_path / "pandas-ml.errors.csv").read_bytes()
    assert (tmp_path / "dask-cr.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()
    # a stray quote makes the driver miscount the rows before the next blocks: they are scored again, numbered here
    for kind in ("", ".errors"):
        assert (tmp_path / f"dask-stray{kind}.csv").read_bytes() == (tmp_path / f"pandas-stray{kind}.csv").read_bytes()


def _with_a_stray_quote(source: Path, target: Path) -> Path:
    """`source` with one org name holding a lone quote in an unquoted value (the parser reads it as text)."""
    lines = source.read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b",", b' 5" screen,', 1)
    target.write_bytes(b"\n".join(lines))
    return target


def test_dask_workers_write_the_csv_of_blocks_whose_rows_the_driver_counted(tmp_path, monkeypatch):
    """The workers number their rows from the driver's count of the line ends before their block and return finished
    CSV; a count proved wrong by the rows parsed has that block and the rest scored again and numbered here: the
    same bytes either way."""
    source = tmp_path / "in.csv"
    write_synthetic(1500, source, seed=5, bad_share=0.1)  # 6 blocks of the smallest size, 64 KiB
    lines = source.read_bytes().split(b"\n")  # Windows line ends, and a blank line every 97 (a row, not a profile)
    source.write_bytes(b"\r\n".join(line if i % 97 else b"\r\n" + line for i, line in enumerate(lines)))
    score_file(source, tmp_path / "pandas.csv", chunk_rows=300, today=TODAY)
    job = Job("wide", str(source), default_parameters(), default_catalog(), TODAY)
    kinds = {}
    for miscount in (0, 1):
        monkeypatch.setattr("decision.tables._line_ends", lambda *block, extra=miscount: _line_ends(*block) + extra)
        cluster = _InProcessCluster()
        summary = _write(source, tmp_path / "dask.csv", tmp_path / "dask.errors.csv", job, iter([]), cluster, 300, 2,
                         _Progress(False))
        assert summary.rows_in == 1500 and summary.rejected > 0
        for kind in ("", ".errors"):
            assert (tmp_path / f"dask{kind}.csv").read_bytes() == (tmp_path / f"pandas{kind}.csv").read_bytes()
        kinds[miscount] = cluster.kinds
    blocks = len(kinds[0])
    assert blocks >= 5 and set(kinds[0]) == {CsvLines}
    # miscounted: only the first block (no rows before it) keeps its lines; every other one ends up a frame
    assert kinds[1].count(pd.DataFrame) == blocks - 1 and kinds[1][0] is CsvLines


def test_dask_blocks_whose_lines_come_typed_unlike_the_first_are_scored_again_as_frames(tmp_path, monkeypatch):
    source = tmp_path / "in.csv"
    write_synthetic(1500, source, seed=6, bad_share=0.1)
    score_file(source, tmp_path / "pandas.csv", chunk_rows=300, today=TODAY)
    calls = []

    def typed_otherwise_from_the_second(frame: pd.DataFrame) -> CsvLines:  # e.g. a column without a value there
        calls.append(1)
        return csv_lines(frame if len(calls) == 1 else frame.astype({"margin": "str"}))

    monkeypatch.setattr("decision.batch.csv_lines", typed_otherwise_from_the_second)
    job = Job("wide", str(source), default_parameters(), default_catalog(), TODAY)
    cluster = _InProcessCluster()
    _write(source, tmp_path / "dask.csv", tmp_path / "dask.errors.csv", job, iter([]), cluster, 300, 2, _Progress(False))
    for kind in ("", ".errors"):
        assert (tmp_path / f"dask{kind}.csv").read_bytes() == (tmp_path / f"pandas{kind}.csv").read_bytes()
    # every block (fewer than are submitted ahead) came as lines; all but the first were scored again as frames
    assert cluster.kinds.count(pd.DataFrame) == cluster.kinds.count(CsvLines) - 1 >= 4


def test_csv_lines_typed_unlike_the_file_are_refused(tmp_path):
    writer = TableWriter(tmp_path / "out.csv", "csv")
    writer.write(pd.DataFrame({"a": [1.5], "b": ["x"]}))
    with pytest.raises(ValueError, match="other column types"):
        writer.write_lines(csv_lines(pd.DataFrame({"a": ["1.5"], "b": ["x"]})))


CELLS = st.text(alphabet='ab,"\n ', max_size=8)


def _csv_cell(text: str) -> str:
    """A value as spreadsheets write it: quoted (quotes doubled) when it holds a separator, quote or line break."""
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\r\n') else text


def _records(data: bytes, blank_lines: bool = False) -> list[list[str]]:
    """The records pandas reads in `data` (with `blank_lines`, blank lines too, as the batch reads a CSV)."""
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, header=None, names=["a", "b"],
                       skip_blank_lines=not blank_lines).values.tolist()


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.tuples(CELLS, CELLS), min_size=1, max_size=30), blocksize=st.integers(1, 40),
       eol=st.sampled_from(["\n", "\r\n", "\r"]), blank_lines=st.integers(0, 2))
def test_csv_blocks_end_where_records_end(tmp_path_factory, rows, blocksize, eol, blank_lines):
    """Parsed one by one under the header, the blocks give the records of the whole file, in order (when no
    record is longer than the RECORD_SEARCH - 1 block sizes a block may grow to while looking for its end)."""
    path = tmp_path_factory.mktemp("blocks") / "in.csv"
    lines = [",".join(map(_csv_cell, row)) + eol for row in [("a", "b"), *rows]]  # '\r' alone: old Mac line ends
    path.write_text(eol * blank_lines + "".join(lines), newline="")  # the parser skips blank lines above the header
    longest = max(len(line.encode()) for line in lines)
    header, blocks = csv_blocks(path, max(blocksize, -(-longest // (RECORD_SEARCH - 1))))
    data = path.read_bytes()
    spans = list(blocks)
    assert [offset for offset, *_ in spans] == list(np.cumsum([len(header)] + [n for _, n, _ in spans])[:-1])
    assert sum(n for _, n, _ in spans) == len(data) - len(header)
    assert [r for o, n, _ in spans for r in _records(data[o:o + n])] == _records(data[len(header):])
    # each block's line ends are the records the parser reads in it (a quoted value with line breaks is one)
    assert [ends for *_, ends in spans] == [len(_records(data[o:o + n], blank_lines=True)) for o, n, _ in spans]


def test_csv_blocks_stay_bounded_after_a_stray_quote(tmp_path):
    """An unquoted value with one quote (5" screen) is text to the parser; the blocks after it stay small."""
    path = tmp_path / "in.csv"
    path.write_bytes(b"a,b\n" + b'1,5" screen\n' + b"2,plain value\n" * 2000)
    header, blocks = csv_blocks(path, 100)
    spans = list(blocks)
    data = path.read_bytes()
    assert max(n for _, n, _ in spans) <= RECORD_SEARCH * 100 + 100
    assert [r for o, n, _ in spans for r in _records(data[o:o + n])] == _records(data[len(header):])


def _dies_like_an_out_of_memory_kill(*_args) -> None:
    os._exit(137)


@pytest.mark.slow
def test_a_partition_that_kills_its_worker_ends_the_run_with_one_message(tmp_path, monkeypatch):
    source = tmp_path / "in.csv"
    write_synthetic(20, source, seed=2)
    monkeypatch.setattr("decision.batch._dask_tasks", lambda *_, **__: iter([_Task(_dies_like_an_out_of_memory_kill, ())]))
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):  # give up at the first death
        code, _, err = score(source, "-o", tmp_path / "out.csv", "--engine", "dask", "--workers", "1")
    assert code == 2
    assert err == (f"error: {source}: a part of it killed the Dask worker scoring it (1 try; usually out of memory: "
                   "lower --chunk-rows or give each worker more memory)\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def _with_line_breaks_in_quotes(source: Path, target: Path) -> Path:
    """A copy of `source` as a hand-edited file may be: every third organisation name spans three lines (those
    rows are rejected), blank lines and lines of bare commas (a spreadsheet's empty rows) between the profiles,
    and two blank lines above the header."""
    frame = pd.read_csv(source, dtype=str, keep_default_na=False)
    frame.loc[::3, "org"] = frame.loc[::3, "org"] + '\n"Division"\n\nNorth'
    lines = frame.to_csv(index=False).split("\n")
    commas = "," * (frame.shape[1] - 1)
    lines = [line + ("\n" if i % 7 == 6 else f"\n{commas}" if i % 11 == 10 else "") for i, line in enumerate(lines)]
    target.write_text("\n\n" + "\n".join(lines))
    return target


def test_row_numbers_are_the_rows_a_spreadsheet_shows(tmp_path):
    """Blank lines and lines of bare commas are rows (and skipped), a quoted value over lines is one row."""
    write_synthetic(120, tmp_path / "in.csv", seed=9, bad_share=0.1)
    source = _with_line_breaks_in_quotes(tmp_path / "in.csv", tmp_path / "edited.csv")
    with source.open(newline="") as fh:  # the csv module as the oracle: one record per spreadsheet row
        records = list(csv.reader(fh))
    header = next(n for n, record in enumerate(records, start=1) if record)
    row_of = {record[0]: n for n, record in enumerate(records, start=1) if n > header and any(record)}
    for threads, chunk_rows in [(1, 7), (2, 16)]:
        out = tmp_path / f"out-{threads}.csv"
        summary = score_file(source, out, chunk_rows=chunk_rows, workers=threads, today=TODAY)
        assert summary.rows_in == 120
        scored = pd.read_csv(out, dtype={"row": int})
        errors = pd.read_csv(tmp_path / f"out-{threads}.errors.csv", dtype=str)
        assert scored["row"].tolist() == [row_of[p] for p in scored["profile"]]
        assert len(scored) + errors["row"].nunique() == 120
        ids = pd.read_csv(source, dtype=str, skip_blank_lines=True)["id"].dropna()
        assert set(errors["row"].astype(int)) == {row_of[i] for i in ids} - set(scored["row"])


def _score_until_partial_output(folder: Path, output: Path, *options: str) -> subprocess.Popen:
    """`score` of 30,000 profiles into `output` in a child process (leading a process group of its own, as a
    command in a terminal does), returned once its temporary output has grown."""
    source = folder / "big.csv"
    write_synthetic(30_000, source, seed=8)
    proc = subprocess.Popen([sys.executable, "-m", "decision", "score", str(source), "-o", str(output),
                             "--chunk-rows", "1000", *options], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while not [p for p in folder.iterdir() if p.name.startswith(f".{output.name}.") and p.stat().st_size > 10_000]:
        assert proc.poll() is None, "the run finished before it could be interrupted"
        assert time.monotonic() < deadline, "no partial output appeared"
        time.sleep(0.02)
    return proc


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code", "said"), [(signal.SIGINT, 130, "interrupted: "),
                                                   (signal.SIGTERM, 143, "stopped (SIGTERM): ")])
def test_ctrl_c_or_sigterm_stops_the_threads_and_keeps_the_previous_output(tmp_path, sig, code, said):
    """Ctrl-C, or SIGTERM from a service manager, `timeout` or a cancelled CI job: no temporary file is left behind
    (QA found SIGTERM left them)."""
    output = tmp_path / "out.csv"
    output.write_bytes(b"previous result\n")
    proc = _score_until_partial_output(tmp_path, output)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code
    assert err.startswith(said) and "Traceback" not in err
    assert output.read_bytes() == b"previous result\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.csv", "out.csv"]


@pytest.mark.slow
@pytest.mark.xdist_group("dask")
@pytest.mark.parametrize(("sig", "code", "said"), [(signal.SIGINT, 130, "interrupted: "),
                                                   (signal.SIGTERM, 143, "stopped (SIGTERM): ")])
def test_ctrl_c_in_a_terminal_stops_a_dask_run_in_one_line(tmp_path, sig, code, said):
    """Ctrl-C in a terminal reaches every process of the group, the Dask workers too: each printed a traceback,
    above the one line that says what happened. The workers ignore it now; the run stops and closes them. (A
    service manager's SIGTERM to the group ends the workers quietly.)"""
    output = tmp_path / "out.csv"
    output.write_bytes(b"previous result\n")
    proc = _score_until_partial_output(tmp_path, output, "--engine", "dask")
    os.killpg(proc.pid, sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code
    assert err.startswith(said) and err.count("\n") == 1, err
    assert output.read_bytes() == b"previous result\n"
    deadline = time.monotonic() + 30
    while True:  # no worker or fork server is left behind
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        assert time.monotonic() < deadline, "processes of the run outlived it"
        time.sleep(0.1)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_while_a_cluster_starts_lands_when_it_has_started(sig):
    """A local cluster stopped half-started cannot be closed (distributed's exit hook printed tracebacks trying):
    Ctrl-C and SIGTERM are held until it has started, also over the error they caused; a second one is not held."""
    on_signal = signal.getsignal(sig)
    signal.signal(sig, lambda signum, frame: pytest.fail(f"stopped by {signum}"))  # as the CLI's handler raises
    try:
        with pytest.raises(pytest.fail.Exception, match=f"stopped by {int(sig)}"), _stops_held():
            os.kill(os.getpid(), sig)
            time.sleep(0.2)  # the handler runs meanwhile, and holds it
            raise RuntimeError("Nanny failed to start.")  # e.g. its worker was stopped too
        with pytest.raises(KeyboardInterrupt), _stops_held():
            os.kill(os.getpid(), sig)
            time.sleep(0.2)
            os.kill(os.getpid(), sig)
            time.sleep(0.2)
            pytest.fail("a second one was held too")
    finally:
        signal.signal(sig, on_signal)


def test_ctrl_c_that_the_csv_parser_reports_as_a_read_error_still_exits_130(tmp_path, monkeypatch):
    """pandas' C parser, interrupted inside its read of the file, drops the KeyboardInterrupt and raises
    "Calling read(nbytes) on source failed" (seen in about 1 of 8 Ctrl-C's on a loaded machine)."""
    def read_interrupted(source: Path, *args, **kwargs):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        except KeyboardInterrupt:
            raise InputError(Issue(str(source), 0, "", "cannot read the CSV: Error tokenizing data. C error: "
                                   "Calling read(nbytes) on source failed. Try engine='python'.")) from None

    monkeypatch.setattr("decision.batch.score_file", read_interrupted)
    on_sigterm = signal.getsignal(signal.SIGTERM)
    code, _, err = score(tmp_path / "in.csv", "-o", tmp_path / "out.csv")
    assert code == 130 and err.startswith("interrupted: ")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the usual handlers are back
    assert signal.getsignal(signal.SIGTERM) is on_sigterm


@pytest.mark.slow
def test_kill_9_while_writing_leaves_the_previous_output_whole(tmp_path):
    output = tmp_path / "out.csv"
    small = tmp_path / "small.csv"
    write_synthetic(5, small, seed=8)
    assert score(small, "-o", output)[0] == 0
    previous = output.read_bytes()
    proc = _score_until_partial_output(tmp_path, output)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert output.read_bytes() == previous
    assert previous.startswith(b'\xef\xbb\xbf"profile","row"')  # a whole CSV (with the byte order mark for Excel)


@pytest.mark.parametrize("dimension", ['<dimension ref="A1:D3"/>', '<dimension ref="A1:B3"/>', '<dimension ref="A1"/>'])
def test_a_workbook_recorded_smaller_than_it_is_is_read_to_its_last_row(tmp_path, dimension):
    """A program may write a sheet's recorded size (its dimension) short; read-only openpyxl stopped there, so rows and
    columns beyond it were lost without a word: 2 of 5 profiles scored with exit 0, or 'users' called missing."""
    rows = [["org", "external_domain", "users", "internal_ca"], *([c, f"{c.lower()}.com", 50, True] for c in "ABCDE")]
    source = tmp_path / "short.xlsx"
    source.write_bytes(zip_patched(workbook_bytes(rows), "xl/worksheets/sheet1.xml",
                                   lambda xml: re.sub(rb'<dimension ref="[^"]*"/>', dimension.encode(), xml)))
    code, out, _ = score(source, "-o", tmp_path / "out.csv")
    assert code == 0 and "rows in: 5  scored: 5  rejected: 0" in out
    assert pd.read_csv(tmp_path / "out.csv")["profile"].tolist() == list("ABCDE")


def test_the_summary_totals_are_the_sums_of_the_costs_written(tmp_path):
    """Summed to the cent per currency, the output's `cost_total` of 2,000 profiles gives the summary's totals
    exactly (the summary once added the unrounded costs: GBP 736,050.63 against 736,050.67 in the file); a share
    too small for one decimal reads '<0.1%', not '0.0%'."""
    source, output = tmp_path / "in.csv", tmp_path / "out.csv"
    write_synthetic(2000, source, seed=3)
    result = CliRunner().invoke(main, ["score", str(source), "-o", str(output)], catch_exceptions=False)
    got = pd.read_csv(output, dtype={"cost_total": str}, keep_default_na=False)
    paid = got[got["cost_total"] != ""]
    sums = {c: sum(map(Decimal, g["cost_total"]), Decimal(0)) for c, g in paid.groupby("currency")}
    assert len(sums) >= 2
    [totals] = [line for line in result.stdout.splitlines() if line.startswith("total cost")]
    assert totals == "total cost of the recommended options: " + ", ".join(
        f"{c} {s:,.2f}" for c, s in sorted(sums.items()))
    [shares] = [line for line in result.stdout.splitlines() if line.startswith("recommended: ")]
    assert "(0.0%)" not in shares


def test_a_share_is_never_rounded_to_nothing_or_to_everything():
    assert [_share(1, 2413), _share(1, 1000), _share(2412, 2413), _share(1, 1), _share(1, 3)] == [
        "<0.1%", "0.1%", ">99.9%", "100.0%", "33.3%"]


def test_the_nearest_flip_is_the_weight_to_write_in_the_file(tmp_path):
    """'w_cost 0.170 → 0.501: srv_record' means: write 0.501 for w_cost, the other weights as they are, and the
    recommendation becomes srv_record (it was told as a share of the weights: writing the number shown changed
    nothing). Checked on every flip of 300 synthetic profiles: the value shown flips it (it is the thousandth just
    past the flip point), a little short of it does not."""
    source = tmp_path / "in.csv"
    write_synthetic(300, source, seed=3)
    evaluation = decision.evaluate(source, today=TODAY)
    flips = batch_columns(evaluation.scored)["nearest_flip"]
    told = flips.str.extract(r"^(w_\w+) ([\d.]+) → ([\d.]+): (\w+)$").dropna()
    assert len(told) > 100
    profiles = [profile_to_mapping(evaluation.profiles, i) for i in told.index]
    short, past = [], []
    for profile, (field, now, then, _option) in zip(profiles, told.itertuples(index=False), strict=True):
        assert float(now) == pytest.approx(profile[field], abs=5e-4)
        step = 0.002 if float(then) > float(now) else -0.002
        short.append({**profile, field: max(float(then) - step, 0.0)})
        past.append({**profile, field: float(then)})
    recommended = evaluation.recommendations["recommendation"].iloc[told.index].tolist()
    assert decision.evaluate(short, today=TODAY).recommendations["recommendation"].tolist() == recommended
    assert decision.evaluate(past, today=TODAY).recommendations["recommendation"].tolist() == told[3].tolist()


@pytest.mark.slow
def test_a_local_cluster_beside_another_cluster_says_nothing_of_its_port(tmp_path):
    """Dask's scheduler serves health checks on port 8787 by default and warns "Port 8787 is already in use" when a
    cluster (the admin's own, or another run) holds it: the run's cluster takes any free local port, silently."""
    source = tmp_path / "in.csv"
    write_synthetic(30, source, seed=4)
    with socket.socket() as holder:
        with contextlib.suppress(OSError):  # held already: the case this test is about either way
            holder.bind(("127.0.0.1", 8787))
            holder.listen()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            score_file(source, tmp_path / "dask.csv", engine="dask", workers=1, today=TODAY)
    assert not [str(w.message) for w in caught if "8787" in str(w.message)]
    score_file(source, tmp_path / "pandas.csv", today=TODAY)
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()
