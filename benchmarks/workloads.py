"""The benchmark's request sets: the capability suite's log-likelihood requests and a fixed set
of project-written chat prompts for generation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from lm_eval.api.instance import Instance

from audit.models.base import LoadedModel
from audit.suites.base import Sample, Suite, SuiteContext
from audit.suites.discovery import available, select

PROMPTS = Path(__file__).with_name("prompts.yaml")
GENERATION_KWARGS = {"until": ["\n\n"], "max_gen_toks": 48, "do_sample": False}


@dataclass
class Workload:
    """Requests of one kind, and how many tokens each carries (the same for every backend)."""

    name: str
    kind: str
    instances: list[Instance]
    input_tokens: int
    suites: dict[str, tuple[Suite, list[Sample]]]


def loglikelihood_workload(model: LoadedModel, profile: str = "quick") -> Workload:
    """Every log-likelihood request of the capability suites in the given profile."""
    names = sorted(n for n, f in available().items() if f().spec.family == "capability")
    suites: dict[str, tuple[Suite, list[Sample]]] = {}
    for suite in select(names):
        limit = suite.spec.profiles.get(profile, {}).get("limit")
        suites[suite.name] = (suite, suite.build_samples(
            SuiteContext(model=model, profile=profile, limit=limit)))
    args = [r.args for _, samples in suites.values() for s in samples for r in s.requests
            if r.kind == "loglikelihood"]
    tokens = sum(len(c) + len(k) for c, k in (model.lm._encode_pair(*a) for a in args))
    return Workload("loglikelihood", "loglikelihood",
                    [Instance(request_type="loglikelihood", doc={}, arguments=tuple(a), idx=0)
                     for a in args], tokens, suites)


def generation_workload(model: LoadedModel) -> Workload:
    """The prompts in prompts.yaml, chat-formatted, greedy, at most 48 new tokens."""
    prompts = yaml.safe_load(PROMPTS.read_text(encoding="utf-8"))
    texts = [model.lm.apply_chat_template([{"role": "user", "content": p}]) for p in prompts]
    tokens = sum(len(model.tokenizer(t)["input_ids"]) for t in texts)
    return Workload("generation", "generate_until",
                    [Instance(request_type="generate_until", doc={},
                              arguments=(t, dict(GENERATION_KWARGS)), idx=0) for t in texts],
                    tokens, {})
