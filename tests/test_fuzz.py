"""Fuzzing the loaders and the engine (issue 6): whatever goes in, the only exception that comes out is the
project's own InputError (ExportParseError for exports), with a message, and every row is accounted for.

CI runs a bounded budget (about a minute on 2 cores); set FUZZ_EXAMPLES=20000 for a long run, e.g.
`FUZZ_EXAMPLES=20000 python -m pytest tests/test_fuzz.py`. tests/fuzz_atheris.py is the same targets for
coverage-guided fuzzing with Atheris (optional).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import string
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import yaml
from filebuilders import parquet_bytes, workbook_bytes
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import decision
from decision import views
from decision.batch import score_file
from decision.catalog import default_catalog
from decision.errors import InputError
from decision.exchange_import import ExportParseError, parse_export, profile_from_export
from decision.parameters import default_parameters
from decision.profiles import FIELDS, WEIGHT_KEYS, load_profiles, read_yaml_profiles, validate

SCALE = int(os.environ.get("FUZZ_EXAMPLES", "0"))
PARAMS, CATALOG = default_parameters(), default_catalog()
TODAY = dt.date(2026, 11, 26)
FIELD_NAMES = [f.name for f in FIELDS]


def budget(examples: int) -> settings:
    """`examples` in CI (the whole file stays near a minute); FUZZ_EXAMPLES for a long run."""
    return settings(max_examples=SCALE or examples, deadline=None, derandomize=not SCALE, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


# ------------------------------------------------------------------------------------------ values

HOSTILE_TEXT = ["", " ", "=1+1", "+cmd", "-5", "@SUM(1)", "\t", "NaN", "nan", "inf", "-inf", "1e309", "1_000", "0x1F",
                "true", "yes", "off", "2026-02-30", "2026-12-01", "1900-01-01", "SE", "2013", "2013.0", "cheapest",
                "sectigo", "contoso.com", "bücher.de", "xn--bcher-kva.de", "xn--zz", "a..b", "-a.com", "a.com.",
                "*.a.com", "10.0.0.1", "::1", "localhost", "contoso.local", "EX01", "ex01.contoso.local",
                "EX01;EX02", "a" * 64 + ".com", "O'Reilly", "‘x’", "\x85users: 5", "\u2028", "\x00", "é", "€", "💩.la"]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**25), 10**25), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20), st.sampled_from(HOSTILE_TEXT), st.dates(), st.datetimes(), st.binary(max_size=6),
)
values = st.one_of(scalars, st.lists(scalars, max_size=4), st.dictionaries(st.text(max_size=6), scalars, max_size=3),
                   st.frozensets(st.integers(0, 9), max_size=3))
keys = st.one_of(st.sampled_from([*FIELD_NAMES, "weights", "profiles"]), st.text(max_size=12), st.integers(), st.none())


@st.composite
def raw_profiles(draw: st.DrawFn) -> dict:
    """A profile mapping with some fields (or junk keys) set to anything."""
    profile = {"org": "Fuzz", "external_domain": "contoso.com", "users": 40}
    for key in draw(st.lists(keys, max_size=6)):
        profile[key] = draw(values)
    if draw(st.booleans()):
        profile["weights"] = draw(st.dictionaries(st.sampled_from([*WEIGHT_KEYS, "costs"]), scalars, max_size=4))
    return profile


def accounted(valid, rows_in: int) -> None:
    """Every row is scored or rejected with a named reason."""
    assert valid.rows_in == rows_in
    assert len(valid.frame) + valid.rejected_rows == rows_in
    assert all(i.reason for i in valid.issues)


# -------------------------------------------------------------------------------------- the targets

@budget(250)
@given(st.lists(raw_profiles(), min_size=1, max_size=3))
def test_any_profile_mappings_are_scored_or_rejected_by_name(items):
    try:
        ev = decision.evaluate(items, parameters=PARAMS, catalog=CATALOG, today=TODAY)
    except InputError as exc:  # a whole-input problem (an unknown field)
        assert str(exc) and all(i.reason for i in exc.issues)
        return
    rejected = {i.row for i in ev.issues}
    assert len(ev.profiles) + len(rejected) == len(items)
    assert all(i.reason and i.row >= 1 for i in ev.issues)
    assert len(ev.options) == 7 * len(ev.profiles)
    for i in range(len(ev.profiles)):
        assert ev.why(i) and isinstance(ev.warnings(i), list)
        scores = ev.option_rows(i)["score"].dropna()
        assert ((scores >= 0) & (scores <= 100)).all()


YAML_PIECES = ["org: X\n", "external_domain: x.com\n", "users: 5\n", "- ", "  ", "\t", "&a ", "*a", "*b", "&b ",
               "!!python/object/apply:os.system ['true']", "!!binary gA==", "!!set {a, b}", "<<: *a\n", "[", "]", "{",
               "}", ",", ": ", "? ", "---\n", "...\n", "%YAML 1.1\n", "#", "\n", "'", '"', "|\n", ">\n", "2026-02-30",
               ".nan", ".inf", "~", "null", "servers: ", "weights: ", "cost: ", "\ufeff", "\x85", "é"]


@budget(300)
@given(st.lists(st.one_of(st.sampled_from(YAML_PIECES), st.text(max_size=8)), max_size=30))
def test_any_yaml_text_is_loaded_or_refused_with_a_message(pieces):
    text = "".join(pieces)
    try:
        raw, issues = read_yaml_profiles(text, "fuzz.yaml")
        valid = validate(raw, "fuzz.yaml", PARAMS, CATALOG, TODAY)
    except InputError as exc:
        assert str(exc).startswith("fuzz.yaml")
        return
    assert valid.rows_in == len(raw) and all(i.reason for i in issues + valid.issues)
    try:
        views.parse_profile_upload(text.encode("utf-8", "surrogatepass"), "fuzz.yaml", PARAMS, CATALOG, TODAY)
    except InputError as exc:
        assert str(exc)


def _valid_bytes(kind: str) -> bytes:
    """A small valid file of each kind, for byte-level mutation."""
    rows = [["org", "external_domain", "users", "servers"], ["A", "a.com", 5, "EX01"], ["B", "b.com", 7, ""]]
    if kind == ".xlsx":
        return workbook_bytes(rows)
    if kind == ".parquet":
        return parquet_bytes(pa.Table.from_pandas(pd.DataFrame(rows[1:], columns=rows[0]), preserve_index=False))
    if kind == ".csv":
        return "\n".join(",".join(map(str, r)) for r in rows).encode() + b"\n"
    return yaml.safe_dump([dict(zip(rows[0], r, strict=True)) for r in rows[1:]]).encode()


SEEDS = {kind: _valid_bytes(kind) for kind in (".yaml", ".csv", ".xlsx", ".parquet")}


@st.composite
def damaged_files(draw: st.DrawFn) -> tuple[str, bytes]:
    """Random bytes, or a valid file of the kind with bytes overwritten, cut short or inserted."""
    kind = draw(st.sampled_from(sorted(SEEDS)))
    if draw(st.booleans()):
        return kind, draw(st.binary(max_size=600))
    data = bytearray(SEEDS[kind])
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif action == "cut":
            del data[at:at + draw(st.integers(1, 64))]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
    return kind, bytes(data)


@budget(150)
@given(damaged_files())
def test_damaged_files_are_read_or_refused_on_every_path(tmp_path_factory, case):
    kind, data = case
    folder = tmp_path_factory.mktemp("fuzz")
    source = folder / f"input{kind}"
    source.write_bytes(data)
    try:
        api = load_profiles(source, PARAMS, CATALOG, today=TODAY)
    except InputError as exc:
        assert str(exc)
        api = None
    if api is not None:
        accounted(api, api.rows_in)
        decision.evaluate(api, parameters=PARAMS, catalog=CATALOG)
    try:
        summary = score_file(source, folder / "out.csv", today=TODAY)
    except InputError as exc:
        assert str(exc) and not (folder / "out.csv").exists()
        return
    assert summary.rows_in == summary.scored + summary.rejected
    assert len(pd.read_csv(folder / "out.csv")) == summary.scored
    if api is not None and kind != ".yaml":  # a table reads the same on both paths (YAML unknown keys differ by design)
        assert (summary.rows_in, summary.scored) == (api.rows_in, len(api.frame))


CELLS = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(alphabet=string.printable, max_size=10),
                  st.integers(-5, 10**8).map(str))


@st.composite
def csv_tables(draw: st.DrawFn) -> str:
    """A CSV with the required columns plus random known or unknown ones, ragged rows and hostile cells."""
    header = ["org", "external_domain", "users",
              *draw(st.lists(st.sampled_from(FIELD_NAMES[3:]), max_size=4, unique=True))]
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        width = len(header) + draw(st.sampled_from([0, 0, 0, -1, 1, 2]))
        rows.append([draw(CELLS) for _ in range(max(width, 1))])
    quote = lambda cell: '"' + cell.replace('"', '""') + '"' if any(c in cell for c in ',"\n\r') else cell  # noqa: E731
    return "\n".join(",".join(quote(c) for c in row) for row in [header, *rows]) + "\n"


@budget(150)
@given(csv_tables())
def test_csv_tables_account_for_every_row_the_same_way_on_both_paths(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("csv")
    source = folder / "table.csv"
    source.write_text(text, encoding="utf-8")
    lines = text.count("\n") - 1  # the rows' line ends (str.splitlines also splits at \x0b, \x0c, \x1c, \x85: not in a CSV)
    try:
        api = load_profiles(source, PARAMS, CATALOG, today=TODAY)
    except InputError as exc:
        with pytest.raises(InputError):
            score_file(source, folder / "out.csv", today=TODAY)
        assert str(exc)
        return
    summary = score_file(source, folder / "out.csv", today=TODAY)
    assume(lines == api.rows_in)  # a quoted cell across lines is one row of two lines
    accounted(api, lines)
    assert (summary.rows_in, summary.scored) == (api.rows_in, len(api.frame))
    errors = pd.read_csv(folder / "out.errors.csv", dtype=str, keep_default_na=False)
    assert len(errors[["file", "row"]].drop_duplicates()) == summary.rejected
    shown = pd.read_csv(folder / "out.errors.csv", dtype=str, keep_default_na=False)["value"]
    assert not shown.str.match(r"^[=+\-@\t\r]").any()  # a hostile value echoed in the errors file is neutralised


@st.composite
def typed_frames(draw: st.DrawFn) -> pd.DataFrame:
    """A table as the API or a Parquet file gives it: typed columns (numbers, booleans, text, objects)."""
    n = draw(st.integers(1, 5))
    frame = pd.DataFrame({"org": [f"Org {i}" for i in range(n)], "external_domain": ["contoso.com"] * n,
                          "users": draw(st.lists(st.integers(0, 10**7), min_size=n, max_size=n))})
    for name in draw(st.lists(st.sampled_from(FIELD_NAMES[3:]), max_size=5, unique=True)):
        column = draw(st.sampled_from(["float", "int", "bool", "object"]))
        if column == "float":
            frame[name] = draw(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=n, max_size=n))
        elif column == "int":
            frame[name] = np.array(draw(st.lists(st.integers(-(2**62), 2**62), min_size=n, max_size=n)), dtype=np.int64)
        elif column == "bool":
            frame[name] = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        else:
            frame[name] = pd.Series(draw(st.lists(values, min_size=n, max_size=n)), dtype=object)
    return frame


@budget(200)
@given(typed_frames())
def test_typed_tables_are_scored_or_rejected_by_name(frame):
    valid = load_profiles(frame, PARAMS, CATALOG, today=TODAY)
    accounted(valid, len(frame))
    ev = decision.evaluate(valid, parameters=PARAMS, catalog=CATALOG)
    assert len(ev.recommendations) == len(valid.frame)


EXPORT_PIECES = ['{"servers": [',
                 '{"Name": "EX01", "AdminDisplayVersion": "Version 15.1 (Build 2507.6)", "ServerRole": "Mailbox"}',
                 '{"accepted_domains": [', '{"DomainName": "contoso.com", "DomainType": "Authoritative", "Default": true}',
                 '"counts": [{"Name": "user_mailboxes", "Count": 10, "Command": "Get-Mailbox -ResultSize Unlimited"}]',
                 "]", "}", ",", "[PS] C:\\>Get-ExchangeCertificate -Server EX01 | fl\n", "Thumbprint : ABC\n",
                 "NotAfter : 13/31/2026\n", "Services : IIS\n", "DomainName : contoso.com\nDomainType : Authoritative\n",
                 "AdminDisplayVersion : Version 15.2 (Build 1544.4)\nName : EX01\nServerRole : Mailbox\n", "\n",
                 "Count : 99999999999\n", "\x85", "\ufeff", "=HYPERLINK(1)"]


@budget(200)
@given(st.lists(st.one_of(st.sampled_from(EXPORT_PIECES), st.text(max_size=6)), max_size=20),
       st.sampled_from(["utf-8", "utf-16", "cp1252"]))
def test_any_export_is_imported_or_refused_with_a_message(pieces, encoding):
    data = "".join(pieces).encode(encoding, "replace")
    try:
        export = parse_export(data, "fuzz.json")
    except ExportParseError as exc:
        assert str(exc)
        return
    profile, notes = profile_from_export(export)
    assert profile["external_domain"] and all(isinstance(n, str) for n in notes)
    try:
        views.parse_export_upload(data, "fuzz.json", PARAMS, CATALOG, TODAY)
    except InputError as exc:
        assert str(exc)


def test_the_seeds_are_valid_files(tmp_path):
    """The mutation seeds are whole, valid inputs (so damaged ones test damage, not an unreadable seed)."""
    for kind, data in SEEDS.items():
        (tmp_path / f"seed{kind}").write_bytes(data)
        valid = load_profiles(tmp_path / f"seed{kind}", PARAMS, CATALOG, today=TODAY)
        assert len(valid.frame) == 2 and not valid.issues, kind
    assert zipfile.is_zipfile(io.BytesIO(SEEDS[".xlsx"]))
    assert Path(__file__).with_name("fuzz_atheris.py").exists()
