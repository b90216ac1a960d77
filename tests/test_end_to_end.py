"""The walking skeleton: a real model, a real suite, a real run folder, a real CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest

from audit.engine.settings import NUMERICS_VERSION
from audit.runfolder import load_schema

pytestmark = pytest.mark.slow


def test_run_folder_is_complete_and_valid(small_run) -> None:
    run = small_run.read_json("run.json")
    assert run["status"] == "complete"
    assert run["model"]["parameters"] == 134_515_008
    assert run["environment"]["packages"]["lm-eval"]
    assert run["engine"]["loglikelihood"].startswith("packed")  # the CPU path, for a Llama
    assert run["engine"]["numerics_version"] == NUMERICS_VERSION
    assert run["data_sources"]["capability/core_mc"][0]["licence"] == "Apache-2.0"
    results = small_run.read_json("results.json")
    suite = results["suites"]["capability/core_mc"]
    overall = [m for m in suite["metrics"] if m["metric"] == "acc" and not m["group"]][0]
    assert overall["n"] == 6 and overall["ci_low"] <= overall["value"] <= overall["ci_high"]
    assert {m["group"].get("subject") for m in suite["metrics"] if m["group"]} - {None}
    schema = load_schema("sample.schema.json")
    samples = list(small_run.iter_samples())
    assert len(samples) == 6
    for sample in samples:
        jsonschema.validate(sample, schema)
        assert len(sample["responses"]) == len(sample["requests"]) == 4
    energy = small_run.read_json("energy.json")["suites"]["capability/core_mc"]
    assert energy["method"]["ram"] == "estimated" and energy["n_requests"] == 24
    manifest = small_run.read_json("manifest.json")
    assert {"run.json", "results.json", "samples.jsonl", "energy.json"} <= set(manifest["sha256"])


def test_same_config_gives_identical_results(small_run, reports_dir) -> None:
    from audit.config import RunConfig
    from audit.runner import run_audit

    config = RunConfig.model_validate(dict(small_run.read_json("run.json")["config"],
                                           run_id="small-run-again"))
    again = run_audit(config)
    first = small_run.read_json("results.json")["suites"]
    assert again.read_json("results.json")["suites"] == first


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "audit.cli", *args], capture_output=True,
                          text=True, timeout=600)


def test_cli_error_is_one_paragraph_without_traceback() -> None:
    result = _cli("run", "--model", "nosuch:model", "--suites", "capability")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "unknown model scheme" in result.stderr and "fix:" in result.stderr


def test_cli_missing_config_file(tmp_path) -> None:
    result = _cli("run", "--config", str(tmp_path / "absent.yaml"))
    assert result.returncode == 2 and "cannot read run config" in result.stderr


def test_cli_lists_models_and_suites() -> None:
    models = _cli("models")
    assert models.returncode == 0 and "packaged:smollm2-135m-instruct" in models.stdout
    suites = _cli("suites")
    assert suites.returncode == 0 and "capability/core_mc" in suites.stdout


def test_cli_show_summarises_a_run(small_run, reports_dir) -> None:
    result = _cli("show", "small-run", "--out", str(reports_dir))
    assert result.returncode == 0 and "Accuracy" in result.stdout and "n=6" in result.stdout
    assert json.loads((small_run.path / "run.json").read_text())["status"] == "complete"
