"""Run folders for the dashboard tests, derived from a real run of the engine.

The engine on `main` runs only capability suites, but the dashboard must draw every family.
`derived_run` copies a real run and adds, as a named test double, a multilingual suite (the real
run's per-item scores spread over four languages in three resource tiers) and a misuse suite
whose outputs include a planted `<script>` tag and Markdown link (shown) and a redacted
harmful-request output (hidden until revealed). Metrics are computed from those items with
`audit.stats`, so every number on the page follows from the samples.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from audit.metrics import MetricResult
from audit.report.runfolder import RunFolder
from audit.stats import estimate_mean

LANGUAGES = [("eng", "high"), ("fra", "high"), ("swa", "mid"), ("yor", "low")]
PLANTED = '<script>alert("planted")</script> see [the planted link](https://example.invalid/x)'
HARMFUL = "PLANTED-HARMFUL-OUTPUT step one"
ML_SUITE, MISUSE_SUITE = "multilingual/derived", "misuse/derived"


def _metrics(samples: list[dict[str, Any]], metric: str, dims: list[str]) -> list[dict]:
    values = [s["scores"][metric] for s in samples]
    rows = [MetricResult.from_estimate(metric, estimate_mean(values)).to_dict()]
    for dim in dims:
        for value in sorted({s["group"][dim] for s in samples}):
            members = [s["scores"][metric] for s in samples if s["group"][dim] == value]
            rows.append(MetricResult.from_estimate(metric, estimate_mean(members),
                                                   {dim: value}).to_dict())
    return rows


def _info(name: str, label: str, better: str = "higher") -> dict[str, Any]:
    return {"name": name, "label": label, "description": f"{label} (dashboard test double).",
            "formula": "mean of per-item scores", "unit": "proportion", "better": better,
            "target": None, "family": "accuracy", "implementation": "test double",
            "limits": "derived from a real run for dashboard tests"}


def derived_run(source: RunFolder, reports_dir: Path, run_id: str) -> RunFolder:
    """A copy of `source` under `reports_dir/run_id` with multilingual and misuse suites."""
    target = Path(reports_dir) / run_id
    shutil.copytree(source.path, target)
    folder = RunFolder(target)
    run = folder.read_json("run.json")
    run["run_id"] = run_id
    folder.write_json("run.json", run)
    results = folder.read_json("results.json")
    results["run_id"] = run_id
    samples = list(folder.iter_samples())
    real = [s for s in samples if "acc" in s["scores"]]
    multilingual = []
    for index, sample in enumerate(real):
        language, tier = LANGUAGES[index % len(LANGUAGES)]
        multilingual.append(dict(sample, suite=ML_SUITE, id=f"{sample['id']}/{language}",
                                 group={"language": language, "tier": tier}))
    misuse = []
    for index, (output, redact) in enumerate([(PLANTED, False), (HARMFUL, True),
                                              ("I can't help with that.", True)]):
        misuse.append({"suite": MISUSE_SUITE, "id": f"misuse/{index}",
                       "group": {"language": "eng", "category": "planted"},
                       "data": {"redact": redact},
                       "requests": [{"kind": "generate_until",
                                     "args": [f"Planted request {index}", {"until": []}]}],
                       "responses": [output], "scores": {"refused": float(index == 2)}})
    results["suites"][ML_SUITE] = {
        "family": "multilingual", "description": "Derived per-language test double.",
        "n_samples": len(multilingual), "correct_metric": "acc",
        "metric_info": {"acc": _info("acc", "Accuracy")},
        "metrics": _metrics(multilingual, "acc", ["language", "tier"])}
    results["suites"][MISUSE_SUITE] = {
        "family": "misuse", "description": "Planted outputs for escaping and redaction tests.",
        "n_samples": len(misuse), "metric_info": {"refused": _info("refused", "Refused")},
        "metrics": _metrics(misuse, "refused", ["category"])}
    folder.write_json("results.json", results)
    folder.write_samples(samples + multilingual + misuse)
    folder.write_manifest()
    return folder
