"""Synthetic profiles (decision/synth.py): seeded, plausible, valid unless asked otherwise."""

from __future__ import annotations

import datetime as dt
import errno
import re

import pandas as pd
import pyarrow as pa
import yaml
from click.testing import CliRunner

from decision import synth
from decision.catalog import default_catalog
from decision.cli import main
from decision.parameters import default_parameters
from decision.profiles import FIELD_BY_NAME, validate
from decision.synth import BAD_KINDS, generate, write_synthetic

DISK_FULL = "cannot write it: No space left on device (any previous file of that name is unchanged)"

TODAY = dt.date(2026, 11, 26)


def sample(n: int = 4000, **kwargs) -> pd.DataFrame:
    return pa.concat_tables(generate(n, block_rows=1500, **kwargs)).to_pandas()


def checked(frame: pd.DataFrame):
    frame = frame.copy()
    frame.attrs["rows"] = list(range(2, len(frame) + 2))
    return validate(frame, "synthetic", default_parameters(), default_catalog(), TODAY)


def test_same_seed_same_bytes_other_seed_other_profiles(tmp_path):
    write_synthetic(500, tmp_path / "a.csv", seed=3)
    write_synthetic(500, tmp_path / "b.csv", seed=3)
    write_synthetic(500, tmp_path / "c.csv", seed=4)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "a.csv").read_bytes() != (tmp_path / "c.csv").read_bytes()


def test_profiles_are_valid_and_use_only_schema_fields():
    frame = sample()
    assert set(frame.columns) <= set(FIELD_BY_NAME)
    result = checked(frame)
    assert result.issues == [] and len(result.frame) == 4000
    assert frame["id"].is_unique


def test_mixes_are_plausible():
    frame = sample()
    start = frame["start"]
    assert 0.8 < (start == "2026-12-01").mean() < 0.9
    historical = frame[start < "2026-01-01"]
    assert 0.05 < len(historical) / len(frame) < 0.15
    released = {v: str(f["released"]) for v, f in default_parameters().exchange_versions.items()}
    assert all(released[v] <= s for v, s in zip(historical["exchange_version"], historical["start"], strict=True))
    assert set(frame["exchange_version"]) >= {"2013", "2016", "2019", "SE"}
    assert frame["users"].min() >= 5 and frame["users"].max() <= 50_000 and frame["users"].median() < 200
    byod = frame["mobile_devices"] > frame["users"]
    assert 0.1 < byod.mean() < 0.6
    assert frame.groupby(frame["users"] > 500)["internal_ca"].mean().is_monotonic_increasing
    assert 0.6 < (frame["ca"] == "cheapest").mean() < 0.95
    assert frame["servers"].str.split(";").str.len().max() > 1


def test_no_start_precedes_the_release_of_its_exchange_version(monkeypatch):
    """Historical starts reaching back before every release (here from 1990) would otherwise get the newest version,
    Exchange SE, years before it existed: they are drawn from the earliest release on, which they then run."""
    monkeypatch.setattr(synth, "HISTORICAL_STARTS", ("1990-01-01", "2025-12-31"))
    frame = sample()
    released = {v: str(f["released"]) for v, f in default_parameters().exchange_versions.items()}
    assert all(released[v] <= s for v, s in zip(frame["exchange_version"], frame["start"], strict=True))
    assert set(frame.loc[frame["start"] < released["2010"], "exchange_version"]) == {"2007"}


def test_bad_share_spoils_that_share_of_rows_once_each():
    frame = sample(bad_share=0.2)
    result = checked(frame)
    rejected = {issue.row for issue in result.issues}
    assert 0.15 < len(rejected) / len(frame) < 0.25
    assert len(result.frame) + len(rejected) == len(frame)
    assert {i.field for i in result.issues} >= {"users", "start", "external_domain", "ca", "org", "servers"}
    assert len(BAD_KINDS) == 11


def test_every_file_type_can_be_written(tmp_path):
    for suffix in ("csv", "parquet", "xlsx", "yaml"):
        write_synthetic(25, tmp_path / f"p.{suffix}", seed=1)
    csv = pd.read_csv(tmp_path / "p.csv", dtype={"exchange_version": str})
    assert len(csv) == 25
    assert pd.read_parquet(tmp_path / "p.parquet")["org"].tolist() == csv["org"].tolist()
    assert pd.read_excel(tmp_path / "p.xlsx")["id"].tolist() == csv["id"].tolist()
    listed = yaml.safe_load((tmp_path / "p.yaml").read_text())
    assert [p["org"] for p in listed] == csv["org"].tolist()
    assert all(isinstance(p["servers"], list) for p in listed)


def test_synth_command(tmp_path):
    result = CliRunner().invoke(main, ["synth", "30", "-o", str(tmp_path / "s.parquet"), "--seed", "2"])
    assert result.exit_code == 0, result.output
    assert "wrote 30 profiles" in result.stderr
    assert len(pd.read_parquet(tmp_path / "s.parquet")) == 30
    bad = CliRunner().invoke(main, ["synth", "3", "-o", str(tmp_path / "s.json")])
    assert bad.exit_code == 2
    assert bad.stderr == f"error: {tmp_path / 's.json'}: unsupported output type '.json' (use .csv, .parquet, .xlsx or .yaml)\n"
    missing = CliRunner().invoke(main, ["synth", "3", "-o", str(tmp_path / "nowhere" / "s.csv")])
    assert missing.exit_code == 2
    assert missing.stderr == f"error: {tmp_path / 'nowhere' / 's.csv'}: the folder {tmp_path / 'nowhere'} does not exist\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.parquet"]
    negative = CliRunner().invoke(main, ["synth", "3", "-o", str(tmp_path / "s.csv"), "--seed", "-1"])
    assert negative.exit_code == 2 and "Invalid value for '--seed'" in negative.stderr


def test_synth_refuses_a_yaml_file_too_large_to_be_read_back(tmp_path, monkeypatch):
    """A YAML list over the size a profile file may hold would be refused by score and the app: say so, write nothing."""
    monkeypatch.setattr("decision.synth.MAX_YAML_BYTES", 5_000)
    result = CliRunner().invoke(main, ["synth", "20", "-o", str(tmp_path / "s.yaml")])
    assert result.exit_code == 2
    assert re.fullmatch(rf"error: {re.escape(str(tmp_path / 's.yaml'))}: 20 profiles make a YAML file of [0-9,]+ bytes, over "
                        r"the 5 kB a YAML profile file may hold: write \.csv, \.parquet or \.xlsx\n", result.stderr)
    assert list(tmp_path.iterdir()) == []
    assert CliRunner().invoke(main, ["synth", "3", "-o", str(tmp_path / "s.yaml")]).exit_code == 0  # small enough
    assert len(yaml.safe_load((tmp_path / "s.yaml").read_text())) == 3


def test_synth_on_a_full_disk_is_one_error_line(tmp_path, monkeypatch):
    def disk_full(*args, **kwargs):
        yield next(generate(10))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("decision.synth.generate", disk_full)
    result = CliRunner().invoke(main, ["synth", "30", "-o", str(tmp_path / "s.csv")])
    assert (result.exit_code, result.stderr) == (2, f"error: {tmp_path / 's.csv'}: {DISK_FULL}\n")
    assert list(tmp_path.iterdir()) == []
