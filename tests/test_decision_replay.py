"""Replay proof of the decision profile on stored per-item outcomes of SmolLM2 (no model).

tests/data/outcomes/ keeps, for some suites, every item's 0/1 outcome from one complete
standard-profile run (benchmarks/export_outcomes.py; each file names its run). Here the
decision profile's draw is replayed for many seeds: the suite's seeded order
(`audit.suites.selection.seeded_order`), read in chunks, each chunk in `chunk_order`, stopped
at the first chunk whose confidence sequence has half-width <= 0.05. The sequence must cover
the full-set value (every item's mean, what the standard profile measured) at least 95% of
the time, up to simulation error, and the draw must stop before the set is exhausted.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from audit.decision import CHUNK, chunk_order
from audit.sequential import ALPHA, bounds
from audit.suites.selection import seeded_order

OUTCOMES = sorted((Path(__file__).parent / "data" / "outcomes").glob("*.json"))
SEEDS = 200
PRECISION = 0.05
MISS_LIMIT = ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / SEEDS)


def replayed_sequence(ids: list[str], stratified: bool, seed: int) -> list[int]:
    """Indices of `ids` in the order a decision run with `seed` adds them to its sequence."""
    stratum = (lambda item: item.split("/")[0]) if stratified else None
    drawn = [index for _, index in seeded_order(ids, seed, stratum)]
    order: list[int] = []
    for start in range(0, len(drawn), CHUNK):
        chunk = {ids[i]: i for i in drawn[start:start + CHUNK]}
        order += [chunk[i] for i in chunk_order(list(chunk), seed, start // CHUNK + 1)]
    return order


def test_the_stored_outcomes_are_present() -> None:
    names = {json.loads(path.read_text())["suite"] for path in OUTCOMES}
    assert "capability/openbookqa" in names


@pytest.mark.parametrize("path", OUTCOMES, ids=lambda p: p.stem)
def test_replayed_decision_draw_covers_the_full_set_value(path: Path) -> None:
    stored = json.loads(path.read_text())
    ids, outcomes = stored["ids"], np.array([float(c) for c in stored["outcomes"]])
    assert len(ids) == len(outcomes) == stored["selection"]["items_available"]
    truth = outcomes.mean()
    stratified = stored["selection"]["strata"] is not None
    draws = np.stack([outcomes[replayed_sequence(ids, stratified, seed)]
                      for seed in range(SEEDS)])
    population = len(ids)
    stop = np.full(SEEDS, population)
    missed = np.zeros(SEEDS, dtype=bool)
    active = np.ones(SEEDS, dtype=bool)
    for end in range(CHUNK, population, CHUNK):
        low, high = bounds(draws[active, :end], population)
        rows = np.flatnonzero(active)
        precise = (high - low) / 2 <= PRECISION
        stop[rows[precise]] = end
        missed[rows[precise]] = (truth < low[precise]) | (truth > high[precise])
        active[rows[precise]] = False
        if not active.any():
            break
    assert missed.mean() <= MISS_LIMIT
    # Every seed reached the precision before running the whole set.
    assert (stop < population).all(), f"{path.stem}: {np.sum(stop == population)} exhausted"
