"""Multilingual: how well each language is served, as a language x metric heat map by tier."""

from __future__ import annotations

import streamlit as st

from audit.report.frames import GROUP_PREFIX, concat
from dashboard.charts import heat_maps
from dashboard.family import family_page
from dashboard.ui import how_to_read, select_runs

LANGUAGE, TIER = "language", "tier"

runs = select_runs()
frame = family_page(runs, "multilingual", "Multilingual",
                    "How well the model serves each language compared with English: "
                    "understanding, cost of processing, and whether it answers in the "
                    "language it was asked in.")

st.header("Languages at a glance")
by_language = frame[frame["group_dim"] == LANGUAGE].rename(columns={"group_value": LANGUAGE})
if by_language.empty:
    st.info("The selected runs report no per-language metrics, so there is no heat map to "
            "draw. Run `fm-audit run --suites multilingual` for them.")
    st.stop()
run_labels = list(dict.fromkeys(by_language["run"]))
shown_run = st.selectbox("Run for the heat map", run_labels) if len(run_labels) > 1 \
    else run_labels[0]
cells = by_language[by_language["run"] == shown_run]
samples = concat([r.samples for r in runs if r.label == shown_run])
tier_column = GROUP_PREFIX + TIER
if {GROUP_PREFIX + LANGUAGE, tier_column} <= set(samples.columns):
    tiers = samples.drop_duplicates(GROUP_PREFIX + LANGUAGE).set_index(
        GROUP_PREFIX + LANGUAGE)[tier_column]
    cells = cells.assign(tier=cells[LANGUAGE].map(tiers).fillna("unknown"))
else:
    st.caption("The samples carry no resource tier, so languages are not grouped by tier.")
charts = heat_maps(cells, LANGUAGE, tier=TIER if TIER in cells else None)
for number, chart in enumerate(charts, 1):
    if len(charts) > 1:
        st.caption(f"Metrics, part {number} of {len(charts)}")
    st.altair_chart(chart)
how_to_read("one row per language (ISO 639-3 code), one column per metric; the number is the "
            "measured value, the colour ranks the languages on that metric from worst (red) to "
            "best (green), following whether higher or lower is better for it.")
