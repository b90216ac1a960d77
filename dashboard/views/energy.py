"""Energy: what each suite and each model consumed, with measured and estimated figures
labelled as such and CodeCarbon's accuracy note beside them."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from audit.report.energy_text import COMPONENT_HEADERS, component_cells, totals_sentences
from audit.report.frames import run_energy
from dashboard.charts import energy_chart
from dashboard.ui import combined, how_to_read, plain, select_runs

runs = select_runs()
st.title("Energy")
st.write("The electricity each part of the audit used, and the emissions it implies at the "
         "grid's carbon intensity.")
frame = combined(runs, "energy", "energy figures")
for note in dict.fromkeys(r.energy_doc.get("accuracy_note", "") for r in runs):
    if note:
        st.warning(plain(note))

st.header("Per suite")
st.altair_chart(energy_chart(frame, "suite", "energy_wh", "Energy (Wh)"), width="stretch")
how_to_read("each bar is the energy one suite of one run used; its colour says whether the "
            "figure was measured by a meter or estimated from a power model.")
st.dataframe(pd.DataFrame({
    "run": frame["run"], "suite": frame["suite"], "energy (Wh)": frame["energy_wh"],
    "CPU": frame["method_cpu"], "GPU": frame["method_gpu"], "RAM": frame["method_ram"],
    "gCO2e": frame["emissions_g"], "duration (s)": frame["duration_s"],
    "requests": frame["n_requests"], "Wh / 1,000 requests": frame["wh_per_1000_requests"],
    "Wh / 1,000 tokens": frame["wh_per_1000_tokens"],
    "Wh / correct answer": frame["wh_per_correct_answer"],
}), hide_index=True, width="stretch")
st.caption("CPU, GPU and RAM columns say how each component's energy was obtained: "
           "'measured' (a hardware counter), 'estimated' (a power model) or 'absent'.")

st.header("Per component, PUE and facility energy")
for run in runs:
    section = run_energy(run.path)
    if section is None:
        continue
    st.subheader(plain(run.run_id))
    st.text("\n".join(totals_sentences(section)))
    cells = pd.DataFrame([component_cells(c) for c in section.components],
                         columns=COMPONENT_HEADERS)
    basis = COMPONENT_HEADERS[-1]
    st.dataframe(cells.drop(columns=[basis]), hide_index=True, width="stretch")
    st.text("\n".join(f"{row.iloc[0]}: {row[basis]}" for _, row in cells.iterrows()))
how_to_read("an estimated component's range spans the power models CodeCarbon itself ships "
            "(its RAM rules; its CPU model from idle to full TDP), not a confidence interval. "
            "Facility energy is the IT energy times the PUE declared for the run.")

st.header("Per model")
per_model = frame.groupby(["model", "run"], as_index=False).agg(
    energy_wh=("energy_wh", "sum"), emissions_g=("emissions_g", "sum"),
    n_requests=("n_requests", "sum"), method=("method", lambda m: " / ".join(sorted(set(m)))))
per_model["wh_per_1000_requests"] = 1000 * per_model["energy_wh"] / per_model["n_requests"]
st.altair_chart(energy_chart(per_model, "model", "wh_per_1000_requests",
                             "Wh per 1,000 requests"), width="stretch")
how_to_read("energy per 1,000 requests lets models that ran different numbers of items be "
            "compared; compare only runs made on the same machine with the same method.")
st.dataframe(per_model.rename(columns={"energy_wh": "energy (Wh)", "emissions_g": "gCO2e",
                                       "n_requests": "requests",
                                       "wh_per_1000_requests": "Wh / 1,000 requests"}),
             hide_index=True, width="stretch")
with st.expander("Hardware the figures were taken on"):
    for run in runs:
        for suite, entry in run.energy_doc.get("suites", {}).items():
            st.text(f"{run.run_id} / {suite}: {entry.get('hardware', {})}")
