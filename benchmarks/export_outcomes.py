"""Keep one suite's per-item 0/1 outcomes from a standard-profile run that finished it,
compactly, for the replay test of the decision profile (tests/test_decision_replay.py).

    python benchmarks/export_outcomes.py reports/<run-id> capability/openbookqa acc \
        tests/data/outcomes/openbookqa.json

The file holds the run's identity (run id, model and its weight files' sha256, engine
numerics, date), the suite's selection record, the item ids in the order the suite lists its
items, and one character per item, "0" or "1": our own results, not benchmark data.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def export(run: Path, suite: str, metric: str) -> dict:
    """The outcomes of `metric` per item of `suite` in the run folder `run`."""
    record = json.loads((run / "run.json").read_text())
    if record["config"]["profile"] != "standard":
        raise SystemExit(f"{run} is not a standard-profile run")
    # A suite in results.json is finished, even in a run stopped before its other suites.
    entry = json.loads((run / "results.json").read_text())["suites"][suite]
    if entry["selection"]["items_used"] != entry["selection"]["items_available"]:
        raise SystemExit(f"{suite} in {run} did not use every item")
    ids, bits = [], []
    for line in (run / "samples.jsonl").read_text().splitlines():
        sample = json.loads(line)
        if sample["suite"] == suite:
            value = sample["scores"][metric]
            if value not in (0, 1):
                raise SystemExit(f"{metric} of {sample['id']} is {value}, not 0 or 1")
            ids.append(sample["id"])
            bits.append(str(int(value)))
    return {
        "what": f"per-item {metric} of {suite} from one fm-audit run (our results)",
        "run": {"run_id": record["run_id"], "created": record["created"],
                "status": record["status"],
                "model": record["model"]["uri"],
                "weights_sha256": [f["sha256"] for f in record["model"]["files"]],
                "engine_numerics": (record.get("engine") or {}).get("numerics"),
                "command": record["command"]},
        "suite": suite, "metric": metric, "selection": entry["selection"],
        "ids": ids, "outcomes": "".join(bits),
    }


def main() -> None:
    """Write the outcomes file named on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("suite")
    parser.add_argument("metric")
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(export(args.run, args.suite, args.metric)) + "\n")


if __name__ == "__main__":
    main()
