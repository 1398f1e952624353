"""Batch-scoring benchmark (issue 8): ratios against baselines measured in the same run.

    python bench/batch.py --quick          # small sizes, under a minute
    python bench/batch.py                  # 1M and 10M rows (long: `score` runs ~80k profiles/s per core)
    python bench/batch.py --rows 200000 --big-rows 1000000 --profile

P1  engine throughput vs a loop calling decision.evaluate(mapping) once per profile (sampled)   target >= 1000x
P2  engine time (validate + score_frame + recommendations) vs a floor pass over the same table  target <= 100x
P3  CSV -> CSV end to end (score_file) vs a bare pyarrow CSV read of the input + write of the output  target <= 2x;
    then the same run on one thread, step by step (CPU per profile), and what the steps around the scoring
    (reading, validation, writing) cost on their own against the bare baseline
P4  peak RSS of `python -m decision score` at --rows (<= 1.5 GB) and at --big-rows (bounded by chunking), with one
    scoring thread and with --workers threads (the default, 2), and the threads' speed-up
P6  Dask, 2-worker LocalCluster, vs the serial path (one thread) at --rows and --big-rows: --rounds Dask runs, each
    between two serial ones, and the best of each kind, as timeit takes (the shared host's speed drifts over minutes,
    and noise only adds time); every run is printed, and the ratio of their means
                                                                                 target >= 0.8 of linear, same bytes
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import cProfile
import ctypes
import datetime as dt
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import decision  # noqa: E402
import decision.batch  # noqa: E402
from decision.batch import CHUNK_ROWS, output_columns, score_file  # noqa: E402
from decision.catalog import default_catalog  # noqa: E402
from decision.engine import recommendations, score_frame  # noqa: E402
from decision.parameters import default_parameters  # noqa: E402
from decision.profiles import TEXT_COLUMNS, validate  # noqa: E402
from decision.synth import write_synthetic  # noqa: E402

TODAY = dt.date(2026, 11, 26)
PR_SET_CHILD_SUBREAPER = 36  # prctl option (linux/prctl.h)


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def read_raw(path: Path) -> pd.DataFrame:
    """The input table as the batch reads it (text fields as text, numbers and booleans typed by the parser)."""
    return pd.read_csv(path, dtype=TEXT_COLUMNS, skipinitialspace=True)


def engine_pass(raw: pd.DataFrame, chunk_rows: int) -> int:
    """validate + score_frame + wide recommendations, chunk by chunk as the batch runs them."""
    params, catalog = default_parameters(), default_catalog()
    scored = 0
    for start in range(0, len(raw), chunk_rows):
        part = raw.iloc[start:start + chunk_rows].reset_index(drop=True)
        part.attrs["rows"] = np.arange(1, len(part) + 1)
        valid = validate(part, "bench", params, catalog, TODAY)
        result = score_frame(valid.frame, params, catalog)
        scored += len(recommendations(result))
    return scored


def floor_pass(raw: pd.DataFrame, out_columns: int) -> float:
    """Read every input column once (every byte of text) and write every output column once."""
    total = 0.0
    for name in raw.columns:
        col = raw[name]
        if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
            total += float(np.nansum(col.to_numpy(dtype=float, na_value=np.nan)))
        else:
            total += pc.sum(pc.utf8_length(pa.array(col, type=pa.large_string()))).as_py() or 0
    out = np.empty((out_columns, len(raw)))
    for j in range(out_columns):
        out[j] = j
    return total + out[-1, -1]


def loop_per_profile(raw: pd.DataFrame, sample: int) -> float:
    """Seconds per profile for the single-profile API called once per profile."""
    rows = raw.head(sample).to_dict("records")
    mappings = [{k: v for k, v in row.items() if not (isinstance(v, float) and np.isnan(v))} for row in rows]
    decision.evaluate(mappings[0], today=TODAY)  # warm caches, as the engine pass has them warm too
    seconds, _ = timed(lambda: [decision.evaluate(m, today=TODAY) for m in mappings])
    return seconds / len(mappings)


class Run(NamedTuple):
    wall: float  # seconds
    peak: float  # MB
    code: int
    cpu: float  # seconds of CPU, user + system, of the command and every process it started (Dask's workers)


def _adopt_orphans() -> None:
    """Make this process the one orphaned descendants are handed to (Linux), so that their CPU is counted when they
    are reaped: Dask's fork server outlives the command that started it, with the workers' CPU in its own count."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1)


def _children() -> set[int]:
    """Process ids of this process's children (Linux /proc)."""
    mine, found = str(os.getpid()), set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            if stat.read_text().rsplit(")", 1)[1].split()[1] == mine:  # the field after the state: the parent's id
                found.add(int(stat.parent.name))
    return found


def _reap_orphans(known: set[int]) -> None:
    """Wait for the descendants handed to this process (see `_adopt_orphans`) that are not among `known` children."""
    while orphans := _children() - known:
        for pid in orphans:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


def run_cli(args: list[str]) -> Run:
    """Wall time, peak RSS, exit code and CPU time of `python -m decision ARGS` in a child process.

    The peak is the child's VmHWM, polled from /proc: getrusage/wait4's ru_maxrss would also count the
    pages the child shared with this (large) process between fork and exec.
    """
    before, known = resource.getrusage(resource.RUSAGE_CHILDREN), _children()
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "decision", *args], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    status, peak = Path(f"/proc/{proc.pid}/status"), 0
    while proc.poll() is None:
        try:
            lines = status.read_text().splitlines()
        except OSError:
            break
        peak = max([peak, *(int(line.split()[1]) for line in lines if line.startswith("VmHWM"))])
        time.sleep(0.05)
    proc.wait()
    wall = time.perf_counter() - start
    _reap_orphans(known)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return Run(wall, peak / 1024, proc.returncode, cpu)


CPU_LOOP = "import time\nend = time.process_time() + 2.0\nwhile time.process_time() < end: pass"
# array arithmetic on ~50 MB temporaries, as the engine's chunks are: bound by memory bandwidth, not the core
ARRAY_LOOP = ("import numpy as np\na = np.random.default_rng(0).random(6_000_000)\n"
              "for _ in range(60): b = a * 1.5 + a; a = np.sqrt(b) - a")


def parallel_capacity(workers: int, code: str) -> float:
    """Control for P6 on a shared machine: how close `workers` copies of `code`, run at once, come to `workers`
    times the throughput of one copy (1.0 = every core free and nothing shared)."""
    loop = [sys.executable, "-c", code]
    alone, _ = timed(subprocess.run, loop, check=True)
    start = time.perf_counter()
    for proc in [subprocess.Popen(loop) for _ in range(workers)]:
        proc.wait()
    return alone / (time.perf_counter() - start)


def own_cpu() -> float:
    """CPU seconds of this process so far (run on Dask workers too)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def idle_cpu(cluster, seconds: float) -> tuple[float, float]:
    """Share of a core an idle cluster's housekeeping takes in this process (scheduler, nannies, client) and in its
    workers together."""
    here, there = own_cpu(), sum(cluster.client.run(own_cpu).values())
    time.sleep(seconds)
    return (own_cpu() - here) / seconds, (sum(cluster.client.run(own_cpu).values()) - there) / seconds


def bare_read_write(source: Path, output: Path) -> float:
    """pyarrow read of the input + write of a table the size of the batch output."""
    same_size = pacsv.read_csv(output)  # not timed
    start = time.perf_counter()
    pacsv.read_csv(source)
    pacsv.write_csv(same_size, output.with_suffix(".bare.csv"))
    return time.perf_counter() - start


# score_file's steps, as decision.batch calls them: (name in decision.batch, step shown)
STEPS = (("_table_pieces", "read"), ("validate", "validate"), ("score_frame", "score"),
         ("batch_columns", "analytics"), ("recommendation_columns", "recommend"), ("_append", "write"))
AROUND_SCORING = ("read", "validate", "write")


@contextlib.contextmanager
def step_clock() -> Iterator[collections.Counter]:
    """CPU seconds spent in each of score_file's steps (one scoring thread), by wrapping them in decision.batch."""
    spent: collections.Counter = collections.Counter()
    saved = {name: getattr(decision.batch, name) for name, _ in STEPS}

    def clocked(fn, step):
        def call(*args, **kwargs):
            start = time.process_time()
            result = fn(*args, **kwargs)
            spent[step] += time.process_time() - start
            return result
        return call

    def clocked_pieces(fn):
        def pieces(*args, **kwargs):  # a generator: the reading happens in each next()
            parts = fn(*args, **kwargs)
            while True:
                start = time.process_time()
                part = next(parts, None)
                spent["read"] += time.process_time() - start
                if part is None:
                    return
                yield part
        return pieces

    for name, step in STEPS:
        setattr(decision.batch, name, clocked_pieces(saved[name]) if step == "read" else clocked(saved[name], step))
    try:
        yield spent
    finally:
        for name, fn in saved.items():
            setattr(decision.batch, name, fn)


def p3_steps(source: Path, output: Path, args: argparse.Namespace, bare: float) -> None:
    """score_file on one thread, step by step, and the bound the steps around the scoring set on P3."""
    with step_clock() as spent:
        start = time.process_time()
        summary = score_file(source, output, chunk_rows=args.chunk_rows, workers=1, today=TODAY)
        total = time.process_time() - start
    rows = summary.rows_in
    spent["other"] = total - sum(spent.values())
    shown = ", ".join(f"{step} {seconds / rows * 1e6:.1f}" for step, seconds in spent.items())
    print(f"P3 steps, one thread, CPU us/profile: {shown}; total {total / rows * 1e6:.1f}")
    around = sum(spent[step] for step in AROUND_SCORING)
    least = around / args.workers
    print(f"P3 {' + '.join(AROUND_SCORING)} alone: {around:.1f} s of CPU, at least {least:.1f} s on {args.workers} "
          f"cores = {least / bare:.1f}x the bare baseline; a 2x run leaves the other steps "
          f"{max(0.0, 2 * bare - least) * args.workers / rows * 1e6:.1f} us/profile of CPU (they take "
          f"{(total - around) / rows * 1e6:.1f})")


def hot_spots(raw: pd.DataFrame, rows: int) -> None:
    part = raw.head(rows).reset_index(drop=True)
    profiler = cProfile.Profile()
    profiler.enable()
    engine_pass(part, len(part))
    profiler.disable()
    print(f"\nengine hot spots on {len(part):,} rows (cProfile, cumulative seconds, decision/ only):")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(r"decision/.*\.py", 25)


def engine_ratios(source: Path, work: Path, args: argparse.Namespace) -> None:
    """P1, P2 and P3."""
    raw = read_raw(source)

    per_profile_loop = loop_per_profile(raw, args.loop_sample)
    engine_seconds, scored = timed(engine_pass, raw, args.chunk_rows)
    per_profile_engine = engine_seconds / len(raw)
    p1 = per_profile_loop / per_profile_engine
    print(f"\nP1 loop: {per_profile_loop * 1e3:.1f} ms/profile ({args.loop_sample} sampled); "
          f"engine: {per_profile_engine * 1e6:.1f} us/profile ({scored:,} scored in {engine_seconds:.1f} s)")
    print(f"P1 engine vs per-profile loop: {p1:,.0f}x faster  ({verdict(p1 >= 1000)} >= 1000x)")

    floor = min(timed(floor_pass, raw, len(output_columns("wide")))[0] for _ in range(3))
    p2 = engine_seconds / floor
    print(f"P2 engine {engine_seconds:.2f} s vs floor pass {floor * 1e3:.1f} ms: {p2:,.0f}x  ({verdict(p2 <= 100)} <= 100x)")
    del raw

    output = work / "scored.csv"
    e2e, summary = timed(score_file, source, output, chunk_rows=args.chunk_rows, workers=args.workers, today=TODAY)
    bare = bare_read_write(source, output)
    p3 = e2e / bare
    print(f"P3 CSV->CSV ({args.workers} scoring threads) {e2e:.1f} s vs bare pyarrow read+write {bare:.2f} s: "
          f"{p3:,.1f}x  ({verdict(p3 <= 2)} <= 2x); "
          f"{summary.scored:,} scored, {summary.rejected:,} rejected")
    p3_steps(source, output, args, bare)


def synthetic(work: Path, rows: int, seed: int) -> Path:
    """The input file of `rows` profiles (kept in --workdir and reused by later runs)."""
    path = work / f"profiles-{rows}-seed{seed}.csv"
    if path.exists():
        print(f"synth: reusing {path.name}")
    else:
        seconds, _ = timed(write_synthetic, rows, path, seed=seed)
        print(f"synth: {rows:,} profiles in {seconds:.1f} s ({rows / seconds:,.0f}/s)")
    return path


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="profiles for P1-P4 and the first Dask point")
    parser.add_argument("--big-rows", type=int, default=10_000_000, help="profiles for the chunked-memory and Dask point")
    parser.add_argument("--loop-sample", type=int, default=200, help="profiles scored one by one for P1")
    parser.add_argument("--chunk-rows", type=int, default=CHUNK_ROWS)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="20k / 60k rows, 20 looped profiles: under a minute")
    parser.add_argument("--skip-big", action="store_true", help="leave out the --big-rows runs")
    parser.add_argument("--skip-dask", action="store_true")
    parser.add_argument("--rounds", type=int, default=2,
                        help="P6: Dask runs, each followed by a serial one (the first serial run is P4's)")
    parser.add_argument("--skip-engine", action="store_true", help="leave out P1-P3 (e.g. to repeat P4 and P6)")
    parser.add_argument("--profile", action="store_true", help="print the engine's hot spots (cProfile)")
    parser.add_argument("--workdir", type=Path, help="keep the generated files here (default: a temporary folder)")
    args = parser.parse_args()
    _adopt_orphans()
    if args.quick:
        args.rows, args.big_rows, args.loop_sample = 20_000, 60_000, 20
        args.chunk_rows = min(args.chunk_rows, 10_000)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-batch-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"rows {args.rows:,}, big rows {args.big_rows:,}, chunk {args.chunk_rows:,}, cores {os.cpu_count()}, "
          f"load {os.getloadavg()[0]:.1f}, files in {work}")

    source = synthetic(work, args.rows, seed=1)
    if not args.skip_engine:
        engine_ratios(source, work, args)

    inputs = {args.rows: source}
    if not args.skip_big:
        inputs[args.big_rows] = synthetic(work, args.big_rows, seed=2)
    serial: dict[int, tuple[Run, Path]] = {}
    peaks: dict[int, float] = {}
    for rows, path in inputs.items():
        for threads in sorted({1, args.workers}):
            out = work / f"cli-{rows}-{threads}.csv"
            run = run_cli(["score", str(path), "-o", str(out), "--chunk-rows", str(args.chunk_rows),
                           "--workers", str(threads)])
            line = (f"P4 {rows:,} rows, {threads} scoring thread{'s' * (threads > 1)}: peak RSS {run.peak:,.0f} MB "
                    f"in {run.wall:.1f} s ({run.cpu:.1f} s of CPU), exit {run.code}")
            if threads == 1:
                serial[rows] = (run, out)
            else:
                same = out.read_bytes() == serial[rows][1].read_bytes()
                line += f"; {serial[rows][0].wall / run.wall:.2f}x the speed of one thread, identical output: {same}"
            if rows == args.rows:
                print(f"{line}  ({verdict(run.peak <= 1536)} <= 1.5 GB)")
            else:
                print(f"{line}; {run.peak / peaks[threads]:.2f}x the memory for {rows / args.rows:.0f}x the rows "
                      f"({verdict(run.peak <= 1.25 * peaks[threads])}: bounded)")
            peaks.setdefault(threads, run.peak)

    if not args.skip_dask:
        from decision.batch import DaskCluster

        start_up, cluster = timed(DaskCluster, None, args.workers)
        driver, workers = idle_cpu(cluster, seconds=5)
        cluster.close()
        print(f"\nP6 Dask LocalCluster({args.workers} workers) start-up {start_up:.1f} s (included below); idle, it "
              f"takes {driver:.1%} of a core here and {workers:.1%} in its workers")
        for rows, (alone, serial_out) in serial.items():
            inp = inputs[rows]
            out = work / f"dask-{rows}.csv"
            serial_runs, dask_runs, same = [alone], [], True
            for _ in range(args.rounds):  # interleaved: the shared host's speed drifts over minutes
                dask_runs.append(run_cli(["score", str(inp), "-o", str(out), "--engine", "dask",
                                          "--workers", str(args.workers), "--chunk-rows", str(args.chunk_rows)]))
                same &= out.read_bytes() == serial_out.read_bytes()
                serial_runs.append(run_cli(["score", str(inp), "-o", str(work / f"cli-{rows}-1-again.csv"),
                                            "--chunk-rows", str(args.chunk_rows), "--workers", "1"]))
            capacity = parallel_capacity(args.workers, CPU_LOOP)
            arrays = parallel_capacity(args.workers, ARRAY_LOOP)
            serial_wall, dask_wall = min(r.wall for r in serial_runs), min(r.wall for r in dask_runs)
            linear = serial_wall / dask_wall / args.workers
            mean = statistics.mean(r.wall for r in serial_runs) / statistics.mean(r.wall for r in dask_runs)
            print(f"P6 {rows:,} rows: serial {serial_wall:.1f} s, dask {dask_wall:.1f} s (the best of "
                  f"{len(serial_runs)} and {len(dask_runs)} runs, taken in turn) -> {serial_wall / dask_wall:.2f}x = "
                  f"{linear:.3f} of linear  ({verdict(linear >= 0.8)} >= 0.8), identical output: {same}, "
                  f"driver peak RSS {max(r.peak for r in dask_runs):,.0f} MB, exit {max(r.code for r in dask_runs)}")
            print(f"   every run, in order: serial {', '.join(f'{r.wall:.1f}' for r in serial_runs)} s; dask "
                  f"{', '.join(f'{r.wall:.1f}' for r in dask_runs)} s; from their means: "
                  f"{mean / args.workers:.2f} of linear")
            serial_cpu, dask_cpu = min(r.cpu for r in serial_runs), min(r.cpu for r in dask_runs)
            print(f"   CPU, the least of each: serial {serial_cpu:.1f} s, dask {dask_cpu:.1f} s (driver, scheduler and "
                  f"workers, start-up included): with every core busy, linear can reach at most "
                  f"{serial_cpu / dask_cpu:.2f}; the cores were busy "
                  f"{statistics.mean(r.cpu / r.wall for r in dask_runs) / args.workers:.0%} of the Dask runs")
            print(f"   control: {args.workers} CPU-bound loops at once ran at {capacity:.2f} of linear on this machine "
                  f"just after, so Dask reached {linear / capacity:.2f} of what the machine offered; "
                  f"{args.workers} array-arithmetic loops (memory-bound, like the engine) ran at {arrays:.2f}")

    if args.profile:
        hot_spots(read_raw(source), min(args.rows, 200_000))


if __name__ == "__main__":
    main()
