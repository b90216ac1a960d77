"""The decision profile's fixed design (audit/decision.py, `draw_fixed`): n planned before any
answer, the first n items of the decision order in one pass, the exact interval of the set's
mean; replayed on stored SmolLM2 outcomes over many seeds (no model)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from audit.decision import (
    CHUNK,
    DECISION,
    FIXED,
    SEQUENCE_AT_N,
    chunk_order,
    decision_maximum,
    draw_decision,
    rescored_draw,
    with_decision_intervals,
)
from audit.execution import ExecutionStats
from audit.finite_population import (
    METHOD,
    exact_interval,
    planned_items,
    set_success_bounds,
)
from audit.runfolder.models import Sequential
from audit.sequential import ALPHA, bound, bounds
from audit.suites.base import Sample, SuiteContext
from audit.suites.discovery import select
from audit.suites.selection import proportional_order
from tests.decision_doubles import METRIC, OutcomeSuite

OUTCOMES = Path(__file__).parent / "data" / "outcomes"
README = Path(__file__).parent.parent / "README.md"
SEEDS = 1000
PRECISION = 0.05
MISS_LIMIT = ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / SEEDS)


def _stratum(stratified: bool):
    return (lambda item: item.split("/")[0]) if stratified else None


def _first_of_order(ids: list[str], stratified: bool, seed: int, n: int) -> list[str]:
    """The first n items of the decision order of `ids` for `seed`."""
    order = proportional_order(ids, seed, _stratum(stratified))
    return [ids[index] for _, index in list(order)[:n]]


@pytest.mark.parametrize("name", ["crows_pairs", "openbookqa"])
def test_replayed_fixed_draws_cover_the_full_set_value(name: str) -> None:
    """For 1,000 seeds, the first n items of the real decision order of the stored outcomes
    (CrowS-Pairs: 1,018 pairs; OpenBookQA: 500 items), n planned at +-5 points: the exact
    interval covers the full-set mean at least 95% of the time (up to simulation error), and
    every interval's half-width is at most 0.05."""
    stored = json.loads((OUTCOMES / f"{name}.json").read_text())
    ids = stored["ids"]
    outcomes = dict(zip(ids, (int(c) for c in stored["outcomes"]), strict=True))
    stratified = stored["selection"]["strata"] is not None
    population = len(ids)
    planned = planned_items(population, PRECISION)
    assert planned is not None and planned < population
    successes = np.array([sum(outcomes[i] for i in _first_of_order(ids, stratified, seed,
                                                                   planned))
                          for seed in range(SEEDS)])
    low, high = set_success_bounds(successes, np.full(SEEDS, planned), population)
    truth = sum(outcomes.values())
    missed = (truth < low) | (truth > high)
    assert missed.mean() <= MISS_LIMIT, missed.mean()
    assert ((high - low) / (2 * population) <= PRECISION).all()


class PassRecorder:
    """The `run` a decision draw calls, as a test double: records the ids of each pass (the
    suite's items have no model requests) and reports no work."""

    def __init__(self) -> None:
        self.passes: list[list[str]] = []

    def __call__(self, samples: list[Sample]) -> ExecutionStats:
        self.passes.append([s.id for s in samples])
        return ExecutionStats()


def _draw(suite: OutcomeSuite, seed: int, precision: float = PRECISION
          ) -> tuple[object, PassRecorder]:
    recorder = PassRecorder()
    context = SuiteContext(model=None, profile=DECISION, seed=seed)
    return draw_decision(suite, context, precision, FIXED, recorder), recorder


def _stratified_outcomes() -> dict[str, float]:
    return {f"{name}/{k}": float(k % period == 0)
            for name, size, period in (("a", 300, 2), ("b", 500, 3), ("c", 200, 1))
            for k in range(size)}


def test_the_run_path_takes_exactly_the_first_n_items_of_the_order_in_one_pass() -> None:
    outcomes = _stratified_outcomes()
    ids = list(outcomes)
    suite = OutcomeSuite(outcomes, stratified=True, maximum=800)
    draw, recorder = _draw(suite, seed=7)
    planned = planned_items(len(ids), PRECISION)
    first = _first_of_order(ids, True, 7, planned)
    assert len(recorder.passes) == 1 and sorted(recorder.passes[0]) == sorted(first)
    record = draw.record
    assert record["design"] == FIXED and record["controlled"]
    assert record["planned"] == planned == record["items_used"] == len(draw.samples)
    assert record["items_available"] == len(ids) and record["maximum"] == 800
    assert record["stopped_by"] == "planned n" and record["reached"]
    assert not record["exhausted"]
    assert record["sequence"] == chunk_order(first, 7, 1)
    expected = exact_interval(int(sum(outcomes[i] for i in first)), planned, len(ids))
    assert draw.bounds[METRIC] == expected
    assert record["half_width"] == {METRIC: round(expected.half_width, 12)}
    assert record["half_width"][METRIC] <= PRECISION
    assert record["interval_method"] == {METRIC: METHOD}
    Sequential.model_validate(record)  # the typed results.json record accepts it

    # A resumed run plans again from the set's size and the seed: the same items and record.
    again, _ = _draw(suite, seed=7)
    assert again.record == record and again.bounds == draw.bounds
    # Another seed draws another sample of the same size.
    other, _ = _draw(suite, seed=8)
    assert other.record["items_used"] == planned and other.record["sequence"] != record[
        "sequence"]


def test_the_reported_interval_is_the_exact_one_over_the_whole_set() -> None:
    outcomes = _stratified_outcomes()
    draw, _ = _draw(OutcomeSuite(outcomes, stratified=True, maximum=800), seed=3)
    overall, *groups = with_decision_intervals(
        OutcomeSuite(outcomes, True, 800).metrics(draw.samples), draw)
    interval = draw.bounds[METRIC]
    assert (overall.ci_low, overall.ci_high) == (interval.low, interval.high)
    assert overall.ci_method.startswith(
        f"95% interval for the mean over all 1000 items, {interval.n} drawn without "
        "replacement: exact hypergeometric")


def test_a_maximum_below_the_plan_caps_the_draw_and_says_the_target_was_not_reached(
        ) -> None:
    outcomes = {f"x/{k}": float(k % 2) for k in range(2000)}
    draw, recorder = _draw(OutcomeSuite(outcomes, stratified=False, maximum=100), seed=1)
    record = draw.record
    assert [len(p) for p in recorder.passes] == [100]
    assert record["planned"] is None and record["items_used"] == 100
    assert record["stopped_by"] == "decision maximum" and not record["reached"]
    assert record["half_width"][METRIC] > PRECISION


def test_a_small_set_runs_every_item() -> None:
    outcomes = {f"x/{k}": float(k % 3 == 0) for k in range(9)}
    draw, _ = _draw(OutcomeSuite(outcomes, stratified=False, maximum=50), seed=1)
    assert draw.record["planned"] == 9 == draw.record["items_used"]
    assert draw.record["stopped_by"] == "every item" and draw.record["exhausted"]
    assert draw.record["half_width"][METRIC] == 0


def test_scores_other_than_0_and_1_get_the_confidence_sequence_at_n_and_may_miss() -> None:
    """A metric with scores in (0, 1): the exact interval does not apply, so the draw reports
    the confidence sequence at the planned n (wider) and says the target was not reached:
    scores 0, 1/2 and 1 in equal shares give it a half-width of about 0.066 at n = 354."""
    outcomes = {f"x/{k}": (k % 3) / 2 for k in range(3000)}
    draw, _ = _draw(OutcomeSuite(outcomes, stratified=False, maximum=3000), seed=2)
    record = draw.record
    order = [outcomes[i] for i in record["sequence"]]
    assert draw.bounds[METRIC] == bound(order, 3000)
    assert record["interval_method"] == {METRIC: SEQUENCE_AT_N}
    assert record["items_used"] == planned_items(3000, PRECISION)
    assert record["half_width"][METRIC] > PRECISION and not record["reached"]
    assert record["stopped_by"] == "planned n"


def test_rescoring_recomputes_the_exact_interval_on_the_same_items() -> None:
    outcomes = _stratified_outcomes()
    draw, _ = _draw(OutcomeSuite(outcomes, stratified=True, maximum=800), seed=5)
    flipped = [Sample(id=s.id, requests=[], scores={METRIC: 1 - s.scores[METRIC]})
               for s in draw.samples]
    rescored = rescored_draw(draw.record, flipped)
    assert rescored is not None
    successes = sum(s.scores[METRIC] for s in flipped)
    expected = exact_interval(int(successes), len(flipped), len(outcomes))
    assert rescored.bounds[METRIC] == expected != draw.bounds[METRIC]
    assert rescored.record["half_width"] == {METRIC: round(expected.half_width, 12)}
    assert rescored.record["sequence"] == draw.record["sequence"]
    # Scores that are no longer 0/1 switch that metric to the sequence at n.
    halves = [Sample(id=s.id, requests=[], scores={METRIC: 0.5}) for s in draw.samples]
    assert rescored_draw(draw.record, halves).record["interval_method"] == {
        METRIC: SEQUENCE_AT_N}


def _sequential_stops(population: int, share: float, orders: int) -> np.ndarray:
    """Where the sequential design (chunks of 32, half-width 0.05) stops on `orders` random
    orders of a set of `population` 0/1 items with the given share of ones."""
    rng = np.random.default_rng(0)
    ones = round(share * population)
    base = np.array([1.0] * ones + [0.0] * (population - ones))
    draws = np.stack([rng.permutation(base) for _ in range(orders)])
    stop = np.full(orders, population)
    active = np.ones(orders, dtype=bool)
    for end in range(CHUNK, population, CHUNK):
        low, high = bounds(draws[active, :end], population)
        rows = np.flatnonzero(active)
        done = (high - low) / 2 <= PRECISION
        stop[rows[done]] = end
        active[rows[done]] = False
        if not active.any():
            break
    return stop


def test_the_sequential_design_needs_fewer_items_only_far_from_one_half() -> None:
    """On a set of 1,000 items (20 random orders per share), the sequential design stops
    after 96 to 192 items at a share of 0.05, every time before the fixed design's 285, and
    after more than 285 at shares of 0.3 and 0.5 (448 to 768, 704 to 768)."""
    fixed = planned_items(1000, PRECISION)
    assert fixed == 285
    assert _sequential_stops(1000, 0.05, 20).max() < fixed
    for share in (0.3, 0.5):
        assert _sequential_stops(1000, share, 20).min() > fixed


def test_the_readme_table_of_planned_items_is_the_codes() -> None:
    """Each row of README's table of the fixed design's n at +-5 points: the suite's declared
    maximum, and `planned_items` of its N capped by that maximum."""
    text = README.read_text(encoding="utf-8")
    table = text[text.index("| suite | N | decision maximum | fixed n |"):].split("\n\n")[0]
    rows = [line.split("|")[1:5] for line in table.splitlines()[2:]]
    assert len(rows) >= 10
    for name, size, maximum, planned in rows:
        suite, = select([name.strip().strip("`")])
        population, declared = (int(cell.replace(",", "")) for cell in (size, maximum))
        assert decision_maximum(suite) == declared, name
        assert planned_items(population, PRECISION, declared) == int(planned), name
