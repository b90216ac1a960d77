"""Altair charts of metric frames: point estimates with 95% CI error bars, heat maps, energy.

Every chart takes a frame from `audit.report.frames` (plus a `run` column naming each run) and
labels metrics by their declared label, never by a hard-coded name.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from dashboard.ui import with_display

# Resource tiers from most to least served; other tier names follow alphabetically.
TIER_ORDER = ("high", "mid", "low")
# Pixels a y-axis label may take before it is cut with an ellipsis (Vega-Lite's default: 180),
# enough for a metric label and its group, so "observed" and "corrected" stay apart.
LABEL_LIMIT = 420
HEAT_MAP_COLUMNS = 6
"""Metrics per heat map: 6 columns of 110 px, the language labels and the legend fit the
content area of a 1,280 px window with the sidebar open."""


def _axis_format(units: pd.Series) -> str:
    return ".0%" if set(units) == {"proportion"} else ".3g"


def ci_chart(frame: pd.DataFrame, category: str, title: str = "") -> alt.Chart:
    """Each row's value as a point with its 95% CI as an error bar; `category` on the y axis,
    one colour (and offset) per run."""
    data = with_display(frame)
    axis_format = _axis_format(frame["unit"])
    base = alt.Chart(data).encode(
        y=alt.Y(f"{category}:N", title=None, sort=None, axis=alt.Axis(labelLimit=LABEL_LIMIT)),
        yOffset=alt.YOffset("run:N"),
        color=_run_colour(data),
        tooltip=[alt.Tooltip("run:N", title="Run"), alt.Tooltip(f"{category}:N"),
                 alt.Tooltip("shown:N", title="Value"), alt.Tooltip("ci:N", title="95% CI"),
                 alt.Tooltip("n:Q", title="n")])
    bars = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("ci_low:Q", title="Value with 95% confidence interval",
                axis=alt.Axis(format=axis_format)),
        x2="ci_high:Q")
    points = base.mark_point(filled=True, size=70).encode(x="value:Q")
    return (bars + points).properties(title=title, height=_height(data, category))


def _run_colour(data: pd.DataFrame) -> alt.Color:
    """Colour by run; a legend (on the right: Streamlit fits a chart, legend included, into its
    height, so a legend below squeezes the rows) only when there is more than one run."""
    legend = alt.Legend(labelLimit=320) if data["run"].nunique() > 1 else None
    return alt.Color("run:N", title="Run", legend=legend)


def _height(data: pd.DataFrame, category: str) -> int:
    """Enough room for every category and, within it, one line per run, plus the x axis
    (Streamlit fits the whole chart, axes included, into this height)."""
    return 32 * max(1, data[category].nunique()) * max(1, data["run"].nunique()) + 90


def standing(frame: pd.DataFrame) -> pd.Series:
    """Each value's place between the worst (0) and best (1) value of its metric, following the
    metric's declared direction; used only to colour heat maps."""
    result = pd.Series(0.5, index=frame.index, dtype=float)
    for _, rows in frame.groupby("metric"):
        values = rows["value"].astype(float)
        better = rows["better"].iloc[0]
        if better == "target" and not pd.isna(rows["target"].iloc[0]):
            values = -(values - float(rows["target"].iloc[0])).abs()
        elif better == "lower":
            values = -values
        low, high = values.min(), values.max()
        result.loc[rows.index] = 0.5 if high == low else (values - low) / (high - low)
    return result


def heat_map(frame: pd.DataFrame, row: str, tier: str | None = None) -> alt.Chart:
    """`row` (e.g. language) x metric heat map; colour = standing among the rows (green best,
    by the metric's own direction), text = the value; faceted by `tier` when given."""
    data = with_display(frame).assign(standing=standing(frame))
    base = alt.Chart().encode(
        x=alt.X("label:N", title=None, axis=alt.Axis(labelAngle=-30, labelLimit=200)),
        y=alt.Y(f"{row}:N", title=None),
        tooltip=[alt.Tooltip(f"{row}:N"), alt.Tooltip("label:N", title="Metric"),
                 alt.Tooltip("shown:N", title="Value"), alt.Tooltip("ci:N", title="95% CI"),
                 alt.Tooltip("n:Q", title="n")])
    cells = base.mark_rect().encode(color=alt.Color(
        "standing:Q", scale=alt.Scale(scheme="redyellowgreen", domain=[0, 1]),
        legend=alt.Legend(title="Standing", values=[0, 1],
                          labelExpr="datum.value == 0 ? 'worst' : 'best'")))
    text = base.mark_text(fontSize=12).encode(text="shown:N")
    def layered(part: pd.DataFrame, title: str = "") -> alt.LayerChart:
        return alt.layer(cells, text, data=part).properties(
            width=alt.Step(110), height=alt.Step(26), title=title)

    if not tier:
        return layered(data)
    order = [t for t in TIER_ORDER if t in set(data[tier])]
    order += sorted(set(data[tier]) - set(order))
    return alt.vconcat(*[layered(data[data[tier] == t], f"{t}-resource languages")
                         for t in order])


def heat_maps(frame: pd.DataFrame, row: str, tier: str | None = None,
              per_chart: int = HEAT_MAP_COLUMNS) -> list[alt.Chart]:
    """`heat_map` cut into charts of at most `per_chart` metrics each, in the frame's metric
    order, so that any number of metrics fits the page's width instead of scrolling sideways;
    a value's colour is still its standing among all the rows, as in one chart."""
    data = frame.assign(standing=standing(frame))
    labels = list(dict.fromkeys(with_display(frame)["label"]))
    shown = with_display(frame)["label"]
    return [heat_map(data[shown.isin(labels[start:start + per_chart])], row, tier)
            for start in range(0, len(labels), per_chart)]


def energy_chart(frame: pd.DataFrame, y: str, x: str, title: str) -> alt.Chart:
    """Horizontal bars of an energy figure, coloured by how it was obtained (measured or
    estimated), so an estimate is never mistaken for a measurement."""
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X(f"{x}:Q", title=title), y=alt.Y(f"{y}:N", title=None),
        yOffset=alt.YOffset("run:N"),
        color=alt.Color("method:N", title="How obtained",
                        scale=alt.Scale(domain=["measured", "estimated",
                                                "mixed (measured and estimated)"],
                                        range=["#1b7837", "#b2abd2", "#8073ac"])),
        tooltip=["run:N", f"{y}:N", alt.Tooltip(f"{x}:Q", format=".4g"), "method:N"],
    ).properties(height=_height(frame, y))


def delta_chart(frame: pd.DataFrame) -> alt.Chart:
    """Paired deltas (run minus baseline) with their 95% CIs around a dashed zero line."""
    data = frame.assign(row=frame["label"] + frame["group"].map(
        lambda g: "" if g == "overall" else f" ({g})"))
    # Differences of percentages are percentage points, not percent.
    axis = alt.Axis(labelExpr="format(datum.value * 100, '+.0f') + ' pts'") \
        if set(frame["unit"]) == {"proportion"} else alt.Axis(format=".3g")
    base = alt.Chart(data).encode(
        y=alt.Y("row:N", title=None, sort=None, axis=alt.Axis(labelLimit=LABEL_LIMIT)),
        yOffset=alt.YOffset("run:N"),
        color=_run_colour(data),
        tooltip=["run:N", "row:N", alt.Tooltip("delta:Q", format=".3g"),
                 alt.Tooltip("ci_low:Q", format=".3g"), alt.Tooltip("ci_high:Q", format=".3g"),
                 "n_pairs:Q", "method:N"])
    bars = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("ci_low:Q", title="Difference from the baseline, with 95% CI", axis=axis),
        x2="ci_high:Q")
    points = base.mark_point(filled=True, size=70).encode(x="delta:Q")
    zero = alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(strokeDash=[4, 4]).encode(
        x="zero:Q")
    return (bars + points + zero).properties(height=_height(data, "row"))
