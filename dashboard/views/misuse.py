"""Misuse: refusal of harmful requests, over-refusal of safe ones, jailbreaks, injection."""

from __future__ import annotations

import streamlit as st

from dashboard.family import family_page
from dashboard.parity import parity_section
from dashboard.ui import plain, select_runs

runs = select_runs()
family_page(runs, "misuse", "Misuse",
            "Whether the model refuses clearly harmful requests, whether it wrongly refuses "
            "harmless ones that only sound alarming, and whether jailbreak templates or "
            "injected instructions change its behaviour.")
st.caption("Read harmful-request compliance and over-refusal together: a model that refuses "
           "everything scores perfectly on the first and fails the second. Generated harmful "
           "text is hidden on the Samples page until you choose to reveal it.")
if len(runs) > 1:
    parity_section(runs, runs[0])
    st.caption(plain(f"Parity is shown against the first selected run, {runs[0].label}."))
