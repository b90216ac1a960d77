"""Cross-lingual safety parity of each run against a baseline, for the Compare and Misuse
pages: refusal of misuse/harmful's parallel requests per language in both runs, the paired
change, and each run's gap to English (numbers from `audit.report.safety_parity`)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from audit.report.frames import RunData, run_safety_parity
from dashboard.charts import ci_chart, delta_chart
from dashboard.ui import how_to_read, plain


@st.cache_data(show_spinner="Pairing harmful requests by language…", max_entries=32,
               hash_funcs={RunData: lambda run: (run.path, run.fingerprint)})
def _frames(baseline: RunData, other: RunData) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The parity frames of two runs (cached on their folders' fingerprints)."""
    return run_safety_parity(baseline, other)


def parity_section(runs: list[RunData], baseline: RunData) -> None:
    """For each run other than `baseline` that shares parallel harmful requests with it: the
    refusal chart per language and run, and the paired change and gaps to English."""
    shown = False
    for run in runs:
        if run.run_id == baseline.run_id:
            continue
        refusal, deltas = _frames(baseline, run)
        if refusal.empty:
            continue
        if not shown:
            st.header("Cross-lingual safety parity")
            st.write("The project's harmful requests are asked in every language, so each "
                     "language is compared request by request: between the runs, and with "
                     "English. Few requests per language: read the intervals first.")
            shown = True
        st.subheader(plain(f"{run.label} against {baseline.label}"))
        st.altair_chart(ci_chart(refusal, "language",
                                 title="Refusal of the same harmful requests, by language"),
                        width="stretch")
        how_to_read("each dot is the share of the language's requests a run refused (as its "
                    "judge saw it); the bar is the exact 95% interval.")
        st.altair_chart(delta_chart(deltas), width="stretch")
        how_to_read("'change' is this run minus the baseline on the same requests; 'gap to "
                    "English' is the language minus English in each run. Bars are paired 95% "
                    "intervals; one that crosses the dashed zero line shows no difference.")
