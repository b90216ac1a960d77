"""The decision profile (audit/decision.py): which metrics it controls, and a real run that
stops once precise, records its rule and resumes to the same result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit.config import RunConfig
from audit.decision import CHUNK, sequential_targets
from audit.runner import resume_audit, run_audit
from audit.sequential import bound
from audit.suites.discovery import select

SUITE = "bias/crows_pairs"


def test_controlled_metrics_are_headline_proportions_else_the_correct_metric() -> None:
    crows, openbookqa, bbq = select([SUITE, "capability/openbookqa", "bias/bbq"])
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
    config = RunConfig(suites=[SUITE], profile="decision", precision=0.17, device="cpu",
                       out=tmp_path, run_id="decision", request_cache=False)
    folder = run_audit(config, model=smollm2).path
    entry = _suite_entry(folder)
    rule = entry["sequential"]
    assert rule["controlled"] and not rule["exhausted"]
    used = rule["items_used"]
    assert used % CHUNK == 0 and CHUNK < used < rule["items_available"] == 1018
    assert entry["n_samples"] == used == len(rule["sequence"])
    assert entry["selection"]["origin"] == "sequential"
    assert entry["selection"]["items_used"] == used

    # The reported interval is the confidence sequence of the scores in the recorded order,
    # narrow enough now and not one chunk earlier.
    scores = {}
    for line in (folder / "samples.jsonl").read_text().splitlines():
        record = json.loads(line)
        scores[record["id"]] = record["scores"]["pct_stereotype"]
    ordered = [scores[i] for i in rule["sequence"]]
    final = bound(ordered, 1018)
    overall = next(m for m in entry["metrics"]
                   if m["metric"] == "pct_stereotype" and not m["group"])
    assert (overall["ci_low"], overall["ci_high"]) == (final.low, final.high)
    assert overall["ci_method"].startswith("95% confidence sequence")
    assert rule["half_width"]["pct_stereotype"] == final.half_width <= 0.17
    assert bound(ordered[:-CHUNK], 1018).half_width > 0.17

    # Interrupted after its first chunk: the resumed run takes the same items to the same stop.
    results = json.loads((folder / "results.json").read_text())
    del results["suites"][SUITE]
    (folder / "results.json").write_text(json.dumps(results))
    first_chunk = (folder / "requests.jsonl").read_text().splitlines()[:2 * CHUNK]
    (folder / "requests.jsonl").write_text("\n".join(first_chunk) + "\n")
    (folder / "samples.jsonl").write_text("")
    run = json.loads((folder / "run.json").read_text())
    (folder / "run.json").write_text(json.dumps({**run, "status": "failed"}))
    resume_audit("decision", tmp_path, model=smollm2)
    again = _suite_entry(folder)
    assert again["sequential"] == rule
    assert again["metrics"] == entry["metrics"]
