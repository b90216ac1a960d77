"""Anytime-valid confidence sequences for the mean of per-item scores in [0, 1].

A fixed-n 95% interval is valid only when the number of items was fixed in advance. A run
that looks at its interval after every chunk and stops once it is narrow enough needs an
interval that holds at every time at once: a confidence sequence, which covers the mean at
all times simultaneously with probability at least 95%, so it stays valid at any stopping
time, including "the first time it was narrow enough".

Method: the hedged-capital betting confidence sequence with predictable plug-in bets of
Waudby-Smith and Ramdas, "Estimating means of bounded random variables by betting", JRSS
Series B 86(1), 2024 (arXiv:2010.09686), Section 4.3, in its sampling-without-replacement
form (their Section 6, after Waudby-Smith and Ramdas, "Confidence sequences for sampling
without replacement", NeurIPS 2020). For a candidate mean m, two gamblers bet that the items
drawn so far came from a set of N items with mean m, one on values above the mean and one
below:

    mu_i(m)  = (N m - sum_{j<i} x_j) / (N - i + 1)       the mean of the items not yet drawn
    K+_t(m)  = prod_{i<=t} (1 + min(l_i, c / mu_i(m))       (x_i - mu_i(m)))
    K-_t(m)  = prod_{i<=t} (1 - min(l_i, c / (1 - mu_i(m))) (x_i - mu_i(m)))
    l_i      = sqrt(2 log(2 / alpha) / (s2_{i-1} i log(1 + i)))   (uses x_1..x_{i-1} only)
    s2_i     = (1/4 + sum_{j<=i} (x_j - xbar_j)^2) / (i + 1)
    xbar_j   = (1/2 + sum_{k<=j} x_k) / (j + 1)

with c = 1/2. m is rejected from the first time max(K+/2, K-/2) reaches 1/alpha (Ville's
inequality bounds the chance that this ever happens at the true mean by alpha), or when no
set of the remaining items could have mean m. The sequence at time t is every m not rejected
at any time up to t; K+ falls and K- rises with m, so it is an interval, whose ends are found
by bisection and rounded outward. With `population=None` the items are taken as independent
draws (mu_i(m) = m). The order of the values must be the random order they were drawn in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

METHOD = ("hedged-capital betting confidence sequence, predictable plug-in bets, sampling "
          "without replacement (Waudby-Smith & Ramdas, JRSS-B 2024, arXiv:2010.09686)")
ALPHA = 0.05
#: Most a bet may risk, as a share of the gambler's wealth (the paper's c).
BET_CAP = 0.5
_BISECTIONS = 30


@dataclass(frozen=True)
class Bound:
    """The confidence sequence's interval after `n` items: valid at any stopping time."""

    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        """Half the interval's width: the precision a stopping rule compares with its target."""
        return (self.high - self.low) / 2


def _bets(values: np.ndarray, alpha: float) -> np.ndarray:
    """The predictable plug-in bet sizes l_i of each row of `values` (see the module's
    docstring): l_i depends on the values before i only."""
    batch, steps = values.shape
    index = np.arange(1, steps + 1)
    running_mean = (0.5 + np.cumsum(values, axis=1)) / (index + 1)
    variance = (0.25 + np.cumsum((values - running_mean) ** 2, axis=1)) / (index + 1)
    previous = np.concatenate([np.full((batch, 1), 0.25), variance[:, :-1]], axis=1)
    return np.sqrt(2 * math.log(2 / alpha) / (previous * index * np.log1p(index)))


def _remaining_means(values: np.ndarray, candidate: np.ndarray, population: int | None
                     ) -> np.ndarray:
    """mu_i(m) for every row and step: the mean of the items not yet drawn if the whole set's
    mean were `candidate` (one per row); `candidate` itself for independent draws."""
    if population is None:
        return np.broadcast_to(candidate[:, None], values.shape)
    steps = values.shape[1]
    drawn_before = np.cumsum(values, axis=1) - values
    left = population - np.arange(steps)
    return (population * candidate[:, None] - drawn_before) / left


def _peak_log_wealth(values: np.ndarray, bets: np.ndarray, candidate: np.ndarray,
                     population: int | None, upper: bool) -> np.ndarray:
    """Per row, the highest log wealth up to the last step of the gambler betting on values
    above (`upper=False`: K+) or below (`upper=True`: K-) the candidate mean."""
    remaining = np.clip(_remaining_means(values, candidate, population), 0.0, 1.0)
    with np.errstate(divide="ignore"):
        room = 1.0 - remaining if upper else remaining
        stake = np.minimum(bets, BET_CAP / room)
    sign = -1.0 if upper else 1.0
    log_wealth = np.cumsum(np.log1p(sign * stake * (values - remaining)), axis=1)
    return log_wealth.max(axis=1)


def _feasible(values: np.ndarray, population: int | None) -> tuple[np.ndarray, np.ndarray]:
    """The means the whole set can still have, given what was drawn: [0, 1] for
    independent draws."""
    batch = values.shape[0]
    if population is None:
        return np.zeros(batch), np.ones(batch)
    total = values.sum(axis=1)
    return total / population, (total + population - values.shape[1]) / population


def bounds(values: np.ndarray, population: int | None = None, alpha: float = ALPHA
           ) -> tuple[np.ndarray, np.ndarray]:
    """The confidence sequence of each row of `values` (rows: sequences of scores in [0, 1]
    in drawn order, all of one length t) at time t: per row, its low and high end.

    `population` is the number of items the draws come from without replacement (None:
    independent draws). Batched over rows so that simulations run in one pass.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2 or values.shape[1] == 0:
        raise ValueError("values must be a non-empty 2-D array: one row per sequence")
    if values.min() < 0 or values.max() > 1:
        raise ValueError("a confidence sequence for bounded means needs scores in [0, 1]")
    if population is not None and values.shape[1] > population:
        raise ValueError(f"{values.shape[1]} draws exceed the population of {population}")
    bets = _bets(values, alpha)
    threshold = math.log(2 / alpha)
    floor, ceiling = _feasible(values, population)
    ends = []
    for upper in (False, True):
        # Rejected candidates lie below the low end (K+) or above the high end (K-).
        inside, outside = (ceiling, floor) if not upper else (floor, ceiling)
        inside, outside = inside.copy(), outside.copy()
        untouched = _peak_log_wealth(values, bets, outside, population, upper) < threshold
        for _ in range(_BISECTIONS):
            middle = (inside + outside) / 2
            rejected = _peak_log_wealth(values, bets, middle, population, upper) >= threshold
            outside = np.where(rejected, middle, outside)
            inside = np.where(rejected, inside, middle)
        # `outside` is a rejected candidate next to the boundary: the conservative end.
        start = floor if not upper else ceiling
        ends.append(np.where(untouched, start, outside))
    low, high = ends
    crossed = low > high  # every candidate rejected: the data contradict each mean
    middle = (low + high) / 2
    return np.where(crossed, middle, low), np.where(crossed, middle, high)


def bound(values: Sequence[float], population: int | None = None, alpha: float = ALPHA
          ) -> Bound:
    """The confidence sequence after the scores `values` (in drawn order)."""
    low, high = bounds(np.asarray([values], dtype=float), population, alpha)
    return Bound(float(low[0]), float(high[0]), len(values))


#: Slack when comparing a half-width with its target: an interval's ends are computed in
#: floating point, so an exact half-width of 0.05 (e.g. 50 of 500 items each side) can come
#: out 0.05000000000000002.
_ROUNDING = 1e-12


def precise(current: Bound, precision: float) -> bool:
    """Whether an interval has reached its target: half-width at most `precision`."""
    return current.half_width <= precision + _ROUNDING


def stopping_point(values: Sequence[float], population: int | None, precision: float,
                   chunk: int, alpha: float = ALPHA) -> tuple[int, Bound]:
    """Where a chunked sequential draw of `values` stops, and its interval there: after the
    first whole chunk whose interval is `precise`, else after every value."""
    for end in range(chunk, len(values) + chunk, chunk):
        current = bound(values[:min(end, len(values))], population, alpha)
        if precise(current, precision) or end >= len(values):
            return current.n, current
    raise ValueError("no values to stop on")
