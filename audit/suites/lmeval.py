"""Suites that are plain lm-eval YAML tasks.

Requests are built by lm-eval's own `Task.build_all_requests` and scored by its own filters
and `process_results`, exactly as `lm_eval.simple_evaluate` does; only execution (batched,
cached, resumable) and uncertainty reporting are fm-audit's. Tasks named in the spec are looked
up in the suite folder first, then among lm-eval's bundled task definitions.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from pathlib import Path
from typing import Any

from jinja2 import UndefinedError
from lm_eval.api.instance import Instance
from lm_eval.api.task import Task

from audit.errors import DatasetError, SuiteError
from audit.suites.base import Request, Sample, Suite, SuiteContext
from audit.suites.spec import SPEC_FILE

log = logging.getLogger(__name__)


def _as_response(kind: str, response: Any) -> Any:
    """JSON round-trips a loglikelihood pair as a list; lm-eval filters expect a tuple."""
    return tuple(response) if kind == "loglikelihood" else response


class LmEvalSuite(Suite):
    """A suite whose `tasks` are lm-eval task names (YAML in the suite folder, or bundled)."""

    _tasks: dict[str, Task] | None = None

    def resolve_data_path(self, path: str) -> str:
        """A `data_files` entry as an absolute path: relative ones are under the suite folder."""
        candidate = Path(path)
        return path if candidate.is_absolute() else str(self.spec.directory / candidate)

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
        bundled = [name for name in wanted if isinstance(name, str)]
        manager = TaskManager(include_defaults=bool(bundled))
        unknown = [name for name in bundled if name not in manager.all_tasks]
        if unknown:
            raise SuiteError(f"suite {self.name}: unknown lm-eval task(s) {unknown}",
                             fix=f"check `tasks:` in {self.spec.directory}/{SPEC_FILE} and the "
                                 "task YAML files beside it.")
        try:
            self._tasks = dict(manager.load(wanted)["tasks"])
        except (StopIteration, ValueError, KeyError, OSError, TypeError, UndefinedError) as exc:
            raise DatasetError(
                f"suite {self.name}: the data of task(s) {', '.join(self.spec.tasks)} could not "
                f"be loaded ({type(exc).__name__}: {exc}); an empty or unreadable dataset "
                "cannot be audited",
                fix=f"check the data files named in the task YAML in {self.spec.directory}.",
            ) from exc
        return self._tasks

    def build_samples(self, context: SuiteContext) -> list[Sample]:
        lm = context.model.lm if context.model is not None else None
        chat = context.chat_enabled(default=False)
        samples: list[Sample] = []
        for task_name, task in self.load_tasks().items():
            if context.num_fewshot is not None:
                task.set_config(key="num_fewshot", value=context.num_fewshot)
            try:
                task.build_all_requests(
                    limit=context.limit, rank=0, world_size=1, apply_chat_template=chat,
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
            for doc_id, instances in sorted(by_doc.items()):
                instances.sort(key=lambda inst: inst.idx)
                doc = instances[0].doc
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
