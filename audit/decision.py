"""The `decision` profile: draw a suite's items chunk by chunk until its headline is precise.

A suite's items are read in its decision order (`audit.suites.selection.proportional_order`:
a uniformly random order of the whole set in which each stratum, a task, a language, a
source, fills in proportion to its size on average), `CHUNK` more at a time. After each chunk
the run computes the confidence sequence (`audit.sequential`, sampling without replacement
from the whole set) of each sequentially controlled metric and stops once every one has a
half-width at most the run's `--precision`, or when the suite's decision maximum is reached.

Every suite declares that maximum as `decision: {limit: N}` under `profiles:` in its
suite.yaml (`require_decision_maxima` refuses a run of a suite without one), so that no suite
runs its whole set unless the author chose so.

Controlled metrics are the suite's headline metrics (`headline: true`), or its
`correct_metric` where it declares no headline, that are per-item scores in [0, 1] (unit
`proportion`) of every item and whose reported overall value is the mean of those scores (the
quantity the sequence covers). A suite without such a metric is *not sequentially
controlled*: it runs the first `limit` items of the same order and says why.

Within a chunk, items enter the sequence in the order of sha256("<seed>:<chunk>:<sample
id>"), a random order fixed before any answer is seen, so the sequence is the order of a
random draw without replacement. A resumed run replays the answers from its request cache
and so takes the same items, in the same order, to the same stop.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from audit.errors import SuiteError
from audit.execution import ExecutionStats
from audit.metrics import MetricResult
from audit.sequential import ALPHA, METHOD, Bound, bound, precise
from audit.suites.base import Sample, Suite, SuiteContext

DECISION = "decision"
CHUNK = 32
RULE = ("read the decision order {chunk} items at a time; stop after the first chunk where "
        "every controlled metric's 95% confidence sequence has half-width <= {precision}, "
        "or when the suite's decision maximum of {maximum} items is reached")
ORDER = ("a uniformly random order of the whole set: each next item's stratum drawn in "
         "proportion to its items left, then that stratum's seeded order; within a chunk, "
         "sha256('<seed>:<chunk>:<id>')")


@dataclass
class SequentialDraw:
    """What a decision-profile suite ran: its scored samples, what the model did, and the
    record of the stopping rule for results.json."""

    samples: list[Sample]
    stats: ExecutionStats
    record: dict[str, Any]
    bounds: dict[str, Bound] = field(default_factory=dict)


def sequential_targets(suite: Suite) -> list[str]:
    """The metrics the decision profile controls, if per-item scores in [0, 1]: the declared
    headline metrics, else the suite's correct_metric."""
    metrics = suite.spec.metrics
    named = [name for name, spec in metrics.items() if spec.headline]
    if not named and suite.spec.correct_metric in metrics:
        named = [suite.spec.correct_metric]
    return [name for name in named if metrics[name].unit == "proportion"]


def uncontrolled_reason(suite: Suite, samples: list[Sample]) -> str | None:
    """Why the suite's metrics cannot be controlled sequentially, or None when they can:
    each controlled metric must score every item in [0, 1] and be reported as their mean."""
    targets = sequential_targets(suite)
    if not targets:
        return "no headline metric that is a per-item proportion"
    if not samples:
        return "no items to run (see `skipped`)"
    for metric in targets:
        values = [s.scores.get(metric) for s in samples]
        if any(v is None or not 0 <= v <= 1 for v in values):
            return f"{metric} is not a score in [0, 1] of every item"
    overall = {m.metric: m.value for m in suite.metrics(samples) if not m.group}
    for metric in targets:
        mean = sum(s.scores[metric] for s in samples) / len(samples)
        if metric not in overall or not math.isclose(overall[metric], mean, abs_tol=1e-12):
            return f"the reported {metric} is not the mean of its items' scores"
    return None


def decision_maximum(suite: Suite) -> int:
    """Most items the suite's decision run may use: the `limit` of its `decision` profile."""
    profile = suite.spec.profiles.get(DECISION)
    if profile is None or profile.limit is None:
        raise SuiteError(
            f"suite {suite.name} declares no decision maximum",
            fix="add `decision: {limit: N}` under `profiles:` in its suite.yaml (the most "
                "items a decision run of it may use), or run it with another --profile.")
    return profile.limit


def require_decision_maxima(suites: list[Suite]) -> None:
    """Refuse, before anything runs, a decision run of a suite without a declared maximum."""
    for suite in suites:
        decision_maximum(suite)


def chunk_order(ids: list[str], seed: int, chunk: int) -> list[str]:
    """The order in which the new items of chunk number `chunk` (from 1) enter the sequence:
    by sha256("<seed>:<chunk>:<id>"), random and fixed before any answer is seen."""
    return sorted(ids, key=lambda i: hashlib.sha256(f"{seed}:{chunk}:{i}".encode()).hexdigest())


def draw_until_precise(suite: Suite, context: SuiteContext, precision: float,
                       run: Callable[[list[Sample]], ExecutionStats]) -> SequentialDraw:
    """Run `suite` under the decision profile (see the module's docstring); `run` fills the
    samples' responses and says what the model did."""
    stats = ExecutionStats()
    sequence: list[Sample] = []
    declared = decision_maximum(suite)
    chunk = 0
    while True:
        chunk += 1
        samples = suite.build_samples(
            replace(context, sequential_limit=min(chunk * CHUNK, declared)))
        _add_stats(stats, run(samples))
        suite.score(samples)
        available = suite.selection()["items_available"]
        maximum = min(declared, available)
        reason = uncontrolled_reason(suite, samples)
        if reason is not None:
            return _uncontrolled(suite, context, run, stats, reason, maximum)
        seen = {s.id for s in sequence}
        by_id = {s.id: s for s in samples}
        new = chunk_order([i for i in by_id if i not in seen], context.seed, chunk)
        sequence += [by_id[i] for i in new]
        bounds = {m: bound([s.scores[m] for s in sequence], available)
                  for m in sequential_targets(suite)}
        reached = all(precise(b, precision) for b in bounds.values())
        if reached or len(sequence) >= maximum or not new:
            break
    exhausted = len(sequence) >= available
    record = {
        "controlled": True, "rule": RULE.format(chunk=CHUNK, precision=precision,
                                                maximum=maximum),
        "method": METHOD, "alpha": ALPHA, "precision": precision, "chunk": CHUNK,
        "order": ORDER, "items_used": len(sequence), "items_available": available,
        "maximum": maximum, "reached": reached, "exhausted": exhausted,
        "stopped_by": ("precision" if reached else
                       "every item" if exhausted else "decision maximum"),
        "half_width": {m: b.half_width for m, b in bounds.items()},
        "group_intervals": "per-group intervals are fixed-n ones and do not account for the "
                           "stopping",
        "sequence": [s.id for s in sequence],
    }
    return SequentialDraw(samples, stats, record, bounds)


def _uncontrolled(suite: Suite, context: SuiteContext,
                  run: Callable[[list[Sample]], ExecutionStats], stats: ExecutionStats,
                  reason: str, maximum: int) -> SequentialDraw:
    """A suite the profile cannot control: the first `maximum` items of the decision order
    (the items drawn so far are among them)."""
    samples = suite.build_samples(replace(context, sequential_limit=maximum))
    _add_stats(stats, run(samples))
    suite.score(samples)
    available = suite.selection()["items_available"]
    return SequentialDraw(samples, stats, {
        "controlled": False, "reason": f"not sequentially controlled: {reason}",
        "rule": f"the first {maximum} items of the decision order (the suite's decision "
                f"maximum; {available} available), with fixed-n intervals",
        "order": ORDER, "items_used": len(samples), "items_available": available,
        "maximum": maximum})


def _add_stats(total: ExecutionStats, chunk: ExecutionStats) -> None:
    """Fold one pass into the suite's totals: requests and tokens of the last pass (it holds
    every item so far), executed and reused answers summed over passes."""
    total.n_requests, total.n_tokens = chunk.n_requests, chunk.n_tokens
    total.n_executed += chunk.n_executed
    total.n_from_store += chunk.n_from_store


def rescored_draw(record: dict[str, Any] | None, samples: list[Sample]
                  ) -> SequentialDraw | None:
    """A decision run's draw with its sequences recomputed from the samples' current scores
    (after `fm-audit rescore`), or None for a suite that was not controlled. The stop stays
    where the run made it: it depended on the items drawn, not on how they are scored, so
    the sequence of the new scores is as valid there."""
    if not record or not record.get("controlled"):
        return None
    by_id = {s.id: s for s in samples}
    sequence = [by_id[i] for i in record["sequence"]]
    bounds = {m: bound([s.scores[m] for s in sequence], record["items_available"])
              for m in record["half_width"]}
    updated = dict(record, half_width={m: b.half_width for m, b in bounds.items()})
    return SequentialDraw(samples, ExecutionStats(), updated, bounds)


def with_sequence_intervals(metrics: list[MetricResult], draw: SequentialDraw
                            ) -> list[MetricResult]:
    """The suite's metrics with each controlled metric's overall interval replaced by its
    confidence sequence, which stays valid under the stopping; a suite that used every item
    keeps its fixed-n intervals (it ran as the standard profile does, and a sequence over
    every item is the set's mean itself, a point)."""
    population = draw.record["items_available"]
    if not draw.bounds or draw.record["items_used"] >= population:
        return metrics
    method = (f"95% confidence sequence for the mean over all {population} items (valid at "
              f"the stopping time): {METHOD}")
    return [replace(m, ci_low=draw.bounds[m.metric].low, ci_high=draw.bounds[m.metric].high,
                    ci_method=method)
            if m.metric in draw.bounds and not m.group else m
            for m in metrics]
