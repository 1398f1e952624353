"""Dates as whole days since 1970-01-01, so rules vectorise as integer arithmetic."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

EPOCH = dt.date(1970, 1, 1)
DAYS_PER_YEAR = 365.25


def horizon_length(years: float) -> tuple[str, str]:
    """A horizon's length to write in words, as (number, unit): under two years and not whole years, in months to a
    tenth (0.75: '9', 'month'; 1.5: '18'; 0.37: '4.4'); otherwise in years (1: '1', 'year'; 2.5: '2.5')."""
    if years < 2 and years != int(years):
        return f"{round(years * 12, 1):g}", "month"
    return f"{years:g}", "year"


def horizon_adjective(years: float) -> str:
    """A horizon's length as it stands before a noun: '9-month', '2.5-year' (see `horizon_length`)."""
    return "-".join(horizon_length(years))


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
    2027-03-01: 2029-03-01 + 183 days). Computed once per distinct (start, length): profiles share them."""
    length, lengths = pd.factorize(np.asarray(horizon_years, dtype=float), use_na_sentinel=False)
    pair, pairs = pd.factorize(np.asarray(start, dtype=np.int64) * len(lengths) + length)
    start, years = pairs // len(lengths), lengths[pairs % len(lengths)]
    whole = np.floor(years)
    ends = years_after(start, whole.astype(np.int64)) + np.rint((years - whole) * DAYS_PER_YEAR).astype(np.int64)
    return ends[pair]


def horizon_end_day(start: int, horizon_years: float) -> int:
    """Last day (exclusive) of one horizon: `horizon_end` for a single profile."""
    return int(horizon_end(np.array([start]), np.array([horizon_years]))[0])


def years_after(start: np.ndarray, years: np.ndarray) -> np.ndarray:
    """The day `years` calendar years after each `start` (the two broadcast); 29 February falls on 28 February in
    common years."""
    first = np.asarray(start, dtype=np.int64).astype("datetime64[D]")
    month = first.astype("datetime64[M]")
    target = month + 12 * np.asarray(years, dtype=np.int64)
    length = (target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")
    return (target.astype("datetime64[D]") + np.minimum(first - month.astype("datetime64[D]"), length - 1)).astype(np.int64)


def anniversaries(start: np.ndarray, count: int) -> np.ndarray:
    """Days 0 .. count-1 calendar years after each start, shape (profiles, count)."""
    return years_after(np.asarray(start, dtype=np.int64)[:, None], np.arange(count))


def anniversary(start: int, years: int) -> int:
    """The day `years` calendar years after `start`: `years_after` for one."""
    return int(years_after(np.array([start]), np.array([years]))[0])


def purchase_years(horizon_years: np.ndarray) -> np.ndarray:
    """Years of fees over each horizon: every started year counts (a partial last year is a year)."""
    return np.ceil(np.asarray(horizon_years, dtype=float) - 1e-9)


def years_before(start: np.ndarray, horizon_years: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Per profile, how many of its horizon years (`year_starts`) begin before `day`."""
    count = purchase_years(horizon_years)
    width = int(count.max()) if len(count) else 0
    firsts = anniversaries(start, width)
    return ((firsts < np.asarray(day)[:, None]) & (np.arange(width) < count[:, None])).sum(axis=1)


def year_starts(start: int, horizon_years: float) -> list[int]:
    """First day of each horizon year, on the start's anniversaries; a partial last year counts as a year.

    The engine counts a year of fees for every started year (`purchase_years`), so a last year that would
    begin on or after the horizon's end (a horizon a day or so past whole years) starts on its last day instead.
    """
    last = horizon_end_day(start, horizon_years) - 1
    count = int(purchase_years(np.array([horizon_years]))[0])
    return [min(int(d), last) for d in anniversaries(np.array([start]), count)[0]]
