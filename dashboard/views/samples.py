"""Samples: every request of the selected runs, searchable and filterable, with the model's
output shown as plain text and harmful outputs hidden until explicitly revealed."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from audit.report.frames import GROUP_PREFIX, SCORE_PREFIX, group_label
from dashboard.ui import combined, plain, select_runs

PAGE_SIZE = 20
FILTERS_PER_ROW = 3

runs = select_runs()
st.title("Samples")
st.write("Every item the model was given, what it answered and how it was scored. Model "
         "output is shown as plain text, exactly as produced.")
labels = {r.run_id: r.label for r in runs}
frame = combined(runs, "samples", "samples")
score_labels = {name: meta.get("label") or name for r in runs
                for suite in r.suites() for name, meta in r.metric_info(suite).items()}

query = st.text_input("Search prompts, outputs and ids", placeholder="e.g. capital")
suites = st.multiselect("Suite", sorted(frame["suite"].unique()))
if suites:
    frame = frame[frame["suite"].isin(suites)]
if len(runs) > 1:
    chosen_runs = st.multiselect("Run", list(labels), format_func=labels.get)
    if chosen_runs:
        frame = frame[frame["run_id"].isin(chosen_runs)]
group_columns = [c for c in frame.columns if c.startswith(GROUP_PREFIX)
                 and frame[c].notna().any()]
# At most FILTERS_PER_ROW filters side by side, so each stays wide enough to read its values.
places = [place for start in range(0, len(group_columns), FILTERS_PER_ROW)
          for place in st.columns(FILTERS_PER_ROW)]
for column, place in zip(group_columns, places, strict=False):
    values = place.multiselect(plain(column.removeprefix(GROUP_PREFIX).capitalize()),
                               sorted(frame[column].dropna().unique()))
    if values:
        frame = frame[frame[column].isin(values)]
if frame["correct"].notna().any():
    outcome = st.radio("Answer", ["all", "correct", "incorrect"], horizontal=True)
    if outcome != "all":
        frame = frame[frame["correct"] == (outcome == "correct")]
binary_scores = [c for c in frame.columns if c.startswith(SCORE_PREFIX)
                 and frame[c].dropna().isin([0, 1]).all() and frame[c].notna().any()]
if binary_scores:
    score_col, value_col = st.columns(2)
    score = score_col.selectbox(
        "Filter on a yes/no score (e.g. refused)", ["none", *binary_scores],
        format_func=lambda c: "none" if c == "none"
        else score_labels.get(c.removeprefix(SCORE_PREFIX), c.removeprefix(SCORE_PREFIX)))
    if score != "none":
        wanted = value_col.radio("Value", ["yes (1)", "no (0)"], horizontal=True)
        frame = frame[frame[score] == (1 if wanted.startswith("yes") else 0)]
if query:
    needle = query.lower()
    haystack = frame["id"] + "\n" + frame["prompt"] + "\n" + frame["output"]
    frame = frame[haystack.str.lower().str.contains(needle, regex=False)]

total = len(frame)
pages = max(1, -(-total // PAGE_SIZE))
page = st.number_input(f"Page (of {pages})", min_value=1, max_value=pages, value=1) \
    if pages > 1 else 1
st.caption(f"{total} sample(s) match; showing {min(PAGE_SIZE, total)} per page.")


def _groups(row: pd.Series) -> str:
    return group_label({c.removeprefix(GROUP_PREFIX): row[c] for c in group_columns
                        if isinstance(row[c], str)})


for _, row in frame.iloc[(page - 1) * PAGE_SIZE: page * PAGE_SIZE].iterrows():
    with st.container(border=True):
        st.text(f"{labels[row['run_id']]}  |  {row['suite']}  |  {row['id']}  |  "
                f"{_groups(row)}")
        st.caption("Prompt")
        st.code(row["prompt"], language=None, wrap_lines=True)
        st.caption("Output")
        if row["redact"]:
            st.warning("This output answers a request for harmful content and is hidden.")
            if st.toggle("Reveal this output", key=f"reveal:{row['run_id']}:{row['suite']}:"
                                                   f"{row['id']}"):
                st.code(row["output"], language=None, wrap_lines=True)
        else:
            st.code(row["output"], language=None, wrap_lines=True)
        scores = {score_labels.get(c.removeprefix(SCORE_PREFIX), c.removeprefix(SCORE_PREFIX)):
                  row[c] for c in frame.columns if c.startswith(SCORE_PREFIX)
                  and not pd.isna(row[c])}
        st.text("Scores: " + ", ".join(f"{k} = {v:g}" if isinstance(v, (int, float))
                                       else f"{k} = {v}" for k, v in scores.items()))
