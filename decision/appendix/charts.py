"""The appendix's charts: Altair specs built from engine tables, rendered offline by vl-convert.

PNG for Word and Markdown, SVG for HTML. vl-convert runs Vega in an embedded engine; no base URL is
allowed, so rendering never touches the network.
"""

from __future__ import annotations

import re
from functools import lru_cache

import altair as alt
import numpy as np
import pandas as pd
import vl_convert as vlc

from decision.options import LABELS, OPTIONS
from decision.views import OPTION_COLOURS  # the app's colours, so an option looks the same everywhere

FONT = "DejaVu Sans"
WIDTH, HEIGHT = 560, 280
PNG_SCALE = 2
LABEL_ROW = 12  # pixels between the text rows of rule-change labels
POINT_RADIUS = 14  # pixels: trade-off points nearer than this overlap (a size-160 point is 14 px across)


def _colour(options: list[str]) -> alt.Scale:
    """The shared colours, with only the options shown in the legend."""
    present = [o for o in OPTIONS if o in options]
    return alt.Scale(domain=[LABELS[o] for o in present], range=[OPTION_COLOURS[o] for o in present])


def _configure(chart: alt.TopLevelMixin) -> str:
    return (chart.properties(width=WIDTH, height=HEIGHT, background="white")
            .configure(font=FONT)
            .configure_axis(labelFontSize=11, titleFontSize=11, gridColor="#e6e6e6")
            .configure_legend(orient="bottom", columns=3, labelFontSize=11, labelLimit=0, title=None, symbolSize=90,
                              columnPadding=18)
            .configure_view(stroke=None)
            .to_json(indent=None, validate=False))


def overlapping(data: pd.DataFrame, radius: float = POINT_RADIUS) -> list[list[str]]:
    """Groups of options (rank order) whose points in the trade-off chart lie within `radius` pixels of another's.

    Pixels as the chart scales them: cost from 0 to the largest cost over WIDTH, score 0–100 over HEIGHT."""
    x = data["cost"].to_numpy(dtype=float) / max(float(data["cost"].max()), 1.0) * WIDTH
    y = data["score"].to_numpy(dtype=float) / 100 * HEIGHT
    near = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :]) < radius
    group = list(range(len(data)))  # single linkage: each point joins the group of any near point before it
    for j in range(len(data)):
        for k in range(j):
            if near[j, k]:
                old, new = group[j], group[k]
                group = [new if g == old else g for g in group]
    options = data["option"].to_list()
    groups = [[o for o, g in zip(options, group, strict=True) if g == key] for key in dict.fromkeys(group)]
    return [g for g in groups if len(g) > 1]


def tradeoff_chart(rows: pd.DataFrame, winner: str | None, currency: str) -> str:
    """Direct cost (x) against score (y) of the feasible options; the recommended one drawn last (on top) and
    ringed, and points that overlap named below them, so a covered option is never taken for the ringed one."""
    data = pd.DataFrame({
        "option": rows["option"].to_list(),
        "label": rows["option"].map(LABELS).to_list(),
        "cost": rows["cost_total"].astype(float).to_list(),
        "score": rows["score"].astype(float).to_list(),
    })
    colour = alt.Color("label:N", scale=_colour(data["option"].to_list()), title=None)
    x = alt.X("cost:Q", title=f"Direct cost over the horizon ({currency})", axis=alt.Axis(format=",.0f"),
              scale=alt.Scale(zero=True, nice=True))
    y = alt.Y("score:Q", title="Score (of 100)", scale=alt.Scale(domain=[0, 100]))
    best = data[data["option"] == winner]

    def points(frame: pd.DataFrame) -> alt.Chart:
        return alt.Chart(frame).mark_point(filled=True, size=160, opacity=0.95).encode(x=x, y=y, color=colour)

    layers: list[alt.Chart] = [points(data[data["option"] != winner])]
    if len(best):
        ring = alt.Chart(best).mark_point(size=520, strokeWidth=2, color="#333333").encode(x="cost:Q", y="score:Q")
        note = alt.Chart(best).mark_text(dy=-20, fontSize=11, fontWeight="bold", color="#333333").encode(
            x="cost:Q", y="score:Q", text=alt.value("recommended"))
        layers += [points(best), ring, note]
    groups = overlapping(data)
    if groups:
        first = data.set_index("option")
        where = pd.DataFrame({"cost": [first.at[g[0], "cost"] for g in groups],
                              "score": [first.at[g[0], "score"] for g in groups],
                              "text": ["overlapping: " + " · ".join(LABELS[o] + (" (on top)" if o == winner else "") for o in g)
                                       for g in groups]})
        layers.append(alt.Chart(where).mark_text(dy=22, fontSize=10, color="#333333").encode(
            x="cost:Q", y="score:Q", text="text:N"))
    return _configure(alt.layer(*layers))


def cumulative_chart(steps: pd.DataFrame, changes: pd.DataFrame, currency: str) -> str:
    """Step lines of cumulative direct cost per option, with the dated rule changes as rules."""
    data = pd.DataFrame({
        "option": steps["option"].to_list(),
        "label": steps["label"].to_list(),
        "date": steps["date"].dt.strftime("%Y-%m-%d").to_list(),
        "cumulative": steps["cumulative"].astype(float).to_list(),
    })
    x_scale = alt.Scale(type="utc")
    lines = alt.Chart(data).mark_line(interpolate="step-after", strokeWidth=2.2).encode(
        x=alt.X("date:T", title=None, scale=x_scale, axis=alt.Axis(format="%b %Y", labelAngle=0, tickCount=6)),
        y=alt.Y("cumulative:Q", title=f"Cumulative direct cost ({currency})", axis=alt.Axis(format=",.0f")),
        color=alt.Color("label:N", scale=_colour(data["option"].to_list()), title=None),
    )
    layers = [lines]
    if len(changes):
        rules_data = pd.DataFrame({"date": changes["date"].to_list(), "rule": changes["rule"].to_list(),
                                   "row": [LABEL_ROW * k + 2 for k in range(len(changes))]})
        rule = alt.Chart(rules_data).mark_rule(strokeDash=[4, 3], color="#888888").encode(
            x=alt.X("date:T", scale=x_scale))
        # one text row per rule change, so labels of close dates never overlap
        text = alt.Chart(rules_data).mark_text(align="left", baseline="top", dx=3, fontSize=9, color="#444444").encode(
            x=alt.X("date:T", scale=x_scale), y=alt.Y("row:Q", scale=None), text="rule:N")
        layers += [rule, text]
    return _configure(alt.layer(*layers))


@lru_cache(maxsize=32)
def to_png(spec: str) -> bytes:
    """A PNG of the chart at twice its CSS size (sharp in print)."""
    return vlc.vegalite_to_png(spec, scale=PNG_SCALE, allowed_base_urls=[])


@lru_cache(maxsize=32)
def to_svg(spec: str, prefix: str) -> str:
    """An SVG of the chart for inline HTML; element ids get `prefix` so several charts can share a page."""
    svg = vlc.vegalite_to_svg(spec, allowed_base_urls=[])
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}-{m.group(1)})", svg)
    return re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}-{m.group(1)}"', svg)
