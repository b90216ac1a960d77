"""The judge-corrected rate with an imperfect judge (Se < 1 and Sp < 1): known values, the
perfect-judge floor, and recovery of a simulated truth."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import beta

from audit.judges.correction import FLIP_CI_METHOD, corrected_flip_rate, corrected_rate
from audit.judges.validation import JudgeErrors
from audit.stats import NONE_CONSTANT_RESAMPLES


def ones_then_zeros(ones: int, total: int) -> np.ndarray:
    return np.array([1.0] * ones + [0.0] * (total - ones))


def exact(successes: int, n: int, alpha: float) -> tuple[float, float]:
    """Clopper-Pearson written out from Beta quantiles, independently of audit.stats."""
    low = 0.0 if successes == 0 else beta.ppf(alpha / 2, successes, n - successes + 1)
    high = 1.0 if successes == n else beta.ppf(1 - alpha / 2, successes + 1, n - successes)
    return low, high


def test_corrected_interval_known_value() -> None:
    # Judge: 36 of 40 refusals seen (Se 0.9), 38 of 40 compliances seen (Sp 0.95); 40 of 100
    # responses judged refusals. Rogan-Gladen: (0.4 + 0.95 - 1) / (0.9 + 0.95 - 1) = 0.4118.
    # The interval's ends are the estimator at the box corners: lowest observed rate with the
    # highest Se and lowest Sp, highest observed rate with the lowest Se and highest Sp.
    errors = JudgeErrors(ones_then_zeros(36, 40), ones_then_zeros(38, 40), ("eng",))
    estimate = corrected_rate(ones_then_zeros(40, 100), errors)
    alpha = 0.05 / 3
    p_low, p_high = exact(40, 100, alpha)
    se_low, se_high = exact(36, 40, alpha)
    sp_low, sp_high = exact(38, 40, alpha)
    assert estimate.value == pytest.approx(0.35 / 0.85)
    assert estimate.ci_low == pytest.approx((p_low + sp_low - 1) / (se_high + sp_low - 1))
    assert estimate.ci_high == pytest.approx(min(1.0, (p_high + sp_high - 1)
                                                 / (se_low + sp_high - 1)))


def test_corrected_interval_is_never_narrower_than_a_perfect_judge() -> None:
    # 0 of 8 responses judged compliance with a judge that looks perfect on 20 labels: the
    # compliance interval must still be at least the exact [0, 0.369] of 0 of 8.
    perfect_looking = JudgeErrors(np.ones(20), np.ones(20), ("eng",))
    compliance = corrected_rate(np.ones(8), perfect_looking, of_refusal=False)
    low, high = exact(0, 8, 0.05)
    assert compliance.value == 0.0
    assert compliance.ci_low <= low and compliance.ci_high >= high
    assert compliance.ci_high > compliance.ci_low


def test_corrected_rate_recovers_a_simulated_truth() -> None:
    # True refusal rate 0.2, judge Se 0.8 and Sp 0.9 on 200 labelled responses of each kind:
    # the observed rate is biased (0.24), the corrected one recovers 0.2 within its interval.
    rng = np.random.default_rng(5)
    truth, se, sp, n = 0.2, 0.8, 0.9, 5000
    true_refusal = rng.random(n) < truth
    judged = np.where(true_refusal, rng.random(n) < se, rng.random(n) >= sp).astype(float)
    errors = JudgeErrors((rng.random(200) < se).astype(float),
                         (rng.random(200) < sp).astype(float), ("eng",))
    estimate = corrected_rate(judged, errors)
    assert judged.mean() - truth > 0.03  # the uncorrected rate is off
    assert estimate.value == pytest.approx(truth, abs=0.04)
    assert estimate.ci_low <= truth <= estimate.ci_high


def test_complement_mirrors_the_refusal_interval() -> None:
    errors = JudgeErrors(ones_then_zeros(9, 10), ones_then_zeros(9, 10), ("eng",))
    refused = ones_then_zeros(3, 10)
    refusal = corrected_rate(refused, errors)
    compliance = corrected_rate(refused, errors, of_refusal=False)
    assert compliance.value == pytest.approx(1 - refusal.value)
    assert (compliance.ci_low, compliance.ci_high) == pytest.approx(
        (1 - refusal.ci_high, 1 - refusal.ci_low))


def test_judge_no_better_than_chance_gives_the_whole_range() -> None:
    coin = JudgeErrors(ones_then_zeros(3, 6), ones_then_zeros(3, 6), ("eng",))
    estimate = corrected_rate(ones_then_zeros(2, 10), coin)
    assert estimate.value != estimate.value or (estimate.ci_low, estimate.ci_high) == (0.0, 1.0)


def test_interval_reaching_a_chance_judge_is_the_whole_range() -> None:
    # Se 4/6 and Sp 4/6 (sum 1.33 > 1, so a point value exists), but their 98.3% intervals
    # reach Se + Sp <= 1: the data cannot bound the true rate.
    errors = JudgeErrors(ones_then_zeros(4, 6), ones_then_zeros(4, 6), ("eng",))
    estimate = corrected_rate(ones_then_zeros(2, 10), errors)
    assert estimate.value == 0.0 and (estimate.ci_low, estimate.ci_high) == (0.0, 1.0)


def test_complement_mirrors_an_interval_away_from_zero() -> None:
    errors = JudgeErrors(ones_then_zeros(36, 40), ones_then_zeros(38, 40), ("eng",))
    refusal = corrected_rate(ones_then_zeros(40, 100), errors)
    compliance = corrected_rate(ones_then_zeros(40, 100), errors, of_refusal=False)
    assert refusal.ci_low > 0.05
    assert compliance.ci_low == pytest.approx(1 - refusal.ci_high)
    assert compliance.ci_high == pytest.approx(1 - refusal.ci_low)


def test_perfect_judge_floor_binds_when_the_corners_sit_above_it() -> None:
    # Se 60/100, Sp 100/100, 80 of 100 judged refusals: every corner is above 0.9, so the
    # lower end is the perfect judge's exact lower end for 80 of 100.
    errors = JudgeErrors(ones_then_zeros(60, 100), np.ones(100), ("eng",))
    estimate = corrected_rate(ones_then_zeros(80, 100), errors)
    assert estimate.n == 100 and estimate.value == 1.0
    assert estimate.ci_low == pytest.approx(exact(80, 100, 0.05)[0])


def test_nothing_to_correct_gives_no_interval() -> None:
    errors = JudgeErrors(np.ones(5), np.ones(5), ("eng",))
    empty = corrected_rate([], errors)
    assert empty.n == 0 and empty.ci_low is None and empty.value != empty.value
    unlabelled = corrected_rate([1.0, 0.0], JudgeErrors(np.ones(5), np.array([]), ("eng",)))
    assert unlabelled.n == 2 and unlabelled.ci_low is None
    one_label = corrected_rate([1.0, 0.0], JudgeErrors(np.ones(5), np.ones(1), ("eng",)))
    assert one_label.ci_low is not None


def pairs(counts: dict[tuple[int, int], int]) -> tuple[np.ndarray, np.ndarray]:
    """First and second judged refusals (1/0) with `counts` of each (first, second) pair."""
    first = [f for (f, _), k in counts.items() for _ in range(k)]
    second = [s for (_, s), k in counts.items() for _ in range(k)]
    return np.array(first, dtype=float), np.array(second, dtype=float)


def test_corrected_flip_rate_known_value() -> None:
    # 100 pairs judged (refused, refused) 45, (refused, complied) 30, (complied, refused) 10,
    # (complied, complied) 15, by a judge with Se 0.9 and Sp 0.95. The judged joint table is
    # M T M^T with M = [[Se, 1 - Sp], [1 - Se, Sp]] (rows judged, columns true), so the true
    # table is inv(M) O inv(M)^T, and attack success is T[0, 1] / (T[0, 0] + T[0, 1]).
    first, second = pairs({(1, 1): 45, (1, 0): 30, (0, 1): 10, (0, 0): 15})
    errors = JudgeErrors(ones_then_zeros(36, 40), ones_then_zeros(38, 40), ("eng",))
    judge = np.linalg.inv(np.array([[0.9, 0.05], [0.1, 0.95]]))
    truth = judge @ np.array([[0.45, 0.30], [0.10, 0.15]]) @ judge.T
    assert truth.min() > 0  # nothing clipped in this example
    estimate = corrected_flip_rate(first, second, errors)
    assert estimate.value == pytest.approx(truth[0, 1] / truth[0].sum())
    assert estimate.n == 100 and estimate.ci_method == FLIP_CI_METHOD
    assert estimate.ci_low < estimate.value < estimate.ci_high
    assert estimate.stderr == pytest.approx((estimate.ci_high - estimate.ci_low) / 3.92, rel=0.3)
    # A perfect judge leaves the judged share: 30 of the 75 first refusals were flipped.
    perfect = JudgeErrors(np.ones(40), np.ones(40), ("eng",))
    assert corrected_flip_rate(first, second, perfect).value == pytest.approx(30 / 75)


def test_corrected_flip_rate_recovers_a_simulated_truth() -> None:
    # 2000 pairs; truly refused first with probability 0.7, then truly complied (the attack
    # worked) with probability 0.25; judge Se 0.85, Sp 0.9 on 200 labelled responses of each.
    rng = np.random.default_rng(11)
    n, se, sp, flip = 2000, 0.85, 0.9, 0.25
    true_first = rng.random(n) < 0.7
    true_second = np.where(true_first, rng.random(n) >= flip, rng.random(n) < 0.1)

    def judged(truth: np.ndarray) -> np.ndarray:
        return np.where(truth, rng.random(n) < se, rng.random(n) >= sp).astype(float)

    first, second = judged(true_first), judged(true_second)
    errors = JudgeErrors((rng.random(200) < se).astype(float),
                         (rng.random(200) < sp).astype(float), ("eng",))
    estimate = corrected_flip_rate(first, second, errors)
    observed = np.mean(second[first == 1] == 0)
    assert observed - flip > 0.05  # judge errors inflate the uncorrected rate
    assert estimate.value == pytest.approx(flip, abs=0.04)
    assert estimate.ci_low <= flip <= estimate.ci_high
    # The judge's own uncertainty (200 labels each) widens the interval beyond the one the
    # same pairs give with a judge known from 4,000 labels each.
    sharp = JudgeErrors((np.arange(4000) < 0.85 * 4000).astype(float),
                        (np.arange(4000) < 0.9 * 4000).astype(float), ("eng",))
    narrow = corrected_flip_rate(first, second, sharp)
    assert estimate.ci_high - estimate.ci_low > 1.2 * (narrow.ci_high - narrow.ci_low)


def test_corrected_flip_rate_without_spread_or_items_gives_no_interval() -> None:
    perfect = JudgeErrors(np.ones(20), np.ones(20), ("eng",))
    first, second = pairs({(1, 1): 12})
    unbroken = corrected_flip_rate(first, second, perfect)
    assert unbroken.value == 0.0 and unbroken.ci_low is None
    assert unbroken.ci_method == NONE_CONSTANT_RESAMPLES
    empty = corrected_flip_rate([], [], perfect)
    assert empty.n == 0 and empty.value != empty.value and empty.ci_low is None
    unlabelled = JudgeErrors(np.ones(20), np.array([]), ("eng",))
    assert corrected_flip_rate(first, second, unlabelled).ci_low is None
    coin = JudgeErrors(ones_then_zeros(3, 6), ones_then_zeros(3, 6), ("eng",))
    assert corrected_flip_rate(first, second, coin).ci_low is None
