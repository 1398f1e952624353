"""Feasibility, per-profile normalisation, weights, rank and recommendation — on (profiles × options) arrays."""

from __future__ import annotations

import numpy as np

CRITERIA = ("cost", "trust", "reconfiguration", "url_change")
CRITERION_NAMES = {"cost": "cost", "trust": "trust", "reconfiguration": "reconfiguration", "url_change": "URL change"}
HIGHER_IS_BETTER = {"cost": False, "trust": True, "reconfiguration": False, "url_change": False}
SCORE_DECIMALS = 9  # scores equal to this precision tie, and the tie breaks on tco


def across_options(values: np.ndarray, lowest: bool) -> np.ndarray:
    """Per row of (profiles × options), the lowest (or highest) value, NaN skipped, the first of equal values kept:
    np.fmin.reduce (np.fmax.reduce) over axis 1, column by column, which is twice as fast over a handful of options."""
    out = values[:, 0]
    for j in range(1, values.shape[1]):
        column = values[:, j]
        out = np.where((column < out if lowest else column > out) | np.isnan(out), column, out)
    return out


def normalise(values: np.ndarray, feasible: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """Linear max–min scaling across each profile's feasible options: best = 1, worst = 0, all equal = 1."""
    masked = np.where(feasible, values, np.nan)
    with np.errstate(all="ignore"):
        lo = across_options(np.where(feasible, values, np.inf), lowest=True)[:, None]  # nanmin, without its copies
        hi = across_options(np.where(feasible, values, -np.inf), lowest=False)[:, None]
        span = hi - lo
        scaled = (masked - lo) / span if higher_is_better else (hi - masked) / span
    return np.where(feasible, np.where(span > 0, scaled, 1.0), np.nan)


def normalised_weights(weights: np.ndarray) -> np.ndarray:
    """Rows of non-negative weights scaled to sum to 1."""
    weights = np.asarray(weights, dtype=float)
    return weights / weights.sum(axis=1, keepdims=True)


def scores(criteria: dict[str, np.ndarray], feasible: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(score 0–100 per profile × option, normalised criteria stacked as (profiles, options, criteria))."""
    stacked = np.stack([normalise(criteria[c], feasible, HIGHER_IS_BETTER[c]) for c in CRITERIA], axis=2)
    w = normalised_weights(weights)
    total = 100.0 * np.einsum("nkc,nc->nk", np.nan_to_num(stacked), w)
    return np.where(feasible, np.clip(total, 0.0, 100.0), np.nan), stacked


def rank(score: np.ndarray, tco: np.ndarray, feasible: np.ndarray) -> np.ndarray:
    """1 = recommended; ties on score break on lower tco, then option order; 0 = infeasible (no rank)."""
    n, k = score.shape
    key_score = np.where(feasible, -np.round(score, SCORE_DECIMALS), np.inf)
    key_tco = np.where(feasible, tco, np.inf)
    order = np.lexsort((np.broadcast_to(np.arange(k), (n, k)), key_tco, key_score), axis=-1)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(1, k + 1), (n, k)), axis=1)
    return np.where(feasible, ranks, 0)


def top_two(ranks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column index of the winner and the runner-up per profile (-1 when there is none)."""
    def position(r: int) -> np.ndarray:  # the first column ranked r, by columns (numpy reduces short rows slowly)
        out = np.full(len(ranks), -1)
        for j in reversed(range(ranks.shape[1])):
            out = np.where(ranks[:, j] == r, j, out)
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
