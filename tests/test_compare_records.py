"""Whole comparison records: every field of every `MetricDelta` two hand-written runs give.

The run folders are written by hand (results.json values, n and standard errors typed in,
per-item scores chosen so that each paired difference, interval and p-value can be worked out
on paper); nothing in them is computed by the statistics code under test. The expected
intervals of 0/1 scores use the paired MOVER formula written out here, the p-values are
counted by hand in the comments, and Holm's correction is applied by hand to the seven
comparisons that qualify.
"""

from __future__ import annotations

import logging
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.stats import beta, norm

from audit.errors import RunFolderError
from audit.report.compare import (
    ABSENT,
    DELTA_COLUMNS,
    NO_VALUE_B,
    PAIRED_MEAN,
    PAIRED_SHARES,
    PAIRED_STATISTIC,
    UNPAIRED,
    MetricDelta,
    compare_pair,
    compare_runs,
    deltas_frame,
    paired_mean_difference,
    paired_statistic_difference,
    same_runs,
    sign_flip_p_value,
)
from audit.runfolder import RunFolder
from tests.handmade_runs import (
    STATISTIC_SUITE_SPEC,
    STATISTIC_SUITES,
    info,
    sample,
    write_run,
)

LANGUAGES = "multilingual/demo"
BIAS = "bias/demo"
ENG = {"language": "eng", "tier": "high"}
FRA = {"language": "fra", "tier": "low"}
DEU = {"language": "deu", "tier": "low"}
NOT_SHARED_NOTE = "the runs share no scored items in this group"


class Between:
    """Matches any number strictly between two bounds (for bootstrap bounds and p-values,
    which depend on the seeded resamples)."""

    def __init__(self, low: float, high: float) -> None:
        self.low, self.high = low, high

    def __eq__(self, other: object) -> bool:
        return isinstance(other, float) and self.low < other < self.high

    def __repr__(self) -> str:
        return f"Between({self.low}, {self.high})"


def reported(metric: str, value: float | None, n: int, stderr: float | None = None,
             group: dict[str, str] | None = None) -> dict[str, Any]:
    """A results.json metric record typed in by hand (its interval is not used by compare)."""
    return {"metric": metric, "value": value, "n": n, "stderr": stderr, "ci_low": None,
            "ci_high": None, "ci_method": "typed in by hand", "group": dict(group or {})}


def entry(family: str, metric_info: dict[str, Any], metrics: list[dict[str, Any]],
          n_samples: int) -> dict[str, Any]:
    """A results.json suite entry with hand-written metrics."""
    return {"family": family, "description": "hand-written", "n_samples": n_samples,
            "limits": "hand-written", "data": [], "skipped": [], "metric_info": metric_info,
            "metrics": metrics}


def language_samples(run: str) -> list[dict[str, Any]]:
    """Seven English and six French items in both runs, plus items that must not pair:
    f6 and d0 only in the baseline, d1 only in the other run, f7 scored for `acc` only in the
    baseline, x0 labelled French in the baseline and English in the other run."""
    if run == "base":
        acc = {**{f"e{i}": (0.0, ENG) for i in range(7)},
               **{f"f{i}": (float(i < 3), FRA) for i in range(6)},
               "f6": (1.0, FRA), "x0": (0.0, FRA), "d0": (0.0, DEU)}
        records = [sample(LANGUAGES, item, {"acc": score, "fid": 0.7}, group)
                   for item, (score, group) in acc.items()]
        return records + [sample(LANGUAGES, "f7", {"acc": 1.0, "fid": 0.7}, FRA)]
    acc = {**{f"e{i}": (1.0, ENG) for i in range(7)},
           **{f"f{i}": (float(i < 5), FRA) for i in range(6)},
           "x0": (0.0, ENG), "d1": (1.0, DEU)}
    records = [sample(LANGUAGES, item, {"acc": score}, group)
               for item, (score, group) in acc.items()]
    return records + [sample(LANGUAGES, "f7", {}, FRA)]


def bias_samples(run: str) -> list[dict[str, Any]]:
    """Twelve items; x is i in the baseline and i + 1 + (i mod 3) in the other run, so every
    resampled mean moves up by at least 1. Items 0-3 are kind 'few', 4-11 kind 'many'."""
    return [sample(BIAS, f"i{i}", {"x": float(i if run == "base" else i + 1 + i % 3)},
                   {"kind": "few" if i < 4 else "many"}) for i in range(12)]


def write_pair(reports: Path) -> tuple[RunFolder, RunFolder]:
    """The baseline 'base' and the run 'tuned', each with the suites in a different order."""
    bias_info = {"mean_x": info("Mean x", "bias", better="lower", unit="score")}
    bias_metrics = [reported("mean_x", 5.5, 12), reported("mean_x", 1.5, 4, group={"kind": "few"}),
                    reported("mean_x", 7.5, 8, group={"kind": "many"})]
    base_languages = entry("multilingual", {
        "fid": info("Fidelity (old label)", "multilingual", better="target", target=0.5),
        "acc": info("Accuracy (old label)", "multilingual")}, [
        reported("acc", 5 / 17, 17), reported("acc", 0.0, 7, group={"language": "eng"}),
        reported("acc", 5 / 9, 9, group={"language": "fra"}),
        reported("acc", 0.0, 7, group=ENG),
        reported("fid", 0.8, 10, 0.03), reported("fid", 0.5, 6, None, {"language": "deu"}),
        reported("bpb", 1.2, 17, 0.1), reported("aux", 2.0, 7, group={"language": "eng"})],
        17)
    tuned_languages = entry("multilingual", {
        "acc": info("Accuracy", "multilingual"),
        "fid": info("Fidelity", "multilingual", better="target", target=0.5,
                    unit="share of answers")}, [
        reported("acc", 13 / 15, 15), reported("acc", 1.0, 1, group={"language": "deu"}),
        reported("acc", 7 / 8, 8, group={"language": "eng"}),
        reported("acc", 5 / 6, 6, group={"language": "fra"}),
        reported("acc", 7 / 8, 8, group=ENG),
        reported("fid", 0.6, 12, 0.04), reported("fid", 0.4, 8, 0.05, {"language": "deu"}),
        reported("bpb", None, 0), reported("aux", 3.0, 8, group={"language": "eng"})], 16)
    only_base = entry("capability", {"acc": info("Accuracy", "capability")},
                      [reported("acc", 0.5, 2)], 2)
    base = write_run(reports, "base", {
        LANGUAGES: base_languages, BIAS: entry("bias", bias_info, bias_metrics, 12),
        "capability/only_base": only_base}, language_samples("base") + bias_samples("base"))
    tuned = write_run(reports, "tuned", {
        BIAS: entry("bias", bias_info, bias_metrics, 12), LANGUAGES: tuned_languages},
        language_samples("tuned") + bias_samples("tuned"))
    return base, tuned


def languages_statistic(metric: str, group: dict[str, str], records: list[dict]) -> float | None:
    """A hook that would give 'fid' a value if compare wrongly asked it (fid has per-item
    scores in the baseline, so it must be compared from the reported values)."""
    return 0.5 if metric == "fid" else None


def mean_x(metric: str, group: dict[str, str], records: list[dict]) -> float | None:
    """The bias suite's derived metric: the mean of x over the group's items."""
    chosen = [r["scores"]["x"] for r in records
              if all(r["group"].get(k) == v for k, v in group.items())]
    return sum(chosen) / len(chosen) if chosen else None


def mover_interval(both: int, after_only: int, before_only: int, neither: int
                   ) -> tuple[float, float]:
    """The paired MOVER 95% interval of share(after) - share(before), written out: each
    share's Clopper-Pearson limits from Beta quantiles, combined in quadrature less twice
    their product times the phi correlation, whose positive cross product shrinks by n/2."""
    n = both + after_only + before_only + neither
    k1, k2 = both + after_only, both + before_only
    p1, p2 = k1 / n, k2 / n
    low1 = 0.0 if k1 == 0 else beta.ppf(0.025, k1, n - k1 + 1)
    high1 = 1.0 if k1 == n else beta.ppf(0.975, k1 + 1, n - k1)
    low2 = 0.0 if k2 == 0 else beta.ppf(0.025, k2, n - k2 + 1)
    high2 = 1.0 if k2 == n else beta.ppf(0.975, k2 + 1, n - k2)
    margins = k1 * (n - k1) * k2 * (n - k2)
    cross = both * neither - after_only * before_only
    cross = max(0.0, cross - n / 2) if cross > 0 else cross
    phi = cross / math.sqrt(margins) if margins else 0.0
    below = math.sqrt((p1 - low1) ** 2 - 2 * phi * (p1 - low1) * (high2 - p2)
                      + (high2 - p2) ** 2)
    above = math.sqrt((high1 - p1) ** 2 - 2 * phi * (high1 - p1) * (p2 - low2)
                      + (p2 - low2) ** 2)
    return max(-1.0, p1 - p2 - below), min(1.0, p1 - p2 + above)


def expected_records() -> list[dict[str, Any]]:
    """Every record of `compare_pair(base, tuned)`, in order, worked out by hand.

    Holm's family is the seven deltas with a p-value and at least six items. Sorted p-values
    and their adjustment (multiplier = 7 - rank, running maximum):
    fid 2 x sf(4) x 7; mean_x overall 2/2001 x 6; mean_x many max(2/2001 x 5, previous);
    acc overall 2/2^9 x 4 = 1/64; acc eng 2/2^7 x 3 = 3/64; acc eng-high max(2/2^7 x 2, 3/64);
    acc fra 0.5 x 1.
    """
    fid_p = 2 * norm.sf(0.2 / 0.05)
    floor = 2 / 2001
    languages = dict(suite=LANGUAGES, run_a="base", run_b="tuned", family="multilingual",
                     notes=[])
    fid = dict(languages, metric="fid", label="Fidelity", unit="share of answers",
               better="target", target=0.5)
    acc = dict(languages, metric="acc", label="Accuracy", unit="proportion", better="higher",
               target=None)
    # (both 1, tuned only, base only, neither): overall e0-e6 and f3-f4 moved 0 -> 1, f0-f2
    # stayed 1, f5 and x0 stayed 0; English all seven moved; French f0-f5 as above.
    overall_low, overall_high = mover_interval(3, 9, 0, 2)
    eng_low, eng_high = mover_interval(0, 7, 0, 0)
    fra_low, fra_high = mover_interval(3, 2, 0, 1)
    bias = dict(suite=BIAS, run_a="base", run_b="tuned", family="bias", notes=[],
                metric="mean_x", label="Mean x", unit="score", better="lower", target=None,
                method=PAIRED_STATISTIC, n_a=0, improved=False, too_few_items=False)
    return [
        # Baseline per-item scores, none in the other run: compared from the reported values,
        # se = hypot(0.03, 0.04) = 0.05, z = -0.2 / 0.05 = -4.
        dict(fid, group={}, group_text="overall", value_a=0.8, value_b=0.6,
             delta=pytest.approx(-0.2), ci_low=pytest.approx(-0.2 - 1.959964 * 0.05),
             ci_high=pytest.approx(-0.2 + 1.959964 * 0.05), n_pairs=0, method=UNPAIRED,
             n_a=10, n_b=12, p_value=pytest.approx(fid_p),
             p_adjusted=pytest.approx(7 * fid_p), significant=True, too_few_items=False,
             improved=True),
        # No German item in both runs, and the baseline gives no standard error.
        dict(fid, group={"language": "deu"}, group_text="language=deu", value_a=0.5,
             value_b=0.4, delta=pytest.approx(-0.1), ci_low=None, ci_high=None, n_pairs=0,
             method=UNPAIRED, n_a=6, n_b=8, p_value=None, p_adjusted=None, notes=[
                 NOT_SHARED_NOTE], significant=False, too_few_items=False, improved=False),
        # 14 pairs (e0-e6, f0-f5, x0): nine moved 0 -> 1, five unchanged. Sign flips of the
        # nine ones reach |sum| 9 only all alike: p = 2/2^9.
        dict(acc, group={}, group_text="overall", value_a=3 / 14, value_b=12 / 14,
             delta=pytest.approx(9 / 14), ci_low=pytest.approx(overall_low),
             ci_high=pytest.approx(overall_high), n_pairs=14, method=PAIRED_SHARES, n_a=17,
             n_b=15, p_value=pytest.approx(2 / 2**9), p_adjusted=pytest.approx(1 / 64),
             significant=True, too_few_items=False, improved=True),
        dict(acc, group={"language": "deu"}, group_text="language=deu", value_a=None,
             value_b=1.0, delta=None, ci_low=None, ci_high=None, n_pairs=0, method=ABSENT,
             n_a=0, n_b=1, p_value=None, p_adjusted=None, significant=False,
             too_few_items=False, improved=None),
        # Seven pairs, all 0 -> 1: no spread, yet the two shares bound it; p = 2/2^7.
        dict(acc, group={"language": "eng"}, group_text="language=eng", value_a=0.0,
             value_b=1.0, delta=1.0, ci_low=pytest.approx(eng_low), ci_high=eng_high,
             n_pairs=7, method=PAIRED_SHARES,
             n_a=7, n_b=8, p_value=pytest.approx(2 / 2**7), p_adjusted=pytest.approx(3 / 64),
             significant=True, too_few_items=False, improved=True),
        # Six pairs, two moved 0 -> 1: the two ones flip to |sum| 2 in 2 of 4 ways: p = 0.5.
        dict(acc, group={"language": "fra"}, group_text="language=fra", value_a=0.5,
             value_b=pytest.approx(5 / 6), delta=pytest.approx(1 / 3),
             ci_low=pytest.approx(fra_low), ci_high=pytest.approx(fra_high), n_pairs=6,
             method=PAIRED_SHARES, n_a=9, n_b=6, p_value=pytest.approx(0.5),
             p_adjusted=pytest.approx(0.5), significant=False, too_few_items=False,
             improved=True),
        # A two-key group sorts after every one-key group.
        dict(acc, group=ENG, group_text="language=eng, tier=high", value_a=0.0, value_b=1.0,
             delta=1.0, ci_low=pytest.approx(eng_low), ci_high=eng_high, n_pairs=7,
             method=PAIRED_SHARES, n_a=7,
             n_b=8, p_value=pytest.approx(2 / 2**7), p_adjusted=pytest.approx(3 / 64),
             significant=True, too_few_items=False, improved=True),
        # Metrics without metric_info: after the declared ones, by name (aux before bpb
        # although its group sorts after bpb's), with plain defaults. aux has no per-item
        # scores, the hook gives it no value and neither run a standard error.
        dict(languages, metric="aux", label="aux", unit="", better="higher", family="",
             target=None, group={"language": "eng"}, group_text="language=eng", value_a=2.0,
             value_b=3.0, delta=1.0, ci_low=None, ci_high=None, n_pairs=0, method=UNPAIRED,
             n_a=7, n_b=8, p_value=None, p_adjusted=None, significant=False,
             too_few_items=False, improved=True),
        # The other run reports no value.
        dict(languages, metric="bpb", label="bpb", unit="", better="higher", family="",
             target=None, group={}, group_text="overall", value_a=1.2, value_b=None,
             delta=None, ci_low=None, ci_high=None, n_pairs=0, method=NO_VALUE_B, n_a=17,
             n_b=0, p_value=None, p_adjusted=None, significant=False, too_few_items=False,
             improved=None),
        # Paired bootstrap over the 12 shared items: every resampled difference is positive,
        # so p is its floor 2/2001; the interval brackets the difference.
        dict(bias, group={}, group_text="overall", value_a=5.5, value_b=7.5, delta=2.0,
             ci_low=Between(1.0, 2.0), ci_high=Between(2.0, 3.0), n_pairs=12, n_a=12, n_b=12,
             p_value=pytest.approx(floor), p_adjusted=pytest.approx(6 * floor),
             significant=True),
        # Four pairs: below the six-item minimum, outside Holm's family, never significant.
        dict(bias, group={"kind": "few"}, group_text="kind=few", value_a=1.5, value_b=3.25,
             delta=1.75, ci_low=Between(0.99, 1.75), ci_high=Between(1.75, 3.01), n_pairs=4,
             n_a=4, n_b=4, p_value=Between(floor / 2, 2 * floor), p_adjusted=None,
             significant=False, too_few_items=True),
        dict(bias, group={"kind": "many"}, group_text="kind=many", value_a=7.5,
             value_b=9.625, delta=2.125, ci_low=Between(1.0, 2.125),
             ci_high=Between(2.125, 3.0), n_pairs=8, n_a=8, n_b=8,
             p_value=pytest.approx(floor), p_adjusted=pytest.approx(6 * floor),
             significant=True),
    ]


def assert_record(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    """Every field of a delta's record equals the expected one (field named on failure)."""
    assert set(actual) == set(expected), set(actual) ^ set(expected)
    for name, value in expected.items():
        wanted = pytest.approx(value) if isinstance(value, float) else value
        assert actual[name] == wanted, f"{actual['metric']} {actual['group']}: {name}"


def test_every_field_of_every_record_of_a_hand_written_pair(tmp_path: Path) -> None:
    base, tuned = write_pair(tmp_path)
    deltas = compare_pair(base, tuned, statistics={LANGUAGES: languages_statistic,
                                                   BIAS: mean_x})
    expected = expected_records()
    assert [(d.suite, d.metric, d.group_text) for d in deltas] == [
        (e["suite"], e["metric"], e["group_text"]) for e in expected]
    for delta, record in zip(deltas, expected, strict=True):
        assert_record(delta.to_dict(), record)


def test_the_frame_holds_every_records_fields(tmp_path: Path) -> None:
    base, tuned = write_pair(tmp_path)
    deltas = compare_pair(base, tuned, statistics={LANGUAGES: languages_statistic,
                                                   BIAS: mean_x})
    frame = deltas_frame(deltas)
    group_columns = ["group.kind", "group.language", "group.tier"]
    assert sorted(frame.columns) == sorted(DELTA_COLUMNS + group_columns)
    for (_, row), delta in zip(frame.iterrows(), deltas, strict=True):
        record = {**delta.to_dict(), "group": delta.group_text}
        for column in DELTA_COLUMNS:
            value = record[column]
            if value is None or (isinstance(value, float) and math.isnan(value)):
                assert row[column] is None or row[column] != row[column], column
            else:
                assert row[column] == value, column
        for column in group_columns:
            key = column.removeprefix("group.")
            if key in delta.group:
                assert row[column] == delta.group[key], column
            else:
                assert row[column] != row[column], column  # NaN: the group has no such key
    assert deltas_frame([]).columns.tolist() == DELTA_COLUMNS


def _one_language_run(reports: Path, run_id: str, correct: int, n: int = 8) -> RunFolder:
    """n English items, the first `correct` right; results typed in by hand."""
    samples = [sample(LANGUAGES, f"e{i}", {"acc": float(i < correct)}, {"language": "eng"})
               for i in range(n)]
    metrics = [reported("acc", correct / n, n),
               reported("acc", correct / n, n, group={"language": "eng"})]
    suite = entry("multilingual", {"acc": info("Accuracy", "multilingual")}, metrics, n)
    return write_run(reports, run_id, {LANGUAGES: suite}, samples)


def test_three_runs_against_a_chosen_baseline_share_one_holm_family(tmp_path: Path) -> None:
    """Baseline 'tuned' (8 of 8) against 'base' (0 of 8) and 'other' (8 of 8): two rows of
    -1 with p = 2/2^8 and two rows of 0 with p = 1. Holm over all four: 4 x 2/256 = 1/32."""
    base = _one_language_run(tmp_path, "base", 0)
    tuned = _one_language_run(tmp_path, "tuned", 8)
    other = _one_language_run(tmp_path, "other", 8)
    deltas = compare_runs([base, tuned, other], baseline=1)
    assert [(d.run_a, d.run_b, d.group_text) for d in deltas] == [
        ("tuned", "base", "overall"), ("tuned", "base", "language=eng"),
        ("tuned", "other", "overall"), ("tuned", "other", "language=eng")]
    assert [d.delta for d in deltas] == [-1.0, -1.0, 0.0, 0.0]
    assert [d.p_value for d in deltas] == pytest.approx([2 / 256, 2 / 256, 1.0, 1.0])
    assert [d.p_adjusted for d in deltas] == pytest.approx([1 / 32, 1 / 32, 1.0, 1.0])
    assert [d.significant for d in deltas] == [True, True, False, False]
    assert [d.improved for d in deltas] == [False, False, None, None]
    assert compare_runs([base, tuned, other], suites=["bias/*"]) == []
    assert {d.run_a for d in compare_runs([base, tuned, other])} == {"base"}


@pytest.mark.parametrize(("baseline", "message"), [
    (-1, "baseline index -1 is out of range for 2 runs"),
    (2, "baseline index 2 is out of range for 2 runs")])
def test_a_baseline_outside_the_runs_is_refused(tmp_path: Path, baseline: int,
                                                message: str) -> None:
    base = _one_language_run(tmp_path, "base", 2)
    tuned = _one_language_run(tmp_path, "tuned", 3)
    with pytest.raises(RunFolderError, match=message) as error:
        compare_runs([base, tuned], baseline=baseline)
    assert error.value.fix == "choose a baseline between 0 and 1."


def test_compare_a_with_a_warns_that_the_runs_are_the_same(tmp_path: Path, caplog) -> None:
    base = _one_language_run(tmp_path, "base", 2)
    with caplog.at_level(logging.WARNING, logger="audit.report.compare"):
        deltas = compare_runs([base, base])
    assert [r.getMessage() for r in caplog.records] == [
        "runs base and base have identical results: they are the same run, so every "
        "difference is zero by construction"]
    assert all(d.delta == 0 and not d.significant for d in deltas)


def test_same_runs_by_results_digest_then_by_folder(tmp_path: Path) -> None:
    base = _one_language_run(tmp_path, "base", 2)
    # Copies of one run under other names have byte-identical results: each is named against
    # the first run that had them.
    copies = []
    for name in ("copy1", "copy2"):
        shutil.copytree(base.path, tmp_path / name)
        copies.append(RunFolder(tmp_path / name))
    different = _one_language_run(tmp_path, "different", 3)
    warnings = same_runs([base, different, *copies])
    assert [w.split(" have ")[0] for w in warnings] == ["runs base and copy1",
                                                       "runs base and copy2"]
    # Without results.json a run is known by its folder: the same folder reached by another
    # path is the same run; another empty folder is not.
    empty, other_empty = tmp_path / "empty", tmp_path / "other_empty"
    empty.mkdir()
    other_empty.mkdir()
    again = RunFolder(tmp_path / "other_empty" / ".." / "empty")
    assert same_runs([RunFolder(empty), RunFolder(other_empty)]) == []
    assert [w.split(" have ")[0] for w in same_runs([RunFolder(empty), again])] == [
        "runs empty and empty"]
    assert same_runs([RunFolder(empty), base]) == []


def _records(values: list[float]) -> list[dict[str, float]]:
    return [{"x": v} for v in values]


def _mean(records: list[dict[str, float]]) -> float:
    return float(np.mean([r["x"] for r in records]))


@pytest.mark.parametrize("direction", [1.0, -1.0])
def test_paired_bootstrap_p_counts_resamples_of_no_change_on_both_sides(direction: float
                                                                        ) -> None:
    """Only item 0 of 12 moved: a resample without it (about (11/12)^12 = 35% of them) shows no
    change, so it counts on both sides of zero and p is about 2 x 0.35 = 0.7, whichever way
    the item moved."""
    before = _records([0.0] * 12)
    after = _records([direction] + [0.0] * 11)
    p_value = paired_statistic_difference(_mean, before, after)[4]
    assert 0.6 < p_value < 0.8


def test_paired_bootstrap_p_is_at_most_one() -> None:
    """One item up, one down, ten unchanged: most resamples sit at or around zero, so each
    side holds over half of them and twice the smaller share is capped at 1."""
    before = _records([0.0] * 12)
    after = _records([1.0, -1.0] + [0.0] * 10)
    assert paired_statistic_difference(_mean, before, after)[4] == 1.0


def test_sign_flip_exact_up_to_sixteen_pairs_then_monte_carlo() -> None:
    """All differences +1: exactly 2 of 2^n flips reach the observed mean. From 17 pairs on,
    20000 random flips are drawn and the observed one is counted: (k + 1) / 20001 for the k
    draws that came out all alike (about 20000 x 2/2^17 = 0.3 of them at 17 pairs, none to
    expect at 30)."""
    assert sign_flip_p_value(np.ones(16)) == 2 / 2**16
    draws_alike = sign_flip_p_value(np.ones(17)) * 20001 - 1
    assert draws_alike == pytest.approx(round(draws_alike)) and 0 <= round(draws_alike) <= 3
    assert sign_flip_p_value(np.ones(30)) == pytest.approx(1 / 20001)


def test_sign_flip_monte_carlo_agrees_with_full_enumeration() -> None:
    """Eighteen mixed differences: the seeded Monte Carlo p-value is within 0.01 of the exact
    share of all 2^18 sign flips."""
    differences = np.array([3.0, 1, 2, -1, 0.5, 2, 1, -2, 1.5, 1, 0, 2, -0.5, 1, 1, 2, -1, 0.5])
    n = len(differences)
    signs = 1 - 2 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(np.int8)
    exact = np.mean(np.abs(signs @ differences) >= abs(differences.sum()) - 1e-9)
    assert 0.005 < exact < 0.2  # a p-value away from both floors
    assert sign_flip_p_value(differences) == pytest.approx(exact, abs=0.01)
    # Seeded: the same differences give the same p-value every time.
    assert len({sign_flip_p_value(differences) for _ in range(3)}) == 1


def test_a_delta_is_significant_only_below_the_level_after_correction() -> None:
    from dataclasses import replace

    base = MetricDelta(suite="s", metric="m", group={}, run_a="a", run_b="b", value_a=0.0,
                       value_b=1.0, delta=1.0, ci_low=None, ci_high=None, n_pairs=6,
                       method=PAIRED_MEAN)
    assert replace(base, p_value=0.01, p_adjusted=0.0499).significant
    assert not replace(base, p_value=0.01, p_adjusted=0.05).significant
    assert not replace(base, p_value=0.01).significant
    assert replace(base, n_pairs=0, n_a=6, n_b=9).items == 6
    assert replace(base, n_pairs=0, n_a=9, n_b=5).too_few_items


@pytest.mark.parametrize("significant_only", [False, True])
def test_compare_command_states_the_size_of_holms_family(tmp_path: Path, capsys,
                                                          significant_only: bool) -> None:
    """The header counts the comparisons Holm's correction ran over,
    whether or not --significant then hides the rows that are not significant."""
    from audit.cli import main

    base, tuned = write_pair(tmp_path)
    argv = ["compare", "base", "tuned", "--reports", str(tmp_path), "--suites", LANGUAGES]
    assert main(argv + ["--significant"] * significant_only) == 0
    header, _, *rows = capsys.readouterr().out.splitlines()
    # No installed suite is called multilingual/demo, so no statistic hook changes a row:
    # the rows are those of `expected_records` for that suite, five of nine in the family.
    assert header.endswith("after Holm's correction over the 5 of 9 comparisons that have "
                           "that many items and a p-value")
    assert len(rows) == (4 if significant_only else 9)


def test_one_run_is_not_a_comparison(tmp_path: Path) -> None:
    base = _one_language_run(tmp_path, "base", 2)
    with pytest.raises(RunFolderError) as error:
        compare_runs([base])
    assert (error.value.message, error.value.fix) == (
        "a comparison needs at least two runs",
        "name two or more run folders (the first is the baseline).")


@pytest.mark.parametrize("scored_in", ["base", "tuned"])
def test_a_metric_scored_per_item_in_one_run_only_is_compared_unpaired(
        tmp_path: Path, scored_in: str) -> None:
    """'tok' has per-item scores in one run only: no pair to difference, and the suite's
    statistic (which would give 0.5) must not stand in for them. The suite 'bias/unsampled'
    has samples in neither run: compared from the reported values, with the note."""
    def run(run_id: str, value: float) -> RunFolder:
        samples = [sample(BIAS, f"i{i}", {"tok": float(i)} if run_id == scored_in else {})
                   for i in range(8)]
        suites = {BIAS: entry("bias", {}, [reported("tok", value, 8, 0.3)], 8),
                  "bias/unsampled": entry("bias", {}, [reported("tok", value, 8, 0.4)], 0)}
        return write_run(tmp_path, run_id, suites, samples)

    def half(metric: str, group: dict[str, str], records: list[dict]) -> float:
        return 0.5

    deltas = compare_pair(run("base", 3.5), run("tuned", 4.5),
                          statistics={BIAS: half, "bias/unsampled": half})
    assert [(d.suite, d.method, d.n_pairs, d.delta, d.notes) for d in deltas] == [
        (BIAS, UNPAIRED, 0, 1.0, []),
        ("bias/unsampled", UNPAIRED, 0, 1.0, [NOT_SHARED_NOTE])]
    assert deltas[0].ci_high - deltas[0].ci_low == pytest.approx(2 * 1.959964 * 0.3 * 2**0.5)


@pytest.mark.parametrize(("se_a", "se_b"), [(0.03, 0.0), (0.0, 0.04)])
def test_an_unpaired_difference_with_one_zero_standard_error_keeps_the_other(
        se_a: float, se_b: float) -> None:
    from audit.report.compare import _unpaired

    low, high = _unpaired({"value": 0.5, "stderr": se_a}, {"value": 0.6, "stderr": se_b})[3:5]
    assert high - low == pytest.approx(2 * 1.959964 * max(se_a, se_b))


def test_resamples_where_only_one_run_is_undefined_are_dropped() -> None:
    """The statistic is the mean of x over items marked 'ok'. In the other run only item 0 is
    ok: a resample without item 0 is defined for the baseline but not for the other run, and
    is dropped rather than subtracted."""
    def mean_ok(records: list[dict]) -> float | None:
        chosen = [r["x"] for r in records if r["ok"]]
        return sum(chosen) / len(chosen) if chosen else None

    before = [{"x": float(i), "ok": True} for i in range(12)]
    after = [{"x": 20.0, "ok": i == 0} for i in range(12)]
    value_a, value_b, low, high, p_value = paired_statistic_difference(mean_ok, before, after)
    # Baseline mean 5.5; the other run's 20 wherever defined: every kept difference lies in
    # [20 - 11, 20 - 0], so the interval does too and p is the floor 2/(kept + 1).
    assert (value_a, value_b) == (5.5, 20.0)
    assert 9.0 <= low < 14.5 < high <= 20.0
    assert 2 / 2001 <= p_value < 2 / 1000




@pytest.fixture
def installed_suites(tmp_path: Path, monkeypatch) -> Path:
    """Three suites as an installation would find them, in this order: one that cannot be
    built, one without a statistic and one with it."""
    for name, cls in (("a_broken", "MissingSuite"), ("b_plain", "PlainSuite"),
                      ("c_odds", "OddsSuite")):
        folder = tmp_path / "suites" / "bias" / name
        folder.mkdir(parents=True)
        (folder / "suite.yaml").write_text(STATISTIC_SUITE_SPEC.format(description=name, cls=cls))
        (folder / "suite.py").write_text(STATISTIC_SUITES)
    monkeypatch.setenv("FM_AUDIT_SUITES", str(tmp_path / "suites"))
    return tmp_path


def test_suite_statistics_skips_broken_and_plain_suites_and_passes_metric_and_group(
        installed_suites: Path, caplog) -> None:
    from audit.report.compare import suite_statistics

    with caplog.at_level(logging.WARNING, logger="audit.report.compare"):
        hooks = suite_statistics()
    assert list(hooks) == ["bias/c_odds"]
    assert [r.getMessage().split(":")[0] for r in caplog.records] == [
        "Suite bias/a_broken cannot be loaded for comparison"]
    assert "MissingSuite" in caplog.records[0].getMessage()
    records = [sample("bias/c_odds", str(i), {"hit": float(i < 3)},
                      {"kind": "a" if i < 4 else "b"}) for i in range(8)]
    # Group a: items 0-3, three hits: odds 3/1. Group b: no hit: 0/4. Another metric: none.
    assert hooks["bias/c_odds"]("ratio", {"kind": "a"}, records) == 3.0
    assert hooks["bias/c_odds"]("ratio", {"kind": "b"}, records) == 0.0
    assert hooks["bias/c_odds"]("hit", {}, records) is None


def test_a_run_of_derived_metrics_only_finds_the_installed_statistic(
        installed_suites: Path) -> None:
    """Only 'ratio' is reported (no per-item metric): compare looks the hook up itself."""
    def run(run_id: str, hits: int) -> RunFolder:
        samples = [sample("bias/c_odds", str(i), {"hit": float(i < hits)}) for i in range(20)]
        metrics = [reported("ratio", hits / (20 - hits), 20)]
        suite = entry("bias", {"ratio": info("Hit odds", "bias", "lower", "ratio")}, metrics, 20)
        return write_run(installed_suites, run_id, {"bias/c_odds": suite}, samples)

    (ratio,) = compare_pair(run("base", 5), run("tuned", 10))
    assert (ratio.method, ratio.n_pairs) == (PAIRED_STATISTIC, 20)
    assert ratio.delta == pytest.approx(10 / 10 - 5 / 15)


@pytest.mark.parametrize("reported_by", ["base", "tuned"])
def test_a_metric_reported_by_one_run_only_keeps_that_runs_value_and_n(
        tmp_path: Path, reported_by: str) -> None:
    def run(run_id: str) -> RunFolder:
        samples = [sample(BIAS, f"i{i}", {"hit": 1.0}) for i in range(6)]
        metrics = [reported("hit", 0.25, 6)] if run_id == reported_by else []
        return write_run(tmp_path, run_id, {BIAS: entry("bias", {}, metrics, 6)}, samples)

    (only,) = compare_pair(run("base"), run("tuned"), statistics={})
    expected = (0.25, None, 6, 0) if reported_by == "base" else (None, 0.25, 0, 6)
    assert (only.value_a, only.value_b, only.n_a, only.n_b) == expected
    assert (only.method, only.delta, only.n_pairs, only.p_value) == (ABSENT, None, 0, None)


def test_a_paired_share_difference_never_reaches_past_100_points() -> None:
    # Four pairs of 0/1 scores: differences 1, 1, 1, -1. A Student-t interval (mean 0.5, sd 1,
    # half-width t(0.975, 3) / 2 = 1.591) would run from -109 to +209 points; the paired
    # interval of two shares (3 of 4 after, 1 of 4 before, none both) stays inside [-1, 1].
    a = np.array([0.0, 0.0, 0.0, 1.0])
    b = np.array([1.0, 1.0, 1.0, 0.0])
    delta, low, high, _, method = paired_mean_difference(a, b)
    assert delta == 0.5 and method == PAIRED_SHARES
    expected_low, expected_high = mover_interval(0, 3, 1, 0)
    assert (low, high) == (pytest.approx(expected_low), pytest.approx(expected_high))
    assert -1.0 < low < 0.0 < high < 1.0
    # Scores that are not 0/1 keep the whole t interval (their difference is not bounded).
    _, low, high, _, method = paired_mean_difference(a * 2, b * 2)
    assert method == PAIRED_MEAN
    assert low == pytest.approx(1.0 - 3.182446 * 2 / 2, abs=1e-5)
    assert high == pytest.approx(1.0 + 3.182446, abs=1e-5)
