"""Command line: evaluate, score, appendix, synth, import (see README)."""

from __future__ import annotations

import importlib
import sys
import traceback
from pathlib import Path

import click

from decision.errors import InputError, Issue, exit_with

# command → where it is defined: imported when it runs (or help lists it), not at every start, so `score` need not
# import what `import` parses exports with, nor `evaluate` what `score` writes tables with
COMMAND_MODULES = {"score": "decision.batch:score_command", "synth": "decision.synth:synth_command",
                   "appendix": "decision.appendix.command:appendix_command",
                   "import": "decision.import_command:import_command"}


class _Commands(click.Group):
    """`evaluate`, and the commands of `COMMAND_MODULES`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMAND_MODULES})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMAND_MODULES:
            return super().get_command(ctx, cmd_name)
        module, name = COMMAND_MODULES[cmd_name].split(":")
        return getattr(importlib.import_module(module), name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name=None, version=__import__("decision").__version__, prog_name="certstrategy")
def main() -> None:
    """CertStrategy: which TLS certificate strategy should this Exchange organisation use?"""


@main.command()
@click.argument("profile", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table",
              show_default=True, help="Output format.")
@click.option("--catalog", type=click.Path(dir_okay=False, path_type=Path), help="Another CA catalog (cas.yaml).")
@click.option("--parameters", type=click.Path(dir_okay=False, path_type=Path),
              help="Another parameters file (parameters.yaml).")
def evaluate(profile: Path, fmt: str, catalog: Path | None, parameters: Path | None) -> None:
    """Score every certificate strategy for one PROFILE (YAML) and explain the recommendation."""
    from decision.engine import evaluate as run
    from decision.report import render

    try:
        result = run(profile, parameters=parameters, catalog=catalog)
    except InputError as exc:
        exit_with(exc)
    if result.issues:
        exit_with(InputError(result.issues), 1)
    if result.profiles.empty:  # a table with a header and no rows
        exit_with(InputError(Issue(str(profile), 0, "", "the file holds no profile")))
    if len(result.profiles) > 1:
        exit_with(InputError(Issue(str(profile), 0, "", f"{len(result.profiles)} profiles in the file; evaluate is for "
                                                        "one profile (score them all with: python -m decision score)")))
    click.echo(render(result, fmt))


EXIT_BUG = 3  # not 1, which `score` and `evaluate` use for rejected rows: a script must not take a crash for that


def run() -> None:
    """The command line, with a crash (a bug, never bad input) reported as one and exiting 3, and Ctrl-C before a
    command began its work (`score` reports its own) as an interruption, exit 130 (click's own "Aborted!" exits 1,
    which `score` uses for rejected rows)."""
    try:
        code = main(standalone_mode=False)
    except click.Abort:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:  # a usage error, as click reports it
        exc.show()
        sys.exit(exc.exit_code)
    except Exception:
        traceback.print_exc()
        click.echo("error: CertStrategy failed on an internal error (a bug: please report it with the traceback above); "
                   "no output file was replaced", err=True)
        sys.exit(EXIT_BUG)
    sys.exit(code if isinstance(code, int) else 0)  # --help and --version return theirs
