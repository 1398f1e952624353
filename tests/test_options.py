"""The shortcuts the option evaluation takes give the figures the long way gives (decision/options.py)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import fields, is_dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from decision.catalog import STATUSES, default_catalog
from decision.options import OPTIONS, Context, Offer, _fees, _offer, _offer_cost, evaluate_options
from decision.parameters import default_parameters
from decision.profiles import load_profiles
from decision.renewals import Schedule
from decision.synth import generate

PARAMS, CATALOG = default_parameters(), default_catalog()


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    """2,000 synthetic profiles, a fifth of them naming a CA at random (CAs that sell nothing by hand included), half
    of them starting between 2008 and 2016 (CAs distrusted or shut down within the horizon)."""
    table = pa.concat_tables(generate(2000, seed=5))
    raw = table.to_pandas()
    rng = np.random.default_rng(5)
    named = rng.random(len(raw)) < 0.2
    raw.loc[named, "ca"] = rng.choice(list(CATALOG.ids), int(named.sum()))
    old = rng.random(len(raw)) < 0.5
    days = np.datetime64("2008-01-01") + rng.integers(0, 365 * 8, len(raw))
    raw.loc[old, "start"] = np.datetime_as_string(days)[old]
    valid = load_profiles(raw, PARAMS, CATALOG, today=dt.date(2026, 11, 26))
    assert not valid.issues
    return valid.frame


def test_a_ca_that_does_not_sell_the_product_shows_the_profiles_naming_it_the_figures_of_its_whole_schedule(frame):
    """Context.schedule(named=): worked out for the horizons of the profiles naming the CA alone, the schedule gives
    them what the schedule of every horizon gives."""
    whole = Context(frame, PARAMS, CATALOG)
    for ca in CATALOG.cas:  # every schedule at hand beforehand: no offer is worked out for a few horizons
        for mode in ("manual", "acme"):
            whole.schedule(ca, mode)
            whole.schedule(ca, mode, revoked=True)
    short = Context(frame, PARAMS, CATALOG)
    expected, got = evaluate_options(whole), evaluate_options(short)
    narrow = [key for key in short._shared if isinstance(key, tuple) and key[0] == "schedule" and len(key) == 6]
    assert narrow  # some schedules were worked out for a few horizons only (keyed by the CA's catalog index too)
    for option in OPTIONS:
        for name, value in vars(expected[option]).items():
            if name == "schedule":
                np.testing.assert_array_equal(got[option].schedule.counts, value.counts)
                for i in range(0, len(frame), 7):
                    np.testing.assert_array_equal(got[option].schedule.dates_of(i), value.dates_of(i))
            else:
                np.testing.assert_array_equal(getattr(got[option], name), value, err_msg=f"{option}.{name}")


def test_a_change_for_good_is_read_off_the_last_issuance_as_off_every_issuance(frame):
    """Schedule.ever(for_good=True) equals Schedule.ever where the test of days, once true, stays true."""
    ctx = Context(frame, PARAMS, CATALOG)
    evaluate_options(ctx)
    schedules = [s for s in ctx._shared.values() if isinstance(s, Schedule)]
    checked = 0
    for ca in CATALOG.cas:
        tests = [lambda days, ca=ca: ~ca.client_auth_at(days)]
        tests += [lambda days, ca=ca, code=code: ca.status_at(days) == code for code in range(len(STATUSES))]
        for on in tests:
            held = on(np.arange(0, 30000))  # every day to 2052
            if np.any(held[:-1] & ~held[1:]):  # not for good: Schedule.ever itself is used
                continue
            for sched in schedules:
                np.testing.assert_array_equal(sched.ever(on, for_good=True), sched.ever(on))
                checked += 1
    assert checked > 20


def test_an_offer_costs_the_later_fee_for_the_years_billed_at_it(frame):
    """_fees adds the later fee's years only for the profiles that have any: the cost of an offer is, bit for bit, the
    first years at the first fee plus the others at the later one, for every profile alike, plus the admin time."""
    ctx = Context(frame, PARAMS, CATALOG)
    later = ctx.later_fee_rows
    assert 0 < len(later) < ctx.n
    names = ctx.facts["internal_wanted"] + 3.0  # beyond Sectigo's 3 included names wherever internal names are lost
    offer = _offer(ctx, CATALOG["sectigo"], "san", "manual", np.ones(ctx.n), names)
    assert (offer.later_fee_per_year[later] != offer.fee_per_year[later]).any()  # names lost: a cheaper later fee
    first, then = offer.fee_per_year, offer.later_fee_per_year
    every_row = first * ctx.first_fee_years + then * (ctx.purchase_years - ctx.first_fee_years)
    assert np.array_equal(_fees(first, then, ctx.first_fee_years, ctx.purchase_years), every_row)
    assert np.array_equal(_fees(first, then, ctx.first_fee_years, ctx.purchase_years, later), every_row)
    admin = (offer.setup_minutes + offer.schedule.counts * offer.issuance_minutes + offer.dcv_minutes
             + offer.yearly_minutes * ctx.years) / 60.0 * ctx.admin_rate
    assert np.array_equal(_offer_cost(ctx, offer, {}), every_row + admin)


def test_an_option_costs_what_its_offer_cost_when_its_ca_was_chosen(frame):
    """Components.cost_total adds the fees and admin time as _offer_cost does when it chooses the CA, bit for bit
    (then the public IPs): the cheapest CA is the one whose cost the scores use."""
    ctx = Context(frame, PARAMS, CATALOG)
    for option, c in evaluate_options(ctx).items():
        offer = Offer(c.feasible, c.reasons, c.fee_per_year, c.later_fee_per_year, c.schedule, c.issuance_minutes,
                      c.dcv_names, c.dcv_minutes, c.setup_minutes, c.yearly_minutes, c.reasons)
        expected = _offer_cost(ctx, offer, {}) + c.ip_per_month * 12.0 * ctx.years
        assert np.array_equal(c.cost_total(ctx.years, ctx.admin_rate), expected), option


def _arrays(value: object, place: str) -> Iterator[tuple[str, np.ndarray]]:
    """Every array in `value` (in tuples, lists, dicts and dataclass fields, at any depth), with where it is."""
    if isinstance(value, np.ndarray):
        yield place, value
    elif isinstance(value, tuple | list):
        for i, item in enumerate(value):
            yield from _arrays(item, f"{place}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _arrays(item, f"{place}[{key!r}]")
    elif is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            yield from _arrays(getattr(value, f.name), f"{place}.{f.name}")


def _memory(array: np.ndarray) -> int:
    """The id of the array owning `array`'s memory."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return id(array)


def test_the_arrays_options_share_cannot_be_changed_in_place(frame):
    """An array the context caches, or hands to several options or to several fields of one option (the context's
    years, the offers' cached figures, the zeros), is read-only: a consumer writing into it would change the others'
    figures, so the write raises instead."""
    ctx = Context(frame, PARAMS, CATALOG)
    comps = evaluate_options(ctx)
    places: dict[int, list[tuple[str, np.ndarray]]] = defaultdict(list)
    for option, c in comps.items():
        for place, array in _arrays(c, option):
            places[_memory(array)].append((place, array))
    shared = [held for held in places.values() if len({place for place, _ in held}) > 1]
    assert len(shared) > 20 and any(len({place.split(".")[0] for place, _ in held}) == len(OPTIONS) for held in shared)
    assert [place for held in shared for place, array in held if array.flags.writeable] == []
    cached = list(_arrays(list(ctx._shared.values()), "shared"))
    assert len(cached) > 100 and [place for place, array in cached if array.flags.writeable] == []
    for c in comps.values():  # classic and srv_record share one chosen CA's figures, every option the context's years
        with pytest.raises(ValueError, match="read-only"):
            c.purchase_years[0] += 1
        with pytest.raises(ValueError, match="read-only"):
            c.issuance_minutes *= 2
