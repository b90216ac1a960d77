"""Traffic lights on the Overview: a policy (as for `fm-audit gate`) evaluated on each run by
`audit.policy`, shown per rule and beside each scorecard metric."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from audit.errors import AuditError
from audit.policy import evaluate_policy, example_policy_path, load_policy
from audit.report.frames import RunData, group_label
from dashboard.ui import reports_dir

NO_POLICY = ""
# Lights as geometric shapes found in ordinary text fonts (no emoji font needed), told apart by
# shape as well as by the cell colour (`styled`), so they read without colour too.
SHAPES = {"green": "●", "amber": "▲", "red": "■", "grey": "○"}
CELL_COLOURS = {"green": "#c8e6c9", "amber": "#ffe0b2", "red": "#ffcdd2", "grey": "#eeeeee"}
SEVERITY = ["green", "grey", "amber", "red"]
VERDICT_COLUMNS = ["run", "rule", "light", "status", "severity", "evidence", "key", "colour"]


def policy_choices() -> dict[str, str]:
    """Policy files to choose from: none, the shipped example, and YAML files in the reports
    directory (path -> what the picker shows)."""
    choices = {NO_POLICY: "no policy (no traffic lights)",
               str(example_policy_path()): "example policy shipped with fm-audit"}
    root = reports_dir()
    if root.is_dir():
        for path in sorted([*root.glob("*.yaml"), *root.glob("*.yml")]):
            choices[str(path)] = path.name
    return choices


def policy_verdicts(runs: list[RunData], choice: str) -> pd.DataFrame | None:
    """Every rule's verdict on every run, or None without a policy (or with a broken one,
    after saying what is wrong with it)."""
    if choice == NO_POLICY:
        return None
    try:
        policy = load_policy(choice)
    except AuditError as exc:
        st.error("The policy file could not be used:")
        st.text(f"{exc.message}. {exc.fix or ''}")
        return None
    rows = []
    for run in runs:
        gate = evaluate_policy(policy, run.results, choice)
        for verdict in gate.verdicts:
            rows.append({
                "run": run.label, "rule": verdict.rule,
                "light": f"{SHAPES[verdict.light]} {verdict.status}", "status": verdict.status,
                "severity": verdict.severity, "evidence": verdict.evidence,
                "key": (run.run_id, verdict.suite, verdict.metric, group_label(verdict.group)),
                "colour": verdict.light})
        counts = ", ".join(f"{n} {status}" for status, n in gate.counts().items() if n)
        st.text(f"{run.run_id}: policy '{gate.policy}' "
                   f"{'PASSED' if gate.passed else 'FAILED'} ({counts}).")
    return pd.DataFrame(rows, columns=VERDICT_COLUMNS)


def styled(table: pd.DataFrame, column: str) -> pd.io.formats.style.Styler:
    """`table` with each light in `column` on its colour (the shape says it without colour)."""
    colour_of = {shape: CELL_COLOURS[light] for light, shape in SHAPES.items()}

    def cell(value: object) -> str:
        colour = colour_of.get(str(value)[:1])
        return f"background-color: {colour}; color: #1a1a1a" if colour else ""

    return table.style.map(cell, subset=[column])


def lights_for(overall: pd.DataFrame, verdicts: pd.DataFrame) -> list[str]:
    """For each overall metric row, the light and status of the worst rule that judged it
    ('' when no rule did)."""
    worst: dict[tuple, tuple[str, str]] = {}
    for key, colour, light in zip(verdicts["key"], verdicts["colour"], verdicts["light"],
                                  strict=True):
        if SEVERITY.index(colour) >= SEVERITY.index(worst.get(key, ("green", ""))[0]):
            worst[key] = (colour, light)
    return [worst[key][1] if key in worst else ""
            for key in zip(overall["run_id"], overall["suite"], overall["metric"],
                           overall["group"], strict=True)]
