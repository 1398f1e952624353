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
    """Last day (exclusive) of each horizon: the start's anniversary after the whole years (29 February falls on
    28 February in common years), plus the part of a year left as days of an average year (2.5 years from
    2027-03-01: 2029-03-01 + 183 days)."""
    start = np.asarray(start, dtype=np.int64)
    years = np.asarray(horizon_years, dtype=float)
    whole = np.floor(years)
    return anniversaries(start, whole.astype(np.int64)) + np.rint((years - whole) * DAYS_PER_YEAR).astype(np.int64)


def anniversaries(start: np.ndarray, years: np.ndarray) -> np.ndarray:
    """The day `years` calendar years after each `start`, as `anniversary` does for one."""
    day = np.asarray(start, dtype=np.int64).astype("datetime64[D]")
    month = day.astype("datetime64[M]")
    of_year = month - month.astype("datetime64[Y]").astype("datetime64[M]")
    target = (month.astype("datetime64[Y]") + years).astype("datetime64[M]") + of_year
    month_days = (target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")
    return (target.astype("datetime64[D]") + np.minimum(day - month.astype("datetime64[D]"), month_days - 1)).astype(np.int64)


def horizon_end_day(start: int, horizon_years: float) -> int:
    """Last day (exclusive) of one horizon: `horizon_end` for a single profile."""
    return int(horizon_end(np.array([start]), np.array([horizon_years]))[0])


def anniversary(start: int, years: int) -> int:
    """The day `years` calendar years after `start`: `anniversaries` for one."""
    return int(anniversaries(np.array([start]), np.array([years]))[0])


def year_starts(start: int, horizon_years: float) -> list[int]:
    """First day of each horizon year, on the start's anniversaries; a partial last year counts as a year.

    The engine counts a year of fees for every started year (`ceil(horizon_years)`), so a last year that would
    begin on or after the horizon's end (a horizon a day or so past whole years) starts on its last day instead.
    """
    last = horizon_end_day(start, horizon_years) - 1
    return [min(anniversary(start, k), last) for k in range(int(np.ceil(horizon_years - 1e-9)))]
