"""What every dashboard page shares: the reports directory, the run picker, cached loading,
metric formatting and the "how to read this" line under each chart.

Run folders are read only through `audit.report.frames`; loading is cached with
`st.cache_data` keyed on each run folder's fingerprint, so a rewritten run is reloaded.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import streamlit as st

from audit.errors import AuditError
from audit.formatting import format_value, interval_text
from audit.report.frames import OVERALL, RunData, concat, find_runs, load_run, run_fingerprint
from audit.report.summary import screening_banner

REPORTS_ENV = "FM_AUDIT_REPORTS"
_STREAMLIT_MARKDOWN = re.compile(r"([\\`*\[\]()<>!#|~$:&])")
SELECTED_KEY = "fm_audit_selected_runs"


def reports_dir() -> Path:
    """The reports directory the dashboard was started on (`fm-audit dashboard DIR`)."""
    return Path(os.environ.get(REPORTS_ENV, "reports"))


@st.cache_data(show_spinner="Loading run…", max_entries=128)
def _cached_run(path: str, fingerprint: str) -> RunData:
    """`load_run`, cached per (folder, fingerprint): the fingerprint changes with the files."""
    del fingerprint  # part of the cache key only
    return load_run(path)


def plain(text: object) -> str:
    """Run-folder text made inert for the elements that render Markdown (headings, labels):
    every character that can start a link, image, HTML tag, code span, LaTeX or a colour
    directive is backslash-escaped, on one line. Underscores are left as written, so suite
    names read as themselves (inside a word they cannot start emphasis, and emphasis neither
    links nor loads anything). Longer text is shown with `st.text` or `st.code` instead."""
    return _STREAMLIT_MARKDOWN.sub(r"\\\1", " ".join(str(text).split()))


def how_to_read(text: str) -> None:
    """The one line under a chart that tells a non-specialist how to read it."""
    st.caption(f"**How to read this:** {plain(text)}")


def available_runs() -> tuple[list[RunData], list[tuple[str, str]]]:
    """Every loadable run under the reports directory, and (folder, reason) for the others.

    Stops the page with a helpful message when there is no run to show.
    """
    root = reports_dir()
    try:
        paths = find_runs(root)
    except AuditError as exc:
        st.info(f"{exc.message}. {exc.fix or ''}")
        st.stop()
    runs: list[RunData] = []
    broken: list[tuple[str, str]] = []
    for path in paths:
        try:
            runs.append(_cached_run(str(path), run_fingerprint(path)))
        except AuditError as exc:
            broken.append((path.name, f"{exc.message} ({exc.fix})" if exc.fix else exc.message))
    if broken:
        with st.sidebar.expander(f"{len(broken)} run folder(s) could not be read"):
            for name, reason in broken:
                st.text(f"{name}: {reason}")
    if not runs:
        st.info(f"No readable run folders under `{root}`. Start an audit with "
                "`fm-audit run --model packaged:smollm2-135m-instruct` (or `make audit`), "
                "then reload this page.")
        if broken:
            st.warning("Some folders look like runs but could not be read: see the sidebar.")
        st.stop()
    return runs, broken


def select_runs(multiple: bool = True, minimum: int = 1) -> list[RunData]:
    """The sidebar run picker, shared by every page (the choice survives page changes)."""
    runs, _ = available_runs()
    by_path = {r.path: r for r in runs}
    remembered = [p for p in st.session_state.get(SELECTED_KEY, []) if p in by_path]
    complete = [r.path for r in runs if r.status == "complete"]
    default = remembered or [(complete or [runs[0].path])[0]]
    st.sidebar.caption(f"Reports directory: `{reports_dir()}`")
    if multiple:
        chosen = st.sidebar.multiselect("Runs", list(by_path), default=default,
                                        format_func=lambda p: by_path[p].label,
                                        help="Choose one run, or several to set side by side.")
    else:
        chosen = [st.sidebar.selectbox("Run", list(by_path), index=list(by_path).index(default[0]),
                                       format_func=lambda p: by_path[p].label)]
    st.session_state[SELECTED_KEY] = chosen
    selected = [by_path[p] for p in chosen]
    for position, run in enumerate(selected, 1):
        for problem in run.problems:
            st.sidebar.text(f"{run.run_id}: {problem}")
        if run.evidence_warning:
            st.error("A selected run folder is not verified evidence: its files do not match "
                     "what the run wrote, or cannot be checked. Read its numbers with care.")
            st.text(run.evidence_warning)
        banner = screening_banner(run.run)
        if banner:  # composed by fm-audit from the run's profile, no text from the run itself
            st.warning(f"Selected run {position} of {len(selected)}: {banner}")
    if len(selected) < minimum:
        st.info(f"Choose at least {minimum} run(s) in the sidebar.")
        st.stop()
    return selected


def metrics_of(runs: list[RunData]) -> pd.DataFrame:
    """Metric rows of the given runs, with a `run` column naming each run."""
    frame = concat([r.metrics for r in runs])
    labels = {r.run_id: r.label for r in runs}
    return frame.assign(run=frame["run_id"].map(labels)) if not frame.empty else frame


def combined(runs: list[RunData], frame: str, what: str) -> pd.DataFrame:
    """One frame (`samples` or `energy`) of every selected run, with a `run` column naming each
    run; stops the page with a helpful message when the runs have none yet."""
    combined_frame = concat([getattr(r, frame) for r in runs])
    if combined_frame.empty:
        st.info(f"The selected runs have no {what} yet (a run writes them as each suite "
                "finishes). Choose a finished run in the sidebar.")
        st.stop()
    labels = {r.run_id: r.label for r in runs}
    return combined_frame.assign(run=combined_frame["run_id"].map(labels))


def direction_text(better: str, target: float | None) -> str:
    """'higher is better', 'lower is better' or 'closest to 0.5 is best'."""
    if better == "target" and target is not None:
        return f"closest to {target:g} is best"
    return f"{better} is better" if better in ("higher", "lower") else ""


def with_display(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with `shown` (formatted value) and `ci` (formatted 95% CI) text columns."""
    return frame.assign(
        shown=frame.apply(lambda r: format_value(r["value"], r["unit"]), axis=1).astype(str),
        ci=frame.apply(lambda r: interval_text(r["ci_low"], r["ci_high"], r["unit"]),
                       axis=1).astype(str)) if not frame.empty else frame.assign(shown="", ci="")


def scorecard(frame: pd.DataFrame) -> pd.DataFrame:
    """The overall value of each metric as a readable table (value, 95% CI, n, direction)."""
    overall = with_display(frame[frame["group"] == OVERALL])
    better = overall.apply(lambda r: direction_text(r["better"], r["target"]), axis=1) \
        if not overall.empty else overall["better"]
    return pd.DataFrame({
        "run": overall["run"], "suite": overall["suite"], "metric": overall["label"],
        "value": overall["shown"], "95% CI": overall["ci"], "n": overall["n"],
        "better": better,
    }).reset_index(drop=True)


def metric_definitions(info: dict[str, dict]) -> None:
    """Each metric's definition as the suite declared it, for readers who want the detail."""
    with st.expander("What these metrics mean"):
        for name, meta in info.items():
            st.text(f"{meta.get('label') or name} ({name}): {meta.get('description', '')}")
            details = {"formula": meta.get("formula"), "unit": meta.get("unit"),
                       "better": direction_text(meta.get("better", ""), meta.get("target")),
                       "implementation": meta.get("implementation"),
                       "limits": meta.get("limits")}
            st.text("\n".join(f"  {k}: {v}" for k, v in details.items() if v))
