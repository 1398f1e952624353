"""`python -m decision import EXPORT -o PROFILE.yaml`: exit codes, messages, no traceback, output `evaluate` takes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import decision
from decision.cli import main
from decision.exchange_import import parse_export, profile_from_export

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "exchange"
COUNTED = ["ex2013-fabrikam.json", "ex2016-contoso.json", "ex2016-contoso.txt", "exse-contoso.json", "exse-contoso.txt"]


def run(*args: str | Path):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def imported(tmp_path: Path, name: str, *extra: str):
    out = tmp_path / "profile.yaml"
    return run("import", DATA / name, "-o", out, *extra), out


@pytest.mark.parametrize("name", COUNTED)
def test_an_export_with_a_mailbox_count_gives_a_profile_evaluate_takes(tmp_path, name):
    result, out = imported(tmp_path, name)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout.startswith(f"Wrote {out}: ")
    assert f"Next: python -m decision evaluate {out}" in result.stdout
    expected, _ = profile_from_export(parse_export((DATA / name).read_bytes(), name))
    assert yaml.safe_load(out.read_text()) == expected  # only what the export shows: the rest stays at its defaults
    ev = decision.evaluate(out)
    assert ev.issues == []
    row = ev.profiles.iloc[0]
    assert (row["users"], row["mobile_devices"], row["desktops"]) == (expected["users"], expected["mobile_devices"],
                                                                      expected["users"])
    assert len(ev.option_rows(0)) == 7


def test_notes_are_comments_at_the_top(tmp_path):
    _, out = imported(tmp_path, "ex2016-contoso.json")
    text = out.read_text()
    header = text[: text.index("\n\norg: ")].splitlines()  # comments, a blank line, then the fields
    assert all(line.startswith("#") for line in header)
    assert header[0] == f"# CertStrategy profile, imported by `python -m decision import` on {header[0].rsplit(' ', 1)[1]}"
    assert "# from ex2016-contoso.json (collect-exchange.ps1 JSON, collected 2026-11-18T16:42:07Z)." in header
    comments = " ".join(line.lstrip("#- ") for line in header)
    assert "users: 1250 user mailboxes, counted by Get-Mailbox -ResultSize Unlimited -RecipientTypeDetails UserMailbox" \
        in comments
    assert "desktops, domain_joined_share, mdm_share:" in comments and "the defaults apply" in comments
    assert "acme_ok, dns_api, spare_ip:" in comments


def test_the_split_dns_and_subject_notes_are_in_the_header_and_the_commands_use_the_subject(tmp_path):
    """QA s14 fault 2 and I: split_dns was set false silently; the old certificate's O= and C= were ignored."""
    result, out = imported(tmp_path, "ex2013-fabrikam.json")
    assert result.exit_code == 0, result.output
    text = out.read_text()
    comments = " ".join(line.lstrip("#- ") for line in text[: text.index("\n\norg: ")].splitlines())
    assert "split_dns: the internal URLs use mbx01.fabrikam.local, no external name" in comments
    assert "Set split_dns: false if internal DNS cannot hold fabrikam.com" in comments
    assert "org, country: Fabrikam and US, the O= and C= of the CA-issued certificate in use" in comments
    profile = yaml.safe_load(text)
    assert "split_dns" not in profile and (profile["org"], profile["country"]) == ("Fabrikam", "US")
    evaluated = run("evaluate", out, "--format", "json")
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads(evaluated.stdout)["profile"]["split_dns"] is True
    assert "C=US, O=Fabrikam, CN=webmail.fabrikam.com" in evaluated.stdout  # the request's subject
    assert "-InternalUrl https://webmail.fabrikam.com/owa" in evaluated.stdout  # the internal URLs move


def test_the_current_state_is_printed(tmp_path):
    result, _ = imported(tmp_path, "exse-contoso.txt")
    assert "error: ex02.contoso.com (EWS internal URL) is on no certificate bound to IIS" in result.stdout
    assert "error: CN=EX02 (self-signed; IMAP, POP, SMTP on EX02) expired on 2026-11-08 and is still enabled." in result.stdout
    assert "CN=mail.contoso.com (Let's Encrypt (ISRG); IIS, SMTP on EX01, EX02) expires 2027-01-18" in result.stdout


def test_without_a_usable_mailbox_count_the_profile_is_written_with_users_marked_and_exit_1(tmp_path):
    result, out = imported(tmp_path, "ex2010-litware.txt")
    assert result.exit_code == 1
    assert out.exists()
    assert "users:    # REQUIRED: the number of mailbox users." in out.read_text()
    assert yaml.safe_load(out.read_text())["users"] is None
    assert f"error: {out}: `users` (the number of mailbox users) is empty: the count 1000 from " \
           "'Get-Mailbox | Measure-Object' was not used" in result.stderr
    assert "Fill it in, or import again with --users N." in result.stderr
    assert "users: REQUIRED, not set" in result.stdout
    ev = decision.evaluate(out)  # evaluate refuses it by name instead of using a made-up number
    assert ev.profiles.empty and [(i.field, i.reason) for i in ev.issues] == [("users", "required field is empty")]


def test_users_can_be_given_on_the_command_line(tmp_path):
    result, out = imported(tmp_path, "ex2010-litware.txt", "--users", "480", "--org", "Litware Inc")
    assert result.exit_code == 0, result.output
    profile = yaml.safe_load(out.read_text())
    assert (profile["users"], profile["org"], profile["mobile_devices"]) == (480, "Litware Inc", 212)
    assert "# - users: 480, given with --users." in out.read_text()
    assert decision.evaluate(out).issues == []
    result, out = imported(tmp_path, "ex2016-contoso.json", "--users", "900")
    assert "# - users: 900, given with --users (the export counted 1250)." in out.read_text()


def test_an_older_export_without_counts_says_how_to_get_them(tmp_path):
    data = json.loads((DATA / "ex2016-contoso.json").read_text())
    del data["counts"]
    export = tmp_path / "old.json"
    export.write_text(json.dumps(data))
    result = run("import", export, "-o", tmp_path / "p.yaml")
    assert result.exit_code == 1
    assert "the export has no count (collect again with the current collect-exchange.ps1, or paste the count)" \
        in result.stderr
    assert "mobile_devices" not in yaml.safe_load((tmp_path / "p.yaml").read_text())


def test_text_from_the_export_cannot_add_yaml_keys_through_the_notes(tmp_path):
    data = json.loads((DATA / "ex2016-contoso.json").read_text())
    del data["counts"]
    data["errors"] = [{"Command": "Get-Mailbox", "Message": "boom\nusers: 5\r\nmdm_share: 1\u2028ca: entrust"}]
    export = tmp_path / "hostile.json"
    export.write_text(json.dumps(data))
    result = run("import", export, "-o", tmp_path / "p.yaml")
    assert result.exit_code == 1
    written = yaml.safe_load((tmp_path / "p.yaml").read_text())
    assert written["users"] is None and "mdm_share" not in written and "ca" not in written


@pytest.mark.parametrize(("content", "message"), [
    (b"", "the export is empty"),
    (b"hello\nthis is not an export\n", "neither collect-exchange.ps1 JSON nor recognisable Format-List output"),
    (b"{\"servers\": [", "looks like JSON but cannot be read"),
    (b"\x00\x01\x02\xff" * 50, "neither collect-exchange.ps1 JSON nor"),
    (b'{"schema": "certstrategy-exchange-export/1"}', "no Exchange server with a readable AdminDisplayVersion"),
])
def test_an_unreadable_export_exits_2_with_one_message_and_writes_nothing(tmp_path, content, message):
    export = tmp_path / "export.json"
    export.write_bytes(content)
    result = run("import", export, "-o", tmp_path / "p.yaml")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and message in result.stderr and str(export) in result.stderr
    assert result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.json"]


def test_a_missing_export_or_output_folder_exits_2(tmp_path):
    result = run("import", tmp_path / "nope.json", "-o", tmp_path / "p.yaml")
    assert result.exit_code == 2 and "nope.json: cannot read: No such file or directory" in result.stderr
    result = run("import", DATA / "exse-contoso.json", "-o", tmp_path / "missing" / "p.yaml")
    assert result.exit_code == 2 and "p.yaml: cannot write" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["p.json", "p.txt", "p"])
def test_the_profile_must_be_written_as_yaml(tmp_path, name):
    """A profile written as p.json was then refused by the evaluate command the import suggested."""
    result = run("import", DATA / "exse-contoso.json", "-o", tmp_path / name)
    assert result.exit_code == 2 and "the profile is YAML: the file name must end in .yaml or .yml" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_export_is_never_overwritten(tmp_path):
    export = tmp_path / "export.json"
    shutil.copy(DATA / "exse-contoso.json", export)
    before = export.read_bytes()
    link = tmp_path / "link.json"
    link.symlink_to(export)
    for target in (export, tmp_path / "." / "export.json", link):
        result = run("import", export, "-o", target)
        assert result.exit_code == 2 and "is the export itself" in result.stderr
    assert export.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.json", "link.json"]


def test_an_existing_profile_is_replaced_whole(tmp_path):
    out = tmp_path / "profile.yaml"
    out.write_text("old: content\n")
    os.chmod(out, 0o640)
    result = run("import", DATA / "ex2013-fabrikam.json", "-o", out)
    assert result.exit_code == 0
    assert yaml.safe_load(out.read_text())["org"] == "Fabrikam"  # the O= of the certificate in use
    assert oct(out.stat().st_mode & 0o777) == "0o640"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["profile.yaml"]  # no temporary file left


def test_the_real_command_line_import_then_evaluate(tmp_path):
    """`python -m decision import` and `evaluate` as a user runs them: exit codes, no traceback."""
    out = tmp_path / "contoso.yaml"

    def python(*args):
        return subprocess.run([sys.executable, "-m", "decision", *map(str, args)], capture_output=True, text=True,
                              cwd=ROOT, timeout=120)

    done = python("import", DATA / "ex2016-contoso.txt", "-o", out)
    assert done.returncode == 0 and "Traceback" not in done.stderr + done.stdout, done.stderr
    evaluated = python("evaluate", out, "--format", "json")
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["profile"]["users"] == 1250
    bad = python("import", tmp_path / "missing.txt", "-o", out)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr
    assert "import" in python("--help").stdout


def test_a_profile_the_engine_would_refuse_is_written_with_exit_1_and_the_problem_named(tmp_path):
    """An accepted domain that is no DNS name (an underscore) becomes an external domain validation refuses."""
    export = tmp_path / "underscore.json"
    text = (DATA / "ex2016-contoso.json").read_text(encoding="utf-8")
    export.write_text(text.replace('"DomainName":  "contoso.com"', '"DomainName":  "con_toso.com"'), encoding="utf-8")
    out = tmp_path / "profile.yaml"
    result = run("import", export, "-o", out)
    assert result.exit_code == 1
    assert f"error: {out}, row 1, field 'external_domain': not a valid DNS name" in result.stderr
    assert "will refuse it until the field(s) above are fixed" in result.stderr
    assert decision.evaluate(out).profiles.empty


@pytest.mark.parametrize("org", ["x" * 201, "Contoso\nLtd", "Contoso\tLtd"])
def test_an_org_the_profile_cannot_hold_is_refused_before_anything_is_written(tmp_path, org):
    """QA 18c: `--org` of two lines or over 200 characters was written, then refused by evaluate (exit 1): a value
    given on the command line is checked at once (exit 2, nothing written), as `appendix --firm` is."""
    result, out = imported(tmp_path, "ex2016-contoso.json", "--org", org)
    assert result.exit_code == 2 and not out.exists()
    assert "error: --org, field 'org': one line of at most 200 characters, without control characters; nothing " \
           "written" in result.stderr


@pytest.mark.parametrize(("prompt", "ends"), [("[ex01.contoso.com]: PS C:\\Users\\admin\\Documents> ", "\n"),
                                              ("[PS] C:\\Windows\\system32>", "\r\r\n")])
def test_a_remote_session_paste_or_doubled_line_ends_import_as_the_console_paste(tmp_path, prompt, ends):
    """QA 18c 6 and 7: the remote prompt is a prompt (not JSON), and \\r\\r\\n is one line end."""
    text = (DATA / "exse-contoso.txt").read_text(encoding="utf-8-sig")
    paste = tmp_path / "paste.txt"
    paste.write_bytes(text.replace("[PS] C:\\Windows\\system32>", prompt).replace("\n", ends).encode("utf-8"))
    result = run("import", paste, "-o", tmp_path / "paste.yaml")
    expected, _ = imported(tmp_path, "exse-contoso.txt")
    assert result.exit_code == 0 == expected.exit_code, result.output
    assert result.stdout.split("\n", 1)[1] == expected.stdout.split("\n", 1)[1].replace("profile.yaml", "paste.yaml")
    assert "users: 1180" in result.stdout and "on EX01, EX02" in result.stdout


def test_the_current_state_says_a_server_whose_certificates_were_not_collected_is_unknown_and_why(tmp_path):
    """EX02's certificate command failed: its internal name was printed as 'on no certificate bound to IIS', and the
    error was only a note at the top of the profile (QA 18c fault 2)."""
    data = json.loads((DATA / "ex2016-contoso.json").read_text(encoding="utf-8-sig"))
    data["certificates"] = [c for c in data["certificates"] if c["Server"] != "EX02"]
    data["errors"] = [{"Command": "Get-ExchangeCertificate -Server EX02", "Message": "Access denied"}]
    export = tmp_path / "export.json"
    export.write_text(json.dumps(data), encoding="utf-8")
    result = run("import", export, "-o", tmp_path / "profile.yaml")
    assert result.exit_code == 0, result.output
    assert ("  warning: The certificates on EX02 were not collected (Get-ExchangeCertificate -Server EX02: Access "
            "denied): its state is unknown, so the names it serves were not checked. Collect its certificates "
            "(Get-ExchangeCertificate -Server EX02) and import again.\n") in result.stdout
    assert "ex02.corp.contoso.local" not in result.stdout


def test_the_current_state_names_the_server_whose_iis_lacks_the_certificate(tmp_path):
    """The DigiCert certificate enabled on EX01 only (QA 18c fault 1)."""
    data = json.loads((DATA / "ex2016-contoso.json").read_text(encoding="utf-8-sig"))
    data["certificates"] = [c for c in data["certificates"] if not (c["Server"] == "EX02" and not c["IsSelfSigned"])]
    export = tmp_path / "export.json"
    export.write_text(json.dumps(data), encoding="utf-8")
    result = run("import", export, "-o", tmp_path / "profile.yaml")
    lines = [line for line in result.stdout.splitlines() if line.startswith("  error: mail.contoso.com")]
    assert len(lines) == 1 and lines[0].endswith(
        "on EX02) is on no certificate bound to IIS on EX02: clients that reach EX02 by it see a certificate warning; "
        "the DigiCert (incl. GeoTrust, Thawte, RapidSSL) certificate that covers it on EX01 (CN=mail.contoso.com, "
        "O=Contoso Ltd, L=Redmond, S=Washington, C=US) is not installed on EX02.")
