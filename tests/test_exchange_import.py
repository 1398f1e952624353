"""Importing an Exchange organisation's configuration (issue 7): decision.exchange_import."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decision.catalog import default_catalog
from decision.current_state import LEVELS, CurrentState, Finding, assess, issuer_ca
from decision.dates import to_day
from decision.exchange_import import (
    BUILDS_FILE,
    Count,
    ExchangeExport,
    ExportParseError,
    current_state,
    exchange_version_from_build,
    parse_export,
    profile_from_export,
    why_not_counted,
)
from decision.import_command import profile_yaml
from decision.parameters import default_parameters
from decision.profiles import FIELD_BY_NAME

DATA = Path(__file__).parent / "data" / "exchange"
TODAY = dt.date(2026, 11, 20)
HORIZON_END = dt.date(2029, 11, 20)

# design.md, "The profile (input contract)"
PROFILE_FIELDS = {
    "org", "exchange_version", "start", "horizon_years", "external_domain", "extra_domains",
    "internal_domain", "servers", "owa_host", "internal_names", "root_on_exchange", "country", "split_dns",
    "users", "desktops", "domain_joined_share", "mobile_devices", "mdm_share", "partner_tls",
    "internal_ca", "acme_ok", "dns_api", "spare_ip", "ca", "currency", "admin_rate", "user_rate",
    "w_cost", "w_trust", "w_reconfiguration", "w_url_change",
}  # fmt: skip

EXPECTED_PROFILES = {
    "ex2010-litware": {
        "org": "litwareinc.com",
        "exchange_version": "2010",
        "external_domain": "litwareinc.com",
        "extra_domains": ["litware.co.uk"],
        "internal_domain": "litware.local",
        "servers": ["EXCH01"],
        "owa_host": "mail.litwareinc.com",
        "internal_names": True,
        "root_on_exchange": False,
        "mobile_devices": 212,  # Get-ActiveSyncDevice; Get-Mailbox without -ResultSize Unlimited stopped at 1000
    },
    "ex2013-fabrikam": {
        "org": "Fabrikam",  # the O= and C= of the AD CS certificate in use
        "country": "US",
        "exchange_version": "2013",
        "external_domain": "fabrikam.com",
        "extra_domains": ["fabrikam.net", "tailspintoys.com"],
        "internal_domain": "fabrikam.local",
        "servers": ["MBX01"],
        "owa_host": "webmail.fabrikam.com",
        "internal_names": True,
        "root_on_exchange": True,
        "internal_ca": True,
        "users": 184,
        "mobile_devices": 57,
    },
    "ex2016-contoso": {
        "org": "Contoso Ltd",
        "country": "US",
        "exchange_version": "2016",
        "external_domain": "contoso.com",
        "extra_domains": ["fabrikam.com"],
        "internal_domain": "corp.contoso.local",
        "servers": ["EX01", "EX02"],
        "owa_host": "mail.contoso.com",
        "internal_names": True,
        "root_on_exchange": False,
        "split_dns": True,
        "users": 1250,
        "mobile_devices": 612,
    },
    "exse-contoso": {
        "org": "contoso.com",
        "exchange_version": "SE",
        "external_domain": "contoso.com",
        "extra_domains": ["fabrikam.com"],
        "internal_domain": "",
        "servers": ["EX01", "EX02"],
        "owa_host": "mail.contoso.com",
        "internal_names": False,
        "root_on_exchange": False,
        "split_dns": True,
        "partner_tls": True,
        "users": 1180,
        "mobile_devices": 655,
    },
}
SAMPLES = sorted(p.name for p in DATA.iterdir())


def load(name: str) -> ExchangeExport:
    return parse_export((DATA / name).read_bytes(), name)


def state(name: str) -> dict:
    return current_state(load(name), today=TODAY, horizon_end=HORIZON_END)


def test_samples_cover_versions_and_formats():
    assert {"ex2010-litware.txt", "ex2013-fabrikam.json", "ex2016-contoso.json", "ex2016-contoso.txt"} <= set(SAMPLES)
    assert {"exse-contoso.json", "exse-contoso.txt"} <= set(SAMPLES)


@pytest.mark.parametrize("name", SAMPLES)
def test_profile_fields(name):
    export = load(name)
    assert export.format == ("json" if name.endswith(".json") else "format-list")
    profile, notes = profile_from_export(export)
    assert profile == EXPECTED_PROFILES[name.rsplit(".", 1)[0]]
    assert set(profile) <= PROFILE_FIELDS
    assert sum(note.startswith("users:") for note in notes) == 1
    assert any("mdm_share" in note and "defaults apply" in note for note in notes)


@pytest.mark.parametrize("name", SAMPLES)
def test_imported_profile_passes_the_engine_validation(name):
    from decision.catalog import load_catalog
    from decision.errors import InputError
    from decision.parameters import load_parameters
    from decision.profiles import load_profiles

    params = load_parameters()
    catalog = load_catalog(params=params)
    profile, _ = profile_from_export(load(name))
    if "users" not in profile:  # the 2010 paste: its mailbox count was cut short at 1000
        with pytest.raises(InputError, match="users"):
            load_profiles(profile, params, catalog, today=TODAY)
        profile["users"] = 250
    result = load_profiles(profile, params, catalog, today=TODAY)
    assert result.issues == [] and len(result.frame) == 1
    assert result.frame.iloc[0]["desktops"] == profile["users"]  # the default: one desktop per user


def test_org_can_be_given():
    profile, notes = profile_from_export(load("ex2016-contoso.json"), org="Contoso Pharmaceuticals")
    assert (profile["org"], profile["country"]) == ("Contoso Pharmaceuticals", "US")  # given over the O=, C= still read
    assert [n for n in notes if n.startswith(("org", "country"))] == [
        "country: US, the C= of the CA-issued certificate in use (subject 'CN=mail.contoso.com, O=Contoso Ltd, "
        "L=Redmond, S=Washington, C=US', thumbprint 5113AE0233A72FCCB75BE6A91B1F2CB5A1C2F0E7)"]


@pytest.mark.parametrize(("name", "internal", "zone"), [
    ("ex2010-litware.txt", "exch01.litware.local", "litwareinc.com"),
    ("ex2013-fabrikam.json", "mbx01.fabrikam.local", "fabrikam.com"),
])
def test_internal_urls_on_the_server_fqdn_leave_split_dns_at_its_default_and_say_so(name, internal, zone):
    """QA s14: internal URLs on the server's FQDN are Exchange's default set-up, not a sign that internal DNS cannot
    answer the external names (split_dns is that capability), so the import left it false silently."""
    profile, notes = profile_from_export(load(name))
    assert "split_dns" not in profile
    [note] = [n for n in notes if n.startswith("split_dns:")]
    assert f"the internal URLs use {internal}, no external name" in note
    assert "the default (true) applies" in note
    assert f"Set split_dns: false if internal DNS cannot hold {zone} (or a zone for {profile['owa_host']} alone)" in note


def test_the_split_dns_note_reads_the_fields_default_and_claims_no_move_for_every_option(monkeypatch):
    """rev14 D: the note hard-coded "(true)" and said "the commands move the internal URLs to the external names",
    which the options whose certificates keep the internal names (san, acme, internal_ca) do not do."""
    _, notes = profile_from_export(load("ex2013-fabrikam.json"))
    [note] = [n for n in notes if n.startswith("split_dns:")]
    assert "the commands move" not in note
    assert ("the default (true) applies, and the options whose certificates do not carry the internal URLs' names "
            "move those URLs to the external names." in note)
    field = FIELD_BY_NAME["split_dns"]
    monkeypatch.setitem(FIELD_BY_NAME, "split_dns", dataclasses.replace(field, default=False))
    _, notes = profile_from_export(load("ex2013-fabrikam.json"))
    [note] = [n for n in notes if n.startswith("split_dns:")]
    assert "the default (false) applies. Set split_dns: true if internal DNS can hold fabrikam.com" in note
    assert "move" not in note  # without split DNS no option moves the internal URLs (commands.py)


@pytest.mark.parametrize("name", ["ex2016-contoso.json", "exse-contoso.txt"])
def test_internal_urls_on_external_names_show_split_dns_and_say_so(name):
    profile, notes = profile_from_export(load(name))
    assert profile["split_dns"] is True
    [note] = [n for n in notes if n.startswith("split_dns:")]
    assert note.startswith("split_dns: true: internal URLs already use autodiscover.contoso.com, mail.contoso.com, so "
                           "internal DNS answers the external names (other internal URLs use ")


def test_without_internal_urls_split_dns_keeps_its_default():
    data = json.loads((DATA / "ex2013-fabrikam.json").read_text())
    data["virtual_directories"], data["outlook_anywhere"], data["client_access"] = [], [], []
    profile, notes = profile_from_export(parse_export(json.dumps(data)))
    assert "split_dns" not in profile
    assert "split_dns: the export has no internal URL; the default applies" in notes


def with_subject(subject: str, **changes) -> ExchangeExport:
    """ex2016-contoso.json with another subject on its CA-issued certificate (and other changes to that entry)."""
    data = json.loads((DATA / "ex2016-contoso.json").read_text())
    for cert in data["certificates"]:
        if not cert["IsSelfSigned"]:
            cert.update(Subject=subject, **changes)
    return parse_export(json.dumps(data))


def subject_notes(notes: list[str]) -> list[str]:
    return [n for n in notes if n.startswith(("org", "country"))]


@pytest.mark.parametrize(("name", "org", "country", "note"), [
    ("ex2016-contoso.txt", "Contoso Ltd", "US",
     "org, country: Contoso Ltd and US, the O= and C= of the CA-issued certificate in use (subject 'CN=mail.contoso.com, "
     "O=Contoso Ltd, L=Redmond, S=Washington, C=US', thumbprint 5113AE0233A72FCCB75BE6A91B1F2CB5A1C2F0E7)"),
    ("ex2013-fabrikam.json", "Fabrikam", "US",  # the AD CS certificate bound to IIS, not the expired GoDaddy one
     "org, country: Fabrikam and US, the O= and C= of the CA-issued certificate in use (subject "
     "'CN=webmail.fabrikam.com, OU=IT, O=Fabrikam, L=Seattle, S=WA, C=US', thumbprint "
     "C81D5E3FA2B7946E0D1C3B5A79F8E6D4C2B0A918)"),
    ("ex2010-litware.txt", "litwareinc.com", None,
     "org, country: the CA-issued certificate in use (subject 'CN=mail.litwareinc.com, OU=Domain Control Validated', "
     "thumbprint 6D2E9B41C07A83F5E1D4B69A2C8F07E35B1D9A46) has no O= or C= in its subject; org stays litwareinc.com, "
     "the primary domain: set the organisation's name; country is left empty, so certificate requests show a "
     "placeholder for C=: set the two-letter code"),
])
def test_org_and_country_come_from_the_subject_of_the_certificate_in_use(name, org, country, note):
    """QA s14 I: the subject of the certificate being replaced (C=US, O=Contoso Ltd) was ignored."""
    profile, notes = profile_from_export(load(name))
    assert (profile["org"], profile.get("country")) == (org, country)
    assert subject_notes(notes) == [note]


@pytest.mark.parametrize(("subject", "org", "country"), [
    ('CN=mail.contoso.com, O="Contoso, Inc.", C=gb', "Contoso, Inc.", "GB"),  # quoted as Windows writes it
    ('CN=mail.contoso.com, O="Contoso ""Blue"" Ltd", C=DE', 'Contoso "Blue" Ltd', "DE"),
    (r"CN=mail.contoso.com,O=Contoso\, Inc.,C=FR", "Contoso, Inc.", "FR"),  # RFC 4514 escapes, no spaces
    ("CN=mail.contoso.com, OU=IT, O = Contoso AG , C = CH", "Contoso AG", "CH"),
    ("O=Contoso Ltd+OU=Sales, CN=mail.contoso.com, C=US, O=Second", "Contoso Ltd", "US"),  # the first O=
    # rev14 E: a quote inside an unquoted value ended it ('Acme '). RFC 4514 escapes it and Windows quotes the whole
    # value; one pasted as it is is read as it is, up to the next separator
    ('CN=mail.contoso.com, O=Acme "Q" Corp, C=US', 'Acme "Q" Corp', "US"),
    (r'CN=mail.contoso.com, O=Acme \"Q\" Corp, C=US', 'Acme "Q" Corp', "US"),
    ('CN=mail.contoso.com, O="Acme" Corp, C=US', '"Acme" Corp', "US"),  # not one quoted value: taken as it is
    ('CN=mail.contoso.com, O="Acme, C=US', '"Acme', "US"),  # an unclosed quote
])
def test_subjects_are_read_as_windows_and_rfc_4514_write_them(subject, org, country):
    profile, _ = profile_from_export(with_subject(subject))
    assert (profile["org"], profile["country"]) == (org, country)


@pytest.mark.parametrize(("subject", "field", "reason"), [
    ("CN=mail.contoso.com, O=Contoso Ltd, C=USA", "country", "not a two-letter country code (ISO 3166"),
    ("CN=mail.contoso.com, O=Contoso Ltd, C=U1", "country", "not a two-letter country code (ISO 3166"),
    (f"CN=mail.contoso.com, O={'x' * 201}, C=US", "org", "longer than 200 characters"),
    ("CN=mail.contoso.com, O=Contoso\x07Ltd, C=US", "org", "contains control characters"),
])
def test_a_subject_value_the_profile_would_refuse_is_left_at_its_default_with_a_note(subject, field, reason):
    export = with_subject(subject)
    profile, notes = profile_from_export(export)
    defaults = {"org": "contoso.com", "country": None}
    assert profile.get(field) == defaults[field]
    other = "country" if field == "org" else "org"
    assert profile[other] == {"org": "Contoso Ltd", "country": "US"}[other]  # the other value is still taken
    [refused] = [n for n in subject_notes(notes) if n.startswith(f"{field}: the ")]
    assert "was not used: " + reason in refused
    load_profiles_ok(profile)


@pytest.mark.parametrize(("value", "org"), [
    ('=HYPERLINK("x")', '=HYPERLINK("x")'),  # as pasted (rev14 E)
    ('"=HYPERLINK(""x"")"', '=HYPERLINK("x")'),  # as Windows writes it
    ('"+Acme"', "+Acme"),  # a bare + would start another attribute of the RDN
    ("-Acme", "-Acme"),
    ("@Acme", "@Acme"),
])
def test_an_org_a_spreadsheet_would_run_is_kept_whole_said_and_round_trips(value, org):
    """rev14 E: O==HYPERLINK("x") became '=HYPERLINK(' and went into the profile's org without comment."""
    profile, notes = profile_from_export(with_subject(f"CN=mail.contoso.com, O={value}, C=US"))
    assert profile["org"] == org
    [note] = [n for n in subject_notes(notes) if n.startswith("org, country: ")]
    assert note.endswith(f"; org starts with {org[0]!r}, as a spreadsheet formula does: the tables the tool "
                         "writes neutralise it; check it is the name meant")
    text = profile_yaml(profile, notes, ["imported"])
    assert yaml.safe_load(text) == profile
    load_profiles_ok(profile)


def test_an_ordinary_org_gets_no_formula_note():
    _, notes = profile_from_export(with_subject("CN=mail.contoso.com, O=Acme-Q Corp, C=US"))
    assert not any("formula" in n for n in notes)


def test_a_refused_orgs_note_quotes_the_subject_and_the_value_cut_short():
    """rev14 E: the note repeated the whole 300-character subject twice."""
    subject = f"CN=mail.contoso.com, O={'A' * 260}, C=US"
    profile, notes = profile_from_export(with_subject(subject))
    assert (profile["org"], profile["country"]) == ("contoso.com", "US")
    shown = f"subject '{subject[:120]}…'"
    [taken, refused] = subject_notes(notes)
    assert shown in taken and shown in refused and subject not in " ".join(notes)
    assert f"{'A' * 60 + '…'!r}, was not used: longer than 200 characters" in refused
    assert len(refused) < 450  # was 580


def load_profiles_ok(profile: dict) -> None:
    from decision.catalog import load_catalog
    from decision.parameters import load_parameters
    from decision.profiles import load_profiles

    params = load_parameters()
    assert load_profiles(profile, params, load_catalog(params=params), today=TODAY).issues == []


def test_the_certificate_in_use_is_the_one_bound_to_iis_then_the_latest_to_expire():
    data = json.loads((DATA / "ex2016-contoso.json").read_text())
    old = {**data["certificates"][0], "Thumbprint": "AA" * 20, "Subject": "CN=mail.contoso.com, O=Old Name, C=GB",
           "Services": "SMTP", "NotAfter": "2030-01-01T00:00:00Z"}  # expires later, but IIS does not use it
    newer = {**data["certificates"][0], "Thumbprint": "BB" * 20, "Subject": "CN=mail.contoso.com, O=New Name, C=IE",
             "NotAfter": "2027-06-01T00:00:00Z"}
    data["certificates"] += [old, newer]
    profile, _ = profile_from_export(parse_export(json.dumps(data)))
    assert (profile["org"], profile["country"]) == ("New Name", "IE")


def test_without_a_ca_issued_certificate_org_and_country_keep_their_defaults():
    data = json.loads((DATA / "ex2016-contoso.json").read_text())
    data["certificates"] = [c for c in data["certificates"] if c["IsSelfSigned"]]
    profile, notes = profile_from_export(parse_export(json.dumps(data)))
    assert (profile["org"], "country" in profile) == ("contoso.com", False)
    assert subject_notes(notes) == [
        "org, country: no CA-issued certificate to take O= or C= from; org stays contoso.com, the primary domain: set "
        "the organisation's name; country is left empty, so certificate requests show a placeholder for C=: set the "
        "two-letter code"]


@pytest.mark.parametrize("org", ["ex2016-contoso", "exse-contoso"])
def test_format_list_and_json_agree(org):
    from_json, from_text = load(f"{org}.json"), load(f"{org}.txt")
    assert profile_from_export(from_json)[0] == profile_from_export(from_text)[0]
    assert state(f"{org}.json") == state(f"{org}.txt")
    assert from_json.certificates == from_text.certificates
    assert from_json.servers == from_text.servers


# --------------------------------------------------------------------------- counts


@pytest.mark.parametrize(("name", "users", "devices", "command"), [
    ("ex2013-fabrikam.json", 184, 57, "Get-Mailbox -ResultSize Unlimited -RecipientTypeDetails UserMailbox -IgnoreDefaultScope"),
    ("ex2016-contoso.txt", 1250, 612, "Get-Mailbox -ResultSize Unlimited -RecipientTypeDetails UserMailbox | Measure-Object"),
    ("exse-contoso.txt", 1180, 655, "(Get-Mailbox -ResultSize Unlimited -RecipientTypeDetails UserMailbox).Count"),
])
def test_counts_become_users_and_mobile_devices_and_the_notes_say_so(name, users, devices, command):
    export = load(name)
    assert export.counts["user_mailboxes"].value == users and export.counts["user_mailboxes"].command == command
    assert export.counts["mobile_devices"].value == devices
    profile, notes = profile_from_export(export)
    assert (profile["users"], profile["mobile_devices"]) == (users, devices)
    assert f"users: {users} user mailboxes, counted by {command} (shared, room and equipment mailboxes are not counted)." \
        in notes
    assert any(n.startswith(f"mobile_devices: {devices} ActiveSync device partnerships") and "stale" in n for n in notes)
    assert not export.warnings


def test_a_count_cut_short_at_the_default_result_size_is_not_used():
    export = load("ex2010-litware.txt")
    assert "user_mailboxes" not in export.counts
    assert export.counts["mobile_devices"] == Count(212, "Get-ActiveSyncDevice -ResultSize Unlimited | Measure-Object")
    profile, notes = profile_from_export(export)
    assert "users" not in profile
    [users] = [n for n in notes if n.startswith("users:")]
    assert users.startswith("users: REQUIRED, not set: the count 1000 from 'Get-Mailbox | Measure-Object' was not used")
    assert "-ResultSize Unlimited" in users
    assert not any(n.startswith("reading the export: user_mailboxes") for n in notes)  # said once, in the users note


COUNT_PASTE = "\n[PS] C:\\>{command}\n\nCount    : {count}\nAverage  :\nSum      :\n\n"


@pytest.mark.parametrize(("command", "count", "used", "scope"), [
    ("Get-Mailbox | Measure-Object", 999, 999, "counts shared, room and equipment mailboxes too"),
    ("Get-Mailbox | Measure-Object", 1000, None, None),
    ("Get-Mailbox -ResultSize unlimited | Measure-Object", 1000, 1000, "counts shared, room and equipment"),
    ("Get-Mailbox -RecipientTypeDetails UserMailbox -ResultSize 'Unlimited' | measure", 25000, 25000, "are not counted"),
    ("Get-Mailbox -RecipientTypeDetails UserMailbox | Measure-Object", 4000, None, None),
])
def test_format_list_counts_need_unlimited_result_size_to_pass_the_default(command, count, used, scope):
    export = parse_export(FORMAT_LIST_MINIMAL + COUNT_PASTE.format(command=command, count=count))
    profile, notes = profile_from_export(export)
    assert profile.get("users") == used
    [note] = [n for n in notes if n.startswith("users:")]
    assert (scope in note) if used else ("was not used" in note and "cut short" in note)


def test_a_count_without_its_command_line_is_ignored_and_said():
    export = parse_export(FORMAT_LIST_MINIMAL + "\nCount    : 412\nAverage  :\n\n")
    assert export.counts == {}
    assert any("without the Get-Mailbox / Get-MobileDevice command line" in w for w in export.warnings)


def test_disagreeing_counts_are_not_used():
    paste = COUNT_PASTE.format(command="Get-MobileDevice -ResultSize Unlimited | Measure-Object", count=10)
    paste += "[PS] C:\\>(Get-MobileDevice -ResultSize Unlimited).Count\n12\n"
    export = parse_export(FORMAT_LIST_MINIMAL + paste)
    assert "mobile_devices" not in export.counts
    notes = profile_from_export(export)[1]
    assert any(n.startswith("mobile_devices: not set, so the default 0 applies: the counts 10, 12 disagree") for n in notes)


@pytest.mark.parametrize("value", [-1, "12a", True, 1.5, 10_000_001, None, [3], "", "\u0661\u0662"])
def test_unreadable_counts_are_warned_about_not_used(value):
    data = json.loads((DATA / "exse-contoso.json").read_text())
    data["counts"][0]["Count"] = value
    export = parse_export(json.dumps(data))
    assert "user_mailboxes" not in export.counts and export.counts["mobile_devices"].value == 655
    [note] = [n for n in profile_from_export(export)[1] if n.startswith("users:")]
    assert "was not used: it is not a whole number" in note


@pytest.mark.parametrize(("change", "reason"), [
    (lambda d: d.pop("counts"),
     "the export has no count (collect again with the current collect-exchange.ps1, or paste the count)"),
    (lambda d: d.update(counts=[], errors=[{"Command": "Get-Mailbox -ResultSize Unlimited -RecipientTypeDetails UserMailbox",
                                            "Message": "Access is denied."}]),
     "the count failed (Get-Mailbox -ResultSize Unlimited -RecipientTypeDetails UserMailbox: Access is denied.)"),
    (lambda d: d.update(counts=[], skipped=["counts of user mailboxes and mobile devices (-SkipCounts)"]),
     "the count was skipped (counts of user mailboxes and mobile devices (-SkipCounts))"),
])
def test_a_missing_mailbox_count_says_why(change, reason):
    data = json.loads((DATA / "ex2016-contoso.json").read_text())
    change(data)
    export = parse_export(json.dumps(data))
    profile, notes = profile_from_export(export)
    assert "users" not in profile and "mobile_devices" not in profile
    assert why_not_counted(export, "user_mailboxes") == reason
    assert f"users: REQUIRED, not set: {reason}. Fill it in." in notes


def test_counts_by_command_when_the_name_is_missing_and_unknown_counts_are_ignored():
    data = json.loads((DATA / "exse-contoso.json").read_text())
    data["counts"] = [{"Command": "Get-MobileDevice -ResultSize Unlimited", "Count": 7},
                      {"Name": "public_folders", "Command": "Get-PublicFolder", "Count": 3}]
    export = parse_export(json.dumps(data))
    assert export.counts == {"mobile_devices": Count(7, "Get-MobileDevice -ResultSize Unlimited")}
    assert not export.warnings


def test_certificates_pasted_without_server_belong_to_the_only_server():
    assert {c.server for c in load("ex2010-litware.txt").certificates} == {"EXCH01"}
    two = FORMAT_LIST_MINIMAL.replace("Fqdn                : EX01.corp.contoso.local",
                                      "Fqdn                : EX01.corp.contoso.local\n\nName : EX02\n"
                                      "AdminDisplayVersion : Version 15.1 (Build 2507.6)\nServerRole : Mailbox")
    export = parse_export(two + "\nThumbprint : AB12\nServices : IIS\n")
    assert [s.name for s in export.servers] == ["EX01", "EX02"] and export.certificates[0].server is None


def test_the_result_size_default_has_a_source():
    entry = yaml.safe_load(BUILDS_FILE.read_text())["cmdlet_defaults"]["result_size"]
    assert entry["value"] == 1000 and entry["source"].startswith("https://learn.microsoft.com/")


SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "collect-exchange.ps1"


def test_the_collector_writes_what_the_reader_reads_and_only_totals_of_mailboxes_and_devices():
    import re

    script = SCRIPT.read_text()
    written = re.findall(r"Add-Field \$Export '(\w+)'", script)
    assert written == ["schema", "collected_at", "collector", "servers", "accepted_domains", "client_access",
                       "virtual_directories", "outlook_anywhere", "certificates", "counts", "skipped", "errors"]
    body = script[script.index("function Add-Count"):script.index("if ($SkipCounts)")]
    assert re.findall(r"Add-Field \$record '(\w+)'", body) == ["Name", "Command", "Count"]
    assert "| Measure-Object).Count" in body
    code = script[script.index("#>"):]
    counting = code[code.index("# --- counts"):code.index("# --- JSON")]
    recipients = r"Get-(Mailbox|MobileDevice|ActiveSyncDevice)\b"
    assert re.findall(recipients, counting) == ["Mailbox", "MobileDevice", "ActiveSyncDevice"]
    assert not re.search(recipients, code.replace(counting, ""))  # recipients are read only to be counted
    for identity in ("DisplayName", "PrimarySmtpAddress", "UserPrincipalName", "Alias", "DeviceId", "DeviceUserAgent"):
        assert identity not in script
    assert "[switch]$SkipCounts" in script and "'counts of user mailboxes and mobile devices (-SkipCounts)'" in script


def test_servers_and_builds_are_read():
    servers = load("exse-contoso.json").servers
    assert [(s.name, s.build, s.release) for s in servers] == [
        ("EX01", (15, 2, 2562, 17), "SE"),
        ("EX02", (15, 2, 1748, 10), "2019"),
    ]
    assert servers[0].fqdn == "EX01.contoso.com"
    assert servers[0].site == "contoso.com/Configuration/Sites/London"


def test_mixed_versions_use_newest_and_say_so():
    _, notes = profile_from_export(load("exse-contoso.json"))
    assert any("mixed releases 2019, SE" in note for note in notes)


def test_edge_server_is_not_a_client_access_server():
    export = load("ex2013-fabrikam.json")
    assert [s.name for s in export.servers] == ["MBX01", "EDGE01"]
    assert profile_from_export(export)[0]["servers"] == ["MBX01"]
    assert any("EDGE01" in s for s in export.skipped)


def renamed_ex01(name: str, quote: str = '"') -> bytes:
    """exse-contoso.txt with server EX01 called `name` (its Get-ExchangeCertificate prompt quoting it)."""
    text = (DATA / "exse-contoso.txt").read_text()
    return (text.replace("Name                : EX01", f"Name                : {name}")
            .replace("-Server EX01", f"-Server {quote}{name}{quote}").encode())


@pytest.mark.parametrize("quote", ['"', "'"])
def test_a_server_name_with_a_space_stays_one_server_in_its_exported_case(quote):
    export = parse_export(renamed_ex01("Ex 1", quote), "x.txt")
    assert [s.name for s in export.servers] == ["Ex 1", "EX02"]
    facts = current_state(export, today=TODAY, horizon_end=HORIZON_END)
    assert {s for c in facts["certificates"] for s in c["servers"]} == {"Ex 1", "EX02"}  # it was 'Ex'
    profile, notes = profile_from_export(export)
    assert profile["servers"] == ["EX02"], "the profile's list would read 'Ex 1' as two servers, 'ex' and '1'"
    assert "servers: left out 'Ex 1', not a NetBIOS name (1-15 letters, digits or hyphens) as the list needs; " \
           "the current state shows the servers as exported" in notes


def ex01_also_as_lower_case(name: str) -> bytes:
    """exse-contoso (JSON or Format-List) with server EX01 listed again as 'ex01' and its certificates read as ex01's."""
    text = (DATA / name).read_text(encoding="utf-8-sig")
    if name.endswith(".json"):
        data = json.loads(text)
        data["servers"].append({**data["servers"][0], "Name": "ex01", "Fqdn": "ex01.contoso.com"})
        for cert in data["certificates"]:
            cert["Server"] = cert["Server"].replace("EX01", "ex01")
        return json.dumps(data).encode()
    again = "Name                : ex01\nAdminDisplayVersion : Version 15.2 (Build 2562.17)\nServerRole          : Mailbox\n\n"
    return text.replace("Name                : EX02", again + "Name                : EX02", 1) \
        .replace("-Server EX01", "-Server ex01").encode()


@pytest.mark.parametrize("name", ["exse-contoso.json", "exse-contoso.txt"])
def test_a_server_named_in_two_cases_is_one_server_in_its_first_spelling(name):
    """Windows names are case-insensitive: EX01 and ex01 were listed as two servers, a certificate on 'EX01, ex01'."""
    export = parse_export(ex01_also_as_lower_case(name), name)
    assert [s.name for s in export.servers] == ["EX01", "EX02"]
    assert export.servers[0].fqdn == "EX01.contoso.com", "the first entry kept"
    facts = current_state(export, today=TODAY, horizon_end=HORIZON_END)
    assert [c["servers"] for c in facts["certificates"]] == [c["servers"] for c in state("exse-contoso.json")["certificates"]]
    assert {s for c in facts["certificates"] for s in c["servers"]} == {"EX01", "EX02"}
    assert profile_from_export(export)[0]["servers"] == ["EX01", "EX02"]


def test_a_server_listed_again_with_another_version_is_named_in_the_notes():
    """The first entry is used; an export that contradicts itself about a server's build says so, not in silence."""
    data = json.loads((DATA / "exse-contoso.json").read_text(encoding="utf-8-sig"))
    data["servers"].append({**data["servers"][0], "Name": "ex01", "AdminDisplayVersion": "Version 15.1 (Build 2507.6)"})
    export = parse_export(json.dumps(data).encode(), "exse-contoso.json")
    assert [s.name for s in export.servers] == ["EX01", "EX02"]
    [warning] = [w for w in export.warnings if w.startswith("server ex01:")]
    assert "listed again with another version (Version 15.1 (Build 2507.6); EX01 has Version 15.2" in warning
    same = json.loads((DATA / "exse-contoso.json").read_text(encoding="utf-8-sig"))
    same["servers"].append({**same["servers"][0], "Name": "ex01"})
    assert not [w for w in parse_export(json.dumps(same).encode(), "x.json").warnings if w.startswith("server ex01")]


# --------------------------------------------------------------------------- current state


def by_thumbprint(entries: list[dict]) -> dict[str, dict]:
    return {e["thumbprint"]: e for e in entries}


def test_state_2016_expiring_public_cert_and_self_signed_on_iis():
    result = state("ex2016-contoso.json")
    expiring = by_thumbprint(result["expiring"])
    digicert = expiring["5113AE0233A72FCCB75BE6A91B1F2CB5A1C2F0E7"]
    assert (digicert["not_after"], digicert["days_left"], digicert["expired"]) == ("2026-12-15", 25, False)
    assert digicert["servers"] == ["EX01", "EX02"]
    assert result["expiring"][0] is digicert  # soonest first
    assert "9C4D2E6F8A0B1C3D5E7F9A1B3C5D7E9F0A2B4C6D" not in expiring  # WMSvc, 2032
    assert {e["subject"] for e in result["self_signed_on_iis"]} == {"CN=EX01", "CN=EX02"}
    assert result["uncovered_names"] == []
    assert [e["name"] for e in result["self_signed_only_names"]] == [
        "ex01.corp.contoso.local",
        "ex02.corp.contoso.local",
    ]
    assert result["self_signed_only_names"][0]["used_by"] == ["OWA internal URL", "ECP internal URL"]
    assert result["autodiscover_names_not_covered"] == ["autodiscover.fabrikam.com"]
    assert result["internal_names_on_public_certificates"] == []


def test_state_2013_internal_names_on_public_cert_and_expired():
    result = state("ex2013-fabrikam.json")
    [godaddy] = result["internal_names_on_public_certificates"]
    assert godaddy["names"] == ["mbx01.fabrikam.local", "mbx01"]
    assert godaddy["issuer"].startswith("CN=Go Daddy")
    expiring = by_thumbprint(result["expiring"])
    assert expiring[godaddy["thumbprint"]]["expired"] is True
    assert expiring["C81D5E3FA2B7946E0D1C3B5A79F8E6D4C2B0A918"]["not_after"] == "2027-09-30"
    certificates = by_thumbprint(result["certificates"])
    assert certificates["C81D5E3FA2B7946E0D1C3B5A79F8E6D4C2B0A918"]["public_issuer"] is False  # AD CS
    assert certificates[godaddy["thumbprint"]]["bound_to_iis"] is False
    assert result["uncovered_names"] == []
    assert result["autodiscover_names_not_covered"] == [
        "autodiscover.fabrikam.net",
        "autodiscover.tailspintoys.com",
    ]
    assert result["self_signed_on_iis"] == []


def test_state_se_mismatched_name_and_expired_self_signed():
    result = state("exse-contoso.json")
    assert result["uncovered_names"] == [{"name": "ex02.contoso.com", "used_by": ["EWS internal URL"], "servers": ["EX02"],
                                          "everywhere": True, "elsewhere": []}]
    assert result["names_in_use"] == ["autodiscover.contoso.com", "ex02.contoso.com", "mail.contoso.com"]
    assert [(e["subject"], e["expired"], e["days_left"]) for e in result["expiring"]] == [
        ("CN=EX02", True, -12),
        ("CN=mail.contoso.com", False, 59),
    ]
    lets_encrypt = by_thumbprint(result["certificates"])["8F14E45FCEEA167A5A36DEDD4BEA2543D1B2C3E4"]
    assert lets_encrypt["public_issuer"] is True
    assert lets_encrypt["services"] == ["IIS", "SMTP"]
    assert lets_encrypt["names"] == ["mail.contoso.com", "autodiscover.contoso.com"]


def test_state_horizon_limits_expiry_list():
    result = current_state(load("exse-contoso.json"), today=TODAY, horizon_end=dt.date(2026, 12, 1))
    assert [e["subject"] for e in result["expiring"]] == ["CN=EX02"]


def test_wildcard_certificate_covers_one_level():
    text = (DATA / "exse-contoso.json").read_text()
    export = parse_export(text.replace('"autodiscover.contoso.com"\n', '"*.contoso.com"\n'))
    uncovered = current_state(export, today=TODAY, horizon_end=HORIZON_END)["uncovered_names"]
    assert uncovered == []  # ex02.contoso.com and autodiscover.contoso.com match *.contoso.com


# --------------------------------------------------------------------------- builds


@pytest.mark.parametrize(
    ("build", "release"),
    [
        ("Version 8.3 (Build 83.6)", "2007"),
        ("Version 14.3 (Build 123.4)", "2010"),
        ("Version 15.0 (Build 1497.2)", "2013"),
        ("Version 15.1 (Build 2507.6)", "2016"),
        ("Version 15.2 (Build 1544.4)", "2019"),
        ("15.2.1748.24", "2019"),
        ("Version 15.2 (Build 2562.17)", "SE"),
        ("15.02.2562.017", "SE"),
        ("15.2.2700.5", "SE"),
    ],
)
def test_exchange_version_from_build(build, release):
    assert exchange_version_from_build(build) == release


@pytest.mark.parametrize("build", ["Version 6.5 (Build 7638.2)", "15.20.9298.6", "Exchange 2019", ""])
def test_unknown_builds_are_rejected(build):
    with pytest.raises(ExportParseError, match="Exchange build"):
        exchange_version_from_build(build)


def test_build_table_has_sources():
    releases = yaml.safe_load(BUILDS_FILE.read_text())["releases"]
    assert [r["release"] for r in releases] == ["2007", "2010", "2013", "2016", "2019", "SE"]
    assert all(r["source"] == "estimate" or r["source"].startswith("https://") for r in releases)


# --------------------------------------------------------------------------- encodings and text quirks


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig", "utf-8"])
@pytest.mark.parametrize("name", ["ex2016-contoso.txt", "exse-contoso.json"])
def test_encodings(name, encoding):
    text = (DATA / name).read_text(encoding="utf-8-sig")
    export = parse_export(text.encode(encoding), name)
    assert profile_from_export(export)[0] == profile_from_export(load(name))[0]


def test_str_with_bom_and_indented_paste():
    text = (DATA / "ex2016-contoso.txt").read_text()
    indented = "\ufeff" + "\n".join("    " + line if line.strip() else line for line in text.splitlines())
    assert profile_from_export(parse_export(indented))[0] == EXPECTED_PROFILES["ex2016-contoso"]


def _paste_state(text: str) -> tuple[dict, list]:
    export = parse_export(text, "exse-contoso.txt")
    return profile_from_export(export)[0], [(c.thumbprint, c.server) for c in export.certificates]


@pytest.mark.parametrize("above", ["", "Exchange export for Contoso, 2026-11-18\n\n"])
@pytest.mark.parametrize("prompt", ["[ex01.contoso.com]: PS C:\\Users\\admin\\Documents> ", "[EX01]: PS>"])
def test_a_remote_session_prompt_is_a_prompt_not_json(above, prompt):
    text = (DATA / "exse-contoso.txt").read_text(encoding="utf-8-sig")
    assert "[PS] C:\\Windows\\system32>" in text
    remote = above + text.replace("[PS] C:\\Windows\\system32>", prompt)
    assert _paste_state(remote) == _paste_state(text)
    assert all(server for _, server in _paste_state(remote)[1])


@pytest.mark.parametrize("end", ["\r\r\n", "\r\n", "\r"])
def test_line_ends_doubled_crlf_and_cr_read_as_lf(end):
    text = (DATA / "exse-contoso.txt").read_text(encoding="utf-8-sig")
    assert _paste_state(text.replace("\n", end)) == _paste_state(text)
    assert _paste_state(text.replace("\n", end).encode("utf-16")) == _paste_state(text)


@pytest.mark.parametrize("content", ['["a", "b"]', "[ ]", ' [\n  {"Name": "EX01"}', "[\n1, 2]", '"text"'])
def test_json_shaped_text_is_read_as_json(content):
    with pytest.raises(ExportParseError, match="JSON"):
        parse_export(content, "export.json")


FORMAT_LIST_MINIMAL = """\
Name                : EX01
AdminDisplayVersion : Version 15.1 (Build 2507.6)
ServerRole          : Mailbox
Fqdn                : EX01.corp.contoso.local

DomainName : contoso.com
DomainType : Authoritative
Default    : True
"""


def test_wrapped_list_and_truncated_list():
    certificate = """
Thumbprint         : 434AC224C8459924B26521298DE2A8C4E5A8B0E2
CertificateDomains : {mail.contoso.com, autodiscover.contoso.com, autodiscover.fabrikam.com,
                     ex01.corp.contoso.local}
Services           : IMAP, POP, IIS, SMTP
Issuer             : CN=Contoso Issuing CA, DC=corp, DC=contoso, DC=local

Thumbprint         : 5E8B1A4D7F0C3E6B9A2D5F8C1E4B7A2C5E8B1A4D
CertificateDomains : {a.contoso.com, b.contoso.com, c.contoso.com, d.contoso.com...}
"""
    export = parse_export(FORMAT_LIST_MINIMAL + certificate)
    first, second = export.certificates
    assert first.domains == (
        "mail.contoso.com",
        "autodiscover.contoso.com",
        "autodiscover.fabrikam.com",
        "ex01.corp.contoso.local",
    )
    assert first.services == ("IMAP", "POP", "IIS", "SMTP")
    assert second.domains == ("a.contoso.com", "b.contoso.com", "c.contoso.com", "d.contoso.com")
    assert any("$FormatEnumerationLimit" in w for w in export.warnings)
    profile, notes = profile_from_export(export)
    assert profile["internal_ca"] is True
    assert any("$FormatEnumerationLimit" in note for note in notes)


@pytest.mark.parametrize(
    ("dates", "expected", "ambiguous"),
    [
        (("3/4/2026 10:00:00 AM", "3/4/2027 10:00:00 AM"), dt.date(2026, 3, 4), True),  # en-US guess
        (("03.04.2026 10:00:00", "03.04.2027 10:00:00"), dt.date(2026, 4, 3), True),  # de-DE guess
        (("03/04/2026 10:00:00", "13/04/2027 10:00:00"), dt.date(2026, 4, 3), False),  # en-GB, settled
        (("2026-03-04 10:00:00", "2027-03-04 10:00:00"), dt.date(2026, 3, 4), False),
        (("/Date(1772618400000)/", "/Date(1804154400000)/"), dt.date(2026, 3, 4), False),
    ],
)
def test_dates_in_format_list(dates, expected, ambiguous):
    certificate = f"\nThumbprint : AB12\nNotBefore  : {dates[0]}\nNotAfter   : {dates[1]}\n"
    export = parse_export(FORMAT_LIST_MINIMAL + certificate)
    assert export.certificates[0].not_before == expected
    assert any("ambiguous" in w for w in export.warnings) == ambiguous


def test_unknown_properties_and_blocks_are_ignored():
    extra = "\nFoo : bar\nBaz : {1, 2}\n\nIdentity : something\n"
    export = parse_export(FORMAT_LIST_MINIMAL + extra)
    assert [s.name for s in export.servers] == ["EX01"]
    data = json.loads((DATA / "exse-contoso.json").read_text())
    data["mystery"] = {"x": 1}
    data["servers"][0]["Edition"] = "Standard"
    assert parse_export(json.dumps(data)).servers[0].name == "EX01"


def test_collection_errors_and_skips_become_notes():
    data = json.loads((DATA / "exse-contoso.json").read_text())
    data["skipped"] = ["Get-MapiVirtualDirectory"]
    data["errors"] = [{"Command": "Get-ExchangeCertificate -Server EX02", "Message": "Access is denied."}]
    export = parse_export(json.dumps(data))
    assert export.errors == ["Get-ExchangeCertificate -Server EX02: Access is denied."]
    notes = profile_from_export(export)[1]
    assert any("Access is denied." in note for note in notes)
    assert any("Get-MapiVirtualDirectory" in note for note in notes)


def test_owa_host_fallbacks():
    text = (DATA / "ex2013-fabrikam.json").read_text()
    data = json.loads(text)
    data["virtual_directories"] = []
    profile, notes = profile_from_export(parse_export(json.dumps(data)))
    assert profile["owa_host"] == "webmail.fabrikam.com"  # Outlook Anywhere external host name
    data["outlook_anywhere"] = []
    profile, notes = profile_from_export(parse_export(json.dumps(data)))
    assert profile["owa_host"] == "mail.fabrikam.com"
    assert any(note.startswith("owa_host:") for note in notes)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        (b"", "empty"),
        ("   \r\n\t ", "empty"),
        ("hello world\nthis is not an export", "Format-List"),
        ("{", "JSON"),
        ("[1, 2]", "JSON object"),
        ('{"schema": "something-else/9", "servers": []}', "schema"),
        ("{}", "no Exchange server"),
        ('{"servers": [{"Name": "EX01", "AdminDisplayVersion": "Version 6.5 (Build 7638.2)"}]}', "EX01"),
        (b"\xff\xfeA\x00B", "UTF-16"),
        (FORMAT_LIST_MINIMAL.split("\n\n")[0], "no accepted domain"),
        (FORMAT_LIST_MINIMAL.split("\n\n")[1], "no Exchange server"),
    ],
)
def test_bad_input_gives_clear_error(content, message):
    with pytest.raises(ExportParseError, match=message) as info:
        parse_export(content, "export.txt")
    assert "export.txt" in str(info.value) or message == "UTF-16"


def test_missing_parts_are_all_named():
    with pytest.raises(ExportParseError) as info:
        parse_export('{"schema": "certstrategy-exchange-export/1"}', "contoso.json")
    assert "contoso.json" in str(info.value)
    assert "Get-ExchangeServer" in str(info.value) and "Get-AcceptedDomain" in str(info.value)


def check_never_crashes(content: str | bytes) -> None:
    """Either an export that the rest of the module can use, or ExportParseError."""
    try:
        export = parse_export(content, "fuzz")
    except ExportParseError as exc:
        assert str(exc)
        return
    profile_from_export(export)
    current_state(export, today=TODAY, horizon_end=HORIZON_END)


@pytest.mark.parametrize("name", SAMPLES)
def test_truncated_samples(name):
    content = (DATA / name).read_bytes()
    for cut in range(0, len(content), max(1, len(content) // 97)):
        check_never_crashes(content[:cut])


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=20), children, max_size=4),
    max_leaves=20,
)
FIELDS = ["Name", "AdminDisplayVersion", "Fqdn", "ServerRole", "DomainName", "DomainType", "Default",
          "InternalUrl", "ExternalUrl", "Kind", "Thumbprint", "CertificateDomains", "Services",
          "NotBefore", "NotAfter", "IsSelfSigned", "Issuer", "InternalHostname", "ExternalHostname",
          "AutoDiscoverServiceInternalUri", "Count", "Command"]  # fmt: skip
CATEGORIES = ["servers", "accepted_domains", "client_access", "virtual_directories", "outlook_anywhere", "certificates",
              "counts"]
records = st.dictionaries(
    st.sampled_from(FIELDS),
    json_values | st.sampled_from(["Version 15.1 (Build 2507.6)", "https://mail.contoso.com/owa", "{a, b}",
                                   "Get-Mailbox | Measure-Object", "1000"]),
)


@FUZZ
@given(st.text())
def test_random_text(content):
    check_never_crashes(content)


@FUZZ
@given(st.binary())
def test_random_bytes(content):
    check_never_crashes(content)


@FUZZ
@given(
    st.fixed_dictionaries(
        {},
        optional={key: st.lists(records, max_size=3) | json_values for key in [*CATEGORIES, "skipped", "errors", "schema"]},
    )
)
def test_random_json_exports(data):
    check_never_crashes(json.dumps(data))


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(FIELDS), st.text(max_size=40)), max_size=12), st.booleans())
def test_random_format_list(pairs, with_minimal):
    text = "\n".join(f"{name} : {value}" for name, value in pairs)
    check_never_crashes((FORMAT_LIST_MINIMAL + "\n" if with_minimal else "") + text)


@FUZZ
@given(
    st.sampled_from(["ex2013-fabrikam.json", "ex2016-contoso.json", "exse-contoso.json"]),
    st.lists(
        st.tuples(
            st.sampled_from(CATEGORIES),
            st.integers(0, 20),
            st.sampled_from(FIELDS),
            json_values,
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_mutated_samples(name, mutations):
    data = json.loads((DATA / name).read_text())
    for category, index, field, value in mutations:
        entries = data[category]
        if entries:
            entries[index % len(entries)][field] = value
    check_never_crashes(json.dumps(data))


# --------------------------------------------------------------------------- assessment (decision.current_state)

PARAMS, CATALOG = default_parameters(), default_catalog()


def assessed(name: str, today: dt.date = TODAY, end: dt.date = HORIZON_END) -> CurrentState:
    return assess(load(name), PARAMS, CATALOG, today=today, horizon_end=end)


def findings(result: CurrentState, level: str) -> list[str]:
    return [f.text for f in result.findings if f.level == level]


def check_renewal_chain(replacement, end: dt.date, automated: bool) -> None:
    """Each renewal follows the dated lifetime in force on its issuance day; the last one outlives the horizon."""
    for issued, renewed in itertools.pairwise(replacement.issuances):
        life = PARAMS.value("public_max_lifetime_days", to_day(issued))
        if replacement.ca == "letsencrypt":
            life = min(life, PARAMS.value("letsencrypt_lifetime_days", to_day(issued)))
        gap = life * PARAMS.value("acme_renew_fraction") if automated else life - min(
            PARAMS.value("manual_renewal_lead_days"), life / 3)
        assert abs((renewed - issued).days - gap) <= 1, (issued, renewed, life)
    last = replacement.issuances[-1]
    assert last < end and to_day(last) + PARAMS.value("public_max_lifetime_days", to_day(last)) >= to_day(end)


def test_assessment_2016_overdue_commercial_certificate_renews_under_the_dated_lifetimes():
    result = assessed("ex2016-contoso.json")
    [digicert] = result.replacements
    assert (digicert.ca, digicert.not_after) == ("digicert", dt.date(2026, 12, 15))
    assert digicert.replace_on == TODAY  # 30 days before expiry was 2026-11-15: overdue
    assert digicert.lifetime_days == PARAMS.value("public_max_lifetime_days", to_day(TODAY)) == 200
    assert digicert.issuances[1] == TODAY + dt.timedelta(days=200 - PARAMS.value("manual_renewal_lead_days"))
    check_renewal_chain(digicert, HORIZON_END, automated=False)
    warnings = findings(result, "warning")
    assert any(t.startswith("CN=mail.contoso.com") and "replace it now (overdue)" in t and "at most 200 days" in t
               and f"renew it on {digicert.issuances[1].isoformat()}" in t for t in warnings)
    assert "Self-signed CN=EX01 is enabled for IIS on EX01: clients reaching that server by a name on it see a warning." \
        in warnings
    assert any(t.startswith("autodiscover.fabrikam.com is on no certificate bound to IIS") for t in warnings)
    # names the internal URLs use that only a self-signed certificate carries: clients warn today (LEVELS: error)
    assert findings(result, "error") == [
        f"ex0{n}.corp.contoso.local (OWA internal URL, ECP internal URL) is only on self-signed certificates: clients "
        "that do not trust them see a warning." for n in (1, 2)]
    assert not any("only on self-signed" in t for t in warnings)


OLD_DIGICERT = "5113AE0233A72FCCB75BE6A91B1F2CB5A1C2F0E7"
NEW_DIGICERT = "AAAA" + OLD_DIGICERT[4:]


def renewed(services: str | None = None, servers: tuple[str, ...] = ("EX01", "EX02"), drop_name: bool = False,
            not_after: str = "2027-06-07T23:59:59Z", old_services: str | None = None,
            old_not_after: str | None = None) -> ExchangeExport:
    """ex2016-contoso with the DigiCert certificate renewed (same names, later expiry) and imported on `servers`
    (none: not renewed)."""
    data = json.loads((DATA / "ex2016-contoso.json").read_text(encoding="utf-8-sig"))
    old = [c for c in data["certificates"] if c["Thumbprint"] == OLD_DIGICERT]
    for cert in old:
        cert["Services"] = old_services or cert["Services"]
        cert["NotAfter"] = old_not_after or cert["NotAfter"]
    for cert in old:
        if cert["Server"] in servers:
            names = cert["CertificateDomains"][1:] if drop_name else cert["CertificateDomains"]
            data["certificates"].append(dict(cert, Thumbprint=NEW_DIGICERT, NotBefore="2026-11-20T00:00:00Z",
                                             NotAfter=not_after, Services=services or "None", CertificateDomains=names))
    return parse_export(json.dumps(data), "renewed.json")


def test_a_replacement_installed_but_not_enabled_is_named_and_renewals_are_planned_from_it():
    result = assess(renewed(), PARAMS, CATALOG, today=TODAY, horizon_end=HORIZON_END)
    warnings = findings(result, "warning")
    assert not any("replace it now" in t for t in warnings)
    assert any(t.startswith("CN=mail.contoso.com") and "IIS, SMTP on EX01, EX02) expires 2026-12-15: a replacement "
               f"({NEW_DIGICERT}, DigiCert (incl. GeoTrust, Thawte, RapidSSL), expires 2027-06-07) is installed on "
               "EX01, EX02 but not enabled: enable it for IIS, SMTP before 2026-12-15." in t for t in warnings)
    # the renewals are those of the new certificate, as if it were enabled already (the old one no longer in use)
    enabled = assess(renewed("IIS, SMTP", old_services="None"), PARAMS, CATALOG, today=TODAY, horizon_end=HORIZON_END)
    [planned], [when_enabled] = result.replacements, enabled.replacements
    assert planned.thumbprint == NEW_DIGICERT
    assert dataclasses.replace(planned, issuances=()) == dataclasses.replace(when_enabled, issuances=())
    assert planned.issuances == when_enabled.issuances
    assert planned.replace_on > TODAY
    assert result.option_row()["certificate_issuances"] == enabled.option_row()["certificate_issuances"]


@pytest.mark.parametrize("change", [dict(servers=("EX01",)), dict(drop_name=True),
                                    dict(not_after="2026-12-01T23:59:59Z"), dict(services="SMTP")])
def test_a_certificate_that_cannot_stand_in_leaves_the_replacement_due(change):
    """Not on every server, without one of the names, expiring first, or enabled already for a service."""
    result = assess(renewed(**change), PARAMS, CATALOG, today=TODAY, horizon_end=HORIZON_END)
    assert not any("is installed on" in t for t in findings(result, "warning"))
    assert OLD_DIGICERT in [r.thumbprint for r in result.replacements]


def test_an_expired_certificate_still_enabled_is_one_error_that_says_what_to_do():
    """QA 18c: it was an error ("expired on 2026-11-01 and is still enabled") and, beside it, a warning ("expired on
    2026-11-01: replace it now (overdue) ...") about the same certificate."""
    subject = "CN=mail.contoso.com, O=Contoso Ltd, L=Redmond, S=Washington, C=US (DigiCert (incl. GeoTrust, Thawte, " \
              "RapidSSL); IIS, SMTP on EX01, EX02) expired on 2026-11-01"
    result = assess(renewed(servers=(), old_not_after="2026-11-01T23:59:59Z"), PARAMS, CATALOG, today=TODAY,
                    horizon_end=HORIZON_END)
    [digicert] = result.replacements
    assert digicert.thumbprint == OLD_DIGICERT
    assert [(f.level, f.text) for f in result.findings if f.text.startswith(subject)] == [
        ("error", f"{subject} and is still enabled: replace it now (overdue); under the rules then in force the "
                  f"replacement lives at most 200 days, so renew it on {digicert.issuances[1].isoformat()} "
                  f"({len(digicert.issuances)} issuances before 2029-11-20).")]
    installed = assess(renewed(old_not_after="2026-11-01T23:59:59Z"), PARAMS, CATALOG, today=TODAY,
                       horizon_end=HORIZON_END)
    assert [(f.level, f.text) for f in installed.findings if f.text.startswith(subject)] == [
        ("error", f"{subject} and is still enabled: a replacement ({NEW_DIGICERT}, DigiCert (incl. GeoTrust, Thawte, "
                  "RapidSSL), expires 2027-06-07) is installed on EX01, EX02 but not enabled: enable it for IIS, SMTP "
                  "now.")]


def test_a_self_signed_certificate_in_use_shows_when_to_renew_it_in_its_row_and_its_finding():
    """rev14 I: "replace by" was empty for Exchange's own certificates (the Auth Certificate expiring 2027-04-01)
    while the finding said "renew it before then"."""
    lead = dt.timedelta(days=PARAMS.value("manual_renewal_lead_days"))
    auth = "3E5A1C7B9D0F2A4C6E8B0D2F4A6C8E0A2C4E6F81"
    for today, due in [(TODAY, dt.date(2027, 4, 1) - lead), (dt.date(2027, 3, 20), dt.date(2027, 3, 20))]:
        result = assessed("ex2016-contoso.json", today=today)
        rows = {r["thumbprint"]: r for r in result.certificate_rows()}
        assert rows[auth]["replace by"] == due.isoformat()
        when = "now" if due == today else f"by {due.isoformat()}"
        assert ("Self-signed CN=Microsoft Exchange Server Auth Certificate (SMTP on EX01, EX02) expires 2027-04-01: "
                f"Exchange does not renew it; renew it {when}.") in findings(result, "warning")
    rows = {r["thumbprint"]: r for r in assessed("ex2016-contoso.json").certificate_rows()}
    assert rows["9C4D2E6F8A0B1C3D5E7F9A1B3C5D7E9F0A2B4C6D"]["replace by"] == ""  # WMSvc: in no service, 2032
    expired = assessed("exse-contoso.json")  # CN=EX02, self-signed, expired 2026-11-08 and still enabled
    assert [r["replace by"] for r in expired.certificate_rows() if r["certificate"] == "CN=EX02"] == [TODAY.isoformat()]


def test_counts_in_the_findings_and_the_row_are_singular_or_plural():
    """rev14 fault 3: "18 issuance(s)", "1 problem(s)" reach client documents."""
    many = assessed("ex2016-contoso.json")
    assert any(f"({len(many.replacements[0].issuances)} issuances before 2029-11-20)." in t
               for t in findings(many, "warning"))
    one = assess(load("ex2010-litware.txt"), PARAMS, CATALOG, today=TODAY, horizon_end=dt.date(2027, 6, 1))
    assert one.replacements[0].issuances == (dt.date(2027, 1, 31),)
    assert any("(1 issuance before 2027-06-01)." in t for t in findings(one, "warning"))
    assert one.option_row()["notes"].startswith("What the servers have today: 1 problem clients or services have now;")
    assert many.option_row()["notes"].startswith("What the servers have today: 2 problems clients or services have now;")
    assert not any("(s)" in f.text for state in (many, one) for f in state.findings)


def test_assessment_se_lets_encrypt_renews_automatically_and_flags_mismatch_and_expired():
    result = assessed("exse-contoso.json")
    [lets_encrypt] = result.replacements
    assert lets_encrypt.ca == "letsencrypt" and lets_encrypt.issuer == CATALOG["letsencrypt"].name
    assert lets_encrypt.replace_on == dt.date(2026, 10, 20) + dt.timedelta(days=int(90 * PARAMS.value("acme_renew_fraction")))
    assert lets_encrypt.lifetime_days == PARAMS.value("letsencrypt_lifetime_days", to_day(lets_encrypt.replace_on))
    check_renewal_chain(lets_encrypt, HORIZON_END, automated=True)
    assert findings(result, "error") == [
        "ex02.contoso.com (EWS internal URL) is on no certificate bound to IIS: clients that use it see a certificate warning.",
        "CN=EX02 (self-signed; IMAP, POP, SMTP on EX02) expired on 2026-11-08 and is still enabled.",
    ]
    assert [f.level for f in result.findings] == sorted((f.level for f in result.findings), key=LEVELS.index)
    assert ("Let's Encrypt (ISRG) issues only through ACME, so an ACME client on the server likely renews the "
            "certificate: the ACME option counts as allowed only where the organisation confirms that policy and network "
            "allow one.") in findings(result, "info")
    assert not any("ACME" in t for t in findings(assessed("ex2016-contoso.json"), "info"))  # DigiCert sells by hand


def test_assessment_2013_internal_ca_internal_names_and_an_unused_expired_certificate():
    result = assessed("ex2013-fabrikam.json")
    [adcs] = result.replacements
    assert (adcs.ca, adcs.lifetime_days) == ("adcs", CATALOG["adcs"].lifetime)
    # QA 18c: the GoDaddy certificate that expired in 2015, bound to nothing, is to be removed, not replaced, so its
    # internal names are nothing to act on; a valid or enabled public certificate's still are (below)
    assert not any("internal names" in f.text for f in result.findings)
    assert any(t.startswith("CN=webmail.fabrikam.com, OU=Domain Control Validated (GoDaddy") and "can be removed" in t
               for t in findings(result, "info"))
    rows = {r["thumbprint"]: r for r in result.certificate_rows()}
    assert rows["0E7F3A91C5D2B8E4F6A0193C7D5E2B8A4F6C1D3E"]["services"] == "none"
    assert rows["C81D5E3FA2B7946E0D1C3B5A79F8E6D4C2B0A918"]["replace by"] == "2027-08-31"
    assert rows["C81D5E3FA2B7946E0D1C3B5A79F8E6D4C2B0A918"]["then renew on"] == adcs.issuances[1].isoformat()


@pytest.mark.parametrize("change", [dict(Services="SMTP"), dict(NotAfter="2027-10-15T16:00:00Z")])
def test_a_public_certificate_with_internal_names_in_use_or_valid_still_warns_about_them(change):
    """ex2013-fabrikam's expired GoDaddy certificate, enabled again or valid again: its replacement is still due."""
    data = json.loads((DATA / "ex2013-fabrikam.json").read_text(encoding="utf-8-sig"))
    for cert in data["certificates"]:
        if cert["Thumbprint"] == "0E7F3A91C5D2B8E4F6A0193C7D5E2B8A4F6C1D3E":
            cert.update(change)
    result = assess(parse_export(json.dumps(data), "changed.json"), PARAMS, CATALOG, today=TODAY,
                    horizon_end=HORIZON_END)
    assert any(t.startswith("A public certificate (GoDaddy (Starfield), expires ") and "carries internal names "
               "mbx01.fabrikam.local, mbx01: no public certificate with them may expire after 2015-11-01" in t
               for t in findings(result, "warning"))


def test_assessment_2010_internal_urls_on_no_certificate():
    result = assessed("ex2010-litware.txt")
    [error] = findings(result, "error")
    assert error.startswith("exch01.litware.local (OWA internal URL, ECP internal URL, EWS internal URL, ActiveSync "
                            "internal URL, OAB internal URL, Autodiscover internal URI (SCP)) is on no certificate")
    row = result.option_row()
    assert row["label"] == "Current state (installed today)"
    assert (row["certificates"], row["ca"]) == (1, "godaddy")
    assert row["certificate_issuances"] == len(result.replacements[0].issuances)
    assert row["names"] == "mail.litwareinc.com, autodiscover.litwareinc.com, autodiscover.litware.co.uk"
    assert row["notes"].startswith("What the servers have today: 1 problem clients or services have now; 2 to act on")


def test_replacements_follow_the_rules_in_force_when_they_are_issued():
    later = dt.date(2029, 4, 1)  # after 2029-03-15 a public certificate lives at most 47 days
    result = assess(load("ex2010-litware.txt"), PARAMS, CATALOG, today=later - dt.timedelta(days=800), horizon_end=later)
    assert result.replacements[0].lifetime_days == PARAMS.value("public_max_lifetime_days", to_day(dt.date(2027, 1, 31)))
    text = (DATA / "ex2010-litware.txt").read_text().replace("3/2/2027 11:59:59 AM", "4/20/2029 11:59:59 AM")
    moved = assess(parse_export(text), PARAMS, CATALOG, today=dt.date(2029, 3, 1), horizon_end=dt.date(2030, 1, 1))
    assert moved.replacements[0].lifetime_days == 47


@pytest.mark.parametrize(("issuer", "self_signed", "expected"), [
    ("CN=R12, O=Let's Encrypt, C=US", False, "letsencrypt"),
    ('CN=Go Daddy Secure Certificate Authority - G2, O="GoDaddy.com, Inc.", C=US', False, "godaddy"),
    ("CN=Contoso Issuing CA, DC=corp, DC=contoso, DC=local", False, "adcs"),
    ("CN=Example Trust CA, O=Example Trust, C=US", False, None),
    ("CN=EX01", True, None),
])
def test_issuers_are_matched_to_the_catalog(issuer, self_signed, expected):
    ca = issuer_ca({"issuer": issuer, "self_signed": self_signed}, CATALOG)
    assert (ca.id if ca else None) == expected


def test_an_unknown_public_issuer_gets_the_public_maximum():
    text = (DATA / "ex2016-contoso.json").read_text().replace(
        "CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1, O=DigiCert Inc", "CN=Example Trust RSA CA, O=Example Trust")
    [replacement] = assess(parse_export(text), PARAMS, CATALOG, today=TODAY, horizon_end=HORIZON_END).replacements
    assert (replacement.ca, replacement.issuer) == ("", "Example Trust")
    assert replacement.lifetime_days == PARAMS.value("public_max_lifetime_days", to_day(TODAY))


# --------------------------------------------------------------------------- coverage per server (QA 18c)

DIGICERT = "5113AE0233A72FCCB75BE6A91B1F2CB5A1C2F0E7"
DIGICERT_SUBJECT = "CN=mail.contoso.com, O=Contoso Ltd, L=Redmond, S=Washington, C=US"
MAIL_USES = ("OWA external URL, ECP external URL, EWS internal URL, EWS external URL, ActiveSync internal URL, "
             "ActiveSync external URL, OAB internal URL, OAB external URL, MAPI internal URL, Outlook Anywhere internal "
             "host name, Outlook Anywhere external host name")


def contoso_2016(change) -> ExchangeExport:
    """ex2016-contoso.json after `change(data)`."""
    data = json.loads((DATA / "ex2016-contoso.json").read_text(encoding="utf-8-sig"))
    change(data)
    return parse_export(json.dumps(data), "ex2016-contoso.json")


def without_ex02_digicert(data: dict) -> None:
    data["certificates"] = [c for c in data["certificates"] if (c["Thumbprint"], c["Server"]) != (DIGICERT, "EX02")]


def without_certificates(data: dict) -> None:
    del data["certificates"]


def test_a_name_is_covered_only_by_a_certificate_bound_to_iis_on_the_server_that_serves_it():
    """The certificate renewed on EX01 only: EX02's virtual directories use mail.contoso.com, but IIS on EX02 has only
    its self-signed certificate. The DigiCert certificate on EX01 covered the name for every server (QA 18c fault 1)."""
    export = contoso_2016(without_ex02_digicert)
    facts = current_state(export, today=TODAY, horizon_end=HORIZON_END)
    assert [(e["name"], e["servers"], e["everywhere"], e["elsewhere"]) for e in facts["uncovered_names"]] == [
        ("autodiscover.contoso.com", ["EX02"], False, [DIGICERT]),
        ("mail.contoso.com", ["EX02"], False, [DIGICERT]),
    ]
    assert facts["uncovered_names"][0]["used_by"] == ["Autodiscover internal URI (SCP)"]
    errors = findings(assess(export, PARAMS, CATALOG, today=TODAY, horizon_end=HORIZON_END), "error")
    assert (f"mail.contoso.com ({MAIL_USES} on EX02) is on no certificate bound to IIS on EX02: clients that reach EX02 "
            f"by it see a certificate warning; the DigiCert (incl. GeoTrust, Thawte, RapidSSL) certificate that covers "
            f"it on EX01 ({DIGICERT_SUBJECT}) is not installed on EX02.") in errors
    # each server's own internal name: one server, so the text is as before
    assert ("ex02.corp.contoso.local (OWA internal URL, ECP internal URL) is only on self-signed certificates: clients "
            "that do not trust them see a warning.") in errors


def test_a_certificate_on_the_server_but_not_enabled_for_iis_there_is_named_so():
    """The pasted text (servers read from the virtual directories' Server lines): EX02 has the DigiCert certificate,
    enabled for SMTP only."""
    text = (DATA / "ex2016-contoso.txt").read_text()
    at = text.index("-Server EX02")
    export = parse_export(text[:at] + text[at:].replace("Services           : IIS, SMTP", "Services           : SMTP", 1))
    errors = findings(assess(export, PARAMS, CATALOG, today=TODAY, horizon_end=HORIZON_END), "error")
    assert (f"mail.contoso.com ({MAIL_USES} on EX02) is on no certificate bound to IIS on EX02: clients that reach EX02 "
            f"by it see a certificate warning; the DigiCert (incl. GeoTrust, Thawte, RapidSSL) certificate that covers "
            f"it on EX01 ({DIGICERT_SUBJECT}) is on EX02 but not enabled for IIS there.") in errors


def test_a_name_no_server_covers_keeps_one_finding_and_is_not_also_an_autodiscover_warning():
    """Every server agrees: the text names no server. autodiscover.contoso.com, used by the SCP and uncovered, was also
    'not covered' in the Autodiscover warning (QA 18c fault 8)."""
    def unbound(data: dict) -> None:
        for cert in data["certificates"]:
            if cert["Thumbprint"] == DIGICERT:
                cert["Services"] = "SMTP"

    export = contoso_2016(unbound)
    facts = current_state(export, today=TODAY, horizon_end=HORIZON_END)
    assert [(e["name"], e["servers"], e["everywhere"]) for e in facts["uncovered_names"]] == [
        ("autodiscover.contoso.com", ["EX01", "EX02"], True), ("mail.contoso.com", ["EX01", "EX02"], True)]
    assert facts["autodiscover_names_not_covered"] == ["autodiscover.fabrikam.com"]
    result = assess(export, PARAMS, CATALOG, today=TODAY, horizon_end=HORIZON_END)
    assert f"mail.contoso.com ({MAIL_USES}) is on no certificate bound to IIS: clients that use it see a certificate " \
           "warning." in findings(result, "error")
    assert [f for f in result.findings if f.text.startswith("autodiscover.contoso.com")] == [
        Finding("error", "autodiscover.contoso.com (Autodiscover internal URI (SCP)) is on no certificate bound to IIS: "
                         "clients that use it see a certificate warning.")]


def failed_collection(*servers: str):
    def change(data: dict) -> None:
        data["certificates"] = [c for c in data["certificates"] if c["Server"] not in servers]
        data["errors"] = [{"Command": f"Get-ExchangeCertificate -Server {s}", "Message": "Access denied"} for s in servers]
    return change


def test_servers_whose_certificates_were_not_collected_are_not_checked_and_their_state_is_unknown():
    """The collection failed: every name was 'on no certificate' (four errors, and Autodiscover warnings), and the
    collection errors were not mentioned (QA 18c fault 2)."""
    export = contoso_2016(failed_collection("EX01", "EX02"))
    facts = current_state(export, today=TODAY, horizon_end=HORIZON_END)
    assert facts["certificates_not_collected"] == [
        {"server": "EX01", "error": "Get-ExchangeCertificate -Server EX01: Access denied"},
        {"server": "EX02", "error": "Get-ExchangeCertificate -Server EX02: Access denied"}]
    assert (facts["uncovered_names"], facts["self_signed_only_names"], facts["autodiscover_names_not_covered"]) == (
        [], [], [])
    result = assess(export, PARAMS, CATALOG, today=TODAY, horizon_end=HORIZON_END)
    assert result.findings == (Finding("warning", "The certificates on EX01 and EX02 were not collected "
                                                  "(Get-ExchangeCertificate -Server EX01: Access denied; "
                                                  "Get-ExchangeCertificate -Server EX02: Access denied): their state is "
                                                  "unknown, so the names they serve were not checked.",
                                       "Collect their certificates (Get-ExchangeCertificate -Server <name>, once per "
                                       "server) and import again."),)
    nothing = assess(contoso_2016(without_certificates), PARAMS, CATALOG, today=TODAY, horizon_end=HORIZON_END)
    assert [f.text.split(":")[0] for f in nothing.findings] == ["The export has no certificates from EX01 and EX02"]


def test_one_server_not_collected_leaves_the_others_checked():
    export = contoso_2016(failed_collection("EX02"))
    facts = current_state(export, today=TODAY, horizon_end=HORIZON_END)
    assert facts["certificates_not_collected"] == [
        {"server": "EX02", "error": "Get-ExchangeCertificate -Server EX02: Access denied"}]
    assert facts["uncovered_names"] == []  # ex02.corp.contoso.local was 'on no certificate'
    assert [e["name"] for e in facts["self_signed_only_names"]] == ["ex01.corp.contoso.local"]
    assert facts["autodiscover_names_not_covered"] == []  # EX02's certificate may carry it
    unknown = assess(export, PARAMS, CATALOG, today=TODAY, horizon_end=HORIZON_END).findings[1]
    assert unknown == Finding("warning", "The certificates on EX02 were not collected (Get-ExchangeCertificate -Server "
                                         "EX02: Access denied): its state is unknown, so the names it serves were not "
                                         "checked.",
                              "Collect its certificates (Get-ExchangeCertificate -Server EX02) and import again.")


def test_certificates_pasted_without_their_server_or_an_edge_server_skipped_are_not_a_missing_collection():
    text = (DATA / "ex2016-contoso.txt").read_text().replace(" -Server EX01", "").replace(" -Server EX02", "")
    facts = current_state(parse_export(text), today=TODAY, horizon_end=HORIZON_END)
    assert facts["certificates_not_collected"] == []
    assert [e["name"] for e in facts["self_signed_only_names"]] == ["ex01.corp.contoso.local", "ex02.corp.contoso.local"]
    assert state("ex2013-fabrikam.json")["certificates_not_collected"] == []  # EDGE01 serves no client names


def test_a_name_used_from_outside_on_a_certificate_of_the_own_ca_is_a_warning():
    """webmail.fabrikam.com, the external name of OWA and ActiveSync, is on an AD CS certificate: phones outside the
    domain do not trust it, as the engine says of the internal-CA option, but the current state said nothing (QA 18c
    fault 5). mbx01.fabrikam.local, used inside only, is not flagged."""
    facts = state("ex2013-fabrikam.json")
    [entry] = facts["private_ca_only_names"]
    assert (entry["name"], entry["servers"], entry["everywhere"]) == ("webmail.fabrikam.com", ["MBX01"], True)
    text = ("webmail.fabrikam.com (OWA external URL, ECP external URL, EWS external URL, ActiveSync external URL, OAB "
            "external URL, Outlook Anywhere external host name) is on a certificate of the organisation's own CA: phones "
            "and computers outside the domain see a warning unless they were given its root certificate.")
    assert text in findings(assessed("ex2013-fabrikam.json"), "warning")
    assert state("ex2016-contoso.json")["private_ca_only_names"] == []  # a public CA's certificate


def test_a_server_named_by_its_fqdn_is_the_same_server():
    """Certificates pasted after 'Get-ExchangeCertificate -Server ex02.corp.contoso.local' are EX02's, whose virtual
    directories say Server EX02: not a server of its own whose certificates were not collected."""
    text = (DATA / "ex2016-contoso.txt").read_text().replace("-Server EX02", "-Server ex02.corp.contoso.local")
    facts = current_state(parse_export(text), today=TODAY, horizon_end=HORIZON_END)
    assert facts["certificates_not_collected"] == []
    assert [c["servers"] for c in facts["certificates"]] == [c["servers"] for c in state("ex2016-contoso.txt")["certificates"]]
    assert facts["uncovered_names"] == []
