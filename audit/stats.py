"""Uncertainty for every reported number: standard errors and 95% confidence intervals.

Each kind of number gets an interval whose coverage stays near or above 95% at small n and at
the boundaries (tests/test_coverage.py simulates it):

- a share of 0/1 outcomes (accuracy, refusal): the Clopper-Pearson exact interval, which never
  covers less than 95% and is never zero-width (0 of n gives [0, 1 - 0.025^(1/n)]);
- a mean of values of a quantity bounded to [0, 1] (a per-item probability, declared with
  unit "proportion") that are not all 0/1: the same Beta quantiles on the fractional sum
  (conservative, because a variable in [0, 1] with a given mean varies at most as much as a
  0/1 one);
- any other mean: the Student-t interval;
- a difference of two shares over paired 0/1 outcomes (a fine-tune against its base on the
  same items, a language against English on the same requests): the paired MOVER interval
  (`paired_difference`), which stays inside [-1, 1] and is given even when every pair moved
  the same way;
- a derived statistic (ratio, bias score, gap): a seeded bootstrap over items with the
  expanded-percentile correction for small samples (Hesterberg 2015), given only from
  `BOOTSTRAP_MIN_N` items on.

Where the data cannot support an interval (too few items, every value equal for a quantity
that is not a 0/1 share, or bootstrap resamples that agree so often that the interval would
have zero width) no interval is given (`ci_low`/`ci_high` None) and the
method says why; an interval is never collapsed to zero width.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

Z95 = 1.959963984540054
BOOTSTRAP_ITERATIONS = 2000
BOOTSTRAP_SEED = 20251123
# Below this many items a bootstrap interval covers far less than 95% (with 5 items a mean's
# resamples never leave [min, max], which misses the true mean 2 x 0.5^5 = 6% of the time
# before any other error), so no bootstrap interval is given.
BOOTSTRAP_MIN_N = 10

CLOPPER_PEARSON = "clopper-pearson"
BOUNDED_MEAN = "clopper-pearson on the sum of values in [0, 1]"
STUDENT_T = "student-t"
BOOTSTRAP = "bootstrap (expanded percentile)"
NONE_EMPTY = "none: no items"
NONE_NO_SPREAD = "none: every value is the same, so the data give no spread to bound"
NONE_TOO_FEW = f"none: fewer than {BOOTSTRAP_MIN_N} items for a bootstrap"
NONE_CONSTANT_RESAMPLES = ("none: the bootstrap resamples agree so often that their 95% "
                           "interval has zero width")
PAIRED_MOVER = "paired MOVER (Clopper-Pearson limits, Newcombe 1998 method 11)"


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its sample size, standard error and 95% interval."""

    value: float
    n: int
    stderr: float | None
    ci_low: float | None
    ci_high: float | None
    ci_method: str


def stderr_of_mean(values: Sequence[float]) -> float | None:
    """Sample standard deviation (n-1) over sqrt(n), as lm-eval reports; None when n < 2."""
    n = len(values)
    if n < 2:
        return None
    return float(np.std(np.asarray(values, dtype=float), ddof=1) / math.sqrt(n))


def clopper_pearson_interval(successes: float, n: int, alpha: float = 0.05
                             ) -> tuple[float, float]:
    """Exact 1 - alpha (default 95%) interval for a share of `successes` in `n` trials (Beta
    quantiles). A fractional `successes` (the sum of values in [0, 1]) gives the bounded-mean
    interval. The lower end is exactly 0 at 0 successes and the upper exactly 1 at n.
    """
    if n == 0:
        return (math.nan, math.nan)
    low = 0.0 if successes <= 0 else float(
        scipy_stats.beta.ppf(alpha / 2, successes, n - successes + 1))
    high = 1.0 if successes >= n else float(
        scipy_stats.beta.ppf(1 - alpha / 2, successes + 1, n - successes))
    return (low, high)


def student_t_interval(values: np.ndarray) -> tuple[float, float] | None:
    """95% Student-t interval for a mean; None with fewer than 2 values or no spread."""
    n = len(values)
    stderr = stderr_of_mean(values)
    if stderr is None or stderr == 0:
        return None
    half = float(scipy_stats.t.ppf(0.975, n - 1)) * stderr
    mean = float(values.mean())
    return (mean - half, mean + half)


def is_binary(values: Sequence[float]) -> bool:
    """True when every value is 0 or 1 (a share)."""
    return all(v in (0, 1) for v in values)


def estimate_mean(values: Sequence[float], unit_interval: bool = False) -> Estimate:
    """Mean with stderr and a 95% CI: Clopper-Pearson for 0/1 outcomes, and for values of a
    quantity bounded to [0, 1] by definition (`unit_interval`, e.g. a per-item probability);
    Student-t otherwise (no interval when such values have no spread)."""
    n = len(values)
    if n == 0:
        return Estimate(math.nan, 0, None, None, None, NONE_EMPTY)
    array = np.asarray(values, dtype=float)
    mean = float(array.mean())
    stderr = stderr_of_mean(values)
    if is_binary(values) or (unit_interval and array.min() >= 0 and array.max() <= 1):
        low, high = clopper_pearson_interval(float(array.sum()), n)
        return Estimate(mean, n, stderr, low, high,
                        CLOPPER_PEARSON if is_binary(values) else BOUNDED_MEAN)
    interval = student_t_interval(array)
    if interval is None:
        return Estimate(mean, n, stderr, None, None, NONE_NO_SPREAD)
    return Estimate(mean, n, stderr, interval[0], interval[1], STUDENT_T)


def expanded_tail(n: int) -> float:
    """The bootstrap tail probability that makes a percentile interval as wide as a t-interval
    at n items: Phi(-sqrt(n / (n-1)) * t_{0.975, n-1}) (Hesterberg 2015), 0.025 as n grows."""
    return float(scipy_stats.norm.cdf(-math.sqrt(n / (n - 1))
                                      * scipy_stats.t.ppf(0.975, n - 1)))


def bootstrap_interval(draws: np.ndarray, tail: float) -> tuple[float, float] | None:
    """The [tail, 1 - tail] percentile interval of the finite bootstrap `draws`; None when
    fewer than two are finite or the interval has zero width (so many resamples agree that a
    percentile interval would claim certainty the items do not give)."""
    finite = draws[np.isfinite(draws)]
    if len(finite) < 2:
        return None
    low, high = np.quantile(finite, [tail, 1 - tail])
    return None if low == high else (float(low), float(high))


def estimate_statistic(statistic: Callable[[np.ndarray], float], data: np.ndarray) -> Estimate:
    """A derived statistic over per-item rows (e.g. a bias score), with a seeded bootstrap CI.

    The standard error is the bootstrap standard deviation; the interval the expanded
    percentile one. No interval below `BOOTSTRAP_MIN_N` items or when it would have zero
    width (`bootstrap_interval`).
    """
    n = len(data)
    if n == 0:
        return Estimate(math.nan, 0, None, None, None, NONE_EMPTY)
    value = float(statistic(data))
    if n < BOOTSTRAP_MIN_N:
        return Estimate(value, n, None, None, None, NONE_TOO_FEW)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    draws = np.array([statistic(data[rng.integers(0, n, n)])
                      for _ in range(BOOTSTRAP_ITERATIONS)])
    interval = bootstrap_interval(draws, expanded_tail(n))
    if interval is None:
        return Estimate(value, n, None, None, None, NONE_CONSTANT_RESAMPLES)
    stderr = float(np.std(draws[np.isfinite(draws)], ddof=1))
    return Estimate(value, n, stderr, interval[0], interval[1], BOOTSTRAP)


def paired_counts(pairs: Sequence[tuple[float, float]]) -> tuple[int, int, int, int]:
    """(both 1, first only, second only, neither) over 0/1 pairs."""
    both = sum(1 for x, y in pairs if x and y)
    first = sum(1 for x, y in pairs if x and not y)
    second = sum(1 for x, y in pairs if y and not x)
    return both, first, second, len(pairs) - both - first - second


def outcome_correlation(both: int, first: int, second: int, neither: int) -> float:
    """The phi coefficient of the two 0/1 outcomes with Newcombe's continuity correction (a
    positive cross-product difference shrinks by n/2, to no less than 0), so a few agreeing
    pairs do not narrow the interval too far; 0 when either outcome never varies."""
    denominator = (both + first) * (second + neither) * (both + second) * (first + neither)
    if denominator == 0:
        return 0.0
    cross = both * neither - first * second
    if cross > 0:
        cross = max(0.0, cross - (both + first + second + neither) / 2)
    return cross / math.sqrt(denominator)


def paired_difference(pairs: Sequence[tuple[float, float]]) -> Estimate:
    """mean(x) - mean(y) over 0/1 pairs (x, y) with the paired MOVER 95% interval.

    Each rate's exact interval gives how far it may lie below or above its estimate; the
    difference's limits add those distances in quadrature, less twice their product times the
    outcomes' correlation (paired outcomes that move together make the difference surer).
    """
    n = len(pairs)
    if n == 0:
        return Estimate(math.nan, 0, None, None, None, NONE_EMPTY)
    both, first, second, neither = paired_counts(pairs)
    p1, p2 = (both + first) / n, (both + second) / n
    low1, high1 = clopper_pearson_interval(both + first, n)
    low2, high2 = clopper_pearson_interval(both + second, n)
    phi = outcome_correlation(both, first, second, neither)
    below = math.sqrt(max(0.0, (p1 - low1) ** 2 - 2 * phi * (p1 - low1) * (high2 - p2)
                          + (high2 - p2) ** 2))
    above = math.sqrt(max(0.0, (high1 - p1) ** 2 - 2 * phi * (high1 - p1) * (p2 - low2)
                          + (p2 - low2) ** 2))
    diffs = np.array([x - y for x, y in pairs], dtype=float)
    stderr = float(np.std(diffs, ddof=1) / math.sqrt(n)) if n > 1 else None
    return Estimate(p1 - p2, n, stderr, max(-1.0, p1 - p2 - below), min(1.0, p1 - p2 + above),
                    PAIRED_MOVER)


def wilson_interval(successes: int, n: int) -> tuple[float, float]:
    """Wilson's 95% score interval for a share of `successes` in `n` > 0 trials: the building
    block of Newcombe's interval for a difference of two shares."""
    z2 = Z95**2
    centre = (successes + z2 / 2) / (n + z2)
    half = Z95 * math.sqrt(successes * (n - successes) / n + z2 / 4) / (n + z2)
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_interval(successes_a: int, n_a: int, successes_b: int, n_b: int
                      ) -> tuple[float, float]:
    """95% interval for share_b - share_a of two independent samples: Newcombe's hybrid score
    interval (Statistics in Medicine 1998, method 10), built from each share's Wilson interval.

    Unlike a normal interval from the two standard errors it never leaves [-1, 1] and keeps
    width when a share is 0 or 1 (whose standard error is 0)."""
    share_a, share_b = successes_a / n_a, successes_b / n_b
    low_a, high_a = wilson_interval(successes_a, n_a)
    low_b, high_b = wilson_interval(successes_b, n_b)
    delta = share_b - share_a
    return (delta - math.hypot(share_b - low_b, high_a - share_a),
            delta + math.hypot(high_b - share_b, share_a - low_a))


def pooled_z_p_value(successes_a: int, n_a: int, successes_b: int, n_b: int) -> float:
    """Two-sided p-value of the pooled two-proportion z-test of share_b = share_a (1.0 when the
    pooled share is 0 or 1: both samples agree entirely)."""
    pooled = (successes_a + successes_b) / (n_a + n_b)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if spread == 0:
        return 1.0
    return math.erfc(abs(successes_b / n_b - successes_a / n_a) / spread / math.sqrt(2))
