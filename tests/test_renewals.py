"""Renewal schedules in exact arithmetic: a schedule sums fractional intervals (a 47-day certificate renewed by hand
every 47 - 47/3 days), and its issuance days are the floors of the exact sums, as an independent reference in
fractions.Fraction works them out one issuance at a time."""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import decision
from decision.catalog import default_catalog
from decision.dates import from_day, to_day
from decision.parameters import default_parameters
from decision.renewals import Interval, fraction_interval, manual_interval, schedule
from decision.report import renewal_calendar

ROOT = Path(__file__).resolve().parents[1]
PARAMS = default_parameters()
CATALOG = default_catalog()
LEAD = Fraction(str(PARAMS.value("manual_renewal_lead_days")))
SHARE = Fraction(str(PARAMS.value("acme_renew_fraction")))  # as written: 0.6667 = 6667/10000
DAYS = st.integers(to_day("1995-01-01"), to_day("2045-12-31"))
HORIZONS = st.lists(st.tuples(DAYS, st.integers(1, 3653)), min_size=1, max_size=6)  # (start, days) up to 10 years
SETTINGS = settings(max_examples=150, deadline=None)


def on(name: str, day: int) -> Fraction:
    """A dated parameter's value on one day."""
    return Fraction(str(PARAMS[name].on(day)))


def manual(life: Fraction, lead: Fraction = LEAD) -> Fraction:
    """Renewed by hand `lead` days before expiry, but no earlier than two thirds into the lifetime."""
    return life - min(lead, life / 3)


def reference(start: int, end: int, life: Callable[[int], Fraction], interval: Callable[[Fraction], Fraction]) -> list[int]:
    """Issuance days from `start` until a certificate outlives `end` (exclusive), summed as exact fractions."""
    t, days = Fraction(start), []
    while True:
        day = math.floor(t)
        days.append(day)
        if t + life(day) >= end:
            return days
        t += interval(life(day))


# the rules: (the lifetime the engine uses, its interval; the reference lifetime, its interval)
RULES = {
    "a public CA's certificate renewed by hand (365-day term under 1826/1186/825/398/200/100/47-day caps)": (
        lambda days: CATALOG["sectigo"].certificate_days(days, PARAMS, "manual"), manual_interval(float(LEAD)),
        lambda day: min(on("commercial_term_days", day), on("public_max_lifetime_days", day)), manual),
    "Let's Encrypt through ACME (90/64/45 days under the public cap)": (
        lambda days: CATALOG["letsencrypt"].certificate_days(days, PARAMS, "acme"), fraction_interval(float(SHARE)),
        lambda day: min(on("letsencrypt_lifetime_days", day), on("public_max_lifetime_days", day)),
        lambda life: life * SHARE),
    "a 90-day ACME CA under the public cap (47 days from 2029-03-15)": (
        lambda days: CATALOG["zerossl"].certificate_days(days, PARAMS, "acme"), fraction_interval(float(SHARE)),
        lambda day: min(Fraction(90), on("public_max_lifetime_days", day)), lambda life: life * SHARE),
    "an internal CA's 730-day certificate renewed by hand": (
        lambda days: CATALOG["adcs"].certificate_days(days, PARAMS, "manual"), manual_interval(float(LEAD)),
        lambda day: Fraction(730), manual),
}


@SETTINGS
@given(HORIZONS)
@example([(to_day("2027-02-09"), to_day("2030-02-09") - to_day("2027-02-09"))])  # QA's repro (report 18b, fault 3)
@example([(to_day("2027-06-24"), to_day("2034-06-24") - to_day("2027-06-24"))])  # one issuance fewer
def test_every_rules_schedule_is_that_of_exact_sums(horizons: list[tuple[int, int]]) -> None:
    """For every lifetime rule and its renewal timing, over random starts and horizons scheduled together, each
    profile's issuance days (and so their count) are those of the exact sums of the intervals."""
    start = np.array([s for s, _ in horizons])
    end = start + np.array([n for _, n in horizons])
    for rule, (lifetime, interval, life, step) in RULES.items():
        sched = schedule(start, end, lifetime, interval)
        for i, (s, e) in enumerate(zip(start.tolist(), end.tolist(), strict=True)):
            got = sched.dates_of(i).tolist()
            want = reference(s, e, life, step)
            assert got == want, (rule, from_day(s), from_day(e), [str(from_day(d)) for d in got if d not in want],
                                 [str(from_day(d)) for d in want if d not in got])


@SETTINGS
@given(HORIZONS, st.lists(st.integers(60, 4000), min_size=2, max_size=2), DAYS, st.integers(0, 60),
       st.integers(5000, 10000))
def test_any_lifetime_lead_and_share_in_decimals_schedule_exactly(
        horizons: list[tuple[int, int]], lives: list[int], change: int, lead: int, share: int) -> None:
    """Lifetimes in tenths of a day (6.0 to 400.0, changing on a day), a whole-day lead and a share in ten-thousandths:
    intervals in thirds, tenths and ten-thousandths of a day all sum exactly."""
    before, after = (Fraction(n, 10) for n in lives)
    start = np.array([s for s, _ in horizons])
    end = start + np.array([n for _, n in horizons])

    def lifetime(days: np.ndarray) -> np.ndarray:
        return np.where(days < change, float(before), float(after))

    def life(day: int) -> Fraction:
        return before if day < change else after
    timings = [(manual_interval(lead), lambda x: manual(x, Fraction(lead))),
               (fraction_interval(share / 10000), lambda x: x * Fraction(share, 10000))]
    for interval, step in timings:
        sched = schedule(start, end, lifetime, interval)
        for i, (s, e) in enumerate(zip(start.tolist(), end.tolist(), strict=True)):
            assert sched.dates_of(i).tolist() == reference(s, e, life, step), (interval, from_day(s), from_day(e))


def test_the_data_are_read_as_the_decimals_written():
    """0.6667 is 6667/10000 (not the binary float's value); a manual renewal keeps the two-thirds floor in thirds."""
    assert fraction_interval(0.6667) == Interval(Fraction(6667, 10000))
    assert manual_interval(30) == Interval(Fraction(2, 3), Fraction(30))
    per_day, life, step = manual_interval(30).units(np.array([47.0, 100.0, 398.0]))
    assert per_day == 3 and life.tolist() == [141, 300, 1194] and step.tolist() == [94, 210, 1104]
    assert manual_interval(30).whole_days(np.array([47.0, 64.0, 100.0])).tolist() == [31, 42, 70]
    # a share in ten-billionths would count days in units past exact integers: refused, not rounded
    with pytest.raises(ValueError, match="too many decimals"):
        schedule(np.array([0]), np.array([100]), lambda days: np.full(days.shape, 47.0), fraction_interval(0.6666666667))


def test_qa_repro_every_third_47_day_renewal_falls_on_the_exact_day():
    """QA 18b fault 3: from 2027-02-09 (3 years), the 11th issuance (2029-04-19) is the first under the 47-day cap;
    three manual renewals later (3 × 94/3 = 94 days) comes 2029-07-22, not 2029-07-21; likewise 2029-10-24."""
    ev = decision.evaluate({"org": "B", "exchange_version": "SE", "start": "2027-02-09", "horizon_years": 3,
                            "external_domain": "contoso.com", "servers": ["EX01"], "users": 100, "acme_ok": True})
    assert not ev.issues, ev.issues
    days = renewal_calendar(ev, 0, "san")
    assert days[10] == "2029-04-19" and days[13:17] == ["2029-07-22", "2029-08-22", "2029-09-22", "2029-10-24"]
    assert len(days) == 19


def test_a_47_day_certificate_expiring_on_the_horizons_last_day_is_not_renewed():
    """From 2027-06-24 for 7 years, the exact schedule's 70th certificate, issued 2034-05-08, expires with the horizon
    on 2034-06-24: no 71st issuance (the float sums had put it on 2034-05-07, one day short, and renewed it)."""
    ev = decision.evaluate({"org": "C", "exchange_version": "SE", "start": "2027-06-24", "horizon_years": 7,
                            "external_domain": "contoso.com", "servers": ["EX01"], "users": 100})
    assert not ev.issues, ev.issues
    days = renewal_calendar(ev, 0, "san")
    assert days[-1] == "2034-05-08" and (to_day("2034-06-24") - to_day(days[-1])) == 47
    assert ev.options.set_index("option").loc["san", "certificate_issuances"] == len(days) == 70
