"""Execute suite requests against an lm-eval `LM`: grouped by kind, chunked, cached, resumable.

Every finished chunk of responses is appended to the run's request cache before the next chunk
starts, so a run killed at any point loses at most one chunk, and `--resume` redoes nothing
that finished.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lm_eval.api.instance import Instance
from lm_eval.api.model import LM
from tqdm.auto import tqdm

from audit.errors import AuditError
from audit.request_store import SharedRequestStore
from audit.suites.base import Request, Sample
from audit.text import clean_text

log = logging.getLogger(__name__)

KIND_ORDER = ("loglikelihood", "loglikelihood_rolling", "generate_until")


class NumericalError(AuditError):
    """The model produced a NaN or infinite log-likelihood."""


class RequestCache:
    """Append-only JSON-lines store of (model, request) -> response."""

    def __init__(self, path: Path, model_fingerprint: str) -> None:
        self.path = Path(path)
        self.model_fingerprint = model_fingerprint
        self._entries: dict[str, Any] = {}
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        with open(self.path, "rb") as handle:
            for number, line in enumerate(handle, 1):
                try:
                    record = clean_text(json.loads(line))
                except (json.JSONDecodeError, UnicodeDecodeError):
                    log.warning("Ignoring a torn line %d in %s (run was interrupted)", number,
                                self.path)
                    continue
                if not (isinstance(record, dict) and isinstance(record.get("key"), str)
                        and "response" in record):
                    log.warning("Ignoring line %d of %s: not a {key, response} record; its "
                                "request is computed again", number, self.path)
                    continue
                self._entries[record["key"]] = record["response"]

    def key(self, request: Request) -> str:
        text = self.model_fingerprint + "\n" + request.key()
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> Any:
        return self._entries[key]

    def add(self, items: Iterable[tuple[str, Any]]) -> None:
        lines = []
        for key, response in items:
            self._entries[key] = response
            lines.append(json.dumps({"key": key, "response": response}, ensure_ascii=False) + "\n")
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.writelines(lines)
            handle.flush()
            os.fsync(handle.fileno())


@dataclass
class ExecutionStats:
    """What the LM actually did for one suite: for energy normalisation and progress."""

    n_requests: int = 0
    n_executed: int = 0
    n_from_store: int = 0
    n_tokens: int = 0


def _to_json(kind: str, response: Any, request: Request) -> Any:
    if kind == "loglikelihood":
        logprob, greedy = response
        logprob = float(logprob)
        if not math.isfinite(logprob):
            raise NumericalError(
                f"the model returned a non-finite log-likelihood ({logprob}) for "
                f"{request.args[1][:60]!r} after {request.args[0][-60:]!r}",
                fix="this usually means an overflow in reduced precision: rerun with "
                    "--dtype float32; results computed so far are kept and --resume continues.")
        return [logprob, bool(greedy)]
    if kind == "loglikelihood_rolling":
        value = float(response)
        if not math.isfinite(value):
            raise NumericalError(
                f"the model returned a non-finite rolling log-likelihood ({value})",
                fix="rerun with --dtype float32; --resume continues from cached results.")
        return value
    return str(response)


def _count_tokens(tokenizer: Any, kind: str, request: Request, response: Any) -> int:
    if tokenizer is None:
        return 0
    if kind == "loglikelihood":
        texts = [request.args[0], request.args[1]]
    elif kind == "loglikelihood_rolling":
        texts = [request.args[0]]
    else:
        texts = [request.args[0], response]
    return sum(len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts)


def _call(lm: LM, kind: str, instances: list[Instance]) -> list[Any]:
    """Call the LM method; silence its own progress bar when it has one (ours is shown)."""
    method = getattr(lm, kind)
    if "disable_tqdm" in inspect.signature(method).parameters:
        return method(instances, disable_tqdm=True)
    return method(instances)


def _reuse_stored(pending: dict[str, Request], cache: RequestCache,
                  store: SharedRequestStore) -> int:
    """Copy answers an earlier run left in the shared store into this run's cache; drop them
    from `pending` and return how many there were."""
    found = store.get_many([request.key() for request in pending.values()])
    reused = [(key, found[request.key()]) for key, request in pending.items()
              if request.key() in found]
    if reused:
        cache.add(reused)
        for key, _ in reused:
            del pending[key]
    return len(reused)


# Requests handed to the model per call; a kill loses at most one call's answers.
CHUNK_SIZE = 128


def execute(lm: LM, samples: list[Sample], cache: RequestCache, tokenizer: Any = None,
            label: str = "", chunk_size: int = CHUNK_SIZE,
            store: SharedRequestStore | None = None) -> ExecutionStats:
    """Fill every sample's `responses`, running only requests that neither the run's cache nor
    the shared store (when given) holds; new answers go to both.

    Responses are saved to the cache every `chunk_size` requests: the most work a kill loses.
    """
    stats = ExecutionStats()
    for kind in KIND_ORDER:
        pending: dict[str, Request] = {}
        for sample in samples:
            for request in sample.requests:
                if request.kind == kind:
                    stats.n_requests += 1
                    key = cache.key(request)
                    if key not in cache:
                        pending.setdefault(key, request)
        if pending and store is not None:
            stats.n_from_store += _reuse_stored(pending, cache, store)
        if not pending:
            continue
        items = list(pending.items())
        # Live on a terminal only, and cleared when done: the run's progress line stays.
        with tqdm(total=len(items), desc=f"{label} {kind}".strip(), unit="req",
                  disable=None, leave=False) as bar:
            for start in range(0, len(items), chunk_size):
                chunk = items[start:start + chunk_size]
                instances = [Instance(request_type=kind, doc={}, arguments=request.args, idx=0)
                             for _, request in chunk]
                responses = _call(lm, kind, instances)
                answers = [(key, request, _to_json(kind, response, request))
                           for (key, request), response in zip(chunk, responses, strict=True)]
                cache.add((key, answer) for key, _, answer in answers)
                if store is not None:
                    store.put_many((request.key(), answer) for _, request, answer in answers)
                stats.n_executed += len(chunk)
                bar.update(len(chunk))
    for sample in samples:
        sample.responses = [cache.get(cache.key(r)) for r in sample.requests]
        for request, response in zip(sample.requests, sample.responses, strict=True):
            stats.n_tokens += _count_tokens(tokenizer, request.kind, request, response)
    return stats
