"""A run folder for the dashboard tests, derived from a real run of the engine.

The engine on `main` runs only capability suites, but the dashboard must draw every family.
`derived_run` copies a real run (its capability results, samples and energy stay as measured)
and adds two hand-made suites built with `tests.handmade_runs`: a multilingual suite (the real
run's per-item scores spread over four languages in three resource tiers) and a misuse suite
whose outputs are a planted `<script>` tag with a Markdown link (to be shown as text) and a
harmful-request output (to stay hidden until revealed).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from audit.runfolder import RunFolder
from tests.handmade_runs import info, sample, suite_entry

LANGUAGES = [("eng", "high"), ("fra", "high"), ("swa", "mid"), ("yor", "low")]
PLANTED = '<script>alert("planted")</script> see [the planted link](https://example.invalid/x)'
HARMFUL = "PLANTED-HARMFUL-OUTPUT step one"
ML_SUITE, MISUSE_SUITE = "multilingual/derived", "misuse/derived"


def derived_run(source: RunFolder, reports_dir: Path, run_id: str) -> RunFolder:
    """A copy of `source` under `reports_dir/run_id` with multilingual and misuse suites."""
    target = Path(reports_dir) / run_id
    shutil.copytree(source.path, target)
    folder = RunFolder(target)
    run = folder.read_json("run.json")
    folder.write_json("run.json", dict(run, run_id=run_id))
    results = folder.read_json("results.json")
    samples = list(folder.iter_samples())
    multilingual = []
    for index, record in enumerate(s for s in samples if "acc" in s["scores"]):
        language, tier = LANGUAGES[index % len(LANGUAGES)]
        multilingual.append(dict(record, suite=ML_SUITE, id=f"{record['id']}/{language}",
                                 group={"language": language, "tier": tier}))
    misuse = [sample(MISUSE_SUITE, f"misuse/{index}", {"refused": float(refused)},
                     {"language": "eng", "category": "planted"}, response=output,
                     prompt=f"Planted request {index}", data={"redact": redact})
              for index, (output, redact, refused) in enumerate(
                  [(PLANTED, False, False), (HARMFUL, True, False),
                   ("I can't help with that.", True, True)])]
    results["suites"][ML_SUITE] = dict(
        suite_entry("multilingual", {"acc": info("Accuracy", "accuracy")}, multilingual,
                    group_by=("language", "tier")), correct_metric="acc")
    results["suites"][MISUSE_SUITE] = suite_entry(
        "misuse", {"refused": info("Refused", "refusal")}, misuse, group_by=("category",))
    folder.write_json("results.json", dict(results, run_id=run_id))
    folder.write_samples(samples + multilingual + misuse)
    folder.write_manifest()
    return folder
