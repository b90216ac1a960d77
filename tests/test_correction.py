"""The judge-corrected rate with an imperfect judge (Se < 1 and Sp < 1): known values, the
perfect-judge floor, and recovery of a simulated truth."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import beta

from audit.judges.correction import corrected_rate
from audit.judges.validation import JudgeErrors


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
