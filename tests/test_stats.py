"""Confidence intervals: known values, never zero width, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from audit.stats import (
    BOOTSTRAP,
    BOUNDED_MEAN,
    CLOPPER_PEARSON,
    NONE_CONSTANT_RESAMPLES,
    NONE_EMPTY,
    NONE_NO_SPREAD,
    NONE_TOO_FEW,
    STUDENT_T,
    bootstrap_interval,
    clopper_pearson_interval,
    estimate_mean,
    estimate_statistic,
    expanded_tail,
    stderr_of_mean,
)


def test_clopper_pearson_known_values() -> None:
    # 8 of 10: the exact interval is [0.4439, 0.9748] (Clopper and Pearson 1934; R binom.test).
    low, high = clopper_pearson_interval(8, 10)
    assert low == pytest.approx(0.44390, abs=1e-4) and high == pytest.approx(0.97479, abs=1e-4)
    # 0 of n: [0, 1 - 0.025^(1/n)] in closed form; n of n: its mirror.
    assert clopper_pearson_interval(0, 8) == (0.0, pytest.approx(1 - 0.025 ** (1 / 8)))
    assert clopper_pearson_interval(8, 8) == (pytest.approx(0.025 ** (1 / 8)), 1.0)


def test_clopper_pearson_level_follows_alpha() -> None:
    # 1 of 1 at alpha 0.1: lower end is 0.05 (the 5% quantile of Beta(1, 1)).
    assert clopper_pearson_interval(1, 1, alpha=0.1)[0] == pytest.approx(0.05)


def test_stderr_matches_lm_eval_definition() -> None:
    values = [1, 0, 1, 1]
    assert stderr_of_mean(values) == pytest.approx(np.std(values, ddof=1) / 2)


def test_each_kind_of_mean_gets_its_method() -> None:
    assert estimate_mean([1, 0, 1]).ci_method == CLOPPER_PEARSON
    assert estimate_mean([0.2, 0.4], unit_interval=True).ci_method == BOUNDED_MEAN
    assert estimate_mean([0.2, 0.4]).ci_method == STUDENT_T
    # A quantity that is not bounded and shows no spread gets no interval, not [x, x].
    constant = estimate_mean([2.5, 2.5, 2.5])
    assert constant.ci_method == NONE_NO_SPREAD and constant.ci_low is None


def test_student_t_known_value() -> None:
    # Values 1, 2, 3: mean 2, s = 1, t(0.975, 2) = 4.302653: 2 +- 4.302653 / sqrt(3).
    estimate = estimate_mean([1.0, 2.0, 3.0])
    assert estimate.ci_low == pytest.approx(2 - 4.302653 / 3**0.5, abs=1e-5)
    assert estimate.ci_high == pytest.approx(2 + 4.302653 / 3**0.5, abs=1e-5)


def test_bounded_mean_known_value() -> None:
    # Sum 1.5 of 3 values in [0, 1]: Beta(1.5, 2.5) 2.5% and Beta(2.5, 1.5) 97.5% quantiles.
    from scipy.stats import beta

    estimate = estimate_mean([0.5, 0.5, 0.5], unit_interval=True)
    assert estimate.ci_low == pytest.approx(beta.ppf(0.025, 1.5, 2.5))
    assert estimate.ci_high == pytest.approx(beta.ppf(0.975, 2.5, 1.5))
    assert estimate.ci_high - estimate.ci_low > 0.5  # three equal values are not certainty


def test_expanded_tail_known_values() -> None:
    # n = 10: Phi(-sqrt(10/9) * 2.262157) = Phi(-2.384537) = 0.008549; large n: 0.025.
    assert expanded_tail(10) == pytest.approx(0.008549, abs=2e-6)
    assert expanded_tail(100_000) == pytest.approx(0.025, abs=1e-4)


def test_bootstrap_interval_of_a_mean_matches_the_t_interval() -> None:
    # The expanded percentile bootstrap of a mean of 40 normal values is close to Student-t.
    values = np.random.default_rng(3).standard_normal(40)
    boot = estimate_statistic(np.mean, values)
    t = estimate_mean(values.tolist())
    assert boot.ci_method == BOOTSTRAP
    assert boot.ci_low == pytest.approx(t.ci_low, abs=0.06)
    assert boot.ci_high == pytest.approx(t.ci_high, abs=0.06)


def test_bootstrap_resamples_every_item() -> None:
    # Only the last item differs: a bootstrap that never drew it would collapse to [0, 0].
    data = np.array([0.0] * 19 + [1.0])
    estimate = estimate_statistic(np.mean, data)
    assert estimate.ci_high > 0


def test_bootstrap_declines_below_its_minimum_and_on_constant_resamples() -> None:
    assert estimate_statistic(np.mean, np.arange(5, dtype=float)).ci_method == NONE_TOO_FEW
    constant = estimate_statistic(np.mean, np.ones(20))
    assert constant.ci_method == NONE_CONSTANT_RESAMPLES and constant.ci_low is None


def test_bootstrap_is_deterministic() -> None:
    data = np.arange(40, dtype=float)
    assert estimate_statistic(np.median, data) == estimate_statistic(np.median, data)


def test_empty_input_gives_nan_not_a_crash() -> None:
    estimate = estimate_mean([])
    assert estimate.n == 0 and estimate.value != estimate.value


def test_estimates_carry_their_value_n_and_stderr() -> None:
    # Known values: mean 2, stderr s / sqrt(n) = 1 / sqrt(3); a single value is its own mean.
    t = estimate_mean([1.0, 2.0, 3.0])
    assert (t.value, t.n) == (2.0, 3) and t.stderr == pytest.approx(1 / 3**0.5)
    assert estimate_mean([5.0]).value == 5.0 and estimate_mean([5.0]).n == 1
    assert estimate_mean([2.5, 2.5]).value == 2.5
    share = estimate_mean([1, 0, 1, 1])
    assert share.value == 0.75 and share.stderr == pytest.approx(0.25)
    assert estimate_mean([0.0, 0.5], unit_interval=True).ci_method == BOUNDED_MEAN
    assert estimate_mean([0.0, 0.5], unit_interval=True).value == 0.25
    assert estimate_statistic(np.mean, np.array([5.0])).value == 5.0
    boot = estimate_statistic(np.mean, np.arange(40, dtype=float))
    assert boot.value == 19.5 and boot.n == 40
    # The bootstrap standard error of a mean is close to s * sqrt((n-1)/n) / sqrt(n).
    expected = np.std(np.arange(40), ddof=0) / 40**0.5
    assert boot.stderr == pytest.approx(expected, rel=0.06)


def test_bootstrap_starts_at_exactly_its_minimum() -> None:
    from audit.stats import BOOTSTRAP_MIN_N

    at_minimum = estimate_statistic(np.mean, np.arange(BOOTSTRAP_MIN_N, dtype=float))
    assert at_minimum.ci_method == BOOTSTRAP and at_minimum.ci_low < at_minimum.ci_high
    below = estimate_statistic(np.mean, np.arange(BOOTSTRAP_MIN_N - 1, dtype=float))
    assert below.ci_method == NONE_TOO_FEW


def test_bootstrap_withholds_a_zero_width_interval() -> None:
    # Nine 0s and one 1: a resampled median leaves 0 only when the 1 is drawn at least five
    # times of ten (probability 0.0016), so both percentile ends are 0 although the resamples
    # vary. An interval [0, 0] would claim certainty that ten items cannot give.
    median = estimate_statistic(np.median, np.array([0.0] * 9 + [1.0]))
    assert median.value == 0.0 and median.ci_low is None and median.ci_high is None
    assert median.ci_method == NONE_CONSTANT_RESAMPLES
    # One resample that differs among 2000 is not enough for an interval either.
    draws = np.zeros(2000)
    draws[7] = 1.0
    assert bootstrap_interval(draws, 0.025) is None
    assert bootstrap_interval(np.array([0.0, 1.0, np.nan]), 0.025) == (0.025, 0.975)
    assert bootstrap_interval(np.array([1.0, np.nan]), 0.025) is None


def test_every_field_of_the_no_interval_cases() -> None:
    empty = estimate_statistic(np.mean, np.array([]))
    assert (empty.n, empty.stderr, empty.ci_low, empty.ci_high, empty.ci_method) == (
        0, None, None, None, NONE_EMPTY) and empty.value != empty.value
    assert estimate_mean([]).ci_method == NONE_EMPTY
    few = estimate_statistic(np.mean, np.arange(4, dtype=float))
    assert (few.value, few.n, few.ci_method) == (1.5, 4, NONE_TOO_FEW)
    constant = estimate_statistic(np.mean, np.ones(12))
    assert (constant.value, constant.n) == (1.0, 12)
    flat = estimate_mean([2.5, 2.5])
    assert (flat.stderr, flat.ci_low, flat.ci_method) == (0.0, None, NONE_NO_SPREAD)


def test_bounded_mean_covers_exactly_the_unit_interval() -> None:
    # A per-item probability reaching 1 is still bounded; values above 1 are not.
    assert estimate_mean([0.5, 1.0], unit_interval=True).ci_method == BOUNDED_MEAN
    assert estimate_mean([0.5, 1.5], unit_interval=True).ci_method == STUDENT_T
    assert estimate_mean([-0.5, 0.5], unit_interval=True).ci_method == STUDENT_T
