"""A run folder for the dashboard tests, derived from a real run of the engine.

The engine on `main` runs only capability suites, but the dashboard must draw every family.
`derived_run` copies a real run (its capability results, samples and energy stay as measured)
and adds two hand-made suites built with `tests.handmade_runs`: a multilingual suite (the real
run's per-item scores spread over four languages in three resource tiers) and a misuse suite
whose outputs are a planted `<script>` tag with a Markdown link (to be shown as text) and a
harmful-request output (to stay hidden until revealed).

`evidence_reports` needs no model: two hand-made runs of 16 languages by tier, the second a
`peft:` fine-tune, each reported and signed off, the second's signed report edited afterwards.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from audit.runfolder import RunFolder
from tests.handmade_runs import MODEL, info, sample, suite_entry, wide_run

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


BASELINE, TUNED = "languages-16", "languages-16-lora"
REVIEWER = "Ada Reviewer"
TUNED_PUE = 1.2
PEFT_MODEL = {
    "uri": "peft:packaged:smollm2-135m-instruct+adapters/swh", "scheme": "peft",
    "name": "smollm2-135m-instruct+swh", "parameters": 1000, "dtype": "float32",
    "device": "cpu", "licence": "test-only",
    "files": [{"path": "adapters/swh/adapter_model.safetensors", "sha256": "1" * 64,
               "role": "adapter weights"},
              {"path": "adapters/swh/adapter_config.json", "sha256": "2" * 64,
               "role": "adapter config"},
              dict(MODEL["files"][0], role="base weights")],
    "extra": {"base": dict(MODEL, uri="packaged:smollm2-135m-instruct"),
              "adapter": {"directory": "adapters/swh", "peft_type": "LORA",
                          "config": {"peft_type": "LORA"}, "merged": True}}}


def evidence_reports(root: Path) -> Path:
    """`root` holding BASELINE and TUNED (a peft model run with a PUE of TUNED_PUE), both
    reported and signed off by REVIEWER; TUNED's signed report is edited afterwards, so its
    sign-off no longer holds."""
    from audit.cli import main

    for run_id, shift, model in ((BASELINE, 0, None), (TUNED, 1, PEFT_MODEL)):
        folder = wide_run(root, run_id, shift, model)
        energy = folder.read_json("energy.json")
        for entry in energy["suites"].values():  # 0.2 Wh in 10 s is 72 W, inside 10-100 W
            entry["hardware"].update(ram_total_gb=23.5, ram_power_w=20.0, cpu_tdp_w=100)
        folder.write_json("energy.json", energy)
        folder.write_json("run.json", dict(folder.read_json("run.json"), config=dict(
            folder.read_json("run.json")["config"], pue=TUNED_PUE if model else 1.0)))
        folder.write_manifest()
        assert main(["report", str(folder.path)]) == 0
        assert main(["sign", str(folder.path), "--reviewer", REVIEWER, "--role",
                     "AI governance lead", "--decision", "approve"]) == 0
    signed = root / TUNED / "signed" / "1" / "report.md"
    signed.write_text(signed.read_text() + "\nedited after the sign-off\n")
    return root
