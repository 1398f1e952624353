"""Decision-analytics benchmark (issue 5): batch scoring with and without the analytics, same profiles, same run.

    /work/venv/bin/python bench/analytics.py                 # 100 000 synthetic profiles
    /work/venv/bin/python bench/analytics.py --rows 20000 --repeat 1

Without analytics = what the batch does per chunk: validate + score_frame +
recommendations, minus the dominance flags (score_frame now computes them; they are timed on their own
and counted as analytics). With analytics = that plus the dominance flags plus `batch_columns` (margin,
close call, nearest weight flip; exact weight bands over every profile and criterion). Reading and writing
files are left out, so the ratio is an upper bound for the end-to-end batch. Target: ratio <= 3.
The synthetic profiles come from decision.synth.generate (the `synth` command's generator).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from decision.batch import CHUNK_ROWS  # noqa: E402
from decision.catalog import default_catalog  # noqa: E402
from decision.engine import CRITERION_COLUMNS, recommendations, score_frame  # noqa: E402
from decision.parameters import default_parameters  # noqa: E402
from decision.profiles import validate  # noqa: E402
from decision.scoring import CRITERIA, HIGHER_IS_BETTER, dominance  # noqa: E402
from decision.sensitivity import batch_columns  # noqa: E402
from decision.synth import generate  # noqa: E402

TODAY = dt.date(2026, 11, 26)
TARGET = 3.0


def chunks(rows: int, chunk_rows: int, seed: int) -> list[pd.DataFrame]:
    """The synthetic table as raw chunks, as the batch reads them (row numbers in attrs)."""
    raw = pd.concat([block.to_pandas() for block in generate(rows, seed=seed)], ignore_index=True)
    out = []
    for start in range(0, len(raw), chunk_rows):
        part = raw.iloc[start:start + chunk_rows].reset_index(drop=True)
        part.attrs["rows"] = np.arange(start + 2, start + 2 + len(part))
        out.append(part)
    return out


def one_pass(parts: list[pd.DataFrame]) -> tuple[float, float, float, int]:
    """(batch seconds, dominance seconds, batch_columns seconds, profiles scored) over all chunks."""
    params, catalog = default_parameters(), default_catalog()
    batch = dom = extra = 0.0
    scored_rows = 0
    for part in parts:
        start = time.perf_counter()
        valid = validate(part, "bench", params, catalog, TODAY)
        scored = score_frame(valid.frame, params, catalog)
        recommendations(scored)
        batch += time.perf_counter() - start
        start = time.perf_counter()
        oriented = np.stack([scored.columns[CRITERION_COLUMNS[c]] * (1 if HIGHER_IS_BETTER[c] else -1) for c in CRITERIA],
                            axis=2)
        dominance(oriented, scored.columns["feasible"], scored.columns["rank"])
        dom += time.perf_counter() - start
        start = time.perf_counter()
        columns = batch_columns(scored)
        extra += time.perf_counter() - start
        scored_rows += len(columns)
    return batch, dom, extra, scored_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--chunk-rows", type=int, default=CHUNK_ROWS)
    parser.add_argument("--repeat", type=int, default=3, help="passes; the fastest of each part is reported")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"rows {args.rows:,}, chunk {args.chunk_rows:,}, cores {os.cpu_count()}, load {os.getloadavg()[0]:.1f}")
    parts = chunks(args.rows, args.chunk_rows, args.seed)
    runs = [one_pass(parts) for _ in range(args.repeat)]
    batch, dom, extra = (min(r[k] for r in runs) for k in range(3))
    scored = runs[0][3]
    without = batch - dom
    with_analytics = batch + extra
    ratio = with_analytics / without
    print(f"scored {scored:,} profiles")
    print(f"batch without analytics: {without:.2f} s ({scored / without:,.0f} profiles/s)")
    print(f"  dominance flags:       {dom:.3f} s")
    print(f"  batch_columns:         {extra:.3f} s (margin, close_call, nearest weight flip)")
    print(f"batch with analytics:    {with_analytics:.2f} s")
    print(f"ratio with / without:    {ratio:.2f}x  ({'meets' if ratio <= TARGET else 'MISSES'} target <= {TARGET:g}x)")


if __name__ == "__main__":
    main()
