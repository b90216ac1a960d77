"""The benchmark's request sets: the capability suite's log-likelihood requests and a fixed set
of project-written chat prompts for generation."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from lm_eval.api.instance import Instance

from audit.execution import CHUNK_SIZE
from audit.models.base import LoadedModel
from audit.suites.base import Sample, Suite, SuiteContext
from audit.suites.discovery import available, select

PROMPTS = Path(__file__).with_name("prompts.yaml")
GENERATION_KWARGS = {"until": ["\n\n"], "max_gen_toks": 48, "do_sample": False}


@dataclass
class Workload:
    """Requests of one kind, how many tokens they carry (the same for every backend), and the
    calls a run makes with them: `calls` splits `instances` as `fm-audit run` hands them to
    the model (per suite, each distinct request once, in chunks of the executor's size)."""

    name: str
    kind: str
    instances: list[Instance]
    input_tokens: int
    suites: dict[str, tuple[Suite, list[Sample]]]
    calls: list[list[Instance]]


def _as_a_run_calls(kind: str, per_suite: list[list[tuple]]) -> list[list[Instance]]:
    """Each suite's distinct requests in first-seen order, cut into the executor's chunks."""
    calls = []
    for args in per_suite:
        distinct = list({json.dumps(a, sort_keys=True, default=str): tuple(a)
                         for a in args}.values())
        calls.extend([Instance(request_type=kind, doc={}, arguments=a, idx=0)
                      for a in distinct[start:start + CHUNK_SIZE]]
                     for start in range(0, len(distinct), CHUNK_SIZE))
    return calls


def calls_as_a_run(kind: str, sample_sets: Iterable[list[Sample]]) -> list[list[Instance]]:
    """The `kind` requests of each suite's samples (one list of samples per suite), handed over
    as a run hands them (`_as_a_run_calls`)."""
    return _as_a_run_calls(kind, [[r.args for s in samples for r in s.requests if r.kind == kind]
                                  for samples in sample_sets])


def _built_suites(model: LoadedModel, names: list[str], profile: str, limit: int | None
                  ) -> dict[str, tuple[Suite, list[Sample]]]:
    """Each named suite with the samples it builds in `profile` (first `limit` items)."""
    return {suite.name: (suite, suite.build_samples(
                SuiteContext(model=model, profile=profile, limit=limit)))
            for suite in select(names)}


def _loglikelihood_tokens(model: LoadedModel, instances: list[Instance]) -> int:
    return sum(len(c) + len(k) for c, k in (model.lm._encode_pair(*i.args) for i in instances))


def loglikelihood_workload(model: LoadedModel, profile: str = "quick",
                           limit: int | None = None) -> Workload:
    """Every log-likelihood request of the capability suites in the given profile, or of the
    first `limit` items of each suite."""
    names = sorted(n for n, f in available().items() if f().spec.family == "capability")
    suites = _built_suites(model, names, profile, limit)
    calls = calls_as_a_run("loglikelihood", (samples for _, samples in suites.values()))
    instances = [instance for call in calls for instance in call]
    return Workload("loglikelihood", "loglikelihood", instances,
                    _loglikelihood_tokens(model, instances), suites, calls)


def generation_workload(model: LoadedModel) -> Workload:
    """The prompts in prompts.yaml, chat-formatted, greedy, at most 48 new tokens."""
    prompts = yaml.safe_load(PROMPTS.read_text(encoding="utf-8"))
    texts = [model.lm.apply_chat_template([{"role": "user", "content": p}]) for p in prompts]
    tokens = sum(len(model.tokenizer(t)["input_ids"]) for t in texts)
    calls = [[Instance(request_type="generate_until", doc={},
                       arguments=(t, dict(GENERATION_KWARGS)), idx=0) for t in texts]]
    return Workload("generation", "generate_until", calls[0], tokens, {}, calls)


def suite_generation_workload(model: LoadedModel, names: list[str], limit: int | None,
                              profile: str = "decision") -> Workload:
    """Every generation request of the named suites in `profile` (the first `limit` items of
    each, when given), handed over as a run hands them: the workload of the families that
    generate text (misuse, multilingual), where prompts and answers are longer than in
    prompts.yaml."""
    suites = _built_suites(model, names, profile, limit)
    calls = calls_as_a_run("generate_until", (samples for _, samples in suites.values()))
    instances = [instance for call in calls for instance in call]
    tokens = sum(len(model.tokenizer(i.args[0])["input_ids"]) for i in instances)
    return Workload("suite_generation", "generate_until", instances, tokens, suites, calls)


def export_workloads(workloads: list[Workload], path: Path, description: dict[str, Any]) -> None:
    """Write the workloads' requests, in the calls a run makes, as gzipped JSON: a machine
    without the suites' data (a GPU machine with no network, say) can then time the same
    requests with `load_workloads`."""
    payload = {"description": description,
               "workloads": [{"name": w.name, "kind": w.kind,
                              "calls": [[list(i.args) for i in call] for call in w.calls]}
                             for w in workloads]}
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        json.dump(payload, handle)


def load_workloads(path: Path, model: LoadedModel) -> tuple[list[Workload], dict[str, Any]]:
    """The workloads `export_workloads` wrote, with their token counts under `model`'s
    tokenizer, and the description recorded with them. Suite scores are not available (the
    suites are not built), so agreement compares the answers only."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        payload = json.load(handle)
    workloads = []
    for entry in payload["workloads"]:
        calls = [[Instance(request_type=entry["kind"], doc={}, arguments=tuple(args), idx=0)
                  for args in call] for call in entry["calls"]]
        instances = [instance for call in calls for instance in call]
        if entry["kind"] == "loglikelihood":
            tokens = _loglikelihood_tokens(model, instances)
        else:
            tokens = sum(len(model.tokenizer(i.args[0])["input_ids"]) for i in instances)
        workloads.append(Workload(entry["name"], entry["kind"], instances, tokens, {}, calls))
    return workloads, payload["description"]
