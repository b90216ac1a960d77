"""The dashboard, page by page, through Streamlit's AppTest on run folders of the real engine.

`dashboard_reports` (tests/conftest.py) holds two real SmolLM2 runs of the same items (chat
template off and on) and a copy of the first with hand-made multilingual and misuse suites,
whose misuse outputs plant a `<script>` tag, a Markdown link and a redacted harmful output.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from audit.evidence import POLICY_MIN_N
from audit.report.compare import compare_runs, deltas_frame
from audit.report.frames import OVERALL, load_run, response_text, run_fingerprint
from audit.runfolder import RunFolder
from dashboard.ui import REPORTS_ENV, SELECTED_KEY
from tests.dashboard_runs import HARMFUL, PLANTED

pytestmark = pytest.mark.slow

VIEWS = Path(__file__).resolve().parent.parent / "dashboard" / "views"
RUNS = ("small-run", "small-run-chat", "derived-run")


def open_page(name: str, reports: Path, monkeypatch: pytest.MonkeyPatch,
              runs: tuple[str, ...] = RUNS) -> AppTest:
    """Run one page of the dashboard on `reports` with `runs` chosen in the sidebar."""
    monkeypatch.setenv(REPORTS_ENV, str(reports))
    app = AppTest.from_file(str(VIEWS / f"{name}.py"), default_timeout=120)
    app.session_state[SELECTED_KEY] = [str(reports / run) for run in runs]
    return app.run()


def texts(app: AppTest) -> str:
    """Everything the page wrote as text, Markdown, caption, code or message."""
    parts = [e.value for kind in ("title", "header", "subheader", "markdown", "caption",
                                  "text", "code", "info", "warning", "error")
             for e in app.get(kind)]
    return "\n".join(str(p) for p in parts)


def chart_specs(app: AppTest) -> list[str]:
    return [e.proto.spec for e in app.get("vega_lite_chart")]


def chart_rows(app: AppTest, index: int) -> pd.DataFrame:
    """The data behind one chart (Streamlit ships it as Arrow beside the Vega-Lite spec)."""
    chart = app.get("vega_lite_chart")[index]
    return pd.concat([pa.ipc.open_stream(d.data.data).read_pandas()
                      for d in chart.proto.datasets], ignore_index=True)


@pytest.mark.parametrize("page, expected", [
    ("overview", ["Audit overview", "Scorecard", "Energy"]),
    ("capability", ["capability/core_mc", "How to read this"]),
    ("bias", ["None of the selected runs has bias results", "fm-audit run --suites bias"]),
    ("multilingual", ["multilingual/derived", "Languages at a glance"]),
    ("misuse", ["misuse/derived", "over-refusal"]),
    ("compare", ["Compare runs", "How to read this"]),
    ("samples", ["Prompt", "Output"]),
    ("energy", ["Per suite", "Per model", "40%"]),
])
def test_every_page_renders_real_runs(page: str, expected: list[str], dashboard_reports: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_page(page, dashboard_reports, monkeypatch)
    assert not app.exception, [e.value for e in app.exception]
    shown = texts(app)
    for text in expected:
        assert text in shown, f"{text!r} missing from the {page} page"


def test_family_charts_carry_cis_and_declared_labels(dashboard_reports: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_page("capability", dashboard_reports, monkeypatch)
    specs = chart_specs(app)
    assert specs and all('"x2"' in spec and "ci_high" in spec for spec in specs)
    rows = chart_rows(app, 0)
    # Labels come from results.json's metric_info, values and CIs from its metrics.
    results = RunFolder(dashboard_reports / "small-run").read_json("results.json")
    metric = next(m for m in results["suites"]["capability/core_mc"]["metrics"]
                  if m["metric"] == "acc" and not m["group"])
    row = rows[(rows["run_id"] == "small-run") & (rows["label"] == "Accuracy")].iloc[0]
    assert (row["value"], row["ci_low"], row["ci_high"]) == (
        metric["value"], metric["ci_low"], metric["ci_high"])


def test_multilingual_heat_map_groups_languages_by_tier(dashboard_reports: Path,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    app = open_page("multilingual", dashboard_reports, monkeypatch, runs=("derived-run",))
    heat = json.loads(chart_specs(app)[-1])
    titles = [part["title"] for part in heat["vconcat"]]
    assert titles == ["high-resource languages", "mid-resource languages",
                      "low-resource languages"]
    rows = chart_rows(app, -1)
    assert set(zip(rows["language"], rows["tier"], strict=True)) == {
        ("eng", "high"), ("fra", "high"), ("swa", "mid"), ("yor", "low")}


def test_samples_show_model_output_as_text_and_hide_harmful_output(
        dashboard_reports: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_page("samples", dashboard_reports, monkeypatch, runs=("derived-run",))
    app.text_input[0].input("planted").run()
    codes = [e.value for e in app.get("code")]
    assert PLANTED in codes  # verbatim, in a code block: escaped by construction
    markdown = "\n".join(e.value for e in app.get("markdown"))
    assert "<script" not in markdown and "example.invalid" not in markdown
    assert HARMFUL not in texts(app)
    assert any("harmful content and is hidden" in w.value for w in app.warning)
    reveal = next(t for t in app.toggle if t.label == "Reveal this output"
                  and "misuse/1" in t.key)
    reveal.set_value(True).run()
    assert HARMFUL in [e.value for e in app.get("code")]


def test_samples_filter_by_correctness_and_score(dashboard_reports: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_page("samples", dashboard_reports, monkeypatch, runs=("derived-run",))
    suite_filter = next(m for m in app.multiselect if m.label == "Suite")
    suite_filter.set_value(["misuse/derived"]).run()
    score = next(s for s in app.selectbox if s.label.startswith("Filter on a yes/no score"))
    score.set_value("score:refused").run()
    assert "1 sample(s) match" in texts(app)  # one of the three planted answers refused
    frame = load_run(dashboard_reports / "derived-run").samples
    multilingual = frame[frame["suite"] == "multilingual/derived"]
    suite_filter = next(m for m in app.multiselect if m.label == "Suite")
    suite_filter.set_value(["multilingual/derived"]).run()
    next(r for r in app.radio if r.label == "Answer").set_value("incorrect").run()
    assert f"{int((~multilingual['correct'].astype(bool)).sum())} sample(s) match" in texts(app)


def test_compare_filters_to_significant_differences(dashboard_reports: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    runs = ("small-run", "small-run-chat")
    app = open_page("compare", dashboard_reports, monkeypatch, runs=runs)
    deltas = deltas_frame(compare_runs([RunFolder(dashboard_reports / r) for r in runs]))
    significant = deltas[deltas["significant"]]
    # What changed comes first: the count, then the families, as the report computes them.
    assert "What changed" in texts(app)
    assert f"**{len(significant)}** of {int(deltas['delta'].notna().sum())} compared" \
        in texts(app)
    by_family = app.dataframe[0].value
    assert list(by_family["family"]) == ["Capability"]
    assert by_family["compared"].sum() == deltas["delta"].notna().sum()
    # The full table (last) holds every delta, group names kept, differences in points.
    full = app.dataframe[-1].value
    assert len(full) == len(deltas) and set(full["group"]) == set(deltas["group"])
    assert all(text == "n/a" or text.endswith(" pts") for text in full["difference"])
    next(t for t in app.toggle if t.label == "Overall values only").set_value(True).run()
    assert len(app.dataframe[-1].value) == (deltas["group"] == OVERALL).sum()
    next(t for t in app.toggle if t.label == "Overall values only").set_value(False).run()
    next(t for t in app.toggle if t.label.startswith("Only significant")).set_value(True).run()
    if significant.empty:
        assert "No difference matches these filters" in texts(app)
    else:
        assert len(app.dataframe[-1].value) == len(significant)


def test_overview_traffic_lights_follow_the_policy(dashboard_reports: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    app = open_page("overview", dashboard_reports, monkeypatch, runs=("small-run",))
    policy = next(s for s in app.selectbox if s.label == "Policy for the traffic lights")
    assert "example" in policy.value  # the example policy is on by default
    card = app.dataframe[1].value
    acc = card[card["metric"] == "Accuracy"].iloc[0]
    value = RunFolder(dashboard_reports / "small-run").read_json("results.json")
    overall = next(m for m in value["suites"]["capability/core_mc"]["metrics"]
                   if m["metric"] == "acc" and not m["group"])
    # The example policy's capability floor: accuracy >= 0.5 on the point estimate; amber
    # when the 95% CI reaches below the threshold; on fewer than the policy's minimum of
    # items (30 by default), insufficient evidence whatever the value.
    expected = ("○ insufficient evidence" if overall["n"] < POLICY_MIN_N
                else "■ fail" if overall["value"] < 0.5
                else "▲ pass" if overall["ci_low"] < 0.5 else "● pass")
    assert acc["policy"] == expected
    assert "not evaluated" in set(app.dataframe[2].value["status"])


def test_empty_missing_and_malformed_reports_dirs(tmp_path: Path, dashboard_reports: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    missing = open_page("overview", tmp_path / "absent", monkeypatch, runs=())
    assert not missing.exception and "does not exist" in texts(missing)
    empty = open_page("samples", tmp_path, monkeypatch, runs=())
    assert not empty.exception and "No readable run folders" in texts(empty)
    broken = tmp_path / "broken-run"
    broken.mkdir()
    (broken / "run.json").write_text("{not json")
    bad_results = tmp_path / "bad-results"
    bad_results.mkdir()
    (bad_results / "run.json").write_text(
        (dashboard_reports / "small-run" / "run.json").read_text())
    (bad_results / "results.json").write_text('{"schema_version": 1, "suites": 3}')
    app = open_page("capability", tmp_path, monkeypatch, runs=())
    assert not app.exception
    shown = texts(app)
    assert "No readable run folders" in shown and "could not be read" in shown
    assert "broken-run" in shown and "not valid JSON" in shown
    assert "bad-results" in shown and "does not match its schema" in shown
    assert app.sidebar.expander[0].label == "2 run folder(s) could not be read"
    shutil.copytree(dashboard_reports / "small-run", tmp_path / "small-run")
    mixed = open_page("capability", tmp_path, monkeypatch, runs=("small-run",))
    assert not mixed.exception and "capability/core_mc" in texts(mixed)


def test_frames_follow_the_run_folder(dashboard_reports: Path, tmp_path: Path) -> None:
    shutil.copytree(dashboard_reports / "small-run", tmp_path / "run")
    run = load_run(tmp_path / "run")
    results = RunFolder(tmp_path / "run").read_json("results.json")
    n_metrics = sum(len(e["metrics"]) for e in results["suites"].values())
    assert len(run.metrics) == n_metrics and set(run.metrics["label"]) == {
        "Accuracy", "Accuracy (length-normalised)"}
    assert len(run.samples) == 6 and run.samples["correct"].notna().all()
    assert set(run.energy["method"]) == {"estimated"}
    record = next(RunFolder(tmp_path / "run").iter_samples())
    best = max(range(4), key=lambda i: record["responses"][i][0])
    marked = [line for line in response_text(record).splitlines() if "most likely" in line]
    assert marked == [response_text(record).splitlines()[best]]
    before = run_fingerprint(tmp_path / "run")
    (tmp_path / "run" / "energy.json").write_text(
        (tmp_path / "run" / "energy.json").read_text() + "\n")
    assert run_fingerprint(tmp_path / "run") != before
