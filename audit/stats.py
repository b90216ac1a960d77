"""Uncertainty for every reported number: standard errors and 95% confidence intervals.

Binary outcomes (accuracy, refusal) get the Wilson score interval, which stays inside [0, 1] and
behaves at small n; other means and derived statistics get a seeded percentile bootstrap, so the
same data always gives the same interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054
BOOTSTRAP_ITERATIONS = 2000
BOOTSTRAP_SEED = 20251123


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


def wilson_interval(successes: float, n: int) -> tuple[float, float]:
    """95% Wilson score interval for a proportion."""
    if n == 0:
        return (math.nan, math.nan)
    p = successes / n
    denom = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def is_binary(values: Sequence[float]) -> bool:
    return all(v in (0, 1) for v in values)


def bootstrap_interval(statistic: Callable[[np.ndarray], float], data: np.ndarray,
                       iterations: int = BOOTSTRAP_ITERATIONS, seed: int = BOOTSTRAP_SEED
                       ) -> tuple[float, float]:
    """Percentile bootstrap 95% interval of `statistic` over rows of `data` (seeded)."""
    n = len(data)
    if n == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    draws = np.empty(iterations)
    for i in range(iterations):
        draws[i] = statistic(data[rng.integers(0, n, n)])
    finite = draws[np.isfinite(draws)]
    if len(finite) == 0:
        return (math.nan, math.nan)
    return (float(np.percentile(finite, 2.5)), float(np.percentile(finite, 97.5)))


def estimate_mean(values: Sequence[float]) -> Estimate:
    """Mean with stderr and a 95% CI: Wilson for 0/1 outcomes, bootstrap otherwise."""
    n = len(values)
    if n == 0:
        return Estimate(math.nan, 0, None, None, None, "none")
    array = np.asarray(values, dtype=float)
    mean = float(array.mean())
    if is_binary(values):
        low, high = wilson_interval(float(array.sum()), n)
        return Estimate(mean, n, stderr_of_mean(values), low, high, "wilson")
    low, high = bootstrap_interval(np.mean, array)
    return Estimate(mean, n, stderr_of_mean(values), low, high, "bootstrap-percentile")


def estimate_statistic(statistic: Callable[[np.ndarray], float], data: np.ndarray) -> Estimate:
    """A derived statistic over per-item rows (e.g. a bias score), with a bootstrap CI.

    The standard error is the bootstrap standard deviation of the statistic.
    """
    n = len(data)
    if n == 0:
        return Estimate(math.nan, 0, None, None, None, "none")
    value = float(statistic(data))
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    draws = np.array([statistic(data[rng.integers(0, n, n)])
                      for _ in range(BOOTSTRAP_ITERATIONS)])
    finite = draws[np.isfinite(draws)]
    if len(finite) < 2:
        return Estimate(value, n, None, None, None, "bootstrap-percentile")
    return Estimate(value, n, float(np.std(finite, ddof=1)), float(np.percentile(finite, 2.5)),
                    float(np.percentile(finite, 97.5)), "bootstrap-percentile")
