"""Profile loading and validation: every problem named by file, row, field and reason."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import yaml
from filebuilders import workbook_bytes, zip_patched
from openpyxl import Workbook

import decision
from decision.catalog import default_catalog
from decision.dates import to_day
from decision.errors import InputError
from decision.parameters import default_parameters
from decision.profiles import FIELDS, TEXT, TEXT_COLUMNS, _days, _flags, _is_blank, _iso_days, load_profiles, read_table, validate
from decision.tables import UNSAVED_FORMULA, table_parts

PARAMS, CATALOG = default_parameters(), default_catalog()
GOOD = {"org": "Contoso", "external_domain": "contoso.com", "users": 50}


def load(source, **kw):
    return load_profiles(source, PARAMS, CATALOG, **kw)


def messages(result) -> list[str]:
    return [str(i) for i in result.issues]


def test_defaults_are_filled_from_the_schema_and_parameters():
    frame = load(GOOD).frame
    row = frame.iloc[0]
    assert row["desktops"] == 50 and row["owa_host"] == "mail.contoso.com"
    assert row["admin_rate"] == PARAMS.value("admin_rate") and row["w_cost"] == PARAMS.value("w_cost")
    assert row["exchange_version"] == "SE" and row["ca"] == "cheapest" and row["split_dns"]


def test_the_schema_covers_every_design_field():
    design = {"org", "exchange_version", "start", "horizon_years", "external_domain", "extra_domains",
              "internal_domain", "servers", "owa_host", "internal_names", "root_on_exchange", "split_dns", "users",
              "desktops", "domain_joined_share", "mobile_devices", "mdm_share", "partner_tls", "internal_ca",
              "acme_ok", "dns_api", "spare_ip", "ca", "currency", "admin_rate", "user_rate", "w_cost", "w_trust",
              "w_reconfiguration", "w_url_change"}
    assert design <= {f.name for f in FIELDS}


def test_unknown_field_is_named_with_a_suggestion():
    with pytest.raises(InputError, match="unknown field.*did you mean 'mobile_devices'"):
        load({**GOOD, "mobile_device": 3})


def test_unknown_weight_is_named_with_a_suggestion():
    result = load({**GOOD, "weights": {"cots": 1}})
    assert any("weights.cots" in m and "did you mean 'cost'" in m for m in messages(result))


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("users", -1, "at least 0"), ("users", 2.5, "whole number"), ("users", "many", "not a number"),
    ("admin_rate", "$75.00", "not a number: write the amount alone, without a currency sign or code (75.00 for "
                             "$75.00); the currency field says which currency it is in"),
    ("user_rate", "40 EUR", "without a currency sign or code"), ("admin_rate", "€ 75,00", "without a currency sign"),
    ("admin_rate", "USD", "not a number (got"), ("users", "$5", "not a number (got"),  # no amount; not money
    ("admin_rate", "R$ 75", "without a currency sign"), ("user_rate", "75 kr", "without a currency sign"),  # iso4217's
    ("admin_rate", "per 75", "not a number (got"),  # three letters that name no currency
    ("users", 20_000_000, "must be at most 10,000,000 (got"), ("admin_rate", 10_001, "must be at most 10,000 (got"),
    ("users", float("nan"), "required field is empty"), ("mobile_devices", float("inf"), "finite"),
    ("mdm_share", 1.5, "at most 1 (100%)"), ("domain_joined_share", -0.1, "at least 0 (0%)"),
    ("horizon_years", 50, "at most 10"), ("start", "2026-02-30", "not a date"), ("start", "1980-01-01", "between"),
    ("exchange_version", "2003", "must be one of"), ("ca", "lets-encrypt", "did you mean 'letsencrypt'"),
    ("external_domain", "-contoso.com", "not a valid DNS name"), ("external_domain", "10.0.0.1", "IP address"),
    ("owa_host", "a" * 64 + ".com", "not a valid DNS name"), ("servers", ["ex01.contoso.local"], "NetBIOS"),
    ("split_dns", "maybe", "true or false"), ("org", "bad\x00name", "control characters"),
    ("extra_domains", ["good.com", "bad_domain.com"], "not a valid DNS name"),
    ("servers", "System.Object[]", "a PowerShell list written as its type name: join its items first (-join ';')"),
    ("servers", ["NW EX01", "NW-EX02"], "a server name holds no spaces"),  # one bad name, not the servers NW and EX01
    ("servers", "EX01 EX02", "separate the names with ';'"),
    ("owa_host", "https://mail.münchen.de/owa", "a URL or a path: give the host name alone"),
    ("external_domain", "contoso.com/owa", "a URL or a path: give the host name alone"),
    ("country", "Germany", "not a two-letter country code"), ("country", "D1", "not a two-letter country code"),
])
def test_bad_values_are_rejected_with_field_and_reason(field, value, reason):
    result = load({**GOOD, field: value})
    assert result.frame.empty
    assert any(f"field '{field}'" in m and reason in m and "row 1" in m for m in messages(result)), messages(result)


@pytest.mark.parametrize(("field", "value", "shown"), [
    ("servers", "EX01;NW EX02", "NW EX02"), ("extra_domains", "good.com; Bad_Domain.COM.", "Bad_Domain.COM."),
])
def test_a_bad_list_item_is_reported_as_written(field, value, shown):
    result = load({**GOOD, field: value})
    assert any(f"field '{field}'" in m and f"(got {shown!r})" in m for m in messages(result)), messages(result)


@pytest.mark.parametrize(("weights", "reason"), [
    ({"cost": -2}, "must be at least 0 (got '-2')"),  # the others default to 0.3, 0.2, 0.1: the sum is negative
    ({"cost": "x", "trust": 0, "reconfiguration": 0, "url_change": 0}, "not a number (got 'x')"),
])
def test_a_bad_weight_is_one_fault_not_also_all_zero_weights(weights, reason):
    assert messages(load({**GOOD, "weights": weights})) == [f"<profile>, row 1, field 'w_cost': {reason}"]


def test_all_zero_weights_are_rejected():
    result = load({**GOOD, "weights": {"cost": 0, "trust": 0, "reconfiguration": 0, "url_change": 0}})
    assert any("weights cannot all be zero" in m for m in messages(result))


def test_international_names_become_punycode_and_trailing_dots_go():
    row = load({**GOOD, "external_domain": "bücher.de.", "owa_host": "MAIL.Bücher.DE"}).frame.iloc[0]
    assert row["external_domain"] == "xn--bcher-kva.de" and row["owa_host"] == "mail.xn--bcher-kva.de"


def test_duplicate_yaml_keys_are_rejected(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("org: A\nusers: 5\nexternal_domain: a.com\nusers: 6\n")
    with pytest.raises(InputError, match="line 4.*duplicate key 'users'"):
        load(path)


def test_yaml_yes_no_words_stay_text_so_norway_is_no_and_yes_no_fields_still_read_them(tmp_path):
    """QA: `country: NO` (Norway) was read as false by YAML 1.1 and rejected as "got 'FALSE'". Profiles read booleans
    as YAML 1.2 does (true / false only); the yes/no fields read yes, no, on and off themselves."""
    path = tmp_path / "p.yaml"
    path.write_text("org: Nordlys AS\nexternal_domain: nordlys.no\ncountry: NO\nusers: 10\nsplit_dns: yes\n"
                    "acme_ok: Off\ninternal_ca: ON\ndns_api: true\nspare_ip: FALSE\n")
    row = load(path).frame.iloc[0]
    assert row["country"] == "NO"
    assert [bool(row[f]) for f in ("split_dns", "acme_ok", "internal_ca", "dns_api", "spare_ip")] == [
        True, False, True, True, False]


def test_yaml_tags_never_construct_objects(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("org: !!python/object/apply:os.system ['echo hacked > /tmp/pwned']\nusers: 1\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load(path)


def test_a_table_reports_bad_rows_by_spreadsheet_row_and_keeps_the_good(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("org,external_domain,users,mobile_devices\nA,a.com,10,2\nB,b.com,-3,x\nC,c.com,5,0\n")
    result = load(path)
    assert list(result.frame["org"]) == ["A", "C"]
    assert result.rows_in == 3 and result.rejected_rows == 1
    assert sorted(messages(result)) == [f"{path}, row 3, field 'mobile_devices': not a number (got 'x')",
                                        f"{path}, row 3, field 'users': must be at least 0 (got '-3')"]


@pytest.mark.parametrize("suffix", [".xlsx", ".parquet", ".csv"])
def test_tables_in_every_format_give_the_same_profiles(tmp_path, suffix):
    frame = pd.DataFrame([GOOD, {**GOOD, "org": "Fabrikam", "external_domain": "fabrikam.com",
                                 "extra_domains": "a.com;b.com", "internal_ca": True}])
    path = tmp_path / f"p{suffix}"
    {".xlsx": frame.to_excel, ".parquet": frame.to_parquet, ".csv": frame.to_csv}[suffix](path, index=False)
    got = load(path).frame
    expected = load([GOOD, {**GOOD, "org": "Fabrikam", "external_domain": "fabrikam.com",
                            "extra_domains": ["a.com", "b.com"], "internal_ca": True}]).frame
    cols = [f.name for f in FIELDS if f.name != "start"]
    pd.testing.assert_frame_equal(got[cols].reset_index(drop=True), expected[cols], check_dtype=False)


def test_numbers_in_a_semicolon_file_read_as_the_spreadsheet_wrote_them(tmp_path):
    """A ';' file comes from a locale that writes 1.605,5 for 1605.5: points group thousands, commas are decimal."""
    path = tmp_path / "p.csv"
    path.write_text("org;external_domain;users;desktops;admin_rate;mdm_share;w_cost\n"
                    "A;a.com;5.000;1.605;1.234,5;0,5;1\n"
                    "B;b.com;1.200.000;42;68.50;0.605;0.25\n"  # no groups of three: points stay decimal points
                    "C;c.com;5.00;3;7;0,85;0,5\n", encoding="utf-8")
    frame = load(path).frame
    assert frame["users"].tolist() == [5000, 1_200_000, 5]
    assert frame["desktops"].tolist() == [1605, 42, 3]
    assert frame["admin_rate"].tolist() == [1234.5, 68.5, 7]
    assert frame["mdm_share"].tolist() == [0.5, 0.605, 0.85]


def test_thousands_in_a_comma_file_read_as_an_english_spreadsheet_wrote_them(tmp_path):
    """Excel in an English locale saves a number formatted with separators as "1,360" (quoted)."""
    path = tmp_path / "p.csv"
    path.write_text('org,external_domain,users,desktops,admin_rate\n'
                    'A,a.com,"1,360","1,234,567",75\n'
                    'B,b.com,42,7,"1,234.5"\n'
                    'C,c.com,"1,36",7,"12,34"\n', encoding="utf-8")  # not groups of three: not numbers
    result = load(path)
    assert result.frame["users"].tolist() == [1360, 42]
    assert result.frame["desktops"].tolist() == [1_234_567, 7]
    assert result.frame["admin_rate"].tolist() == [75, 1234.5]
    assert sorted(messages(result)) == [f"{path}, row 4, field 'admin_rate': not a number (got '12,34')",
                                        f"{path}, row 4, field 'users': not a number (got '1,36')"]


def test_thousands_in_workbook_text_cells_read_as_in_a_comma_file(tmp_path):
    """A number typed into a text cell ("1,360") was rejected in a workbook and read as 1360 in a ',' CSV."""
    rows = [["org", "external_domain", "users", "desktops", "admin_rate"],
            ["A", "a.com", "1,360", "1,234,567", 75], ["B", "b.com", 42, 7, "1,234.5"],
            ["C", "c.com", "1,36", 7, "12,34"]]
    workbook, csv = tmp_path / "p.xlsx", tmp_path / "p.csv"
    workbook.write_bytes(workbook_bytes(rows))
    csv.write_text("\n".join(",".join(f'"{v}"' for v in row) for row in rows) + "\n", encoding="utf-8")
    read = {path.suffix: load(path) for path in (workbook, csv)}
    for result in read.values():
        assert result.frame["users"].tolist() == [1360, 42]
        assert result.frame["desktops"].tolist() == [1_234_567, 7]
        assert result.frame["admin_rate"].tolist() == [75, 1234.5]
    assert ([(i.row, i.field, i.reason, i.value) for i in read[".xlsx"].issues]
            == [(i.row, i.field, i.reason, i.value) for i in read[".csv"].issues]
            == [(4, "users", "not a number", "1,36"), (4, "admin_rate", "not a number", "12,34")])


def test_french_and_swiss_thousands_in_a_semicolon_file(tmp_path):
    """French Excel groups thousands with a (narrow) no-break space, Swiss with an apostrophe and a decimal point."""
    path = tmp_path / "p.csv"
    path.write_text("org;external_domain;users;desktops;admin_rate;mdm_share\n"
                    "A;a.com;1 360;1\u00a0234\u00a0567;1\u202f234,5;12,5 %\n"
                    "B;b.com;1'360;1\u2019200;1'234.5;0,25\n", encoding="utf-8")
    frame = load(path).frame
    assert frame["users"].tolist() == [1360, 1360]
    assert frame["desktops"].tolist() == [1_234_567, 1200]
    assert frame["admin_rate"].tolist() == [1234.5, 1234.5]
    assert frame["mdm_share"].tolist() == [0.125, 0.25]


@pytest.mark.parametrize("sep", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
def test_lines_of_separators_above_the_header_are_blank_rows(tmp_path, sep):
    """Excel saves an empty first row as ',,,': it was read as the header ('org' ... missing)."""
    path = tmp_path / "p.csv"
    path.write_text(f"{sep * 2}\n\n{sep * 2}\norg{sep}external_domain{sep}users\nA{sep}a.com{sep}5\n{sep * 2}\n"
                    f"B{sep}b.com{sep}x\n", encoding="utf-8")
    result = load(path)
    assert result.frame["org"].tolist() == ["A"] and result.frame["row"].tolist() == [5]
    assert messages(result) == [f"{path}, row 7, field 'users': not a number (got 'x')"]


def test_rows_of_white_space_alone_are_blank_rows_whatever_the_space(tmp_path):
    """Cells are stripped only where their first byte may start white space: a no-break or ideographic space (bytes
    above 0x7F), a tab; a row of them is blank, one with a value after spaces is not."""
    path = tmp_path / "p.csv"
    path.write_text("org,external_domain,users\nA,a.com,5\n\"\u00a0\",\" \",\n\"\u3000\",\"\t\",\"\u2003\"\n"
                    "\" \",\"\u00a0b.com\",\nC,c.com,7\n", encoding="utf-8")
    result = load(path)
    assert result.frame["org"].tolist() == ["A", "C"] and result.frame["row"].tolist() == [2, 6]
    assert [(i.row, i.field) for i in result.issues] == [(5, "org"), (5, "users")]


def test_a_tab_files_numbers_read_as_the_spreadsheet_wrote_them(tmp_path):
    """Excel's "Unicode Text" (tabs) holds numbers as its locale writes them; '1.360' and '1,360' read two ways, so
    the row's other numbers decide, or a count column (1.36 users is no count); else the cell is rejected."""
    path = tmp_path / "p.txt"
    path.write_text("org\texternal_domain\tusers\tdomain_joined_share\thorizon_years\tadmin_rate\n"
                    "A\ta.com\t1.360\t0,85\t2,5\t1.250\n"  # German: 1360, 1250
                    "B\tb.com\t1,360\t0.85\t2.5\t1,250\n"  # English: 1360, 1250
                    "C\tc.com\t7\t85%\t3\t1.234,5\n"  # 1.234,5 is German only
                    "D\td.com\t\"1,234,567\"\t0.5\t1.125\t1,234.5\n"  # the decimal point: 1.125
                    "E\te.com\t1.360\t0,5\t3\t7.5\n"  # both marks shown: the count's one group reads as thousands
                    "F\tf.com\t1.360\t0,85\t3\t1,250\n"  # German: 1,250 is 1.25
                    "G\tg.com\t5\t85%\t3\t1.250\n", encoding="utf-16")  # nothing says which: rejected
    result = load(path)
    frame = result.frame
    assert frame["users"].tolist() == [1360, 1360, 7, 1_234_567, 1360, 1360]
    assert frame["domain_joined_share"].tolist() == [0.85, 0.85, 0.85, 0.5, 0.5, 0.85]
    assert frame["horizon_years"].tolist() == [2.5, 2.5, 3, 1.125, 3, 3]
    assert frame["admin_rate"].tolist() == [1250, 1250, 1234.5, 1234.5, 7.5, 1.25]
    assert [(i.row, i.field, i.value) for i in result.issues] == [(8, "admin_rate", "1.250")]
    assert "reads as two numbers" in result.issues[0].reason


def test_blank_lines_above_a_semicolon_header_count_as_rows(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes(b"\xef\xbb\xbf\r\n\r\norg;external_domain;users\r\nA;a.com;1.360\r\n\r\nB;b.com;7\r\n")
    frame = load(path).frame
    assert frame["users"].tolist() == [1360, 7] and frame["row"].tolist() == [4, 6]


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["plain", "bom"])
def test_excels_separator_line_sets_the_separator_and_is_not_a_row(tmp_path, bom):
    """Excel reads a first line "sep=;" as the field separator and shows the header as row 1."""
    path = tmp_path / "p.csv"
    path.write_bytes(bom + b"sep=;\r\norg;external_domain;users;domain_joined_share\r\nA;a.com;1.360;0,5\r\n"
                     b"B;b.com;x;1\r\n")
    result = load(path)
    assert result.frame["users"].tolist() == [1360] and result.frame["row"].tolist() == [2]
    assert result.frame["domain_joined_share"].tolist() == [0.5]
    assert messages(result) == [f"{path}, row 3, field 'users': not a number (got 'x')"]


def test_a_separator_line_with_a_separator_this_tool_does_not_read_is_one_clear_error(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes(b"sep=|\norg|external_domain|users\nA|a.com|5\n")
    with pytest.raises(InputError) as caught:
        load(path)
    assert str(caught.value) == (f"{path}: the first line ('sep=|') sets a field separator this tool does not read: "
                                 "save the CSV with ',' or ';' between the fields")


def test_windows_powershell_export_csv_is_read_with_its_type_line_as_row_1(tmp_path):
    """Windows PowerShell 5.1's Export-Csv (without -NoTypeInformation) starts with '#TYPE <class>', quotes every
    value and writes True/False; a spreadsheet shows the '#TYPE' line as row 1 and the header as row 2."""
    path = tmp_path / "p.csv"
    path.write_bytes(b'#TYPE System.Management.Automation.PSCustomObject\r\n"org","external_domain","users","split_dns"'
                     b'\r\n"A","a.com","5","True"\r\n"B","b.com","-1","False"\r\n')
    result = load(path)
    assert result.frame["row"].tolist() == [3] and result.frame["split_dns"].tolist() == [True]
    assert messages(result) == [f"{path}, row 4, field 'users': must be at least 0 (got '-1')"]


def test_a_csv_line_cut_short_is_reported_by_read_table_and_evaluate(tmp_path):
    """`read_table` (the API, `evaluate`, the appendix and the app's upload) lists a line with fewer fields than the
    header as a row it could not read, with its row number (a quoted value over two lines is one row), instead of
    reading the fields it lacks as empty: scored with defaults (here, desktops = users)."""
    path = tmp_path / "p.csv"
    path.write_bytes(b'org,external_domain,users,desktops\n"A, Group",a.com,5,\n"B\nGroup",b.com,6\nC,c.com,7,7')
    table = read_table(path)
    assert table.attrs["rows"].tolist() == [2, 4]
    assert [(i.row, i.field) for i in table.attrs["unread"]] == [(3, "desktops")]
    message = (f"{path}, row 3, field 'desktops': has 3 values but the header has 4 columns: the line looks cut short "
               "(write an empty value as ',,', do not leave it out)")
    result = load(path)
    assert result.frame["row"].tolist() == [2, 4] and messages(result) == [message] and result.rows_in == 3
    evaluation = decision.evaluate(path)
    assert [str(i) for i in evaluation.issues] == [message] and len(evaluation.profiles) == 2


def test_read_table_reads_a_table_of_more_than_one_part(tmp_path):
    """QA: a CSV of more than 50,000 rows is read in parts, and joining them failed inside pandas (it compares the
    parts' attrs, arrays of their row positions), so `evaluate` and the API ended in an internal error."""
    rows = 50_003
    path = tmp_path / "p.csv"
    path.write_text("org,external_domain,users\n" + "".join(f"O{i},d{i}.com,{i % 90 + 1}\n" for i in range(rows)))
    table = read_table(path)
    assert len(table) == rows and table.attrs["rows"][[0, -1]].tolist() == [2, rows + 1]
    assert table["org"].iloc[-1] == f"O{rows - 1}" and table.attrs["separator"] == ","


DEC_1 = (dt.date(2026, 12, 1) - dt.date(1970, 1, 1)).days


@pytest.mark.parametrize("written", ["2026-12-01", "2026-12-01 00:00:00", "2026-12-01 0:00:00", "2026-12-01T00:00:00.000Z",
                                     "2026-12-01 14:30", "01.12.2026", "1.12.2026", "01.12.2026 00:00",
                                     dt.date(2026, 12, 1), dt.datetime(2026, 12, 1, 9, 15), pd.Timestamp("2026-12-01")])
def test_a_date_as_spreadsheets_and_exports_write_it(written):
    """Excel rewrites ISO dates into the locale's short date when a CSV is saved; LibreOffice, SQL and JSON exports
    add a time of day; YAML, XLSX and Parquet give date objects."""
    assert load({**GOOD, "start": written}).frame["start"].tolist() == [DEC_1]


@pytest.mark.parametrize(("sep", "written", "accepted"), [(";", "01/12/2026", True), (",", "12/1/2026", False),
                                                          (",", "1/12/2026", False), ("\t", "01/12/2026", False)])
def test_a_date_with_slashes_is_read_only_where_the_day_comes_first(tmp_path, sep, written, accepted):
    """A ';' file comes from a European locale (day/month/year); in a ',' file it may be a US month/day/year."""
    path = tmp_path / "p.csv"
    path.write_text(sep.join(["org", "external_domain", "users", "start"]) + "\n" + sep.join(["A", "a.com", "5", written])
                    + "\n", encoding="utf-8")
    result = load(path)
    if accepted:
        assert result.frame["start"].tolist() == [DEC_1]
    else:
        assert messages(result) == [f"{path}, row 2, field 'start': not a date (use YYYY-MM-DD: with slashes, the day "
                                    f"may come first or the month) (got '{written}')"]


@pytest.mark.parametrize("written", ["2026-12-015", "2026-12-01 to 2027-06-30", "2026-12-01garbage", "31.02.2026",
                                     "2026-12", "01.12.26"])
def test_text_that_only_starts_like_a_date_is_rejected_from_every_input(written):
    """Text among date objects (a workbook column, a YAML list) was cut to its first ten characters: '2026-12-015'
    scored as 2026-12-01, or not, by where the chunks were cut."""
    result = load([{**GOOD, "start": dt.date(2026, 12, 1)}, {**GOOD, "start": written}])
    assert messages(result) == [f"<profiles>, row 2, field 'start': not a date (use YYYY-MM-DD) (got '{written}')"]


def test_the_external_domain_listed_again_among_the_extra_domains_is_dropped():
    """Pasting every accepted domain lists the primary one too: it counted twice (a second wildcard, DNS records)."""
    frame = load({**GOOD, "extra_domains": "CONTOSO.com; fabrikam.com; contoso.com.; woodgrove.com"}).frame
    assert frame["extra_domains"].tolist() == ["fabrikam.com;woodgrove.com"]
    frame = load([{**GOOD, "extra_domains": "contoso.com"}, {**GOOD, "extra_domains": "fabrikam.com"}]).frame
    assert frame["extra_domains"].tolist() == ["", "fabrikam.com"]


@pytest.mark.parametrize("suffix", ["co.uk", "CO.UK.", "com", "github.io", "x.kawasaki.jp"])
def test_a_public_suffix_is_no_external_domain(suffix):
    """QA: external_domain co.uk was accepted and *.co.uk recommended; a CA refuses a wildcard on a public suffix
    (BR §3.2.2.6), and nobody owns co.uk. The list is the Public Suffix List that publicsuffixlist ships (offline)."""
    name = suffix.lower().rstrip(".")
    result = load({**GOOD, "external_domain": suffix})
    assert result.frame.empty
    assert messages(result) == [f"<profile>, row 1, field 'external_domain': {name} is a public suffix, not a registered "
                                f"domain: give your domain, e.g. contoso.{name} (got '{name}')"]


def test_public_suffixes_are_no_accepted_domains_nor_owa_hosts_and_only_their_rows_are_rejected():
    result = load([{**GOOD, "extra_domains": "fabrikam.com; com"}, {**GOOD, "owa_host": "co.uk"},
                   {**GOOD, "external_domain": "contoso.co.uk", "extra_domains": "city.kawasaki.jp", "owa_host": "a.github.io"},
                   {**GOOD, "external_domain": "www.ck"}])  # under a wildcard rule (*.kawasaki.jp, *.ck) or its exception
    assert messages(result) == [
        "<profiles>, row 1, field 'extra_domains': com is a public suffix, not a registered domain: give the accepted "
        "domain, e.g. contoso.com (got 'com')",
        "<profiles>, row 2, field 'owa_host': co.uk is a public suffix, not a registered domain: give the host name "
        "clients use, e.g. mail.contoso.co.uk (got 'co.uk')"]
    assert result.frame["external_domain"].tolist() == ["contoso.co.uk", "www.ck"]


def test_a_public_suffix_listed_below_rows_without_a_list_is_told_at_its_own_row():
    """Only the rows that list accepted domains are split and looked up: each name keeps its row."""
    result = load([GOOD, {**GOOD, "extra_domains": " "}, {**GOOD, "extra_domains": "fabrikam.com;co.uk"}, GOOD])
    assert [(i.row, i.field, i.value) for i in result.issues] == [(3, "extra_domains", "co.uk")]
    assert result.frame["row"].tolist() == [1, 2, 4]


def test_a_single_label_owa_host_is_rejected():
    result = load({**GOOD, "owa_host": "mail"})
    assert messages(result) == ["<profile>, row 1, field 'owa_host': a single label: give the full name clients outside "
                                "reach OWA by, such as mail.contoso.com (got 'mail')"]


def test_whole_number_ids_from_a_number_column_keep_no_decimal_point():
    """A Parquet or pandas id column with a missing id is float: 1001 came out as profile '1001.0'."""
    table = pd.DataFrame({"id": [1001.0, float("nan"), 7.5], "org": ["A", "B", "C"], "external_domain": "a.com",
                          "users": 5})
    assert load(table).frame["id"].tolist() == ["1001", "B", "7.5"]


def _outcome(result) -> tuple:
    return result.frame.to_dict("list"), messages(result), result.rows_in


# blank lines above the header, a value quoted over two lines, a rejected row, a row with too many fields, a
# character outside the BMP (a surrogate pair in UTF-16)
UNICODE_TABLE = ("\r\n{header}\r\nZürich AG{s}a.com{s}5\r\n\"Two\r\nLines\"{s}b.com{s}x\r\nC 😀{s}c.com{s}7{s}extra\r\n"
                 "\r\nD{s}d.com{s}-1\r\nÉtoile{s}e.com{s}9\r\n")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("sep", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
def test_a_utf16_csv_with_a_bom_reads_as_the_same_utf8_file(tmp_path, encoding, sep):
    """Windows PowerShell 5.1's Out-File and '>' and Excel's "Unicode Text" write UTF-16 with a byte order mark."""
    text = UNICODE_TABLE.format(header=sep.join(["org", "external_domain", "users"]), s=sep)
    path = tmp_path / "p.csv"
    path.write_bytes(text.encode("utf-8"))
    want = _outcome(load(path))
    assert want[0]["org"] == ["Zürich AG", "Étoile"] and want[0]["row"] == [3, 8] and want[2] == 5
    path.write_bytes(("\ufeff" + text).encode(encoding))
    assert _outcome(load(path)) == want


def test_a_utf16_file_is_transcoded_in_bounded_chunks_and_left_as_it_is(tmp_path, monkeypatch):
    """Chunks of 7 bytes split characters and surrogate pairs; the transcoded copy is an anonymous temporary file."""
    path = tmp_path / "p.txt"  # Excel's "Unicode Text": tabs, UTF-16 LE with a BOM, CRLF
    path.write_bytes(UNICODE_TABLE.format(header="org\texternal_domain\tusers", s="\t").encode("utf-16"))
    original = path.read_bytes()
    want = _outcome(load(path))
    monkeypatch.setattr("decision.tables.TRANSCODE_BYTES", 7)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "temp"))
    (tmp_path / "temp").mkdir()
    assert _outcome(load(path)) == want and want[0]["org"] == ["Zürich AG", "Étoile"]
    assert path.read_bytes() == original and not list((tmp_path / "temp").iterdir())


def test_a_windows_powershell_csv_saved_in_utf16_keeps_its_type_and_separator_lines(tmp_path):
    """`Export-Csv -Encoding Unicode` (or ConvertTo-Csv > file) writes the '#TYPE' line (row 1); Excel's 'sep=;'
    line is no row."""
    path = tmp_path / "p.csv"
    path.write_bytes('#TYPE System.Management.Automation.PSCustomObject\r\n"org","external_domain","users"\r\n'
                     '"A","a.com","5"\r\n"B","b.com","-1"\r\n'.encode("utf-16"))
    result = load(path)
    assert result.frame["row"].tolist() == [3]
    assert messages(result) == [f"{path}, row 4, field 'users': must be at least 0 (got '-1')"]
    path.write_bytes("sep=;\r\norg;external_domain;users\r\nA;a.com;1.360\r\n".encode("utf-16"))
    assert load(path).frame[["row", "users"]].values.tolist() == [[2, 1360]]


@pytest.mark.parametrize(("data", "reason"), [
    ("org,external_domain,users\r\nA,a.com,5\r\n".encode("utf-16-le"),
     "UTF-16 text without a byte order mark (BOM): save it as CSV (UTF-8)"),
    ("org,external_domain,users\r\nA,a.com,5\r\n".encode("utf-16-be"),
     "UTF-16 text without a byte order mark (BOM): save it as CSV (UTF-8)"),
    ("org,external_domain,users\nA,a.com,5\n".encode("utf-32"), "UTF-32 text, which is not read: save the file as UTF-8"),
    (b"\xff\xfe" + bytes.fromhex("D0CF11E0A1B11AE1") + bytes(2000), "binary file, not a CSV table"),
    ("org,external_domain,users\nA,a.com,5\n".encode("utf-16")[:-1],
     "not valid UTF-16 text: truncated data on line 2 (a damaged or cut-off file?)"),
    ("org,external_domain,users\nA,a.com,5\nB\ud800,b.com,5\n".encode("utf-16", "surrogatepass"),
     "not valid UTF-16 text: illegal UTF-16 surrogate on line 3 (a damaged or cut-off file?)"),
    ("\ufefforg,external_domain,users\rA,a.com,5\rB\udc00,b.com,5\r".encode("utf-16-be", "surrogatepass"),
     "not valid UTF-16 text: illegal encoding on line 3 (a damaged or cut-off file?)"),
    (b"\xff\xfe", "the file is empty"),
], ids=["le-without-bom", "be-without-bom", "utf-32", "binary-after-a-bom", "cut-off", "lone-high-surrogate",
        "lone-low-surrogate-old-mac-lines", "only-a-bom"])
def test_utf16_text_that_cannot_be_read_is_one_clear_error(tmp_path, data, reason):
    path = tmp_path / "p.csv"
    path.write_bytes(data)
    with pytest.raises(InputError) as caught:
        load(path)
    assert str(caught.value) == f"{path}: {reason}"


def test_a_blank_true_false_cell_in_a_semicolon_file_takes_the_default(tmp_path):
    """The parser gives a true/false column with a blank cell as objects, not text: this crashed the reader."""
    path = tmp_path / "p.csv"
    path.write_text("org;external_domain;users;spare_ip;internal_ca\nA;a.com;5.000;true;\nB;b.com;10;;WAHR\n",
                    encoding="utf-8")
    frame = load(path).frame
    assert frame["users"].tolist() == [5000, 10]
    assert frame["spare_ip"].tolist() == [True, False]
    assert frame["internal_ca"].tolist() == [False, True]


@pytest.mark.parametrize(("written", "share"), [("93%", 0.93), ("9.5 %", 0.095), ("12.34%", 0.1234), (".5%", 0.005),
                                                ("100%", 1.0), ("0%", 0.0), ("93\u202f%", 0.93)])
def test_a_share_written_as_a_percentage(written, share):
    assert load({**GOOD, "domain_joined_share": written}).frame["domain_joined_share"].tolist() == [share]


@pytest.mark.parametrize(("field", "written", "reason"), [
    ("mdm_share", "150%", "must be at most 1 (100%)"), ("mdm_share", "%", "not a number"),
    ("mdm_share", "abc%", "not a number"), ("mdm_share", "5%%", "not a number"),
    ("users", "50%", "not a number"), ("admin_rate", "20%", "not a number")])
def test_percentages_that_are_not_shares_are_rejected(field, written, reason):
    result = load({**GOOD, field: written})
    assert messages(result) == [f"<profile>, row 1, field '{field}': {reason} (got '{written}')"]


@pytest.mark.parametrize(("written", "weight"), [("40%", 0.4), ("12.5 %", 0.125), ("0%", 0.0), ("250%", 2.5)])
def test_a_weight_written_as_a_percentage_reads_as_the_fraction(written, weight):
    """The app and the appendix show weights in %; a file giving them so ('40%') was rejected: 'not a number'."""
    for given in ({"w_trust": written}, {"weights": {"trust": written}}):
        assert load({**GOOD, **given}).frame["w_trust"].tolist() == [weight]


def test_weights_in_percent_weigh_as_fractions_and_whole_numbers(tmp_path):
    """Weights are relative: 40% 30% 20% 10% weigh as 0.4 0.3 0.2 0.1 and as 40 30 20 10 (';' file: '12,5 %')."""
    path = tmp_path / "w.csv"
    path.write_text("org;external_domain;users;w_cost;w_trust;w_reconfiguration;w_url_change\n"
                    "A;a.com;50;40%;30 %;20%;10%\nB;a.com;50;0,4;0,3;0,2;0,1\nC;a.com;50;40;30;20;10\n"
                    "D;a.com;50;12,5 %;37,5%;25%;25%\n", encoding="utf-8")
    frame = load(path).frame
    assert frame["w_trust"].tolist() == [0.3, 0.3, 30, 0.375]
    scores = decision.evaluate(path).options.pivot(index="profile", columns="option", values="score")
    pd.testing.assert_series_equal(scores.loc["A"], scores.loc["B"], check_names=False)
    pd.testing.assert_series_equal(scores.loc["A"], scores.loc["C"], check_names=False)


@pytest.mark.parametrize(("given", "field", "reason"), [
    ({"w_cost": "-5%"}, "w_cost", "must be at least 0 (0%)"),
    ({"w_cost": "200000%"}, "w_cost", "must be at most 1,000 (100,000%)"),
    ({"w_cost": "40%", "w_trust": "30"}, "w_trust", "a plain number above 1 beside weights written in % would weigh "
     "over 100%: write every weight in % (30%), or every one as a plain number (30 or 0.3)"),
])
def test_a_weight_in_percent_is_checked_in_percent(given, field, reason):
    """A limit is shown in % too; a plain 30 beside 40% would weigh 3000% (a plain 0.3 is 30% in either form)."""
    assert messages(load({**GOOD, **given})) == [f"<profile>, row 1, field '{field}': {reason} (got '{given[field]}')"]
    assert load({**GOOD, "w_cost": "40%", "w_trust": 0.3}).frame["w_trust"].tolist() == [0.3]


@pytest.mark.parametrize(("written", "reason"), [
    ("EURO", " (did you mean 'EUR'?)"), ("€", " (did you mean 'EUR'?)"), ("US$", " (did you mean 'USD'?)"),
    ("Euros", " (did you mean 'EUR'?)"), ("Pound Sterling", " (did you mean 'GBP'?)"),
    ("$", ": '$' stands for several currencies (such as USD, CAD, AUD, NZD, MXN, SGD, HKD): give the code of yours"),
    ("XYZ", " (such as USD, EUR or GBP)"), ("EU", " (such as USD, EUR or GBP)"),
])
def test_a_currency_that_is_no_iso_4217_code_is_rejected_with_the_code_it_may_mean(written, reason):
    """EURO, €, US$ and XYZ were accepted, and a batch's totals split into 'EUR …, EURO …, US$ …, € …'."""
    result = load({**GOOD, "currency": written})
    assert messages(result) == [f"<profile>, row 1, field 'currency': not an ISO 4217 currency code{reason} "
                                f"(got '{written}')"]


def test_a_currency_code_is_read_in_capitals_without_spaces(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text('org,external_domain,users,currency\nA,a.com,5," eur "\nB,b.com,5,gbp\nC,c.com,5,\n')
    assert load(path).frame["currency"].tolist() == ["EUR", "GBP", "USD"]


def test_a_rejected_number_is_shown_as_written(tmp_path):
    """The errors name the cell as the file has it, not as it was read ('1.234,5', not '1234.5')."""
    semicolon, comma = tmp_path / "de.csv", tmp_path / "en.csv"
    semicolon.write_text("org;external_domain;users;domain_joined_share\nA;a.com;1.234,5;0,5\nB;b.com;5;1,5\n")
    comma.write_text('org,external_domain,users\nA,a.com,"1,360.5"\n')
    assert [(i.row, i.field, i.value) for i in load(semicolon).issues] == [(2, "users", "1.234,5"),
                                                                          (3, "domain_joined_share", "1,5")]
    assert [(i.row, i.field, i.value) for i in load(comma).issues] == [(2, "users", "1,360.5")]


def test_a_cell_that_is_not_a_plain_value_is_shown_in_the_errors(tmp_path):
    """A time in a workbook (03:00 typed into horizon_years), a list or a mapping is shown as it was given, a lone
    surrogate escaped; binary data is not shown."""
    book = Workbook()
    book.active.append(["org", "external_domain", "users", "horizon_years"])
    book.active.append(["A", "a.com", 5, dt.time(3, 0)])
    book.save(tmp_path / "in.xlsx")
    assert [(i.row, i.field, i.value, i.reason) for i in load(tmp_path / "in.xlsx").issues] == [
        (2, "horizon_years", "03:00:00", "must be text, a number, true/false or a date, not time")]
    given = pd.DataFrame({"org": ["A", "B", "C\ud800", b"\x80"], "external_domain": ["a.com"] * 4,
                          "users": [[1, 2], {"n": 5}, 5, 5]})  # as a Parquet file's list and struct columns read
    shown = {(i.row, i.field): i.value for i in load(given).issues if i.reason != "required field is empty"}
    assert shown == {(1, "users"): "[1, 2]", (2, "users"): "{'n': 5}", (3, "org"): "C\\ud800", (4, "org"): ""}


def test_points_in_a_comma_file_are_decimal_points(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("org,external_domain,users,admin_rate\nA,a.com,5,1.605\n")
    assert load(path).frame["admin_rate"].tolist() == [1.605]


def test_headings_written_another_way_name_their_fields(tmp_path):
    """Spreadsheet headings in capitals or words: 'External domain' is external_domain; an ID column stays text."""
    path = tmp_path / "p.csv"
    path.write_text("ID,Org,External domain,USERS,Domain-joined share,MDM_Share\n007,A,a.com,5,93%,0.5\n")
    frame = load(path).frame
    assert frame[["id", "org", "external_domain", "users", "domain_joined_share", "mdm_share"]].iloc[0].tolist() == [
        "007", "A", "a.com", 5, 0.93, 0.5]
    assert load({"Org": "B", "External_Domain": "b.com", "Users": 7}).frame["users"].tolist() == [7]


def test_powershell_property_names_name_their_fields(tmp_path):
    """[PSCustomObject] exports write PascalCase property names: ExternalDomain, DomainJoinedShare, OWAHost."""
    path = tmp_path / "p.csv"
    path.write_text('"Org","ExternalDomain","Users","DomainJoinedShare","OWAHost","SpareIP"\n'
                    '"A","a.com","5","0.5","webmail.a.com","True"\n')
    frame = load(path).frame
    assert frame[["external_domain", "users", "domain_joined_share", "owa_host", "spare_ip"]].iloc[0].tolist() == [
        "a.com", 5, 0.5, "webmail.a.com", True]


def test_rows_without_any_value_are_skipped_in_every_table_format(tmp_path):
    """As a spreadsheet's empty rows: not profiles, not rejections; the others keep their row numbers."""
    frame = pd.DataFrame({"org": ["A", None, "B", "  "], "external_domain": ["a.com", None, "b.com", None],
                          "users": [5, None, 6, None]})
    for suffix, save in {".parquet": frame.to_parquet, ".xlsx": frame.to_excel, ".csv": frame.to_csv}.items():
        path = tmp_path / f"p{suffix}"
        save(path, index=False)
        result = load(path)
        assert (result.rows_in, result.frame["row"].tolist(), result.issues) == (2, [2, 4], []), suffix


def test_blank_rows_above_a_workbook_header_count_as_rows(tmp_path):
    """The header is the profiles sheet's first row with a value (here row 3, on the second sheet): rows keep the numbers
    the sheet shows, and the sheet's recorded size counts only the rows below the header."""
    book = Workbook()
    book.active.append(["How to fill in the Profiles sheet"])
    sheet = book.create_sheet("Profiles")
    for row in [[], [None, "  "], ["org", "external_domain", "users"], ["A", "a.com", 5], [], ["B", "b.com", -1]]:
        sheet.append(row)
    book.save(tmp_path / "p.xlsx")
    result = load(tmp_path / "p.xlsx")
    assert result.frame["row"].tolist() == [4] and result.rows_in == 2
    assert messages(result) == [f"{tmp_path / 'p.xlsx'}, row 6, field 'users': must be at least 0 (got '-1')"]
    sizes: list[int | None] = []  # told once, when the workbook is opened
    list(table_parts(tmp_path / "p.xlsx", 10, TEXT_COLUMNS, sizes.append))
    assert sizes == [3]
    sheet.cell(3, 4, "users")
    book.save(tmp_path / "p.xlsx")
    with pytest.raises(InputError, match="row 3, field 'users': the column appears more than once"):
        load(tmp_path / "p.xlsx")


@pytest.mark.parametrize(("above", "row"), [("", 1), ("#TYPE Selected.System.Management.Automation.PSCustomObject\r\n", 2),
                                            ("sep=,\r\n", 1)])
def test_a_csv_column_given_twice_is_reported_on_the_header_row(tmp_path, above, row):
    """Windows PowerShell's '#TYPE' line is a row (data rows are numbered after it); Excel's 'sep=' line is not:
    the header was reported as row 1 under a '#TYPE' line."""
    path = tmp_path / "p.csv"
    path.write_text(f'{above}"Org","Users","Users","ExternalDomain"\r\n"A","3","3","a.com"\r\n', encoding="utf-8")
    with pytest.raises(InputError, match=f"row {row}, field 'Users': the column appears more than once"):
        load(path)


@pytest.mark.parametrize("notes_first", [False, True])
def test_a_header_below_a_title_row_is_found_and_named_with_its_sheet(tmp_path, notes_first):
    """A title row above the table (PSA and RMM exports have one): the sheet and row of the header are named, also
    when a sheet of notes comes first (QA found its first row quoted as the header)."""
    book = Workbook()
    clients = book.active
    clients.title = "Clients"
    if notes_first:
        book.move_sheet(book.create_sheet("Notes"), offset=-1)
        book["Notes"].append(["Client export from PSA, do not edit"])
    for row in [[], ["Client portfolio Q4"], [], ["org", "external_domain", "users"], ["A", "a.com", 5]]:
        clients.append(row)
    book.save(tmp_path / "p.xlsx")
    with pytest.raises(InputError, match=r"sheet 'Clients': its header is row 4, below 'Client portfolio Q4': the header "
                                         r"must be the sheet's first row that holds a value \(delete the rows above it\)"):
        load(tmp_path / "p.xlsx")


def test_a_sheet_of_no_profile_fields_is_reported_by_its_first_row(tmp_path):
    book = Workbook()
    for row in [[], ["Client portfolio Q4"], ["name", "domain"], ["A", "a.com"]]:
        book.active.append(row)
    book.save(tmp_path / "p.xlsx")
    with pytest.raises(InputError, match=r"no column is a profile field \(found 'Client portfolio Q4'\): the header must "
                                         r"be the table's first row \(delete any title rows above it\)"):
        load(tmp_path / "p.xlsx")


MERGE_HEAD = ["org", "external_domain", "users", "internal_ca", "acme_ok", "dns_api", "spare_ip"]


@pytest.mark.parametrize("chunk_rows", [1, 2, 50])
def test_a_merged_cell_in_one_column_gives_every_row_it_covers_its_value(tmp_path, chunk_rows):
    """TRUE in D2 merged over D2:D5 is what the sheet shows in rows 2-5, also where the sheet is read in parts; row 5,
    under the merged cell but without a value of its own, is still a blank row."""
    path = tmp_path / "p.xlsx"
    path.write_bytes(workbook_bytes([MERGE_HEAD, ["A", "a.com", 5, True], ["B", "b.com", 6], ["C", "c.com", 7], [],
                                     ["E", "e.com", 8, False]], merged=["D2:D5"]))
    parts = list(table_parts(path, chunk_rows, TEXT_COLUMNS))
    assert [len(p.raw) for p in parts] == {1: [1, 1, 1, 1], 2: [2, 2], 50: [4]}[chunk_rows]  # the range spans parts
    assert np.concatenate([p.rows for p in parts]).tolist() == [2, 3, 4, 6]
    assert [v for p in parts for v in p.raw["internal_ca"]] == [True, True, True, False]
    assert load(path).frame["internal_ca"].tolist() == [True, True, True, False]


def test_a_merged_cell_hides_what_a_program_left_in_the_cells_it_covers(tmp_path):
    """A file may keep values in the cells a merged cell covers (LibreOffice can); the sheet shows the top cell's."""
    data = workbook_bytes([MERGE_HEAD, ["A", "a.com", 5, True, None], ["B", "b.com", 6, False, "yes"]])
    (tmp_path / "p.xlsx").write_bytes(zip_patched(data, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(
        b"</sheetData>", b'</sheetData><mergeCells count="2"><mergeCell ref="D2:D3"/><mergeCell ref="E2:E3"/></mergeCells>')))
    raw = next(table_parts(tmp_path / "p.xlsx", 50, TEXT_COLUMNS)).raw
    assert raw[["internal_ca", "acme_ok"]].values.tolist() == [[True, None], [True, None]]


def test_a_merged_cell_over_several_columns_or_down_from_the_header_leaves_its_rows_unread(tmp_path):
    """Which field a value spread over D:F belongs to, the sheet does not say; a heading reaching into row 2 is no value.
    A merged cell without a value shows nothing, wherever it is."""
    path = tmp_path / "p.xlsx"
    path.write_bytes(workbook_bytes([MERGE_HEAD, ["A", "a.com", 5], ["B", "b.com", 6, True], ["C", "c.com", 7],
                                     ["D", "d.com", 8], ["E", "e.com", 9]], merged=["G1:G2", "D3:F4", "E5:F6"]))
    result = load(path)
    assert result.frame["row"].tolist() == [5, 6] and result.rows_in == 5
    assert messages(result) == [
        f"{path}, row 2, field 'spare_ip': a merged cell joins this row to the header in row 1 (unmerge it and write one "
        "value per cell)",
        *(f"{path}, row {row}, field 'internal_ca, acme_ok, dns_api': a merged cell spans columns D:F (unmerge it and "
          "write one value per cell)" for row in (3, 4))]


def test_rows_under_a_merged_formula_without_a_saved_result_are_unread(tmp_path):
    path = tmp_path / "p.xlsx"
    path.write_bytes(workbook_bytes([MERGE_HEAD[:3], ["A", "a.com", "=2+3"], ["B", "b.com"], ["C", "c.com", 7]],
                                    merged=["C2:C3"]))
    result = load(path)
    assert result.frame["row"].tolist() == [4]
    assert [(i.row, i.field, i.reason) for i in result.issues] == [(2, "users", UNSAVED_FORMULA), (3, "users", UNSAVED_FORMULA)]


PROFILES = pd.DataFrame({"id": ["c-1", "c-2", "c-3"], "org": ["A", "B", "C"], "external_domain": ["a.com", "b.com", "c.com"],
                         "users": [5, -1, 7]})


@pytest.mark.parametrize("index", [["id"], ["org"], ["id", "org"]], ids=["id", "org", "id-and-org"])
def test_a_parquet_column_stored_as_the_pandas_index_is_read_as_a_column(tmp_path, index):
    """`df.set_index('id').to_parquet()` stores the ids in a column of the file, which pandas reads back as the index."""
    path = tmp_path / "p.parquet"
    PROFILES.to_parquet(path, index=False)
    want = _outcome(load(path))
    assert want[0]["id"] == ["c-1", "c-3"] and want[1] == [f"{path}, row 3, field 'users': must be at least 0 (got '-1')"]
    PROFILES.set_index(index).to_parquet(path)
    assert _outcome(load(path)) == want
    PROFILES.set_index(index).iloc[:0].to_parquet(path)  # header only
    assert load(path).rows_in == 0


def test_a_parquet_index_that_is_not_a_named_column_of_the_file_is_not_read(tmp_path):
    """A RangeIndex (named or not) is stored as no column; an unnamed index column has no name to read it by; a
    level named like a column, with its values (`set_index('org', drop=False)`), is that column."""
    path = tmp_path / "p.parquet"
    PROFILES.to_parquet(path, index=False)
    want = _outcome(load(path))
    for frame in (PROFILES.rename_axis("n"), PROFILES.set_index(pd.Index([7, 3, 5])), PROFILES.set_index("org", drop=False)):
        frame.to_parquet(path)
        assert _outcome(load(path)) == want
    PROFILES.set_index("org", drop=False).assign(org=["X", "Y", "Z"]).to_parquet(path)
    with pytest.raises(InputError) as caught:
        load(path)
    assert str(caught.value) == (f"{path}: cannot read the Parquet file: it holds the column 'org' twice (as the index "
                                 "and as a column), with other values")


def test_missing_required_column_is_a_whole_file_problem(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("org,users\nA,1\n")
    with pytest.raises(InputError, match="external_domain.*required field is missing"):
        load(path)


def test_evaluate_accepts_a_dataframe_and_returns_rejections():
    ev = decision.evaluate(pd.DataFrame([GOOD, {**GOOD, "users": -1}]))
    assert len(ev.profiles) == 1 and len(ev.options) == 7
    assert ev.issues[0].row == 2 and ev.issues[0].field == "users"


def test_list_fields_are_normalised_and_de_duplicated_within_each_row_in_order():
    rows = [{**GOOD, "servers": "EX02; ex01, EX02\nex01", "extra_domains": "Straße.de;xn--strae-oqa.de, fabrikam.com."},
            {**GOOD, "servers": "EX01;EX02", "extra_domains": "fabrikam.com"},
            {**GOOD, "servers": "EX02; ex01, EX02\nex01"},
            {**GOOD, "servers": ""}]
    frame = load(rows).frame
    assert frame["servers"].tolist() == ["ex02;ex01", "ex01;ex02", "ex02;ex01", ""]
    assert frame["extra_domains"].tolist() == ["xn--strae-oqa.de;fabrikam.com", "fabrikam.com", "", ""]


def test_a_bad_item_in_a_repeated_list_is_reported_on_every_row_that_has_it():
    rows = [{**GOOD, "servers": "EX01;ex01.contoso.local"}, {**GOOD, "servers": "EX01"},
            {**GOOD, "servers": "EX01;ex01.contoso.local"}]
    result = load(rows)
    assert [(i.row, i.field, i.value) for i in result.issues] == [(1, "servers", "ex01.contoso.local"),
                                                                  (3, "servers", "ex01.contoso.local")]
    assert result.frame["row"].tolist() == [2]


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("external_domain", ["a.com", "b.com"], "must be a single value, not a list"),
    ("org", {"name": "Contoso"}, "must be a single value, not a mapping"),
    ("users", [1, 2], "must be a single value, not a list"),
])
def test_a_required_field_of_the_wrong_shape_is_one_issue_not_also_an_empty_field(tmp_path, field, value, reason):
    """A list or mapping in a required one-value field is reported once, with its shape, in YAML as in a table
    (a Parquet list column), not also as 'required field is empty'."""
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({**GOOD, field: value}), encoding="utf-8")
    assert [(i.row, i.field, i.reason) for i in load(path).issues] == [(1, field, reason)]
    given = pd.DataFrame({**{k: [v] for k, v in GOOD.items()}, field: [value]})
    assert [(i.row, i.field, i.reason) for i in load(given).issues] == [(1, field, reason)]


# ------------------------------------------------------------------ validation's shortcuts give what the long way does

def test_a_head_of_a_chunk_is_validated_as_the_rows_it_holds():
    """A head() keeps its frame's attrs, row numbers and all: validating it must not take the rows it left out."""
    frame = pd.DataFrame([GOOD] * 3)
    frame.attrs["rows"] = np.arange(2, 5)
    assert len(validate(frame.head(0), "t", PARAMS, CATALOG).frame) == 0
    assert validate(frame.head(2), "t", PARAMS, CATALOG).frame["row"].tolist() == [2, 3]


def test_the_inputs_attrs_are_not_copied_into_every_column():
    class Probe:
        copies = 0

        def __deepcopy__(self, memo):
            Probe.copies += 1
            return self

    frame = pd.DataFrame([GOOD] * 3)
    frame.attrs["probe"] = Probe()
    validate(frame, "t", PARAMS, CATALOG)
    assert Probe.copies <= 1 and isinstance(frame.attrs["probe"], Probe)  # the caller's attrs are left as they were


def test_arrow_masks_read_missing_values_as_asked():
    values = pa.chunked_array([pa.array([True, None, False]), pa.array([None, True])])
    assert _flags(values, null=True).tolist() == [True, True, False, True, True]
    assert _flags(values).tolist() == [True, False, False, False, True]


def test_blank_cells_are_told_in_every_chunk_and_slice():
    text = pd.Series(pd.array(pa.chunked_array([pa.array(["x", None, ""]), pa.array(["", "y", None, "z"])]),
                              dtype=TEXT)).iloc[1:]  # a slice: offsets that do not start at 0
    assert _is_blank(text, text).tolist() == [True, True, True, False, True, False]


def test_iso_days_are_the_days_pandas_reads():
    """Days written YYYY-MM-DD are read by arrow, which rolls a day past its month's end over into the next (2026-02-30
    as 2026-03-02) where pandas finds no date: those, and any other text, read as pandas reads them."""
    rng = np.random.default_rng(3)
    written = [f"{y:04d}-{m:02d}-{d:02d}" for y, m, d in zip(rng.integers(0, 10_000, 5000), rng.integers(0, 14, 5000),
                                                             rng.integers(0, 33, 5000), strict=True)]
    written += [f"{y}-{m:02d}-{d}" for y in range(1896, 2105) for m in (2, 4, 12) for d in (28, 29, 30, 31, 32)]
    written += ["0000-02-29", "9999-12-31", "1969-12-31", "2026-1-5", "", " 2026-01-05", "2026-01-05x", "2026/01/05"]
    text = pd.Series(pd.array(written, dtype=TEXT))
    days = _iso_days(text)
    assert np.array_equal(days, _days(pd.to_datetime(text, errors="coerce", format="%Y-%m-%d")), equal_nan=True)
    assert np.isnan(days[written.index("2026-02-30")]) and days[written.index("2026-1-5")] == 20458


@pytest.mark.parametrize("column", [
    pd.Series([1.5, np.nan, 0.0]), pd.Series([1 + 2j, complex(np.nan, 0), 0j]), pd.Series([1, 0, 3]),
    pd.Series([True, False, True]), pd.Series(np.array([1, 2, 3], dtype=np.uint8)), pd.Series([1, None, 3], dtype="Int64"),
    pd.Series([True, None, False], dtype="boolean"), pd.Series([1.5, None, np.nan], dtype="Float64")])
def test_blank_number_and_true_false_cells_are_those_pandas_finds_missing(column):
    """Numbers and true/false columns (no text to strip) are told blank by numpy where numpy holds them: the same
    cells as pandas' isna, nullable columns included."""
    assert _is_blank(column, None).tolist() == column.isna().tolist()


@pytest.mark.parametrize("other", ["", "q.com, r.com"])  # a ',' anywhere in the chunk: every cell split by the regex
def test_list_cells_split_at_semicolons_alone_as_by_any_separator(other):
    cells = ["a.com;;b.com", ";c.com;", "A.com;a.com", "x.com;x.com;y.com", "y.com", other]
    profiles = load([{**GOOD, "extra_domains": cell} for cell in cells]).frame
    assert profiles["extra_domains"].tolist()[:5] == ["a.com;b.com", "c.com", "a.com", "x.com;y.com", "y.com"]


def test_derived_defaults_fill_the_blank_cells_alone():
    rows = [{**GOOD, "id": "", "owa_host": ""}, {**GOOD, "org": "Fabrikam", "id": "F1", "owa_host": "owa.contoso.com"},
            {**GOOD, "external_domain": "Fabrikam.COM", "desktops": None, "users": 7}]
    frame = load(rows).frame
    assert frame["id"].tolist() == ["Contoso", "F1", "Contoso"]
    assert frame["owa_host"].tolist() == ["mail.contoso.com", "owa.contoso.com", "mail.fabrikam.com"]
    assert frame["desktops"].tolist() == [50, 50, 7]


def test_dates_repeated_and_written_other_ways_each_get_their_day():
    written = ["2027-06-13", "13.06.2027", "2027-06-13", "2027-06-13T10:00:00", "soon", "1990-01-01"]
    result = load([{**GOOD, "start": w} for w in written])
    assert result.frame["start"].tolist() == [to_day("2027-06-13")] * 4
    assert [(i.row, i.field, i.reason) for i in result.issues] == [
        (5, "start", "not a date (use YYYY-MM-DD)"), (6, "start", "must be between 1995-01-01 and 2100-12-31")]


def test_a_date_serial_number_is_rejected_with_how_to_show_it_as_a_date():
    """A date in a General-formatted spreadsheet cell shows as its serial number (46357 = 2026-12-01): the reason says
    so, as a number it is not read as a date (a count of days from 1899-12-30 or from 1904, as the workbook says)."""
    result = load([{**GOOD, "start": v} for v in (46357, "46357.5", "4635", "2026-12-01")])
    hint = "not a date (use YYYY-MM-DD): a spreadsheet's date serial number? Format the column as a date"
    assert [(i.row, i.field, i.reason) for i in result.issues] == [
        (1, "start", hint), (2, "start", hint), (3, "start", "not a date (use YYYY-MM-DD)")]


def test_a_release_written_as_a_spreadsheets_number_reads_as_the_release():
    frame = load([{**GOOD, "exchange_version": "2016.0"}, {**GOOD, "exchange_version": "se"}]).frame
    assert frame["exchange_version"].tolist() == ["2016", "SE"]
