"""The bad-input corpus (issue 6): every case in tests/corpus/manifest.yaml through every path it names.

Paths: `evaluate` and `score` (the CLI, in-process), `api` (decision.profiles.load_profiles, then the engine),
`upload` (the running app, one AppTest session for the whole corpus: a bad upload shows an error naming the
field and keeps the previous profile), `import` (the CLI, for Exchange exports). Inputs too large or too
binary to commit are made by the generators below in a temporary folder.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import tomllib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
import yaml
from click.testing import CliRunner
from filebuilders import parquet_bytes, workbook_bytes, zip_patched
from streamlit.testing.v1 import AppTest

import decision
from decision import views
from decision.catalog import default_catalog
from decision.cli import main
from decision.errors import InputError
from decision.limits import LIMITS, load_limits
from decision.parameters import default_parameters
from decision.profiles import FIELDS, load_profiles

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus"
MANIFEST = yaml.safe_load((CORPUS / "manifest.yaml").read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = MANIFEST["cases"]
BASE: dict[str, Any] = MANIFEST["base"]
SUFFIX = {"yaml": ".yaml", "csv": ".csv", "xlsx": ".xlsx", "parquet": ".parquet", "export": ".json"}
DEFAULT_PATHS = {"yaml": ("evaluate", "score", "api", "upload"), "export": ("upload", "import")}
TABLE_PATHS = ("evaluate", "score", "api")
EXIT = {"scored": 0, "rejected": 1, "refused": 2}
PARAMS, CATALOG = default_parameters(), default_catalog()
KEYS = [views.widget_key(f.name) for f in FIELDS]
EXPORTS = ROOT / "tests" / "data" / "exchange"


# ------------------------------------------------------------------------------------------ generators

def _base_yaml(**extra: Any) -> str:
    return yaml.safe_dump({**BASE, **extra}, allow_unicode=True)


def _two(**columns: Any) -> pa.Table:
    return pa.table({"org": ["A", "B"], "external_domain": ["a.com", "b.com"], "users": [5, 6], **columns})


def _indexed(index: Callable[[pd.DataFrame], pd.DataFrame]) -> bytes:
    """Two profiles written as pandas writes a frame with an index (stored in the file with the pandas metadata)."""
    frame = pd.DataFrame({"id": ["c-1", "c-2"], "org": ["A", "B"], "external_domain": ["a.com", "b.com"], "users": [5, 6]})
    return parquet_bytes(pa.Table.from_pandas(index(frame)))


def _export(change: Callable[[dict], None]) -> bytes:
    data = json.loads((EXPORTS / "ex2016-contoso.json").read_text(encoding="utf-8"))
    change(data)
    return json.dumps(data).encode("utf-8")


def _hostile_export(data: dict) -> None:
    data["collected_at"] = "2026-01-01\x85users: 999999\x85w_cost: 0\u2028ca: entrust"
    data["certificates"][0]["Issuer"] = "CN=Evil\x85internal_ca: true, O==HYPERLINK(\"x\"), C=US"
    data["errors"] = [{"Command": "Get-Thing", "Message": "=cmd|' /C calc'!A0\r\nmdm_share: 1"}]


def _bad_domain(data: dict) -> None:
    data["accepted_domains"][0]["DomainName"] = "-bad-.com"


def _huge_count(data: dict) -> None:
    data["counts"][0]["Count"] = 10**13


def _alias_bomb() -> str:
    levels = ["org: &a0 X"] + [f"l{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    return "\n".join(levels) + "\nexternal_domain: x.com\nusers: 5\nservers: *a8\n"


GENERATORS: dict[str, Callable[[], bytes | str]] = {
    "parquet_list_servers": lambda: parquet_bytes(_two(servers=[["EX01", "EX02"], []])),
    "parquet_binary_org": lambda: parquet_bytes(pa.table({"org": pa.array([b"\x80", b"ok"], pa.binary()),
                                                     "external_domain": ["a.com", "b.com"], "users": [5, 6]})),
    "parquet_struct_currency": lambda: parquet_bytes(pa.table({**{k: [v] for k, v in BASE.items()},
                                                          "currency": [{"code": "EUR"}]})),
    "parquet_timestamp_start": lambda: parquet_bytes(_two(start=pa.array([dt.datetime(2026, 12, 1), None], pa.timestamp("ns")))),
    "parquet_uint64_users": lambda: parquet_bytes(pa.table({"org": ["A", "B"], "external_domain": ["a.com", "b.com"],
                                                       "users": pa.array([2**64 - 1, 5], pa.uint64())})),
    "parquet_nan_share": lambda: parquet_bytes(_two(mdm_share=[0.5, float("nan")])),
    "parquet_date_year_one": lambda: parquet_bytes(_two(start=pa.array([dt.date(2026, 12, 1), dt.date(1, 1, 1)],
                                                                   pa.date32()))),
    "parquet_no_columns": lambda: parquet_bytes(pa.table({})),
    "parquet_id_index": lambda: _indexed(lambda f: f.set_index("id")),
    "parquet_org_index": lambda: _indexed(lambda f: f.set_index("org")),
    "parquet_org_index_and_column_differ": lambda: _indexed(lambda f: f.set_index("org", drop=False).assign(org=["X", "Y"])),
    "parquet_truncated": lambda: parquet_bytes(_two())[:300],
    "xlsx_date_cells": lambda: workbook_bytes([["org", "external_domain", "users", "start"],
                                          ["A", "a.com", 5, dt.datetime(2026, 12, 1)],
                                          ["B", "b.com", 5, dt.date(1900, 1, 1)], ["C", "c.com", 5, 45000]]),
    "xlsx_truncated": lambda: workbook_bytes([["org", "external_domain", "users"], ["A", "a.com", 5]])[:900],
    "xlsx_cached_formula": lambda: zip_patched(workbook_bytes([["org", "external_domain", "users"], ["A", "a.com", 6]]),
                                               "xl/worksheets/sheet1.xml",
                                               lambda b: b.replace(b"<v>6</v>", b"<f>2*3</f><v>6</v>")),
    "xlsx_zip_bomb": lambda: zip_patched(workbook_bytes([["org", "external_domain", "users"], ["A", "a.com", 5]]),
                                         "xl/worksheets/sheet1.xml",  # 50 MB of spaces, 50 kB compressed
                                         lambda b: b.replace(b"<sheetData>", b"<sheetData>" + b" " * 50_000_000)),
    "xlsx_merged_in_a_column": lambda: workbook_bytes([["org", "external_domain", "users"], ["A", "a.com", 5], ["B", None, 6],
                                                      ["C", "c.com", 7]], merged=["B2:B3"]),
    "xlsx_merged_across_columns": lambda: workbook_bytes([["org", "external_domain", "users", "internal_ca", "acme_ok"],
                                                         ["A", "a.com", 5, True], ["B", "b.com", 6]], merged=["D2:E2"]),
    "xlsx_merged_from_the_header": lambda: workbook_bytes([["org", "external_domain", "users", "internal_ca"],
                                                          ["A", "a.com", 5], ["B", "b.com", 6, True]], merged=["D1:D2"]),
    "ole_header": lambda: bytes.fromhex("D0CF11E0A1B11AE1") + bytes(2000),
    "random_bytes": lambda: b"\x00\xff\xfe\x80" + random.Random(6).randbytes(4096),
    "yaml_long_domain": lambda: _base_yaml(external_domain=".".join(["a" * 63] * 4) + ".com"),
    "yaml_long_org": lambda: _base_yaml(org="A" * 201),
    "yaml_alias_bomb": _alias_bomb,
    "yaml_many_aliases": lambda: "org: &a X\nexternal_domain: x.com\nusers: 5\nservers: [" + ", ".join(["*a"] * 101) + "]\n",
    "yaml_deep_nesting": lambda: _base_yaml() + "servers: " + "[" * 5000 + "]" * 5000 + "\n",
    "yaml_over_limit": lambda: _base_yaml() + ("# padding " + "x" * 100 + "\n") * 10_000,
    "yaml_under_limit": lambda: _base_yaml() + ("# padding " + "x" * 100 + "\n") * 8_000,
    "yaml_many_servers": lambda: _base_yaml(servers=[f"S{i:05d}" for i in range(20_000)]),
    "upload_over_limit": lambda: _base_yaml() + "#" * 21_000_000 + "\n",
    "export_over_limit": lambda: "{" + " " * 21_000_000 + "}",
    "export_deep_json": lambda: "[" * 100_000 + "]" * 100_000,
    "export_hostile_text": lambda: _export(_hostile_export),
    "export_bad_domain": lambda: _export(_bad_domain),
    "export_huge_count": lambda: _export(_huge_count),
    "csv_mixed_encodings": lambda: ("org,external_domain,users\nZürich AG,a.com,5\n".encode()
                                    + "Müller GmbH €,b.com,6\n".encode("cp1252")),
    "csv_late_nul": lambda: ("org,external_domain,users\n"  # a NUL after the first 4 kB, where binary files are spotted
                             + "".join(f"Organisation number {i:04d},a.com,5\n" for i in range(150))).encode()
                            + b"Bad\x00Org,b.com,5\n",
    "csv_utf16_cut_off": lambda: "org,external_domain,users\r\nA,a.com,5\r\n".encode("utf-16")[:-1],
    "csv_over_row_limit": lambda: "org,external_domain,users\n" + "A,a.com,5\n" * 100_001,
    "csv_long_cell": lambda: "org,external_domain,users\n" + "A" * 100_000 + ",a.com,5\n",
}


# ------------------------------------------------------------------------------------------- the cases

def materialise(case: dict[str, Any], folder: Path) -> Path:
    """Write the case's input file into `folder`."""
    path = folder / case.get("name", f"{case['id']}{SUFFIX[case['kind']]}")
    if "content" in case:
        data: bytes | str = case["content"].replace("{canary}", str(folder / "canary"))
    elif "fields" in case:
        profile = {k: v for k, v in {**BASE, **case["fields"]}.items() if k not in case.get("drop", ())}
        if case["kind"] == "yaml":
            data = yaml.safe_dump(profile, allow_unicode=True, sort_keys=False)
        else:
            data = pd.DataFrame([profile]).to_csv(index=False)
    elif "table" in case:
        header, *rows = case["table"] or [[]]
        if case["kind"] == "xlsx":
            data = workbook_bytes(case["table"])
        elif case["kind"] == "parquet":
            data = parquet_bytes(pa.Table.from_pandas(pd.DataFrame(rows, columns=header, dtype=object), preserve_index=False))
        else:
            data = pd.DataFrame(rows, columns=header).to_csv(index=False)
    elif "file" in case:
        data = (CORPUS / case["file"]).read_bytes()
    else:
        data = GENERATORS[case["generate"]]()
    path.write_bytes(data.encode(case.get("encoding", "utf-8")) if isinstance(data, str) else data)
    return path


def expected(case: dict[str, Any], path: str) -> dict[str, Any]:
    """The outcome, field and message expected on one path (the case's, or its `by_path` override)."""
    out = {"expect": case["expect"], "field": case.get("field"), "message": case.get("message")}
    override = case.get("by_path", {}).get(path)
    if isinstance(override, str):
        out["expect"] = override
    elif override:
        out = {"field": None, "message": None, **override}
    return out


def paths_of(case: dict[str, Any]) -> tuple[str, ...]:
    return tuple(case.get("paths") or DEFAULT_PATHS.get(case["kind"], TABLE_PATHS))


def counts(case: dict[str, Any], outcome: str) -> tuple[int, int]:
    rows = case.get("rows", 1)
    return rows, case.get("scored", rows if outcome == "scored" else 0)


def names_it(text: str, want: dict[str, Any]) -> None:
    if want["field"] is not None:
        assert f"field '{want['field']}'" in text, text
    if want["message"]:
        assert want["message"] in text, text


def invoke(*args: Any) -> Any:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


def run_evaluate(case: dict[str, Any], path: Path, want: dict[str, Any]) -> None:
    result = invoke("evaluate", path)
    if want["expect"] == "scored" and counts(case, "scored")[1] > 1:  # evaluate is for one profile, not the first
        assert result.exit_code == EXIT["refused"] and "profiles in the file; evaluate is for one profile" in result.stderr
        return
    assert result.exit_code == EXIT[want["expect"]], result.output
    if want["expect"] != "scored":
        names_it(result.stderr, want)


def run_score(case: dict[str, Any], path: Path, want: dict[str, Any], folder: Path) -> None:
    output, errors = folder / "scored.csv", folder / "rejected.csv"
    result = invoke("score", path, "-o", output, "--errors", errors)
    assert result.exit_code == EXIT[want["expect"]], result.output
    if want["expect"] == "refused":
        names_it(result.stderr, want)
        assert not output.exists() and not errors.exists()
        return
    rows, scored = counts(case, want["expect"])
    out = pd.read_csv(output, dtype=str, keep_default_na=False)
    bad = pd.read_csv(errors, dtype=str, keep_default_na=False)
    assert len(out) == scored
    assert len(bad[["file", "row"]].drop_duplicates()) == rows - scored  # in = scored + rejected
    assert set(out["row"]).isdisjoint(set(bad["row"])) or case.get("kind") == "yaml"
    assert f"rows in: {rows:,}  scored: {scored:,}  rejected: {rows - scored:,}" in result.stdout
    if want["expect"] == "rejected":
        text = "\n".join(f"field '{f}': {r}" for f, r in zip(bad["field"], bad["reason"], strict=True))
        names_it(text, want)


def run_api(case: dict[str, Any], path: Path, want: dict[str, Any]) -> None:
    if want["expect"] == "refused":
        with pytest.raises(InputError) as caught:
            load_profiles(path, PARAMS, CATALOG)
        assert str(caught.value)
        names_it(str(caught.value), want)
        return
    valid = load_profiles(path, PARAMS, CATALOG)
    rows, scored = counts(case, want["expect"])
    assert (valid.rows_in, len(valid.frame), valid.rejected_rows) == (rows, scored, rows - scored), valid.issues
    if want["expect"] == "rejected":
        names_it("\n".join(str(i) for i in valid.issues), want)
    else:
        assert not valid.issues
    if "orgs" in case:
        assert list(valid.frame["org"]) == case["orgs"]
    if "domains" in case:
        assert list(valid.frame["external_domain"]) == case["domains"]
    if "ids" in case:
        assert list(valid.frame["id"]) == case["ids"]
    ev = decision.evaluate(valid, parameters=PARAMS, catalog=CATALOG)  # whatever was accepted, the engine scores
    assert len(ev.recommendations) == scored and len(ev.options) == 7 * scored


def run_import(case: dict[str, Any], path: Path, want: dict[str, Any], folder: Path) -> None:
    out = folder / "imported.yaml"
    result = invoke("import", path, "-o", out)
    assert result.exit_code == EXIT[want["expect"]], result.output
    if want["expect"] == "refused":
        assert not out.exists()
        names_it(result.stderr, want)
        return
    if want["expect"] == "rejected":
        names_it(result.stderr, want)
        return
    ev = decision.evaluate(out)  # what import wrote is a profile the engine takes as it is: no key added by the export
    assert not ev.issues and len(ev.profiles) == 1
    assert set(yaml.safe_load(out.read_text(encoding="utf-8"))) <= {f.name for f in FIELDS}


@pytest.fixture(scope="module")
def app() -> AppTest:
    """One app session for every upload of the corpus, as a user who keeps trying files would have."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    return at


def run_upload(case: dict[str, Any], path: Path, want: dict[str, Any], at: AppTest) -> None:
    before = {k: at.session_state[k] for k in KEYS}
    at.file_uploader(key="upload").set_value((path.name, path.read_bytes(), "application/octet-stream")).run()
    assert not at.exception, at.exception
    if want["expect"] == "scored":
        assert not [e for e in at.error if "Could not load" in e.value]
        assert at.session_state["source"] == f"{'imported' if views.is_export_name(path.name) else 'uploaded'} {path.name}"
        return
    errors = [e.value for e in at.error if f"Could not load {views.md_escape(path.name)}" in e.value]
    assert len(errors) == 1, [e.value for e in at.error]
    names_it(errors[0], want)
    assert {k: at.session_state[k] for k in KEYS} == before  # the previous profile is kept


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(case, tmp_path, request):
    path = materialise(case, tmp_path)
    for name in paths_of(case):
        want = expected(case, name)
        if name == "evaluate":
            run_evaluate(case, path, want)
        elif name == "score":
            run_score(case, path, want, tmp_path)
        elif name == "api":
            run_api(case, path, want)
        elif name == "import":
            run_import(case, path, want, tmp_path)
        else:
            run_upload(case, path, want, request.getfixturevalue("app"))
    assert not (tmp_path / "canary").exists(), "the input ran a command"


def test_the_corpus_covers_every_category(capsys):
    """At least 150 cases over every kind of bad input the issue lists; prints cases by category and outcome."""
    by = Counter((c["category"], c["expect"]) for c in CASES)
    categories = sorted({c["category"] for c in CASES})
    assert len(CASES) >= 150
    assert set(categories) >= {"types", "numbers", "dates", "hostnames", "internal-names", "weights", "structure",
                               "yaml-safety", "encoding", "formulas", "size", "exports"}
    assert {c["kind"] for c in CASES} == set(SUFFIX)
    runs = sum(len(paths_of(c)) for c in CASES)
    lines = [f"corpus: {len(CASES)} cases, {runs} path runs"] + [
        f"  {cat:15} " + "  ".join(f"{o} {by[cat, o]:3}" for o in EXIT) for cat in categories]
    with capsys.disabled():
        print("\n" + "\n".join(lines))


def test_the_limits_come_from_the_data_and_the_app_enforces_the_same_upload_size(tmp_path):
    """data/parameters.yaml `limits` (each with unit and source) set the limits the corpus runs into; Streamlit's own
    upload limit (MiB, .streamlit/config.toml) sits just above the app's, so the app's clearer message comes first."""
    raw = yaml.safe_load((ROOT / "data" / "parameters.yaml").read_text(encoding="utf-8"))["limits"]
    assert {name: entry["value"] for name, entry in raw.items()} == LIMITS
    assert all(entry["unit"] and entry["source"] for entry in raw.values())
    mib = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]["maxUploadSize"]
    assert LIMITS["upload_max_bytes"] <= mib * 2**20 < LIMITS["upload_max_bytes"] + 2**20
    del raw["table_max_rows"]["source"]
    (tmp_path / "p.yaml").write_text(yaml.safe_dump({"limits": raw}))
    with pytest.raises(ValueError, match="limits.table_max_rows needs"):
        load_limits(tmp_path / "p.yaml")
