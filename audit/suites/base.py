"""The suite contract: a suite turns items into LM requests, then responses into scores.

A suite never calls the model itself. It returns `Sample`s whose `requests` the runner executes
in batches (across all samples of the suite), and it scores samples from their stored
responses. Because scoring reads only what `samples.jsonl` keeps, a run can be rescored
without the model.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TypeVar

from audit.metrics import MetricResult
from audit.models.base import LoadedModel
from audit.stats import Estimate, estimate_mean
from audit.suites.profile import ItemBudget, resolve_budget
from audit.suites.selection import select
from audit.suites.spec import SuiteSpec

RequestKind = Literal["loglikelihood", "loglikelihood_rolling", "generate_until"]
Item = TypeVar("Item")


@dataclass
class Request:
    """One call to the LM: its kind and its lm-eval arguments."""

    kind: RequestKind
    args: tuple[Any, ...]

    def key(self) -> str:
        """Canonical text of the request, the key of the request cache."""
        return json.dumps([self.kind, list(self.args)], sort_keys=True, ensure_ascii=False)


@dataclass
class Sample:
    """One scored unit of a suite (an item), with its requests, responses and scores."""

    id: str
    requests: list[Request]
    group: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    responses: list[Any] | None = None
    scores: dict[str, float] = field(default_factory=dict)

    def to_dict(self, suite: str) -> dict[str, Any]:
        record = asdict(self)
        record["suite"] = suite
        record["requests"] = [{"kind": r.kind, "args": list(r.args)} for r in self.requests]
        return record

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> Sample:
        requests = [Request(r["kind"], tuple(r["args"])) for r in record["requests"]]
        return cls(id=record["id"], requests=requests, group=record.get("group", {}),
                   data=record.get("data", {}), responses=record.get("responses"),
                   scores=record.get("scores", {}))


@dataclass
class SuiteContext:
    """What a suite may know about the run when it builds its samples; `limit` is the run's
    `--limit` (the profile's counts are resolved by `Suite.budget`)."""

    model: LoadedModel | None
    limit: int | None = None
    profile: str = "quick"
    seed: int = 1234
    use_chat_template: bool | None = None
    num_fewshot: int | None = None
    #: Items the decision profile has drawn so far (None: the profile's counts).
    sequential_limit: int | None = None

    def chat_enabled(self, default: bool) -> bool:
        """Whether to apply the chat template: the user's choice, else the suite's default,
        and never for a model without one."""
        wanted = default if self.use_chat_template is None else self.use_chat_template
        return bool(wanted and self.model is not None and self.model.provenance.chat_template)

    def format_chat(self, user_message: str) -> str:
        """The prompt for one user turn; generation suites use the chat template by default."""
        if self.chat_enabled(default=True):
            return self.model.lm.apply_chat_template(  # type: ignore[union-attr]
                [{"role": "user", "content": user_message}], add_generation_prompt=True)
        return user_message


def grouped(metric: str, samples: list[Sample], dimensions: list[str],
            estimate: Callable[[list[Sample]], Estimate]) -> list[MetricResult]:
    """`estimate` over all samples, then over the samples of each value of each group dimension.

    One place for the overall-plus-per-group breakdown, so every metric, simple mean or derived
    statistic, is reported for the same groups in the same order.
    """
    results = [MetricResult.from_estimate(metric, estimate(samples))]
    for dimension in dimensions:
        for value in sorted({s.group.get(dimension) for s in samples} - {None}):
            members = [s for s in samples if s.group.get(dimension) == value]
            results.append(MetricResult.from_estimate(metric, estimate(members),
                                                      {dimension: value}))
    return results


class Suite(ABC):
    """A runnable suite. Subclasses build samples and score them."""

    def __init__(self, spec: SuiteSpec) -> None:
        self.spec = spec
        self._selection: dict[str, Any] = {}

    @property
    def name(self) -> str:
        return self.spec.name

    @abstractmethod
    def build_samples(self, context: SuiteContext) -> list[Sample]:
        """The suite's samples with their LM requests (no responses yet)."""

    def generation_length(self, context: SuiteContext, default: int) -> int:
        """Most new tokens per generated answer: `max_gen_toks` of the run's profile in
        suite.yaml, else `default`, so a quick profile can answer shorter than a standard one."""
        profile = self.spec.profiles.get(context.profile)
        value = profile.max_gen_toks if profile is not None else None
        return value if value is not None else default

    def budget(self, context: SuiteContext) -> ItemBudget:
        """How many items this run draws from the suite: `--limit`, else the decision
        profile's items drawn so far, else the profile's counts."""
        if context.limit is None and context.sequential_limit is not None:
            return ItemBudget(context.profile, context.seed, "sequential",
                              limit=context.sequential_limit)
        return resolve_budget(self.spec.profiles, context.profile, context.limit, context.seed)

    def choose(self, items: Sequence[Item], context: SuiteContext,
               stratum: Callable[[Item], str] | None = None, strata: str | None = None,
               unit: Callable[[Item], str] | None = None, in_file_order: bool = True
               ) -> list[Item]:
        """The run's items (`audit.suites.selection.select`), recorded for results.json;
        `strata` names what `stratum` returns (e.g. "task")."""
        budget = self.budget(context)
        chosen = select(items, budget, stratum, unit, in_file_order)
        sequential = budget.origin == "sequential"
        order = ("units ranked by sha256('<seed>:<unit>')" if unit is not None and not sequential
                 else "seeded draw without replacement, random.Random(<seed>" +
                 ("/<stratum>)" if stratum is not None else ")"))
        if stratum is not None and sequential:
            order += (f" within each of the {strata or 'strata'}; each next item's stratum "
                      "drawn by random.Random(<seed>/strata) in proportion to its items left "
                      "(a uniformly random order of the whole set)")
        elif stratum is not None:
            order += f", round-robin over {strata or 'strata'} in sorted order"
        self._selection = budget.record(len(items), len(chosen), order, strata)
        return chosen

    @abstractmethod
    def score(self, samples: list[Sample]) -> None:
        """Fill `sample.scores` from `sample.responses` for every sample."""

    def metrics(self, samples: list[Sample]) -> list[MetricResult]:
        """Mean of each declared per-sample score, overall and per group; override for more."""
        results: list[MetricResult] = []
        for metric, spec in self.spec.metrics.items():
            scored = [s for s in samples if metric in s.scores]
            if not scored:
                continue
            bounded = spec.unit == "proportion"
            results.extend(grouped(
                metric, scored, self.spec.group_by,
                lambda members, metric=metric, bounded=bounded: estimate_mean(
                    [s.scores[metric] for s in members], unit_interval=bounded)))
        return results

    def statistic(self, metric: str, group: dict[str, str], samples: list[Sample]
                  ) -> float | None:
        """Point value (no CI) of a metric that is not a mean of per-item scores (a ratio, a
        bias score), for `group`, recomputed from scored `samples` (all groups, possibly
        resampled with repeats). Comparisons bootstrap it over the items two runs share; None
        (the default) means "not available", and such metrics are then compared unpaired."""
        return None

    def skipped(self) -> list[dict[str, str]]:
        """Parts of the suite that could not run, each with its reason (reported, never hidden)."""
        return []

    def selection(self) -> dict[str, Any]:
        """How the items run were chosen from the data (see `choose`), for results.json."""
        return dict(self._selection)

    def data_sources(self) -> list[dict[str, Any]]:
        """Provenance of the data the suite uses (source, version, sha256, licence, citation),
        for run.json and results.json; suites reading other pack files add theirs."""
        return [source.provenance() for source in self.spec.data]
