"""Suites that are plain lm-eval YAML tasks.

Requests are built by lm-eval's own `Task.build_all_requests` and scored by its own filters
and `process_results`, exactly as `lm_eval.simple_evaluate` does; only execution (batched,
cached, resumable) and uncertainty reporting are fm-audit's. Tasks named in the spec are looked
up in the suite folder first, then among lm-eval's bundled task definitions; a bundled task
whose data cannot be reached is reported as skipped, with the reason.

A task's `data_files` may name a data-pack file (`pack:<pack>/<member>`) declared under `data:`
in suite.yaml; it is fetched and verified against its pinned sha256 before lm-eval reads it.
Which documents run is the suite's seeded sample (`Suite.choose`, stratified by task): a
profile's `per_stratum: N` draws N documents per task, `--limit N` N documents per suite; the
ids are recorded in results.json under `selection`.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import UndefinedError
from lm_eval.api.instance import Instance
from lm_eval.api.task import Task

from audit.data.hub import hub_unreachable_reason, offline_flag
from audit.data.packs import PACK_PREFIX
from audit.errors import DatasetError, SuiteError
from audit.suites.base import Request, Sample, Suite, SuiteContext
from audit.suites.spec import SPEC_FILE

log = logging.getLogger(__name__)


def _as_response(kind: str, response: Any) -> Any:
    """JSON round-trips a loglikelihood pair as a list; lm-eval filters expect a tuple."""
    return tuple(response) if kind == "loglikelihood" else response


def _gold(task: Task, doc: dict[str, Any]) -> int | None:
    target = task.doc_to_target(doc)
    if isinstance(target, int):
        return target
    choices = task.doc_to_choice(doc)
    return choices.index(target) if isinstance(target, str) and target in choices else None


def _baseline_scorer(task: Task) -> Callable[[dict[str, Any]], dict[str, float]]:
    """Per-document scores of two reference guessers for a multiple-choice task.

    `chance`: the expected accuracy of a uniform random pick (1 / number of options).
    `majority`: whether the gold is the task's most frequent gold option over all its
    documents (ties to the lower index), i.e. the accuracy of always giving that answer.
    """
    counts = Counter(_gold(task, doc) for doc in task.eval_docs)
    counts.pop(None, None)
    majority = min(counts, key=lambda gold: (-counts[gold], gold)) if counts else None

    def score(doc: dict[str, Any]) -> dict[str, float]:
        gold = _gold(task, doc)
        if gold is None:
            return {}
        return {"chance": 1.0 / len(task.doc_to_choice(doc)), "majority": float(gold == majority)}

    return score


class LmEvalSuite(Suite):
    """A suite whose `tasks` are lm-eval task names (YAML in the suite folder, or bundled)."""

    _tasks: dict[str, Task] | None = None
    BASELINES = ("chance", "majority")

    def __init__(self, spec: Any) -> None:
        super().__init__(spec)
        self._skipped: list[dict[str, str]] = []

    def skipped(self) -> list[dict[str, str]]:
        return list(self._skipped)

    def resolve_data_path(self, path: str) -> str:
        """A `data_files` entry as an absolute path: relative ones are under the suite folder,
        `pack:` ones are data-pack files declared in suite.yaml, fetched and verified."""
        if path.startswith(PACK_PREFIX):
            return str(self._pack_file(path))
        candidate = Path(path)
        return path if candidate.is_absolute() else str(self.spec.directory / candidate)

    def _pack_file(self, uri: str) -> Path:
        declared = {source.file: source for source in self.spec.data}
        source = declared.get(uri)
        if source is None or not source.sha256:
            raise SuiteError(
                f"suite {self.name}: data file {uri} is not declared with a pinned sha256",
                fix=f"add it under `data:` in {self.spec.directory}/{SPEC_FILE} with "
                    f"`file: {uri}`, its sha256, licence and citation.")
        return source.data_file().path()  # type: ignore[union-attr]

    def _local_task_configs(self) -> dict[str, dict[str, Any]]:
        """Task YAMLs in the suite folder, with their data files resolved to absolute paths."""
        from lm_eval.tasks._yaml_loader import load_yaml

        configs: dict[str, dict[str, Any]] = {}
        for path in sorted(self.spec.directory.glob("*.yaml")):
            if path.name == SPEC_FILE:
                continue
            config = load_yaml(path)
            if config.get("task") not in self.spec.tasks:
                continue
            files = config.get("dataset_kwargs", {}).get("data_files")
            if isinstance(files, dict):
                files = {split: ([self.resolve_data_path(f) for f in value]
                                 if isinstance(value, list) else self.resolve_data_path(value))
                         for split, value in files.items()}
            elif isinstance(files, list):
                files = [self.resolve_data_path(f) for f in files]
            elif isinstance(files, str):
                files = self.resolve_data_path(files)
            if files is not None:
                config["dataset_kwargs"] = dict(config["dataset_kwargs"], data_files=files)
            configs[config["task"]] = config
        return configs

    def task_configs(self) -> list[str | dict[str, Any]]:
        """What to hand lm-eval: local task configs, and names of bundled lm-eval tasks."""
        local = self._local_task_configs()
        return [local.get(name, name) for name in self.spec.tasks]

    def load_tasks(self) -> dict[str, Task]:
        """lm-eval Task objects for the spec's task names (loads data, not the model)."""
        if self._tasks is not None:
            return self._tasks
        from lm_eval.tasks import TaskManager

        wanted = self.task_configs()
        local = [config for config in wanted if isinstance(config, dict)]
        loaded: dict[str, Task] = {}
        if local:
            try:
                loaded.update(TaskManager(include_defaults=False).load(local)["tasks"])
            except (StopIteration, ValueError, KeyError, OSError, TypeError, UndefinedError) as exc:
                raise DatasetError(
                    f"suite {self.name}: the data of task(s) {', '.join(self.spec.tasks)} could "
                    f"not be loaded ({type(exc).__name__}: {exc}); an empty or unreadable "
                    "dataset cannot be audited",
                    fix=f"check the data files named in the task YAML in {self.spec.directory}.",
                ) from exc
        bundled = [name for name in wanted if isinstance(name, str)]
        if bundled:
            loaded.update(self._load_bundled(bundled))
        self._tasks = {name: loaded[name] for name in self.spec.tasks if name in loaded}
        return self._tasks

    def _load_bundled(self, names: list[str]) -> dict[str, Task]:
        """lm-eval's own tasks whose data can be reached; the others are recorded as skipped.

        Reachability is checked first: indexing lm-eval's thousands of task files takes
        minutes on a busy CPU, which an offline run would spend for nothing.
        """
        from lm_eval.tasks import TaskManager

        reason = None if offline_flag() else hub_unreachable_reason()
        if reason is not None:
            self._skipped += [{"what": f"lm-eval task {name}",
                               "reason": f"{reason}; its data comes from the Hugging Face Hub "
                                         "and no offline pack holds it (with a local copy of "
                                         "the dataset, set HF_DATASETS_OFFLINE=1)"}
                              for name in names]
            return {}
        manager = TaskManager()
        unknown = [name for name in names if name not in manager.all_tasks]
        if unknown:
            raise SuiteError(f"suite {self.name}: unknown lm-eval task(s) {unknown}",
                             fix=f"check `tasks:` in {self.spec.directory}/{SPEC_FILE} and the "
                                 "task YAML files beside it.")
        tasks: dict[str, Task] = {}
        for name in names:
            try:
                tasks.update(manager.load([name])["tasks"])
            except Exception as exc:  # any failure to get third-party data is reported, not fatal
                log.warning("Skipping lm-eval task %s: %s", name, exc)
                self._skipped.append({"what": f"lm-eval task {name}",
                                      "reason": f"its data could not be loaded: "
                                                f"{type(exc).__name__}: {str(exc)[:300]}"})
        return tasks

    def _document_ids(self, tasks: dict[str, Task], context: SuiteContext
                      ) -> dict[str, list[int] | None]:
        """Per task, the sorted ids of the documents the run uses (None: all of them): the
        suite's seeded sample (`Suite.choose`, stratified by task), recorded with each
        task's ids under `selection` in results.json."""
        documents = [(name, doc_id) for name, task in tasks.items()
                     for doc_id in range(len(task.eval_docs))]
        chosen = self.choose(documents, context, stratum=lambda document: document[0],
                             strata="task")
        ids: dict[str, list[int] | None] = {}
        per_task: dict[str, Any] = {}
        for name, task in tasks.items():
            mine = [doc_id for task_name, doc_id in chosen if task_name == name]
            n_docs = len(task.eval_docs)
            ids[name] = None if len(mine) == n_docs else mine
            per_task[name] = {"n_documents": n_docs, "n_selected": len(mine),
                              "document_ids": ids[name]}
        self._selection["tasks"] = per_task
        return ids

    def build_samples(self, context: SuiteContext) -> list[Sample]:
        lm = context.model.lm if context.model is not None else None
        chat = context.chat_enabled(default=False)
        samples: list[Sample] = []
        tasks = self.load_tasks()
        selected = self._document_ids(tasks, context)
        for task_name, task in tasks.items():
            if context.num_fewshot is not None:
                task.set_config(key="num_fewshot", value=context.num_fewshot)
            ids = selected[task_name]
            try:
                task.build_all_requests(
                    limit=None, samples=ids, rank=0, world_size=1,
                    apply_chat_template=chat,
                    chat_template=lm.apply_chat_template if chat else None,
                    tokenizer_name=lm.tokenizer_name if chat else "")
            except (KeyError, ValueError, TypeError, IndexError, UndefinedError) as exc:
                raise DatasetError(
                    f"suite {self.name}: items of task {task_name} do not fit its prompt "
                    f"template ({type(exc).__name__}: {exc})",
                    fix="every item needs the fields the task YAML uses (doc_to_text, "
                        "doc_to_choice, doc_to_target); fix the data or the template.") from exc
            by_doc: dict[int, list[Instance]] = defaultdict(list)
            for instance in task.instances:
                by_doc[instance.doc_id].append(instance)
            if not by_doc:
                raise SuiteError(f"suite {self.name}: task {task_name} produced no items",
                                 fix="check that the task's dataset files exist and are not empty.")
            for position, instances in sorted(by_doc.items()):
                instances.sort(key=lambda inst: inst.idx)
                doc = instances[0].doc
                doc_id = ids[position] if ids is not None else position  # lm-eval renumbers
                group = {"task": task_name}
                group.update({d: str(doc[d]) for d in self.spec.group_by if d in doc})
                samples.append(Sample(
                    id=f"{task_name}/{doc_id}",
                    requests=[Request(inst.request_type, tuple(inst.args)) for inst in instances],
                    group=group,
                    data={"task": task_name, "doc_id": doc_id,
                          "target": str(task.doc_to_target(doc))}))
        return samples

    def score(self, samples: list[Sample]) -> None:
        tasks = self.load_tasks()
        by_task: dict[str, list[Sample]] = defaultdict(list)
        for sample in samples:
            by_task[sample.data["task"]].append(sample)
        for task_name, task_samples in by_task.items():
            task = tasks[task_name]
            docs = task.eval_docs
            instances: list[Instance] = []
            for sample in task_samples:
                doc = docs[sample.data["doc_id"]]
                for index, (request, response) in enumerate(
                        zip(sample.requests, sample.responses or [], strict=True)):
                    instances.append(Instance(
                        request_type=request.kind, doc=doc, arguments=request.args, idx=index,
                        metadata=(task_name, sample.data["doc_id"], 1),
                        resps=[_as_response(request.kind, response)],
                        doc_id=sample.data["doc_id"], repeats=1))
            task._instances = instances
            task.apply_filters()
            baselines = (_baseline_scorer(task) if set(self.BASELINES) & set(self.spec.metrics)
                         and task.OUTPUT_TYPE == "multiple_choice" else None)
            filter_key = next(iter(instances[0].filtered_resps))
            per_doc: dict[int, list[Instance]] = defaultdict(list)
            for instance in instances:
                per_doc[instance.doc_id].append(instance)
            for sample in task_samples:
                doc_instances = per_doc[sample.data["doc_id"]]
                values = task.process_results(
                    doc_instances[0].doc, [i.filtered_resps[filter_key] for i in doc_instances])
                sample.scores = {k: float(v) for k, v in values.items()
                                 if isinstance(v, (int, float, bool))}
                if baselines is not None:
                    sample.scores.update(baselines(doc_instances[0].doc))
