"""The decision profile on stratified suites: its order is a uniformly random order of the
whole set (`proportional_order`), so the without-replacement confidence sequence of the whole
set's mean stays valid; every suite declares a decision maximum; a metric reported as
something other than its items' mean is not controlled."""

from __future__ import annotations

import math
from collections import Counter

import jsonschema
import numpy as np
import pytest

from audit.decision import (
    CHUNK,
    decision_maximum,
    require_decision_maxima,
    uncontrolled_reason,
)
from audit.errors import SuiteError
from audit.metrics import MetricResult
from audit.runfolder import load_schema
from audit.sequential import ALPHA
from audit.suites.discovery import available, select
from audit.suites.profile import ItemBudget
from audit.suites.selection import proportional_order, seeded_order
from audit.suites.selection import select as select_items
from tests.decision_doubles import METRIC, OutcomeSuite, replay

SEEDS = 300
MISS_LIMIT = ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / SEEDS)


def _by_prefix(item: str) -> str:
    return item.split("/")[0]


def test_the_order_is_a_permutation_and_one_stratum_keeps_the_seeded_order() -> None:
    items = [f"{name}/{k}" for name in ("b", "a", "c") for k in range(7)]
    order = list(proportional_order(items, 5, _by_prefix))
    assert sorted(index for _, index in order) == list(range(len(items)))
    assert all(_by_prefix(items[index]) == name for name, index in order)
    # A suite with one stratum (every single-task suite, the stored outcomes) keeps its order.
    plain = [str(k) for k in range(40)]
    assert list(proportional_order(plain, 5)) == list(seeded_order(plain, 5))
    single = [f"task/{k}" for k in range(40)]
    assert (list(proportional_order(single, 5, _by_prefix))
            == list(seeded_order(single, 5, _by_prefix)))


def test_the_order_is_uniform_over_the_whole_set_not_round_robin() -> None:
    """Strata of 2 and 6 items: a uniformly random order puts a small-stratum item first with
    probability 2/8 and both small items first with 1/28; round-robin would put one first
    half the time. Over 4,000 seeds each rate stays within 5 standard errors."""
    items = ["a/0", "a/1"] + [f"b/{k}" for k in range(6)]
    runs = 4000
    first, both = 0, 0
    for seed in range(runs):
        order = [items[index] for _, index in proportional_order(items, seed, _by_prefix)]
        first += order[0].startswith("a/")
        both += {order[0], order[1]} == {"a/0", "a/1"}
    for count, p in ((first, 2 / 8), (both, 1 / 28)):
        assert abs(count / runs - p) < 5 * math.sqrt(p * (1 - p) / runs)


def test_the_decision_budget_reads_the_proportional_order() -> None:
    items = ["a/0", "a/1"] + [f"b/{k}" for k in range(30)]
    budget = ItemBudget("decision", 3, "sequential", limit=8)
    drawn = select_items(items, budget, _by_prefix, in_file_order=False)
    assert drawn == [items[i] for _, i in proportional_order(items, 3, _by_prefix)][:8]


def test_the_decision_order_ignores_shared_units() -> None:
    """misuse suites rank every stratum by one hash of an item's unit (a prompt asked in
    several languages); the decision order draws each stratum on its own instead, so the
    translations of a prompt are not drawn together."""
    items = [f"{language}/{k}" for language in ("de", "en", "fr") for k in range(20)]
    budget = ItemBudget("decision", 3, "sequential", limit=30)
    drawn = select_items(items, budget, _by_prefix, unit=lambda item: item.split("/")[1],
                         in_file_order=False)
    assert drawn == [items[i] for _, i in proportional_order(items, 3, _by_prefix)][:30]
    ranks = {language: [item.split("/")[1] for item in drawn if item.startswith(language)]
             for language in ("de", "en", "fr")}
    assert ranks["de"][:3] != ranks["en"][:3]


def _strata_population() -> dict[str, float]:
    """600 items in three strata with far apart means: 100 ones, 300 zeros, 200 half ones.
    The whole set's mean is 200/600 = 1/3; the mean of the stratum means is 1/2."""
    outcomes = {f"ones/{k}": 1.0 for k in range(100)}
    outcomes |= {f"zeros/{k}": 0.0 for k in range(300)}
    outcomes |= {f"half/{k}": float(k % 2) for k in range(200)}
    return outcomes


def test_a_stratified_draw_covers_the_whole_set_mean() -> None:
    """The real draw (`draw_until_precise` on a test-double suite) of a stratified set, for
    300 seeds, stopped at half-width 0.1: the sequence at the stop covers the set's mean at
    least 95% of the time, up to simulation error, and stops before the set runs out.
    Checked to fail when the decision profile read the round-robin order: every stratum
    then counts the same, and its early mean is near 1/2, not 1/3."""
    outcomes = _strata_population()
    truth = sum(outcomes.values()) / len(outcomes)
    suite = OutcomeSuite(outcomes, stratified=True, maximum=len(outcomes))
    missed, stops = 0, []
    for seed in range(SEEDS):
        draw = replay(suite, seed, precision=0.1)
        assert draw.record["controlled"] and draw.record["stopped_by"] == "precision"
        interval = draw.bounds[METRIC]
        missed += not interval.low <= truth <= interval.high
        stops.append(draw.record["items_used"])
    assert missed / SEEDS <= MISS_LIMIT
    assert max(stops) < len(outcomes)


def test_each_chunk_fills_the_strata_in_proportion_on_average() -> None:
    """Over 300 seeds, the first chunk's share of each stratum averages its share of the set
    (1/6, 1/2, 1/3) within 5 standard errors of a hypergeometric count."""
    outcomes = _strata_population()
    suite = OutcomeSuite(outcomes, stratified=True, maximum=CHUNK)
    counts: Counter[str] = Counter()
    for seed in range(SEEDS):
        for item in replay(suite, seed, precision=0.0).record["sequence"]:
            counts[_by_prefix(item)] += 1
    for name, share in (("ones", 1 / 6), ("zeros", 1 / 2), ("half", 1 / 3)):
        n, big = CHUNK * SEEDS, len(outcomes)
        sd = math.sqrt(CHUNK * share * (1 - share) * (big - CHUNK) / (big - 1) * SEEDS)
        assert abs(counts[name] - n * share) < 5 * sd


def test_the_decision_maximum_stops_the_draw_and_says_so() -> None:
    outcomes = {f"x/{k}": float(k % 2) for k in range(400)}
    draw = replay(OutcomeSuite(outcomes, stratified=False, maximum=2 * CHUNK), 1, 0.05)
    assert draw.record["items_used"] == 2 * CHUNK == draw.record["maximum"]
    assert draw.record["stopped_by"] == "decision maximum"
    assert not draw.record["reached"] and not draw.record["exhausted"]
    assert draw.bounds[METRIC].half_width > 0.05


def test_every_suite_declares_a_decision_maximum() -> None:
    """So that no suite, controlled or not, runs its whole set under `decision` by default."""
    suites = select(sorted(available()))
    require_decision_maxima(suites)
    assert all(decision_maximum(suite) > 0 for suite in suites)


def test_a_suite_without_a_decision_maximum_is_refused() -> None:
    suite = OutcomeSuite({"x/0": 1.0}, stratified=False, maximum=1)
    del suite.spec.profiles["decision"]
    with pytest.raises(SuiteError, match="declares no decision maximum") as raised:
        require_decision_maxima([suite])
    assert "decision: {limit: N}" in raised.value.fix


def test_a_metric_reported_as_other_than_the_items_mean_is_not_controlled() -> None:
    """The sequence covers the items' mean; a suite whose overall value is something else (a
    macro average over tasks, say) must not get it as its interval."""
    outcomes = {f"x/{k}": float(k % 3 == 0) for k in range(CHUNK)}
    suite = OutcomeSuite(outcomes, stratified=False, maximum=CHUNK)
    draw = replay(suite, 1, 0.05)
    assert uncontrolled_reason(suite, draw.samples) is None
    mean = float(np.mean(list(outcomes.values())))
    suite.metrics = lambda samples: [  # type: ignore[method-assign]
        MetricResult(METRIC, mean + 0.01, len(samples), None, None, None, "test double")]
    assert "not the mean" in uncontrolled_reason(suite, draw.samples)
    record = replay(suite, 1, 0.05).record
    assert not record["controlled"] and "not the mean" in record["reason"]


def test_results_schema_types_the_sequential_record() -> None:
    """What a decision draw records passes results.json's schema; a made-up stop does not."""
    outcomes = {f"x/{k}": float(k % 2) for k in range(200)}
    record = replay(OutcomeSuite(outcomes, stratified=False, maximum=200), 1, 0.2).record
    schema = load_schema("results.schema.json")
    entry = {"family": "capability", "description": "d", "n_samples": 1, "metric_info": {},
             "metrics": [], "sequential": record}
    document = {"schema_version": 1, "run_id": "r", "suites": {"capability/x": entry}}
    jsonschema.validate(document, schema)
    for key, bad in (("stopped_by", "patience"), ("items_used", -1), ("controlled", "yes")):
        entry["sequential"] = dict(record, **{key: bad})
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(document, schema)
