"""Confidence intervals: known values and determinism."""

from __future__ import annotations

import numpy as np
import pytest

from audit.stats import estimate_mean, estimate_statistic, stderr_of_mean, wilson_interval


def test_wilson_interval_known_value() -> None:
    # 8 successes out of 10: the Wilson 95% interval is [0.490, 0.943].
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)


def test_wilson_stays_inside_unit_interval() -> None:
    assert wilson_interval(0, 5)[0] == 0.0 and wilson_interval(5, 5)[1] == 1.0


def test_stderr_matches_lm_eval_definition() -> None:
    values = [1, 0, 1, 1]
    assert stderr_of_mean(values) == pytest.approx(np.std(values, ddof=1) / 2)


def test_binary_mean_uses_wilson_and_continuous_uses_bootstrap() -> None:
    assert estimate_mean([1, 0, 1]).ci_method == "wilson"
    estimate = estimate_mean([0.5, 1.5, 2.5, 3.5])
    assert estimate.ci_method == "bootstrap-percentile"
    assert estimate.ci_low <= estimate.value <= estimate.ci_high


def test_bootstrap_is_deterministic() -> None:
    data = np.arange(40, dtype=float)
    assert estimate_statistic(np.median, data) == estimate_statistic(np.median, data)


def test_empty_input_gives_nan_not_a_crash() -> None:
    estimate = estimate_mean([])
    assert estimate.n == 0 and estimate.value != estimate.value
