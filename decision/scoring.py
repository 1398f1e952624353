"""Feasibility, per-profile normalisation, weights, rank and recommendation — on (profiles × options) arrays."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property, reduce

import numpy as np

CRITERIA = ("cost", "trust", "reconfiguration", "url_change")
CRITERION_NAMES = {"cost": "cost", "trust": "trust", "reconfiguration": "reconfiguration", "url_change": "URL change"}
HIGHER_IS_BETTER = {"cost": False, "trust": True, "reconfiguration": False, "url_change": False}
SCORE_DECIMALS = 9  # scores equal to this precision tie; the tie breaks on TIE_BREAKS
TCO_DECIMALS = 2  # tco equal to the cent counts as equal in the tie-break
# a tie on score goes to the lower tco, then to fewer certificate issuances, then to fewer certificates, then to
# the option that comes first in options.OPTIONS
TIE_BREAKS = ("tco", "issuances", "certificates", "order")


def extreme_per_profile(by_option: np.ndarray, usable: np.ndarray, lowest: bool) -> np.ndarray:
    """Per profile, the lowest (or highest) value of its usable options, ±inf when none, NaN skipped, the first of
    equal values kept; `by_option` and `usable` laid out (options × profiles), C-contiguous: np.fmin.reduce
    (np.fmax.reduce) over the options, one contiguous row at a time, many times as fast over a handful of options."""
    fill = np.inf if lowest else -np.inf
    out = np.where(usable[0], by_option[0], fill)
    for j in range(1, len(by_option)):
        column = np.where(usable[j], by_option[j], fill)
        np.copyto(out, column, where=(column < out if lowest else column > out) | np.isnan(out))
    return out


def at_columns(values: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """`values[i, columns[i]]` for every row i of a (profiles × options) array, `columns` >= 0: one take from the
    array flattened in memory order (C, or F for the transpose of option rows), about twice as fast as indexing
    with two arrays."""
    n, k = values.shape
    if values.flags.c_contiguous:
        return values.reshape(n * k).take(np.arange(n) * k + columns)
    return values.T.reshape(n * k).take(columns * n + np.arange(n))


def count_true(mask: np.ndarray) -> np.ndarray:
    """`mask.sum(axis=0)` of a (few rows × many columns) boolean array, such as CAs × profiles: byte additions row by
    row (below 256 rows), many times as fast as numpy's sum, which casts every value to a 64-bit integer first."""
    if len(mask) > np.iinfo(np.uint8).max:  # that many rows: bytes would overflow
        return mask.sum(axis=0)
    return reduce(np.add, mask.view(np.uint8))


def first_true(mask: np.ndarray) -> np.ndarray:
    """`np.argmax(mask, axis=0)` of a (few rows × many columns) boolean array (bytes below 256 rows): per column the
    first row that is True, 0 where none; the largest (rows left) over the rows that are True, byte by byte (numpy's
    argmax copies the array to go through each column on its own, twenty times slower)."""
    k = len(mask)
    if k > np.iinfo(np.uint8).max:  # that many rows: bytes would overflow
        return np.argmax(mask, axis=0)
    best = reduce(np.maximum, [row.view(np.uint8) * np.uint8(k - j) for j, row in enumerate(mask)])
    return np.where(best > 0, k - best.astype(np.intp), 0)


class FeasibleRows:
    """A (profiles × options) feasibility mask laid out for `normalise`, shared by the criteria of one scoring."""

    def __init__(self, feasible: np.ndarray):
        self.usable = np.ascontiguousarray(feasible.T)  # (options, profiles)

    @cached_property
    def masked(self) -> np.ndarray:
        """0 where feasible, inf where not: added to values, it masks the infeasible ones."""
        return np.where(self.usable, 0.0, np.inf)

    @cached_property
    def all_equal(self) -> np.ndarray:
        """The normalised value where a profile's feasible options are all equal: 1, and 0 where infeasible."""
        return self.usable.astype(float)


def by_option(values: np.ndarray, dtype: type | None = None) -> np.ndarray:
    """A (profiles × options) array as C-contiguous (options × profiles) rows: free when `values` is already the
    transpose of such rows (as score_frame passes them), a copy otherwise."""
    return np.ascontiguousarray(values.T, dtype=dtype)


FINITE_NON_NEGATIVE = np.uint64(0x7FF0000000000000)  # float64 bits below it: finite, sign bit clear (no -0.0)


def normalise(values: np.ndarray, feasible: np.ndarray | FeasibleRows, higher_is_better: bool) -> np.ndarray:
    """Linear max–min scaling across each profile's feasible options: best = 1, worst = 0, all equal = 1; 0 where
    infeasible, or where a feasible value is not a number. Worked out with the options as contiguous rows (the
    transpose of `values`, which is returned)."""
    mask = feasible if isinstance(feasible, FeasibleRows) else FeasibleRows(feasible)
    rows, usable = by_option(values, float), mask.usable
    with np.errstate(all="ignore"):
        if rows.view(np.uint64).max(initial=0) < FINITE_NON_NEGATIVE:
            # finite values of one sign (no -0.0): none equal but of other bits, so any minimum is the first one;
            # adding 0 leaves a feasible value as it is, adding inf masks an infeasible one
            work = rows + mask.masked
            lo = np.minimum.reduce(work, axis=0)
            hi = np.maximum.reduce(np.subtract(rows, mask.masked, out=work), axis=0)
            finite = True
        else:
            lo = extreme_per_profile(rows, usable, lowest=True)  # nanmin, without its copies
            hi = extreme_per_profile(rows, usable, lowest=False)
            work, finite = np.empty_like(rows), False
        span = hi - lo
        if higher_is_better:  # kept where feasible
            np.divide(np.subtract(rows, lo, out=work), span, out=work)
        else:
            np.divide(np.subtract(hi, rows, out=work), span, out=work)
        out = np.where(usable & (span > 0), work, mask.all_equal)
    if not finite:  # a feasible NaN (or infinite) value scales to NaN: 0
        np.nan_to_num(out, copy=False)
    return out.T


def normalised_weights(weights: np.ndarray) -> np.ndarray:
    """Rows of non-negative weights scaled to sum to 1."""
    weights = np.asarray(weights, dtype=float)
    return weights / weights.sum(axis=1, keepdims=True)


def weighted_sum(terms: Iterable[tuple[np.ndarray, np.ndarray | float]]) -> np.ndarray:
    """Σ value · weight over `terms` (at least one), added in their order, one array operation each: a profile's sum
    has the same bits whatever the batch's shape, and the weight bands' scores (sensitivity) are those of `scores`."""
    pairs = iter(terms)
    value, weight = next(pairs)
    total = np.multiply(value, weight)
    term = np.empty_like(total)
    for value, weight in pairs:
        total += np.multiply(value, weight, out=term)
    return total


def scores(criteria: dict[str, np.ndarray], feasible: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(score 0–100 per profile × option, normalised criteria stacked as (profiles, options, criteria), 0 where
    infeasible).

    The weighted terms are added in CRITERIA order, one array operation each: a profile's score has the same bits
    whatever else is in the batch (a sum like np.einsum's may group the terms otherwise for other shapes, and a score
    on an exact half, such as 55.625, would then round to 55.63 alone and 55.62 in a file)."""
    stacked = np.empty((*feasible.shape, len(CRITERIA)))  # C-contiguous, as the weight bands read it
    mask = FeasibleRows(feasible)
    for c, criterion in enumerate(CRITERIA):
        stacked[:, :, c] = normalise(criteria[criterion], mask, HIGHER_IS_BETTER[criterion])
    w = normalised_weights(weights)
    total = weighted_sum((stacked[:, :, c], w[:, c:c + 1]) for c in range(len(CRITERIA)))
    total *= 100.0
    np.clip(total, 0.0, 100.0, out=total)
    np.copyto(total, np.nan, where=~feasible)
    return total, stacked


def tie_keys(feasible: np.ndarray, tco: np.ndarray, issuances: np.ndarray, certificates: np.ndarray
             ) -> tuple[np.ndarray, ...]:
    """The tie-break keys, lower first, in TIE_BREAKS order (profiles × options each; infeasible options last); the
    last, the option order, breaks every remaining tie. Each is the transpose of (options × profiles) rows, as
    `tie_places` reads them."""
    usable = by_option(feasible)
    n, k = feasible.shape

    def key(values: np.ndarray) -> np.ndarray:
        return np.where(usable, by_option(values), np.inf).T

    return (key(np.round(tco, TCO_DECIMALS)), key(issuances), key(certificates),
            np.broadcast_to(np.arange(k), (n, k)))


def _first(keys: np.ndarray, a: int, b: int) -> np.ndarray:
    """Per profile, whether option `a` comes before option `b` (a < b) in the lexicographic order of `keys` (keys ×
    options × profiles): lower on a key, the keys before it equal; equal on every key, `a` first."""
    out = keys[-1, a] <= keys[-1, b]
    for key in range(len(keys) - 2, -1, -1):
        x, y = keys[key, a], keys[key, b]
        out = (x < y) | ((x == y) & out)
    return out


def _places(keys: np.ndarray) -> np.ndarray:
    """Each option's place (0 = first) among its profile's options in the lexicographic order of `keys` (keys ×
    options × profiles), equal keys in option order, as (options × profiles) integers. Counted pair by pair over
    the profiles at once: a sort of each profile's few options (np.lexsort) costs numpy a call per profile, several
    times as long; it is kept for NaN, which a sort puts last and a comparison does not."""
    k, n = keys.shape[1:]
    if keys.size and np.isnan(keys.min()):  # the minimum is NaN where any value is
        order = np.lexsort(keys[::-1], axis=0)  # along each key's options; stable: equal keys in option order
        places = np.empty_like(order)
        np.put_along_axis(places, order, np.arange(k)[:, None], axis=0)
        return places
    places = np.zeros((k, n), dtype=np.uint8 if k <= np.iinfo(np.uint8).max else np.intp)
    for a in range(k):
        for b in range(a + 1, k):
            a_first = _first(keys, a, b)
            places[b] += a_first
            places[a] += ~a_first
    return places


def tie_places(keys: tuple[np.ndarray, ...]) -> np.ndarray:
    """Each option's place (0 = first) in its profile's tie-break order; `keys` as from `tie_keys`."""
    return np.ascontiguousarray(option_tie_places(keys).T, dtype=np.intp)


def option_tie_places(keys: tuple[np.ndarray, ...]) -> np.ndarray:
    """`tie_places` as (options × profiles), as the weight bands read them; the last key, the option order, breaks the
    ties `_places` leaves."""
    return _places(np.stack([by_option(key, float) for key in keys[:-1]]))


def rank(score: np.ndarray, feasible: np.ndarray, keys: tuple[np.ndarray, ...],
         tie_order: np.ndarray | None = None) -> np.ndarray:
    """1 = recommended; ties on score break on `keys` (`tie_keys`), whose `option_tie_places` may be given as
    `tie_order`; 0 = infeasible (no rank)."""
    usable = by_option(feasible)
    key_score = np.where(usable, -np.round(by_option(score), SCORE_DECIMALS), np.inf)
    tie_order = option_tie_places(keys) if tie_order is None else tie_order
    places = _places(np.stack([key_score, tie_order]))  # no two options share a tie place
    return np.where(usable, places + 1, 0).astype(np.int64).T  # the transpose of option rows, as `top_two` reads it


def tie_break(score: np.ndarray, keys: tuple[np.ndarray, ...], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per profile, the index in TIE_BREAKS of the key that ranks option column `a` before column `b` when their
    scores tie; -1 where the scores differ, or where `a` or `b` is -1 (no option)."""
    rows = np.arange(len(score))
    ca, cb = np.maximum(a, 0), np.maximum(b, 0)
    tied = (np.round(score[rows, ca], SCORE_DECIMALS) == np.round(score[rows, cb], SCORE_DECIMALS)) & (a >= 0) & (b >= 0)
    differs = np.stack([key[rows, ca] != key[rows, cb] for key in keys], axis=1)
    return np.where(tied & differs.any(axis=1), differs.argmax(axis=1), -1)


def top_two(ranks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column index of the winner and the runner-up per profile (-1 when there is none)."""
    rows = by_option(ranks)  # numpy reduces short rows slowly: worked out over the options' rows

    def position(r: int) -> np.ndarray:  # the first column ranked r
        out = np.full(rows.shape[1], -1)
        for j in reversed(range(len(rows))):
            out = np.where(rows[j] == r, j, out)
        return out

    return position(1), position(2)


def dominance(values: np.ndarray, feasible: np.ndarray, ranks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which feasible options another feasible option dominates: no worse on every criterion, better on one.

    values: (profiles, options, criteria), oriented so that higher is better. Returns (dominated, dominated_by):
    booleans (profiles, options) and the column of the best-ranked dominating option (-1 where none).
    """
    n, k, _ = values.shape
    no_worse = feasible[:, :, None] & feasible[:, None, :]  # [n, x, y]: x is no worse than y on every criterion
    better = np.zeros((n, k, k), dtype=bool)  # ... and better on at least one
    for c in range(values.shape[2]):
        x, y = values[:, :, None, c], values[:, None, :, c]
        no_worse &= x >= y
        better |= x > y
    beats = no_worse & better
    dominated = beats.any(axis=1)
    by = np.argmin(np.where(beats, ranks[:, :, None], np.iinfo(np.int64).max), axis=1)
    return dominated, np.where(dominated, by, -1)
