"""The decision profile (audit/decision.py): which metrics it controls, and a real run that
stops once precise, records its rule and resumes to the same result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit.config import RunConfig
from audit.decision import (
    CHUNK,
    SequentialDraw,
    rescored_draw,
    sequential_targets,
    uncontrolled_reason,
    with_decision_intervals,
)
from audit.execution import ExecutionStats
from audit.finite_population import exact_interval, planned_items
from audit.metrics import MetricResult
from audit.rescore import rescore_run
from audit.runner import resume_audit, run_audit
from audit.sequential import Bound, bound
from audit.suites.base import Sample, SuiteContext
from audit.suites.discovery import select

SUITE = "capability/openbookqa"
METRIC = "acc"
ITEMS = 500
REQUESTS_PER_ITEM = 4  # one per answer option


def test_controlled_metrics_are_headline_proportions_else_the_correct_metric() -> None:
    crows, openbookqa, bbq = select(["bias/crows_pairs", SUITE, "bias/bbq"])
    assert sequential_targets(crows) == ["pct_stereotype"]  # headline
    assert sequential_targets(openbookqa) == ["acc"]  # no headline: correct_metric
    assert sequential_targets(bbq) == []  # derived bias scores only


def test_limit_and_decision_profile_are_refused_together() -> None:
    with pytest.raises(ValueError, match="--limit cannot be combined"):
        RunConfig(profile="decision", limit=10)


def _suite_entry(folder: Path) -> dict:
    return json.loads((folder / "results.json").read_text())["suites"][SUITE]


def test_decision_run_stops_when_precise_and_resumes_to_the_same_result(
        tmp_path: Path, smollm2) -> None:
    # With seed 1234 SmolLM2's sequence has half-width 0.180 after 32 items and 0.148 after
    # 64 (replayed from tests/data/outcomes/openbookqa.json), so 0.16 stops after two chunks.
    config = RunConfig(suites=[SUITE], profile="decision", design="sequential",
                       precision=0.16, device="cpu", out=tmp_path, run_id="decision",
                       request_cache=False)
    folder = run_audit(config, model=smollm2).path
    entry = _suite_entry(folder)
    rule = entry["sequential"]
    assert rule["controlled"] and not rule["exhausted"]
    used = rule["items_used"]
    assert used % CHUNK == 0 and CHUNK < used < rule["items_available"] == ITEMS
    assert entry["n_samples"] == used == len(rule["sequence"])
    assert entry["selection"]["origin"] == "sequential"
    assert entry["selection"]["items_used"] == used

    # The reported interval is the confidence sequence of the scores in the recorded order,
    # narrow enough now and not one chunk earlier.
    scores = {}
    for line in (folder / "samples.jsonl").read_text().splitlines():
        record = json.loads(line)
        scores[record["id"]] = record["scores"][METRIC]
    ordered = [scores[i] for i in rule["sequence"]]
    final = bound(ordered, ITEMS)
    overall = next(m for m in entry["metrics"]
                   if m["metric"] == METRIC and not m["group"])
    assert (overall["ci_low"], overall["ci_high"]) == (final.low, final.high)
    assert overall["ci_method"].startswith("95% confidence sequence")
    assert rule["half_width"][METRIC] == final.half_width <= 0.16
    assert bound(ordered[:-CHUNK], ITEMS).half_width > 0.16

    # Interrupted after its first chunk: the resumed run takes the same items to the same stop.
    results = json.loads((folder / "results.json").read_text())
    del results["suites"][SUITE]
    (folder / "results.json").write_text(json.dumps(results))
    first_chunk = (folder / "requests.jsonl").read_text().splitlines()[:REQUESTS_PER_ITEM * CHUNK]
    (folder / "requests.jsonl").write_text("\n".join(first_chunk) + "\n")
    (folder / "samples.jsonl").write_text("")
    run = json.loads((folder / "run.json").read_text())
    (folder / "run.json").write_text(json.dumps({**run, "status": "failed"}))
    resumed = resume_audit("decision", tmp_path, model=smollm2)
    again = _suite_entry(folder)
    assert again["sequential"] == rule
    assert again["metrics"] == entry["metrics"]

    # Rescoring keeps the confidence sequence as the interval (same scores, same stop).
    rescored = _suite_entry(rescore_run(resumed, tmp_path, "rescored").path)
    assert rescored["sequential"] == rule
    assert rescored["metrics"] == entry["metrics"]


def test_fixed_decision_run_uses_the_planned_items_and_resumes_to_them(
        tmp_path: Path, smollm2) -> None:
    """The default design on SmolLM2: OpenBookQA's n at +-30 points is planned from its 500
    items (11), run once, reported with the exact interval; interrupted halfway, the resumed
    run takes the same items to the same record, and rescoring keeps the interval."""
    config = RunConfig(suites=[SUITE], profile="decision", precision=0.3, device="cpu",
                       out=tmp_path, run_id="fixed", request_cache=False)
    assert config.design == "fixed"
    folder = run_audit(config, model=smollm2).path
    entry = _suite_entry(folder)
    rule = entry["sequential"]
    planned = planned_items(ITEMS, 0.3)
    assert rule["design"] == "fixed" and rule["stopped_by"] == "planned n" and rule["reached"]
    assert rule["planned"] == planned == rule["items_used"] == entry["n_samples"]
    assert entry["selection"]["items_used"] == planned
    lines = (folder / "requests.jsonl").read_text().splitlines()
    assert len(lines) == REQUESTS_PER_ITEM * planned  # one pass, no item asked twice
    successes = sum(json.loads(line)["scores"][METRIC]
                    for line in (folder / "samples.jsonl").read_text().splitlines())
    interval = exact_interval(int(successes), planned, ITEMS)
    overall = next(m for m in entry["metrics"] if m["metric"] == METRIC and not m["group"])
    assert (overall["ci_low"], overall["ci_high"]) == (interval.low, interval.high)

    results = json.loads((folder / "results.json").read_text())
    del results["suites"][SUITE]
    (folder / "results.json").write_text(json.dumps(results))
    (folder / "requests.jsonl").write_text("\n".join(lines[:len(lines) // 2]) + "\n")
    (folder / "samples.jsonl").write_text("")
    run = json.loads((folder / "run.json").read_text())
    (folder / "run.json").write_text(json.dumps({**run, "status": "failed"}))
    resumed = resume_audit("fixed", tmp_path, model=smollm2)
    assert _suite_entry(folder)["sequential"] == rule
    assert _suite_entry(folder)["metrics"] == entry["metrics"]
    rescored = _suite_entry(rescore_run(resumed, tmp_path, "rescored").path)
    assert rescored["sequential"] == rule and rescored["metrics"] == entry["metrics"]


def test_a_stratified_suite_with_a_headline_proportion_is_controlled_when_it_has_items(
        ) -> None:
    """misuse/harmful draws over sources and languages; its decision order is one random
    order of the whole set (tests/test_decision_strata.py), so its refusal rate is a target."""
    harmful, = select(["misuse/harmful"])
    samples = harmful.build_samples(SuiteContext(model=None, profile="decision",
                                                 sequential_limit=CHUNK))
    assert len(samples) == CHUNK and harmful.selection()["origin"] == "sequential"
    assert "in proportion to its items left" in harmful.selection()["method"]
    assert sequential_targets(harmful) == ["refusal"]
    assert "no items" in uncontrolled_reason(harmful, [])  # e.g. every task skipped


def test_only_the_overall_controlled_interval_becomes_the_sequence() -> None:
    def metric(name: str, group: dict[str, str]) -> MetricResult:
        return MetricResult(name, 0.3, 64, 0.05, 0.2, 0.4, "clopper-pearson", group)

    metrics = [metric(METRIC, {}), metric(METRIC, {"task": "t"}), metric("acc_norm", {})]
    sequence = Bound(0.15, 0.45, 64)
    draw = SequentialDraw([], ExecutionStats(), {"items_used": 64, "items_available": ITEMS},
                          {METRIC: sequence})
    overall, group, other = with_decision_intervals(metrics, draw)
    assert (overall.ci_low, overall.ci_high) == (0.15, 0.45)
    assert overall.ci_method.startswith("95% confidence sequence for the mean over all 500")
    assert group == metrics[1] and other == metrics[2]
    # Every item used: the sequence is the set's mean itself, and fixed-n intervals stay.
    draw.record["items_used"] = ITEMS
    assert with_decision_intervals(metrics, draw) == metrics


def test_rescoring_recomputes_the_sequence_at_the_recorded_stop() -> None:
    samples = [Sample(id=f"item{k}", requests=[], scores={METRIC: float(k % 3 == 0)})
               for k in range(64)]
    order = [s.id for s in reversed(samples)]
    record = {"controlled": True, "sequence": order, "items_used": 64,
              "items_available": ITEMS, "half_width": {METRIC: 0.01}}
    draw = rescored_draw(record, samples)
    expected = bound([s.scores[METRIC] for s in reversed(samples)], ITEMS)
    assert draw is not None and draw.bounds[METRIC] == expected
    assert draw.record["half_width"][METRIC] == expected.half_width != 0.01
    assert draw.record["sequence"] == order
    assert rescored_draw({"controlled": False}, samples) is None
