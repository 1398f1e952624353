"""`python -m decision evaluate`: formats, the JSON contract, exit codes, errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = str(ROOT / "data" / "profiles" / "contoso-2026.yaml")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "decision", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


def test_json_has_the_contract_keys_and_the_engines_numbers():
    result = run("evaluate", EXAMPLE, "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"profile", "options", "recommendation", "commands", "dns_records", "warnings", "versions"} <= set(data)
    assert data["profile"]["desktops"] == 150 and data["profile"]["start"] == "2026-12-01"
    assert len(data["options"]) == 7 and data["recommendation"]["option"] == "acme"
    assert data["recommendation"]["why"].startswith("ACME")
    columns = {"profile", "option", "feasible", "reasons", "certificates", "names", "not_issuable",
               "certificate_issuances", "cost_total", "tco", "trust", "devices_to_reconfigure", "users_url_change",
               "score", "rank"}
    assert all(columns <= set(o) for o in data["options"])
    assert set(data["commands"]) == set(data["dns_records"]) == {o["option"] for o in data["options"]}
    assert data["versions"]["engine"] and data["versions"]["parameters_as_of"] == "2026-11-26"


def test_the_2007_article_is_reproduced_in_2007_syntax():
    data = json.loads(run("evaluate", str(ROOT / "data/profiles/contoso-2007.yaml"), "--format", "json").stdout)
    san = next(o for o in data["options"] if o["option"] == "san")
    assert san["names"] == ["mail.contoso.com", "contoso.com", "contoso.local", "autodiscover.contoso.com",
                            "server01.contoso.local", "server01"]
    commands = data["commands"]["san"]
    assert commands[0].startswith("New-ExchangeCertificate -GenerateRequest -Path C:\\certreq\\")
    assert "-DomainName mail.contoso.com, contoso.com, contoso.local, autodiscover.contoso.com, " \
           "server01.contoso.local, server01" in commands[0]
    assert "-SubjectName 'C=US, O=Contoso Inc (2007 article), CN=mail.contoso.com'" in commands[0]
    assert "-KeySize 1024 -PrivateKeyExportable $true" in commands[0]
    assert any(c.startswith("Import-ExchangeCertificate -Path C:\\certreq\\") for c in commands)
    assert "Enable-ExchangeCertificate -Thumbprint <thumbprint shown by Import-ExchangeCertificate> " \
           "-Services IIS, UM, SMTP" in commands


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_human_formats_name_the_recommendation(fmt):
    result = run("evaluate", EXAMPLE, "--format", fmt)
    assert result.returncode == 0 and "ACME, automated" in result.stdout
    assert "mail.contoso.com, contoso.com, autodiscover.contoso.com" in result.stdout


MARKDOWN_COLUMNS = ["rank", "option", "feasible", "ca", "certificates", "certificate_issuances", "cost_total", "tco",
                    "trust", "devices_to_reconfigure", "users_url_change", "score"]


@pytest.mark.parametrize("example", sorted(p.name for p in (ROOT / "data" / "profiles").glob("*.yaml")))
def test_markdown_table_reads_like_the_table_format(example):
    path = str(ROOT / "data" / "profiles" / example)
    text = run("evaluate", path, "--format", "markdown").stdout
    options = json.loads(run("evaluate", path, "--format", "json").stdout)["options"]
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    assert lines[0] == "| " + " | ".join(MARKDOWN_COLUMNS) + " |"  # no index column
    rows = {cells[1]: cells for cells in ([c.strip() for c in line[2:-2].split(" | ")] for line in lines[1:])}
    assert len(rows) == 7 and "nan" not in text
    for o in options:
        cells = dict(zip(MARKDOWN_COLUMNS, rows[o["option"]], strict=True))
        assert cells["rank"] == (str(o["rank"]) if o["feasible"] else "-")
        assert cells["score"] == (f"{o['score']:.1f}" if o["feasible"] else "")
        assert cells["cost_total"] == f"{o['cost_total']:,.0f}" and cells["tco"] == f"{o['tco']:,.0f}"
        assert cells["trust"] == f"{o['trust']:.0%}"
        assert cells["ca"] == (o["ca"] or "")


def test_bad_profile_gives_one_line_per_problem_and_no_traceback(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("org: A\nexternal_domain: -bad-\nusers: -2\nca: entrus\nexchange_version: 2003\n")
    result = run("evaluate", str(path))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 4 and all(line.startswith(f"error: {path}, row 1, field '") for line in lines)
    assert "did you mean 'entrust'" in result.stderr


@pytest.mark.parametrize(("content", "message"), [
    ("org: A\norg: B\n", "duplicate key 'org'"),
    ("org: A\nusers: 1\nexternal_domain: a.com\nfavourite_colour: blue\n", "unknown field"),
    ("\tbad: [\n", "not valid YAML"),
    ("", "empty"),
])
def test_unusable_files_exit_2_with_a_message(tmp_path, content, message):
    path = tmp_path / "p.yaml"
    path.write_text(content)
    result = run("evaluate", str(path))
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_another_catalog_and_parameters_file_change_the_numbers(tmp_path):
    params = yaml.safe_load((ROOT / "data/parameters.yaml").read_text())
    params["parameters"]["admin_rate"]["value"] = 150
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(params))
    cas = yaml.safe_load((ROOT / "data/cas.yaml").read_text())
    for ca in cas["cas"]:
        if ca["id"] == "sectigo":
            ca["prices"]["san_base"] = 1000
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cas))
    base = json.loads(run("evaluate", EXAMPLE, "--format", "json").stdout)
    other = json.loads(run("evaluate", EXAMPLE, "--format", "json", "--parameters", str(tmp_path / "p.yaml"),
                           "--catalog", str(tmp_path / "c.yaml")).stdout)
    assert other["profile"]["admin_rate"] == 150
    san = {d["option"]: d for d in base["options"]}["san"]
    san2 = {d["option"]: d for d in other["options"]}["san"]
    assert san2["cost_total"] > san["cost_total"] and san2["ca"] != "sectigo"
