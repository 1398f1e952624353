"""evaluate(): validated profiles → per-option table → ranking → recommendations, vectorised."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from decision import __version__, currency
from decision.catalog import CA, CATALOG_FILE, Catalog, default_catalog, load_catalog
from decision.dates import from_day, horizon_end_day
from decision.errors import Issue
from decision.explain import (
    BIT,
    OPTION_PRODUCTS,
    and_list,
    buys_through_acme,
    no_product_details,
    not_operating_details,
    parameter_details,
    reason_strings,
    recommendation_why,
    server_auth_details,
    start_status_details,
    status_details,
)
from decision.names import name_table, names_by_option
from decision.options import LABELS, OPTIONS, Components, Context, evaluate_options, sells
from decision.parameters import PARAMETERS_FILE, Parameters, default_parameters, load_parameters
from decision.profiles import WEIGHT_FIELDS, WEIGHT_KEYS, ProfileSet, load_profiles
from decision.scoring import (
    CRITERIA,
    HIGHER_IS_BETTER,
    TIE_BREAKS,
    at_columns,
    dominance,
    option_tie_places,
    rank,
    scores,
    tie_break,
    tie_keys,
    top_two,
)
from decision.textops import labels

ENGINE_VERSION = __version__
OPTION_COLUMNS = ("profile", "option", "feasible", "reasons", "certificates", "names", "not_issuable",
                  "certificate_issuances", "cost_total", "tco", "trust", "devices_to_reconfigure",
                  "users_url_change", "score", "rank")


@dataclass
class Scored:
    """Arrays of one scored batch: (profiles × options) plus the components behind them."""

    frame: pd.DataFrame
    components: dict[str, Components]
    columns: dict[str, np.ndarray]  # each (n, 7): most the transposes of (7, n) rows
    normalised: np.ndarray  # (n, 7, 4), 0 where infeasible
    tie_keys: tuple[np.ndarray, ...]  # the keys a tie on score breaks on, in scoring.TIE_BREAKS order (scoring.tie_keys)
    tie_order: np.ndarray  # (7, n): each option's place in its profile's tie-break order (scoring.option_tie_places)
    weights: np.ndarray  # (n, 4), normalised
    winner: np.ndarray
    runner_up: np.ndarray
    close_call_share: float  # parameter close_call_share: a margin below this share of the winner's score is a close call

    @cached_property
    def margins(self) -> tuple[np.ndarray, np.ndarray]:
        """Per profile: the score gap between the winner and the runner-up (NaN without a runner-up), and whether
        it is a close call (below `close_call_share` of the winner's score)."""
        score = self.columns["score"]
        win_score = at_columns(score, np.maximum(self.winner, 0))
        margin = np.where(self.runner_up >= 0, win_score - at_columns(score, np.maximum(self.runner_up, 0)), np.nan)
        with np.errstate(invalid="ignore"):
            return margin, margin < self.close_call_share * win_score


# the raw criterion arrays behind the scores, in scoring.CRITERIA order
CRITERION_COLUMNS = {"cost": "cost_total", "trust": "trust", "reconfiguration": "devices_to_reconfigure",
                     "url_change": "users_url_change"}


def better_on(a: pd.Series, b: pd.Series) -> list[str]:
    """The criteria (scoring.CRITERIA) on which option row `a` is better than option row `b`."""
    return [c for c in CRITERIA if (a[CRITERION_COLUMNS[c]] > b[CRITERION_COLUMNS[c]]) == HIGHER_IS_BETTER[c]
            and a[CRITERION_COLUMNS[c]] != b[CRITERION_COLUMNS[c]]]


def score_frame(frame: pd.DataFrame, params: Parameters, catalog: Catalog, *,
                prices: Mapping[tuple[str, str], np.ndarray] | None = None) -> Scored:
    """Score validated profiles: the one vectorised code path behind every front end.

    `prices` overrides catalog prices per row (see options.Context); the sensitivity analysis uses it.
    """
    ctx = Context(frame, params, catalog, prices)
    comps = evaluate_options(ctx)
    years = ctx.years
    admin, user = ctx.admin_rate, frame["user_rate"].to_numpy(dtype=float)
    clients = np.maximum(ctx.pop.clients, 1.0)

    def rows(f) -> np.ndarray:  # (options × profiles): contiguous rows, as the scoring reads them
        return np.stack([np.asarray(f(comps[o]), dtype=float) for o in OPTIONS])

    feasible = np.stack([comps[o].feasible for o in OPTIONS])
    cost = rows(lambda c: c.cost_total(years, admin))
    tco = rows(lambda c: c.client_cost(admin, user))
    tco += cost  # in place: each (options × profiles) temporary is a pass over fresh memory
    trust = 1.0 - rows(lambda c: c.warned) / clients
    np.copyto(trust, 1.0, where=~(ctx.pop.clients > 0))
    by_option = {
        "feasible": feasible,
        "cost_total": cost,
        "tco": tco,
        "trust": np.clip(trust, 0.0, 1.0, out=trust),
        "devices_to_reconfigure": rows(lambda c: c.devices),
        "users_url_change": rows(lambda c: c.users_url_change),
        "certificates": rows(lambda c: c.certificates),
        "certificate_issuances": rows(lambda c: c.issuances),
        "reasons": np.stack([comps[o].reasons for o in OPTIONS]),
        "ca": np.stack([comps[o].ca for o in OPTIONS]),
        "failed_ca": np.stack([comps[o].failed_ca for o in OPTIONS]),
    }
    # the columns are the rows' transposes, (profiles × options) views that the scoring reads as rows at no cost
    # (a C-contiguous copy of each cost a pass over fresh memory); feasible is also copied C-contiguous for the
    # weight bands, which combine it with C-contiguous arrays of scores
    columns = {name: values.T for name, values in by_option.items()}
    columns["feasible"] = np.ascontiguousarray(feasible.T)
    criteria = {c: columns[CRITERION_COLUMNS[c]] for c in CRITERIA}
    # column by column (frame[list] builds a frame: 0.4 ms), laid out as its to_numpy was: (n, 4), column-major
    weights = np.stack([frame[w].to_numpy(dtype=float) for w in WEIGHT_FIELDS]).T
    score, normalised = scores(criteria, feasible.T, weights)
    columns["score"] = score
    keys = tie_keys(feasible.T, columns["tco"], columns["certificate_issuances"], columns["certificates"])
    tie_order = option_tie_places(keys)
    columns["rank"] = rank(score, feasible.T, keys, tie_order)
    winner, runner = top_two(columns["rank"])
    return Scored(frame, comps, columns, normalised, keys, tie_order, weights / weights.sum(axis=1, keepdims=True),
                  winner, runner, float(params.value("close_call_share")))


def dominance_of(scored: Scored) -> tuple[np.ndarray, np.ndarray]:
    """(dominated, dominated_by column) per profile × option; computed only for tables that show it."""
    cols = scored.columns
    oriented = np.stack([cols[CRITERION_COLUMNS[c]] * (1 if HIGHER_IS_BETTER[c] else -1) for c in CRITERIA], axis=2)
    return dominance(oriented, cols["feasible"], cols["rank"])


def long_table(scored: Scored, catalog: Catalog, params: Parameters, *, names: bool = True) -> pd.DataFrame:
    """One row per profile × option with the contract columns (names materialised when asked).

    Besides the contract columns: `ca`, `row`, `dominated` (another feasible option is no worse on any
    criterion and better on one) and `dominated_by` (the best-ranked such option, or None).
    """
    frame, cols = scored.frame, scored.columns
    n, k = len(frame), len(OPTIONS)
    ca_ids = np.array([*catalog.ids, ""], dtype=object)
    dominated, dominated_by = dominance_of(scored)
    table = pd.DataFrame({
        "profile": np.repeat(frame["id"].astype(str).to_numpy(), k),
        "option": np.tile(np.array(OPTIONS, dtype=object), n),
        "feasible": cols["feasible"].reshape(-1),
        "reasons": reason_strings(cols["reasons"].reshape(-1)),
        "certificates": cols["certificates"].reshape(-1).astype(np.int64),
        "certificate_issuances": cols["certificate_issuances"].reshape(-1).astype(np.int64),
        "cost_total": np.round(cols["cost_total"].reshape(-1), 2),
        "tco": np.round(cols["tco"].reshape(-1), 2),
        "trust": np.round(cols["trust"].reshape(-1), 4),
        "devices_to_reconfigure": cols["devices_to_reconfigure"].reshape(-1).astype(np.int64),
        "users_url_change": cols["users_url_change"].reshape(-1).astype(np.int64),
        "score": np.round(cols["score"].reshape(-1), 2),
        "rank": cols["rank"].reshape(-1).astype(np.int64),
        "ca": ca_ids[cols["ca"].reshape(-1)],
        "row": np.repeat(frame["row"].to_numpy(), k),
        "dominated": dominated.reshape(-1),
        "dominated_by": labels(OPTIONS, dominated_by.reshape(-1)),
    })
    if names:
        pairs = list(names_by_option(name_table(frame, params), n, OPTIONS).values())
        table.insert(5, "names", np.stack([p[0] for p in pairs], axis=1).reshape(-1) if n else [])
        table.insert(6, "not_issuable", np.stack([p[1] for p in pairs], axis=1).reshape(-1) if n else [])
    return table


def recommendation_columns(scored: Scored) -> dict[str, Any]:
    """The columns of `recommendations`, as arrays by name (for a table made at once with further columns)."""
    frame, cols = scored.frame, scored.columns
    has = scored.winner >= 0
    win = np.where(has, scored.winner, 0)
    margin, close_call = scored.margins
    out = {
        "profile": frame["id"].astype(str).array,  # as text, not Python strings: 5x as fast
        "row": frame["row"].to_numpy(),
        "recommendation": labels(OPTIONS, scored.winner).array,
        "runner_up": labels(OPTIONS, scored.runner_up).array,
        "margin": np.round(margin, 2),
    }
    for column in ("cost_total", "tco", "trust", "devices_to_reconfigure", "users_url_change",
                   "certificate_issuances", "score"):
        out[column] = np.where(has, at_columns(cols[column], win), np.nan)
    for j, option in enumerate(OPTIONS):
        out[f"score_{option}"] = np.round(cols["score"][:, j], 2)
    out["close_call"] = close_call
    return out


def recommendations(scored: Scored) -> pd.DataFrame:
    """One row per profile: recommendation, runner-up, margin, close_call and the winner's criteria.

    close_call: the margin is below `close_call_share` (data/parameters.yaml) of the winner's score.
    """
    return pd.DataFrame(recommendation_columns(scored))  # at once: adding the columns one by one costs ~0.1 ms each


@dataclass
class Evaluation:
    """The result of evaluate(): validated profiles, per-option table, recommendations, rejected rows."""

    profiles: pd.DataFrame
    options: pd.DataFrame
    recommendations: pd.DataFrame
    issues: list[Issue]
    params: Parameters
    catalog: Catalog
    scored: Scored = field(repr=False)

    def option_rows(self, i: int = 0) -> pd.DataFrame:
        """The seven option rows of profile `i`, ranked first, infeasible last."""
        k = len(OPTIONS)
        rows = self.options.iloc[i * k:(i + 1) * k]
        ranks = rows["rank"].to_numpy()
        by_name = np.unique(rows["option"].to_numpy(dtype=object), return_inverse=True)[1]
        return rows.iloc[np.lexsort((by_name, np.where(ranks == 0, 99, ranks)))]  # one take: a sort of the frame costs 1 ms

    @cached_property
    def _parameter_sentences(self) -> dict[str, str]:
        return parameter_details(self.params)  # the same for every profile and option: filled in once

    def reason_details(self, i: int, option: str) -> dict[str, str]:
        """Reason sentences with specifics (code → sentence): the dates of data/parameters.yaml, the CA an
        infeasible option's CA reasons are about (by name, with the day it stopped serving, before or within the
        horizon, or first issued, and what it does not sell), or where no CA could serve yet the first public CA to
        issue, and the chosen CA's first certificate without the client-authentication EKU."""
        details = dict(self._parameter_sentences)
        j = OPTIONS.index(option)
        ca = int(self.scored.columns["failed_ca"][i][j])
        mask = int(self.scored.columns["reasons"][i][j])
        failed = self.catalog.cas[ca] if ca >= 0 else None
        named = failed is not None and self.profiles.iloc[i]["ca"] == failed.id
        if failed is not None:
            details.update(self.ca_status_details(i, failed, named=named))
            if mask & int(BIT["ca_no_product"]):
                details.update(no_product_details(option, failed))
        if mask & int(BIT["ca_not_operating"]):
            product = OPTION_PRODUCTS[option][0]
            sellers = [c for c in self.catalog.cas if c.public
                       and sells(c, product, "acme" if buys_through_acme(c, option) else "manual")]
            details.update(not_operating_details(option, failed, named, sellers))
        chosen = int(self.scored.columns["ca"][i][j])
        if mask & int(BIT["partner_tls_server_auth_only"]) and chosen >= 0:
            issued = self.scored.components[option].schedule.dates_of(i)
            details.update(server_auth_details(self.catalog.cas[chosen], issued))
        return details

    def ca_status_details(self, i: int, ca: CA, named: bool) -> dict[str, str]:
        """The sentences naming `ca` and the day it stopped serving (code → sentence): by profile `i`'s start day
        (ca_distrusted, ca_discontinued; where the profile `named` it, with the advice to choose another CA or
        cheapest), and within its horizon (the ca_*_in_horizon codes)."""
        start = int(self.profiles.iloc[i]["start"])
        end = horizon_end_day(start, self.profiles.iloc[i]["horizon_years"])
        return {**start_status_details(ca, start, named), **status_details(ca, start, end)}

    def weights(self, i: int = 0) -> dict[str, float]:
        return dict(zip(WEIGHT_KEYS, self.scored.weights[i].tolist(), strict=True))

    def tie(self, i: int = 0) -> str | None:
        """The scoring.TIE_BREAKS key that ranks profile `i`'s winner before its runner-up when their scores tie
        exactly; None when they do not tie (or there is no runner-up)."""
        scored, one = self.scored, slice(i, i + 1)
        decided = int(tie_break(scored.columns["score"][one], tuple(k[one] for k in scored.tie_keys),
                                scored.winner[one], scored.runner_up[one])[0])
        return TIE_BREAKS[decided] if decided >= 0 else None

    def runner_up_better_on(self, i: int = 0) -> list[str]:
        """The criteria on which profile `i`'s runner-up is better than its recommendation: where none, no change of
        the weights can put the runner-up first (nor none where there is no runner-up)."""
        feasible = self.option_rows(i)
        feasible = feasible[feasible["feasible"]]
        return better_on(feasible.iloc[1], feasible.iloc[0]) if len(feasible) > 1 else []

    def why(self, i: int = 0) -> str:
        """The recommendation of profile `i` in plain language."""
        rows = self.option_rows(i)
        feasible = rows[rows["feasible"]]
        if feasible.empty:
            return "No option is feasible for this profile; see the reasons per option."
        runner = feasible.iloc[1] if len(feasible) > 1 else None
        return recommendation_why(feasible.iloc[0], runner, self.weights(i), LABELS,
                                  str(self.profiles.iloc[i]["currency"]), float(self.recommendations.iloc[i]["margin"]),
                                  self.tie(i))

    @cached_property
    def _rule_days(self) -> np.ndarray:
        """Every day a dated parameter takes a new value, sorted: the days a certificate lifetime can change."""
        days = [p.starts[1:] for p in self.params.items.values() if len(p.values) > 1]
        return np.unique(np.concatenate(days)) if days else np.zeros(0, dtype=np.int64)

    def shorter_lifetimes(self, i: int, option: str) -> list[tuple[dt.date, float]]:
        """The dated rule changes inside profile `i`'s horizon that shorten `option`'s certificates and so make its
        renewals more frequent there: (date, new lifetime in days), oldest first (see `Schedule.shortened`)."""
        sched = self.scored.components[option].schedule
        if sched is None:
            return []
        days = self._rule_days
        days = days[sched.shortened(days, np.array([i]))[0]]
        lifetime = sched.of(i).lifetime
        return [] if lifetime is None else [(from_day(d), float(v)) for d, v in zip(days, lifetime(days), strict=True)]

    def _successor(self, version: str, day: dt.date) -> str:
        """The newest Exchange release still supported the day after `day` (the day the move is advised for: the
        later of the old version's end of support and the horizon's start), named for a sentence with the releases
        the move goes by way of where it cannot be installed beside `version` (`coexists_with`)."""
        facts = self.params.exchange_versions
        supported = [v for v, f in facts.items()
                     if f["released"] <= day and (f["end_of_support"] is None or f["end_of_support"] > day)]
        newest = max(supported, key=lambda v: facts[v]["released"], default=None)
        if newest is None:
            return "a supported release"
        steps = _upgrade_path(facts, version, newest)[1:-1]
        if not steps:
            return _release_name(newest)
        ended = [_release_name(v) for v in steps if v not in supported]
        transit = (f"; {' and '.join(ended)} {'is' if len(ended) == 1 else 'are'} out of support: "
                   f"{'a step' if len(ended) == 1 else 'steps'} of the move only" if ended else "")
        return (f"{_release_name(newest)} by way of {' and '.join(map(_release_name, steps))} ({_release_name(newest)} "
                f"cannot be installed beside {_release_name(version)}{transit})")

    def warnings(self, i: int = 0, *, how_to: bool = True) -> list[str]:
        """Profile-level warnings: the Exchange version's lifecycle against the horizon, rule changes that shorten the
        recommended option's renewals, internal names asked for without any, amounts in another currency (with
        `how_to`, how the tool's user prices them in the profile's: not for the client's appendix)."""
        row = self.profiles.iloc[i]
        version = row["exchange_version"]
        facts = self.params.exchange_versions[str(version)]
        first, last = int(row["start"]), horizon_end_day(int(row["start"]), row["horizon_years"])
        start, end = from_day(first), from_day(last - 1)
        released, eos = facts["released"], facts["end_of_support"]  # dates (eos may be None), checked on loading
        out = []
        if start < released:
            out.append(f"Exchange {version} was released on {released}, after the start of the horizon ({start}): the "
                       f"commands assume Exchange {version} is installed; until it is, use those of the version in place.")
        if eos and eos <= start:
            out.append(f"Exchange {version} has been out of support since {eos}: "
                       f"plan the move to {self._successor(str(version), start)} or Exchange Online.")
        elif eos and eos <= end:
            out.append(f"Exchange {version} goes out of support on {eos}, inside the horizon (which runs to {end}): no "
                       "security fixes after that date, so the certificate plan outlives the server; plan the move to "
                       f"{self._successor(str(version), eos)} or Exchange Online before it.")
        winner = self.recommendations.iloc[i]["recommendation"]
        shorter = self.shorter_lifetimes(i, winner) if winner in OPTIONS else []
        if shorter:
            steps = [f"{days:g} days from {day}" for day, days in shorter]
            listed = and_list(steps)
            out.append(f"Dated lifetime rules shorten the certificates of the recommended option ({LABELS[winner]}) "
                       f"during the horizon, to {listed}: they are renewed more often from "
                       f"{'that date' if len(steps) == 1 else 'those dates'}.")
        if row["internal_names"] and not row["internal_domain"] and not row["servers"]:
            out.append("Internal names are asked for, but neither the Active Directory domain nor the servers are given: "
                       "no internal name is added.")
        return out + self._weight_scale_warnings(row, i) + currency.warnings(row, self.params, self.catalog, how_to=how_to)

    def _weight_scale_warnings(self, row: pd.Series, i: int) -> list[str]:
        """A warning where the weights look written on different scales: some fractions below 1, one above 1 and at
        least `weight_scale_warning_ratio` times the smallest non-zero one (40 meant as 40 % beside 0.3); `row`: profile `i`."""
        raw = {w: float(row[w]) for w in WEIGHT_FIELDS}
        given = [v for v in raw.values() if v > 0]
        largest = max(raw, key=raw.__getitem__)
        if not (raw[largest] > 1 and min(given) < 1
                and raw[largest] >= float(self.params.value("weight_scale_warning_ratio")) * min(given)):
            return []
        fractions = [w for w, v in raw.items() if 0 < v < 1]
        share = self.scored.weights[i][WEIGHT_FIELDS.index(largest)]
        return [f"The weights look written on different scales: {largest} is {raw[largest]:g} while {and_list(fractions)} "
                f"{'is' if len(fractions) == 1 else 'are'} below 1. Weights count relative to their sum, so "
                f"{largest} carries {share:.1%} of the weight. If {raw[largest]:g} meant {raw[largest]:g} %, write "
                f"{raw[largest] / 100:g} (or {raw[largest]:g}%)."]


def _release_name(version: str) -> str:
    return "Exchange Server SE" if version == "SE" else f"Exchange {version}"


def _upgrade_path(facts: Mapping[str, Mapping[str, Any]], start: str, goal: str) -> list[str]:
    """The fewest releases from `start` to `goal`, each installed beside the one before (`coexists_with`), newer
    steps first where several are as short; [start, goal] when the data know no way."""
    newest_first = sorted(facts, key=lambda v: facts[v]["released"], reverse=True)
    paths, frontier = {start: [start]}, [start]
    while frontier and goal not in paths:  # breadth first: the fewest steps
        reached = []
        for v in frontier:
            for w in newest_first:
                if w not in paths and v in facts[w]["coexists_with"]:
                    paths[w] = [*paths[v], w]
                    reached.append(w)
        frontier = reached
    return paths.get(goal, [start, goal])


def _load_data(parameters: Parameters | str | Path | None, catalog: Catalog | str | Path | None
               ) -> tuple[Parameters, Catalog]:
    # a Parameters or Catalog first: str() of one is its dataclass repr, every array printed (~2.5 ms the two)
    if isinstance(parameters, Parameters):
        params = parameters
    elif parameters is None or str(parameters) == str(PARAMETERS_FILE):
        params = default_parameters()
    else:
        params = load_parameters(parameters)
    if isinstance(catalog, Catalog):
        cat = catalog
    elif catalog is None or (str(catalog) == str(CATALOG_FILE) and params is default_parameters()):
        cat = default_catalog()
    else:
        cat = load_catalog(catalog, params)
    return params, cat


def evaluate(profiles: Any, *, parameters: Parameters | str | Path | None = None,
             catalog: Catalog | str | Path | None = None, today: dt.date | None = None,
             names: bool = True) -> Evaluation:
    """Score profiles given as a DataFrame, a mapping, a list of mappings or a file path.

    Rows that fail validation are left out of the tables and listed in `issues`.
    """
    params, cat = _load_data(parameters, catalog)
    valid = profiles if isinstance(profiles, ProfileSet) else load_profiles(profiles, params, cat, today=today)
    scored = score_frame(valid.frame, params, cat)
    table = long_table(scored, cat, params, names=names)
    recs = recommendations(scored)
    return Evaluation(valid.frame, table, recs, valid.issues, params, cat, scored)
