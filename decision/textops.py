"""Vectorised text helpers shared by validation and name lists."""

from __future__ import annotations

import numpy as np
import pandas as pd


def join_by_row(rows: np.ndarray, items: np.ndarray, n: int, sep: str) -> np.ndarray:
    """Join `items` per row position (`rows` sorted ascending) into one string each; '' where none."""
    out = np.full(n, "", dtype=object)
    if len(rows) == 0:
        return out
    rows = np.asarray(rows)
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    pieces = (pd.Series(items, dtype=object).astype(str) + sep).to_numpy(dtype=object)
    joined = np.add.reduceat(pieces, starts)
    out[rows[starts]] = [text[: -len(sep)] for text in joined]
    return out
