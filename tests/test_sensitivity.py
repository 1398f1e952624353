"""Decision analytics (issue 5): the bands and flip points must be true, checked against the engine itself."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path

import hypothesis
import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import profiles

import decision
from decision import views
from decision.catalog import Catalog, default_catalog
from decision.engine import score_frame
from decision.options import OPTIONS
from decision.parameters import default_parameters, load_parameters
from decision.profiles import FIELD_BY_NAME, WEIGHT_FIELDS, profile_to_mapping
from decision.report import render
from decision.scoring import CRITERIA, CRITERION_NAMES, SCORE_DECIMALS
from decision.sensitivity import (
    FLIP_FIELDS,
    SAME_DISTANCE,
    FlipPoint,
    Sensitivity,
    _phrase,
    analyse,
    batch_columns,
    raw_band,
    tornado_frame,
    weights_at,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "data/profiles").glob("*.yaml"))
RESOLUTION = 1e-6  # score points: well above the engine's 1e-9 rounding, well below any real difference
WEIGHT_MAX = FIELD_BY_NAME["w_cost"].high  # 1,000: the most a weight field allows
STEPS = (1e-6, 1e-4, 1e-2)  # how far past a band's end the weight moves (further only if the gap is below RESOLUTION)
SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def winners(ev: decision.Evaluation) -> list[str | None]:
    return [None if isinstance(r, float) else r for r in ev.recommendations["recommendation"].tolist()]


def score_of(ev: decision.Evaluation, j: int, option: str) -> float:
    return float(ev.scored.columns["score"][j, OPTIONS.index(option)])


def with_weights(profile: dict, w: np.ndarray) -> dict:
    return {**profile, **dict(zip(WEIGHT_FIELDS, map(float, w), strict=True))}


def first_past(profile: dict, current: np.ndarray, criterion: str, end: float, sign: int, winner: str) -> str | None:
    """The first option other than `winner` to win as the share moves past a band's `end` (`sign`: -1 below it, +1
    above) from 1e-12 to 1e-7 past it: a band names the option that wins just past its end, and a step of STEPS[0]
    may overshoot it into a further band (where an end lies within STEPS[0] of a share of 0 or 1)."""
    steps = [min(1.0, max(0.0, end + sign * 10.0 ** -k)) for k in range(12, 6, -1)]
    return next((w for w in winners(decision.evaluate([with_weights(profile, weights_at(current, criterion, t)[0])
                                                      for t in steps])) if w != winner), None)


def check_weight_bands(ev: decision.Evaluation, sens: Sensitivity) -> int:
    """Inside every band the engine keeps the winner; just past an end it recommends the option reported there.

    A band holds over the shares its one raw weight reaches (0 to 1,000, the others as written); an end it names an
    option past is reached by an allowed value of that weight. Returns how many band ends were confirmed past their end.
    """
    profile = profile_to_mapping(ev.profiles, 0)
    winner = sens.recommendation
    current = ev.scored.weights[0]
    raw = dict(zip(CRITERIA, (float(profile[f]) for f in WEIGHT_FIELDS), strict=True))
    inside, past = [], []
    for criterion, band in sens.weights.items():
        others = sum(raw.values()) - raw[criterion]
        # the shares it reaches alone: from 0 to its share at 1,000; only its own where it is the only weight above 0
        bottom, top = (0.0, WEIGHT_MAX / (WEIGHT_MAX + others)) if others > 0 else (band.weight, band.weight)
        for t in {band.low, band.high, band.weight, (band.low + band.weight) / 2, (band.high + band.weight) / 2}:
            inside.append(with_weights(profile, weights_at(current, criterion, min(max(t, bottom), top))[0]))
        assert band.below is None or others > 0, (criterion, band)
        assert band.above is None or (others > 0 and band.raw_high <= WEIGHT_MAX), (criterion, band)
        for end, option, sign in ((band.low, band.below, -1), (band.high, band.above, +1)):
            if option is not None:
                steps = [min(1.0, max(0.0, end + sign * s)) for s in STEPS]
                past.append((criterion, option, end, sign,
                             [with_weights(profile, weights_at(current, criterion, t)[0]) for t in steps]))
    ev_in = decision.evaluate(inside)
    for j, got in enumerate(winners(ev_in)):
        assert got == winner or score_of(ev_in, j, got) - score_of(ev_in, j, winner) < RESOLUTION, inside[j]
    if not past:
        return 0
    ev_past = decision.evaluate([m for *_, ms in past for m in ms])
    got = winners(ev_past)
    confirmed = 0
    for n, (criterion, option, end, sign, _) in enumerate(past):
        for s in range(len(STEPS)):
            j = n * len(STEPS) + s
            rivals = np.delete(ev_past.scored.columns["score"][j], OPTIONS.index(winner))
            lead = score_of(ev_past, j, winner) - np.nanmax(rivals) if np.isfinite(rivals).any() else np.inf
            if got[j] == winner and lead < RESOLUTION:
                continue  # still within the engine's resolution of the end: step further
            assert got[j] != winner, (criterion, s, sens.weights[criterion])
            if s == 0 and got[j] != option and abs(score_of(ev_past, j, got[j]) - score_of(ev_past, j, option)) >= RESOLUTION:
                # the first step overshot: a further end lies within STEPS[0] of this one (ends near a share of 0 or 1)
                assert first_past(profile, current, criterion, end, sign, winner) == option, (criterion, sens.weights[criterion])
            confirmed += 1
            break
    return confirmed


def check_tie(ev: decision.Evaluation, j: int, flip: FlipPoint, winner: str) -> None:
    """A flip is called a tie exactly when, at its value, the new winner only ties today's winner's score."""
    col = OPTIONS.index(winner)
    tied = bool(ev.scored.columns["feasible"][j, col]) and \
        round(score_of(ev, j, flip.option), SCORE_DECIMALS) == round(score_of(ev, j, winner), SCORE_DECIMALS)
    assert (flip.tie is not None) == tied, flip
    assert ("draws level" in flip.text) == tied and ("takes over" in flip.text or "wins if" in flip.text) != tied, flip
    if tied:
        assert flip.tie == ev.tie(j) or ev.recommendations.loc[j, "runner_up"] != winner, flip


def check_flip_points(ev: decision.Evaluation, sens: Sensitivity) -> None:
    """At each reported value the engine recommends the reported option; at the value before, still today's winner."""
    if not sens.flip_points:
        return
    profile = profile_to_mapping(ev.profiles, 0)
    at = [{**profile, f.field: f.value} for f in sens.flip_points]
    before = [{**profile, f.field: f.before} for f in sens.flip_points]
    ev_flips = decision.evaluate(at + before)
    got = winners(ev_flips)
    for k, flip in enumerate(sens.flip_points):
        assert got[k] == flip.option != sens.recommendation, flip
        assert got[len(at) + k] == sens.recommendation, flip
        if flip.option is not None:
            check_tie(ev_flips, k, flip, sens.recommendation)


def catalog_with_price(ca_id: str, key: str, price: float) -> Catalog:
    base = default_catalog()
    cas = tuple(dataclasses.replace(c, prices={**c.prices, key: price}) if c.id == ca_id else c for c in base.cas)
    return dataclasses.replace(base, cas=cas)


def check_price_flips(ev: decision.Evaluation, sens: Sensitivity) -> None:
    """A catalog with the reported price gives the reported option; with the price before, today's winner."""
    profile = profile_to_mapping(ev.profiles, 0)
    for flip in sens.price_flips:
        at = decision.evaluate(profile, catalog=catalog_with_price(flip.ca, flip.price, flip.value))
        before = decision.evaluate(profile, catalog=catalog_with_price(flip.ca, flip.price, flip.before))
        assert winners(at)[0] == flip.option != sens.recommendation, flip
        assert winners(before)[0] == sens.recommendation, flip
        if flip.option is not None:
            check_tie(at, 0, flip, sens.recommendation)


@pytest.fixture(scope="module", params=EXAMPLES, ids=lambda p: p.stem)
def example(request) -> tuple[decision.Evaluation, Sensitivity]:
    ev = decision.evaluate(request.param)
    return ev, analyse(ev, 0)


def test_example_weight_bands_hold_inside_and_flip_just_outside(example):
    ev, sens = example
    assert set(sens.weights) == set(CRITERIA)
    for band in sens.weights.values():
        assert 0 <= band.low <= band.weight <= band.high <= 1
    check_weight_bands(ev, sens)


def test_example_flip_points_and_price_flips_are_what_the_engine_does(example):
    ev, sens = example
    check_flip_points(ev, sens)
    check_price_flips(ev, sens)


def test_small_office_is_a_close_call_that_a_few_more_phones_or_a_lower_reconfiguration_weight_flip():
    ev = decision.evaluate(ROOT / "data/profiles/small-office.yaml")
    sens = analyse(ev, 0)
    assert sens.recommendation == "wildcard" and sens.close_call
    assert ev.recommendations.loc[0, "close_call"]
    phones = next(f for f in sens.flip_points if f.field == "mobile_devices" and f.direction == "up")
    assert (phones.before, phones.value, phones.option) == (phones.value - 1, phones.value, "srv_record")
    assert phones.text.startswith("Wildcard certificate stays best up to ")
    assert sens.weights["reconfiguration"].below == "srv_record"
    assert check_weight_bands(ev, sens) == 2  # cost up and reconfiguration down; trust and URL change would need a
    assert sens.weights["trust"].above is None is sens.weights["url_change"].above  # weight of 10^10: no limit


# a band end within STEPS[0] of a share of 0: cost's band ends at a share of 1.47e-7, below which wildcard wins up to
# ~7e-8 and san from there to 0 (a step of 1e-6 past the end landed in san's band)
NEAR_ZERO_END = {
    "org": "Org contoso.com", "exchange_version": "2007", "start": "2005-01-01", "horizon_years": 0.25,
    "external_domain": "contoso.com", "extra_domains": [], "internal_domain": "contoso.local",
    "servers": ["EX01", "EX02", "SERVER01"], "owa_host": "mail.contoso.com", "internal_names": True,
    "root_on_exchange": True, "split_dns": False, "users": 0, "desktops": 3, "domain_joined_share": 0.0,
    "mobile_devices": 2, "mdm_share": 0.0, "partner_tls": False, "internal_ca": False, "acme_ok": False,
    "dns_api": False, "spare_ip": False, "ca": "cheapest", "admin_rate": 0.0, "user_rate": 0.0,
    "weights": {"cost": 1.0, "trust": 1.19e-07, "reconfiguration": 0.0, "url_change": 1.0}}


@SETTINGS
@given(profiles())
@hypothesis.example(NEAR_ZERO_END)
def test_random_profiles_bands_and_flip_points_are_true(profile):
    ev = decision.evaluate(profile)
    sens = analyse(ev, 0)
    if sens.recommendation is None:
        assert not sens.weights and not sens.flip_points
        return
    check_weight_bands(ev, sens)
    check_flip_points(ev, sens)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(profiles())
def test_random_profiles_price_flips_are_true(profile):
    ev = decision.evaluate(profile)
    check_price_flips(ev, analyse(ev, 0))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(profiles(), min_size=1, max_size=6))
def test_dominated_flag_agrees_with_a_direct_pairwise_check(batch):
    ev = decision.evaluate(batch)
    cols = ev.scored.columns
    better = {"cost_total": -1, "trust": 1, "devices_to_reconfigure": -1, "users_url_change": -1}
    for i in range(len(batch)):
        rows = ev.options.iloc[i * 7:(i + 1) * 7]
        for x in range(7):
            beaten_by = [y for y in range(7) if cols["feasible"][i, x] and cols["feasible"][i, y]
                         and all(s * cols[c][i, y] >= s * cols[c][i, x] for c, s in better.items())
                         and any(s * cols[c][i, y] > s * cols[c][i, x] for c, s in better.items())]
            assert bool(rows["dominated"].iloc[x]) == bool(beaten_by)
            if beaten_by:
                best = min(beaten_by, key=lambda y: cols["rank"][i, y])
                assert rows["dominated_by"].iloc[x] == OPTIONS[best]
            else:
                assert rows["dominated_by"].isna().iloc[x]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(profiles(), min_size=1, max_size=6), st.data())
def test_batch_columns_are_the_per_profile_analytics(batch, data):
    ev = decision.evaluate(batch)
    columns = batch_columns(ev.scored)
    assert list(columns.columns) == ["margin", "close_call", "nearest_flip", "nearest_flip_distance"]
    assert columns["close_call"].tolist() == ev.recommendations["close_call"].tolist()
    np.testing.assert_allclose(columns["margin"], ev.recommendations["margin"].astype(float), equal_nan=True)
    i = data.draw(st.integers(0, len(batch) - 1))
    alone = decision.evaluate(batch[i])
    assert batch_columns(alone.scored).iloc[0]["nearest_flip"] == columns.iloc[i]["nearest_flip"]
    sens = analyse(ev, i)
    raw = dict(zip(CRITERIA, ev.profiles.iloc[i][list(WEIGHT_FIELDS)].astype(float), strict=True))
    alone = {c for c in CRITERIA if sum(raw.values()) - raw[c] <= 0}  # the only weight above 0 moves no share
    sides = [(b.weight - b.low, c, b.raw_low, b.below, True) for c, b in sens.weights.items()
             if b.below and c not in alone]
    sides += [(b.high - b.weight, c, b.raw_high, b.above, False) for c, b in sens.weights.items()
              if b.above and c not in alone and b.raw_high <= 1000]  # a weight is at most 1,000
    if not sides:
        assert columns.iloc[i]["nearest_flip"] == "" and np.isnan(columns.iloc[i]["nearest_flip_distance"])
        return
    nearest = min(side[0] for side in sides)  # on a tie, a lowering before a raising, then in criterion order
    distance, criterion, end, option, lowered = next(side for side in sides if side[0] <= nearest + SAME_DISTANCE)
    assert columns.iloc[i]["nearest_flip_distance"] == pytest.approx(distance)
    assert columns.iloc[i]["nearest_flip"].startswith(f"w_{criterion} {raw[criterion]:.3f} → ")  # the weight as written
    # its value then, the others as written, to the thousandth just past the flip point (below it when lowered)
    past = (math.ceil(end * 1000) - 1 if lowered else math.floor(end * 1000) + 1) / 1000
    assert columns.iloc[i]["nearest_flip"].endswith(f"→ {min(max(past, 0.0), 1000.0):.3f}: {option}")


def test_close_call_follows_the_parameter(tmp_path):
    byod = ROOT / "data/profiles/midsize-byod.yaml"
    assert analyse(decision.evaluate(byod), 0).close_call  # margin 0.14 points: under 10 % of the winner's score
    data = yaml.safe_load((ROOT / "data/parameters.yaml").read_text())
    data["parameters"]["close_call_share"]["value"] = 0.0001
    (tmp_path / "parameters.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    ev = decision.evaluate(byod, parameters=load_parameters(tmp_path / "parameters.yaml"))
    assert not analyse(ev, 0).close_call and not ev.recommendations.loc[0, "close_call"]


def test_weights_at_rescales_the_others_proportionally_and_raw_band_matches():
    w = weights_at(np.array([4.0, 3.0, 2.0, 1.0]), "trust", 0.5)[0]
    np.testing.assert_allclose(w, [0.5 * 4 / 7, 0.5, 0.5 * 2 / 7, 0.5 * 1 / 7])
    np.testing.assert_allclose(weights_at(np.array([0.0, 1.0, 0.0, 0.0]), "trust", 0.4)[0], [0.2, 0.4, 0.2, 0.2])
    low, high = raw_band(0.25, 0.75, others=6.0)  # raw weight x with the others summing to 6: x / (x + 6)
    assert (low / (low + 6), high / (high + 6)) == pytest.approx((0.25, 0.75))
    assert raw_band(0.25, 1.0, others=6.0)[1] == float("inf")


def test_price_hook_is_off_by_default_and_equals_a_changed_catalog():
    ev = decision.evaluate(ROOT / "data/profiles/small-office.yaml")
    params, catalog = default_parameters(), default_catalog()
    plain = score_frame(ev.profiles, params, catalog)
    hooked = score_frame(ev.profiles, params, catalog, prices={("sectigo", "wildcard"): np.array([200.0])})
    changed = score_frame(ev.profiles, params, catalog_with_price("sectigo", "wildcard", 200.0))
    np.testing.assert_array_equal(plain.columns["cost_total"], ev.scored.columns["cost_total"])
    np.testing.assert_array_equal(hooked.columns["cost_total"], changed.columns["cost_total"])
    assert not np.array_equal(hooked.columns["cost_total"], plain.columns["cost_total"])


def test_json_carries_the_sensitivity_and_dominance():
    ev = decision.evaluate(ROOT / "data/profiles/contoso-2026.yaml")
    data = json.loads(render(ev, "json"))
    sens = data["sensitivity"]
    assert set(sens["weights"]) == set(CRITERIA)
    for band in sens["weights"].values():
        assert {"weight", "low", "high"} <= set(band) and band["low"] <= band["weight"] <= band["high"]
    assert sens["margin"] == pytest.approx(data["recommendation"]["margin"], abs=0.005)
    assert sens["close_call"] is data["recommendation"]["close_call"] is False
    assert all({"field", "value", "option", "text"} <= set(f) for f in sens["flip_points"] + sens["price_flips"])
    horizon = next(f for f in sens["flip_points"] if f["field"] == "horizon_years")
    assert horizon["option"] == "san" and horizon["value"] < horizon["before"] < 3
    by_option = {o["option"]: o for o in data["options"]}
    assert by_option["san"]["dominated"] and by_option["san"]["dominated_by"] == "acme"
    assert not by_option["acme"]["dominated"] and by_option["acme"]["dominated_by"] is None


def test_tornado_frame_orders_factors_by_the_nearest_flip():
    ev = decision.evaluate(ROOT / "data/profiles/small-office.yaml")
    frame = tornado_frame(analyse(ev, 0))
    first = frame.groupby("factor", sort=False)["reach"].min()
    assert first.is_monotonic_increasing
    assert first.index[0] == "mobile devices"  # 18 → 54 phones is the smallest move in its range
    flips = frame[frame["flip"]]
    assert flips["text"].str.len().gt(0).all() and flips["option"].notna().all()
    assert (frame.loc[frame["side"] == "lower", "position"] <= 0).all()
    assert (frame.loc[frame["side"] == "higher", "position"] >= 0).all()


def test_tornado_price_factors_name_the_ca_as_its_flip_sentences_do_and_a_new_name_moves_no_bar():
    """A price factor names its CA by the short name (QA s14 B judgement D: 'sectigo SAN price' showed the catalog
    id), the one its flip sentence gives; factors as near keep their order whatever the CA is called."""
    profile = {**yaml.safe_load((ROOT / "data/profiles/small-office.yaml").read_text()), "acme_ok": False}
    frame = tornado_frame(analyse(decision.evaluate(profile), 0))
    prices = frame[frame["kind"] == "price"]
    assert set(prices["factor"]) == {"Sectigo SAN price", "Sectigo single-name price", "Sectigo wildcard price"}
    assert prices["flip"].any() and all("Sectigo's" in t for t in prices.loc[prices["flip"], "text"])
    base = default_catalog()
    renamed = dataclasses.replace(base, cas=tuple(dataclasses.replace(c, name="Aardvark Trust (Sectigo)")
                                                  if c.id == "sectigo" else c for c in base.cas))
    again = tornado_frame(analyse(decision.evaluate(profile, catalog=renamed), 0))
    assert set(again.loc[again["kind"] == "price", "factor"]) == {
        "Aardvark Trust SAN price", "Aardvark Trust single-name price", "Aardvark Trust wildcard price"}
    assert all("Aardvark Trust's" in t for t in again.loc[(again["kind"] == "price") & again["flip"], "text"])
    pd.testing.assert_frame_equal(again.drop(columns=["factor", "text"]), frame.drop(columns=["factor", "text"]))


CONTOSO_2026 = yaml.safe_load((ROOT / "data/profiles/contoso-2026.yaml").read_text())
NORTHWIND = {"org": "Northwind", "exchange_version": "2019", "start": "2026-12-01", "horizon_years": 5,
             "external_domain": "northwind.com", "extra_domains": ["northwind.net"],
             "servers": ["NW-EX1", "NW-EX2", "NW-EX3"], "users": 2000, "desktops": 1800, "domain_joined_share": 0.95,
             "mobile_devices": 1500, "mdm_share": 0.9, "partner_tls": True, "internal_ca": True, "acme_ok": True,
             "dns_api": True, "ca": "cheapest", "currency": "EUR"}


def test_free_labour_is_no_flip_where_the_option_with_fewer_issuances_keeps_the_tie():
    # QA: "at an admin rate of 0 EUR/hour, Wildcard certificate takes over" was only the option order breaking an
    # exact tie; the tie now goes to ACME's fewer issuances, so nothing changes down to 0
    ev = decision.evaluate(NORTHWIND)
    sens = analyse(ev, 0)
    assert sens.recommendation == "acme"
    assert not [f for f in sens.flip_points if f.field == "admin_rate"]
    assert next(s for s in sens.searched if s["field"] == "admin_rate" and s["direction"] == "down")["limit"] == 0
    assert [f.text for f in sens.flip_points] == [
        "ACME, automated stays best down to an 11.3-month horizon; at an 11.1-month horizon, SAN / UCC certificate takes "
        "over."]
    free = decision.evaluate({**NORTHWIND, "admin_rate": 0})
    check_weight_bands(free, analyse(free, 0))
    check_flip_points(free, analyse(free, 0))


def test_a_flip_that_is_only_a_tie_broken_by_the_option_order_is_not_called_a_takeover():
    ev = decision.evaluate({**CONTOSO_2026, "dns_api": True})
    sens = analyse(ev, 0)
    rate = next(f for f in sens.flip_points if f.field == "admin_rate")
    assert (rate.before, rate.value, rate.option, rate.tie) == (1, 0, "wildcard", "order")
    assert rate.text == ("ACME, automated stays best down to an admin rate of USD 1 an hour; at an admin rate of "
                         "USD 0 an hour, Wildcard certificate draws level with it (an exact tie on score) and is ranked "
                         "first only because it comes first in the fixed order of the options.")
    assert json.loads(render(ev, "json"))["sensitivity"]["flip_points"][1]["tie"] == "order"
    check_flip_points(ev, sens)


def test_a_price_flip_that_starts_with_a_tie_says_so_and_that_the_option_wins_beyond_it():
    # over 4 years at 60 USD/h the SAN costs 3885 and the wildcard 4 x price + 3110: level at 193.75 (worked out in
    # test_views' tie test; over 3 years the tie of 111.25 went when the renewals came to reuse domain validation)
    ev = decision.evaluate({**CONTOSO_2026, "acme_ok": False, "horizon_years": 4, "admin_rate": 60})
    sens = analyse(ev, 0)
    flip = next(f for f in sens.price_flips if f.price == "wildcard" and f.direction == "up")
    assert (flip.before, flip.value, flip.option, flip.tie) == (193.74, 193.75, "san", "order")
    assert flip.text == ("If Sectigo's wildcard price rises from USD 77.00 to USD 193.75, SAN / UCC certificate draws "
                         "level with Wildcard certificate (an exact tie on score, ranked first as it comes first in the "
                         "fixed order of the options) and wins above that (Wildcard certificate still wins at USD 193.74).")
    above = decision.evaluate(profile_to_mapping(ev.profiles, 0), catalog=catalog_with_price("sectigo", "wildcard", 193.76))
    assert winners(above) == ["san"] and above.tie(0) is None
    check_price_flips(ev, sens)


def test_a_horizon_flip_under_two_years_reads_in_months():
    """QA: "stays best down to a 0.75-year horizon" read awkwardly in a client document: under two years, a horizon that
    is not whole years is written in months (to a tenth: the search moves in hundredths of a year). QA 14 B: the flip
    at 0.74 years (8.88 months) read "at an 8.9-month horizon", where ACME still wins: it is rounded away from the side
    that holds (8.8), and `test_a_flip_shown_rounded_still_flips` evaluates it."""
    sens = analyse(decision.evaluate(ROOT / "data/profiles/contoso-2026.yaml"), 0)
    assert [f.text for f in sens.flip_points] == [
        "ACME, automated stays best down to a 9-month horizon; at an 8.8-month horizon, SAN / UCC certificate takes over."]
    horizon = FLIP_FIELDS["horizon_years"]
    assert [_phrase(horizon, v, "USD") for v in (0.25, 0.37, 0.92, 1, 1.5, 1.99, 2, 2.5, 8, 8.25, 10)] == [
        "a 3-month horizon", "a 4.4-month horizon", "an 11-month horizon", "a 1-year horizon", "an 18-month horizon",
        "a 23.9-month horizon", "a 2-year horizon", "a 2.5-year horizon", "an 8-year horizon", "an 8.25-year horizon",
        "a 10-year horizon"]


W3 = {**CONTOSO_2026, "w_cost": 3.0, "w_trust": 0.3, "w_reconfiguration": 0.2, "w_url_change": 0.1}  # QA 13 B fault 1


def test_a_weight_flip_no_allowed_weight_reaches_is_no_limit_in_the_json_the_sentences_the_caption_and_the_tornado():
    # QA: URL change "holds for 0.00–2988873813.11; above: ACME" and "between 0.0% and 100.0%": ACME only ties on
    # URL changes where every other weight is 0, and the field stops at 1,000
    ev = decision.evaluate(W3)
    assert winners(decision.evaluate({**W3, "w_url_change": WEIGHT_MAX})) == ["internal_ca"] == winners(ev)
    sens = analyse(ev, 0)
    band = sens.weights["url_change"]
    assert (band.high, band.above, band.raw_high) == (1.0, None, math.inf)
    assert sens.to_json()["weights"]["url_change"] == {"weight": round(band.weight, 6), "low": 0.0, "high": 1.0,
                                                       "below": None, "above": None, "raw_low": 0.0, "raw_high": None}
    assert "No change of the URL change weight alone (now 2.8%) changes the recommendation." in sens.sentences()
    assert not any("URL change weight stays" in s for s in sens.sentences())
    assert views.band_captions(sens)["w_url_change"] == "Recommendation holds for 0.00 and up (no limit) (other weights fixed)"
    tornado = tornado_frame(sens)
    assert not tornado[(tornado["factor"] == "weight: URL change") & tornado["flip"]].size
    assert sens.weights["trust"].above == "acme"  # a flip within reach stays
    assert check_weight_bands(ev, sens) >= 3


def test_a_weight_that_is_the_only_one_above_0_names_no_option_below_it():
    # it cannot move its share alone: lowered, it stays 100% (0 would leave no weight at all, which is refused)
    # (on the normalised path, where the others share what it leaves equally, ACME takes over below some share)
    ev = decision.evaluate({**CONTOSO_2026, "w_cost": 1, "w_trust": 0, "w_reconfiguration": 0, "w_url_change": 0})
    sens = analyse(ev, 0, flips=False)
    band = sens.weights["cost"]
    assert sens.recommendation == "internal_ca" and (band.weight, band.low, band.below, band.above) == (1.0, 0.0, None, None)
    assert "No change of the cost weight alone (now 100.0%) changes the recommendation." in sens.sentences()
    assert views.band_captions(sens)["w_cost"] == "Recommendation holds for 0.00 and up (no limit) (other weights fixed)"
    assert check_weight_bands(ev, sens) == 2  # trust or reconfiguration raised: ACME (URL change: only in the limit)


def test_a_flip_reached_only_at_a_weight_of_0_is_kept():
    # synth seed 1, row 934: at w_trust 0 the wildcard wins the score tie that SAN wins at any trust weight above 0
    profile = {"org": "Summit Foods BV", "exchange_version": "2007", "start": "2013-07-27", "horizon_years": 3,
               "external_domain": "summitfoods934.net", "internal_domain": "corp.summitfoods934.net",
               "servers": ["MAIL01", "MAIL02", "MAIL03"], "internal_names": True, "root_on_exchange": False,
               "split_dns": True, "users": 39003, "desktops": 36819, "domain_joined_share": 0.93,
               "mobile_devices": 13125, "mdm_share": 0.4, "partner_tls": True, "internal_ca": True, "acme_ok": False,
               "dns_api": True, "spare_ip": False, "ca": "cheapest", "currency": "EUR", "admin_rate": 99.0,
               "w_cost": 0.0, "w_trust": 0.1, "w_reconfiguration": 0.84, "w_url_change": 0.06}
    ev = decision.evaluate(profile)
    band = analyse(ev, 0, flips=False).weights["trust"]
    assert winners(ev) == ["san"] and winners(decision.evaluate({**profile, "w_trust": 0.0})) == ["wildcard"]
    assert band.below == "wildcard" and 0 < band.raw_low < 1e-9
    assert batch_columns(ev.scored)["nearest_flip"].iloc[0] == "w_trust 0.100 → 0.000: wildcard"


# ------------------------------------------------------- a flip value shown rounded still flips (QA 14 B judgement A)
def shown(axis_kind: str, phrase: str) -> float:
    """The value a flip sentence shows, in the field's units: '8.8-month horizon' → 0.7333 years, '12.5%' → 0.125."""
    number = float(re.search(r"[0-9][0-9,.]*", phrase)[0].replace(",", "").rstrip("."))
    if axis_kind == "years":
        return number / 12 if "-month" in phrase else number
    return number / 100 if axis_kind == "share" else number


SHOWN_CASES = {**{p.stem: yaml.safe_load(p.read_text()) for p in EXAMPLES}, "northwind": NORTHWIND,
               **{f"contoso-2026 over {h} years": {**CONTOSO_2026, "horizon_years": h} for h in (0.75, 1.3, 1.75)},
               "small-office over 1.5 years": {**yaml.safe_load((ROOT / "data/profiles/small-office.yaml").read_text()),
                                               "horizon_years": 1.5}}


@pytest.mark.parametrize("case", SHOWN_CASES)
def test_a_flip_shown_rounded_still_flips(case):
    """Every field flip's sentence: at the value it shows the engine recommends the option it names, and at the value
    it says today's winner stays best to, today's winner (months are shown to a tenth, away from the other side); the
    tornado's weight flips likewise at the weight they show."""
    ev = decision.evaluate(SHOWN_CASES[case])
    sens = analyse(ev, 0)
    profile = profile_to_mapping(ev.profiles, 0)
    at, kept = [], []
    for f in sens.flip_points:
        kind = FLIP_FIELDS[f.field].kind
        said = re.fullmatch(r".* stays best (?:up|down) to (.+?); at (.+?), .*", f.text)
        kept.append({**profile, f.field: shown(kind, said[1])})
        at.append({**profile, f.field: shown(kind, said[2])})
    tornado = tornado_frame(sens)
    weights = tornado[(tornado["kind"] == "weight") & tornado["flip"]]
    for row in weights.itertuples():
        criterion = next(c for c in CRITERIA if row.factor.endswith(CRITERION_NAMES[c]))
        share = float(re.search(r"→ ([0-9.]+)%", row.text)[1]) / 100
        at.append(with_weights(profile, weights_at(ev.scored.weights[0], criterion, share)[0]))
    if not at:
        return
    got = winners(decision.evaluate(at + kept))
    expected = [f.option for f in sens.flip_points] + list(weights["option"])
    assert got[:len(at)] == expected, [f.text for f in sens.flip_points] + list(weights["text"])
    assert got[len(at):] == [sens.recommendation] * len(kept)
