"""The confidence sequence (audit/sequential.py): its ends against a direct evaluation of the
betting formulas, its behaviour at exhaustion, and its time-uniform coverage by simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from audit.sequential import ALPHA, BET_CAP, bound, bounds, stopping_point

CHUNK = 32


def rejected(values: list[float], m: float, population: int | None) -> bool:
    """Whether candidate mean `m` is rejected by time len(values), computed item by item from
    the formulas of the paper (an independent, loop-by-loop evaluation)."""
    threshold = 2 / ALPHA
    up = down = 1.0
    drawn = 0.0
    total = 0.0
    squares = 0.0
    variance_before = 0.25
    for i, x in enumerate(values, start=1):
        if population is None:
            mu = m
        else:
            mu = (population * m - drawn) / (population - i + 1)
            if mu < -1e-12 or mu > 1 + 1e-12:
                return True  # no set of the remaining items has this mean
            mu = min(max(mu, 0.0), 1.0)
        bet = math.sqrt(2 * math.log(2 / ALPHA) / (variance_before * i * math.log(1 + i)))
        up *= 1 + min(bet, BET_CAP / mu if mu > 0 else math.inf) * (x - mu)
        down *= 1 - min(bet, BET_CAP / (1 - mu) if mu < 1 else math.inf) * (x - mu)
        if up >= threshold or down >= threshold:
            return True
        drawn += x
        total += x
        squares += (x - (0.5 + total) / (i + 1)) ** 2
        variance_before = (0.25 + squares) / (i + 1)
    return False


@pytest.mark.parametrize("population", [None, 60])
@pytest.mark.parametrize("kind", ["binary", "fractional"])
def test_ends_match_a_direct_evaluation_of_the_formulas(population: int | None,
                                                        kind: str) -> None:
    rng = np.random.default_rng(7)
    raw = rng.random(45)
    values = list((raw < 0.3).astype(float) if kind == "binary" else raw ** 2)
    step = 1e-3
    grid = np.arange(0, 1 + step / 2, step)
    kept = [m for m in grid if not rejected(values, float(m), population)]
    assert kept, "the direct evaluation rejected every candidate"
    result = bound(values, population)
    # The sequence's ends lie within one grid step outside the directly computed ones.
    assert kept[0] - step - 1e-9 <= result.low <= kept[0] + 1e-9
    assert kept[-1] - 1e-9 <= result.high <= kept[-1] + step + 1e-9
    assert result.high - result.low > 0.1  # 45 items: far from a point


def test_without_replacement_every_item_pins_the_mean_exactly() -> None:
    rng = np.random.default_rng(3)
    values = list((rng.random(200) < 0.4).astype(float))
    full = bound(values, population=200)
    assert full.low == pytest.approx(np.mean(values), abs=1e-8)
    assert full.high == pytest.approx(np.mean(values), abs=1e-8)
    # One item short, the interval still holds the two means the last item allows.
    almost = bound(values[:-1], population=200)
    assert almost.low <= sum(values[:-1]) / 200 + 1e-8
    assert almost.high >= (sum(values[:-1]) + 1) / 200 - 1e-8


def test_without_replacement_is_narrower_than_independent_draws() -> None:
    values = [1.0, 0.0] * 150
    assert bound(values, population=400).half_width < bound(values).half_width


def test_stops_at_the_first_precise_chunk() -> None:
    values = [0.0] * 300
    stop, interval = stopping_point(values, None, precision=0.05, chunk=CHUNK)
    assert stop % CHUNK == 0 and interval.half_width <= 0.05
    assert bound(values[:stop - CHUNK]).half_width > 0.05
    # A precision no sample reaches runs to the end.
    assert stopping_point(values[:40], None, precision=1e-6, chunk=CHUNK)[0] == 40


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        bound([0.5, 1.5])
    with pytest.raises(ValueError, match="exceed"):
        bound([0.0] * 5, population=4)


def simulated_misses(draws: np.ndarray, truth: np.ndarray, population: int | None,
                     precision: float) -> tuple[float, float, float]:
    """Per row of `draws`: whether the sequence ever misses `truth` at a chunk boundary, and
    whether it misses at the first precise chunk (the decision profile's stop); the share of
    rows of each, and the share that stopped before the end."""
    rows, steps = draws.shape
    ever = np.zeros(rows, dtype=bool)
    at_stop = np.zeros(rows, dtype=bool)
    stopped = np.zeros(rows, dtype=bool)
    for end in [*range(CHUNK, steps, CHUNK), steps]:
        low, high = bounds(draws[:, :end], population)
        miss = (truth < low - 1e-9) | (truth > high + 1e-9)
        ever |= miss
        stopping_now = ~stopped & (((high - low) / 2 <= precision) | (end == steps))
        at_stop |= stopping_now & miss
        stopped |= stopping_now & (end < steps)
    return ever.mean(), at_stop.mean(), stopped.mean()


SEEDS = 300
# Five simulation standard errors above 5% at 300 seeds: 5% + 5 x 1.26%.
MISS_LIMIT = ALPHA + 5 * math.sqrt(ALPHA * (1 - ALPHA) / SEEDS)


@pytest.mark.parametrize("p", [0.0, 0.05, 0.5, 0.95, 1.0])
def test_time_uniform_coverage_sampling_a_finite_set(p: float) -> None:
    """Random orders of a set of 400 items with a share p of ones, stopped at the first chunk
    with half-width <= 0.05: the sequence covers the set's mean at every chunk boundary."""
    population = 400
    items = np.zeros(population)
    items[:round(p * population)] = 1.0
    rng = np.random.default_rng(20261130)
    draws = np.stack([rng.permutation(items) for _ in range(SEEDS)])
    ever, at_stop, stopped = simulated_misses(draws, np.full(SEEDS, items.mean()),
                                              population, precision=0.05)
    assert ever <= MISS_LIMIT and at_stop <= ever
    assert stopped == 1.0  # 400 items always reach 5 points before the end


@pytest.mark.parametrize("p", [0.0, 0.05, 0.5, 0.95, 1.0])
def test_time_uniform_coverage_of_independent_draws(p: float) -> None:
    rng = np.random.default_rng(1130)
    draws = (rng.random((SEEDS, 480)) < p).astype(float)
    ever, at_stop, _ = simulated_misses(draws, np.full(SEEDS, p), None, precision=0.1)
    assert ever <= MISS_LIMIT and at_stop <= ever
