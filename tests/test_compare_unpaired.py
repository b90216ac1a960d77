"""Comparisons from reported values, when the runs share no scored item: two shares get
Newcombe's interval, which stays within [-1, 1] and covers; a metric that one run reports
without a value is named as such."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.stats import binom, chi2_contingency

from audit.metrics import MetricResult
from audit.report.compare import (
    NO_VALUE,
    NO_VALUE_A,
    NO_VALUE_B,
    UNPAIRED,
    UNPAIRED_SHARES,
    _unpaired,
    _unpaired_method,
    compare_pair,
)
from audit.stats import estimate_mean, newcombe_interval
from tests.handmade_runs import info, sample, suite_entry, write_run

# Newcombe, "Interval estimation for the difference between independent proportions",
# Statistics in Medicine 17 (1998), Table II, method 10 (hybrid score): x1/n1 - x2/n2 and the
# published 95% limits, to four decimals.
NEWCOMBE_TABLE_II = [
    (56, 70, 48, 80, 0.0524, 0.3339),
    (9, 10, 3, 10, 0.1705, 0.8090),
    (6, 7, 2, 7, 0.0582, 0.8062),
    (5, 56, 0, 29, -0.0381, 0.1926),
    (0, 10, 0, 20, -0.1611, 0.2775),
    (0, 10, 0, 10, -0.2775, 0.2775),
    (10, 10, 0, 20, 0.6791, 1.0000),
    (10, 10, 0, 10, 0.6075, 1.0000),
]


@pytest.mark.parametrize(("x1", "n1", "x2", "n2", "low", "high"), NEWCOMBE_TABLE_II)
def test_newcombe_interval_matches_the_published_limits(x1, n1, x2, n2, low, high) -> None:
    # Run B is sample 1 and the baseline run A sample 2: the delta is B - A = p1 - p2.
    assert newcombe_interval(x2, n2, x1, n1) == (pytest.approx(low, abs=5e-5),
                                                 pytest.approx(high, abs=5e-5))


def _share(successes: int, n: int) -> dict[str, Any]:
    """A results.json record of a share of 0/1 scores, as a suite reports it."""
    return MetricResult.from_estimate("acc", estimate_mean([1.0] * successes
                                                           + [0.0] * (n - successes))).to_dict()


@pytest.mark.parametrize("n", [2, 5, 10, 30])
def test_unpaired_share_interval_stays_in_range_and_covers(n: int) -> None:
    """Exact coverage (every outcome weighted by its binomial probability) of the interval
    for share_b - share_a over a grid of true shares, n items in each run. The normal interval
    from the two standard errors covered 57% on average at n = 2 (18% at worst) and reached
    past -1 and +1; Newcombe's covers 95% on average here, at least 87% anywhere."""
    shares = [_share(s, n) for s in range(n + 1)]
    bounds = np.array([[_unpaired(a, b)[3:5] for b in shares] for a in shares], dtype=float)
    assert np.nanmin(bounds) >= -1.0 and np.nanmax(bounds) <= 1.0
    grid = np.linspace(0.05, 0.95, 19)
    coverage = []
    for share_a in grid:
        for share_b in grid:
            truth = share_b - share_a
            weights = np.outer(binom.pmf(range(n + 1), n, share_a),
                               binom.pmf(range(n + 1), n, share_b))
            covered = (bounds[..., 0] <= truth + 1e-12) & (truth - 1e-12 <= bounds[..., 1])
            coverage.append(float((weights * covered).sum()))
    assert np.mean(coverage) >= 0.94 and min(coverage) >= 0.85, (np.mean(coverage),
                                                                 min(coverage))


@pytest.mark.parametrize(("a", "b"), [((48, 80), (56, 70)), ((3, 10), (9, 10)),
                                      ((2, 7), (6, 7)), ((0, 10), (0, 10))])
def test_unpaired_share_p_value_is_pearsons_chi_square(a, b) -> None:
    """The pooled two-proportion z-test is Pearson's chi-square test of the 2 x 2 table
    without continuity correction; both samples all failures: no evidence, p = 1."""
    table = [[a[0], a[1] - a[0]], [b[0], b[1] - b[0]]]
    expected = 1.0 if a[0] + b[0] == 0 else chi2_contingency(table, correction=False)[1]
    assert _unpaired(_share(*a), _share(*b))[5] == pytest.approx(expected)


def test_shares_are_only_values_with_a_clopper_pearson_interval() -> None:
    """A bounded mean of fractional scores, or a record without the share's interval, keeps
    the normal interval from the standard errors."""
    fractional = MetricResult.from_estimate("p", estimate_mean([0.2, 0.9], unit_interval=True)
                                            ).to_dict()
    assert _unpaired_method(fractional, _share(1, 2)) == UNPAIRED
    typed = dict(_share(1, 2), ci_method="typed in by hand")
    assert _unpaired_method(typed, _share(1, 2)) == UNPAIRED
    assert _unpaired_method(_share(1, 2), _share(2, 2)) == UNPAIRED_SHARES


def test_two_shares_of_two_items_each_compare_inside_the_possible_range(
        tmp_path: Path) -> None:
    """Two items per run, none shared: 2/2 in the baseline, 1/2 in the other run. The normal
    interval was -50 points [-148, +48]; Newcombe's is [-90.5, +27.3] points, worked here from
    the Wilson limits of 1/2, 0.5 +- 1.96 sqrt(0.5 + 1.96^2 / 4) / (2 + 1.96^2), and of 2/2,
    [2 / (2 + 1.96^2), 1]."""
    def run(run_id: str, scores: list[float]):
        samples = [sample("multilingual/x", f"{run_id}{i}", {"line": score})
                   for i, score in enumerate(scores)]
        entry = suite_entry("multilingual", {"line": info("Line fidelity", "multilingual")},
                            samples)
        return write_run(tmp_path, run_id, {"multilingual/x": entry}, samples)

    (delta,) = compare_pair(run("a", [1.0, 1.0]), run("b", [1.0, 0.0]))
    assert (delta.method, delta.n_pairs, delta.delta) == (UNPAIRED_SHARES, 0, -0.5)
    z = 1.959964
    half_b = z * np.sqrt(0.5 + z**2 / 4) / (2 + z**2)
    low_a = 2 / (2 + z**2)
    assert delta.ci_low == pytest.approx(-0.5 - half_b, abs=1e-6)
    assert delta.ci_high == pytest.approx(-0.5 + np.hypot(half_b, 1.0 - low_a), abs=1e-6)
    assert (round(delta.ci_low, 3), round(delta.ci_high, 3)) == (-0.905, 0.273)
    assert delta.too_few_items and not delta.significant


@pytest.mark.parametrize(("value_a", "value_b", "method"), [
    (0.5, None, NO_VALUE_B), (None, 0.5, NO_VALUE_A), (None, None, NO_VALUE)])
def test_a_metric_reported_without_a_value_says_which_run(value_a, value_b, method) -> None:
    a, b = dict(_share(1, 2), value=value_a), dict(_share(1, 2), value=value_b)
    assert _unpaired(a, b)[2:] == (None, None, None, None)
    assert _unpaired_method(a, b) == method
