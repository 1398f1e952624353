"""Input limits (file sizes, row counts, YAML expansion) from the `limits` section of data/parameters.yaml.

They guard the process against hostile or broken input, so they come from the shipped file only (read as the
product's own data, decision.shipped, whose parse the parameters reuse) and are checked once, at import.
"""

from __future__ import annotations

from pathlib import Path

from decision.shipped import load_shipped

LIMITS_FILE = Path(__file__).resolve().parent.parent / "data" / "parameters.yaml"
NAMES = ("profile_yaml_max_bytes", "yaml_max_aliases", "yaml_max_nodes", "upload_max_bytes", "export_max_bytes",
         "table_max_rows", "logo_max_bytes")


def load_limits(path: Path = LIMITS_FILE) -> dict[str, int]:
    """{limit name: positive integer}; a missing entry, unit or source is an error of the shipped data."""
    section = (load_shipped(path) or {}).get("limits") or {}
    limits = {}
    for name in NAMES:
        entry = section.get(name)
        if not isinstance(entry, dict) or not entry.get("unit") or not entry.get("source"):
            raise ValueError(f"{path}: limits.{name} needs a value, a unit and a source (or 'estimate')")
        value = entry.get("value")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{path}: limits.{name} must be a positive whole number")
        limits[name] = value
    return limits


LIMITS = load_limits()


def size_text(limit: int) -> str:
    """A byte limit as people write it: '1 MB', '20 MB', '500 kB'."""
    return f"{limit / 1_000_000:g} MB" if limit >= 1_000_000 else f"{limit / 1000:g} kB"
