"""Compare: two or more runs on the items they share, deltas with paired 95% CIs."""

from __future__ import annotations

import streamlit as st

from audit.report.compare import SIGNIFICANCE_RULE
from audit.report.frames import run_deltas
from dashboard.charts import delta_chart
from dashboard.ui import format_value, how_to_read, plain, select_runs


@st.cache_data(show_spinner="Pairing items and bootstrapping…", max_entries=32)
def _deltas(paths: tuple[str, ...], fingerprints: tuple[str, ...]):
    """Deltas of every run against the first (cached on the runs' fingerprints)."""
    del fingerprints  # part of the cache key only
    return run_deltas(list(paths))


runs = select_runs(minimum=2)
st.title("Compare runs")
st.write("Each run against a baseline, on the items both answered: the difference of every "
         "metric with its paired 95% confidence interval.")
labels = {r.run_id: r.label for r in runs}
baseline = st.selectbox("Baseline", list(labels), format_func=labels.get)
ordered = [r for r in runs if r.run_id == baseline] + [r for r in runs if r.run_id != baseline]
frame = _deltas(tuple(r.path for r in ordered), tuple(r.fingerprint for r in ordered))
if frame.empty:
    st.info("These runs share no suite, so there is nothing to compare. Choose runs that ran "
            "the same suites.")
    st.stop()
left, middle, right = st.columns(3)
significant_only = left.toggle("Only significant differences", value=False,
                               help=f"Keep only significant deltas: {SIGNIFICANCE_RULE}.")
suites = middle.multiselect("Suite", sorted(frame["suite"].unique()))
overall_only = right.toggle("Overall values only", value=True,
                            help="Hide the per-group (subject, language, ...) deltas.")
shown = frame
if significant_only:
    shown = shown[shown["significant"]]
if suites:
    shown = shown[shown["suite"].isin(suites)]
if overall_only:
    shown = shown[shown["group"] == "overall"]
if shown.empty:
    st.info("No difference matches these filters: with the items tested, the runs cannot be "
            "told apart. Switch off 'Only significant differences' to see every delta.")
    st.stop()
shown = shown.assign(run=shown["run_b"].map(labels), against=shown["run_a"].map(labels))
for suite in dict.fromkeys(shown["suite"]):
    part = shown[shown["suite"] == suite]
    st.subheader(plain(suite))
    st.altair_chart(delta_chart(part), width="stretch")
    how_to_read(f"each dot is how far a run differs from the baseline ({labels[baseline]}) "
                "on the same items; the bar is its 95% confidence interval. A bar that "
                "crosses the dashed zero line means no difference was shown.")
    st.dataframe(part.assign(
        **{"baseline value": [format_value(v, u) for v, u in
                              zip(part["value_a"], part["unit"], strict=True)],
           "run value": [format_value(v, u) for v, u in
                         zip(part["value_b"], part["unit"], strict=True)]},
    )[["run", "label", "group", "baseline value", "run value", "delta", "ci_low", "ci_high",
       "n_pairs", "significant", "too_few_items", "improved", "method"]].rename(columns={
        "label": "metric", "ci_low": "CI low", "ci_high": "CI high",
        "n_pairs": "paired items", "too_few_items": "too few items to tell"}),
        hide_index=True, width="stretch")
