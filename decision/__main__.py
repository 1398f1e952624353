"""`python -m decision …` runs the command line."""

import sys

try:
    from decision.cli import run
except KeyboardInterrupt:  # Ctrl-C while it starts
    sys.exit(130)

run()
