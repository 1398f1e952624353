"""Coverage-guided fuzzing of the profile loaders with Atheris (optional; `pip install atheris`).

    python tests/fuzz_atheris.py -max_total_time=300            # all targets, bytes chosen by libFuzzer
    python tests/fuzz_atheris.py -atheris_runs=100000

Each input is read as a profile YAML, a CSV, an XLSX and a Parquet file and as an Exchange export; the only
exceptions allowed are InputError and ExportParseError. The bounded CI run is tests/test_fuzz.py (hypothesis).
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from decision import views
    from decision.catalog import default_catalog
    from decision.errors import InputError
    from decision.exchange_import import ExportParseError, parse_export
    from decision.parameters import default_parameters
    from decision.profiles import load_profiles

PARAMS, CATALOG = default_parameters(), default_catalog()
TODAY = dt.date(2026, 11, 26)
FOLDER = Path(tempfile.mkdtemp(prefix="certstrategy-fuzz-"))


def one_input(data: bytes) -> None:
    for suffix in (".yaml", ".csv", ".xlsx", ".parquet"):
        path = FOLDER / f"input{suffix}"
        path.write_bytes(data)
        try:
            load_profiles(path, PARAMS, CATALOG, today=TODAY)
        except InputError as exc:
            assert str(exc)
    try:
        views.parse_profile_upload(data, "upload.yaml", PARAMS, CATALOG, TODAY)
    except InputError as exc:
        assert str(exc)
    try:
        parse_export(data, "export.json")
    except ExportParseError as exc:
        assert str(exc)


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
