"""`python -m decision …` runs the command line."""

from decision.cli import run

run()
