"""Decision analytics: how sure the recommendation is, and what would have to change to flip it.

- Weight bands, exact. Scores are linear in the normalised weights (the max–min normalisation does not
  depend on them). Moving one criterion's normalised weight to t and rescaling the others proportionally
  (`weights_at`) makes every option's score a line in t, so the band where the winner stays the winner is
  an intersection of half-lines. The engine's tie rule is applied: scores within `TIE` of each other are
  equal (they round to the same 9 decimals) and the tie goes to the lower tco, then fewer certificate issuances,
  fewer certificates, the option order (scoring.TIE_BREAKS).
  Moving one raw weight while the others stay is the same path, so the band maps to raw slider units; an end that
  no allowed value of that weight reaches (above the field's maximum, or any move of the only weight above 0) is no
  limit, with no option past it.
- Flip points, in the profile's own terms (counts, shares, horizon, admin rate) and in CA prices. The
  model is piecewise and the normalisation makes it non-linear, so the engine is run on a lattice of
  values (whole devices and users, 0.1 % shares, 0.01 years, whole money per hour, cents): a geometric
  grid from the current value to the end of the range, then bisection inside the first bracket whose
  end changes the winner, every round one `score_frame` call for all searches together. A reported
  flip is exact on its lattice: at `value` the engine recommends `option`, at `before` (the neighbouring
  lattice value, or the current value) it still recommends today's winner. Where `option` only ties today's
  winner's score at `value` and is ranked first by the tie-break, the flip says so (`tie`). A flip that reverts between
  two grid points of the first round can be missed. Unbounded counts are searched up to
  max(10 × the current value, 100 000); prices down to 0 and up to 10 × the current price.
- Batch columns, vectorised over all profiles: margin, close call and the nearest weight flip.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from decision.catalog import Catalog
from decision.dates import horizon_adjective
from decision.engine import Evaluation, Scored, score_frame
from decision.explain import OPTION_PRODUCTS, PRODUCT_WORDS, TIE_REASONS
from decision.options import LABELS, OPTIONS
from decision.profiles import FIELD_BY_NAME, WEIGHT_FIELDS
from decision.scoring import (
    CRITERIA,
    CRITERION_NAMES,
    SCORE_DECIMALS,
    TIE_BREAKS,
    count_true,
    first_true,
    tie_break,
    weighted_sum,
)
from decision.textops import fixed3

TIE = 0.5 * 10.0 ** -SCORE_DECIMALS  # a score gap the engine's rounding may treat as a tie
FLAT = 1e-12  # score points per unit of weight below which a gap does not move with the weight
SAME_DISTANCE = 1e-12  # weight: flips this close to the nearest one are as near (their difference is rounding)
BAND_BLOCK = 8192  # profiles whose bands are worked out together: their options × profiles arrays stay in cache
COUNT_CAP, COUNT_CAP_FACTOR = 100_000, 10  # counts are searched up to max(10 × current, 100 000)
PRICE_CAP_FACTOR = 10  # prices are searched up to 10 × the current price
FIRST_ROUND = 32  # geometric grid points per search in the first round
REFINE = 64  # points per bracket in each later round
_PRICE_OF = {"san": "san_base"}  # a product's price key (catalog.PRICE_KEYS) where it is not the product's name
PRICE_KEY = {option: _PRICE_OF.get(product, product) for option, (product, _) in OPTION_PRODUCTS.items()}
PRICE_LABELS = {_PRICE_OF.get(product, product): words for product, words in PRODUCT_WORDS.items()}


@dataclass(frozen=True)
class Axis:
    """A numeric profile field the flip search moves, on a lattice of `step`."""

    step: float
    decimals: int
    kind: str  # count | share | years | rate | price
    label: str  # the factor in a chart
    noun: str  # the value in a sentence


FLIP_FIELDS: dict[str, Axis] = {
    "mobile_devices": Axis(1, 0, "count", "mobile devices", "mobile devices"),
    "users": Axis(1, 0, "count", "mailbox users", "mailbox users"),
    "desktops": Axis(1, 0, "count", "Outlook desktops", "Outlook desktops"),
    "domain_joined_share": Axis(0.001, 3, "share", "domain-joined share", "of desktops domain-joined"),
    "mdm_share": Axis(0.001, 3, "share", "MDM share", "of mobile devices under MDM"),
    "horizon_years": Axis(0.01, 2, "years", "horizon", "horizon"),
    "admin_rate": Axis(1, 0, "rate", "admin rate", "admin rate"),
}
PRICE_AXIS = Axis(0.01, 2, "price", "price", "price")
NOTES = (f"Weight bands are exact: each criterion's normalised weight moves with the others rescaled proportionally; "
         f"a band ends only where that one weight can take it, the others as written (a weight up to "
         f"{FIELD_BY_NAME[WEIGHT_FIELDS[0]].high:g}); an end no such weight reaches is no limit; "
         f"scores within {TIE:.0e} points tie and the tie goes to the lower tco, then fewer certificate issuances, "
         "fewer certificates, the option order.",
         "Flip points are the nearest change found on a lattice (whole devices and users, 0.1 % shares, 0.01 years, "
         "whole money per hour, cents of a price) by a geometric grid and bisection on the engine; at `value` the "
         "engine recommends `option`, at `before` today's winner; `tie` names the tie-break (tco, issuances, "
         "certificates, order) where `option` only ties today's winner's score at `value`. A flip that reverts between "
         "two grid points may be missed.",
         f"Ranges searched: counts from 0 to max({COUNT_CAP_FACTOR} × the current value, {COUNT_CAP:,}); shares, horizon "
         f"and admin rate over their valid range; a CA price from 0 to {PRICE_CAP_FACTOR} × the current price (the "
         "price of extra SAN names stays). One value changes at a time; the others keep their validated values.")


# ------------------------------------------------------------------------------ weight bands

def weights_at(weights: np.ndarray, criterion: str, t: float | np.ndarray) -> np.ndarray:
    """Normalised weights with `criterion` set to t and the others rescaled proportionally (rows × 4).

    When the other weights are all 0 they share 1 − t equally. This is the path the weight bands are measured on.
    """
    w = np.atleast_2d(np.asarray(weights, dtype=float))
    return _moved((w / w.sum(axis=1, keepdims=True)).T, CRITERIA.index(criterion), t).T


def _moved(w: np.ndarray, c: int, t: float | np.ndarray) -> np.ndarray:
    """`weights_at` of weights already scaled to sum to 1, laid out criteria × rows (4 × n), for criterion `c`."""
    rest, share = _others_shares(w, c)
    out = np.empty(w.shape)
    out[rest] = share * (1.0 - np.asarray(t, dtype=float))
    out[c] = t
    return out


def _others_shares(w: np.ndarray, c: int) -> tuple[list[int], np.ndarray]:
    """The criteria other than `c` and their shares of the weight `c` leaves (`weights_at` at t = 0; 1/3 each where
    they are all 0), for weights already scaled to sum to 1, criteria × rows."""
    rest = [j for j in range(len(w)) if j != c]
    total = w[rest].sum(axis=0)
    return rest, np.where(total > 0, w[rest] / np.where(total > 0, total, 1.0), 1.0 / len(rest))


@dataclass
class Bands:
    """Per criterion and profile (arrays 4 × n): the current normalised weight, the band [low, high] over which the
    recommendation stays, and the option that takes over just below / above it (column index, -1 = none)."""

    weight: np.ndarray
    low: np.ndarray
    high: np.ndarray
    below: np.ndarray
    above: np.ndarray


def _takeover(bound: np.ndarray, end: np.ndarray, slope: np.ndarray, places: np.ndarray,
              has_flip: np.ndarray, rising: bool = True) -> np.ndarray:
    """Among options whose bound is the band's end, the one ahead just past it: the steepest, then the tie-break.

    Arrays are options × profiles. `end` is the max (or min) of each profile's bounds, so a bound within 1e-12 of a
    finite end is finite: one option binds where a profile has a flip (the steepest), and the rare profiles where
    several do are decided among those, by their `places` in the tie-break order after the slope. Only the profiles
    with a flip are looked at (a minority for most criteria and sides); `rising` False: the steepest descent instead
    (the slope's negative).
    """
    flips = np.flatnonzero(has_flip)
    with np.errstate(invalid="ignore"):
        binding = np.abs(bound.take(flips, axis=1) - end[flips]) <= 1e-12
    pick = first_true(binding)
    tied = np.flatnonzero(count_true(binding) > 1)
    if len(tied):  # the steepest of the binding options, then the tie-break
        binding, at = binding[:, tied], flips[tied]
        steep = slope[:, at] if rising else np.negative(slope[:, at])
        first = binding & (steep == np.max(np.where(binding, steep, -np.inf), axis=0))
        pick[tied] = np.argmin(np.where(first, places[:, at], np.iinfo(np.int64).max), axis=0)
    out = np.full(len(has_flip), -1, dtype=np.int64)
    out[flips] = pick
    return out


def _reachable(low: np.ndarray, high: np.ndarray, others: np.ndarray, highest: float) -> tuple[np.ndarray, np.ndarray]:
    """The band ends `low`, `high` (shares) that moving the one raw weight reaches, the others (sum `others`) as they
    are; an end no allowed value reaches is no limit (−inf, +inf): a weight that is the only one above 0 moves no share
    alone, and a raised weight is at most the field's `highest` (a share a hair below 1 can need 10^11). A lowered
    weight reaches every share down to 0, at 0."""
    alone = others <= 0
    return (np.where(alone, -np.inf, low),
            np.where(alone | (raw_weight(high, others) > highest), np.inf, high))


def _score_at_zero(values: np.ndarray, criteria: list[int], w: np.ndarray) -> np.ndarray:
    """The scores at t = 0 of `values` (criteria first): 100 × Σ values[criteria[i]] · w[i], summed in criteria order as
    `scoring.scores` sums them (`weighted_sum`; the moved criterion's term, 0 · value = +0 at t = 0, is left out: it
    changes no sum of non-negative terms)."""
    total = weighted_sum((values[j], w[i]) for i, j in enumerate(criteria))
    return np.multiply(total, 100.0, out=total)


def raw_weights(scored: Scored) -> np.ndarray:
    """The profiles' raw weights (the sliders, w_*), per criterion and profile (4 × n)."""
    return np.stack([scored.frame[f].to_numpy(dtype=float) for f in WEIGHT_FIELDS])


def weight_bands(scored: Scored) -> Bands:
    """Exact stability bands of every profile's recommendation, for each criterion's normalised weight, as far as
    the one raw weight can move it (`_reachable`): past an end no allowed value reaches, no option takes over.

    Worked out BAND_BLOCK profiles at a time, on options × profiles arrays (`_block_bands`)."""
    n = len(scored.winner)
    shape = (len(CRITERIA), n)
    out = Bands(np.ascontiguousarray(scored.weights.T), np.empty(shape), np.empty(shape),
                np.empty(shape, dtype=np.int64), np.empty(shape, dtype=np.int64))
    raw = raw_weights(scored)
    others = raw.sum(axis=0) - raw  # the other raw weights, held fixed when one weight moves
    for start in range(0, n, BAND_BLOCK):
        rows = slice(start, start + BAND_BLOCK)
        _block_bands(scored, rows, others[:, rows], out)
    return out


def _block_bands(scored: Scored, rows: slice, others: np.ndarray, out: Bands) -> None:
    """`weight_bands` of the profiles `rows` into `out`, with options × profiles arrays (the profiles contiguous) and
    the winner's values gathered once."""
    winner = scored.winner[rows]
    n, k = len(winner), scored.normalised.shape[1]
    has = winner >= 0
    win = np.where(has, winner, 0)
    values = np.ascontiguousarray(scored.normalised[rows].transpose(2, 1, 0))  # (4, k, n)
    at_win = values[:, win, np.arange(n)]  # (4, n): the winner's
    places = scored.tie_order[:, rows]  # each option's place in the tie-break order, options × profiles
    ahead = places < places[win, np.arange(n)]  # of the winner in the tie-break order
    threshold = np.where(ahead, TIE, -TIE)  # the winner keeps the lead while gap > threshold
    rivals = scored.columns["feasible"][rows].T & (np.arange(k)[:, None] != win) & has
    weight = out.weight[:, rows]
    shares = weight / weight.sum(axis=0)  # as weights_at scales them
    for c in range(len(CRITERIA)):
        rest, w = _others_shares(shares, c)  # weights_at(scored.weights, criterion, 0.0), less the criterion's 0
        base, base_win = _score_at_zero(values, rest, w), _score_at_zero(at_win, rest, w)  # score at t = 0
        slope = np.multiply(values[c], 100.0)
        slope -= base  # score(t) = base + slope · t
        a = np.subtract(base_win, base, out=base)  # gap(t) = a + b · t, winner minus rival
        b = np.subtract(100.0 * at_win[c] - base_win, slope, out=slope)
        with np.errstate(divide="ignore", invalid="ignore"):
            bound = np.subtract(threshold, a, out=a)
            bound /= b  # where the gap reaches the threshold
        lower = np.where(rivals & (b > FLAT), bound, -np.inf)
        upper = np.where(rivals & (b < -FLAT), bound, np.inf)
        lo_raw, hi_raw = np.maximum.reduce(lower), np.minimum.reduce(upper)
        lo_raw, hi_raw = _reachable(lo_raw, hi_raw, others[c], FIELD_BY_NAME[WEIGHT_FIELDS[c]].high)
        out.low[c, rows] = np.where(has, np.minimum(np.clip(lo_raw, 0.0, 1.0), weight[c]), np.nan)
        out.high[c, rows] = np.where(has, np.maximum(np.clip(hi_raw, 0.0, 1.0), weight[c]), np.nan)
        out.below[c, rows] = _takeover(lower, lo_raw, b, places, has & (lo_raw > 0))
        out.above[c, rows] = _takeover(upper, hi_raw, b, places, has & (hi_raw < 1), rising=False)


def raw_weight(share: np.ndarray | float, others: np.ndarray | float) -> np.ndarray:
    """The raw weight (the slider, a profile's w_*) whose normalised share is `share`, the other raw weights (sum
    `others`) held fixed; infinite at a share of 1."""
    share = np.asarray(share, dtype=float)
    with np.errstate(invalid="ignore"):
        below_one = share < 1.0
        return np.where(below_one, share * others / np.where(below_one, 1.0 - share, 1.0), np.inf)


def raw_band(low: float, high: float, others: float) -> tuple[float, float]:
    """A normalised band as values of the raw weight (the slider), the other raw weights (sum `others`) held fixed."""
    if others <= 0:
        return 0.0, math.inf
    return float(raw_weight(low, others)), float(raw_weight(high, others))


# ------------------------------------------------------------------------------- batch columns

def _past_thousandths(end: np.ndarray, lower: np.ndarray, highest: np.ndarray | float) -> np.ndarray:
    """Flip points `end` in whole thousandths just past them: below where the weight is lowered (at least 0), above
    where it is raised (at most the field's `highest`, a whole number)."""
    thousandths = np.where(lower, np.ceil(end * 1000.0) - 1.0, np.floor(end * 1000.0) + 1.0)
    return np.clip(thousandths, 0.0, np.multiply(highest, 1000.0))


def _past(end: np.ndarray, lower: np.ndarray, highest: np.ndarray | float) -> np.ndarray:
    """Flip points `end` to the thousandth just past them (`_past_thousandths`)."""
    return _past_thousandths(end, lower, highest) / 1000.0


# ".523: san": a weight's thousandths and the option taking over, for every thousandth and option
_FLIP_ENDS = pa.array([f".{k:03d}: {o}" for k in range(1000) for o in OPTIONS])


def _weight_moved(c: np.ndarray, weight: np.ndarray) -> pa.Array:
    """"w_cost 0.400 → " per profile, for the criterion `c` and its raw `weight`: written once per distinct weight and
    criterion (a batch has few distinct weights; told apart by their bits, as -0.0 is written apart from 0.0)."""
    codes, distinct = pd.factorize(weight.view(np.int64))
    values = np.tile(distinct.view(np.float64), len(WEIGHT_FIELDS))  # every distinct weight for each criterion
    fields = pa.array([f"{f} " for f in WEIGHT_FIELDS]).take(np.repeat(np.arange(len(WEIGHT_FIELDS)), len(distinct)))
    return pc.binary_join_element_wise(fields, fixed3(values), " → ", "").take(c * len(distinct) + codes)


def batch_columns(scored: Scored) -> pd.DataFrame:
    """Per profile, cheap enough for any batch: margin (as in `recommendations`), close_call, the nearest weight
    flip as text ("w_cost 0.400 → 0.523: san", empty when no weight can flip it) and its distance in normalised weight.

    The flip is told in the profile's own weights: the value the one weight must be given, the others as written (as
    the app's sliders, `raw_band`), to the thousandth just past the flip point (a value that flips it, and never the
    weight itself at a near tie); only the flips the one weight can reach (`weight_bands`). Of flips at the same
    distance (to SAME_DISTANCE), a lowered weight comes before a raised one, then criteria in order.
    """
    margin, close = scored.margins
    bands = weight_bands(scored)
    profiles = np.arange(len(margin))
    with np.errstate(invalid="ignore"):  # no band (no recommendation): NaN
        below = np.where(bands.below >= 0, bands.weight - bands.low, np.inf)
        above = np.where(bands.above >= 0, bands.high - bands.weight, np.inf)
    both = np.concatenate([below, above])  # (8, n): lower sides, then upper sides
    with np.errstate(invalid="ignore"):
        pick = first_true(both <= np.minimum.reduce(both) + SAME_DISTANCE)
    distance = both[pick, profiles]
    found = np.isfinite(distance)
    c = pick % len(CRITERIA)
    lower = pick < len(CRITERIA)
    at = c * len(profiles) + profiles  # the flip's criterion, per profile, in the criteria × profiles arrays
    raw = raw_weights(scored)
    share = np.where(lower, bands.low.take(at), bands.high.take(at))
    end = np.where(found, raw_weight(share, raw.sum(axis=0) - raw.take(at)), 0.0)
    option = np.where(lower, bands.below.take(at), bands.above.take(at))
    highest = np.array([FIELD_BY_NAME[f].high for f in WEIGHT_FIELDS])
    past = _past_thousandths(end, lower, highest[c]).astype(np.int64)  # written as fixed3(past / 1000) writes it
    moves = pc.binary_join_element_wise(_weight_moved(c, np.where(found, raw.take(at), 0.0)),
                                        pc.cast(pa.array(past // 1000), pa.string()),
                                        _FLIP_ENDS.take(past % 1000 * len(OPTIONS) + np.where(found, option, 0)), "")
    text = pc.if_else(found, moves, "")
    return pd.DataFrame({"margin": np.round(margin, 2), "close_call": close,
                         "nearest_flip": pd.Series(text, dtype="str"),
                         "nearest_flip_distance": np.where(found, distance, np.nan)})


# -------------------------------------------------------------------------------- flip searches

def _fmt(kind: str, value: float, currency: str, rounding: int = 0) -> str:
    """A lattice value as sentences show it. Counts, shares (0.1 %), rates and prices (code first: 'USD 30.00',
    'USD 61 an hour') show it exactly; a horizon under two years is written in months to a tenth, rounded up
    (`rounding` +1), down (-1) or to the nearest (0)."""
    if kind == "count":
        return f"{value:,.0f}"
    if kind == "share":
        return f"{value:.1%}"
    if kind == "years":
        return _months(value, rounding) if rounding and value < 2 and value != int(value) else horizon_adjective(value)
    if kind == "rate":
        return f"{currency} {value:,.0f} an hour"
    return f"{currency} {value:,.2f}"  # money code first, as every amount (explain.money_text); a price to the cent


def _months(years: float, rounding: int) -> str:
    """'8.8-month': a horizon in months to a tenth, rounded up (`rounding` > 0) or down."""
    tenths = round(years * 120, 6)  # 0.75 years: 90.0 tenths, not 90.00000000000001
    return f"{(math.ceil(tenths) if rounding > 0 else math.floor(tenths)) / 10:g}-month"


def _phrase(axis: Axis, value: float, currency: str, rounding: int = 0) -> str:
    shown = _fmt(axis.kind, value, currency, rounding)
    if axis.kind == "count":
        return f"{shown} {axis.noun.removesuffix('s') if value == 1 else axis.noun}"
    if axis.kind == "share":
        return f"{shown} {axis.noun}"
    if axis.kind == "years":  # 'an' before eight, eleven and eighteen (an 8-year, an 11.3-month, an 18-month horizon)
        article = "an" if re.match(r"8|1[18]\D", shown) else "a"
        return f"{article} {shown} {axis.noun}"
    return f"an {axis.noun} of {shown}"


@dataclass
class _Search:
    """One bracketing + bisection search on a lattice, from the current value in one direction."""

    kind: str  # field | price
    key: str | tuple[str, str]
    direction: int  # +1 up, -1 down
    current: float
    limit: float
    axis: Axis
    first: int = 0  # lattice index of the first value past the current one
    count: int = 0  # lattice values between the current value and the limit
    keep: int = 0  # distance (in lattice values) known to keep the winner; 0 = the current value
    change: int | None = None  # first distance known to change it
    option: int = -1  # the winner there
    tie: int = -1  # index in TIE_BREAKS when that winner only ties today's winner's score there, else -1
    outright: bool = False  # after a tie: one lattice value further, the same option wins without a tie
    done: bool = False

    def __post_init__(self) -> None:
        here, end = round(self.current / self.axis.step, 6), round(self.limit / self.axis.step, 6)
        if self.direction > 0:
            self.first, last = math.floor(here) + 1, math.floor(end)
            self.count = max(0, last - self.first + 1)
        else:
            self.first, last = math.ceil(here) - 1, math.ceil(end)
            self.count = max(0, self.first - last + 1)

    def value(self, distance: int | np.ndarray) -> np.ndarray:
        return np.round((self.first + self.direction * (np.asarray(distance) - 1)) * self.axis.step, self.axis.decimals)

    def candidates(self) -> np.ndarray:
        if self.change is None:
            points = np.geomspace(1, self.count, min(self.count, FIRST_ROUND)) if self.count else np.array([])
        elif self.change - self.keep > 1:
            points = np.linspace(self.keep, self.change, REFINE + 2)[1:-1]
        else:
            points = np.array([])
        distances = np.unique(np.rint(points).astype(np.int64))
        distances = distances[(distances > self.keep) & (distances < (self.change or self.count + 1))]
        self.done = len(distances) == 0
        return distances

    def update(self, distances: np.ndarray, winners: np.ndarray, ties: np.ndarray, original: int) -> None:
        changed = np.flatnonzero(winners != original)
        if len(changed):
            first = changed[0]
            self.change, self.option, self.tie = int(distances[first]), int(winners[first]), int(ties[first])
            if first:
                self.keep = int(distances[first - 1])
        elif self.change is None:
            self.done = True  # no flip at any grid point up to the limit
        else:
            self.keep = int(distances[-1])


@dataclass(frozen=True)
class WeightBand:
    """How far one criterion's normalised weight can move (the others rescaled) before the recommendation changes."""

    criterion: str
    weight: float
    low: float
    high: float
    below: str | None  # the option recommended just below `low` (None: no flip the one weight reaches, `low` 0)
    above: str | None  # just above `high` (None: no flip the one weight reaches up to the field's maximum, `high` 1)
    raw_low: float  # the same band in the profile's raw weight units, the other raw weights held fixed
    raw_high: float


@dataclass(frozen=True)
class FlipPoint:
    """The nearest value of a profile field (or a CA price) at which the recommendation changes."""

    field: str  # profile field, or "price:<ca>:<price key>"
    direction: str  # up | down
    current: float
    value: float  # the engine recommends `option` here
    before: float  # ... and still today's winner here (the neighbouring lattice value or the current value)
    option: str | None
    text: str
    tie: str | None = None  # a TIE_BREAKS key: at `value`, `option` only ties today's winner's score and wins the tie
    ca: str | None = None
    price: str | None = None  # catalog price key (single | san_base | wildcard)
    options: tuple[str, ...] = ()  # for prices: the options that use this CA row


@dataclass
class Sensitivity:
    """Decision analytics for one profile."""

    recommendation: str | None
    runner_up: str | None
    margin: float
    close_call: bool
    close_call_share: float
    weights: dict[str, WeightBand]
    flip_points: list[FlipPoint]
    price_flips: list[FlipPoint]
    searched: list[dict[str, Any]] = field(default_factory=list)
    ca_names: dict[str, str] = field(default_factory=dict)  # catalog id → short name of the CAs whose prices were searched

    def to_json(self) -> dict[str, Any]:
        """The `sensitivity` object of `evaluate --format json`."""
        def num(v: float) -> float | None:
            return None if v is None or not math.isfinite(v) else round(float(v), 6)

        def flip(f: FlipPoint) -> dict[str, Any]:
            out = {"field": f.field, "value": _plain_value(f, f.value), "option": f.option, "text": f.text,
                   "direction": f.direction, "before": _plain_value(f, f.before), "current": _plain_value(f, f.current),
                   "tie": f.tie}
            if f.ca:
                out |= {"ca": f.ca, "price": f.price, "options": list(f.options)}
            return out

        return {
            "recommendation": self.recommendation, "runner_up": self.runner_up, "margin": num(self.margin),
            "close_call": self.close_call, "close_call_share": self.close_call_share,
            "weights": {c: {"weight": num(b.weight), "low": num(b.low), "high": num(b.high), "below": b.below,
                            "above": b.above, "raw_low": num(b.raw_low), "raw_high": num(b.raw_high)}
                        for c, b in self.weights.items()},
            "flip_points": [flip(f) for f in self.flip_points],
            "price_flips": [flip(f) for f in self.price_flips],
            "searched": self.searched,
            "notes": list(NOTES),
        }

    def sentences(self) -> list[str]:
        """Plain sentences for reports: the weight bands, then the flip points, then the price flips."""
        out = []
        for b in self.weights.values():
            name = CRITERION_NAMES[b.criterion]
            if b.below is None and b.above is None:
                out.append(f"No change of the {name} weight alone (now {b.weight:.1%}) changes the recommendation.")
                continue
            sides = [f"below it, {LABELS[b.below]} takes over" if b.below else "",
                     f"above it, {LABELS[b.above]} takes over" if b.above else ""]
            out.append(f"The recommendation holds while the {name} weight stays between {b.low:.1%} and {b.high:.1%} "
                       f"(now {b.weight:.1%}); " + "; ".join(s for s in sides if s) + ".")
        return out + [f.text for f in self.flip_points] + [f.text for f in self.price_flips]


def _plain_value(flip: FlipPoint, value: float) -> float | int:
    axis = FLIP_FIELDS.get(flip.field)
    return int(value) if axis is not None and axis.kind == "count" else float(value)


def _field_searches(profile: pd.Series) -> list[_Search]:
    searches = []
    for name, axis in FLIP_FIELDS.items():
        spec, current = FIELD_BY_NAME[name], float(profile[name])
        high = spec.high if axis.kind != "count" else min(spec.high, max(COUNT_CAP_FACTOR * current, COUNT_CAP))
        searches += [_Search("field", name, +1, current, float(high), axis),
                     _Search("field", name, -1, current, float(spec.low), axis)]
    return searches


def price_rows(ev: Evaluation, i: int) -> dict[tuple[str, str], list[str]]:
    """The (CA id, price key) rows that the feasible options of profile `i` pay for, with the options using each."""
    cols, rows = ev.scored.columns, {}
    for j, option in enumerate(OPTIONS):
        ca = int(cols["ca"][i, j])
        if not cols["feasible"][i, j] or ca < 0 or ev.scored.components[option].fee_per_year[i] <= 0:
            continue
        key = (ev.catalog.cas[ca].id, PRICE_KEY[option])
        if ev.catalog[key[0]].prices[key[1]] > 0:
            rows.setdefault(key, []).append(option)
    return rows


def _price_searches(catalog: Catalog, rows: dict[tuple[str, str], list[str]]) -> list[_Search]:
    searches = []
    for key in rows:
        price = catalog[key[0]].prices[key[1]]
        searches += [_Search("price", key, +1, price, PRICE_CAP_FACTOR * price, PRICE_AXIS),
                     _Search("price", key, -1, price, 0.0, PRICE_AXIS)]
    return searches


def _winners(ev: Evaluation, i: int, batch: list[tuple[_Search, np.ndarray]]
             ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Score copies of profile `i` with each search's candidate values, all in one engine call: per search the
    winners, and where a winner only ties today's winner's score, the TIE_BREAKS index that put it first (else -1)."""
    sizes = [len(d) for _, d in batch]
    total = sum(sizes)
    frame = ev.profiles.iloc[[i] * total].reset_index(drop=True)
    overrides: dict[tuple[str, str], np.ndarray] = {}
    columns: dict[str, np.ndarray] = {}
    start = 0
    for (search, distances), size in zip(batch, sizes, strict=True):
        where = slice(start, start + size)
        if search.kind == "field":
            column = columns.setdefault(search.key, frame[search.key].to_numpy(copy=True))
            column[where] = search.value(distances)
        else:
            overrides.setdefault(search.key, np.full(total, np.nan))[where] = search.value(distances)
        start += size
    for name, column in columns.items():
        frame[name] = column
    scored = score_frame(frame, ev.params, ev.catalog, prices=overrides)
    # against today's winner (a winner compared with itself differs on no key: -1)
    ties = tie_break(scored.columns["score"], scored.tie_keys, scored.winner, np.full(total, ev.scored.winner[i]))
    cuts = np.cumsum(sizes)[:-1]
    return np.split(scored.winner, cuts), np.split(ties, cuts)


def _run(ev: Evaluation, i: int, searches: list[_Search]) -> None:
    original = int(ev.scored.winner[i])
    while True:
        batch = [(s, d) for s in searches if not s.done for d in [s.candidates()] if len(d)]
        if not batch:
            break
        for (search, distances), winners, ties in zip(batch, *_winners(ev, i, batch), strict=True):
            search.update(distances, winners, ties, original)
    past = [(s, np.array([s.change + 1])) for s in searches if s.tie >= 0 and s.change < s.count]
    if past:  # a flip found at a tie: does the option win outright one lattice value further?
        for (search, _), winners, ties in zip(past, *_winners(ev, i, past), strict=True):
            search.outright = bool(winners[0] == search.option and ties[0] < 0)


def _tie_text(search: _Search, tie: str, old: str = "it") -> str:
    """What happens at a flip value where the new winner only ties today's winner's score (tie: a TIE_BREAKS key)."""
    if search.outright:
        side = "above" if search.direction > 0 else "below"
        return f"draws level with {old} (an exact tie on score, ranked first as it {TIE_REASONS[tie]}) and wins {side} that"
    return f"draws level with {old} (an exact tie on score) and is ranked first only because it {TIE_REASONS[tie]}"


def _flip(search: _Search, winner: str, currency: str, ca_name: str, options: tuple[str, ...]) -> FlipPoint:
    """The flip point a search found, in words; `currency` is the profile's for a field, the catalog's for a price."""
    value = float(search.value(search.change))
    before = search.current if search.keep == 0 else float(search.value(search.keep))
    new = LABELS[OPTIONS[search.option]] if search.option >= 0 else "no feasible option"
    old = LABELS[winner]
    option = OPTIONS[search.option] if search.option >= 0 else None
    tie = TIE_BREAKS[search.tie] if search.tie >= 0 else None
    direction = "up" if search.direction > 0 else "down"
    if search.kind == "field":
        axis = search.axis
        way = "up to" if search.direction > 0 else "down to"
        # a value rounded for display is rounded away from the other side: the flip's past it, so that the value shown
        # still changes the recommendation, and the last that keeps it back toward today's value (which shows as is)
        kept = _phrase(axis, before, currency, -search.direction if search.keep else 0)
        there = f"{old} stays best {way} {kept}; at {_phrase(axis, value, currency, search.direction)}, {new}"
        text = f"{there} {_tie_text(search, tie)}." if tie else f"{there} takes over."
        return FlipPoint(str(search.key), direction, search.current, value, before, option, text, tie)
    ca, key = search.key
    move = "rises" if search.direction > 0 else "drops"
    price = f"{ca_name}'s {PRICE_LABELS[key]} price {move} from {_fmt('price', search.current, currency)} to " \
            f"{_fmt('price', value, currency)}"
    text = (f"If {price}, {new} {_tie_text(search, tie, old)}" if tie
            else f"{new} wins if {price}") + f" ({old} still wins at {_fmt('price', before, currency)})."
    return FlipPoint(f"price:{ca}:{key}", direction, search.current, value, before, option, text, tie,
                     ca=ca, price=key, options=options)


def analyse(ev: Evaluation, i: int = 0, *, flips: bool = True) -> Sensitivity:
    """Margin, close call, exact weight bands, and flip points in fields and prices for profile `i`.

    The bands cost microseconds; the flip searches a few engine calls (~0.2 s). `flips=False` leaves them out.
    """
    rec = ev.recommendations.iloc[i]
    winner = None if pd.isna(rec["recommendation"]) else str(rec["recommendation"])
    runner = None if pd.isna(rec["runner_up"]) else str(rec["runner_up"])
    margin, close = ev.scored.margins
    sens = Sensitivity(winner, runner, float(margin[i]), bool(close[i]), ev.scored.close_call_share, {}, [], [])
    if winner is None:
        return sens
    bands = weight_bands(ev.scored)
    raw = ev.profiles.iloc[i][list(WEIGHT_FIELDS)].to_numpy(dtype=float)
    for c, criterion in enumerate(CRITERIA):
        low, high = float(bands.low[c, i]), float(bands.high[c, i])
        below, above = int(bands.below[c, i]), int(bands.above[c, i])
        sens.weights[criterion] = WeightBand(criterion, float(bands.weight[c, i]), low, high,
                                             OPTIONS[below] if below >= 0 else None, OPTIONS[above] if above >= 0 else None,
                                             *raw_band(low, high, float(raw.sum() - raw[c])))
    if not flips:
        return sens
    profile = ev.profiles.iloc[i]
    currency = str(profile["currency"])
    rows = price_rows(ev, i)
    searches = _field_searches(profile) + _price_searches(ev.catalog, rows)
    _run(ev, i, searches)
    for s in searches:
        found = s.change is not None
        if s.kind == "field":
            where = {"field": s.key}
        else:
            where = {"field": f"price:{s.key[0]}:{s.key[1]}", "ca": s.key[0], "price": s.key[1]}
            sens.ca_names[s.key[0]] = ev.catalog[s.key[0]].short_name
        sens.searched.append({**where, "direction": "up" if s.direction > 0 else "down", "current": s.current,
                              "limit": s.limit, "flip": found})
        if not found:
            continue
        if s.kind == "field":
            sens.flip_points.append(_flip(s, winner, currency, "", ()))
        else:
            sens.price_flips.append(_flip(s, winner, ev.catalog.currency, sens.ca_names[s.key[0]], tuple(rows[s.key])))
    return sens


# ------------------------------------------------------------------------------------ tornado

def tornado_frame(sens: Sensitivity) -> pd.DataFrame:
    """One row per factor and side for a tornado chart of flip distances, most sensitive factor first; factors as near
    in the order of their labels, a price's spelt with its CA's catalog id (an order the CAs' names do not move).

    Columns: factor (label; a price's names its CA by the short name, as its flip sentence does), kind (weight | field |
    price), side (lower | higher), current, limit (end of the range searched), value (the flip value, NaN when none),
    option (taking over), flip (bool), reach (distance to the flip as a share of the range searched on that side; 1
    when there is no flip), position (−reach for the lower side, +reach for the higher side: the bar), text.
    """
    rows: list[dict[str, Any]] = []
    for b in sens.weights.values():
        for side, end, limit, option in (("lower", b.low, 0.0, b.below), ("higher", b.high, 1.0, b.above)):
            if limit != b.weight:
                factor = f"weight: {CRITERION_NAMES[b.criterion]}"
                rows.append({"factor": factor, "order": factor, "kind": "weight", "side": side,
                             "current": b.weight, "limit": limit, "value": end if option else np.nan, "option": option,
                             "text": f"{CRITERION_NAMES[b.criterion]} weight {b.weight:.1%} → "
                                     f"{float(_past(end, side == 'lower', 1.0)):.1%}: {LABELS[option]}" if option else ""})
    flips = {(f.field, f.direction): f for f in [*sens.flip_points, *sens.price_flips]}
    for s in sens.searched:
        if s["limit"] == s["current"]:
            continue
        f = flips.get((s["field"], s["direction"]))
        if "ca" in s:
            price = f"{PRICE_LABELS[s['price']]} price"
            factor, order, kind = f"{sens.ca_names[s['ca']]} {price}", f"{s['ca']} {price}", "price"
        else:
            factor = order = FLIP_FIELDS[s["field"]].label
            kind = "field"
        rows.append({"factor": factor, "order": order, "kind": kind, "side": "higher" if s["direction"] == "up" else "lower",
                     "current": s["current"], "limit": s["limit"], "value": f.value if f else np.nan,
                     "option": f.option if f else None, "text": f.text if f else ""})
    columns = ["factor", "kind", "side", "current", "limit", "value", "option", "flip", "reach", "position", "text"]
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(rows)
    frame["flip"] = frame["value"].notna()
    span = (frame["limit"] - frame["current"]).abs()
    frame["reach"] = np.where(frame["flip"], (frame["value"] - frame["current"]).abs() / span, 1.0)
    frame["position"] = np.where(frame["side"] == "lower", -frame["reach"], frame["reach"])
    nearest = frame.groupby("order")["reach"].transform("min")
    return frame.assign(_o=nearest).sort_values(["_o", "order", "side"], kind="stable")[columns].reset_index(drop=True)
