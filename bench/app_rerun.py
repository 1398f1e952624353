"""Median server-side rerun time of the what-if app after a what-if change (Streamlit AppTest).

Every change is a profile the app has not seen yet (no cache hit), as when someone types a new value.
Each rerun is split into the engine's `decision.evaluate` (timed inside the same rerun) and the rest
(widgets, tables, charts, AppTest). Wall time depends on what else runs on the machine, so the process
CPU time of each rerun is printed too: on an idle machine the wall time comes close to it. Also printed:
the rerun back to a profile already shown (cache hit). Target: ≤ 150 ms.

    /work/venv/bin/python bench/app_rerun.py [--runs 30]
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from decision import views  # noqa: E402

TARGET_MS = 150.0
ENGINE_MS: list[float] = []


def _timed(evaluate):
    @functools.wraps(evaluate)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return evaluate(*args, **kwargs)
        finally:
            ENGINE_MS.append((time.perf_counter() - start) * 1000.0)
    return wrapper


def timed_rerun(at: AppTest, field: str, value: float) -> tuple[float, float, float]:
    """(rerun wall ms, engine wall ms inside it, rerun process CPU ms) after setting one number input."""
    at.number_input(key=views.widget_key(field)).set_value(value)
    ENGINE_MS.clear()
    start, cpu = time.perf_counter(), time.process_time()
    at.run()
    elapsed, cpu = (time.perf_counter() - start) * 1000.0, (time.process_time() - cpu) * 1000.0
    if at.exception:
        raise SystemExit(f"app raised: {at.exception[0].message}")
    return elapsed, sum(ENGINE_MS), cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="what-if changes per measurement")
    args = parser.parse_args()
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    views.evaluate = _timed(views.evaluate)  # the call ProfileResults makes, i.e. the app's only engine run

    start = time.perf_counter()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    first_ms = (time.perf_counter() - start) * 1000.0
    for value in (121, 122, 123):  # warm up imports and compiled charts
        timed_rerun(at, "mobile_devices", value)

    base_weight = at.number_input(key=views.widget_key("w_cost")).value
    changes, hits = [], []
    for k in range(args.runs):
        changes.append(timed_rerun(at, "mobile_devices", 200 + k))  # a new profile
        changes.append(timed_rerun(at, "w_cost", round(base_weight + 0.01 * (k + 1), 2)))  # another new one
        hits.append(timed_rerun(at, "w_cost", base_weight)[0])  # back to the first: cached

    rerun = statistics.median(r for r, _, _ in changes)
    engine = statistics.median(e for _, e, _ in changes)
    rest = statistics.median(r - e for r, e, _ in changes)
    cpu = statistics.median(c for _, _, c in changes)
    print(f"what-if app rerun (AppTest), {len(changes)} new profiles, load average {os.getloadavg()[0]:.2f}")
    print(f"  first run (cold caches)                 {first_ms:8.0f} ms")
    print(f"  rerun after a what-if change            {rerun:8.1f} ms median")
    print(f"    of which decision.evaluate            {engine:8.1f} ms median")
    print(f"    of which the app and AppTest          {rest:8.1f} ms median")
    print(f"  CPU time of that rerun (process)        {cpu:8.1f} ms median")
    print(f"  rerun back to a profile already shown   {statistics.median(hits):8.1f} ms median (cache hit)")
    print(f"median what-if rerun {rerun:.1f} ms wall, {cpu:.1f} ms CPU = {rerun / TARGET_MS:.2f} / "
          f"{cpu / TARGET_MS:.2f} x the {TARGET_MS:.0f} ms target")


if __name__ == "__main__":
    main()
