"""`python -m benchmarks.work`: how much arithmetic the capability family asks of a machine,
as a floor under any engine's time.

For each capability suite it counts the useful floating-point operations (`flops.useful_flops`:
each distinct context once, no padding) of the items the decision profile's fixed design runs
(the first planned-n items of the decision order, exactly as a run draws them) and of the
whole set the standard profile runs, and divides by the matmul peak measured in this process
on the model's own shapes: the seconds an engine at 100% of that peak would still need.
Written to benchmarks/results/capability-work-<device>.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from audit.config import RunConfig
from audit.decision import decision_maximum
from audit.finite_population import planned_items
from audit.models.base import LoadOptions
from audit.registry import load_model
from audit.suites.base import Suite, SuiteContext
from audit.suites.discovery import available, select
from benchmarks.flops import matmul_peak, token_pairs, useful_flops
from benchmarks.machine import describe_machine
from benchmarks.workloads import Workload, calls_as_a_run

log = logging.getLogger("benchmarks.work")
MODEL = "packaged:smollm2-135m-instruct"
ROOT = Path(__file__).resolve().parent.parent


def decision_context(suite: Suite, context: SuiteContext, precision: float
                     ) -> tuple[SuiteContext, int] | None:
    """The context that builds the fixed design's items of `suite`, and their planned n (None
    for a suite with no items here)."""
    suite.build_samples(replace(context, sequential_limit=1))
    size = suite.selection()["items_available"]
    if not size:
        return None
    planned = planned_items(size, precision, min(decision_maximum(suite), size))
    planned = planned or min(decision_maximum(suite), size)
    return replace(context, sequential_limit=planned), planned


def suite_work(model: Any, suite: Suite, context: SuiteContext) -> dict[str, Any]:
    """Useful FLOP of the suite's log-likelihood requests built under `context`."""
    samples = suite.build_samples(context)
    calls = calls_as_a_run("loglikelihood", [samples])
    workload = Workload(suite.name, "loglikelihood", [i for c in calls for i in c], 0, {}, calls)
    work = useful_flops(model.lm.model, token_pairs(model.lm, workload))
    return {"items": len(samples), "requests": len(workload.instances), "flop": work["total"]}


def main(argv: list[str] | None = None) -> int:
    """Count the work, measure the peak, write the JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.work", description=__doc__)
    parser.add_argument("--precision", type=float, default=RunConfig().precision)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    model = load_model(MODEL, LoadOptions(device="cpu"))
    names = sorted(n for n, f in available().items() if f().spec.family == "capability")
    suites: dict[str, Any] = {}
    for suite in select(names):
        drawn = decision_context(suite, SuiteContext(model=model, profile="decision"),
                                 args.precision)
        if drawn is None:
            log.info("%s: no items here, skipped", suite.name)
            continue
        context, planned = drawn
        decision = suite_work(model, suite, context) | {"planned": planned}
        standard = suite_work(model, suite, SuiteContext(model=model, profile="standard"))
        suites[suite.name] = {"decision": decision, "standard": standard}
        log.info("%s: decision %d items %.2f TFLOP; standard %d items %.2f TFLOP", suite.name,
                 decision["items"], decision["flop"] / 1e12, standard["items"],
                 standard["flop"] / 1e12)
    peak = matmul_peak(model.lm.model)
    rate = peak["flops_per_s"]
    totals = {profile: sum(s[profile]["flop"] for s in suites.values())
              for profile in ("decision", "standard")}
    result = {"model": MODEL, "precision": args.precision, "matmul_peak": peak,
              "suites": suites, "total_flop": totals,
              "seconds_at_peak": {p: flop / rate for p, flop in totals.items()},
              "machine": describe_machine()}
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "capability-work-cpu.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    log.info("Capability family: decision %.1f TFLOP (%.0f s at %.0f GFLOP/s), standard %.1f "
             "TFLOP (%.0f s); wrote %s", totals["decision"] / 1e12,
             result["seconds_at_peak"]["decision"], rate / 1e9, totals["standard"] / 1e12,
             result["seconds_at_peak"]["standard"], path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
