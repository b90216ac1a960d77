"""Compare: two or more runs on the items they share. What changed comes first (the same
summary as the comparison report), then the delta charts per suite, then the full table."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from audit.formatting import format_value
from audit.report.compare import SIGNIFICANCE_RULE, MetricDelta
from audit.report.frames import run_comparison
from audit.report.model import ChangeCount, ChangeSummary
from audit.report.summary import difference_text, quantity
from dashboard.charts import delta_chart
from dashboard.parity import parity_section
from dashboard.policy import NO_POLICY, policy_choices
from dashboard.ui import how_to_read, plain, select_runs

DIRECTION = {True: "better", False: "WORSE", None: "changed (no better direction)"}


@st.cache_data(show_spinner="Pairing items and comparing…", max_entries=32)
def _comparison(paths: tuple[str, ...], fingerprints: tuple[str, ...], policy: str
                ) -> tuple[pd.DataFrame, ChangeSummary | None]:
    """Deltas of every run against the first and their summary, as the comparison report
    computes them (cached on the runs' fingerprints and the policy)."""
    del fingerprints  # part of the cache key only
    return run_comparison(list(paths), policy)


def _difference(value: float | None, unit: str) -> str:
    """A signed difference (points for percentages); 'n/a' for a missing one (NaN in frames)."""
    return difference_text(None if value is None or pd.isna(value) else float(value), unit)


def _counts(counts: list[ChangeCount], first: str) -> pd.DataFrame:
    return pd.DataFrame({first: [c.label for c in counts],
                         "compared": [c.compared for c in counts],
                         "significantly better": [c.better for c in counts],
                         "significantly worse": [c.worse for c in counts],
                         "significant, no direction": [c.other for c in counts]})


def _changes(deltas: list[MetricDelta], labels: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({
        "run": [labels.get(d.run_b, d.run_b) for d in deltas],
        "suite": [d.suite for d in deltas], "metric": [d.label for d in deltas],
        "group": [d.group_text for d in deltas],
        "baseline": [format_value(d.value_a, d.unit) for d in deltas],
        "run value": [format_value(d.value_b, d.unit) for d in deltas],
        "difference": [difference_text(d.delta, d.unit) for d in deltas],
        "95% CI": [f"{difference_text(d.ci_low, d.unit)} to {difference_text(d.ci_high, d.unit)}"
                   if d.ci_low is not None else "n/a" for d in deltas],
        "paired items": [d.n_pairs for d in deltas],
        "direction": [DIRECTION[d.improved] for d in deltas]})


def _summary(summary: ChangeSummary, labels: dict[str, str]) -> None:
    st.header("What changed")
    st.write(f"**{summary.significant}** of {summary.compared} compared values changed "
             f"significantly ({summary.too_few_items} rest on too few items to call either "
             f"way). {SIGNIFICANCE_RULE}.")
    # One table under the other: side by side, their count columns were cut off at 1,280 px.
    st.subheader("By family")
    st.dataframe(_counts(summary.by_family, "family"), hide_index=True, width="stretch")
    if summary.by_language:
        st.subheader("By language")
        st.dataframe(_counts(summary.by_language, "language"), hide_index=True,
                     width="stretch")
    st.subheader("Significant changes, worse first")
    if summary.ranked:
        st.dataframe(_changes(summary.ranked, labels), hide_index=True, width="stretch")
    else:
        st.text("None: no difference passes the significance rule.")
    st.subheader("Policy verdicts that flipped")
    if not summary.policy_applied:
        st.text("No policy chosen, so there are no verdicts to compare.")
    elif summary.flips:
        st.dataframe(pd.DataFrame({
            "run": [labels.get(f.run, f.run) for f in summary.flips],
            "rule": [f.rule for f in summary.flips],
            "baseline verdict": [f.before for f in summary.flips],
            "run verdict": [f.after for f in summary.flips]}), hide_index=True, width="stretch")
    else:
        st.text("None: every rule has the same verdict in every run.")
    if summary.energy:
        st.subheader("Energy")
        st.dataframe(pd.DataFrame({
            "run": [labels.get(c.run, c.run) for c in summary.energy],
            "suites in both": [c.suites for c in summary.energy],
            "baseline Wh": [quantity(c.wh_baseline) for c in summary.energy],
            "run Wh": [quantity(c.wh_run) for c in summary.energy],
            "change": [f"{100 * (c.wh_run / c.wh_baseline - 1):+.0f}%" if c.wh_baseline
                       else "n/a" for c in summary.energy]}), hide_index=True, width="stretch")
        st.caption("One CodeCarbon measurement per run, so no interval; its estimates may be "
                   "off by up to ~40%.")


runs = select_runs(minimum=2)
st.title("Compare runs")
st.write("Each run against a baseline, on the items both answered: the difference of every "
         "metric with its paired 95% confidence interval.")
labels = {r.run_id: r.label for r in runs}
left, right = st.columns(2)
baseline = left.selectbox("Baseline", list(labels), format_func=labels.get)
choices = policy_choices()
policy = right.selectbox("Policy (for verdicts that flipped)", list(choices),
                         index=list(choices).index(next(k for k in choices if k != NO_POLICY)),
                         format_func=choices.get)
ordered = [r for r in runs if r.run_id == baseline] + [r for r in runs if r.run_id != baseline]
frame, summary = _comparison(tuple(r.path for r in ordered),
                             tuple(r.fingerprint for r in ordered), policy)
if frame.empty:
    st.info("These runs share no suite, so there is nothing to compare. Choose runs that ran "
            "the same suites.")
    st.stop()
if summary is not None:
    _summary(summary, labels)
parity_section(ordered, ordered[0])

st.header("Differences per suite")
left, middle, right = st.columns([1, 2, 1])
significant_only = left.toggle("Only significant differences", value=False,
                               help=f"Keep only significant deltas: {SIGNIFICANCE_RULE}.")
suites = middle.multiselect("Suite", sorted(frame["suite"].unique()))
overall_only = right.toggle("Overall values only", value=False,
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
                "on the same items, in percentage points for percentages; the bar is its 95% "
                "confidence interval. A bar that crosses the dashed zero line means no "
                "difference was shown.")
with st.expander(f"Full table: all {len(shown)} differences shown above"):
    st.dataframe(pd.DataFrame({
        "run": shown["run"], "suite": shown["suite"], "metric": shown["label"],
        "group": shown["group"],
        "baseline": [format_value(v, u) for v, u in zip(shown["value_a"], shown["unit"],
                                                        strict=True)],
        "run value": [format_value(v, u) for v, u in zip(shown["value_b"], shown["unit"],
                                                         strict=True)],
        "difference": [_difference(v, u) for v, u in zip(shown["delta"], shown["unit"],
                                                          strict=True)],
        "95% CI": [f"{_difference(lo, u)} to {_difference(hi, u)}" if not pd.isna(lo) else "n/a"
                   for lo, hi, u in zip(shown["ci_low"], shown["ci_high"], shown["unit"],
                                        strict=True)],
        "paired items": shown["n_pairs"], "significant": shown["significant"],
        "too few items to tell": shown["too_few_items"], "method": shown["method"]}),
        hide_index=True, width="stretch")
