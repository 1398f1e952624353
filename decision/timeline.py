"""When the money is spent: dated cost events per option, and the rule changes inside a horizon.

The events are an expansion of the same components the engine sums into `cost_total` and `tco`, so
a cumulative chart always ends at the table's numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from decision.dates import from_day, horizon_end_day, year_starts
from decision.engine import Evaluation
from decision.options import LABELS, OPTIONS
from decision.renewals import fresh_validations

EVENT_KINDS = ("fees", "setup", "issuance labour", "monitoring", "extra IP", "clients and users")


def cost_events(ev: Evaluation, i: int = 0, options: tuple[str, ...] = OPTIONS) -> pd.DataFrame:
    """Dated cost events of profile `i`: option, date, kind, amount (direct cost, or clients and users)."""
    profile = ev.profiles.iloc[i]
    start, years = int(profile["start"]), float(profile["horizon_years"])
    admin, user = float(profile["admin_rate"]) / 60.0, float(profile["user_rate"]) / 60.0
    dcv, reuse = ev.params["dcv_minutes_per_name"], ev.params["dcv_reuse_days"]
    firsts = year_starts(start, years)
    year_shares = [min(1.0, years - k) for k in range(len(firsts))]
    rows: list[tuple[str, int, str, float]] = []
    for option in options:
        c = ev.scored.components[option]
        rows += [(option, d, "fees", float(fee)) for d, fee in zip(firsts, c.year_fees(i), strict=True)]
        rows.append((option, start, "setup", float(c.setup_minutes[i]) * admin))
        issued = c.schedule.dates_of(i) if c.schedule is not None else np.array([], dtype=np.int64)
        fresh = fresh_validations(issued[None, :], reuse.at)[0]  # the issuances that validate the names afresh
        per_issue = c.issuance_minutes[i] + c.dcv_names[i] * dcv.at(issued) * fresh if len(issued) else []
        rows += [(option, int(d), "issuance labour", float(m) * admin) for d, m in zip(issued, per_issue, strict=True)]
        rows += [(option, d, "monitoring", float(c.yearly_minutes[i]) * admin * s)
                 for d, s in zip(firsts, year_shares, strict=True)]
        rows += [(option, d, "extra IP", float(c.ip_per_month[i]) * 12.0 * s)
                 for d, s in zip(firsts, year_shares, strict=True)]
        clients = (c.device_minutes[i] + c.client_setup_minutes[i]) * admin + c.user_minutes[i] * user
        rows.append((option, start, "clients and users", float(clients)))
    events = pd.DataFrame(rows, columns=["option", "day", "kind", "amount"])
    events = events[events["amount"] > 0].copy()
    events["date"] = pd.to_datetime(events["day"], unit="D")
    events["label"] = events["option"].map(LABELS)
    return events.sort_values(["option", "day", "kind"], kind="stable").reset_index(drop=True)


def cumulative(ev: Evaluation, i: int = 0, *, include_clients: bool = False) -> pd.DataFrame:
    """Cumulative cost per option on each event date (and at the horizon's end), for step charts."""
    events = cost_events(ev, i)
    if not include_clients:
        events = events[events["kind"] != "clients and users"]
    profile = ev.profiles.iloc[i]
    end = horizon_end_day(int(profile["start"]), profile["horizon_years"])
    daily = events.groupby(["option", "day"], as_index=False)["amount"].sum()
    frames = []
    for option in OPTIONS:
        part = daily[daily["option"] == option]
        days = np.concatenate([[int(profile["start"])], part["day"].to_numpy(), [end]])
        amounts = np.concatenate([[0.0], part["amount"].to_numpy(), [0.0]])
        frame = pd.DataFrame({"option": option, "day": days, "amount": amounts})
        frame = frame.groupby(["option", "day"], as_index=False)["amount"].sum()
        frame["cumulative"] = frame["amount"].cumsum().round(2)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out["date"] = pd.to_datetime(out["day"], unit="D")
    out["label"] = out["option"].map(LABELS)
    return out


def rule_changes(ev: Evaluation, i: int = 0) -> pd.DataFrame:
    """Dated rule changes inside profile `i`'s horizon that change renewal cadence or validation work."""
    profile = ev.profiles.iloc[i]
    first = int(profile["start"])
    last = horizon_end_day(first, profile["horizon_years"])
    rows = []
    for name, text in (("public_max_lifetime_days", "public lifetime max {} days"),
                       ("letsencrypt_lifetime_days", "Let's Encrypt lifetime {} days"),
                       ("dcv_reuse_days", "domain validation reused for at most {} days")):
        dated = ev.params[name]
        rows += [(int(day), text.format(value), name) for day, value in zip(dated.starts, dated.values, strict=True)
                 if first < day < last]
    for name, text in (("email_dcv_end", "e-mail domain validation ends"),
                       ("internal_names_rule_from", "internal names only on public certificates expiring by "
                                                    f"{ev.params.value('internal_names_ban')}"),
                       ("internal_names_ban", "internal names banned on public certificates"),
                       ("internal_names_revocation", "public certificates still carrying internal names revoked")):
        day = ev.params.day(name)
        if first < day < last:
            rows.append((day, text, name))
    frame = pd.DataFrame(rows, columns=["day", "rule", "parameter"]).sort_values("day", kind="stable")
    frame["date"] = [from_day(d).isoformat() for d in frame["day"]]
    return frame.reset_index(drop=True)
