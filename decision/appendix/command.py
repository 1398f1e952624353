"""`python -m decision appendix PROFILE.yaml -o OUT.docx|OUT.html|OUT.md [--firm NAME] [--logo FILE] [--export FILE]`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from decision.errors import InputError, Issue, exit_with

SUFFIXES = (".docx", ".html", ".md")


@click.command("appendix")
@click.argument("profile", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The appendix to write: .docx (Word), .html or .md (charts as PNG files beside it).")
@click.option("--firm", help="Consultancy name for the title block and footer.")
@click.option("--logo", type=click.Path(dir_okay=False, path_type=Path), help="Logo for the title block (PNG, JPEG or GIF).")
@click.option("--catalog", type=click.Path(dir_okay=False, path_type=Path), help="Another CA catalog (cas.yaml).")
@click.option("--parameters", type=click.Path(dir_okay=False, path_type=Path),
              help="Another parameters file (parameters.yaml).")
@click.option("--date", "generated", type=click.DateTime(["%Y-%m-%d"]),
              help="Generation date to print (default today), to reproduce an earlier appendix byte for byte; the "
                   "day the --export's certificates are assessed on.")
@click.option("--export", "export", type=click.Path(dir_okay=False, path_type=Path),
              help="A server export (collect-exchange.ps1 JSON or pasted Format-List text, as `import` reads): "
                   "section 2.1 shows the certificates in place, what is wrong with them and when each is replaced.")
def appendix_command(profile: Path, output: Path, firm: str | None, logo: Path | None, catalog: Path | None,
                     parameters: Path | None, generated: dt.datetime | None, export: Path | None) -> None:
    """Write the consultants' appendix for one PROFILE: recommendation, options, costs, commands, sources."""
    from decision.appendix import write
    from decision.catalog import CATALOG_FILE, default_catalog, load_catalog
    from decision.current_state import assess_horizon
    from decision.dates import from_day
    from decision.engine import evaluate
    from decision.exchange_import import other_organisation, read_export
    from decision.parameters import default_parameters, load_parameters
    from decision.profiles import load_profiles, one_line_problem, profile_to_mapping

    if output.suffix.lower() not in SUFFIXES:
        exit_with(InputError(Issue(str(output), 0, "output", f"the file name must end in {', '.join(SUFFIXES)}")))
    if not output.parent.is_dir():
        exit_with(InputError(Issue(str(output), 0, "output", "the folder does not exist")))
    if firm is not None and (problem := one_line_problem(firm)):
        exit_with(InputError(Issue("--firm", 0, "firm", problem)))
    try:
        params = load_parameters(parameters) if parameters else default_parameters()
        cat = load_catalog(catalog or CATALOG_FILE, params) if catalog or parameters else default_catalog()
        valid = load_profiles(profile, params, cat)  # validated first: a rejected profile is reported, not scored
        if valid.issues:
            exit_with(InputError(valid.issues), 1)
        if len(valid.frame) != 1:
            exit_with(InputError(Issue(str(profile), 0, "", f"{len(valid.frame)} profiles in the file; "
                                                        "the appendix is for one profile")))
        result = evaluate(valid, parameters=params, catalog=cat)
        day = generated.date() if generated else dt.date.today()
        row = result.profiles.iloc[0]
        current = None
        if export is not None:
            server_export, fields = read_export(export), profile_to_mapping(valid.frame)
            if why := other_organisation(server_export, fields):
                exit_with(InputError(Issue(str(export), 0, "--export", f"{why}, not {fields['org']}'s; nothing "
                                                                        "written")))
            current = assess_horizon(server_export, params, cat, from_day(int(row["start"])),
                                     float(row["horizon_years"]), day)
            collected = (server_export.collected_at or "")[:10]
            if collected > day.isoformat():  # ISO dates compare as text; a paste has no collection date
                click.echo(f"warning: {export} was collected on {collected}, after the appendix's date {day}: its "
                           f"section 2.1 shows the servers as they were on {collected}, on {day}'s dates", err=True)
        written = write(result, 0, output, firm=firm, logo=logo, generated=day, current=current)
    except InputError as exc:
        exit_with(exc)
    for path in written:
        click.echo(f"wrote {path}")
