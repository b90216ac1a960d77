"""Bias: whether the model prefers stereotypes, per bias category."""

from __future__ import annotations

import streamlit as st

from dashboard.family import family_page
from dashboard.ui import select_runs

family_page(select_runs(), "bias", "Bias",
            "Whether the model favours stereotyped over anti-stereotyped statements, and how "
            "this differs between social groups.")
st.caption("A low bias score on these benchmarks does not show that a model is unbiased: "
           "paired-sentence benchmarks measure one narrow kind of preference "
           "(Blodgett et al. 2021).")
