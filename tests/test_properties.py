"""Invariants of the engine over random profiles (hypothesis)."""

from __future__ import annotations

import copy
from decimal import Decimal

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import colliding_profiles, profiles

import decision
from decision.parameters import default_parameters
from decision.profiles import _fractions
from decision.renewals import fresh_validations
from decision.scoring import at_columns, count_true, first_true, normalise, rank, tie_keys, tie_places, top_two
from decision.textops import fixed3
from decision.timeline import cost_events

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NUMERIC = ["feasible", "certificates", "certificate_issuances", "cost_total", "tco", "trust",
           "devices_to_reconfigure", "users_url_change", "score", "rank", "ca", "names", "not_issuable", "reasons"]


def by_option(ev: decision.Evaluation, i: int = 0) -> pd.DataFrame:
    return ev.options.iloc[i * 7:(i + 1) * 7].set_index("option")


@SETTINGS
@given(st.lists(profiles(), min_size=2, max_size=6), st.data())
def test_a_profile_scored_alone_equals_its_row_in_a_batch(batch, data):
    i = data.draw(st.integers(0, len(batch) - 1))
    together = decision.evaluate(batch)
    alone = decision.evaluate(batch[i])
    pd.testing.assert_frame_equal(by_option(together, i)[NUMERIC], by_option(alone)[NUMERIC])
    pd.testing.assert_series_equal(together.recommendations.iloc[i].drop("row"), alone.recommendations.iloc[0].drop("row"),
                                   check_names=False)


def test_a_score_on_an_exact_half_rounds_the_same_alone_and_in_a_batch():
    """Found by QA in a synthetic file: this profile's internal_ca score is 55.625 before rounding. Summed in another
    order for a batch of one (np.einsum) it came out 55.625000000000014: 55.63 in the app, 55.62 in a file."""
    cedar = {"org": "Cedar Legal GmbH", "exchange_version": "2019", "start": "2026-12-01", "horizon_years": 3,
             "external_domain": "cedarlegal3020.com", "servers": ["EX01"], "owa_host": "webmail.cedarlegal3020.com",
             "internal_names": False, "root_on_exchange": True, "split_dns": True, "users": 155, "desktops": 118,
             "domain_joined_share": 0.91, "mobile_devices": 83, "mdm_share": 0.65, "partner_tls": False,
             "internal_ca": True, "acme_ok": True, "dns_api": True, "spare_ip": True, "ca": "digicert",
             "currency": "EUR", "admin_rate": 106}
    alone, twice = decision.evaluate(cedar), decision.evaluate([cedar, cedar])
    assert by_option(alone).loc["internal_ca", "score"] == 55.62  # 55.625 rounds half to even
    for i in (0, 1):
        pd.testing.assert_frame_equal(by_option(twice, i)[NUMERIC], by_option(alone)[NUMERIC])


@SETTINGS
@given(profiles(), st.integers(1, 500), st.integers(0, 500))
def test_more_devices_never_lower_reconfiguration_or_tco(profile, more_mobile, more_desktops):
    bigger = copy.deepcopy(profile)
    bigger["mobile_devices"] += more_mobile
    bigger["desktops"] += more_desktops
    ev = decision.evaluate([profile, bigger])  # one batch: each row is the profile scored alone (test above)
    assert not ev.issues
    small, large = by_option(ev, 0), by_option(ev, 1)
    assert (large["devices_to_reconfigure"] >= small["devices_to_reconfigure"]).all()
    assert (large["tco"] >= small["tco"] - 1e-6).all()


@SETTINGS
@given(profiles(), st.sampled_from([0.25, 0.5, 1, 2, 3]))
def test_a_longer_horizon_never_lowers_cost_total(profile, extra_years):
    longer = dict(profile, horizon_years=min(10, profile["horizon_years"] + extra_years))
    ev = decision.evaluate([profile, longer])
    assert not ev.issues
    short, long_ = by_option(ev, 0), by_option(ev, 1)
    assert (long_["cost_total"] >= short["cost_total"] - 1e-6).all()
    # issuances only where the same CA issues both: the CA whose figures an option shows (the cheapest that can
    # serve; when none can, the cheapest seller) may change with the horizon, and another CA's certificates may
    # live longer (found by hypothesis: ACME before 2015, 0.5 → 1 year, 2 → 1 issuances, cost up)
    same_ca = (long_["ca"] == short["ca"]) & (short["ca"] != "")
    assert (long_["certificate_issuances"][same_ca] >= short["certificate_issuances"][same_ca]).all()


@SETTINGS
@given(profiles(), st.floats(0.01, 5))
def test_raising_the_cost_weight_never_raises_the_recommended_cost(profile, raise_by):
    heavier = copy.deepcopy(profile)
    heavier["weights"]["cost"] += raise_by
    ev = decision.evaluate([profile, heavier])
    assert not ev.issues
    before, after = ev.recommendations.to_dict("records")
    if pd.isna(before["recommendation"]):
        return
    assert after["cost_total"] <= before["cost_total"] + 1e-6


@SETTINGS
@given(st.lists(profiles(), min_size=1, max_size=5))
def test_scores_are_0_to_100_and_exactly_one_winner(batch):
    ev = decision.evaluate(batch)
    scores = ev.options["score"].dropna()
    assert ((scores >= 0) & (scores <= 100)).all()
    for i in range(len(batch)):
        rows = by_option(ev, i)
        winners = (rows["rank"] == 1).sum()
        assert winners == (1 if rows["feasible"].any() else 0)
        assert rows.loc[~rows["feasible"], "score"].isna().all()
        ranks = sorted(rows.loc[rows["feasible"], "rank"])
        assert ranks == list(range(1, len(ranks) + 1))


@SETTINGS
@given(profiles())
def test_name_counts_match_the_names_listed_and_the_timeline_matches_the_totals(profile):
    ev = decision.evaluate(profile)
    rows = by_option(ev)
    comps = ev.scored.components
    for option in ("san", "acme", "internal_ca", "wildcard"):
        listed = [n for n in rows.loc[option, "names"].split(", ") if n]
        assert len(listed) == comps[option].names[0], option
        assert len(set(listed)) == len(listed)
    events = cost_events(ev)
    direct = events[events["kind"] != "clients and users"].groupby("option")["amount"].sum()
    every = events.groupby("option")["amount"].sum()
    for option in rows.index:
        assert np.isclose(direct.get(option, 0.0), rows.loc[option, "cost_total"], atol=0.01)
        assert np.isclose(every.get(option, 0.0), rows.loc[option, "tco"], atol=0.01)



@SETTINGS
@given(st.lists(colliding_profiles(), min_size=1, max_size=6))
def test_an_internal_name_that_is_a_public_name_too_is_listed_and_priced_once(batch):
    """Found by QA: with the same AD and mail domain, an internal name (the AD domain, a server's FQDN) that is the
    OWA host, the bare domain or an autodiscover name was listed once but counted (priced, validated) twice."""
    ev = decision.evaluate(batch)
    assert not ev.issues
    comps = ev.scored.components
    for i in range(len(batch)):
        rows = by_option(ev, i)
        for option in ("san", "acme", "internal_ca", "wildcard"):
            listed = [n for n in rows.loc[option, "names"].split(", ") if n]
            assert len(listed) == comps[option].names[i], (option, listed)
            assert len(set(listed)) == len(listed)
        refused = {n for n in rows.loc["acme", "not_issuable"].split(", ") if n}
        assert not refused & {batch[i]["owa_host"], f"autodiscover.{batch[i]['external_domain']}"}

TIES_AND_NEAR_TIES = [m / 2000 for m in range(1, 2000, 2)] + [0.0005, 0.0625, 0.1235, 0.9995, 1 - 2**-53, 5e-324]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.floats(0, 1), st.floats(0, 2e9), st.sampled_from(TIES_AND_NEAR_TIES),
                          st.floats(allow_nan=True)), min_size=1, max_size=50))
def test_vectorised_three_decimals_match_python_formatting(values):
    assert fixed3(np.array(values)).to_pylist() == [f"{v:.3f}" for v in values]


def test_three_decimals_at_every_exact_tie_round_as_python_does():
    ties = np.array([m / 2000 for m in range(2001)] + [np.nextafter(m / 2000, 1) for m in range(2000)]
                    + [w + m / 2000 for w in (1, 7, 123_456, 999_999_999) for m in range(1, 2000, 2)])
    assert fixed3(ties).to_pylist() == [f"{v:.3f}" for v in ties.tolist()]


@given(st.integers(0, 10**9), st.integers(0, 6), st.sampled_from(["", "-", "+"]), st.sampled_from(["%", " %"]))
def test_a_percentage_reads_exactly_as_the_fraction_written_out(digits, places, sign, mark):
    percent = Decimal(digits).scaleb(-places)
    read = pd.to_numeric(_fractions(pd.Series([f"{sign}{percent:f}{mark}"], dtype="str")))
    assert read.iloc[0] == float(f"{sign}{percent / 100:f}")


@settings(max_examples=40)
@given(st.sampled_from([1, 2, 7, 255, 256, 300]), st.floats(0, 1), st.integers(0, 2**32 - 1))
def test_byte_wise_counts_and_first_cas_match_numpy_for_any_catalog_size(cas, share, seed):
    """The CA choice's byte-wise helpers agree with numpy's sum and argmax, also past 255 CAs (where bytes overflow)."""
    mask = np.random.default_rng(seed).random((cas, 64)) < share
    assert (count_true(mask) == mask.sum(axis=0)).all()
    assert (first_true(mask) == np.argmax(mask, axis=0)).all()


@SETTINGS
@given(st.integers(1, 9), st.integers(0, 2**32 - 1), st.booleans(), st.booleans())
def test_ranks_places_and_top_two_match_a_sort_of_each_profile(k, seed, nan, transposed):
    """The pairwise ranking agrees with np.lexsort of each profile's options on ties, near ties, infinities and NaN
    (which a sort puts last), whether the arrays come C-contiguous or as the transpose of option rows."""
    rng = np.random.default_rng(seed)
    n = 200

    def few(values: list[float]) -> np.ndarray:  # drawn from a few values, so that ties are common
        out = rng.choice(np.array(values), (k, n))
        return out.T if transposed else np.ascontiguousarray(out.T)

    feasible = few([True, True, True, False]).astype(bool)
    specials = [np.nan, np.inf] if nan else []
    score = few([50.0, 50.0 + 4e-10, 50.0 + 6e-10, 70.0, 0.0, -0.0, *specials])
    tco = few([100.0, 100.004, 99.996, 250.0, *specials])
    issuances, certificates = few([1.0, 2.0, *specials]), few([1.0, 3.0])
    keys = tie_keys(feasible, tco, issuances, certificates)
    want_places = np.empty((n, k), dtype=np.intp)
    np.put_along_axis(want_places, np.lexsort(keys[::-1], axis=-1), np.broadcast_to(np.arange(k), (n, k)), axis=1)
    assert (tie_places(keys) == want_places).all()
    key_score = np.where(feasible, -np.round(score, 9), np.inf)
    order = np.lexsort((*keys[::-1], key_score), axis=-1)
    want = np.empty((n, k), dtype=np.int64)
    np.put_along_axis(want, order, np.broadcast_to(np.arange(1, k + 1), (n, k)), axis=1)
    want = np.where(feasible, want, 0)
    ranks = rank(score, feasible, keys)
    assert ranks.dtype == np.int64 and (ranks == want).all()
    winner, runner = top_two(ranks)
    for r, got in ((1, winner), (2, runner)):
        assert (got == np.where((want == r).any(axis=1), np.argmax(want == r, axis=1), -1)).all()
    assert (at_columns(ranks, np.maximum(winner, 0)) == want[np.arange(n), np.maximum(winner, 0)]).all()


@SETTINGS
@given(st.integers(1, 9), st.integers(0, 2**32 - 1), st.sampled_from([[], [np.nan], [np.inf, -np.inf], [-0.0, -3.0]]))
def test_normalise_matches_a_max_min_scaling_of_each_profiles_feasible_options(k, seed, specials):
    """normalise's vectorised scaling agrees with a per-profile one (NaN and infinities scale to 0), whatever the
    values: finite and non-negative (its fast path) or not."""
    rng = np.random.default_rng(seed)
    n = 100
    values = rng.choice(np.array([0.0, 1.0, 2.5, 2.5, 1e6, *specials]), (n, k))
    feasible = rng.random((n, k)) < 0.7
    for higher in (False, True):
        got = normalise(values, feasible, higher)
        for i in range(n):
            kept = values[i][feasible[i]]
            with np.errstate(all="ignore"):
                lo, hi = (np.nanmin(kept), np.nanmax(kept)) if not np.isnan(kept).all() else (np.nan, np.nan)
                span = hi - lo
                scaled = (values[i] - lo) / span if higher else (hi - values[i]) / span
            want = np.where(feasible[i], np.where(span > 0, np.nan_to_num(scaled), 1.0), 0.0)
            assert np.array_equal(got[i], want)  # (of equal zeros, which one is the minimum is not specified)


@st.composite
def issuance_rows(draw: st.DrawFn) -> np.ndarray:
    """Rows of increasing issuance days (1 to 400 days apart, from 2010 to 2035), padded with -1."""
    rows = [np.cumsum([draw(st.integers(14610, 23741)), *draw(st.lists(st.integers(1, 400), max_size=30))])
            for _ in range(draw(st.integers(1, 5)))]
    days = np.full((len(rows), max(map(len, rows))), -1, dtype=np.int64)
    for r, row in enumerate(rows):
        days[r, :len(row)] = row
    return days


@SETTINGS
@given(issuance_rows(), st.integers(0, 1000), st.integers(0, 400))
def test_validations_are_at_least_one_at_most_the_issuances_and_fall_as_the_reuse_period_grows(days, longer, shift):
    shipped = default_parameters()["dcv_reuse_days"].at
    issuances = (days >= 0).sum(axis=1)
    counts = [fresh_validations(days, reuse).sum(axis=1) for reuse in
              (lambda d: np.zeros(d.shape), shipped, lambda d: shipped(d) + longer, lambda d: shipped(d - shift),
               lambda d: np.full(d.shape, 1e9))]
    assert (counts[0] == issuances).all()  # nothing reused: every issuance validates
    assert (counts[-1] == 1).all()  # everything reused: the first issuance alone validates
    assert ((counts[1] >= 1) & (counts[1] <= issuances)).all()
    assert (counts[2] <= counts[1]).all()  # a longer reuse period never needs more validations
    assert (counts[3] <= counts[1]).all()  # the longer periods of earlier rules, likewise
    fresh = fresh_validations(days, shipped)
    assert not (fresh & (days < 0)).any() and fresh[:, 0].all()
