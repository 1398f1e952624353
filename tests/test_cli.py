"""`python -m decision evaluate`: formats, the JSON contract, exit codes, errors without tracebacks.

Most tests run the command line in this process (cli_process.decision_cli); those about a refused profile's exit code
and stderr run a real `python -m decision` too."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cli_process import decision_cli as run
from figures import tenths

from decision.engine import ENGINE_VERSION
from decision.report import data_stamp

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = str(ROOT / "data" / "profiles" / "contoso-2026.yaml")
WACS = ".\\wacs.exe "  # the ACME client, run from its folder (C:\\<client>, commands._acme_client)


def python(*args: str) -> subprocess.CompletedProcess:
    """A real `python -m decision ARGS` process."""
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
    folder, request, *commands = data["commands"]["san"]
    assert folder == "New-Item -ItemType Directory -Force 'C:\\certreq' | Out-Null"  # -Path fails without it
    assert request.startswith("New-ExchangeCertificate -GenerateRequest -Path C:\\certreq\\")
    assert "-DomainName mail.contoso.com, contoso.com, contoso.local, autodiscover.contoso.com, " \
           "server01.contoso.local, server01" in request
    assert "-SubjectName 'C=US, O=Contoso Inc (2007 article), CN=mail.contoso.com'" in request
    assert "-KeySize 1024 -PrivateKeyExportable $true" in request
    assert any(c.startswith("Import-ExchangeCertificate -Path C:\\certreq\\") for c in commands)
    assert "Enable-ExchangeCertificate -Thumbprint <thumbprint shown by Import-ExchangeCertificate> " \
           "-Services IIS, SMTP" in commands  # not UM: the 2007 server has no Unified Messaging role in TLS mode


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
        assert cells["score"] == (tenths(o["score"]) if o["feasible"] else "")
        assert cells["cost_total"] == f"{o['cost_total']:,.0f}" and cells["tco"] == f"{o['tco']:,.0f}"
        assert cells["trust"] == f"{o['trust']:.0%}"
        assert cells["ca"] == (o["ca"] or "")


def test_every_format_writes_a_score_rounded_once_from_the_published_two_decimals(tmp_path):
    """QA: Contoso 2026 over 3 months. SAN's 82.054 is published as 82.05, and `.1f` wrote that (82.0499... in
    binary) as 82.0, below the app card's 82.1; the wildcard's 77.25 as 77.2."""
    path = tmp_path / "h025.yaml"
    path.write_text(yaml.safe_dump({**yaml.safe_load(Path(EXAMPLE).read_text()), "horizon_years": 0.25}))
    data = json.loads(run("evaluate", path, "--format", "json").stdout)
    scores = {o["option"]: o["score"] for o in data["options"]}
    assert (scores["san"], scores["wildcard"], data["recommendation"]["margin"]) == (82.05, 77.25, 4.81)
    why = "SAN / UCC certificate scores 82.1 of 100, 4.8 ahead of Wildcard certificate."
    assert data["recommendation"]["why"].startswith(why)
    for fmt in ("table", "markdown"):
        text = run("evaluate", path, "--format", fmt).stdout
        assert why in text, fmt
        rows = {line.split()[1]: line.split()[-1] for line in text.splitlines() if re.match(r"\s*[1-7] ", line)}
        if fmt == "markdown":
            rows = {c[1]: c[-1] for c in ([x.strip() for x in line[2:-2].split(" | ")] for line in text.splitlines()
                                          if line.startswith("| ") and line[2].isdigit())}
        assert (rows["san"], rows["wildcard"]) == ("82.1", "77.3") == (tenths(82.05), tenths(77.25)), fmt


def test_markdown_carries_the_facts_of_the_table_format():
    """The version, start, horizon and currency the figures are for, and the names a public CA refuses."""
    table = run("evaluate", EXAMPLE, "--format", "table").stdout.splitlines()
    markdown = run("evaluate", EXAMPLE, "--format", "markdown").stdout.splitlines()
    assert table[0] == "Certificate strategy for Contoso Inc (Exchange SE, from 2026-12-01, 3 years, money in USD)"
    assert markdown[:3] == ["# Certificate strategy for Contoso Inc", "", "Exchange SE, from 2026-12-01, 3 years, "
                                                                        "money in USD."]
    refused = "Internal names a public CA refuses: contoso.local, server01.contoso.local, server01"
    assert refused in table and refused in markdown


def test_names_acme_cannot_validate_by_http_01_are_not_called_refused_by_a_public_ca(tmp_path):
    """QA: with ACME recommended and no DNS API, public internal names (corp.gamma.co.uk) were listed as "Refused by a
    public CA"; a CA that validates by DNS or e-mail issues them. Each rule's names under its own title."""
    path = tmp_path / "g.yaml"
    path.write_text("org: Gamma\nexternal_domain: gamma.co.uk\ninternal_domain: corp.gamma.co.uk\ninternal_names: true\n"
                    "servers: [EXCH]\nusers: 50\nacme_ok: true\ndns_api: false\nstart: 2026-12-01\n")
    assert json.loads(run("evaluate", path, "--format", "json").stdout)["recommendation"]["option"] == "acme"
    for fmt in ("table", "markdown"):
        out = run("evaluate", path, "--format", fmt).stdout
        assert "Names ACME cannot validate by HTTP-01: corp.gamma.co.uk, exch.corp.gamma.co.uk" in out, fmt
        assert "Internal names a public CA refuses: exch" in out and "Refused by a public CA" not in out, fmt


def test_markdown_escapes_the_organisation_and_fences_its_commands():
    """An org name is shown literally, as the appendix shows it: no HTML, link or emphasis from a profile; the
    commands that carry it are fenced longer than any backtick run in them."""
    from decision import evaluate
    from decision.report import render

    org = "Evil <script>alert(1)</script> [l](http://e.vil) ``` *x*"
    profile = {**yaml.safe_load((ROOT / "data" / "profiles" / "contoso-2007.yaml").read_text()), "org": org}
    text = render(evaluate(profile), "markdown")
    assert text.splitlines()[0] == ("# Certificate strategy for Evil \\<script\\>alert(1)\\</script\\> "
                                    "\\[l\\](http://e.vil) \\`\\`\\` \\*x\\*")
    prose = re.sub(r"(?ms)^(`{3,}).*?^\1$", "", text)  # fenced code shows text literally
    assert "<script>" in text and "<script>" not in prose and not re.search(r"(?<!\\)\]\(", prose)  # no link
    shell = text.split("## Exchange Management Shell\n\n````powershell\n", 1)[1].split("\n````\n", 1)[0]
    assert f"-FriendlyName '{org} san'" in shell


def test_bad_profile_gives_one_line_per_problem_and_no_traceback(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("org: A\nexternal_domain: -bad-\nusers: -2\nca: entrus\nexchange_version: 2003\n")
    result = python("evaluate", str(path))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 4 and all(line.startswith(f"error: {path}, row 1, field '") for line in lines)
    assert "did you mean 'entrust'" in result.stderr


def test_a_currency_sign_is_refused_naming_its_code_and_weights_may_be_percentages(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("org: A\nexternal_domain: a.com\nusers: 5\ncurrency: €\n", encoding="utf-8")
    result = run("evaluate", path)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (f"error: {path}, row 1, field 'currency': not an ISO 4217 currency code "
                             "(did you mean 'EUR'?) (got '€')\n")
    path.write_text("org: A\nexternal_domain: a.com\nusers: 5\ncurrency: ' eur '\n"
                    "weights: {cost: 40%, trust: 30%, reconfiguration: 20%, url_change: 10%}\n", encoding="utf-8")
    data = json.loads(run("evaluate", path, "--format", "json").stdout)
    assert data["profile"]["currency"] == "EUR"
    assert [data["profile"][f"w_{k}"] for k in ("cost", "trust", "reconfiguration", "url_change")] == [0.4, 0.3, 0.2, 0.1]


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


def test_a_file_of_several_profiles_is_refused_not_cut_to_its_first(tmp_path):
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump([yaml.safe_load(Path(EXAMPLE).read_text()),
                                    {"org": "B", "external_domain": "b.com", "users": 5}]))
    result = python("evaluate", str(path))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (f"error: {path}: 2 profiles in the file; evaluate is for one profile (score them all "
                             "with: python -m decision score)\n")


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



def test_versions_name_and_hash_the_data_files_used(tmp_path):
    """QA: `versions` was the same for two catalogs that differ in one price (only their 'as of' dates were stamped)."""
    def sha(path: Path) -> str:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]

    cas = yaml.safe_load((ROOT / "data/cas.yaml").read_text())
    stamps = []
    for price in (30, 900):
        next(ca for ca in cas["cas"] if ca["id"] == "sectigo")["prices"]["san_base"] = price
        (tmp_path / f"c{price}.yaml").write_text(yaml.safe_dump(cas))
        data = json.loads(run("evaluate", EXAMPLE, "--format", "json", "--catalog", str(tmp_path / f"c{price}.yaml")).stdout)
        stamps.append(data["versions"])
    assert stamps[0]["catalog_sha256"] == sha(tmp_path / "c30.yaml") != stamps[1]["catalog_sha256"] == sha(tmp_path / "c900.yaml")
    assert [s["catalog_file"] for s in stamps] == ["c30.yaml", "c900.yaml"]
    assert {s["catalog_source"] for s in stamps} == {"custom"} and {s["parameters_source"] for s in stamps} == {"shipped"}
    shipped = json.loads(run("evaluate", EXAMPLE, "--format", "json").stdout)["versions"]
    assert shipped == {"engine": ENGINE_VERSION, "parameters_as_of": "2026-11-26", "parameters_file": "data/parameters.yaml",
                       "parameters_source": "shipped", "parameters_sha256": sha(ROOT / "data/parameters.yaml"),
                       "catalog_as_of": "2026-11-26", "catalog_file": "data/cas.yaml", "catalog_source": "shipped",
                       "catalog_sha256": sha(ROOT / "data/cas.yaml"), "profile_hash": shipped["profile_hash"]}
    assert data_stamp(shipped) == (f"Engine {ENGINE_VERSION} · parameters data/parameters.yaml (shipped, as of 2026-11-26, "
                                   f"SHA-256 {shipped['parameters_sha256']}) · CA catalog data/cas.yaml (shipped, as of "
                                   f"2026-11-26, SHA-256 {shipped['catalog_sha256']})")  # the app's caption

@pytest.mark.parametrize(("ca_id", "lifetime", "reason"), [
    ("zerossl", 0, "lifetime_days: a certificate lifetime must be at least 6 days (got 0)"),
    ("zerossl", 0.5, "lifetime_days: a certificate lifetime must be at least 6 days (got 0.5)"),
    ("zerossl", 2, "lifetime_days: a certificate lifetime must be at least 6 days (got 2)"),
    ("zerossl", -30, "lifetime_days: a certificate lifetime must be at least 6 days (got -30)"),
    ("zerossl", float("nan"), "lifetime_days must be null, a parameter name or a number of days (got nan)"),
    ("zerossl", True, "lifetime_days must be null, a parameter name or a number of days (got True)"),
    ("adcs", "letsencrypt_lifetime_days",
     "lifetime_days must be a number of days (the validity of its certificate template) (got 'letsencrypt_lifetime_days')"),
    ("adcs", None, "lifetime_days must be a number of days (the validity of its certificate template) (got None)"),
], ids=["zero", "half-a-day", "two-days", "negative", "nan", "bool", "private-named", "private-null"])
def test_a_catalog_lifetime_the_renewal_calendar_cannot_use_is_refused_naming_the_ca(tmp_path, ca_id, lifetime, reason):
    """0, 0.5 or -30 days (and a parameter name for a private CA) stopped evaluate with an internal-error traceback;
    NaN printed a recommendation built on no lifetime. Each is now one line naming the CA and the field."""
    cas = yaml.safe_load((ROOT / "data/cas.yaml").read_text())
    next(ca for ca in cas["cas"] if ca["id"] == ca_id)["lifetime_days"] = lifetime
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cas))
    result = run("evaluate", EXAMPLE, "--format", "json", "--catalog", str(tmp_path / "c.yaml"))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == f"error: {tmp_path / 'c.yaml'}, field 'cas.{ca_id}': {reason}\n"


# ------------------------------------------------------------------------- wildcard: one certificate per domain
def wildcard_deployment(data: dict) -> tuple[dict, list[str], list[str]]:
    """(row, first issuance's commands without the renewal block after them, DNS records) of the wildcard option."""
    option = next(o for o in data["options"] if o["option"] == "wildcard")
    lines = list(itertools.takewhile(lambda c: not c.startswith("# ===== each renewal"), data["commands"]["wildcard"]))
    return option, lines, data["dns_records"]["wildcard"]


def requested(commands: list[str]) -> list[list[str]]:
    """The names of each certificate the commands request (by hand or through the ACME client)."""
    found = [re.search(r" -DomainName (.*?) -FriendlyName ", c) or re.search(r"^\.\\wacs\.exe .*?--host (\S+)", c)
             for c in commands]
    return [re.split(r",\s*", m.group(1)) for m in found if m]


def check_one_certificate_per_domain(data: dict) -> None:
    wildcard, commands, dns = wildcard_deployment(data)
    profile = data["profile"]
    domains = [profile["external_domain"], *profile["extra_domains"]]
    certificates = requested(commands)
    assert len(certificates) == wildcard["certificates"] == len(domains), certificates
    assert sorted(n for c in certificates for n in c) == sorted(wildcard["names"])
    for names in certificates:  # each request: one domain's wildcard (and its bare name when the names say so)
        assert len({n.removeprefix("*.") for n in names}) == 1 and sum(n.startswith("*.") for n in names) == 1, names
    first = certificates[0][0].removeprefix("*.")
    owa = profile["owa_host"]
    assert first in (owa, owa.partition(".")[2])  # the certificate IIS serves by default covers OWA (*.d: d and x.d)
    enabled = [c for c in commands
               if c.startswith("Enable-ExchangeCertificate") or (c.startswith(WACS) and "ImportExchange.ps1" in c)]
    assert enabled and all("IIS" in c for c in enabled)
    acme = any(c.startswith(WACS) for c in commands)
    assert len(enabled) == (1 if acme else len(profile["servers"]) or 1)  # the first certificate only
    for domain in [n[0].removeprefix("*.") for n in certificates[1:]]:
        host = f"autodiscover.{domain}"
        bound = [c for c in commands if (c.startswith("New-WebBinding ") and f"-HostHeader {host}" in c)
                 or (c.startswith("# IIS Manager: new web site") and f"bind the *.{domain} certificate" in c)]  # IIS 6
        assert len(bound) == 1, host
        assert f"{host}. CNAME {profile['owa_host']}." in dns or any(r.startswith(f"{host}. A <public IP for") for r in dns)


def test_wildcard_commands_request_the_certificates_the_engine_costs():
    data = json.loads(run("evaluate", str(ROOT / "data/profiles/enterprise-hybrid.yaml"), "--format", "json").stdout)
    check_one_certificate_per_domain(data)
    _, commands, dns = wildcard_deployment(data)
    for domain in ("woodgrovebank.com", "woodgrove.co.uk", "fineartschool.net"):  # Exchange SE: SNI on the shared IP
        assert any(f"-HostHeader autodiscover.{domain} -SslFlags 1" in c for c in commands)
        assert f"autodiscover.{domain}. CNAME mail.woodgrove.com." in dns
        assert any(f".AddSslCertificate('<thumbprint of the *.{domain} certificate>', 'My')" in c for c in commands)
    assert not any("*.woodgrove.com, " in c for c in commands)  # no multi-domain wildcard request


@pytest.mark.parametrize("export", ["exse-contoso.json", "exse-contoso.txt"])
def test_wildcard_commands_match_the_costed_certificates_for_an_imported_export(export, tmp_path):
    out = tmp_path / "profile.yaml"
    assert run("import", str(ROOT / "tests/data/exchange" / export), "-o", str(out)).returncode == 0
    data = json.loads(run("evaluate", str(out), "--format", "json").stdout)
    assert wildcard_deployment(data)[0]["certificates"] == 2
    check_one_certificate_per_domain(data)


def evaluated(tmp_path: Path, profile: str) -> dict:
    """`evaluate --format json` of a profile written as YAML text."""
    path = tmp_path / "p.yaml"
    path.write_text(profile)
    return json.loads(run("evaluate", str(path), "--format", "json").stdout)


def test_acme_wildcards_run_the_client_once_per_domain_and_only_the_first_takes_iis(tmp_path):
    data = evaluated(tmp_path, "org: A\nexternal_domain: a-corp.com\nextra_domains: [b-corp.com, c-corp.com]\nusers: 10\n"
                               "start: 2026-12-01\nacme_ok: true\ndns_api: true\nca: letsencrypt\nroot_on_exchange: true\n")
    check_one_certificate_per_domain(data)
    _, commands, _ = wildcard_deployment(data)
    runs = [c for c in commands if c.startswith(WACS)]
    assert "--host *.a-corp.com,a-corp.com " in runs[0] and "--installation iis,script" in runs[0]
    assert all("--installation iis --installationsiteid 1" in r and "ImportExchange" not in r for r in runs[1:])


@pytest.mark.parametrize(("version", "start"), [("2010", "2012-06-01"), ("2007", "2009-06-01")])
def test_wildcards_without_sni_bind_each_further_domain_on_its_own_ip_and_pay_for_it(tmp_path, version, start):
    def evaluate_json(**extra: object) -> dict:
        return evaluated(tmp_path, yaml.safe_dump({"org": "Litware", "exchange_version": version, "start": start,
                                                   "users": 100, "external_domain": "litwareinc.com",
                                                   "extra_domains": ["litware.co.uk", "litware.de"], **extra}))

    data = evaluate_json()
    check_one_certificate_per_domain(data)
    wildcard, commands, dns = wildcard_deployment(data)
    for domain in ("litware.co.uk", "litware.de"):
        assert f"autodiscover.{domain}. A <public IP for autodiscover.{domain}>" in dns
        assert any(f"<public IP for autodiscover.{domain}>" in c for c in commands)
    assert "extra_ip" in [r["code"] for r in wildcard["reasons"]]
    single = wildcard_deployment(evaluate_json(extra_domains=[]))[0]
    spare = wildcard_deployment(evaluate_json(spare_ip=True))[0]
    ip_year = yaml.safe_load((ROOT / "data/parameters.yaml").read_text())["parameters"]["extra_ip_per_month"]["value"] * 12
    fees = data["profile"]["horizon_years"] * ip_year
    labour_and_fees = wildcard["cost_total"] - 2 * fees
    assert spare["cost_total"] == pytest.approx(labour_and_fees + fees)  # the spare IP serves one further domain
    assert single["cost_total"] < labour_and_fees and "extra_ip" not in [r["code"] for r in single["reasons"]]


@pytest.mark.parametrize(("owa", "first"), [("mail.b-corp.com", ["*.b-corp.com"]),
                                           ("b-corp.com", ["*.b-corp.com", "b-corp.com"])])
def test_the_wildcard_covering_the_owa_host_is_the_one_enabled_for_iis(tmp_path, owa, first):
    """OWA at b-corp.com is served by the *.b-corp.com certificate, which names the bare domain too (*.b-corp.com does
    not cover b-corp.com)."""
    data = evaluated(tmp_path, f"org: A\nexternal_domain: a-corp.com\nextra_domains: [b-corp.com]\nowa_host: {owa}\n"
                               "users: 10\nstart: 2026-12-01\nservers: [EX1, EX2]\n")
    check_one_certificate_per_domain(data)
    assert requested(wildcard_deployment(data)[1]) == [first, ["*.a-corp.com"]]
