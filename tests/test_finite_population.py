"""The exact interval for a finite set's share of successes and the planned sample size
(audit/finite_population.py), against exact rational arithmetic with math.comb."""

from __future__ import annotations

from fractions import Fraction
from math import comb

import numpy as np
import pytest

from audit.finite_population import (
    exact_interval,
    planned_items,
    set_success_bounds,
    worst_half_width,
)

HALF_ALPHA = Fraction(1, 40)  # alpha / 2 for a 95% interval


def pmf(j: int, set_successes: int, draws: int, population: int) -> Fraction:
    """P_K(X = j), exactly: C(K, j) C(N - K, n - j) / C(N, n) (math.comb is 0 out of range)."""
    if j < 0 or j > draws:
        return Fraction(0)
    return Fraction(comb(set_successes, j) * comb(population - set_successes, draws - j),
                    comb(population, draws))


def brute_force_kept(successes: int, draws: int, population: int,
                     half_alpha: Fraction = HALF_ALPHA) -> list[int]:
    """Every K whose two tail probabilities at k are both at least alpha / 2, by exact sums
    over every outcome: the interval's definition, evaluated without bisection."""
    kept = []
    for set_successes in range(population + 1):
        probabilities = [pmf(j, set_successes, draws, population) for j in range(draws + 1)]
        at_most, at_least = sum(probabilities[:successes + 1]), sum(probabilities[successes:])
        if at_most >= half_alpha and at_least >= half_alpha:
            kept.append(set_successes)
    return kept


@pytest.mark.parametrize("population", [1, 7, 18])
def test_the_interval_is_the_brute_force_one_for_every_sample_size_and_outcome(
        population: int) -> None:
    for draws in range(population + 1):
        successes = np.arange(draws + 1)
        low, high = set_success_bounds(successes, np.full_like(successes, draws), population)
        for k in range(draws + 1):
            kept = brute_force_kept(k, draws, population)
            # The kept K form a range, so [low, high] holds exactly them.
            assert kept == list(range(kept[0], kept[-1] + 1))
            assert (low[k], high[k]) == (kept[0], kept[-1]), (draws, k)


def test_another_alpha_is_used_throughout() -> None:
    """A 90% interval (alpha = 0.1) is the brute-force one at alpha / 2 = 1/20, and its plan
    is the smallest n that reaches the target at that alpha."""
    for k in range(11):
        kept = brute_force_kept(k, 10, 18, Fraction(1, 20))
        interval = exact_interval(k, 10, 18, alpha=0.1)
        assert (interval.low, interval.high) == (kept[0] / 18, kept[-1] / 18)
    planned = planned_items(500, 0.05, alpha=0.1)
    assert planned is not None and planned < planned_items(500, 0.05)
    assert worst_half_width(planned, 500, alpha=0.1) <= 0.05
    assert worst_half_width(planned - 1, 500, alpha=0.1) > 0.05


def test_a_tie_with_alpha_over_two_is_kept() -> None:
    """N = 40, n = 1, k = 1: P_1(X >= 1) = 1/40 = alpha / 2 exactly, so K = 1 is kept."""
    assert exact_interval(1, 1, 40).low == 1 / 40
    assert brute_force_kept(1, 1, 40)[0] == 1


@pytest.mark.parametrize("draws", [1, 4, 10, 20, 30, 39])
def test_exact_coverage_is_at_least_95_percent_for_every_set(draws: int) -> None:
    """For N = 40 and every K in 0..40, the probability (summed over the hypergeometric
    outcomes, not simulated) that the interval covers K / N is at least 0.95."""
    population = 40
    successes = np.arange(draws + 1)
    low, high = set_success_bounds(successes, np.full_like(successes, draws), population)
    worst = min(
        sum((pmf(k, set_successes, draws, population) for k in range(draws + 1)
             if low[k] <= set_successes <= high[k]), Fraction(0))
        for set_successes in range(population + 1))
    assert worst >= Fraction(95, 100)


def test_the_interval_is_reported_as_a_share_of_the_set() -> None:
    interval = exact_interval(5, 20, 40)
    low, high = brute_force_kept(5, 20, 40)[0], brute_force_kept(5, 20, 40)[-1]
    assert (interval.low, interval.high, interval.n) == (low / 40, high / 40, 20)
    assert interval.half_width == (high - low) / 80


@pytest.mark.parametrize("population", [5, 10, 40, 500, 1018, 3270])
def test_the_planned_n_is_the_smallest_with_a_worst_case_half_width_at_most_the_target(
        population: int) -> None:
    planned = planned_items(population, 0.05)
    assert planned is not None and planned <= population
    assert worst_half_width(planned, population) <= 0.05
    assert planned == 1 or worst_half_width(planned - 1, population) > 0.05


def test_small_sets_need_every_item_and_a_maximum_below_the_plan_is_reported() -> None:
    # n = N - 1 of 5 leaves K one of two values: half-width 1/10 > 0.05, so every item.
    assert planned_items(5, 0.05) == 5
    assert planned_items(1, 0.05) == 1  # a set of one item: that item
    assert worst_half_width(5, 5) == 0  # the whole set: the interval is its mean
    assert planned_items(500, 0.05) == 222  # OpenBookQA's set
    assert planned_items(500, 0.05, maximum=221) is None


def test_the_worst_case_half_width_is_the_widest_brute_force_interval() -> None:
    for draws in (3, 9, 14):
        widest = max(brute_force_kept(k, draws, 18)[-1] - brute_force_kept(k, draws, 18)[0]
                     for k in range(draws + 1))
        assert worst_half_width(draws, 18) == widest / 36


def test_impossible_counts_are_refused() -> None:
    for successes, draws in ((3, 2), (-1, 2), (1, 41)):
        with pytest.raises(ValueError, match="successes <= draws <= population"):
            exact_interval(successes, draws, 40)
    with pytest.raises(ValueError, match="at least one item"):
        planned_items(0, 0.05)
