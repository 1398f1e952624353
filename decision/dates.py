"""Dates as whole days since 1970-01-01, so rules vectorise as integer arithmetic."""

from __future__ import annotations

import datetime as dt

import numpy as np

EPOCH = dt.date(1970, 1, 1)
DAYS_PER_YEAR = 365.25


def to_day(value: dt.date | str) -> int:
    """A date (or ISO string) as days since 1970-01-01."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    return (value - EPOCH).days


def from_day(day: int | np.integer) -> dt.date:
    """Days since 1970-01-01 back to a date."""
    return EPOCH + dt.timedelta(days=int(day))


def horizon_end(start: np.ndarray, horizon_years: np.ndarray) -> np.ndarray:
    """Last day (exclusive) of each horizon."""
    return start + np.rint(np.asarray(horizon_years, dtype=float) * DAYS_PER_YEAR).astype(np.int64)


def horizon_end_day(start: int, horizon_years: float) -> int:
    """Last day (exclusive) of one horizon: `horizon_end` for a single profile."""
    return int(horizon_end(np.array([start]), np.array([horizon_years]))[0])
