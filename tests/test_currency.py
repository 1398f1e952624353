"""Currencies: a profile's amounts, the CA catalog's prices and the parameters' amounts are never converted, and
every output says so when they are in different currencies (evaluate, the appendix, score)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from cli_process import decision_cli as run
from click.testing import CliRunner

import decision
from decision.appendix import content
from decision.appendix.model import Bullets, Code, Note, Paragraph, Table
from decision.catalog import default_catalog
from decision.cli import main
from decision.report import to_json

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ROOT / "data" / "profiles"
CONTOSO = yaml.safe_load((PROFILES / "contoso-2026.yaml").read_text())
DAY = dt.date(2026, 11, 30)
# the client's appendix says what happened; the tool's user (CLI, app) is told too how to price in EUR
MIXED_CLIENT = ("Money is shown in EUR, but the CA prices and the extra public IP price (USD) are added as given, not "
                "converted, so the costs mix currencies.")
MIXED = (f"{MIXED_CLIENT} To cost in EUR throughout, use a CA catalog and a parameters file priced in EUR (on the "
         "command line: --catalog FILE --parameters FILE, declaring currency: EUR).")
RATES = ("An administrator's hourly rate (75) and an end user's hourly rate (40) equal the default rates, estimated in "
         "USD per hour and used as EUR without conversion: give the organisation's own rates in EUR.")

# the phrases of every currency caveat (warnings, appendix labels, notes and sentences)
CAVEATS = ("Money is shown in", "the default rate", "default estimated in", "not converted to", "as given")


def caveats(lines) -> list[str]:
    return [line for line in lines if any(c in line for c in CAVEATS)]


def write_profile(tmp_path: Path, **changes) -> Path:
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump({**CONTOSO, **changes}))
    return path


def priced_in(tmp_path: Path, code: str, *, catalog: bool = True, parameters: bool = True) -> list[str]:
    """Command-line options for copies of the shipped data files declaring `code` as their currency."""
    options = []
    if catalog:
        cas = yaml.safe_load((ROOT / "data/cas.yaml").read_text())
        (tmp_path / "cas.yaml").write_text(yaml.safe_dump({**cas, "currency": code}))
        options += ["--catalog", str(tmp_path / "cas.yaml")]
    if parameters:
        params = yaml.safe_load((ROOT / "data/parameters.yaml").read_text())
        for entry in params["parameters"].values():
            entry["unit"] = entry["unit"].replace("USD", code)
        (tmp_path / "parameters.yaml").write_text(yaml.safe_dump({**params, "currency": code}))
        options += ["--parameters", str(tmp_path / "parameters.yaml")]
    return options


def texts(block) -> list[str]:
    """Every piece of text a block shows (table captions and cells included)."""
    if isinstance(block, Paragraph):
        return [block.text]
    if isinstance(block, Note):
        return [block.body.text]
    if isinstance(block, Bullets):
        return [p.text for p in block.items]
    if isinstance(block, Table):
        return [block.caption, *block.columns, *(c for row in block.rows for c in row)]
    if isinstance(block, Code):
        return list(block.lines)
    return []


def table(model, section: int, caption: str) -> Table:
    return next(b for b in model.sections[section - 1].blocks if isinstance(b, Table) and b.caption.startswith(caption))


# ------------------------------------------------------------------------------------------ evaluate
@pytest.mark.parametrize("example", sorted(p.stem for p in PROFILES.glob("*.yaml")))
def test_the_examples_in_the_data_files_currency_carry_no_currency_warning(example):
    ev = decision.evaluate(PROFILES / f"{example}.yaml")
    assert ev.profiles.loc[0, "currency"] == ev.catalog.currency == ev.params.currency == "USD"
    assert not caveats(ev.warnings(0))


def test_evaluate_json_of_a_eur_profile_says_the_usd_prices_and_default_rates_are_not_converted(tmp_path):
    result = run("evaluate", write_profile(tmp_path, currency="EUR"), "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["warnings"][-2:] == [MIXED, RATES]
    usd = json.loads(run("evaluate", write_profile(tmp_path, currency="USD"), "--format", "json").stdout)
    assert not caveats(usd["warnings"])
    # the amounts are added as given: the same numbers, only the label and the warnings differ
    assert [o["cost_total"] for o in data["options"]] == [o["cost_total"] for o in usd["options"]]
    table = run("evaluate", write_profile(tmp_path, currency="EUR")).stdout
    assert f"warning: {MIXED}" in table and f"warning: {RATES}" in table


def test_a_lower_case_code_is_the_same_currency():
    assert not caveats(decision.evaluate({**CONTOSO, "currency": "usd"}).warnings(0))


def test_rates_the_profile_gives_are_its_own_and_only_defaults_are_flagged():
    warnings = decision.evaluate({**CONTOSO, "currency": "EUR", "admin_rate": 90}).warnings(0)
    assert warnings[-2:] == [MIXED, "An end user's hourly rate (40) equals the default rate, estimated in USD per hour and "
                                    "used as EUR without conversion: give the organisation's own rate in EUR."]
    assert decision.evaluate({**CONTOSO, "currency": "EUR", "admin_rate": 90, "user_rate": 50}).warnings(0)[-1] == MIXED


def test_price_flips_are_in_the_catalogs_currency_not_the_profiles():
    data = to_json(decision.evaluate({**yaml.safe_load((PROFILES / "contoso-2007.yaml").read_text()),
                                                      "currency": "EUR"}))
    flips = [f["text"] for f in data["sensitivity"]["price_flips"]]
    assert flips and all("USD" in t and "EUR" not in t for t in flips)


def test_data_files_priced_in_the_profiles_currency_leave_nothing_to_warn_about(tmp_path):
    profile = write_profile(tmp_path, currency="EUR")
    data = json.loads(run("evaluate", profile, "--format", "json", *priced_in(tmp_path, "EUR")).stdout)
    assert not caveats(data["warnings"])
    only_catalog = json.loads(run("evaluate", profile, "--format", "json",
                                  *priced_in(tmp_path, "EUR", parameters=False)).stdout)
    assert only_catalog["warnings"][-2:] == [
        "Money is shown in EUR, but the extra public IP price (USD) is added as given, not converted, so the costs mix "
        "currencies. To cost in EUR throughout, use a parameters file priced in EUR (on the command line: "
        "--parameters FILE, declaring currency: EUR).", RATES]


def test_each_source_is_named_with_its_own_currency_when_they_differ(tmp_path):
    profile = write_profile(tmp_path, currency="EUR", admin_rate=90, user_rate=50)
    data = json.loads(run("evaluate", profile, "--format", "json", *priced_in(tmp_path, "GBP", parameters=False)).stdout)
    assert data["warnings"][-1].startswith("Money is shown in EUR, but the CA prices (GBP) and the extra public IP "
                                           "price (USD) are added as given, not converted")


# ------------------------------------------------------------------------------------------ appendix
@pytest.fixture(scope="module")
def eur_model():
    return content(decision.evaluate({**CONTOSO, "currency": "EUR"}), generated=DAY)


def test_the_eur_appendix_labels_the_default_rates_with_the_currency_they_were_estimated_in(eur_model):
    profile = {row[0]: row[2] for row in table(eur_model, 2, "The profile of").rows}
    assert profile["Admin rate"] == "EUR 75 an hour (default estimated in USD, not converted)"
    assert profile["User rate"] == "EUR 40 an hour (default estimated in USD, not converted)"
    parameters = {row[0]: (row[2], row[3]) for row in table(eur_model, 7, "Parameters").rows}
    assert parameters["Admin rate"] == ("75", "USD per hour") and parameters["User rate"] == ("40", "USD per hour")
    words = " ".join(texts(eur_model.sections[1].blocks[2]))
    assert words.endswith("Time is costed at EUR 75 an hour for administrators and EUR 40 for users; the administrators' "
                          "and users' rates are the defaults, estimated in USD per hour and not converted to EUR.")


def test_the_eur_appendix_says_where_amounts_are_shown_that_usd_prices_were_added_unconverted(eur_model):
    assert eur_model.subtitle.endswith("amounts in EUR (with USD prices, not converted)")
    summary = [t for b in eur_model.sections[0].blocks if isinstance(b, Bullets) for t in texts(b)]
    assert MIXED_CLIENT in summary and RATES in summary
    cost_notes = [b.body.text for b in eur_model.sections[3].blocks if isinstance(b, Note)]
    assert cost_notes == ["Currencies. " + MIXED_CLIENT]
    assert table(eur_model, 4, "Cost over the horizon by kind (EUR)")
    assert table(eur_model, 7, "Parameters").label == "Table 11"
    assert table(eur_model, 7, "Parameters").caption.endswith("amounts of money in USD)")
    cas = table(eur_model, 7, "Certification authorities")
    assert cas.caption.endswith("prices in USD a year)") and cas.label == "Table 12"
    assert [row[0] for row in cas.rows if row[0].startswith("Price ") and row[0] != "Price source"] == [
        "Price single (USD/yr)", "Price SAN base (USD/yr)", "Price SAN extra name (USD/yr)", "Price wildcard (USD/yr)"]
    section = " ".join(t for b in eur_model.sections[6].blocks if isinstance(b, Paragraph) for t in texts(b))
    assert ("These USD prices were added to this appendix's EUR amounts as given, not converted, so the totals mix "
            "currencies; a costing in EUR throughout needs them in EUR.") in section


def test_the_eur_appendix_tells_the_client_what_happened_not_how_to_run_the_tool(eur_model):
    """QA 18a fault 3: the summary, the cost note and section 7 of a EUR appendix told the client "(on the command
    line: --catalog FILE --parameters FILE, declaring currency: EUR)" and to "rerun it with python -m decision
    appendix ...": the tool user's how-to. The appendix before section 8 (the reproducibility stamp, whose command is
    its purpose) names no command-line option, command or data file to edit; the CLI and the app still say how."""
    words = " ".join(t for s in eur_model.sections[:7] for b in s.blocks for t in texts(b))
    for how_to in ("--catalog", "--parameters", "on the command line", "python -m", "currency: EUR", "data/cas.yaml"):
        assert how_to not in words, how_to
    assert MIXED in decision.evaluate({**CONTOSO, "currency": "EUR"}).warnings(0)


def test_a_usd_appendix_has_no_currency_caveat_and_names_the_data_files_currency():
    model = content(decision.evaluate(PROFILES / "contoso-2026.yaml"), generated=DAY)
    assert not caveats(t for s in model.sections for b in s.blocks for t in texts(b))
    assert model.subtitle.endswith("amounts in USD")
    assert table(model, 7, "Certification authorities").caption.endswith("prices in USD a year)")


def test_the_ca_table_shows_a_dated_lifetime_as_days_not_as_a_parameter_name():
    model = content(decision.evaluate(PROFILES / "contoso-2026.yaml"), generated=DAY)  # 2026-12-01, 3 years
    cas = table(model, 7, "Certification authorities")
    lifetime = dict(zip(cas.columns[1:], next(r for r in cas.rows if r[0] == "Certificate lifetime")[1:], strict=True))
    assert lifetime == {"Let's Encrypt (ISRG)": "90 days; 64 from 2027-02-10; 45 from 2028-02-16",
                        "Sectigo (PositiveSSL, InstantSSL, UCC; formerly Comodo)": "public maximum",
                        default_catalog()["adcs"].name: "730 days"}
    later = content(decision.evaluate({**CONTOSO, "start": "2027-06-01", "horizon_years": 0.5}), generated=DAY)
    row = next(r for r in table(later, 7, "Certification authorities").rows if r[0] == "Certificate lifetime")
    assert "64 days" in row and not any("letsencrypt_lifetime_days" in c for c in row)


# ------------------------------------------------------------------------------------------- score
def test_score_notes_which_currency_totals_add_unconverted_prices(tmp_path):
    rows = [{**CONTOSO, "org": f"Org {k}", "servers": "SERVER01", "currency": c} for k, c in enumerate(("USD", "EUR"))]
    source = tmp_path / "profiles.yaml"
    source.write_text(yaml.safe_dump(rows))
    result = CliRunner().invoke(main, ["score", str(source), "-o", str(tmp_path / "out.csv")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    total = next(k for k, line in enumerate(lines) if line.startswith("total cost of the recommended options: "))
    assert lines[total].startswith("total cost of the recommended options: EUR ") and ", USD " in lines[total]
    assert lines[total + 1] == (
        "note: the EUR totals add the CA prices and the extra public IP price (USD), and the default admin_rate / "
        "user_rate (USD per hour) where a row gives none, as given, not converted; to total in one currency, score "
        "with --catalog and --parameters files that declare it (currency: CODE)")
    source.write_text(yaml.safe_dump(rows[:1]))
    alone = CliRunner().invoke(main, ["score", str(source), "-o", str(tmp_path / "out.csv")], catch_exceptions=False)
    assert alone.exit_code == 0 and "note:" not in alone.output


def test_a_currency_and_a_country_written_in_lower_case_are_the_codes_in_capitals(tmp_path):
    """'eur' and 'EUR' are one currency: score totalled them apart, and the reports showed 'eur'; a request's C= must
    be the capital ISO code too."""
    source = tmp_path / "in.csv"
    source.write_text("org,external_domain,users,currency,country\nA,a.com,5,eur,de\nB,b.com,5,EUR,DE\n")
    result = CliRunner().invoke(main, ["score", str(source), "-o", str(tmp_path / "out.csv")], catch_exceptions=False)
    [totals] = [line for line in result.stdout.splitlines() if line.startswith("total cost")]
    assert totals.count("EUR") == 1 and "eur" not in totals
    profile = decision.evaluate({**CONTOSO, "currency": "eur", "country": "de"}).profiles.iloc[0]
    assert (profile["currency"], profile["country"]) == ("EUR", "DE")


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_every_scored_row_names_the_currency_of_its_costs(tmp_path, layout):
    """A portfolio of EUR and USD profiles: summing `cost_total` per `currency` gives the summary's totals; without
    the column an analyst summing the file added euros to dollars."""
    source = tmp_path / "in.csv"
    source.write_text("org,external_domain,users,currency\nA,a.com,5,eur\nB,b.com,50,USD\nC,c.com,500,EUR\n")
    output = tmp_path / f"{layout}.csv"
    result = CliRunner().invoke(main, ["score", str(source), "-o", str(output), "--layout", layout],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    got = pd.read_csv(output)
    per_profile = got.drop_duplicates("profile").set_index("profile")["currency"]
    assert per_profile.to_dict() == {"A": "EUR", "B": "USD", "C": "EUR"}
    if layout == "wide":
        [totals] = [line for line in result.stdout.splitlines() if line.startswith("total cost")]
        sums = got.groupby("currency")["cost_total"].sum()
        assert totals == f"total cost of the recommended options: EUR {sums['EUR']:,.2f}, USD {sums['USD']:,.2f}"
