"""A run killed with SIGKILL resumes to the same results, redoing no finished request."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from audit.config import RunConfig
from audit.errors import RunFolderError
from audit.execution import RequestCache
from audit.registry import load_model
from audit.runner import resume_audit, run_audit
from audit.suites.base import Request

SMOLLM2 = "packaged:smollm2-135m-instruct"
CHUNK = 8


def test_torn_last_line_of_request_cache_is_ignored(tmp_path: Path) -> None:
    cache = RequestCache(tmp_path / "requests.jsonl", "model-a")
    request = Request("loglikelihood", ("ctx", " cont"))
    cache.add([(cache.key(request), [-1.5, False])])
    with open(tmp_path / "requests.jsonl", "a") as handle:
        handle.write('{"key": "abc", "respo')
    reopened = RequestCache(tmp_path / "requests.jsonl", "model-a")
    assert len(reopened) == 1 and reopened.get(reopened.key(request)) == [-1.5, False]


def test_cache_keys_depend_on_the_model(tmp_path: Path) -> None:
    request = Request("loglikelihood", ("ctx", " cont"))
    first = RequestCache(tmp_path / "a.jsonl", "model-a").key(request)
    assert first != RequestCache(tmp_path / "b.jsonl", "model-b").key(request)


def _run_command(out: Path, run_id: str) -> list[str]:
    return [sys.executable, "-m", "audit.cli", "run", "--model", SMOLLM2, "--suites",
            "capability/core_mc", "--device", "cpu", "--out", str(out), "--run-id", run_id,
            "--batch-size", "4"]


def _cached_lines(path: Path) -> list[dict]:
    if not path.exists():
        return []
    lines = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            lines.append(json.loads(line))
    return lines


@pytest.mark.slow
def test_sigkill_then_resume_matches_uninterrupted_run(tmp_path: Path, smollm2) -> None:
    """The command line is killed mid-run; the resume and the uninterrupted run are done in
    this process (as `run --resume` and `run` do it), on one model loaded with the killed
    run's recorded options, so only the killed run pays for a process start."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    config = tmp_path / "run.yaml"
    config.write_text(f"checkpoint_every: {CHUNK}\nlimit: 12\nrequest_cache: false\n")
    cache_file = tmp_path / "killed" / "requests.jsonl"
    process = subprocess.Popen(_run_command(tmp_path, "killed") + ["--config", str(config)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while len(_cached_lines(cache_file)) < 2 * CHUNK and time.monotonic() < deadline:
        if process.poll() is not None:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the run finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    before = len(_cached_lines(cache_file))
    assert 2 * CHUNK <= before < 48
    run = json.loads((tmp_path / "killed" / "run.json").read_text())
    assert run["status"] == "running" and not (tmp_path / "killed" / "results.json").exists()

    recorded = RunConfig.model_validate(run["config"])
    assert recorded.batch_size == 4 and recorded.checkpoint_every == CHUNK
    model = load_model(recorded.model, recorded.load_options())
    resume_audit("killed", tmp_path, model=model)
    keys = [line["key"] for line in _cached_lines(cache_file)]
    assert len(keys) == len(set(keys)) == 48, "a finished request was computed twice"
    energy = json.loads((tmp_path / "killed" / "energy.json").read_text())
    assert energy["suites"]["capability/core_mc"]["n_executed"] == 48 - before

    run_audit(recorded.model_copy(update={"run_id": "whole"}), model=model)
    killed_results = json.loads((tmp_path / "killed" / "results.json").read_text())
    whole_results = json.loads((tmp_path / "whole" / "results.json").read_text())
    assert killed_results["suites"] == whole_results["suites"]
    assert json.loads((tmp_path / "killed" / "run.json").read_text())["status"] == "complete"


def _interrupted_copy(run, reports: Path, run_id: str, **changes) -> None:
    """A copy of a finished run, marked as interrupted, with `changes` applied to its
    run.json (`model` and `engine` entries are updated, not replaced)."""
    shutil.copytree(run.path, reports / run_id)
    run_file = reports / run_id / "run.json"
    recorded = json.loads(run_file.read_text())
    recorded["status"] = "running"
    for key, value in changes.items():
        recorded[key].update(value)
    run_file.write_text(json.dumps(recorded))


def test_resume_refuses_when_any_weight_file_changed(tmp_path: Path, small_run, smollm2) -> None:
    """An adapter run records the adapter's files first and the base's after: a change to a
    later file (here the base's record no longer matches what loads) must stop the resume, not
    only a change to the first file."""
    _interrupted_copy(small_run, tmp_path, "adapted", model={"files": [
        smollm2.provenance.files[0],
        {"path": "base.gguf", "sha256": "0" * 64, "role": "base gguf weights"}]})
    with pytest.raises(RunFolderError, match="changed since run adapted: base gguf weights"
                       ) as error:
        resume_audit("adapted", tmp_path)
    assert "start a new run" in error.value.fix


@pytest.mark.parametrize("engine, said", [
    ({"numerics_version": "fm-audit-engine-1"}, "fm-audit-engine-1"),
    ({"numerics": "fm-audit-engine-3/cpu-threads-99"}, "fm-audit-engine-3/cpu-threads-99")])
def test_resume_says_when_the_engine_numerics_changed(tmp_path: Path, small_run, caplog,
                                                      engine, said) -> None:
    """Another engine version, or the same version with another CPU thread count."""
    _interrupted_copy(small_run, tmp_path, "older", engine=engine)
    with caplog.at_level(logging.WARNING, logger="audit.runner"):
        resume_audit("older", tmp_path)
    assert any(f"began with engine numerics {said}" in r.message for r in caplog.records)
