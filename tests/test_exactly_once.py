"""A run killed at any write boundary resumes to the same folder an uninterrupted run writes.

The kill is simulated in-process: the test wraps the two functions that write a run folder
(the atomic file write and the request-cache append) so that the k-th write raises an
exception nothing in fm-audit catches, as if the process had been killed (-9) just before it.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest

from audit.config import RunConfig
from audit.errors import ConfigError, RunFolderError
from audit.execution import RequestCache
from audit.runfolder import folder as runfolder
from audit.runner import resume_audit, run_audit
from audit.runstart import resumable_run
from audit.suites.base import Request

SMOLLM2 = "packaged:smollm2-135m-instruct"
SUITES = ["capability/openbookqa", "bias/crows_pairs"]
DETERMINISTIC = ("samples.jsonl", "results.json", "requests.jsonl")


class Killed(BaseException):
    """Stands for SIGKILL: a BaseException, so no `except Exception` in the run sees it."""


def _config(out: Path) -> RunConfig:
    return RunConfig(model=SMOLLM2, suites=SUITES, limit=4, device="cpu", checkpoint_every=8,
                     request_cache=False, out=out, run_id="r")


def _kill_at(monkeypatch: pytest.MonkeyPatch, boundary: int | None) -> list[str]:
    """Count every write of the run folder; raise Killed instead of write number `boundary`
    (None: never). Returns the list of written file names, filled as the run goes."""
    written: list[str] = []
    real_write, real_add = runfolder.atomic_write_text, RequestCache.add

    def reached(name: str) -> None:
        if boundary is not None and len(written) == boundary:
            raise Killed(name)
        written.append(name)

    def write(path: Path, text: str) -> None:
        reached(path.name)
        real_write(path, text)

    def add(self: RequestCache, items) -> None:
        items = list(items)
        reached(self.path.name)
        real_add(self, items)

    monkeypatch.setattr(runfolder, "atomic_write_text", write)
    monkeypatch.setattr(RequestCache, "add", add)
    return written


def _interrupted_run(run_id: str) -> dict:
    """The run.json of a run that was killed while running `SUITES` at limit 4."""
    return {"schema_version": 1, "run_id": run_id, "status": "running", "created": "2026",
            "config": _config(Path("reports")).model_dump(mode="json"),
            "model": {"uri": SMOLLM2, "scheme": "packaged", "name": "smollm2", "files": []},
            "environment": {}, "suites": SUITES}


@pytest.mark.slow
def test_a_kill_at_every_write_boundary_resumes_to_the_uninterrupted_folder(
        tmp_path: Path, smollm2, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch:
        boundaries = _kill_at(patch, None)
        whole = run_audit(_config(tmp_path / "whole"), model=smollm2)
    assert boundaries.count("requests.jsonl") >= 3 and boundaries[-1] == "manifest.json"
    expected = {name: (whole.path / name).read_bytes() for name in DETERMINISTIC}
    for boundary in range(len(boundaries)):
        out = tmp_path / f"killed-{boundary}"
        with monkeypatch.context() as patch, pytest.raises(Killed):
            _kill_at(patch, boundary)
            run_audit(_config(out), model=smollm2)
        if (out / "r" / "run.json").exists():
            folder = resume_audit("r", out, model=smollm2)
        else:
            folder = run_audit(_config(out), model=smollm2)
        for name in DETERMINISTIC:
            assert (folder.path / name).read_bytes() == expected[name], \
                f"{name} differs after a kill before write {boundary} ({boundaries[boundary]})"
        run = folder.read_json("run.json")
        manifest = folder.read_json("manifest.json")["sha256"]
        assert run["status"] == "complete" and set(manifest) == set(runfolder.MANIFESTED)
        energy = folder.read_json("energy.json")
        assert sorted(energy["suites"]) == sorted(SUITES)


def _open_for_resume(reports: Path, flags: dict | None = None) -> None:
    with resumable_run("held", reports, flags):
        pass


def test_a_second_process_cannot_write_a_locked_run(tmp_path: Path) -> None:
    folder = runfolder.RunFolder.create(tmp_path, "held")
    folder.write_json("run.json", _interrupted_run("held"))
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from audit.runlock import run_lock\n"
         "with run_lock(sys.argv[1]):\n    print('held', flush=True); time.sleep(60)",
         str(folder.path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(RunFolderError, match=f"another fm-audit process \\(pid "
                                                 f"{holder.pid}\\)") as error:
            _open_for_resume(tmp_path)
        assert time.monotonic() - started < 1
        assert "--resume held" in error.value.fix
    finally:
        holder.kill()
        holder.wait()
    with resumable_run("held", tmp_path) as (_, recorded, _config):
        assert recorded["status"] == "running"


def test_resume_refuses_options_that_change_the_run(tmp_path: Path) -> None:
    folder = runfolder.RunFolder.create(tmp_path, "held")
    folder.write_json("run.json", _interrupted_run("held"))
    flags = {"model": "packaged:gemma3-270m", "limit": 30, "suites": ["bias"], "seed": None,
             "out": "elsewhere"}
    with pytest.raises(ConfigError, match="--model 'packaged:gemma3-270m'.*--limit 30.*"
                                          "--suites \\['bias'\\]") as error:
        _open_for_resume(tmp_path, flags)
    assert "--seed" not in error.value.message and "start a new run" in error.value.fix
    same = {"model": SMOLLM2, "limit": 4, "suites": SUITES, "out": "elsewhere"}
    with resumable_run("held", tmp_path, same) as (_, _recorded, config):
        assert config.limit == 4


def test_cache_lines_that_are_not_records_are_skipped_not_fatal(tmp_path: Path, caplog) -> None:
    """A request-cache line without its key (edited, or written by another tool) is skipped
    with a warning, so the run resumes and computes that request again."""
    cache = RequestCache(tmp_path / "requests.jsonl", "model-a")
    kept = Request("loglikelihood", ("ctx", " kept"))
    cache.add([(cache.key(kept), [-1.0, True])])
    with open(tmp_path / "requests.jsonl", "ab") as handle:
        handle.write(b'{"response": [-2.0, false]}\n[1, 2]\n{"key": "k", "response": "\xff"}\n')
    with caplog.at_level(logging.WARNING, logger="audit.execution"):
        reopened = RequestCache(tmp_path / "requests.jsonl", "model-a")
    assert len(reopened) == 1 and reopened.get(reopened.key(kept)) == [-1.0, True]
    assert sum("Ignoring" in r.message for r in caplog.records) == 3
