"""The project's own error type: every problem with input names where it is and why."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import click


@dataclass(frozen=True)
class Issue:
    """One problem found in an input: file, row (1-based, 0 = the whole file), field, reason."""

    file: str
    row: int
    field: str
    reason: str
    value: str = ""

    def __str__(self) -> str:
        where = self.file if self.row == 0 else f"{self.file}, row {self.row}"
        field = f", field '{self.field}'" if self.field else ""
        value = f" (got {self.value!r})" if self.value != "" else ""
        return f"{where}{field}: {self.reason}{value}"


class InputError(ValueError):
    """Input that cannot be used; carries every problem found, one line each."""

    def __init__(self, issues: list[Issue] | Issue):
        self.issues = [issues] if isinstance(issues, Issue) else list(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


@contextmanager
def writing(path: Path | str) -> Iterator[None]:
    """An output that cannot be written (disk full, quota, permissions) is one problem, not a traceback."""
    try:
        yield
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc).splitlines()[0][:200]
        raise InputError(Issue(str(path), 0, "", f"cannot write it: {reason} (any previous file of that name is "
                                                 "unchanged)")) from None


def exit_with(exc: InputError, code: int = 2) -> NoReturn:
    """For the commands: print every problem on its own line (no traceback) and exit with `code`."""
    for issue in exc.issues:
        click.echo(f"error: {issue}", err=True)
    sys.exit(code)
