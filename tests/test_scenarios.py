"""YAML scenario tests (OpenFisca style): a profile and the outcome the rules must give."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import decision
from decision.report import deployments

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = [(f.stem, case) for f in sorted((ROOT / "tests" / "scenarios").glob("*.yaml"))
             for case in yaml.safe_load(f.read_text())]


def _evaluate(profile: dict, parameters: dict | None, tmp_path: Path) -> decision.Evaluation:
    """Evaluate a scenario's profile, with the shipped parameters or a copy whose listed values differ."""
    source = ROOT / profile["file"] if set(profile) == {"file"} else profile
    copy = None
    if parameters:
        raw = yaml.safe_load((ROOT / "data" / "parameters.yaml").read_text())
        for name, value in parameters.items():
            raw["parameters"][name]["value"] = value
        copy = tmp_path / "parameters.yaml"
        copy.write_text(yaml.safe_dump(raw))
    ev = decision.evaluate(source, parameters=copy)
    assert not ev.issues, ev.issues
    return ev


def _split(text: str) -> list[str]:
    return [n for n in str(text).split(", ") if n]


@pytest.mark.parametrize(("group", "case"), SCENARIOS, ids=[f"{g}: {c['name']}" for g, c in SCENARIOS])
def test_scenario(group: str, case: dict, tmp_path: Path) -> None:
    ev = _evaluate(case["profile"], case.get("parameters"), tmp_path)
    rows = ev.options.set_index("option")
    expect = case["expect"]
    codes = {o: rows.loc[o, "reasons"].split("; ") for o in rows.index}
    if "recommendation" in expect:
        assert ev.recommendations.iloc[0]["recommendation"] == expect["recommendation"], ev.option_rows(0)
    for option in expect.get("feasible", []):
        assert rows.loc[option, "feasible"], (option, codes[option])
    for option, needed in expect.get("infeasible", {}).items():
        assert not rows.loc[option, "feasible"], option
        assert set(needed) <= set(codes[option]), (option, codes[option])
    for option, needed in expect.get("reasons", {}).items():
        assert set(needed) <= set(codes[option]), (option, codes[option])
    for option, absent in expect.get("reasons_exclude", {}).items():
        assert not set(absent) & set(codes[option]), (option, codes[option])
    for option, names in expect.get("names", {}).items():
        assert _split(rows.loc[option, "names"]) == names, option
    for option, names in expect.get("not_issuable", {}).items():
        assert _split(rows.loc[option, "not_issuable"]) == names, option
    for option, values in expect.get("values", {}).items():
        for column, value in values.items():
            got = rows.loc[option, column]
            assert got == pytest.approx(value) if isinstance(value, float) else got == value, (option, column, got)
    for option, limits in expect.get("lower", {}).items():
        for column, limit in limits.items():
            assert rows.loc[option, column] < limit, (option, column)
    for option, columns in expect.get("positive", {}).items():
        for column in columns:
            assert rows.loc[option, column] > 0, (option, column)
    if any(k in expect for k in ("commands_contain", "commands_exclude", "dns_contain")):
        commands, dns = deployments(ev, 0)
        for option, parts in expect.get("commands_contain", {}).items():
            for part in parts:
                assert any(part in line for line in commands[option]), (option, part, commands[option])
        for option, parts in expect.get("commands_exclude", {}).items():
            for part in parts:
                assert not any(part in line for line in commands[option]), (option, part)
        for option, records in expect.get("dns_contain", {}).items():
            for record in records:
                assert record in dns[option], (option, dns[option])
    for text in expect.get("warnings_contain", []):
        assert any(text in w for w in ev.warnings(0)), ev.warnings(0)
    for text in expect.get("warnings_exclude", []):
        assert not any(text in w for w in ev.warnings(0)), ev.warnings(0)


def test_there_are_at_least_twenty_scenarios_and_every_option_wins_one() -> None:
    assert len(SCENARIOS) >= 20
    winners = {c["expect"].get("recommendation") for _, c in SCENARIOS}
    assert set(decision.OPTIONS) <= winners
