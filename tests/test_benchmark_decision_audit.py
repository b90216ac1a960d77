"""benchmarks/decision_audit.py: the per-family breakdown of a run folder's tracked time."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.decision_audit import breakdown


def test_breakdown_sums_each_familys_tracked_seconds(tmp_path: Path) -> None:
    results = {"suites": {
        "capability/a": {"family": "capability", "selection": {"items_used": 64,
                                                               "items_available": 500},
                         "sequential": {"controlled": True, "stopped_by": "planned n",
                                        "design": "fixed", "planned": 64,
                                        "half_width": {"acc": 0.049}}},
        "capability/b": {"family": "capability", "selection": {"items_used": 96,
                                                               "items_available": 96},
                         "sequential": {"controlled": True, "stopped_by": "every item",
                                        "half_width": {"acc": 0.0}}},
        "bias/c": {"family": "bias", "selection": {"items_used": 96, "items_available": 759},
                   "sequential": {"controlled": False, "reason": "not sequentially "
                                  "controlled: no headline metric that is a per-item "
                                  "proportion"}}}}
    energy = {"suites": {"capability/a": {"duration_s": 12.5, "n_requests": 256},
                         "capability/b": {"duration_s": 30.0, "n_requests": 384},
                         "bias/c": {"duration_s": 4.0, "n_requests": 192}}}
    (tmp_path / "results.json").write_text(json.dumps(results))
    (tmp_path / "energy.json").write_text(json.dumps(energy))
    measured = breakdown(tmp_path)
    assert measured["families"] == {"capability": {"seconds": 42.5, "suites": 2},
                                    "bias": {"seconds": 4.0, "suites": 1}}
    suite = measured["suites"]["capability/a"]
    assert (suite["seconds"], suite["n_requests"], suite["items_used"]) == (12.5, 256, 64)
    assert suite["stopped_by"] == "planned n" and suite["half_width"] == {"acc": 0.049}
    assert (suite["design"], suite["planned"]) == ("fixed", 64)
    assert measured["suites"]["bias/c"]["controlled"] is False
    assert measured["suites"]["bias/c"]["reason"].startswith("not sequentially")

