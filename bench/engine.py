"""Engine timing: one profile through decision.evaluate, and N synthetic profiles in one vectorised call.

    python bench/engine.py [--rows 100000] [--repeat 5]

Prints the median time of each and the per-profile ratio (a loop of single evaluations vs one batch),
measured in the same run so the machine's load affects both alike.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyarrow as pa
import yaml

import decision
from decision.synth import generate

ROOT = Path(__file__).resolve().parents[1]


def median_seconds(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    profile = yaml.safe_load((ROOT / "data" / "profiles" / "contoso-2026.yaml").read_text())
    frame = pa.concat_tables(list(generate(args.rows, seed=1))).to_pandas()
    decision.evaluate(profile)  # warm caches (data files, TLD list)
    one = median_seconds(lambda: decision.evaluate(profile), args.repeat * 4)
    one_lean = median_seconds(lambda: decision.evaluate(profile, names=False), args.repeat * 4)
    many = median_seconds(lambda: decision.evaluate(frame, names=False), max(1, args.repeat // 2))
    print(f"one profile (evaluate, with name lists):   {one * 1000:8.1f} ms")
    print(f"one profile (evaluate, names=False):       {one_lean * 1000:8.1f} ms")
    print(f"{args.rows:,} profiles (evaluate, names=False): {many:8.2f} s = {many / args.rows * 1e6:.1f} us/profile")
    print(f"batch vs a loop of single evaluations: {one_lean * args.rows / many:,.0f}x faster per profile")


if __name__ == "__main__":
    main()
