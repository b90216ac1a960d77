"""A comparison report opens with what changed: significant changes by family and language
(regressions first), the policy verdicts that flipped and the energy delta; the full table
comes last, collapsed."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.policy import load_policy
from audit.report.build import build_report
from audit.report.html import render_html
from audit.report.markdown import render_markdown
from tests.handmade_runs import info, sample, suite_entry, write_run

POLICY = """\
name: Swahili floor
rules:
  - id: swahili-floor
    description: Answers at least half of the Swahili questions.
    suite: multilingual/mc
    metric: acc
    group: {language: swh}
    op: ">="
    threshold: 0.5
    min_n: 30
"""


def _run(reports: Path, run_id: str, correct: dict[str, int], bias_correct: int,
         energy_kwh: float):
    """40 items per language, the first `correct[lang]` right; 40 bias items, the first
    `bias_correct` right."""
    ml = [sample("multilingual/mc", f"{lang}/{i}", {"acc": float(i < k)}, {"language": lang})
          for lang, k in correct.items() for i in range(40)]
    bias = [sample("bias/pairs", str(i), {"acc": float(i < bias_correct)}) for i in range(40)]
    return write_run(reports, run_id, {
        "multilingual/mc": suite_entry("multilingual", {"acc": info("Accuracy", "accuracy")},
                                       ml, ("language",)),
        "bias/pairs": suite_entry("bias", {"acc": info("Pair accuracy", "accuracy")}, bias),
    }, ml + bias, energy_kwh=energy_kwh)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory):
    reports = tmp_path_factory.mktemp("reports")
    # Swahili 10/40 -> 35/40 (better), French 30/40 -> 5/40 (worse), English 30 -> 31 (no
    # significant change), bias 20/40 -> 20/40 (none); energy 0.2 Wh -> 0.3 Wh per suite.
    base = _run(reports, "base", {"eng": 30, "fra": 30, "swh": 10}, 20, 0.0002)
    tuned = _run(reports, "tuned", {"eng": 31, "fra": 5, "swh": 35}, 20, 0.0003)
    policy_file = reports / "policy.yaml"
    policy_file.write_text(POLICY)
    return build_report([base, tuned], load_policy(policy_file), str(policy_file))


def test_summary_counts_and_ranks_the_significant_changes(report) -> None:
    summary = report.comparison.summary
    # compared: overall + 3 languages (multilingual), overall (bias)
    assert summary.compared == 5
    significant = [(d.suite, d.group_text, d.improved) for d in summary.ranked]
    # French got worse: listed first; then Swahili better; overall 71/120 -> 70/120 is not.
    assert significant == [("multilingual/mc", "language=fra", False),
                           ("multilingual/mc", "language=swh", True)]
    assert summary.significant == 2 and summary.too_few_items == 0
    families = {(c.label, c.compared, c.better, c.worse) for c in summary.by_family}
    assert families == {("Multilingual", 4, 1, 1), ("Bias", 1, 0, 0)}
    assert [c.label for c in summary.by_family] == ["Bias", "Multilingual"]
    languages = [(c.label, c.better, c.worse) for c in summary.by_language]
    assert languages == [("French (fra)", 0, 1), ("Swahili (swh)", 1, 0), ("English (eng)", 0, 0)]
    # Swahili went from 25% (fail) to 87.5% (pass) on 40 items
    assert [(f.rule, f.before, f.after) for f in summary.flips] == [
        ("swahili-floor", "fail", "pass")]
    (energy,) = summary.energy
    assert (energy.suites, energy.wh_baseline, energy.wh_run) == (
        2, pytest.approx(0.4), pytest.approx(0.6))


def test_html_puts_the_summary_first_and_collapses_the_full_table(report) -> None:
    page = render_html(report)
    order = [page.index(marker) for marker in (
        'id="what-changed"', "By family", "By language", "Significant changes, worse first",
        "Policy verdicts that flipped", "<h4>Energy</h4>", "<details><summary>Full table")]
    assert order == sorted(order)
    summary = page[page.index('id="what-changed"'):page.index("<details>")]
    assert "French (fra)" in summary and "-62.5 pts" in summary and "+62.5 pts" in summary
    assert summary.index("-62.5 pts") < summary.index("+62.5 pts")
    assert "swahili-floor" in summary and "+0.2 Wh (+50%)" in summary
    assert "Full table: all 5 comparisons" in page


def test_markdown_has_the_same_summary(report) -> None:
    text = render_markdown(report)
    assert text.index("### What changed") < text.index("### All 5 comparisons")
    assert "2 of 5 compared values changed significantly" in text
    assert "WORSE" in text and "swahili-floor" in text
