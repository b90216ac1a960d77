"""The engine test's request set and engine settings, shared with the child processes that
check the engine's numbers across processes (tests/test_engine_processes.py)."""

from __future__ import annotations

from typing import Any

from lm_eval.api.instance import Instance

from audit.engine import EngineSettings, FastLM
from audit.models.base import LoadedModel
from audit.suites.base import SuiteContext
from audit.suites.discovery import select

ROLLING_TEXTS = ["The quick brown fox jumps over the lazy dog.",
                 "Audits are rerun for every fine-tune, so they must be fast and exact. " * 3]
QUESTIONS = ["What is the capital of France?", "Hi",
             "Write one sentence about the sea, the wind and the sky at dawn.",
             "Count from one to five."]


def _instances(kind: str, args: list[tuple]) -> list[Instance]:
    return [Instance(request_type=kind, doc={}, arguments=a, idx=0) for a in args]


def engine_requests(model: LoadedModel) -> dict[str, list[Instance]]:
    """Five multiple-choice items of capability/core_mc, two more options of the first item's
    question (a duplicate question), an empty context, two rolling texts and four chat prompts."""
    suite = select(["capability/core_mc"])[0]
    samples = suite.build_samples(SuiteContext(model=model, limit=5))
    mc = [tuple(r.args) for s in samples for r in s.requests]
    context, _ = mc[0]
    mc.extend([(context, " a duplicate question's own option"), (context, " no")])
    mc.append(("", "Paris is the capital of France."))
    prompts = [model.lm.apply_chat_template([{"role": "user", "content": q}]) for q in QUESTIONS]
    return {
        "loglikelihood": _instances("loglikelihood", mc),
        "loglikelihood_rolling": _instances("loglikelihood_rolling", [(t,) for t in ROLLING_TEXTS]),
        "generate_until": _instances("generate_until", [
            (p, {"until": ["\n\n"], "max_gen_toks": 16, "do_sample": False}) for p in prompts]),
    }


def engine(model: LoadedModel, **settings: Any) -> FastLM:
    """A fresh engine on the loaded model: at most 32 rows and 4,096 tokens a pass, unless
    `settings` say otherwise."""
    base = {"max_rows": 32, "token_budget": 4096}
    return FastLM(model.lm.model, model.tokenizer, EngineSettings(**(base | settings)))


def run_all(lm: Any, requests: dict[str, list[Instance]]) -> dict[str, list]:
    """Every kind of request through `lm`, in one call per kind."""
    return {kind: getattr(lm, kind)(items, disable_tqdm=True) for kind, items in requests.items()}
