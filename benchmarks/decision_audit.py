"""`python -m benchmarks.decision_audit` (run by `make bench`): the wall time of the audit a
user runs, every suite of the four families on SmolLM2 at one profile (`decision` by
default), cold (`--no-cache`), in a subprocess, with its breakdown by family and suite.

Each suite's seconds are the tracked duration in the run's energy.json; its items used and
available, its decision design and planned items, whether it was controlled, what stopped it
and the half-width it reached come from results.json. The machine, and its load average before
and after, are recorded beside them: on a machine shared with other work the wall time is an
upper bound of the idle machine's. Written to benchmarks/results/<profile>-audit-<device>.json (with
`--suites`, the suites' names before the device).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.machine import describe_machine

log = logging.getLogger("benchmarks.decision_audit")

MODEL = "packaged:smollm2-135m-instruct"
ROOT = Path(__file__).resolve().parent.parent
RUN_ID = "audit"


def breakdown(folder: Path) -> dict[str, Any]:
    """Per suite and per family: tracked seconds, requests, items used of available, and for
    a decision run how each suite stopped; read from the run folder `folder`."""
    results = json.loads((folder / "results.json").read_text())["suites"]
    energy = json.loads((folder / "energy.json").read_text())["suites"]
    suites: dict[str, Any] = {}
    families: dict[str, dict[str, float]] = {}
    for name, entry in sorted(results.items()):
        tracked = energy.get(name, {})
        rule = entry.get("sequential") or {}
        selection = entry.get("selection") or {}
        suites[name] = {
            "family": entry.get("family"), "seconds": tracked.get("duration_s"),
            "n_requests": tracked.get("n_requests"),
            "items_used": selection.get("items_used"),
            "items_available": selection.get("items_available"),
            "design": rule.get("design"), "planned": rule.get("planned"),
            "controlled": rule.get("controlled"), "stopped_by": rule.get("stopped_by"),
            "half_width": rule.get("half_width"), "reason": rule.get("reason"),
            "skipped": entry.get("skipped") or None}
        family = families.setdefault(str(entry.get("family")), {"seconds": 0.0, "suites": 0})
        family["seconds"] += tracked.get("duration_s") or 0.0
        family["suites"] += 1
    return {"families": families, "suites": suites}


def measure(profile: str, precision: float | None, device: str, suites: str | None
            ) -> dict[str, Any]:
    """Run the audit (every suite, or `suites`) once at `profile` and return its wall time
    and breakdown."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "audit.cli", "run", "--model", MODEL, "--profile",
                   profile, "--device", device, "--no-cache", "--out", out,
                   "--run-id", RUN_ID]
        if precision is not None:
            command += ["--precision", str(precision)]
        if suites is not None:
            command += ["--suites", suites]
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
        seconds = time.perf_counter() - start
        log.info("fm-audit run --profile %s: %.1f s", profile, seconds)
        return {"command": " ".join(["fm-audit", *command[3:]]), "wall_seconds": seconds,
                **breakdown(Path(out) / RUN_ID)}


def main(argv: list[str] | None = None) -> int:
    """Measure the audit and write its JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.decision_audit",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="decision",
                        choices=["decision", "standard", "quick"])
    parser.add_argument("--precision", type=float, default=None,
                        help="decision profile's target half-width (default: fm-audit's)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--suites", default=None,
                        help="suites or families, comma-separated (default: all four families)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    before = describe_machine()
    result = measure(args.profile, args.precision, args.device, args.suites)
    result = {"model": MODEL, "profile": args.profile, "device": args.device, **result,
              "machine": dict(describe_machine(),
                              load_average_before=before["load_average_now"])}
    args.out.mkdir(parents=True, exist_ok=True)
    part = f"-{args.suites.replace('/', '_').replace(',', '+')}" if args.suites else ""
    path = args.out / f"{args.profile}-audit{part}-{args.device}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    log.info("Wrote %s", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
