"""The cross-lingual safety parity charts of a two-run report and of the dashboard, checked
against numbers worked out by hand from small hand-made runs.

Base and fine-tune answer the same six project requests in English, Swahili and Hindi; the
fine-tune also answers a seventh Swahili request the base never saw (not paired, so not
counted), and both answer Do-Not-Answer requests (English only, not parallel, so not counted).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from scipy.stats import beta

from audit.misuse.parity import paired_difference, parity_metrics, parity_point
from audit.report.build import build_report
from audit.report.compare import PAIRED_STATISTIC, compare_runs
from audit.report.html import render_html
from audit.report.markdown import render_markdown
from audit.report.safety_parity import parity_frames, safety_parity
from tests.handmade_runs import info, sample, suite_entry, write_run
from tests.test_dashboard import chart_rows, open_page, texts

SUITE = "misuse/harmful"
HOSTILE = "<script>alert(1)</script>"
# Refused (1) or not (0), request r1..r6, per language.
BASE = {"eng": [1, 1, 0, 0, 0, 0], "swh": [0, 0, 0, 0, 0, 0], "hin": [1, 0, 0, 0, 0, 0],
        HOSTILE: [0, 0, 0, 0, 0, 0]}
TUNED = {"eng": [1, 1, 1, 1, 1, 1], "swh": [1, 1, 1, 0, 0, 0], "hin": [1, 1, 1, 1, 1, 0],
         HOSTILE: [1, 0, 0, 0, 0, 0]}


def _harmful(run: dict[str, list[int]], extra: list[dict]) -> list[dict]:
    return [sample(SUITE, f"{language}-r{i}", {"refusal": float(r), "compliance": 1.0 - r},
                   {"source": "project", "category": "weapons", "language": language},
                   data={"request_id": f"r{i}"})
            for language, refused in run.items() for i, r in enumerate(refused, 1)] + extra


def _dna(refused: float) -> list[dict]:
    return [sample(SUITE, f"dna-{i}", {"refusal": refused, "compliance": 1.0 - refused},
                   {"source": "do-not-answer", "category": "x", "language": "eng"},
                   data={"request_id": f"dna-{i}"}) for i in range(5)]


def _write(reports: Path, run_id: str, samples: list[dict]):
    """A run whose results hold refusal by language and, as the real suite writes them, the
    paired parity metrics of the project requests."""
    entry = suite_entry("misuse", {
        "refusal": info("Refusal of harmful requests", "safety"),
        "refusal_gap_to_eng": info("Refusal gap to English", "safety",
                                   unit="proportion points"),
        "refusal_ratio_to_eng": info("Refusal ratio to English", "safety", unit="ratio")},
        samples, ("language",))
    project = [s for s in samples if s["group"]["source"] == "project"]
    entry["metrics"] += [m.to_dict() for m in parity_metrics(
        "refusal", project, language=lambda s: s["group"]["language"],
        unit=lambda s: s["data"]["request_id"], value=lambda s: s["scores"]["refusal"])
        if not m.metric.startswith("refusal_worst")]
    return write_run(reports, run_id, {SUITE: entry}, samples)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory):
    reports = tmp_path_factory.mktemp("reports")
    unpaired = sample(SUITE, "swh-r7", {"refusal": 1.0, "compliance": 0.0},
                      {"source": "project", "category": "weapons", "language": "swh"},
                      data={"request_id": "r7"})
    base = _write(reports, "base", _harmful(BASE, _dna(1.0)))
    tuned = _write(reports, "tuned", _harmful(TUNED, [*_dna(0.0), unpaired]))
    return base, tuned


def _exact(refused: int, n: int) -> tuple[float, float]:
    """Clopper-Pearson 95% limits, from the Beta quantiles directly."""
    low = 0.0 if refused == 0 else beta.ppf(0.025, refused, n - refused + 1)
    high = 1.0 if refused == n else beta.ppf(0.975, refused + 1, n - refused)
    return low, high


def test_rows_pair_the_same_requests_per_language(runs) -> None:
    base, tuned = runs
    rows = {row.language: row for row in safety_parity(base.iter_samples(),
                                                       tuned.iter_samples())}
    assert list(rows)[0] == "eng"
    assert set(rows) == {"eng", "swh", "hin", HOSTILE}
    for language, row in rows.items():
        before, after = BASE[language], TUNED[language]
        # Six shared requests: Swahili's seventh and Do-Not-Answer's five are not counted.
        assert row.baseline.n == row.other.n == row.change.n == 6
        assert row.baseline.value == pytest.approx(sum(before) / 6)
        assert row.other.value == pytest.approx(sum(after) / 6)
        assert (row.baseline.ci_low, row.baseline.ci_high) == pytest.approx(
            _exact(sum(before), 6))
        assert (row.other.ci_low, row.other.ci_high) == pytest.approx(_exact(sum(after), 6))
        assert row.change.value == pytest.approx((sum(after) - sum(before)) / 6)
        change = paired_difference(list(zip(after, before, strict=True)))
        assert (row.change.ci_low, row.change.ci_high) == pytest.approx(
            (change.ci_low, change.ci_high))
        if language == "eng":
            assert row.gap_baseline is None and row.gap_other is None
            continue
        for gap, run in ((row.gap_baseline, BASE), (row.gap_other, TUNED)):
            expected = paired_difference(list(zip(run[language], run["eng"], strict=True)))
            assert gap.value == pytest.approx((sum(run[language]) - sum(run["eng"])) / 6)
            assert (gap.ci_low, gap.ci_high) == pytest.approx(
                (expected.ci_low, expected.ci_high))
    # English 0 -> 6 of 6: the change's interval lies above zero; Swahili's gap to English
    # in the fine-tune (3 of 6 against 6 of 6) is -50 points.
    assert rows["eng"].change.ci_low > 0
    assert rows["swh"].gap_other.value == pytest.approx(-0.5)


def test_the_report_charts_every_language_with_its_intervals(runs) -> None:
    report = build_report(list(runs))
    [section] = report.comparison.parity
    assert section.run == "tuned"
    refusal, change, gaps = section.charts
    labels = [bar.label for bar in refusal.bars]
    assert labels[:2] == ["English (eng): base", "English (eng): tuned"]
    assert "Swahili (individual language) (swh): tuned" not in labels
    swahili = {bar.label: bar for bar in refusal.bars if bar.label.startswith("Swahili")}
    assert [(b.value, b.n) for b in swahili.values()] == [(0.0, 6), (0.5, 6)]
    assert (swahili["Swahili (swh): tuned"].low, swahili["Swahili (swh): tuned"].high) \
        == pytest.approx(_exact(3, 6))
    # English first, then by code ("<" sorts before letters).
    assert [bar.label for bar in change.bars] == [
        "English (eng)", f"{HOSTILE} ({HOSTILE})", "Hindi (hin)", "Swahili (swh)"]
    assert [bar.value for bar in change.bars] == pytest.approx([4 / 6, 1 / 6, 4 / 6, 3 / 6])
    assert change.bars[0].light == "green"
    assert len(gaps.bars) == 6  # three languages besides English, two runs each
    assert gaps.bars[4].label == "Swahili (swh): base" and gaps.bars[4].value == -2 / 6
    assert gaps.bars[5].value == pytest.approx(-0.5)


def test_report_renders_the_parity_as_text(runs) -> None:
    report = build_report(list(runs))
    page, text = render_html(report), render_markdown(report)
    assert "Cross-lingual safety parity: tuned" in page
    assert "Cross-lingual safety parity: tuned" in text
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert HOSTILE not in text
    # Markdown escapes brackets; 3 of 6 with its exact interval.
    assert "| Swahili \\(swh\\): tuned | 50.0% | 11.8% to 88.2% | 6 |" in text


def test_dashboard_frames_hold_the_same_numbers(runs) -> None:
    base, tuned = runs
    refusal, deltas = parity_frames(safety_parity(base.iter_samples(), tuned.iter_samples()),
                                    "base", "tuned")
    assert len(refusal) == 8
    hindi = refusal[(refusal["language"] == "hin") & (refusal["run"] == "tuned")].iloc[0]
    assert (hindi["value"], hindi["n"]) == (pytest.approx(5 / 6), 6)
    assert (hindi["ci_low"], hindi["ci_high"]) == pytest.approx(_exact(5, 6))
    change = deltas[deltas["label"].str.startswith("change")]
    assert list(change["group"]) == ["eng", HOSTILE, "hin", "swh"]
    assert list(change["delta"]) == pytest.approx([4 / 6, 1 / 6, 4 / 6, 3 / 6])
    gaps = deltas[deltas["label"] == "gap to English"]
    assert len(gaps) == 6
    assert set(gaps["run"]) == {"base", "tuned"}


def _parity_charts(app) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The refusal chart's and the differences chart's rows from a rendered page."""
    frames = [chart_rows(app, i) for i in range(len(app.get("vega_lite_chart")))]
    refusal = next(f for f in frames if "language" in f.columns and "suite" not in f.columns)
    deltas = next(f for f in frames if "label" in f.columns
                  and f["label"].str.startswith("change").any())
    return refusal, deltas


@pytest.mark.parametrize("page", ["compare", "misuse"])
def test_dashboard_pages_chart_the_parity(page: str, runs,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    base, tuned = runs
    app = open_page(page, base.path.parent, monkeypatch, runs=("base", "tuned"))
    assert not app.exception
    assert "Cross-lingual safety parity" in texts(app)
    refusal, deltas = _parity_charts(app)
    swahili = refusal[refusal["language"] == "Swahili (swh)"].sort_values("value")
    assert list(swahili["value"]) == pytest.approx([0.0, 0.5])
    assert list(swahili["ci_high"]) == pytest.approx([_exact(0, 6)[1], _exact(3, 6)[1]])
    assert set(refusal["language"]) == {"English (eng)", "Hindi (hin)", "Swahili (swh)",
                                        f"{HOSTILE} ({HOSTILE})"}
    gap = deltas[(deltas["label"] == "gap to English") & (deltas["group"] == "Swahili (swh)")]
    assert sorted(gap["delta"]) == pytest.approx([-0.5, -2 / 6])


def test_parity_point_counts_repeats_and_shared_units_only() -> None:
    # (language, unit, refused); unit u3 is asked in Swahili only, so it is left out.
    items = [("eng", "u1", 1.0), ("eng", "u2", 1.0), ("swh", "u1", 1.0), ("swh", "u2", 0.0),
             ("swh", "u3", 1.0)]
    point = {"language": lambda i: i[0], "unit": lambda i: i[1], "value": lambda i: i[2]}
    assert parity_point("gap", items, **point, target="swh") == pytest.approx(-0.5)
    assert parity_point("ratio", items, **point, target="swh") == pytest.approx(0.5)
    # A bootstrap draw that repeats Swahili's u2 twice: (1 + 0 + 0) / 3 - 1.
    drawn = items + [("swh", "u2", 0.0)]
    assert parity_point("gap", drawn, **point, target="swh") == pytest.approx(1 / 3 - 1)
    assert parity_point("gap", items, **point, target="hin") is None
    never = [("eng", "u1", 0.0), ("swh", "u1", 1.0)]
    assert parity_point("ratio", never, **point, target="swh") is None


def test_compare_pairs_the_parity_metrics_by_item(runs) -> None:
    deltas = {(d.metric, d.group.get("language")): d for d in compare_runs(list(runs))
              if d.metric.startswith("refusal_")}
    for language in ("swh", "hin"):
        gap = deltas[("refusal_gap_to_eng", language)]
        assert gap.method == PAIRED_STATISTIC
        before = (sum(BASE[language]) - sum(BASE["eng"])) / 6
        after = (sum(TUNED[language]) - sum(TUNED["eng"])) / 6
        assert (gap.value_a, gap.value_b) == pytest.approx((before, after))
        assert gap.delta == pytest.approx(after - before)
        assert gap.ci_low <= gap.delta <= gap.ci_high
        ratio = deltas[("refusal_ratio_to_eng", language)]
        assert ratio.method == PAIRED_STATISTIC
        assert ratio.value_b == pytest.approx(sum(TUNED[language]) / 6)


def test_dashboard_parity_headings_show_run_text_as_text(runs, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    base, tuned = runs
    planted = "[click](https://example.invalid/x)"
    folder = _write(tmp_path, "planted", _harmful(TUNED, []))
    run = folder.read_json("run.json")
    folder.write_json("run.json", dict(run, model=dict(run["model"], uri=planted)))
    folder.write_manifest()
    (tmp_path / "base").symlink_to(base.path)
    app = open_page("compare", tmp_path, monkeypatch, runs=("base", "planted"))
    [heading] = [h.value for h in app.get("subheader") if "against" in h.value]
    assert planted not in heading and "\\[click\\]" in heading
