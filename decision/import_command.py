"""`python -m decision import EXPORT -o PROFILE.yaml`: a profile from what the Exchange server says (issue 7).

EXPORT is what scripts/collect-exchange.ps1 wrote, or the Format-List output of the same cmdlets pasted
into a text file. The profile holds what the export shows (version, domains, servers, OWA name, internal
names, root domain, counts, and the O= and C= of the certificate in use as org and country); every other
field is left out so its default applies, and the notes at the top of the file say which and why. Exit
codes: 0 a complete profile was written; 1 it was written but needs editing before `evaluate` takes it (the
export has no usable mailbox count: `users` is left empty, marked REQUIRED); 2 nothing was written
(unreadable export, bad output path).
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import textwrap
from pathlib import Path
from typing import Any, NoReturn

import click
import yaml

from decision.catalog import default_catalog
from decision.current_state import assess
from decision.dates import from_day, horizon_end_day, to_day
from decision.errors import InputError, Issue, exit_with, writing
from decision.exchange_import import (
    ExchangeExport,
    ExportParseError,
    profile_from_export,
    read_export,
    why_not_counted,
)
from decision.parameters import default_parameters
from decision.profiles import FIELD_BY_NAME, FIELDS, MAX_COUNT, frame_from_mappings, one_line_problem, validate
from decision.safe_output import atomic_path, same_file
from decision.tables import YAML_SUFFIXES

USERS_PLACEHOLDER = ("users:    # REQUIRED: the number of mailbox users. The export has no usable mailbox count "
                     "(see the notes above); `evaluate` refuses this profile until it is filled in.\n")
# every character YAML or a text editor may take as a line break (NEL \x85 ends a YAML comment too), and other controls
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def _comment(text: str, first: str = "# ", rest: str = "#   ") -> list[str]:
    """One note as YAML comment lines: control characters (a newline could start a YAML key) become spaces."""
    clean = _CONTROL_RE.sub(" ", text).strip()
    return textwrap.wrap(clean, width=110, initial_indent=first, subsequent_indent=rest,
                         break_long_words=False, break_on_hyphens=False) or [first.rstrip()]


def profile_yaml(profile: dict[str, Any], notes: list[str], header: list[str]) -> str:
    """The imported profile as YAML: `header` and `notes` as comments on top, fields in schema order.

    A missing `users` is written as an empty `users:` marked REQUIRED, which `evaluate` rejects by name.
    """
    lines = [line for text in header for line in _comment(text)]
    lines += ["#", "# Notes:"] + [line for note in notes for line in _comment(note, "# - ", "#   ")] + [""]
    body = []
    for f in FIELDS:
        if f.name in profile:
            body.append(yaml.safe_dump({f.name: profile[f.name]}, sort_keys=False, allow_unicode=True, width=1000))
        elif f.name == "users":
            body.append(USERS_PLACEHOLDER)
    return "\n".join(lines) + "\n" + "".join(body)


def _problems(profile: dict[str, Any], source: str) -> list[Issue]:
    """What the engine's validation says about the profile (a missing `users` is reported separately)."""
    params, catalog = default_parameters(), default_catalog()
    raw, issues = frame_from_mappings([{**profile, "users": profile.get("users", 0)}], source)
    return issues + validate(raw, source, params, catalog, None).issues


def _state_lines(export: ExchangeExport, today: dt.date) -> list[str]:
    """The current state over the default horizon from today, as text."""
    years = float(FIELD_BY_NAME["horizon_years"].default)
    end = from_day(horizon_end_day(to_day(today), years))
    state = assess(export, default_parameters(), default_catalog(), today=today, horizon_end=end)
    return [f"Current state on {today.isoformat()} (expiries up to {end.isoformat()}, the default {years:g}-year horizon):",
            *(f"  {line}" for line in state.lines())]


def _fail(path: Path, reason: str) -> NoReturn:
    exit_with(InputError(Issue(str(path), 0, "", reason)))


@click.command("import")
@click.argument("export", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Profile YAML to write (replaced atomically; never the export itself).")
@click.option("--users", type=click.IntRange(0, MAX_COUNT),
              help="Mailbox users, when the export has no count (or to replace its count).")
@click.option("--org", help="Organisation name for reports and certificate requests (default: the O= of the "
                             "certificate in use, else the primary accepted domain).")
def import_command(export: Path, output: Path, users: int | None, org: str | None) -> None:
    """Build a profile from EXPORT (collect-exchange.ps1 JSON, or pasted Format-List text) and show the current state."""
    if same_file(export, output):
        _fail(output, "is the export itself; choose another output file (the export is never overwritten)")
    if output.suffix.lower() not in YAML_SUFFIXES:
        _fail(output, "the profile is YAML: the file name must end in .yaml or .yml")
    if org is not None and (problem := one_line_problem(org)):
        exit_with(InputError(Issue("--org", 0, "org", f"{problem}; nothing written")))
    try:
        parsed = read_export(export)
    except ExportParseError as exc:
        exit_with(exc)
    profile, notes = profile_from_export(parsed, org=org)
    if users is not None:
        counted = f" (the export counted {profile['users']})" if "users" in profile else ""
        notes = [n for n in notes if not n.startswith("users:")]
        notes.insert(0, f"users: {users}, given with --users{counted}.")
        profile["users"] = users
    problems = _problems(profile, str(output))
    today = dt.date.today()
    kind = "collect-exchange.ps1 JSON" if parsed.format == "json" else "pasted Format-List text"
    collected = f", collected {parsed.collected_at}" if parsed.collected_at else ""
    header = [f"CertStrategy profile, imported by `python -m decision import` on {today.isoformat()}",
              f"from {export.name} ({kind}{collected}).",
              "Fields the export cannot show are left out, so their defaults apply; the notes say which.",
              f"Review them, then run: python -m decision evaluate {output.name}"]
    try:
        with writing(output), atomic_path(output) as tmp:
            tmp.write_text(profile_yaml(profile, notes, header), encoding="utf-8")
    except InputError as exc:
        exit_with(exc)

    click.echo(f"Wrote {output}: {profile['org']}, Exchange {profile['exchange_version']}, "
               f"{len(profile['servers'])} client access server(s), users: {profile.get('users', 'REQUIRED, not set')}, "
               f"mobile devices: {profile.get('mobile_devices', 'not counted (default 0)')}; {len(notes)} notes at its top.")
    for line in _state_lines(parsed, today):
        click.echo(line)
    missing = "users" not in profile
    if missing:
        click.echo(f"error: {output}: `users` (the number of mailbox users) is empty: "
                   f"{why_not_counted(parsed, 'user_mailboxes')}. Fill it in, or import again with --users N.", err=True)
    for issue in problems:
        click.echo(f"error: {issue}", err=True)
    if missing or problems:
        click.echo(f"error: {output} was written but `python -m decision evaluate` will refuse it until "
                   "the field(s) above are fixed.", err=True)
        sys.exit(1)
    click.echo(f"Next: python -m decision evaluate {output}")
