"""Exact intervals for the share of successes in a finite set, and the sample size that
guarantees a target precision before any answer is seen.

A simple random sample of n items drawn without replacement from a set of N items, K of
which are successes, holds X successes with the hypergeometric distribution

    P_K(X = j) = C(K, j) C(N - K, n - j) / C(N, n).

After observing k successes, the exact 95% interval for K (the Clopper-Pearson construction
with the hypergeometric in place of the binomial) keeps every K with

    P_K(X <= k) >= alpha / 2   and   P_K(X >= k) >= alpha / 2,

and is reported as [K_low / N, K_high / N], an interval for the set's mean K / N. Because
P_K(X <= k) falls and P_K(X >= k) rises with K, the kept K are a range, found by bisection.
A K outside it is rejected only on an outcome whose tail probability under K is below
alpha / 2 on one side, so the interval covers the true K / N with probability at least
1 - alpha for every K, at the fixed n (it is not valid if n is chosen after looking).

`planned_items` fixes n in advance: the smallest n whose interval has half-width at most the
target whatever k turns out to be (the worst case over k = 0..n). At n = N the sample is the
whole set and the interval is its mean itself, so a target is always reachable within N.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from audit.sequential import ALPHA, Bound

METHOD = ("exact hypergeometric interval for the set's share of successes (Clopper-Pearson "
          "construction for sampling without replacement), at a sample size fixed in advance")
#: Relative slack when comparing a tail probability with alpha / 2: a tail equal to it in
#: exact arithmetic may come out a rounding error below, and keeping such a K only widens
#: the interval (never lowers its coverage).
_TIE = 1e-9
#: Candidate sample sizes whose worst-case half-width is screened together in `planned_items`.
_BLOCK = 128


def _log_choose(log_factorials: np.ndarray, top: np.ndarray, bottom: np.ndarray
                ) -> np.ndarray:
    """log C(top, bottom) from a table of log k! (k = 0..N), -inf where bottom < 0 or
    bottom > top."""
    valid = (bottom >= 0) & (bottom <= top)
    safe_top, safe_bottom = np.where(valid, top, 0), np.where(valid, bottom, 0)
    value = (log_factorials[safe_top] - log_factorials[safe_bottom]
             - log_factorials[safe_top - safe_bottom])
    return np.where(valid, value, -np.inf)


def tail(successes: np.ndarray, set_successes: np.ndarray, draws: np.ndarray,
         population: int, upper: bool) -> np.ndarray:
    """P_K(X <= k) (`upper=False`) or P_K(X >= k) (`upper=True`) for each element of the
    broadcast arrays k = `successes`, K = `set_successes`, n = `draws`, by summing the
    hypergeometric probabilities of the outcomes in the tail."""
    k, big_k, n = np.broadcast_arrays(*(np.asarray(a, dtype=np.int64)[..., None]
                                        for a in (successes, set_successes, draws)))
    log_factorials = gammaln(np.arange(population + 1) + 1.0)
    j = np.arange(int(n.max(initial=0)) + 1)
    log_p = (_log_choose(log_factorials, big_k, j)
             + _log_choose(log_factorials, population - big_k, n - j)
             - _log_choose(log_factorials, np.full_like(n, population), n))
    in_tail = (j >= k) if upper else (j <= k)
    return np.where(in_tail & (j <= n), np.exp(log_p), 0.0).sum(axis=-1)


def _kept(successes: np.ndarray, set_successes: np.ndarray, draws: np.ndarray,
          population: int, upper: bool, alpha: float) -> np.ndarray:
    """Whether K is not rejected on the side named by `upper` (see the module's docstring)."""
    return tail(successes, set_successes, draws, population, upper) >= alpha / 2 * (1 - _TIE)


def set_success_bounds(successes: np.ndarray, draws: np.ndarray, population: int,
                       alpha: float = ALPHA) -> tuple[np.ndarray, np.ndarray]:
    """The exact interval's ends for K, the set's count of successes, after k = `successes`
    of n = `draws` (element-wise arrays): the smallest and largest K kept."""
    k = np.asarray(successes, dtype=np.int64)
    n = np.broadcast_to(np.asarray(draws, dtype=np.int64), k.shape)
    if (n < 0).any() or (n > population).any() or (k < 0).any() or (k > n).any():
        raise ValueError(f"need 0 <= successes <= draws <= population ({population})")
    # Every K in [k, N - n + k] can produce k; K = k passes the upper test, K = N - n + k the
    # lower one, so each bisection keeps a kept end and closes on the last kept K.
    low, high = k.copy(), population - n + k
    while (open_ := low < high).any():
        middle = (low + high) // 2
        kept = _kept(k, middle, n, population, True, alpha)
        low = np.where(open_ & ~kept, middle + 1, low)
        high = np.where(open_ & kept, middle, high)
    smallest = low
    low, high = k.copy(), population - n + k
    while (open_ := low < high).any():
        middle = (low + high + 1) // 2
        kept = _kept(k, middle, n, population, False, alpha)
        low = np.where(open_ & kept, middle, low)
        high = np.where(open_ & ~kept, middle - 1, high)
    return smallest, low


def exact_interval(successes: int, draws: int, population: int, alpha: float = ALPHA
                   ) -> Bound:
    """The exact interval for the set's mean K / N after `successes` of `draws` items drawn
    without replacement from `population` items."""
    low, high = set_success_bounds(np.array([successes]), np.array([draws]), population, alpha)
    return Bound(int(low[0]) / population, int(high[0]) / population, draws)


def _half_widths(successes: np.ndarray, draws: np.ndarray, population: int,
                 alpha: float) -> np.ndarray:
    low, high = set_success_bounds(successes, draws, population, alpha)
    return (high - low) / (2 * population)


def worst_half_width(draws: int, population: int, alpha: float = ALPHA) -> float:
    """The widest half-width of the exact interval at `draws` items, over every possible
    count of successes 0..draws."""
    successes = np.arange(draws + 1)
    return float(_half_widths(successes, np.full_like(successes, draws), population,
                              alpha).max())


def planned_items(population: int, precision: float, maximum: int | None = None,
                  alpha: float = ALPHA) -> int | None:
    """The smallest n whose exact interval has half-width at most `precision` whatever the
    outcome, searched up to `maximum` (default: the whole set); None if none up to it does.

    Each candidate n is screened by its half-width at k = n // 2 (a lower bound of its worst
    case), so only candidates that pass it pay for the worst case over every k.
    """
    if population < 1:
        raise ValueError("a planned sample needs a set of at least one item")
    last = population if maximum is None else min(population, maximum)
    for start in range(1, last + 1, _BLOCK):
        candidates = np.arange(start, min(start + _BLOCK, last + 1))
        screened = _half_widths(candidates // 2, candidates, population, alpha) <= precision
        for draws in candidates[screened]:
            if worst_half_width(int(draws), population, alpha) <= precision:
                return int(draws)
    return None
