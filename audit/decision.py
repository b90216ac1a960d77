"""The `decision` profile: a suite's headline made precise to `--precision` on a random sample.

A suite's items are read in its decision order (`audit.suites.selection.proportional_order`:
a uniformly random order of the whole set in which each stratum, a task, a language, a
source, fills in proportion to its size on average), so its first n items are a simple
random sample of n without replacement. Two designs (`--design`):

- `fixed` (the default): n is fixed before any answer is seen, as the smallest n whose exact
  95% interval for the set's mean has half-width at most `--precision` whatever the outcome
  (`audit.finite_population.planned_items`), capped by the suite's decision maximum. The
  first n items run in one pass. A controlled metric whose scores are all 0 or 1 gets the
  exact hypergeometric interval; one with other scores gets the confidence sequence of
  `audit.sequential` at n (valid at any fixed n, wider), which may miss the target.
- `sequential`: the items are read `CHUNK` more at a time; after each chunk the run computes
  the confidence sequence (`audit.sequential`) of each controlled metric and stops once every
  one has a half-width at most `--precision`, or when the decision maximum is reached. It
  stops earlier than the fixed design when a mean is far from 0.5, and needs more items near
  it.

Every suite declares its maximum as `decision: {limit: N}` under `profiles:` in its
suite.yaml (`require_decision_maxima` refuses a run of a suite without one), so that no suite
runs its whole set unless the author chose so.

Controlled metrics are the suite's headline metrics (`headline: true`), or its
`correct_metric` where it declares no headline, that are per-item scores in [0, 1] (unit
`proportion`) of every item and whose reported overall value is the mean of those scores (the
quantity the intervals cover). A suite without such a metric is *not controlled*: it runs
the first `limit` items of the same order and says why.

The items enter a confidence sequence in the order of sha256("<seed>:<chunk>:<sample id>")
within each chunk (the fixed design's n items form chunk 1), a random order fixed before any
answer is seen, so the sequence is the order of a random draw without replacement. A resumed
run replays the answers from its request cache and so takes the same items, in the same
order, to the same stop.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from audit import finite_population
from audit.errors import SuiteError
from audit.execution import ExecutionStats
from audit.finite_population import exact_interval, planned_items
from audit.metrics import MetricResult
from audit.sequential import ALPHA, METHOD, Bound, bound, precise
from audit.suites.base import Sample, Suite, SuiteContext

DECISION = "decision"
FIXED, SEQUENTIAL = "fixed", "sequential"
CHUNK = 32
FIXED_RULE = ("fix n before any answer: the smallest n whose exact 95% interval for the set's "
              "mean has half-width <= {precision} whatever the outcome (n = {planned} of "
              "{available}), capped by the suite's decision maximum of {maximum} items; run "
              "the first n items of the decision order in one pass")
SEQUENCE_AT_N = ("not every score is 0 or 1, so the exact interval does not apply: the " +
                 METHOD + ", evaluated once at the fixed n (valid at any fixed n; wider than "
                 "a fixed-n interval)")
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


def draw_decision(suite: Suite, context: SuiteContext, precision: float, design: str,
                  run: Callable[[list[Sample]], ExecutionStats]) -> SequentialDraw:
    """Run `suite` under the decision profile with `design` (`fixed` or `sequential`, see the
    module's docstring); `run` fills the samples' responses and says what the model did."""
    if design == FIXED:
        return draw_fixed(suite, context, precision, run)
    if design == SEQUENTIAL:
        return draw_until_precise(suite, context, precision, run)
    raise ValueError(f"unknown decision design {design!r}: use {FIXED} or {SEQUENTIAL}")


def draw_fixed(suite: Suite, context: SuiteContext, precision: float,
               run: Callable[[list[Sample]], ExecutionStats]) -> SequentialDraw:
    """The fixed design: the first n items of the decision order, n planned from the set's
    size before any answer is seen, in one pass (see the module's docstring)."""
    suite.build_samples(replace(context, sequential_limit=1))  # learns the set's size
    available = suite.selection()["items_available"]
    maximum = min(decision_maximum(suite), available)
    if not sequential_targets(suite) or not available:
        return _uncontrolled(suite, context, run, ExecutionStats(), FIXED,
                             uncontrolled_reason(suite, []) or "", maximum)
    planned = planned_items(available, precision, maximum)
    samples = suite.build_samples(replace(context, sequential_limit=planned or maximum))
    stats = run(samples)
    suite.score(samples)
    reason = uncontrolled_reason(suite, samples)
    if reason is not None:
        return _uncontrolled(suite, context, run, stats, FIXED, reason, maximum)
    by_id = {s.id: s for s in samples}
    sequence = [by_id[i] for i in chunk_order(list(by_id), context.seed, 1)]
    bounds, methods = fixed_bounds(sequence, sequential_targets(suite), available)
    exhausted = len(sequence) >= available
    record = {
        "design": FIXED, "controlled": True,
        "rule": FIXED_RULE.format(precision=precision, available=available, maximum=maximum,
                                  planned=planned or "none within the maximum"),
        "method": finite_population.METHOD, "interval_method": methods, "alpha": ALPHA,
        "precision": precision, "order": ORDER, "planned": planned,
        "items_used": len(sequence), "items_available": available, "maximum": maximum,
        "reached": all(precise(b, precision) for b in bounds.values()),
        "exhausted": exhausted,
        "stopped_by": ("every item" if exhausted else
                       "planned n" if planned is not None else "decision maximum"),
        "half_width": _half_widths(bounds),
        "group_intervals": "per-group intervals are the standard profile's fixed-n ones",
        "sequence": [s.id for s in sequence],
    }
    return SequentialDraw(samples, stats, record, bounds)


def _half_widths(bounds: dict[str, Bound]) -> dict[str, float]:
    """The fixed design's half-widths for results.json, rounded to 12 decimals: the exact
    interval's ends are whole counts over N, and ends of 212 and 262 of 500 give
    (0.524 - 0.424) / 2 = 0.05000000000000002 in floating point, which would read as a
    missed target of 0.05."""
    return {m: round(b.half_width, 12) for m, b in bounds.items()}


def fixed_bounds(sequence: list[Sample], metrics: list[str], population: int
                 ) -> tuple[dict[str, Bound], dict[str, str]]:
    """Each metric's interval for the set's mean after the fixed design's `sequence`, and its
    method: the exact hypergeometric interval where every score is 0 or 1, else the
    confidence sequence at this n (the scores in `sequence` order)."""
    bounds: dict[str, Bound] = {}
    methods: dict[str, str] = {}
    for metric in metrics:
        values = [s.scores[metric] for s in sequence]
        if all(v in (0, 1) for v in values):
            bounds[metric] = exact_interval(int(sum(values)), len(values), population)
            methods[metric] = finite_population.METHOD
        else:
            bounds[metric] = bound(values, population)
            methods[metric] = SEQUENCE_AT_N
    return bounds, methods


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
            return _uncontrolled(suite, context, run, stats, SEQUENTIAL, reason, maximum)
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
        "design": SEQUENTIAL, "controlled": True,
        "rule": RULE.format(chunk=CHUNK, precision=precision, maximum=maximum),
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
                  design: str, reason: str, maximum: int) -> SequentialDraw:
    """A suite the profile cannot control: the first `maximum` items of the decision order
    (the items drawn so far are among them)."""
    samples = suite.build_samples(replace(context, sequential_limit=maximum))
    _add_stats(stats, run(samples))
    suite.score(samples)
    available = suite.selection()["items_available"]
    return SequentialDraw(samples, stats, {
        "design": design, "controlled": False, "reason": f"not controlled: {reason}",
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
    """A decision run's draw with its intervals recomputed from the samples' current scores
    (after `fm-audit rescore`), or None for a suite that was not controlled. The items stay
    those the run used: the fixed design chose them before any answer, and the sequential
    design's stop depended on the items drawn, not on how they are scored, so the interval
    of the new scores is as valid there. A record without `design` predates the fixed design
    and is a sequential one."""
    if not record or not record.get("controlled"):
        return None
    by_id = {s.id: s for s in samples}
    sequence = [by_id[i] for i in record["sequence"]]
    population = record["items_available"]
    if record.get("design") == FIXED:
        bounds, methods = fixed_bounds(sequence, list(record["half_width"]), population)
        updated = dict(record, interval_method=methods, half_width=_half_widths(bounds),
                       reached=all(precise(b, record["precision"]) for b in bounds.values()))
    else:
        bounds = {m: bound([s.scores[m] for s in sequence], population)
                  for m in record["half_width"]}
        updated = dict(record, half_width={m: b.half_width for m, b in bounds.items()})
    return SequentialDraw(samples, ExecutionStats(), updated, bounds)


def with_decision_intervals(metrics: list[MetricResult], draw: SequentialDraw
                            ) -> list[MetricResult]:
    """The suite's metrics with each controlled metric's overall interval replaced by the
    design's interval for the mean over the whole set: the exact interval (or the confidence
    sequence at n) of the fixed design, the confidence sequence of the sequential design,
    which stays valid under its stopping. A suite that used every item keeps its fixed-n
    intervals (it ran as the standard profile does, and an interval over every item is the
    set's mean itself, a point)."""
    record = draw.record
    population = record["items_available"]
    if not draw.bounds or record["items_used"] >= population:
        return metrics
    if record.get("design") == FIXED:
        methods = {m: f"95% interval for the mean over all {population} items, "
                      f"{record['items_used']} drawn without replacement: {method}"
                   for m, method in record["interval_method"].items()}
    else:
        methods = {m: f"95% confidence sequence for the mean over all {population} items "
                      f"(valid at the stopping time): {METHOD}" for m in draw.bounds}
    return [replace(m, ci_low=draw.bounds[m.metric].low, ci_high=draw.bounds[m.metric].high,
                    ci_method=methods[m.metric])
            if m.metric in draw.bounds and not m.group else m
            for m in metrics]
