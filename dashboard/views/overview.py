"""Overview: the selected runs at a glance: what was audited, the scorecard, and energy."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from audit.families import FAMILIES
from audit.report.frames import OVERALL, concat, run_signoffs
from audit.report.lineage import lineage
from dashboard.policy import NO_POLICY, lights_for, policy_choices, policy_verdicts, styled
from dashboard.ui import how_to_read, metrics_of, plain, scorecard, select_runs

runs = select_runs()
st.title("Audit overview")
st.write("What was tested, the headline result of every metric with its 95% confidence "
         "interval, and the energy the audit used. Pick runs in the sidebar; the pages on the "
         "left go into each area, single samples and comparisons.")

st.header("Runs")
st.dataframe(pd.DataFrame([{
    "run": r.run_id, "model": r.model, "status": r.status, "started": r.created,
    "parameters": r.run.get("model", {}).get("parameters"),
    "licence": r.run.get("model", {}).get("licence", ""),
    "areas": ", ".join(f for f in FAMILIES if r.suites(f)) or "none",
} for r in runs]), hide_index=True, width="stretch")

for r in runs:
    pairs = lineage(r.run.get("model") or {})
    if pairs:
        st.subheader(f"Lineage of {plain(r.run_id)}")
        st.text("\n".join(f"{label}: {value}" for label, value in pairs))
        how_to_read("a fine-tune: the base model and the adapter merged into it, each with "
                    "the sha256 of the files the run loaded.")

st.header("Sign-off")
for r in runs:
    signoffs = run_signoffs(r.path)
    if not signoffs:
        st.text(f"{r.run_id}: not signed off (fm-audit sign {r.run_id} --reviewer NAME "
                "--role ROLE --decision approve|reject|conditions).")
    for s in signoffs:
        if not s.valid:
            st.error("CHANGED AFTER SIGN-OFF: a run's files or signed report differ from what "
                     "the reviewer signed.")
        st.text(f"{r.run_id}: {s.decision} by {s.reviewer} ({s.role}) on {s.date}"
                + (f"\nconditions: {s.conditions}" if s.conditions else "")
                + f"\nchecked now: {s.status}")
how_to_read("each sign-off holds the sha256 of the run's manifest and of the report the "
            "reviewer read; both are checked again now, as the report does. CHANGED AFTER "
            "SIGN-OFF means something it covers was edited since; it is not a cryptographic "
            "signature.")

st.header("Scorecard")
frame = metrics_of(runs)
choices = policy_choices()
policy_choice = st.selectbox(
    "Policy for the traffic lights", list(choices),
    index=list(choices).index(next(key for key in choices if key != NO_POLICY)),
    format_func=choices.get,
    help="A policy file sets a threshold per metric (see `fm-audit gate`). Put your own "
         "policy YAML files in the reports directory to choose them here.")
if frame.empty:
    st.info("The selected runs have no results yet. A run writes results.json as each suite "
            "finishes; choose a finished run in the sidebar.")
else:
    table = scorecard(frame)
    verdicts = policy_verdicts(runs, policy_choice)
    if verdicts is not None:
        table.insert(0, "policy", lights_for(frame[frame["group"] == OVERALL], verdicts))
    st.dataframe(styled(table, "policy") if verdicts is not None else table, hide_index=True,
                 width="stretch")
    how_to_read("each row is one metric of one suite over all its items; the 95% confidence "
                "interval is the range the true value probably lies in given how few items "
                "were tested, and 'better' says which direction is good."
                + (" The light is the policy's verdict on that metric: green ● passes, amber ▲ "
                   "passes only on the point estimate (its interval reaches the threshold) or "
                   "is a warning, red ■ fails, grey ○ could not be judged (too few items or not "
                   "evaluated); an empty cell means no rule covers the metric."
                   if verdicts is not None else ""))
    if verdicts is not None:
        st.subheader("Policy verdicts")
        st.dataframe(styled(verdicts.drop(columns=["key", "colour"]), "light"),
                     hide_index=True, width="stretch")
        how_to_read("one line per rule of the policy and run, with the evidence that decided "
                    "it; a rule whose metric the run lacks is 'not evaluated', never a pass.")
missing = [f for f in FAMILIES if not any(r.suites(f) for r in runs)]
if missing:
    st.caption(f"Not tested in the selected runs: {', '.join(missing)} "
               f"(add with `fm-audit run --suites {','.join(missing)}`).")

st.header("Energy")
energy = concat([r.energy for r in runs])
if energy.empty:
    st.info("No energy figures in the selected runs.")
else:
    totals = energy.groupby("run_id", as_index=False).agg(
        energy_wh=("energy_wh", "sum"), emissions_g=("emissions_g", "sum"),
        method=("method", lambda m: " / ".join(sorted(set(m)))))
    for column, row in zip(st.columns(len(totals)), totals.itertuples(), strict=True):
        column.metric(f"{row.run_id}", f"{row.energy_wh:.3g} Wh",
                      f"{row.emissions_g:.3g} gCO2e, {row.method}", delta_color="off")
    how_to_read("total electricity of each run's suites; 'estimated' figures come from a power "
                "model, not a meter, and may be off by up to about 40% (see the Energy page).")
