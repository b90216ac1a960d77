"""One page layout for every suite family (capability, bias, multilingual, misuse): for each
suite the selected runs have, its headline metrics with CIs and a breakdown per group."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from audit.report.frames import OVERALL, RunData
from dashboard.charts import ci_chart
from dashboard.ui import how_to_read, metric_definitions, metrics_of, plain, scorecard

GROUP_NAMES = {"language": "language", "tier": "resource tier"}


def family_metrics(runs: list[RunData], family: str, title: str) -> pd.DataFrame:
    """Metric rows of the family in the selected runs; stops with a helpful message if none."""
    frame = metrics_of(runs)
    frame = frame[frame["family"] == family] if not frame.empty else frame
    if frame.empty:
        st.info(f"None of the selected runs has {title.lower()} results. Run "
                f"`fm-audit run --suites {family}` to add them, or choose another run in "
                "the sidebar.")
        st.stop()
    return frame


def suite_section(runs: list[RunData], frame: pd.DataFrame, suite: str) -> None:
    """Headline chart, scorecard table and per-group breakdowns of one suite."""
    rows = frame[frame["suite"] == suite]
    owner = next(r for r in runs if suite in r.results.get("suites", {}))
    entry = owner.results["suites"][suite]
    st.subheader(plain(suite))
    st.text(entry.get("description", ""))
    if entry.get("limits"):
        st.text(f"Limits: {entry['limits']}")
    overall = rows[rows["group"] == OVERALL]
    for _, part in overall.groupby("unit", sort=False):
        st.altair_chart(ci_chart(part, "label"), width="stretch")
    how_to_read("each dot is the measured value and the bar its 95% confidence interval; "
                "where the bars of two runs overlap, the data cannot tell them apart.")
    st.dataframe(scorecard(rows), hide_index=True, width="stretch")
    metric_definitions(owner.metric_info(suite))
    groups = rows.dropna(subset=["group_dim"])
    for dim in groups["group_dim"].unique():
        by_dim = groups[groups["group_dim"] == dim]
        labels = list(dict.fromkeys(by_dim["label"]))
        chosen = st.selectbox(f"Metric by {plain(GROUP_NAMES.get(dim, dim))}", labels,
                              key=f"{suite}:{dim}")
        part = by_dim[by_dim["label"] == chosen].rename(columns={"group_value": dim})
        st.altair_chart(ci_chart(part, dim, title=f"{chosen} by {GROUP_NAMES.get(dim, dim)}"),
                        width="stretch")
        how_to_read(f"one row per {GROUP_NAMES.get(dim, dim)}; groups with few items (small n) "
                    "have wide bars, so differences between them may be chance.")
    for skipped in entry.get("skipped", []):
        st.text(f"Skipped {skipped['what']}: {skipped['reason']}")


def family_page(runs: list[RunData], family: str, title: str, intro: str) -> pd.DataFrame:
    """The whole page of one family; returns its metric rows for page-specific additions."""
    st.title(title)
    st.write(intro)
    frame = family_metrics(runs, family, title)
    for suite in dict.fromkeys(frame["suite"]):
        suite_section(runs, frame, suite)
        st.divider()
    missing = [r.run_id for r in runs if not r.suites(family)]
    if missing:
        st.text(f"No {title.lower()} suites in: {', '.join(missing)}.")
    return frame
