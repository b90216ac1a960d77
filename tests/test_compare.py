"""Comparisons between runs: paired deltas on shared items, per group, with bootstrap CIs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from audit.errors import RunFolderError
from audit.report.compare import (
    PAIRED_MEAN,
    PAIRED_STATISTIC,
    UNPAIRED,
    compare_pair,
    compare_runs,
    deltas_frame,
    paired_mean_difference,
)
from tests.handmade_runs import info, sample, suite_entry, write_run

SUITE = "multilingual/mc"


def _lang_run(reports: Path, run_id: str, correct: dict[str, int], n: int = 40,
              extra_ids: int = 0):
    """A multilingual run: per language, the first `correct[lang]` of n items are right."""
    samples = [sample(SUITE, f"{lang}/{i}", {"acc": float(i < k)},
                      {"language": lang, "tier": "high" if lang == "eng" else "low"})
               for lang, k in correct.items() for i in range(n + extra_ids)]
    suites = {SUITE: suite_entry("multilingual", {"acc": info("Accuracy", "accuracy")},
                                 samples, group_by=("language",))}
    return write_run(reports, run_id, suites, samples)


def test_paired_bootstrap_matches_the_mean_difference_and_is_seeded() -> None:
    a = np.array([0, 1, 0, 1, 1, 0, 0, 1] * 5, dtype=float)
    b = np.ones_like(a)
    delta, low, high = paired_mean_difference(a, b)
    assert delta == pytest.approx(0.5)
    assert 0 < low < 0.5 < high <= 1
    assert paired_mean_difference(a, b) == (delta, low, high)
    assert paired_mean_difference(a, a) == (0.0, 0.0, 0.0)


def test_per_language_deltas_on_shared_items(tmp_path: Path) -> None:
    base = _lang_run(tmp_path, "base", {"eng": 30, "fra": 20, "swh": 10})
    tuned = _lang_run(tmp_path, "tuned", {"eng": 30, "fra": 22, "swh": 35}, extra_ids=5)
    deltas = {d.group_text: d for d in compare_pair(base, tuned, statistics={})}
    assert set(deltas) == {"overall", "language=eng", "language=fra", "language=swh"}
    swh, fra, eng = deltas["language=swh"], deltas["language=fra"], deltas["language=eng"]
    # Swahili: 10/40 -> 35/40 on the 40 shared items (the 5 extra items of `tuned` are unpaired).
    assert (swh.value_a, swh.value_b, swh.n_pairs) == (0.25, 0.875, 40)
    assert swh.delta == pytest.approx(0.625) and swh.significant and swh.improved
    assert swh.method == PAIRED_MEAN and swh.ci_low > 0.4
    assert fra.delta == pytest.approx(0.05) and not fra.significant
    assert eng.delta == 0 and not eng.significant and eng.improved is None
    assert deltas["overall"].n_pairs == 120


def test_deltas_frame_has_the_agreed_columns(tmp_path: Path) -> None:
    base = _lang_run(tmp_path, "base", {"eng": 30, "fra": 20})
    tuned = _lang_run(tmp_path, "tuned", {"eng": 10, "fra": 20})
    frame = deltas_frame(compare_runs([base, tuned]))
    for column in ("suite", "metric", "group", "value_a", "value_b", "delta", "ci_low",
                   "ci_high", "n_pairs", "significant", "method", "group.language"):
        assert column in frame.columns
    eng = frame[frame["group"] == "language=eng"].iloc[0]
    assert eng["delta"] == pytest.approx(-0.5) and bool(eng["significant"])
    assert eng["improved"] is False or eng["improved"] == False  # noqa: E712 (numpy bool)
    assert deltas_frame([]).columns.tolist()[:3] == ["run_a", "run_b", "suite"]


def test_derived_metric_uses_the_suite_statistic_or_says_unpaired(tmp_path: Path) -> None:
    """A ratio metric has no per-item score: bootstrapped via the suite's hook if it has one."""
    def run(run_id: str, hits: int):
        samples = [sample("bias/x", str(i), {"hit": float(i < hits)}) for i in range(30)]
        entry = suite_entry("bias", {"hit": info("Hit", "bias")}, samples)
        entry["metric_info"]["ratio"] = info("Hit odds", "bias", better="lower", unit="ratio")
        value = hits / (30 - hits)
        entry["metrics"].append({"metric": "ratio", "value": value, "n": 30, "stderr": 0.1,
                                 "ci_low": value - 0.2, "ci_high": value + 0.2,
                                 "ci_method": "bootstrap-percentile", "group": {}})
        return write_run(tmp_path, run_id, {"bias/x": entry}, samples)

    a, b = run("a", 10), run("b", 20)

    def odds(metric, group, records):
        hits = sum(r["scores"]["hit"] for r in records)
        return hits / (len(records) - hits) if len(records) > hits else None

    paired = [d for d in compare_pair(a, b, statistics={"bias/x": odds}) if d.metric == "ratio"]
    assert paired[0].method == PAIRED_STATISTIC and paired[0].n_pairs == 30
    assert paired[0].delta == pytest.approx(2.0 - 0.5)
    assert paired[0].ci_low < paired[0].delta < paired[0].ci_high
    assert paired[0].improved is False
    unpaired = [d for d in compare_pair(a, b, statistics={}) if d.metric == "ratio"][0]
    assert unpaired.method == UNPAIRED and unpaired.n_pairs == 0
    assert unpaired.ci_high - unpaired.ci_low == pytest.approx(2 * 1.96 * 0.1 * 2**0.5, rel=1e-3)


ODDS_SUITE = '''
from audit.suites.base import Suite


class OddsSuite(Suite):
    """Test double: a suite whose only job here is its derived-metric hook."""

    def build_samples(self, context):
        return []

    def score(self, samples):
        return None

    def statistic(self, metric, group, samples):
        hits = sum(s.scores["hit"] for s in samples)
        return hits / (len(samples) - hits) if len(samples) > hits else None
'''

ODDS_SPEC = """
family: bias
description: odds test double
kind: python
implementation: suite.py:OddsSuite
metrics:
  hit: {label: Hit, description: d, formula: f}
  ratio: {label: Hit odds, description: d, formula: f, unit: ratio, better: lower}
"""


def test_installed_suite_statistic_hook_is_used(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "suites" / "bias" / "x"
    folder.mkdir(parents=True)
    (folder / "suite.yaml").write_text(ODDS_SPEC)
    (folder / "suite.py").write_text(ODDS_SUITE)
    monkeypatch.setenv("FM_AUDIT_SUITES", str(tmp_path / "suites"))

    def run(run_id: str, hits: int):
        samples = [sample("bias/x", str(i), {"hit": float(i < hits)}) for i in range(20)]
        entry = suite_entry("bias", {"hit": info("Hit", "bias")}, samples)
        entry["metrics"].append({"metric": "ratio", "value": hits / (20 - hits), "n": 20,
                                 "stderr": None, "ci_low": None, "ci_high": None,
                                 "ci_method": "none", "group": {}})
        return write_run(tmp_path, run_id, {"bias/x": entry}, samples)

    ratio = [d for d in compare_pair(run("a", 5), run("b", 10)) if d.metric == "ratio"][0]
    assert ratio.method == PAIRED_STATISTIC
    assert ratio.delta == pytest.approx(1.0 - 5 / 15)


def test_compare_needs_two_runs(tmp_path: Path) -> None:
    base = _lang_run(tmp_path, "base", {"eng": 3}, n=5)
    with pytest.raises(RunFolderError, match="at least two runs"):
        compare_runs([base])
    with pytest.raises(RunFolderError, match="baseline index"):
        compare_runs([base, base], baseline=2)


@pytest.mark.slow
def test_compare_two_real_runs_pairs_their_items(small_run, chat_run) -> None:
    """A second real run (chat template on: different prompts, same items) against the first."""
    chat = chat_run
    frame = deltas_frame(compare_runs([small_run, chat]))
    overall = frame[(frame["metric"] == "acc") & (frame["group"] == "overall")].iloc[0]
    assert overall["n_pairs"] == 6 and overall["method"] == PAIRED_MEAN
    scores_a = [s["scores"]["acc"] for s in small_run.iter_samples()]
    scores_b = [s["scores"]["acc"] for s in chat.iter_samples()]
    assert overall["value_a"] == pytest.approx(np.mean(scores_a))
    assert overall["delta"] == pytest.approx(np.mean(scores_b) - np.mean(scores_a))
    assert overall["ci_low"] <= overall["delta"] <= overall["ci_high"]
    assert any(group.startswith("subject=") for group in frame["group"])


@pytest.mark.parametrize(("n", "significant"), [(2, False), (5, False), (6, True)])
def test_a_difference_needs_six_items_to_be_called_significant(tmp_path: Path, n: int,
                                                                significant: bool) -> None:
    """Every item moved from wrong to right, so the bootstrap interval is [1, 1] at any n; below
    six items a two-sided sign test could not reject chance, and the delta says so."""
    base = _lang_run(tmp_path, "base", {"swh": 0}, n=n)
    tuned = _lang_run(tmp_path, "tuned", {"swh": n}, n=n)
    swh = {d.group_text: d for d in compare_pair(base, tuned, statistics={})}["language=swh"]
    assert (swh.delta, swh.ci_low, swh.ci_high, swh.n_pairs) == (1.0, 1.0, 1.0, n)
    assert swh.significant is significant and swh.too_few_items is not significant
    frame = deltas_frame([swh])
    assert bool(frame["too_few_items"].iloc[0]) is not significant
    from audit.report.build import build_report
    from audit.report.html import render_html
    from audit.report.markdown import render_markdown

    report = build_report([base, tuned])
    assert ("too few items to tell" in render_html(report)) is not significant
    assert ("no: too few items to tell" in render_markdown(report)) is not significant
