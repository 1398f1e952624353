"""`python -m decision ARGS` without a new interpreter: decision.cli.run (what __main__ calls, crash handling and exit
codes included) in this process, giving what a subprocess.run(..., capture_output=True, text=True) would.

For tests of what a command prints, writes and exits with; tests of the process itself (the real interpreter's
exit status, signals, no network) start one. Warnings go to stderr as under the interpreter's default filters."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import warnings
from pathlib import Path
from unittest import mock

from click.testing import CliRunner

from decision.cli import run

ROOT = Path(__file__).resolve().parents[1]
_HIDDEN_BY_DEFAULT = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)


def decision_cli(*args: str | Path) -> subprocess.CompletedProcess:
    """Exit code, stdout and stderr of `python -m decision ARGS` run from the repository root."""
    argv = ["decision", *map(str, args)]
    with (CliRunner().isolation() as (out, err, _), mock.patch.object(sys, "argv", argv), contextlib.chdir(ROOT),
          warnings.catch_warnings(record=True) as caught):
        warnings.resetwarnings()
        warnings.simplefilter("default")
        for category in _HIDDEN_BY_DEFAULT:
            warnings.simplefilter("ignore", category)
        try:
            run()
            code = 0
        except SystemExit as exc:  # as the interpreter exits: None is 0, a message is printed and is 1
            code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
            if not isinstance(exc.code, int | None):
                sys.stderr.write(f"{exc.code}\n")
        for w in caught:
            sys.stderr.write(warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line))
        sys.stdout.flush()
        sys.stderr.flush()
        stdout, stderr = (_text(stream.getvalue()) for stream in (out, err))
    return subprocess.CompletedProcess(argv, code, stdout, stderr)


def _text(data: bytes) -> str:
    """As text=True reads a pipe: UTF-8 with universal newlines."""
    return data.decode().replace("\r\n", "\n").replace("\r", "\n")
