"""Currencies: a profile's amounts, the CA catalog's prices and the parameters' amounts are never converted, and
evaluate says so when they are in different currencies."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import decision
from decision.report import to_json

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ROOT / "data" / "profiles"
CONTOSO = yaml.safe_load((PROFILES / "contoso-2026.yaml").read_text())
MIXED = ("Money is shown in EUR, but the CA prices and the extra public IP price (USD) are added as given, not "
         "converted, so the costs mix currencies. To cost in EUR throughout, use a CA catalog and a parameters file "
         "priced in EUR (on the command line: --catalog FILE --parameters FILE, declaring currency: EUR).")
RATES = ("admin_rate (75) and user_rate (40) equal the default rates, estimated in USD per hour and used as EUR "
         "without conversion: give the organisation's own rates in EUR.")

# the phrases of every currency caveat (warnings, appendix labels, notes and sentences)
CAVEATS = ("Money is shown in", "the default rate", "default estimated in", "not converted to", "as given")


def caveats(lines) -> list[str]:
    return [line for line in lines if any(c in line for c in CAVEATS)]


def run(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "decision", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


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
    assert warnings[-2:] == [MIXED, "user_rate (40) equals the default rate, estimated in USD per hour and used as EUR "
                                    "without conversion: give the organisation's own rate in EUR."]
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
