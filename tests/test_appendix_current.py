"""The appendix with the certificates in place (QA s14 B): `appendix --export` and `content(current=...)`."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path

import yaml
from click.testing import CliRunner
from docx import Document

from decision import evaluate
from decision.appendix import build, content
from decision.appendix.command import appendix_command
from decision.appendix.model import Bullets, Subheading, Table
from decision.current_state import assess
from decision.dates import from_day, horizon_end_day
from decision.exchange_import import parse_export, profile_from_export

ROOT = Path(__file__).resolve().parent.parent
EXPORTS = ROOT / "tests" / "data" / "exchange"
DAY = dt.date(2026, 11, 28)


def _profile(tmp_path: Path, export: str) -> Path:
    profile, _ = profile_from_export(parse_export((EXPORTS / export).read_bytes(), export))
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump({**profile, "users": profile.get("users", 300)}), encoding="utf-8")
    return path


def _state(ev, export: str, today: dt.date = DAY):
    row = ev.profiles.iloc[0]
    end = from_day(horizon_end_day(int(row["start"]), float(row["horizon_years"])))
    return assess(parse_export((EXPORTS / export).read_bytes(), export), ev.params, ev.catalog, today=today,
                  horizon_end=end, start=from_day(int(row["start"])))


def _section2(model):
    return model.sections[1].blocks


def test_the_certificates_in_place_are_section_2_1_with_every_finding_and_certificate(tmp_path):
    ev = evaluate(_profile(tmp_path, "exse-contoso.json"))
    state = _state(ev, "exse-contoso.json")
    blocks = _section2(content(ev, current=state, generated=DAY))
    start = next(k for k, b in enumerate(blocks) if isinstance(b, Subheading))
    assert (blocks[start].number, blocks[start].title) == ("2.1", "The certificates in place today")
    [findings] = [b for b in blocks[start:] if isinstance(b, Bullets)]
    assert ["".join(r.text for r in p.runs if not r.bold).strip() for p in findings.items] == [
        f.text for f in state.findings]
    # leads by level, not by time: a warning can be due now ('replace it now (overdue)'), so not 'Inside the horizon'
    assert [p.runs[0].text for p in findings.items if p.runs[0].bold] == (
        ["Problem now:"] * sum(f.level == "error" for f in state.findings)
        + ["To act on:"] * sum(f.level == "warning" for f in state.findings))
    [table] = [b for b in blocks[start:] if isinstance(b, Table)]
    assert [r[0] for r in table.rows] == [r["certificate"] for r in state.certificate_rows()]
    assert "expired 20 days ago" in {r[5] for r in table.rows}  # CN=EX02 expired on 2026-11-08


def test_2_1_tells_the_client_about_an_acme_only_ca_and_the_tool_user_what_to_set(tmp_path):
    """QA 18a fault 3a: 2.1 (and the app's Current state panel) read "... set acme_ok (the import leaves it at its
    default, off)": a profile field id and an instruction about the import, in the client's document. 2.1 says what
    it means for the client; the app and the import command's lines add what to set."""
    ev = evaluate(_profile(tmp_path, "exse-contoso.json"))
    state = _state(ev, "exse-contoso.json")
    [acme] = [f for f in state.findings if "only through ACME" in f.text]
    assert acme.text == ("Let's Encrypt (ISRG) issues only through ACME, so an ACME client on the server likely renews "
                         "the certificate: the ACME option counts as allowed only where the organisation confirms that "
                         "policy and network allow one.")
    page = build(ev, 0, "md", generated=DAY, current=state).decode()
    # Table 2 lists the profile by field (its own matter); no sentence before the stamp names one
    prose = [line for line in page.split("## 8.")[0].splitlines() if not line.startswith("| acme_ok |")]
    assert acme.text in page and not [line for line in prose if "acme_ok" in line]
    assert "the import leaves it" not in page
    assert acme.for_user == (f"{acme.text} If one does, switch on ACME ok (profile field acme_ok): the import leaves it "
                             "at its default, off.")
    assert f"info: {acme.for_user}" in state.lines()


def test_the_summary_points_to_2_1_only_when_something_needs_action(tmp_path):
    ev = evaluate(_profile(tmp_path, "exse-contoso.json"))
    summary = " ".join(b.text for b in content(ev, current=_state(ev, "exse-contoso.json"), generated=DAY)
                       .sections[0].blocks[-1].items)
    assert re.search(r"show 2 problems that clients or services have now and 2 other things to act on: see 2\.1\.",
                     summary)
    plain = content(ev, generated=DAY)
    assert not [b for b in _section2(plain) if isinstance(b, Subheading)]
    texts = [t for s in plain.sections for b in s.blocks
             for t in ([i.text for i in b.items] if isinstance(b, Bullets) else [getattr(b, "text", "")])]
    assert any("Dated lifetime rules shorten" in t for t in texts)  # the points to note are read
    assert not any("see 2.1" in t for t in texts)


def test_without_an_export_the_appendix_has_no_current_state_stamp_or_export_option(tmp_path):
    ev = evaluate(_profile(tmp_path, "ex2016-contoso.json"))
    without = build(ev, 0, "html", generated=DAY).decode()
    with_export = build(ev, 0, "html", generated=DAY, current=_state(ev, "ex2016-contoso.json")).decode()
    for text in ("The certificates in place today", "Certificates in place (2.1)", "--export export.json"):
        assert text in with_export and text not in without


def test_the_command_reads_the_export_on_the_generation_date_and_says_how_to_reproduce(tmp_path):
    profile = _profile(tmp_path, "exse-contoso.json")
    out = tmp_path / "a.docx"
    result = CliRunner().invoke(appendix_command, [str(profile), "-o", str(out), "--date", "2026-11-28",
                                                   "--export", str(EXPORTS / "exse-contoso.json")])
    assert result.exit_code == 0, result.output
    text = "\n".join(p.text for p in Document(io.BytesIO(out.read_bytes())).paragraphs)
    assert "2.1 The certificates in place today" in text
    assert "as read on 28 November 2026" in text
    assert ("python -m decision appendix profile.yaml -o appendix.docx --export export.json --date 2026-11-28"
            in text)
    later = tmp_path / "b.docx"  # the same export read a month later: the self-signed certificate expired longer ago
    CliRunner().invoke(appendix_command, [str(profile), "-o", str(later), "--date", "2026-12-28",
                                          "--export", str(EXPORTS / "exse-contoso.json")])
    cells = {c.text for t in Document(io.BytesIO(later.read_bytes())).tables for r in t.rows for c in r.cells}
    assert "expired 50 days ago" in cells


def test_an_unreadable_export_is_one_error_and_writes_nothing(tmp_path):
    profile = _profile(tmp_path, "exse-contoso.json")
    junk = tmp_path / "junk.json"
    junk.write_text("{not json", encoding="utf-8")
    for export, reason in ((junk, "junk.json"), (tmp_path / "missing.json", "cannot read")):
        out = tmp_path / "a.html"
        result = CliRunner().invoke(appendix_command, [str(profile), "-o", str(out), "--export", str(export)])
        assert result.exit_code == 2 and reason in result.output and "Traceback" not in result.output
        assert not out.exists()


def test_another_organisations_export_is_refused_and_nothing_written(tmp_path):
    """QA 18c 4: no accepted domain and no server in common with the profile: another client's export."""
    out = tmp_path / "a.md"
    contoso = str(ROOT / "data" / "profiles" / "contoso-2026.yaml")
    result = CliRunner().invoke(appendix_command, [contoso, "-o", str(out), "--export",
                                                   str(EXPORTS / "ex2013-fabrikam.json")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "another organisation's export" in result.output and "fabrikam.com" in result.output
    assert "contoso.com" in result.output and "MBX01" in result.output
    assert not list(tmp_path.iterdir())


def test_an_appendix_dated_before_the_export_was_collected_says_so(tmp_path):
    """QA 18c: `--date` before the export's collection showed, 'on' that day, certificates issued after it."""
    contoso = str(ROOT / "data" / "profiles" / "contoso-2026.yaml")
    export = str(EXPORTS / "exse-contoso.json")  # collected 2026-11-19
    for day, warned in (("2026-10-01", True), ("2026-11-19", False), ("2026-11-28", False)):
        result = CliRunner().invoke(appendix_command, [contoso, "-o", str(tmp_path / "a.md"), "--export", export,
                                                       "--date", day])
        assert result.exit_code == 0, result.output
        said = f"was collected on 2026-11-19, after the appendix's date {day}"
        assert (said in result.stderr) is warned, result.stderr


def _edited(tmp_path: Path, **change) -> Path:
    path = tmp_path / "profile.yaml"
    profile = yaml.safe_load((ROOT / "data" / "profiles" / "contoso-2026.yaml").read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump({**profile, **change}), encoding="utf-8")
    return path


def test_an_export_sharing_a_domain_or_a_server_with_the_profile_is_taken(tmp_path):
    fabrikam = str(EXPORTS / "ex2013-fabrikam.json")
    for change in ({"extra_domains": ["tailspintoys.com"]}, {"servers": ["SERVER01", "mbx01"]},
                   {"external_domain": "fabrikam.com"}):
        out = tmp_path / "a.md"
        result = CliRunner().invoke(appendix_command, [str(_edited(tmp_path, **change)), "-o", str(out),
                                                       "--export", fabrikam, "--date", "2026-11-28"])
        assert result.exit_code == 0, (change, result.output)
        assert "webmail.fabrikam.com" in out.read_text(encoding="utf-8")
        out.unlink()


def _contoso_2016(tmp_path: Path, change) -> Path:
    """ex2016-contoso.json after `change(data)`, written to a file."""
    data = json.loads((EXPORTS / "ex2016-contoso.json").read_text(encoding="utf-8-sig"))
    change(data)
    path = tmp_path / "export.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _appendix_text(tmp_path: Path, profile: Path, export: Path) -> str:
    out = tmp_path / "a.docx"
    result = CliRunner().invoke(appendix_command, [str(profile), "-o", str(out), "--date", "2026-11-28",
                                                   "--export", str(export)])
    assert result.exit_code == 0, result.output
    return "\n".join(p.text for p in Document(io.BytesIO(out.read_bytes())).paragraphs)


def test_an_export_whose_certificates_were_not_collected_shows_an_unknown_state_not_problems(tmp_path):
    """The certificate commands failed: 2.1 and the points to note told the client of 4 problems now, names 'on no
    certificate' (QA 18c fault 2). Now 2.1 says the state is unknown and why; the how-to of the import is not in it."""
    def failed(data: dict) -> None:
        data["certificates"] = []
        data["errors"] = [{"Command": f"Get-ExchangeCertificate -Server {s}", "Message": "Access denied"}
                          for s in ("EX01", "EX02")]

    text = _appendix_text(tmp_path, _profile(tmp_path, "ex2016-contoso.json"), _contoso_2016(tmp_path, failed))
    assert ("To act on: The certificates on EX01 and EX02 were not collected (Get-ExchangeCertificate -Server EX01: "
            "Access denied; Get-ExchangeCertificate -Server EX02: Access denied): their state is unknown, so the names "
            "they serve were not checked.") in text
    assert "as read on 28 November 2026: no certificates, so their state could not be assessed." in text  # '0 certificates'
    assert "Problem now" not in text and "on no certificate" not in text
    assert "problems that clients or services have now" not in text
    assert "import again" not in text  # the tool user's how-to


def test_2_1_names_the_server_whose_iis_lacks_the_certificate_and_a_name_on_the_own_ca(tmp_path):
    """QA 18c faults 1 and 5: EX02 without the DigiCert certificate; Fabrikam's external name on its AD CS certificate."""
    def ex01_only(data: dict) -> None:
        data["certificates"] = [c for c in data["certificates"]
                                if (c["Thumbprint"], c["Server"]) != ("5113AE0233A72FCCB75BE6A91B1F2CB5A1C2F0E7", "EX02")]

    text = _appendix_text(tmp_path, _profile(tmp_path, "ex2016-contoso.json"), _contoso_2016(tmp_path, ex01_only))
    assert re.search(r"Problem now: mail\.contoso\.com \(OWA external URL, .* on EX02\) is on no certificate bound to "
                     r"IIS on EX02: clients that reach EX02 by it see a certificate warning; the DigiCert .* certificate "
                     r"that covers it on EX01 \(CN=mail\.contoso\.com, .*\) is not installed on EX02\.", text)
    fabrikam = _appendix_text(tmp_path, _profile(tmp_path, "ex2013-fabrikam.json"), EXPORTS / "ex2013-fabrikam.json")
    assert re.search(r"To act on: webmail\.fabrikam\.com \(OWA external URL, .*\) is on a certificate of the "
                     r"organisation's own CA: phones and computers outside the domain see a warning unless they were "
                     r"given its root certificate\.", fabrikam)
