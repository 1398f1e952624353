"""Issuances over a horizon under the dated lifetime rules, vectorised over profiles.

A certificate issued on day t lives `lifetime(t)` days and is replaced `interval(t)` days later;
a replacement is needed only while the current certificate would expire before the horizon ends.
Schedules are computed once per distinct (start, end) pair and shared by every profile with it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

import numpy as np
import pandas as pd

Lifetime = Callable[[np.ndarray], np.ndarray]
MAX_ISSUANCES = 2000  # a guard: 10 years of 2-day certificates
MAX_UNITS_PER_DAY = 10**9  # schedules count time in whole units of a day: days and lifetimes (< 1e6) × units < 2**53


def read_only(array: np.ndarray) -> np.ndarray:
    """`array`, made read-only: schedules and the options' cached figures are shared (per batch, by several options),
    so an in-place write to one of their arrays must raise instead of changing the others' figures (copy first)."""
    array.setflags(write=False)  # not through array.flags: that builds a flags object first (twice the time)
    return array


@dataclass(frozen=True)
class Schedule:
    """Issuance days for each distinct horizon; `inverse` maps profiles to their horizon. Its arrays are read-only
    (`read_only`): those it works out, and those it is given (not copied: the caller's arrays become read-only)."""

    days: np.ndarray  # (distinct horizons, max issuances), -1 = none
    inverse: np.ndarray
    lifetime: Lifetime | None = None  # validity of a certificate issued on each day; None = no certificate
    rounds: Sequence[tuple[np.ndarray, np.ndarray]] = ()  # per round of `schedule`: the horizons issuing, their days

    def __post_init__(self) -> None:
        for array in (self.days, self.inverse, *(a for pair in self.rounds for a in pair)):
            read_only(array)

    @cached_property
    def valid(self) -> np.ndarray:
        """Which entries of `days` are issuances."""
        return read_only(self.days >= 0)

    @cached_property
    def counts(self) -> np.ndarray:
        """Issuances per profile (for one certificate)."""
        return read_only(self.valid.sum(axis=1)[self.inverse])

    def total(self, per_day: Callable[[np.ndarray], np.ndarray], where: np.ndarray | None = None) -> np.ndarray:
        """Sum over each profile's issuances (those `where` marks, default all) of a dated quantity (e.g. validation
        minutes), looked up on those days only."""
        where = self.valid if where is None else where
        values = np.zeros(self.days.shape)
        values[where] = per_day(self.days[where])
        return values.sum(axis=1)[self.inverse]

    @cached_property
    def _issued(self) -> tuple[np.ndarray, np.ndarray, int, int]:
        """Every issuance: its horizon (row of `days`) and its day as an offset from the first issuance day; and the
        first and last issuance days."""
        if self.rounds:  # as `schedule` found them, round by round
            horizon = np.concatenate([rows for rows, _ in self.rounds])
            days = np.concatenate([day for _, day in self.rounds])
        else:
            horizon, days = np.nonzero(self.valid)[0], self.days[self.valid]
        first, last = (int(days.min()), int(days.max())) if len(days) else (0, -1)
        return read_only(horizon), read_only(days - first), first, last

    @cached_property
    def last_days(self) -> np.ndarray:
        """Each horizon's last issuance day (-1: none): a row's days rise, then -1s."""
        return read_only(self.days.max(axis=1, initial=-1))

    def ever(self, on: Callable[[np.ndarray], np.ndarray], for_good: bool = False) -> np.ndarray:
        """Per profile, whether `on` (a test of days) holds on any of its issuance days; `on` is asked once per day of
        the span the issuances cover, or, where it holds `for_good` once it does (on every later day too), on each
        horizon's last issuance day alone."""
        if for_good:
            last = self.last_days
            return ((last >= 0) & on(last)).take(self.inverse)
        horizon, offset, first, last = self._issued
        hit = np.zeros(len(self.days), dtype=bool)
        if len(offset):
            hit[horizon[on(np.arange(first, last + 1)).take(offset)]] = True
        return hit[self.inverse]

    def dates_of(self, position: int) -> np.ndarray:
        """Issuance days of one profile."""
        row = self.days[self.inverse[position]]
        return row[row >= 0]

    def of(self, position: int) -> Schedule:
        """The schedule of one profile (this one)."""
        return self

    def shortened(self, changes: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Per profile at `positions` × day of `changes` (sorted): whether the certificate lifetime drops on that day,
        after the start, and a certificate issued under the shorter lifetime is renewed inside the horizon.

        Those are the rule changes that make renewals more frequent within the horizon: a cap above the lifetime in
        force, or a change no issuance falls under before the next one, changes nothing.
        """
        out = np.zeros((len(positions), len(changes)), dtype=bool)
        if self.lifetime is None or self.days.shape[1] < 2 or not len(changes):
            return out
        after, before = self.lifetime(changes), self.lifetime(changes - 1)
        steps = np.flatnonzero(after != before)  # every day the lifetime changes: each opens a regime
        days = self.days[self.inverse[positions]]
        renewed = (days[:, :-1] >= 0) & (days[:, 1:] >= 0)  # issuances followed by another inside the horizon
        regime = np.searchsorted(changes[steps], days[:, :-1], side="right") - 1  # -1: the start's regime
        used = (renewed[:, :, None] & (regime[:, :, None] == np.arange(len(steps)))).any(axis=1)
        out[:, steps] = used & (after < before)[steps] & (changes[steps][None, :] > days[:, :1])
        return out


@dataclass(frozen=True)
class Picked:
    """Per profile, one of several schedules (e.g. that of the CA chosen for the profile); its arrays are read-only as
    theirs are."""

    schedules: tuple[Schedule, ...]
    choice: np.ndarray

    def __post_init__(self) -> None:
        read_only(self.choice)

    @cached_property
    def _flat(self) -> np.ndarray:
        """Per profile, the position of its value in the per-schedule arrays laid end to end."""
        n = len(self.choice)
        return read_only(self.choice * n + np.arange(n))

    def pick(self, per_schedule: list[np.ndarray]) -> np.ndarray:
        """Per profile, the value of its chosen schedule (from one array per schedule)."""
        return np.concatenate(per_schedule).take(self._flat)

    @cached_property
    def counts(self) -> np.ndarray:
        return read_only(self.pick([s.counts for s in self.schedules]))

    def total(self, per_day: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        return self.pick([s.total(per_day) for s in self.schedules])

    def dates_of(self, position: int) -> np.ndarray:
        return self.schedules[self.choice[position]].dates_of(position)

    def of(self, position: int) -> Schedule:
        return self.schedules[self.choice[position]]

    def shortened(self, changes: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """`Schedule.shortened` of each profile's chosen schedule."""
        out = np.zeros((len(positions), len(changes)), dtype=bool)
        chosen = self.choice[positions]
        for k, sched in enumerate(self.schedules):
            mine = chosen == k
            if mine.any():
                out[mine] = sched.shortened(changes, positions[mine])
        return out


def picked(schedules: Sequence[Schedule | Picked], choice: np.ndarray) -> Schedule | Picked:
    """Per profile, the schedule at its `choice`: the one schedule when every profile's is the same object, else a
    Picked of the distinct schedules chosen."""
    first = {}  # each schedule object's first position in `schedules`
    for position, sched in enumerate(schedules):
        first.setdefault(id(sched), position)
    canonical = np.array([first[id(s)] for s in schedules], dtype=np.int64)[choice]
    used = np.flatnonzero(np.bincount(canonical, minlength=len(schedules)))
    if len(used) <= 1:
        return schedules[used[0] if len(used) else 0]
    number = np.zeros(len(schedules), dtype=np.int64)
    number[used] = np.arange(len(used))
    return Picked(tuple(schedules[i] for i in used), number[canonical])


def fresh_validations(days: np.ndarray, reuse: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Which issuances of `days` (rows of issuance days, -1 = none) need a fresh domain validation: the first, and each
    one more than `reuse(day)` days (the reuse period in force on its day) after the last validation.

    A row's issuances come first (then -1s), so with the rows longest first and laid out round by round, the rows
    still issuing in each round are a prefix: every round steps through one contiguous slice of them. `reuse` is
    looked up once per day of the span the issuances cover.
    """
    fresh = np.zeros(days.shape, dtype=bool)
    counts = np.count_nonzero(days >= 0, axis=1)
    if not counts.any():
        return fresh
    order = np.argsort(-counts, kind="stable")
    rounds = days[order].T  # (rounds, horizons), longest horizon first (a view: a transposing copy costs more)
    issuing = np.searchsorted(-counts[order], -np.arange(days.shape[1]), side="left")  # rows issuing in each round
    first = int(rounds[0, :issuing[0]].min())
    allowed = np.asarray(reuse(np.arange(first, int(days.max()) + 1)), dtype=float)  # per day from `first`
    out = np.zeros(rounds.shape, dtype=bool)
    out[0, :issuing[0]] = True
    last = rounds[0].copy()
    for k in range(1, len(rounds)):  # one step per renewal round, every horizon at once
        m = issuing[k]
        day, since = rounds[k, :m], last[:m]
        new = day - since > allowed.take(day - first)
        out[k, :m] = new
        np.copyto(since, day, where=new)
    fresh[order] = out.T
    return fresh


def exact(number: float) -> Fraction:
    """A number of the data as the decimal it is written as (0.6667 is 6667/10000, not the binary float's value)."""
    return Fraction(str(float(number)))


@dataclass(frozen=True)
class Interval:
    """Days from one issuance to the next, per lifetime L: `share` of L, or L less `lead` days where that is later.

    Exact fractions: summed as floats, intervals such as 47 - 47/3 days fall short of the whole days three of them make
    (93.999… for 94), and the floor of the sum put every third renewal a day early.
    """

    share: Fraction
    lead: Fraction | None = None

    def units(self, lives: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
        """The units per day in which `lives` (days) and their intervals are whole numbers, and both in those units."""
        whole = bool(np.all(lives == np.floor(lives)))  # every shipped lifetime: no Fraction per distinct value
        per_life = 1 if whole else math.lcm(*(exact(life).denominator for life in np.unique(lives)))
        per_day = math.lcm(self.share.denominator * per_life, 1 if self.lead is None else self.lead.denominator)
        if per_day > MAX_UNITS_PER_DAY:
            raise ValueError("lifetimes and renewal timing with too many decimals: check the lifetime parameters, "
                             "manual_renewal_lead_days and acme_renew_fraction")
        life = np.rint(lives * per_life).astype(np.int64) * (per_day // per_life)
        step = life // self.share.denominator * self.share.numerator  # exact: `per_day` makes `life` a multiple
        if self.lead is not None:
            step = np.maximum(step, life - int(self.lead * per_day))
        return per_day, life, step

    def whole_days(self, lives: np.ndarray) -> np.ndarray:
        """The intervals after `lives`, in whole days (rounded down)."""
        per_day, _, step = self.units(lives)
        return step // per_day


def manual_interval(lead_days: float) -> Interval:
    """Manual renewal: `lead_days` before expiry, but never earlier than two thirds into the lifetime."""
    return Interval(Fraction(2, 3), exact(lead_days))


def fraction_interval(fraction: float) -> Interval:
    """Automated renewal after a fixed share of the lifetime (ACME clients, ARI)."""
    return Interval(exact(fraction))


def horizons(start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (start, end) pairs and, per profile, the index of its pair."""
    pairs = np.stack([np.asarray(start, dtype=np.int64), np.asarray(end, dtype=np.int64)], axis=1)
    if len(pairs) == 0:
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int64)
    key = pairs[:, 0] * 1_000_000 + (pairs[:, 1] - pairs[:, 0])  # one number per pair (horizons < 1e6 days)
    inverse, keys = pd.factorize(key, sort=True)  # by hashing: a fifth of np.unique's sort of every profile
    first = np.zeros(len(keys), dtype=np.int64)
    first[inverse] = np.arange(len(key))  # a profile of each pair
    return pairs[first], inverse.astype(np.int64)


def schedule(start: np.ndarray, end: np.ndarray, lifetime: Lifetime, interval: Interval,
             distinct: tuple[np.ndarray, np.ndarray] | None = None) -> Schedule:
    """Issuance days of one certificate kept valid from `start` to `end` (exclusive), per profile.

    `distinct` may pass precomputed `horizons(start, end)` when several schedules share them.
    """
    uniq, inverse = distinct if distinct is not None else horizons(start, end)
    if len(uniq) == 0:
        return Schedule(np.zeros((0, 0), dtype=np.int64), inverse)
    # lifetime and interval per day, looked up: every issuance day lies in [first start, last end)
    first = int(uniq[:, 0].min())
    lives = lifetime(np.arange(first, max(int(uniq[:, 1].max()), first + 1), dtype=np.int64))
    short = np.any(lives < 1)  # some day's lifetime is below a day: look for an issuance on such a day
    per_day, lives, steps = interval.units(lives)  # whole units of a day: sums of intervals stay exact
    t, stop = uniq[:, 0] * per_day, uniq[:, 1] * per_day
    live = np.flatnonzero(t < stop)  # the horizons still issuing, and their next issuance time and end
    t, stop = t[live], stop[live]
    issued: list[tuple[np.ndarray, np.ndarray]] = []  # per round: the horizons issuing and the day they do
    while len(live):
        if len(issued) >= MAX_ISSUANCES:
            raise ValueError("more than 2000 issuances in one horizon: check the lifetime parameters")
        day = t // per_day
        issued.append((live, day))
        at = day - first
        life = lives[at]
        if short and np.any(life < per_day):
            raise ValueError("a certificate lifetime below one day: check the lifetime parameters")
        more = t + life < stop  # the certificate expires before the horizon ends: it is renewed
        t = (t + steps[at])[more]
        live, stop = live[more], stop[more]
    days = np.full((len(uniq), len(issued)), -1, dtype=np.int64)
    for column, (rows, day) in enumerate(issued):
        days[rows, column] = day
    return Schedule(days, inverse, lifetime, issued)
