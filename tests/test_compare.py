"""Comparisons between runs: paired deltas on shared items, per group, with paired CIs and
Holm-corrected significance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from audit.errors import RunFolderError
from audit.report.compare import (
    PAIRED_MEAN,
    PAIRED_SHARES,
    PAIRED_STATISTIC,
    UNPAIRED,
    compare_pair,
    compare_runs,
    deltas_frame,
    holm,
    paired_mean_difference,
    same_runs,
    sign_flip_p_value,
)
from tests.handmade_runs import (
    STATISTIC_SUITE_SPEC,
    STATISTIC_SUITES,
    info,
    sample,
    suite_entry,
    write_run,
)

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


def test_paired_share_difference_known_values() -> None:
    from scipy.stats import beta

    # 0/1 scores: before alternates, after is always 1, so 20 of 40 pairs moved 0 -> 1.
    a = np.array([0, 1, 0, 1, 1, 0, 0, 1] * 5, dtype=float)
    b = np.ones_like(a)
    delta, low, high, p_value, method = paired_mean_difference(a, b)
    # Paired MOVER by hand: after is constant, so the correlation is 0 and the limits add
    # the two Clopper-Pearson distances in quadrature: after 40/40 has lower limit
    # 0.025^(1/40); before 20/40 has limits Beta(0.025; 20, 21) and Beta(0.975; 21, 20).
    after_low = 0.025 ** (1 / 40)
    before_low, before_high = beta.ppf(0.025, 20, 21), beta.ppf(0.975, 21, 20)
    assert delta == pytest.approx(0.5)
    assert low == pytest.approx(0.5 - ((1 - after_low) ** 2 + (before_high - 0.5) ** 2) ** 0.5)
    assert high == pytest.approx(0.5 + (0.5 - before_low))
    assert method == PAIRED_SHARES
    assert p_value < 0.001
    assert paired_mean_difference(a, b) == (delta, low, high, p_value, method)  # seeded


def test_every_pair_moving_the_same_way_still_gets_an_interval() -> None:
    # 24 of 24 requests refused after, none before (the fine-tune in four languages): the
    # differences have no spread, yet the shares bound the change. With no correlation (both
    # runs constant) the lower limit is 1 - sqrt(2) x (1 - 0.025^(1/24)) = 0.7985.
    delta, low, high, p_value, method = paired_mean_difference(np.zeros(24), np.ones(24))
    assert (delta, high, method) == (1.0, 1.0, PAIRED_SHARES)
    assert low == pytest.approx(1 - 2 ** 0.5 * (1 - 0.025 ** (1 / 24)))
    assert low == pytest.approx(0.7985, abs=1e-4)
    # 24 pairs: 20,000 seeded random sign flips, none all alike, so p is its floor 1/20,001.
    assert p_value == pytest.approx(1 / 20001)
    # Nothing moved: the interval still says how large a change the 24 pairs leave open.
    delta, low, high, p_value, _ = paired_mean_difference(np.ones(24), np.ones(24))
    assert delta == 0.0
    assert (low, high) == (pytest.approx(-(1 - 0.025 ** (1 / 24))),
                           pytest.approx(1 - 0.025 ** (1 / 24)))
    assert p_value == 1.0


def test_other_scores_keep_the_t_interval() -> None:
    from scipy.stats import t

    a = np.array([0.2, 0.5, 0.1, 0.4, 0.3, 0.6])
    b = a + np.array([0.1, 0.3, 0.0, 0.2, 0.1, 0.2])
    delta, low, high, _, method = paired_mean_difference(a, b)
    differences = b - a
    half = t.ppf(0.975, 5) * differences.std(ddof=1) / 6**0.5
    assert (low, high) == (pytest.approx(delta - half), pytest.approx(delta + half))
    assert method == PAIRED_MEAN
    # No difference at all: no interval to give, and nothing to reject.
    assert paired_mean_difference(a, a) == (0.0, None, None, 1.0, PAIRED_MEAN)


def test_sign_flip_p_value_known_values() -> None:
    # Six differences all +1: only the two all-same-sign flips reach |mean| 1: p = 2/64.
    assert sign_flip_p_value(np.ones(6)) == pytest.approx(2 / 64)
    # Differences 1, 1, -1: |mean| 1/3 is reached by every flip: p = 1.
    assert sign_flip_p_value(np.array([1.0, 1.0, -1.0])) == 1.0
    # 3, 1, 1: flips with |sum| >= 5 are (+,+,+) and (-,-,-): p = 2/8.
    assert sign_flip_p_value(np.array([3.0, 1.0, 1.0])) == pytest.approx(2 / 8)


def test_holm_adjusts_known_p_values() -> None:
    from dataclasses import replace

    base = dict(suite="s", metric="m", group={}, run_a="a", run_b="b", value_a=0.0,
                value_b=0.0, delta=0.1, ci_low=None, ci_high=None, n_pairs=50, method="x")
    from audit.report.compare import MetricDelta

    deltas = [replace(MetricDelta(**base), p_value=p) for p in (0.01, 0.04, 0.03)]
    # Sorted 0.01, 0.03, 0.04: 3 x 0.01 = 0.03, 2 x 0.03 = 0.06, max(0.06, 1 x 0.04) = 0.06.
    assert [d.p_adjusted for d in holm(deltas)] == pytest.approx([0.03, 0.06, 0.06])
    assert [d.significant for d in holm(deltas)] == [True, False, False]
    # A delta on too few items is not in the family and never significant.
    few = replace(MetricDelta(**{**base, "n_pairs": 3}), p_value=0.001)
    assert holm([few])[0].p_adjusted is None and not holm([few])[0].significant


def test_per_language_deltas_on_shared_items(tmp_path: Path) -> None:
    base = _lang_run(tmp_path, "base", {"eng": 30, "fra": 20, "swh": 10})
    tuned = _lang_run(tmp_path, "tuned", {"eng": 30, "fra": 22, "swh": 35}, extra_ids=5)
    deltas = {d.group_text: d for d in compare_pair(base, tuned, statistics={})}
    assert set(deltas) == {"overall", "language=eng", "language=fra", "language=swh"}
    swh, fra, eng = deltas["language=swh"], deltas["language=fra"], deltas["language=eng"]
    # Swahili: 10/40 -> 35/40 on the 40 shared items (the 5 extra items of `tuned` are unpaired).
    assert (swh.value_a, swh.value_b, swh.n_pairs) == (0.25, 0.875, 40)
    assert swh.delta == pytest.approx(0.625) and swh.significant and swh.improved
    assert swh.method == PAIRED_SHARES and swh.ci_low > 0.4
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
    assert paired[0].p_value is not None
    assert paired[0].delta == pytest.approx(2.0 - 0.5)
    assert paired[0].ci_low < paired[0].delta < paired[0].ci_high
    assert paired[0].improved is False
    unpaired = [d for d in compare_pair(a, b, statistics={}) if d.metric == "ratio"][0]
    assert unpaired.method == UNPAIRED and unpaired.n_pairs == 0
    assert unpaired.ci_high - unpaired.ci_low == pytest.approx(2 * 1.96 * 0.1 * 2**0.5, rel=1e-3)
    # z = 1.5 / (0.1 * sqrt 2) = 10.6: p far below 0.05.
    assert unpaired.p_value < 1e-6




def test_installed_suite_statistic_hook_is_used(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "suites" / "bias" / "x"
    folder.mkdir(parents=True)
    spec = STATISTIC_SUITE_SPEC.format(description="x", cls="OddsSuite")
    (folder / "suite.yaml").write_text(spec)
    (folder / "suite.py").write_text(STATISTIC_SUITES)
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
    assert overall["n_pairs"] == 6 and overall["method"] == PAIRED_SHARES
    scores_a = [s["scores"]["acc"] for s in small_run.iter_samples()]
    scores_b = [s["scores"]["acc"] for s in chat.iter_samples()]
    assert overall["value_a"] == pytest.approx(np.mean(scores_a))
    assert overall["delta"] == pytest.approx(np.mean(scores_b) - np.mean(scores_a))
    # 0/1 scores always get the paired interval of two shares, never a zero-width one.
    assert overall["ci_low"] <= overall["delta"] <= overall["ci_high"]
    assert overall["ci_low"] < overall["ci_high"]
    assert any(group.startswith("subject=") for group in frame["group"])


@pytest.mark.parametrize(("n", "too_few", "significant"),
                         [(2, True, False), (5, True, False), (6, False, False), (7, False, True)])
def test_a_difference_needs_enough_items_and_survives_holm(tmp_path: Path, n: int,
                                                           too_few: bool,
                                                           significant: bool) -> None:
    """Every item moved from wrong to right. Below six items a two-sided sign test cannot
    reject chance. The overall row and the language row are two comparisons: at six items each
    has p = 2/64, which Holm doubles to 0.0625 (not significant); at seven, 2/128 doubled is
    0.031."""
    base = _lang_run(tmp_path, "base", {"swh": 0}, n=n)
    tuned = _lang_run(tmp_path, "tuned", {"swh": n}, n=n)
    swh = {d.group_text: d for d in compare_pair(base, tuned, statistics={})}["language=swh"]
    # Every pair moved 0 -> 1: the paired interval of two shares, 1 - sqrt(2) x (1 - 0.025^(1/n))
    # to 1 (both runs constant, so no correlation), cut at -1.
    low = max(-1.0, 1 - 2**0.5 * (1 - 0.025 ** (1 / n)))
    assert (swh.delta, swh.ci_low, swh.ci_high, swh.n_pairs) == (1.0, pytest.approx(low), 1.0, n)
    assert swh.significant is significant and swh.too_few_items is too_few
    frame = deltas_frame([swh])
    assert bool(frame["too_few_items"].iloc[0]) is too_few
    from audit.report.build import build_report
    from audit.report.html import render_html
    from audit.report.markdown import render_markdown

    report = build_report([base, tuned])
    assert ("too few items to tell" in render_html(report)) is too_few
    assert ("no: too few items to tell" in render_markdown(report)) is too_few


def test_group_n_is_the_groups_paired_items_and_one_item_is_never_significant(
        tmp_path: Path) -> None:
    """A derived metric of a one-item group: n_pairs is 1 (not the suite's total), so the
    difference cannot be significant however large."""
    def run(run_id: str, hits: int):
        samples = [sample("bias/x", str(i), {"hit": float(i < hits)},
                          {"kind": "solo" if i == 0 else "many"}) for i in range(12)]
        entry = suite_entry("bias", {"hit": info("Hit", "bias")}, samples, group_by=("kind",))
        for group in ({}, {"kind": "solo"}):
            entry["metrics"].append({"metric": "share", "value": 0.5, "n": 12, "stderr": 0.1,
                                     "ci_low": 0.2, "ci_high": 0.8, "ci_method": "x",
                                     "group": group})
        entry["metric_info"]["share"] = info("Share", "bias")
        return write_run(tmp_path, run_id, {"bias/x": entry}, samples)

    def share(metric, group, records):
        chosen = [r for r in records if all(r["group"].get(k) == v for k, v in group.items())]
        return sum(r["scores"]["hit"] for r in chosen) / len(chosen) if chosen else None

    deltas = compare_pair(run("a", 0), run("b", 12), statistics={"bias/x": share})
    solo = [d for d in deltas if d.metric == "share" and d.group == {"kind": "solo"}][0]
    assert solo.n_pairs == 1 and solo.too_few_items and not solo.significant


def test_comparing_a_run_with_itself_is_flagged(tmp_path: Path) -> None:
    base = _lang_run(tmp_path, "base", {"eng": 30}, n=40)
    other = _lang_run(tmp_path, "other", {"eng": 20}, n=40)
    assert same_runs([base, other]) == []
    warnings = same_runs([base, base])
    assert len(warnings) == 1 and "same run" in warnings[0]


def _records(values: list[float]) -> list[dict]:
    return [{"x": v} for v in values]


def _mean_x(records: list[dict]) -> float | None:
    return float(np.mean([r["x"] for r in records]))


def test_paired_statistic_difference_known_values() -> None:
    from audit.report.compare import paired_statistic_difference

    # b is a plus 1 plus noise: every resampled difference is positive, so the bootstrap
    # p-value is its floor 2 x (0 + 1) / (2000 + 1), and the interval brackets the mean
    # difference of the items themselves, not the sum of the two values.
    rng = np.random.default_rng(3)
    a = rng.normal(0, 1, 30)
    b = a + 1 + rng.normal(0, 0.2, 30)
    value_a, value_b, low, high, p_value = paired_statistic_difference(
        _mean_x, _records(list(a)), _records(list(b)))
    assert (value_a, value_b) == (pytest.approx(a.mean()), pytest.approx(b.mean()))
    assert low < (b - a).mean() < high and high - low < 0.3
    assert p_value == pytest.approx(2 / 2001)
    # The pairing is kept: a's spread (sd 1) would make unpaired intervals ~10 times wider.
    assert paired_statistic_difference(_mean_x, _records(list(a)), _records(list(b))) == (
        value_a, value_b, low, high, p_value)  # seeded


def test_paired_statistic_difference_draws_every_item_and_starts_at_its_minimum() -> None:
    from audit.report.compare import paired_statistic_difference
    from audit.stats import BOOTSTRAP_MIN_N

    # Only the first item moved: a bootstrap that never drew it would find no difference.
    moved = _records([1.0] + [0.0] * 19)
    _, _, low, high, _ = paired_statistic_difference(_mean_x, _records([0.0] * 20), moved)
    assert high > 0
    at_minimum = _records(list(range(BOOTSTRAP_MIN_N)))
    shifted = _records([v + (i % 3) for i, v in enumerate(range(BOOTSTRAP_MIN_N))])
    assert paired_statistic_difference(_mean_x, at_minimum, shifted)[2] is not None
    assert paired_statistic_difference(_mean_x, at_minimum[1:], shifted[1:])[2:] == (
        None, None, None)


def test_paired_statistic_difference_undefined_on_either_run() -> None:
    from audit.report.compare import paired_statistic_difference

    def only_a(records: list[dict]) -> float | None:
        return None if any(r.get("b") for r in records) else 1.0

    b = [{"b": True, "x": 0.0}] * 12
    assert paired_statistic_difference(only_a, _records([0.0] * 12), b) is None
    assert paired_statistic_difference(only_a, b, _records([0.0] * 12)) is None


def test_unpaired_difference_known_values() -> None:
    from scipy.stats import norm

    from audit.report.compare import _unpaired

    a, b = {"value": 0.5, "stderr": 0.03}, {"value": 0.6, "stderr": 0.04}
    value_a, value_b, delta, low, high, p_value = _unpaired(a, b)
    # se = hypot(0.03, 0.04) = 0.05; z = 0.1 / 0.05 = 2.
    assert (value_a, value_b, delta) == (0.5, 0.6, pytest.approx(0.1))
    assert (low, high) == (pytest.approx(0.1 - norm.ppf(0.975) * 0.05),
                           pytest.approx(0.1 + norm.ppf(0.975) * 0.05))
    assert p_value == pytest.approx(2 * norm.sf(2))
    assert _unpaired(a, None) == (0.5, None, None, None, None, None)
    assert _unpaired(None, b) == (None, 0.6, None, None, None, None)
    for se_a, se_b in ((None, 0.04), (0.03, None), (0.0, 0.0)):
        no_se = _unpaired({"value": 0.5, "stderr": se_a}, {"value": 0.6, "stderr": se_b})
        assert no_se[2] == pytest.approx(0.1) and no_se[3:] == (None, None, None)


def test_compare_keeps_only_the_suites_asked_for(tmp_path: Path) -> None:
    a = _lang_run(tmp_path, "a", {"eng": 20, "fra": 10})
    b = _lang_run(tmp_path, "b", {"eng": 30, "fra": 10})
    assert {d.suite for d in compare_pair(a, b, suites=["multilingual/*"])} == {SUITE}
    assert compare_pair(a, b, suites=["bias/*"]) == []
    assert {d.suite for d in compare_pair(a, b, suites=["bias/*", "multi*"])} == {SUITE}
