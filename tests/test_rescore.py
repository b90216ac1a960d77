"""Rescoring a real run from its stored responses, without the model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from audit.report.compare import compare_pair
from audit.rescore import rescore_run
from audit.runfolder import RunFolder

pytestmark = pytest.mark.slow


def _overall(folder: RunFolder, metric: str) -> float:
    suite = folder.read_json("results.json")["suites"]["capability/core_mc"]
    return next(m["value"] for m in suite["metrics"] if m["metric"] == metric and not m["group"])


def test_rescore_reproduces_the_run_and_records_what_changed(small_run, tmp_path: Path) -> None:
    same = rescore_run(small_run, tmp_path, "same")
    assert same.read_json("results.json")["suites"] == small_run.read_json("results.json")["suites"]
    block = same.read_json("results.json")["rescored"]
    assert block["from_run"] == "small-run" and block["values_changed"] == 0
    assert [s["scores"] for s in same.iter_samples()] == \
        [s["scores"] for s in small_run.iter_samples()]
    assert {d.delta for d in compare_pair(small_run, same, statistics={})} == {0.0}

    # Edit one stored response so the gold option wins (as a corrected response would):
    # the rescored accuracy must move by exactly one item in six, and say so.
    edited = RunFolder(tmp_path / "edited")
    shutil.copytree(small_run.path, edited.path)
    records = list(edited.iter_samples())
    wrong = next(r for r in records if r["scores"]["acc"] == 0)
    gold = int(wrong["data"]["target"])
    for index, response in enumerate(wrong["responses"]):
        response[0] = 0.0 if index == gold else -100.0
    edited.write_samples(records)
    fixed = rescore_run(edited, tmp_path, "fixed")
    assert _overall(fixed, "acc") == pytest.approx(_overall(small_run, "acc") + 1 / 6)
    block = fixed.read_json("results.json")["rescored"]
    assert block["items_with_changed_scores"] == 1
    assert any(c["metric"] == "acc" and c["group"] == "overall" for c in block["changes"])
    assert json.loads((small_run.path / "results.json").read_text())["suites"] == \
        small_run.read_json("results.json")["suites"]  # the source run is untouched
