"""Replay proof of the decision profile on stored per-item outcomes of SmolLM2 (no model).

tests/data/outcomes/ keeps, for some suites, every item's 0/1 outcome from one complete
standard-profile run (benchmarks/export_outcomes.py; each file names its run). Here the
decision profile's draw is replayed for many seeds: the suite's decision order
(`audit.suites.selection.proportional_order`), read in chunks, each chunk in `chunk_order`,
stopped at the first chunk whose confidence sequence has half-width <= 0.05 (vectorised over
seeds here; for a few seeds the real `draw_until_precise` on a test-double suite must make
the same stop with the same interval). The sequence must cover
the full-set value (every item's mean, what the standard profile measured) at least 95% of
the time, up to simulation error, and the draw must stop before the set is exhausted (at the
precision, or at the suite's declared decision maximum).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from audit.decision import CHUNK, chunk_order, decision_maximum
from audit.sequential import ALPHA, bounds
from audit.suites.discovery import select
from audit.suites.selection import proportional_order
from tests.decision_doubles import METRIC, OutcomeSuite, replay

OUTCOMES = sorted((Path(__file__).parent / "data" / "outcomes").glob("*.json"))
SEEDS = 200
PRECISION = 0.05
MISS_LIMIT = ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / SEEDS)


def replayed_sequence(ids: list[str], stratified: bool, seed: int) -> list[int]:
    """Indices of `ids` in the order a decision run with `seed` adds them to its sequence."""
    stratum = (lambda item: item.split("/")[0]) if stratified else None
    drawn = [index for _, index in proportional_order(ids, seed, stratum)]
    order: list[int] = []
    for start in range(0, len(drawn), CHUNK):
        chunk = {ids[i]: i for i in drawn[start:start + CHUNK]}
        order += [chunk[i] for i in chunk_order(list(chunk), seed, start // CHUNK + 1)]
    return order


def test_the_stored_outcomes_are_present() -> None:
    names = {json.loads(path.read_text())["suite"] for path in OUTCOMES}
    assert "capability/openbookqa" in names


def _stored(path: Path) -> tuple[list[str], np.ndarray, bool, int]:
    """A stored file's ids, outcomes, whether its suite is stratified, and the suite's
    declared decision maximum (capped at its size)."""
    stored = json.loads(path.read_text())
    ids, outcomes = stored["ids"], np.array([float(c) for c in stored["outcomes"]])
    assert len(ids) == len(outcomes) == stored["selection"]["items_available"]
    suite, = select([stored["suite"]])
    return ids, outcomes, stored["selection"]["strata"] is not None, min(
        decision_maximum(suite), len(ids))


def _replay_all(ids: list[str], outcomes: np.ndarray, stratified: bool, maximum: int,
                seeds: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per seed: where the draw stops, and its interval's ends there."""
    draws = np.stack([outcomes[replayed_sequence(ids, stratified, seed)]
                      for seed in range(seeds)])
    population = len(ids)
    stop = np.zeros(seeds, dtype=int)
    low_end, high_end = np.zeros(seeds), np.zeros(seeds)
    active = np.ones(seeds, dtype=bool)
    for end in range(CHUNK, maximum + CHUNK, CHUNK):
        end = min(end, maximum)
        low, high = bounds(draws[active, :end], population)
        rows = np.flatnonzero(active)
        done = ((high - low) / 2 <= PRECISION) | (end == maximum)
        stop[rows[done]] = end
        low_end[rows[done]], high_end[rows[done]] = low[done], high[done]
        active[rows[done]] = False
        if not active.any():
            break
    return stop, low_end, high_end


@pytest.mark.parametrize("path", OUTCOMES, ids=lambda p: p.stem)
def test_replayed_decision_draw_covers_the_full_set_value(path: Path) -> None:
    ids, outcomes, stratified, maximum = _stored(path)
    truth = outcomes.mean()
    stop, low, high = _replay_all(ids, outcomes, stratified, maximum, SEEDS)
    missed = (truth < low) | (truth > high)
    assert missed.mean() <= MISS_LIMIT
    # Every draw stopped before the set's end; those that reached the suite's decision
    # maximum first (CrowS-Pairs: 6 of 200 at 768 of 1,018) stopped there, not later.
    assert (stop < len(ids)).all(), f"{path.stem}: {np.sum(stop == len(ids))} exhausted"
    reached = (high - low) / 2 <= PRECISION
    assert (stop[~reached] == maximum).all()


@pytest.mark.parametrize("path", OUTCOMES, ids=lambda p: p.stem)
def test_the_replay_is_the_real_draw(path: Path) -> None:
    """For three seeds, `draw_until_precise` on a suite whose items carry the stored outcomes
    uses the same items in the same order and stops with the same interval as the replay."""
    ids, outcomes, stratified, maximum = _stored(path)
    suite = OutcomeSuite(dict(zip(ids, outcomes.tolist(), strict=True)), stratified, maximum)
    stop, low, high = _replay_all(ids, outcomes, stratified, maximum, 3)
    for seed in range(3):
        draw = replay(suite, seed, PRECISION)
        order = replayed_sequence(ids, stratified, seed)[:stop[seed]]
        assert draw.record["sequence"] == [ids[i] for i in order]
        interval = draw.bounds[METRIC]
        assert (interval.low, interval.high) == (low[seed], high[seed])
