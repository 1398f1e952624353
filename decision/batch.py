"""Batch scoring: a file (or folder) of profiles in, a scored portfolio out, with pandas or Dask.

The input is read in chunks; each chunk is validated, scored and formatted by one function
(`score_chunk`), by threads of this process or in Dask workers, and the driver appends the chunks in input
order to temporary files that replace the output and errors files only when everything is written.
Row numbers are those a spreadsheet shows (header = row 1) for tables, and the position in the file
for YAML. Every input row is either scored or listed in the errors file; rows without any value (blank
lines, a spreadsheet's empty rows) are skipped, not counted.

With Dask, the workers read their own partitions: a CSV file is cut into byte ranges that end where a
record ends (`tables.csv_blocks`; a quoted value may hold line breaks), a Parquet file into row slices
(a UTF-16 CSV file is read by the driver, which sends the workers its chunks). The driver counts the line ends
of each CSV block as it cuts them, so a worker numbers its rows from the file's start and, for CSV output, returns
finished CSV lines that the driver only appends (a count proved wrong sends that block and the rest back as frames).
Each partition is parsed exactly as the pandas path parses a chunk, so both engines give the same bytes;
`dd.read_csv` is not used because it cuts at every line break and forces the first block's column types
on every block, which would stop the run at the first bad cell instead of rejecting its row.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field, replace
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO

import click
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from decision.catalog import CATALOG_FILE, Catalog, default_catalog, load_catalog
from decision.currency import totals_note
from decision.engine import ENGINE_VERSION, OPTION_COLUMNS, Scored, long_table, recommendation_columns, score_frame
from decision.errors import InputError, Issue, exit_with, writing
from decision.explain import why_no_option
from decision.options import OPTIONS
from decision.parameters import Parameters, default_parameters, load_parameters
from decision.profiles import (
    FIELD_BY_NAME,
    FIELDS,
    NUMERIC_KINDS,
    TEXT_COLUMNS,
    WEIGHT_FIELDS,
    closest,
    read_yaml_profiles,
    suggest,
    validate,
)
from decision.safe_output import NUMBER_FORMATS, CsvLines, TableWriter, atomic_path, csv_lines, output_format, same_file
from decision.safeyaml import read_text
from decision.scoring import at_columns
from decision.sensitivity import batch_columns
from decision.tables import (
    CSV_SUFFIXES,
    INPUT_TYPES,
    READ_AS_TEXT,
    XLSX_SUFFIXES,
    YAML_SUFFIXES,
    TablePart,
    csv_blocks,
    csv_problems,
    parquet_part,
    parse_csv,
    table_parts,
    utf16_encoding,
)
from decision.textops import labels

CHUNK_ROWS = 50_000  # the engine peaks at ~7 KB per profile in a chunk: ~0.7 GB per process
MMAP_THRESHOLD = 33_554_432  # bytes: temporaries below it come from the heap, not from fresh mmap calls
TRIM_THRESHOLD = 134_217_728  # bytes of free heap kept for the next chunk instead of returned and faulted in again
TABLES_NOT_IN_A_FOLDER = (".csv", *XLSX_SUFFIXES, ".parquet")  # said to be left out of a YAML folder
TASKS_PER_WORKER = 4  # Dask: at least this many partitions per worker, so the workers finish together
# Dask: partitions submitted ahead per worker. Results are written in input order, so a worker that is ahead
# must not run out of work while the oldest partition is still running elsewhere (2 per worker left the
# workers idle ~0.8 s more per 2M profiles than 4); each held result is one chunk's output.
AHEAD_PER_WORKER = 4
WAIT_FOR_WORKERS = 10  # seconds an existing cluster's scheduler is given to have a worker connected
CONNECT_TIMEOUT = 10  # seconds to reach a --scheduler (Dask's default, 30 s, is long to learn of a wrong port)
ANSWER_TIMEOUT = 5  # seconds more for a --scheduler that took the connection to answer as Dask does
CRITERIA = ("cost_total", "tco", "trust", "devices_to_reconfigure", "users_url_change", "certificate_issuances")
COUNT_COLUMNS = ("devices_to_reconfigure", "users_url_change", "certificate_issuances")
DECIMALS = {"margin": 2, "cost_total": 2, "tco": 2, "trust": 4, "score": 2}
ERROR_COLUMNS = ("file", "row", "field", "value", "reason")
# characters XLSX columns get whose values no list bounds (safe_output caps every column at 60)
FREE_WIDTHS = {"text": 60, "profile": 24, "folder_file": 40, "value": 30}  # reasons and names; ids; paths in a folder
EXIT_OK, EXIT_REJECTED, EXIT_UNREADABLE = 0, 1, 2
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143  # the shell's codes for Ctrl-C (SIGINT) and SIGTERM: 128 + the signal


@dataclass
class Job:
    """What every chunk needs to be scored the same way, here or in a worker."""

    layout: str
    source: str
    params: Parameters
    catalog: Catalog
    today: dt.date
    folder: bool = False


@dataclass
class Piece:
    """Raw profiles of one chunk as read.

    raw.attrs["rows"] holds positions 1..n; `rows` (and `files` for a folder) say where each came from.
    `issues` name positions (problems found while reading, e.g. YAML structure); `unread` are input rows
    that could not become profiles at all (a CSV line with too many fields), with their own row numbers.
    """

    raw: pd.DataFrame
    rows: np.ndarray
    issues: list[Issue] = field(default_factory=list)
    unread: list[Issue] = field(default_factory=list)
    files: np.ndarray | None = None
    relative: bool = False  # rows count from this piece's start; the driver adds the rows before it
    span: int | None = None  # rows of the input it covers, blank ones included (None: the rows it holds)
    misspelt: set[tuple[int, str]] = field(default_factory=set)  # (position, field) a misspelt key left blank


@dataclass
class ChunkResult:
    """One scored chunk: output rows (or, from a Dask worker told its first row, the rows as finished CSV), error
    rows and the counts for the summary."""

    output: pd.DataFrame | CsvLines
    errors: pd.DataFrame
    rows_in: int
    scored: int
    winners: np.ndarray  # profiles per recommended option, last = no feasible option
    cents: dict[str, int]  # total cost of the recommended options per currency, in cents as the output rounds them
    relative: bool = False
    span: int = 0  # rows of the input it covers, blank ones included


class PartitionError(Exception):
    """An input problem found in a partition whose rows count from the partition's start: the driver, which
    knows the rows before it, makes them absolute (as it does for the partition's output rows)."""

    def __init__(self, error: InputError):
        super().__init__(error)
        self.error = error

    def shifted(self, rows_before: int) -> InputError:
        return InputError([replace(i, row=i.row + rows_before) if i.row else i for i in self.error.issues])


def _share(count: int, total: int) -> str:
    """A count's share of a total to one decimal, never rounded away to 0.0% (or up to 100.0%)."""
    share = count / total
    return "<0.1%" if 0 < share < 0.0005 else ">99.9%" if 0.9995 <= share < 1 else f"{share:.1%}"


@dataclass
class Summary:
    """Totals of a run."""

    params: Parameters  # the data files whose prices the totals add (for the currency note)
    catalog: Catalog
    rows_in: int = 0
    scored: int = 0
    winners: np.ndarray = field(default_factory=lambda: np.zeros(len(OPTIONS) + 1, dtype=np.int64))
    cents: dict[str, int] = field(default_factory=dict)  # as ChunkResult.cents

    @property
    def rejected(self) -> int:
        return self.rows_in - self.scored

    def add(self, result: ChunkResult) -> None:
        self.rows_in += result.rows_in
        self.scored += result.scored
        self.winners += result.winners
        for currency, amount in result.cents.items():
            self.cents[currency] = self.cents.get(currency, 0) + amount

    def lines(self) -> list[str]:
        out = [f"rows in: {self.rows_in:,}  scored: {self.scored:,}  rejected: {self.rejected:,}"]
        if self.scored:
            shares = [f"{name} {count:,} ({_share(count, self.scored)})"
                      for name, count in zip([*OPTIONS, "no feasible option"], self.winners.tolist(), strict=True) if count]
            out.append("recommended: " + ", ".join(shares))
            costs = ", ".join(f"{currency} {cents // 100:,}.{cents % 100:02d}" for currency, cents in sorted(self.cents.items()))
            out.append(f"total cost of the recommended options: {costs}")
            if note := totals_note(sorted(self.cents), self.params, self.catalog):
                out.append(note)
        return out


# ------------------------------------------------------------------------------------- scoring

def output_columns(layout: str, folder: bool = False) -> list[str]:
    """Columns of the batch output, in order."""
    where = ["row", "file"] if folder else ["row"]
    if layout == "long":
        return [*OPTION_COLUMNS, "ca", "currency", "dominated", "dominated_by", *where]
    return ["profile", *where, "recommendation", "recommended_ca", "no_option_because", "runner_up", "margin", "close_call",
            "nearest_flip", "currency", *CRITERIA, "score", *(f"score_{o}" for o in OPTIONS)]


def _typed(table: pd.DataFrame | dict[str, Any], names: list[str] | None = None) -> pd.DataFrame:
    """The columns `names` of `table` (a frame, or arrays by name; all by default), in order, of fixed types (counts
    nullable where a profile has no feasible option, text as str) and rounded as shown: a frame made at once (a
    column set on a frame costs a copy of its block)."""
    columns = {}
    for name in table.columns if names is None else names:
        column = pd.Series(table[name], copy=False)
        if name in DECIMALS:
            column = column.round(DECIMALS[name])
        if column.dtype == object:
            column = column.astype("str")
        elif name in COUNT_COLUMNS:
            column = column.astype("Int64")
        columns[name] = column
    return pd.DataFrame(columns)


def _no_rows(names: list[str]) -> pd.DataFrame:
    """A table of the columns `names` without rows, each of the type `_typed` gives it when rows come (a Parquet file
    of no rows keeps them: appended to files with rows, it agrees with them)."""
    def dtype(name: str) -> str:
        if name in ("close_call", "feasible", "dominated"):
            return "bool"
        if name in (*COUNT_COLUMNS, "certificates", "rank"):
            return "Int64"
        if name == "row":
            return "int64"
        return "float64" if name in (*DECIMALS, *CRITERIA) or name.startswith("score_") else "str"
    return pd.DataFrame({name: pd.Series(dtype=dtype(name)) for name in names})


def _cents_by_currency(cents: np.ndarray, currency: pd.api.extensions.ExtensionArray) -> dict[str, int]:
    """Sums of integer `cents` per currency code, in the codes' order: one pass per code (a batch has few)."""
    codes, uniques = currency.factorize()
    return {str(code): int(cents[codes == i].sum()) for i, code in sorted(enumerate(uniques), key=lambda p: p[1])}


def score_chunk(piece: Piece, job: Job) -> ChunkResult:
    """Validate, score and format one chunk: the single function both engines run."""
    valid = validate(piece.raw, job.source, job.params, job.catalog, job.today)
    frame = valid.frame
    if piece.issues:
        frame = frame[~frame["row"].isin([i.row for i in piece.issues])].reset_index(drop=True)
    winners = np.zeros(len(OPTIONS) + 1, dtype=np.int64)
    cents: dict[str, int] = {}
    if len(frame):
        scored = score_frame(frame, job.params, job.catalog)
        if job.layout == "long":
            out = long_table(scored, job.catalog, job.params, names=True)
            out["rank"] = out["rank"].astype("Int64").mask(~out["feasible"])  # infeasible options have no rank
        else:
            out = recommendation_columns(scored)  # made into a table once, with the columns below (_typed)
            out["recommended_ca"] = _recommended_ca(scored, job.catalog)
            because = why_no_option(scored.columns["reasons"], scored.winner < 0)  # None where an option is feasible
            out["no_option_because"] = pd.Series(pa.array(because, pa.large_string()), dtype="str")  # from objects: 9x the time
            out["nearest_flip"] = batch_columns(scored)["nearest_flip"].array
        currency, rows_each = frame["currency"].array, len(out["row"]) // len(frame)  # of the costs, on each profile's rows
        out["currency"] = currency if rows_each == 1 else currency.take(np.repeat(np.arange(len(frame)), rows_each))
        winners += np.bincount(np.where(scored.winner >= 0, scored.winner, len(OPTIONS)), minlength=len(OPTIONS) + 1)
        has = scored.winner >= 0
        paid = at_columns(scored.columns["cost_total"], np.maximum(scored.winner, 0))[has]
        cents = _cents_by_currency(np.rint(paid * 100).astype(np.int64), currency[has])  # to the cent, as _typed rounds
        positions = np.asarray(out["row"]) - 1
        out["row"] = piece.rows[positions]
        if job.folder:
            out["file"] = piece.files[positions]
        out = _typed(out, output_columns(job.layout, job.folder))
    else:
        out = _no_rows(output_columns(job.layout, job.folder))
    found = [i for i in valid.issues if (i.row, i.field) not in piece.misspelt]  # its misspelling says why it is blank
    errors = _error_rows(piece, [*piece.issues, *found], job)
    rows_in = len(piece.raw) + len(piece.unread)
    return ChunkResult(out, errors, rows_in, len(frame), winners, cents, piece.relative,
                       rows_in if piece.span is None else piece.span)


def _recommended_ca(scored: Scored, catalog: Catalog) -> pd.Series:
    """Per profile, the catalog id of the CA that issues the recommended option's certificates (none without one)."""
    chosen = at_columns(scored.columns["ca"], np.maximum(scored.winner, 0))
    return labels(catalog.ids, np.where(scored.winner >= 0, chosen, -1))


def _error_rows(piece: Piece, issues: list[Issue], job: Job) -> pd.DataFrame:
    """Issues naming positions → rows of the errors table (file, row, field, value, reason), in row order."""
    positions = np.array([i.row for i in issues], dtype=np.int64) - 1
    files = piece.files[positions] if job.folder and len(issues) else np.full(len(issues), job.source, dtype=object)
    written = piece.raw.attrs.get("separator") in READ_AS_TEXT  # every cell read as text (tables.parse_csv): shown as it is
    table = pd.DataFrame({
        "file": [*files.tolist(), *(i.file for i in piece.unread)],
        "row": np.concatenate([piece.rows[positions] if len(issues) else np.zeros(0, dtype=np.int64),
                               np.array([i.row for i in piece.unread], dtype=np.int64)]),
        "field": [i.field for i in (*issues, *piece.unread)],
        "value": [i.value if written else _shown(i.field, i.value) for i in (*issues, *piece.unread)],
        "reason": [i.reason for i in (*issues, *piece.unread)],
    }, columns=list(ERROR_COLUMNS))
    table["row"] = table["row"].astype(np.int64)
    return _typed(table.sort_values(["file", "row"], kind="stable").reset_index(drop=True))


def _shown_any(value: Any) -> str:
    """A value of a key that is not a field, as written: a whole number without '.0', at most 80 characters."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)[:80]


def _shown(field_name: str, value: str) -> str:
    """A rejected number of a column the reader may type in its shortest form ('-5', not '-5.0').

    The CSV parser types each chunk's number columns on its own, so the same cell may arrive as 5 or 5.0;
    the errors file must not depend on where the chunks were cut. A file read as text (a ';' file, whose
    '100.000' is 100000) is not passed here: its cells arrive as written in every chunk, and are shown so.
    """
    spec = FIELD_BY_NAME.get(field_name)
    if spec is None or spec.kind not in NUMERIC_KINDS:
        return value
    try:
        number = float(value)
    except ValueError:
        return value
    return str(int(number)) if number.is_integer() else repr(number) if math.isfinite(number) else value


# ------------------------------------------------------------------------------------- reading

def _input_error(path: Path, reason: str) -> InputError:
    return InputError(Issue(str(path), 0, "", reason))


def _piece(part: TablePart) -> Piece:
    return Piece(part.raw, part.rows, unread=part.unread, span=part.span)


def _yaml_files(path: Path) -> list[Path]:
    """The YAML file, or a folder's YAML files and those of its sub-folders, by path relative to it (hidden files
    and folders, named '.…', are skipped: a copy's lock or editor files, macOS's '._' companions).

    Links to folders and files are followed, and each folder and file is read once: under its own path in the folder
    if it has one, else under the first link to it in path order. A link to a folder read already (a link back to a
    folder that holds it would loop), a second path to a file read already, a broken link, a folder that cannot be
    listed and a table (a CSV, workbook or Parquet file: a client list meant to be scored?) are skipped with a warning
    on stderr saying which and why."""
    if not path.is_dir():
        return [path]
    seen: dict[tuple[int, int], str] = {}  # folder (device, inode) → its path as read
    found: dict[tuple[int, int], list[tuple[bool, tuple[str, ...]]]] = {}  # file → (through a link, path parts) ...
    links: list[tuple[tuple[str, ...], Path]] = []  # folder links, followed once the folders they sit in are read

    def warn(parts: tuple[str, ...], reason: str) -> None:
        tqdm.write(f"warning: {Path(path, *parts)}: {reason}", file=sys.stderr)

    def walk(folder: Path, parts: tuple[str, ...], linked: bool) -> None:
        seen[_file_id(folder.stat())] = "/".join(parts) or "."
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            warn(parts, f"cannot list the folder ({exc.strerror}): its files are not read")
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            here = (*parts, entry.name)
            try:
                is_dir, is_file = entry.is_dir(), entry.is_file()
            except OSError:
                is_dir = is_file = False
            if entry.is_symlink() and not (is_dir or is_file):
                warn(here, "a link to nothing (broken): skipped")
            elif is_dir and entry.is_symlink():
                links.append((here, Path(entry.path)))
            elif is_dir:
                walk(Path(entry.path), here, linked)
            elif is_file and Path(entry.name).suffix.lower() in YAML_SUFFIXES:
                found.setdefault(_file_id(entry.stat()), []).append((linked or entry.is_symlink(), here))
            elif is_file and Path(entry.name).suffix.lower() in TABLES_NOT_IN_A_FOLDER:
                warn(here, "a table of profiles, not read: a folder is read for its .yaml and .yml files (score the "
                           "table on its own)")

    walk(path, (), False)
    while links:
        links.sort()
        parts, link = links.pop(0)
        target = seen.get(_file_id(link.stat()))
        if target is None:
            walk(link, parts, True)
        else:
            up = target == "." or parts[:len(target.split("/"))] == tuple(target.split("/"))  # it holds the link
            warn(parts, f"a link to the folder '{target}', which is read already "
                        f"({'a link back up would loop' if up else 'under its own path'}): not followed")
    files: list[tuple[str, ...]] = []
    again: list[tuple[tuple[str, ...], tuple[str, ...]]] = []  # (a second path to a file, the path it is read as)
    for places in found.values():
        first = min(places)[1]
        files.append(first)
        again += [(parts, first) for _, parts in places if parts != first]
    for parts, first in sorted(again):
        warn(parts, f"the same file as '{'/'.join(first)}', which is read: skipped")
    if not files:
        raise _input_error(path, "the folder and its sub-folders hold no .yaml or .yml profile files")
    return [Path(path, *parts) for parts in sorted(files)]


def _file_id(stat: os.stat_result) -> tuple[int, int]:
    """What tells a file or folder apart from another, whatever path reaches it."""
    return stat.st_dev, stat.st_ino


def _yaml_pieces(path: Path, chunk_rows: int) -> Iterator[Piece]:
    """A YAML file (one profile or a list) or a folder of them (see `_yaml_files`), each named by its path relative to
    the folder; a broken file in a folder is one rejected row."""
    folder = path.is_dir()
    frames: list[pd.DataFrame] = []
    issues: list[Issue] = []
    unread: list[Issue] = []
    size = 0
    for file in _yaml_files(path):
        name = file.relative_to(path).as_posix() if folder else str(file)
        try:
            frame, problems = read_yaml_profiles(read_text(file), name)
        except InputError as exc:
            if not folder:
                raise
            unread.append(Issue(name, 0, "", "; ".join(i.reason for i in exc.issues)))
            continue
        # positions within the piece come later; keep (file, row) for now
        frame = frame.assign(_file=name, _row=np.arange(1, len(frame) + 1))
        frame.attrs = {}  # row numbers are kept in _row; pandas cannot compare array attrs when concatenating
        frames.append(frame)
        issues.extend(problems)
        size += len(frame)
        if size >= chunk_rows:
            yield _mapping_piece(frames, issues, unread, folder)
            frames, issues, unread, size = [], [], [], 0
    if frames or unread:
        yield _mapping_piece(frames, issues, unread, folder)


def _mapping_piece(frames: list[pd.DataFrame], issues: list[Issue], unread: list[Issue], folder: bool) -> Piece:
    """Profiles from YAML mappings: unknown keys and structural problems reject the row, not the input."""
    raw = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["_file", "_row"], dtype=object)
    where = {(f, r): p for p, (f, r) in enumerate(zip(raw["_file"], raw["_row"], strict=True), start=1)}
    positioned = [Issue(i.file, where[(i.file, i.row)], i.field, i.reason, i.value) for i in issues]
    misspelt: set[tuple[int, str]] = set()
    for column in [c for c in raw.columns if c not in FIELD_BY_NAME and c not in ("_file", "_row")]:
        reason = f"unknown field{suggest(column, FIELD_BY_NAME)}"
        given = raw[column].notna().to_numpy()
        values = raw[column].to_numpy(dtype=object)  # a float column where other profiles leave it out: 3 reads 3.0
        positioned.extend(Issue("", int(p) + 1, column, reason, _shown_any(values[p])) for p in np.flatnonzero(given))
        if meant := closest(column, FIELD_BY_NAME):
            left_blank = given & (raw[meant].isna().to_numpy() if meant in raw.columns else True)
            misspelt.update((int(p) + 1, meant) for p in np.flatnonzero(left_blank))
        raw = raw.drop(columns=column)
    for f in FIELDS:
        if f.required and f.name not in raw.columns:
            raw[f.name] = None
    files, rows = raw.pop("_file").to_numpy(dtype=object), raw.pop("_row").to_numpy(dtype=np.int64)
    raw.attrs["rows"] = np.arange(1, len(raw) + 1)
    return Piece(raw, rows, positioned, unread, files if folder else None, misspelt=misspelt)


def _pieces(path: Path, chunk_rows: int, sized: Callable[[int | None], None] | None = None) -> Iterator[Piece]:
    """The input in pieces of at most `chunk_rows` rows, read as they are asked for; `sized` is told the rows a
    workbook records when it is opened (see `tables.xlsx_parts`)."""
    suffix = path.suffix.lower()
    if path.is_dir() or suffix in YAML_SUFFIXES:
        return _yaml_pieces(path, chunk_rows)
    if suffix not in (*CSV_SUFFIXES, *XLSX_SUFFIXES, ".parquet"):
        raise _input_error(path, f"unsupported file type '{suffix}' (use {INPUT_TYPES}, or a folder of YAML files)")
    if not path.exists():
        raise _input_error(path, "cannot read file: No such file or directory")
    return _table_pieces(path, chunk_rows, sized)


def _table_pieces(path: Path, chunk_rows: int, sized: Callable[[int | None], None] | None) -> Iterator[Piece]:
    """A table's parts; the problems its reader read around without losing a row (a workbook's damaged merged range)
    are warnings on stderr: they reject no row, so they are not in the errors file (see `TablePart.notes`)."""
    for part in table_parts(path, chunk_rows, TEXT_COLUMNS, sized):
        for note in part.notes:
            tqdm.write(f"warning: {note}", file=sys.stderr)  # above the progress bar, if one is shown
        yield _piece(part)


def _checked(pieces: Iterator[Piece], job: Job) -> Iterator[Piece]:
    """Fail on whole-input problems (unknown or missing columns) before the first chunk is scored."""
    first = next(pieces, None)
    if first is None:
        return
    validate(first.raw.head(0), job.source, job.params, job.catalog, job.today)
    yield first
    yield from pieces


def _check_columns(path: Path, job: Job) -> None:
    """The same check on the first row only, for runs whose chunks are read elsewhere (Dask workers)."""
    for _ in _checked(_pieces(path, 1), job):
        return


def _read_ahead(pieces: Iterator[Piece]) -> Iterator[Piece]:
    """`pieces` with the first one read now, so its columns are checked now (see `_checked`), not when it is scored."""
    first = next(pieces, None)
    return pieces if first is None else chain([first], pieces)


# ------------------------------------------------------------------------------------ engines

def _in_order(submitted: Iterator[Any], window: int) -> Iterator[Any]:
    """Submitted chunks (futures), in input order, with at most `window` submitted and not yet yielded: a worker
    that is ahead keeps working while the oldest chunk still runs, and memory stays bounded."""
    pending: deque = deque()
    for future in submitted:
        pending.append(future)
        if len(pending) >= window:
            yield pending.popleft()
    yield from pending


def _pandas_results(pieces: Iterator[Piece], job: Job, threads: int) -> Iterator[ChunkResult]:
    """Chunks scored in this process, by `threads` threads at once: numpy, arrow and most of pandas release the
    GIL in their kernels, so on 2 cores two threads score 1.4-1.7x the profiles of one (the file is read and the
    output written by this thread meanwhile)."""
    if threads == 1:
        yield from (score_chunk(piece, job) for piece in pieces)
        return
    pool = ThreadPoolExecutor(threads, thread_name_prefix="score")
    try:
        submitted = (pool.submit(score_chunk, piece, job) for piece in pieces)
        yield from (future.result() for future in _in_order(submitted, threads + 1))
    finally:  # stopped early (an error, a full sheet): drop the chunks not started, wait for the running ones
        pool.shutdown(wait=True, cancel_futures=True)


def _opened_on_worker(path: str) -> BinaryIO:
    """The input, opened by a Dask worker; a worker that cannot see it (another machine or mount) says so."""
    try:
        return open(path, "rb")
    except OSError as exc:
        raise _input_error(Path(path), f"a Dask worker on {socket.gethostname()} cannot open it ({exc.strerror}): the "
                                       "workers must see INPUT at the same path") from None


def _score_csv_block(path: str, offset: int, length: int, header: bytes, job: Job,
                     rows_before: int | None = None) -> ChunkResult:
    """One Dask partition of a CSV file: read its bytes, parse them as the pandas path parses a chunk, score.

    Told the input rows before the partition (`rows_before`), the worker numbers its rows and returns its output as
    finished CSV lines (see `_finished`); otherwise the driver numbers them.
    """
    with _opened_on_worker(path) as fh:
        fh.seek(offset)
        data = fh.read(length)
    relative = offset > len(header)
    try:
        with csv_problems(job.source):
            piece = _piece(next(parse_csv(io.BytesIO(header + data), chunk_rows=None, path=job.source,
                                          text_columns=TEXT_COLUMNS)))
    except InputError as exc:
        raise (PartitionError(exc) if relative else exc) from None
    piece.relative = relative
    result = score_chunk(piece, job)
    return result if rows_before is None else _finished(result, rows_before)


def _finished(result: ChunkResult, rows_before: int) -> ChunkResult:
    """A CSV partition's result with its rows numbered from `rows_before` and its output as the driver would
    write it: the driver only appends it (neutralising and formatting CSV is the larger part of its work)."""
    if result.relative:
        result.output["row"] += rows_before
        result.errors["row"] += rows_before
    return replace(result, output=csv_lines(result.output), relative=False)


def _score_parquet_slice(path: str, group: int, start: int, length: int, first_row: int, job: Job) -> ChunkResult:
    """One Dask partition of a Parquet file: rows start..start+length of one row group (bounded memory)."""
    try:
        with _opened_on_worker(path) as fh:
            part = parquet_part(pq.ParquetFile(fh).read_row_group(group).slice(start, length), first_row)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise _input_error(Path(path), f"cannot read the Parquet file: {str(exc).splitlines()[0][:200]}") from None
    return score_chunk(_piece(part), job)


def _bytes_per_line(path: Path) -> float:
    """The average length of a line in the first MiB of a CSV file."""
    with path.open("rb") as fh:
        sample = fh.read(1 << 20)
    return len(sample) / max(1, sample.count(b"\n"), sample.count(b"\r"))  # '\r' alone ends old Mac lines


def _csv_blocksize(path: Path, chunk_rows: int, workers: int) -> int:
    """Bytes per CSV partition: about `chunk_rows` rows, and at least TASKS_PER_WORKER partitions per worker."""
    per_row = _bytes_per_line(path)
    return max(1 << 16, min(int(chunk_rows * per_row), math.ceil(path.stat().st_size / (TASKS_PER_WORKER * workers))))


def _expected_rows(path: Path) -> int | None:
    """About how many rows INPUT holds, for the progress bar: a CSV's size over its first lines' length, a
    Parquet file's row count; None when that is not known without reading (a workbook's reader tells its sheet's
    recorded size when it opens it)."""
    suffix = path.suffix.lower()
    try:
        if not path.is_file():
            return None
        if suffix in CSV_SUFFIXES:
            return max(0, round(path.stat().st_size / _bytes_per_line(path)) - 1)
        if suffix == ".parquet":
            return pq.ParquetFile(path).metadata.num_rows
    except Exception:  # a damaged file fails in many ways; reading it will report the problem
        pass
    return None


class _Progress:
    """The progress bar of a run on stderr, if `shown` (on a terminal), drawn once the rows to expect are known
    (`expect`): at the start for a CSV, Parquet or YAML input, when its reader opens a workbook."""

    def __init__(self, shown: bool) -> None:
        self.shown = shown
        self.bar: tqdm | None = None

    def expect(self, total: int | None) -> None:
        """Draw the bar, going to `total` rows (None: not known, the rows are counted)."""
        if self.shown:
            self.bar = tqdm(total=total, unit=" rows", unit_scale=True, file=sys.stderr)

    def advance(self, rows: int, covered: int) -> None:
        """`rows` more input rows done, `covered` in all."""
        if self.bar is None:
            return
        if self.bar.total is not None and covered > self.bar.total:  # the CSV estimate fell short
            self.bar.total = covered
        self.bar.update(rows)

    def finish(self, covered: int) -> None:
        """Every row done: the bar ends at 100 %."""
        if self.bar is not None and self.bar.total is not None:
            self.bar.total = covered

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _read_by_workers(path: Path) -> bool:
    """Whether Dask workers read their own partitions of INPUT: a CSV file's byte ranges (not a UTF-16 file's, which
    are not UTF-8 lines), a Parquet file's row slices. Other inputs are read here and sent to them in pieces."""
    suffix = path.suffix.lower()
    return path.is_file() and (suffix == ".parquet" or (suffix in CSV_SUFFIXES and not utf16_encoding(path)))


@dataclass(frozen=True)
class _Task:
    """One Dask partition: `fn(*args, job)`; a CSV block is also given the input rows before it, when the driver
    counted them (see `_score_csv_block`)."""

    fn: Callable[..., ChunkResult]
    args: tuple
    rows_before: int | None = None

    def submit(self, client: Any, job: Any) -> Any:
        counted = () if self.rows_before is None else (self.rows_before,)
        return client.submit(self.fn, *self.args, job, *counted, pure=False)


def _dask_tasks(path: Path, pieces: Iterator[Piece], chunk_rows: int, workers: int, numbered: bool) -> Iterator[_Task]:
    """The partitions: the workers load those of a CSV or Parquet file (see `_read_by_workers`); other inputs are
    the `pieces` read here (a UTF-16 CSV file transcoded), sent to them. With `numbered` (CSV output), a CSV block is
    told the rows before it, counted by their line ends."""
    suffix, path = path.suffix.lower(), path.resolve()  # workers may run elsewhere, in another folder
    if not _read_by_workers(path):
        for piece in pieces:
            yield _Task(score_chunk, (piece,))
    elif suffix in CSV_SUFFIXES:
        header, blocks = csv_blocks(path, _csv_blocksize(path, chunk_rows, workers))
        rows_before = 0
        for block in blocks:
            yield _Task(_score_csv_block, (str(path), block.offset, block.length, header), rows_before if numbered else None)
            rows_before += block.line_ends
    else:
        meta = pq.ParquetFile(path).metadata
        size = min(chunk_rows, max(1, math.ceil(meta.num_rows / (TASKS_PER_WORKER * workers))))
        first = 2
        for group in range(meta.num_row_groups):
            rows = meta.row_group(group).num_rows
            for start in range(0, rows, size):
                yield _Task(_score_parquet_slice, (str(path), group, start, min(size, rows - start), first + start))
            first += rows


def _dask_results(tasks: Iterator[_Task], job: Job, client: Any, window: int) -> Iterator[ChunkResult]:
    """Submit partitions to the cluster, at most `window` ahead, and yield their results in input order.

    CSV blocks told their first row come back as finished CSV lines. If a count proves wrong (a stray quote in an
    unquoted value), or lines come typed unlike the first ones, that block is scored again without it, as are the
    blocks after it: their rows are numbered here and formatted by the writer, as for other inputs.
    """
    from distributed import KilledWorker

    job_future = client.scatter(job, broadcast=True)
    counted, covered, schema = True, 0, None  # counted: the workers' first rows still hold; covered: rows done

    def submit(task: _Task) -> tuple[_Task, Any]:
        task = task if counted else replace(task, rows_before=None)
        return task, task.submit(client, job_future)

    try:
        for task, future in _in_order((submit(task) for task in tasks), window):
            result = future.result()
            if isinstance(lines := result.output, CsvLines):
                typed_alike = not len(lines) or schema in (None, lines.schema)
                if counted and task.rows_before == covered and typed_alike:
                    if schema is None and len(lines):  # the file's column types: the first rows' (see TableWriter)
                        schema = lines.schema
                else:
                    counted = False
                    result = submit(task)[1].result()
            covered += result.span
            yield result
    except KilledWorker as exc:  # the scheduler gave up on a partition after its workers died, allowed_failures times
        tries = exc.allowed_failures + 1
        raise InputError(Issue(job.source, 0, "", f"a part of it killed the Dask worker scoring it ({tries} "
                               f"{'try' if tries == 1 else 'tries'}; usually out of memory: lower --chunk-rows or "
                               "give each worker more memory)")) from None


def _cluster_problem(client: Any) -> str | None:
    """Why a cluster cannot score (no workers; this project not importable, or another version of it, on the
    scheduler or a worker: tasks would fail there one by one), or None."""
    if not client.scheduler_info(n_workers=-1)["workers"]:
        return "no workers are connected to it (start them with: dask worker ADDRESS)"

    def version() -> str | None:  # defined here, so it is sent by value and runs where this project may be missing
        try:
            from decision import __version__
        except ImportError:
            return None
        return __version__

    found = {"scheduler": client.run_on_scheduler(version), **client.run(version)}
    wrong = sorted(f"{where} ({'missing' if v is None else v})" for where, v in found.items() if v != ENGINE_VERSION)
    if wrong:
        return (f"cannot import this project (decision {ENGINE_VERSION}) on {', '.join(wrong)}: install it there, or "
                "start the scheduler and workers with PYTHONPATH set to its folder")
    return None


OTHER_SERVICE = "something answers there, but not a Dask scheduler (is it another service's port?)"


class _NotAScheduler(Exception):
    """An address where something answers, but not a Dask scheduler (the message says what)."""


def _not_a_scheduler(address: str) -> str | None:
    """What answers at `address` if it is not a Dask scheduler, found within CONNECT_TIMEOUT, or None.

    Dask's own connection waits for ever for the greeting of a port that stays silent (a web server, the dashboard),
    and takes another service's greeting (SSH, SMTP) as the length of a message, failing to allocate exabytes. So this
    connects first, under one deadline, and asks who answers. Errors of the address itself or of the connection are
    raised as Dask raises them.
    """
    import asyncio  # here, like Dask: ~15 ms at start that runs without --scheduler need not pay

    from distributed.comm import connect

    async def identity() -> Any:
        comm = await connect(address, timeout=CONNECT_TIMEOUT)
        try:
            await comm.write({"op": "identity"})
            return await comm.read()
        finally:
            await comm.close()

    waited = CONNECT_TIMEOUT + ANSWER_TIMEOUT  # connecting may take CONNECT_TIMEOUT, and fails as Dask says then
    silent = (f"it takes connections but gave no Dask answer in {waited} s: not a scheduler's port (the dashboard, "
              "usually :8787, is not the scheduler, usually :8786)")
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(1) as probe:  # a loop of its own, whatever runs in this thread
            reply = probe.submit(asyncio.run, asyncio.wait_for(identity(), waited)).result()
    except TimeoutError:  # the deadline above (Dask's own connection timeout is an OSError)
        return silent
    except (OSError, ValueError, TypeError, ImportError):
        raise
    except Exception:  # a greeting of another protocol, read as a message; or an answer Dask cannot decode
        # a read cut short by the deadline may fail otherwise
        return silent if time.monotonic() - started >= waited else OTHER_SERVICE
    kind = reply.get("type") if isinstance(reply, dict) else None
    if not kind:
        return OTHER_SERVICE
    return None if kind == "Scheduler" else f"a Dask {kind.lower()} answers there, not the scheduler: give the " \
                                            "scheduler's address"


_START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def _malloc_settings() -> tuple[str | None, str | None]:
    """A worker's glibc malloc tuning (run on every worker)."""
    return os.environ.get("MALLOC_TRIM_THRESHOLD_"), os.environ.get("MALLOC_MMAP_THRESHOLD_")


def _fork_server_ignoring_ctrl_c() -> None:
    """Start the fork server that the workers are forked from with Ctrl-C ignored: its children keep the disposition
    it started with. Ctrl-C in a terminal reaches every process of the group; it would stop each worker with a
    traceback, while this process stops the run and closes the cluster in order."""
    if _START_METHOD != "forkserver" or threading.current_thread() is not threading.main_thread():
        return
    from multiprocessing import forkserver

    from distributed.utils import get_mp_context

    get_mp_context()  # distributed's context: it names the modules the server imports once, for every worker
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        forkserver.ensure_running()  # a no-op if it runs already
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def _stop_signals_to(handler: Callable[[int, Any], None]) -> Iterator[dict[int, Any]]:
    """Ctrl-C (SIGINT) and SIGTERM handled by `handler` in the block; their previous handlers (yielded, by signal)
    are back after it."""
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield previous
    finally:
        for sig, earlier in previous.items():
            signal.signal(sig, earlier)


@contextmanager
def _stops_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM that land in the block acted on at its end, as their handlers would have, also over an error
    they caused there (a second one raises KeyboardInterrupt at once): a local cluster stopped half-started cannot be
    closed, and distributed's exit hook prints tracebacks trying to."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []

    def hold(signum: int, frame: Any) -> None:
        held.append(signum)
        if len(held) > 1:
            raise KeyboardInterrupt

    try:
        with _stop_signals_to(hold) as previous:
            yield
    finally:
        if len(held) == 1:  # as its handler would have: raise, or end the process (SIG_DFL), or nothing (SIG_IGN)
            if callable(handler := previous[held[0]]):
                handler(held[0], None)
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), held[0])


class DaskCluster:
    """A Dask client on `scheduler`, or on a LocalCluster of `workers` processes started here."""

    def __init__(self, scheduler: str | None, workers: int):
        import dask
        import distributed

        # Dask's nanny sets MALLOC_TRIM_THRESHOLD_, which turns off glibc's dynamic mmap threshold: every
        # few-MB temporary array is then mmap'd and unmapped again (see ../shared/reference/performance-notes.md).
        # A fixed mmap threshold alone leaves glibc's 128 KiB trim threshold, so the heap shrinks and faults in
        # again on every chunk; both fixed halve the workers' page faults (1.6 M → 0.73 M on 2M profiles).
        # (Partitions are plain pandas frames read by our own code, not dask.dataframe collections, so the
        # pandas-3 string conversion of `dataframe.convert-string` never applies.)
        # Workers are forked from one process that imported distributed, numpy, pandas and pyarrow once, where that
        # exists (not on Windows), rather than each importing them: a 20k-profile run took 1.1 s less CPU (perf stat
        # task-clock, 6.9 -> 5.8 s) and started scoring sooner. The nanny sets the malloc variables before the first
        # worker starts, so the fork server, and every worker forked from it, has them.
        # Housekeeping for a dashboard this never shows, slowed down: an idle 2-worker cluster took 9 % of a core
        # (the event-loop health tick every 20 ms, the memory monitor every 100 ms, system metrics every 500 ms), 2 %
        # after; and the workers' statistical profiler, which samples their stacks 100 times a second, is off.
        self._config = dask.config.set({
            "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": TRIM_THRESHOLD,
            "distributed.nanny.pre-spawn-environ.MALLOC_MMAP_THRESHOLD_": MMAP_THRESHOLD,
            "distributed.worker.profile.enabled": False,
            "distributed.admin.tick.interval": "1s",
            "distributed.worker.memory.monitor-interval": "1s",
            "distributed.admin.system-monitor.interval": "5s",
            "distributed.worker.multiprocessing-method": _START_METHOD,
        })
        self.cluster: Any = None
        self.client: Any = None
        try:
            self._start(distributed, scheduler, workers)
        except BaseException:  # an error or Ctrl-C: a cluster started here stops now, not at exit with tracebacks
            self.close()
            raise

    def _start(self, distributed: Any, scheduler: str | None, workers: int) -> None:
        if scheduler is None:
            # silence_logs: a task's error reaches this process, which reports it in one line; the workers' log
            # (a traceback per failed task, a warning per task cancelled after it) would bury that line.
            # No dashboard; the scheduler's HTTP server (health, metrics) still starts, on port 8787 unless told
            # otherwise, with a warning "Port 8787 is already in use" where a cluster runs: any free local port
            _fork_server_ignoring_ctrl_c()
            with _stops_held():
                self.cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                        dashboard_address=None, host="127.0.0.1",
                                                        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                                                        silence_logs=logging.CRITICAL)
        try:
            if scheduler is not None and (problem := _not_a_scheduler(scheduler)):
                raise _NotAScheduler(problem)
            self.client = distributed.Client(scheduler or self.cluster, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError, TypeError, ImportError, _NotAScheduler) as exc:  # TypeError: ucx://
            reason = (str(exc) if isinstance(exc, _NotAScheduler) else                            # without UCX
                      f"not a scheduler address such as tcp://host:8786 ({exc})" if isinstance(exc, ValueError)
                      else f"cannot connect ({exc})")
            raise InputError(Issue(f"Dask scheduler {scheduler}", 0, "", reason)) from None
        if self.cluster is not None:
            self.client.wait_for_workers(workers)
        else:
            with suppress(TimeoutError):  # workers of a cluster just started may still be connecting
                self.client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS)
        if problem := _cluster_problem(self.client):
            raise InputError(Issue(f"Dask scheduler {scheduler}", 0, "", problem))
        self.workers = len(self.client.scheduler_info(n_workers=-1)["workers"])
        if any(trim and not mmap for trim, mmap in self.client.run(_malloc_settings).values()):
            tqdm.write(f"warning: the Dask workers run with MALLOC_TRIM_THRESHOLD_ set, which slows them down; "
                       f"start them with MALLOC_MMAP_THRESHOLD_={MMAP_THRESHOLD} "
                       f"MALLOC_TRIM_THRESHOLD_={TRIM_THRESHOLD}", file=sys.stderr)  # above a workbook's progress bar

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        self._config.__exit__(None, None, None)


# --------------------------------------------------------------------------------------- a run

def _engine_data(parameters: Path | None, catalog: Path | None) -> tuple[Parameters, Catalog]:
    """The rules and the CA table (a catalog is checked against the parameters it is used with)."""
    if parameters is None and catalog is None:
        return default_parameters(), default_catalog()
    params = load_parameters(parameters) if parameters else default_parameters()
    return params, load_catalog(catalog or CATALOG_FILE, params)


def default_errors_path(output: Path) -> Path:
    """Where rejected rows go when --errors is not given: OUTPUT.errors.<same extension>."""
    return output.with_name(f"{output.stem}.errors{output.suffix}")


def score_file(source: Path, output: Path, *, errors: Path | None = None, layout: str = "wide",
               engine: str = "pandas", scheduler: str | None = None, workers: int = 2,
               chunk_rows: int = CHUNK_ROWS, parameters: Path | None = None, catalog: Path | None = None,
               today: dt.date | None = None, progress: bool = False) -> Summary:
    """Score every profile in `source` into `output` (and rejected rows into `errors`); see the module doc.

    Whole-input problems (unreadable file, unknown columns, unsupported output) raise InputError and
    leave any previous output untouched.
    """
    source, output = Path(source), Path(output)
    overwrites = [(output, "would overwrite the input; choose another output file")]
    if errors:
        errors = Path(errors)
        overwrites.append((errors, "the errors file would overwrite the input; choose another with --errors FILE"))
    else:
        errors = default_errors_path(output)
        overwrites.append((errors, "the default errors file (OUTPUT.errors.<ext>) would overwrite the input; name "
                                   "another with --errors FILE, or choose another output file"))
    for target, overwrite in overwrites:
        try:
            output_format(target)
        except ValueError as exc:
            raise _input_error(target, str(exc)) from None
        if not target.parent.is_dir():
            raise _input_error(target, f"the folder {target.parent} does not exist")
        if target.exists() and same_file(target, source):
            raise _input_error(target, overwrite)
    if same_file(output, errors):
        raise _input_error(errors, "the errors file must differ from the output file")
    params, cat = _engine_data(parameters, catalog)
    job = Job(layout, source.name if source.is_dir() else str(source), params, cat, today or dt.date.today(),
              folder=source.is_dir())
    bar = _Progress(progress)
    pieces = _checked(_pieces(source, chunk_rows, bar.expect), job)  # read as they are scored
    cluster = None
    try:
        if engine == "dask":  # the columns are checked before a cluster is started for nothing
            if _read_by_workers(source):
                _check_columns(source, job)
            else:  # read here, once: a second reading would transcode a UTF-16 file or open a workbook again
                pieces = _read_ahead(pieces)
            cluster = DaskCluster(scheduler, workers)
        return _write(source, output, errors, job, pieces, cluster, chunk_rows, workers, bar)
    finally:
        bar.close()
        if cluster is not None:
            cluster.close()


def _write(source: Path, output: Path, errors: Path, job: Job, pieces: Iterator[Piece], cluster: DaskCluster | None,
           chunk_rows: int, workers: int, bar: _Progress) -> Summary:
    if cluster is None:
        results = _pandas_results(pieces, job, workers)
    else:
        tasks = _dask_tasks(source, pieces, chunk_rows, cluster.workers, numbered=output_format(output) == "csv")
        results = _dask_results(tasks, job, cluster.client, AHEAD_PER_WORKER * cluster.workers)
    if not (source.is_file() and source.suffix.lower() in XLSX_SUFFIXES):  # a workbook's reader tells it on opening
        bar.expect(_expected_rows(source))
    summary, covered = Summary(job.params, job.catalog), 0  # covered: input rows before the next result, blank ones included
    # closing: a run stopped by an error stops the scoring here and now, not whenever the generator is collected
    with closing(results), atomic_path(output) as out_tmp, atomic_path(errors) as err_tmp:
        widths, error_widths = _xlsx_widths(job)
        out = TableWriter(out_tmp, output_format(output), sheet="scores", widths=widths, formats=NUMBER_FORMATS)
        bad = TableWriter(err_tmp, output_format(errors), sheet="errors", widths=error_widths)
        try:
            for result in results:
                if result.relative:
                    result.output["row"] += covered
                    result.errors["row"] += covered
                covered += result.span
                _append(out, result.output, output)
                _append(bad, result.errors, errors)
                summary.add(result)
                bar.advance(result.span, covered)
        except PartitionError as exc:
            raise exc.shifted(covered) from None
        bar.finish(covered)
        with writing(output):
            out.close(_no_rows(output_columns(job.layout, job.folder)))
        with writing(errors):
            bad.close(_no_rows(list(ERROR_COLUMNS)))
    return summary


def _xlsx_widths(job: Job) -> tuple[dict[str, int], dict[str, int]]:
    """Characters the values of the output's and the errors file's columns take, from what they can hold and known
    before any row is scored (from the rows, the XLSX bytes would depend on where the chunks were cut); columns
    not named are as wide as their header."""
    option = max(map(len, OPTIONS))
    ca = max(map(len, job.catalog.ids), default=0)
    highest = max(FIELD_BY_NAME[w].high for w in WEIGHT_FIELDS)
    flip = max(map(len, WEIGHT_FIELDS)) + len(f" {highest:.3f} → {highest:.3f}: ") + option  # w_cost 0.400 → 0.523: san
    money = len(f"{9_999_999.99:,.2f}")  # a cost or TCO below ten million, as the number format shows it
    text, file = FREE_WIDTHS["text"], FREE_WIDTHS["folder_file"] if job.folder else len(job.source)
    widths = {"profile": FREE_WIDTHS["profile"], "file": file, "recommendation": option, "runner_up": option,
              "option": option, "dominated_by": option, "recommended_ca": ca, "ca": ca, "no_option_because": text,
              "nearest_flip": flip, "reasons": text, "names": text, "not_issuable": text, "cost_total": money, "tco": money}
    errors = {"file": file, "field": max(len(f.name) for f in FIELDS), "value": FREE_WIDTHS["value"], "reason": text}
    return widths, errors


def _append(writer: TableWriter, rows: pd.DataFrame | CsvLines, path: Path) -> None:
    """Add rows to an output; one that cannot take them (an XLSX sheet is full, the disk is full) stops the run."""
    if not len(rows):
        return
    with writing(path):
        try:
            if isinstance(rows, CsvLines):
                writer.write_lines(rows)
            else:
                writer.write(rows)
        except ValueError as exc:
            raise _input_error(path, str(exc)) from None


class _Terminated(KeyboardInterrupt):
    """SIGTERM (a service manager stopping the run, `timeout`, a cancelled CI job): the run ends as on Ctrl-C, its
    temporary files removed and a previous result kept."""


@contextmanager
def _signals_stop_the_run() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt and SIGTERM `_Terminated`, also when they land while pandas' CSV parser reads
    the file: the parser then drops the exception and reports "Calling read(nbytes) on source failed", which would
    otherwise end the run as an unreadable input (exit 2) instead of an interrupted one."""
    stopped: KeyboardInterrupt | None = None

    def on_signal(signum: int, frame: Any) -> None:
        nonlocal stopped
        stopped = _Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()
        raise stopped

    try:
        with _stop_signals_to(on_signal):
            yield
    except InputError:
        if stopped is not None:
            raise stopped from None
        raise


@click.command("score")
@click.argument("source", metavar="INPUT", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Scored portfolio: .csv, .xlsx or .parquet.")
@click.option("--errors", type=click.Path(dir_okay=False, path_type=Path),
              help="Rejected rows (file, row, field, value, reason). Default: OUTPUT.errors.<ext>.")
@click.option("--layout", type=click.Choice(["wide", "long"]), default="wide", show_default=True,
              help="wide: one row per profile; long: one row per profile and option.")
@click.option("--engine", type=click.Choice(["pandas", "dask"]), default="pandas", show_default=True)
@click.option("--scheduler", metavar="ADDRESS",
              help="Dask scheduler of an existing cluster (its workers must see INPUT at the same path). "
                   "Default: a local cluster.")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="Threads scoring chunks at once (pandas engine), or worker processes of the local Dask cluster.")
@click.option("--chunk-rows", type=click.IntRange(min=1), default=CHUNK_ROWS, show_default=True,
              help="Profiles read and scored at a time (bounds memory; each chunk also costs a fixed ~50 ms, so runs "
                   "slow down below a few thousand).")
@click.option("--catalog", type=click.Path(dir_okay=False, path_type=Path), help="Another CA catalog (cas.yaml).")
@click.option("--parameters", type=click.Path(dir_okay=False, path_type=Path),
              help="Another parameters file (parameters.yaml).")
def score_command(source: Path, output: Path, errors: Path | None, layout: str, engine: str, scheduler: str | None,
                  workers: int, chunk_rows: int, catalog: Path | None, parameters: Path | None) -> None:
    """Score every profile in INPUT (CSV, XLSX, Parquet, YAML, or a folder of YAML files) into OUTPUT.

    Exits 0 when every row was scored, 1 when some rows were rejected (listed in the errors file),
    2 when the input cannot be read or scored, 130 when interrupted (Ctrl-C) and 143 when stopped (SIGTERM;
    in both cases nothing is written).
    """
    if engine == "pandas" and scheduler:
        raise click.UsageError("--scheduler needs --engine dask")
    try:
        with _signals_stop_the_run():
            summary = score_file(source, output, errors=errors, layout=layout, engine=engine, scheduler=scheduler,
                                 workers=workers, chunk_rows=chunk_rows, parameters=parameters, catalog=catalog,
                                 progress=sys.stderr.isatty())
    except InputError as exc:
        exit_with(exc, EXIT_UNREADABLE)
    except KeyboardInterrupt as exc:
        terminated = isinstance(exc, _Terminated)
        click.echo(f"{'stopped (SIGTERM)' if terminated else 'interrupted'}: {output} and the errors file were not "
                   "written (a previous result is kept)", err=True)
        sys.exit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED)
    errors = errors or default_errors_path(output)
    for line in summary.lines():
        click.echo(line)
    click.echo(f"output: {output} ({layout})" + (f"; rejected rows: {errors}" if summary.rejected else ""))
    sys.exit(EXIT_REJECTED if summary.rejected else EXIT_OK)

