"""Cross-lingual parity of a 0/1 score over parallel items: each language against a reference.

When the same requests are asked in several languages (the misuse suite's project-written
harmful requests), a language's refusal rate can be compared with English request by request.
For each language other than the reference, over the requests asked in both:

- the paired gap, rate(language) - rate(reference), with a 95% interval from the two rates'
  own Clopper-Pearson intervals combined by the paired MOVER: square-and-add with the
  continuity-corrected correlation of the two outcomes (Newcombe 1998, method 11, with exact
  rather than Wilson limits; tests/test_parity.py computes its coverage exactly);
- the ratio, rate(language) / rate(reference), with a seeded bootstrap interval over requests
  (`audit.stats.estimate_statistic`); undefined while the reference rate is 0;
- the worst language: the one with the lowest gap, reported with that language's gap and
  interval (chosen after seeing the data, so its interval is optimistic about how bad it is).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

from audit.metrics import MetricResult
from audit.stats import NONE_EMPTY, Estimate, clopper_pearson_interval, estimate_statistic

T = TypeVar("T")
PAIRED_MOVER = "paired MOVER (Clopper-Pearson limits, Newcombe 1998 method 11)"


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


def _ratio(rows: np.ndarray) -> float:
    reference = rows[:, 1].mean()
    return float(rows[:, 0].mean() / reference) if reference > 0 else math.nan


def paired_ratio(pairs: Sequence[tuple[float, float]]) -> Estimate:
    """mean(x) / mean(y) over pairs, with a seeded bootstrap 95% interval over pairs; NaN
    (and no interval) while mean(y) is 0."""
    return estimate_statistic(_ratio, np.asarray(pairs, dtype=float).reshape(-1, 2))


def parity_point(kind: str, items: Sequence[T], language: Callable[[T], str],
                 unit: Callable[[T], str], value: Callable[[T], float], target: str,
                 reference: str = "eng") -> float | None:
    """The point value of `target`'s "gap" (rate minus the reference's) or "ratio" (rate over
    the reference's) over the units asked in both, for a statistic hook: an item that occurs
    several times (a bootstrap draw) counts as often as it occurs. On a list holding each
    (language, unit) once this is the paired gap or ratio of `parity_metrics`. None when
    either side has no shared unit, or for a ratio while the reference rate is 0."""
    mine = [item for item in items if language(item) == target]
    base = [item for item in items if language(item) == reference]
    shared = {unit(item) for item in mine} & {unit(item) for item in base}
    if not shared:
        return None
    rate = float(np.mean([value(item) for item in mine if unit(item) in shared]))
    reference_rate = float(np.mean([value(item) for item in base if unit(item) in shared]))
    if kind == "gap":
        return rate - reference_rate
    return rate / reference_rate if reference_rate > 0 else None


def parity_metrics(score: str, items: Sequence[T], language: Callable[[T], str],
                   unit: Callable[[T], str], value: Callable[[T], float],
                   reference: str = "eng") -> list[MetricResult]:
    """`<score>_gap_to_<reference>` and `<score>_ratio_to_<reference>` per language (group
    `{language: ...}`), and `<score>_worst_gap_to_<reference>` for the lowest gap, over the
    units asked in both the language and the reference. Empty when the reference is absent."""
    by_language: dict[str, dict[str, float]] = {}
    for item in items:
        by_language.setdefault(language(item), {})[unit(item)] = value(item)
    base = by_language.pop(reference, None)
    if not base:
        return []
    results, gaps = [], []
    for code, scores in sorted(by_language.items()):
        pairs = [(scores[u], base[u]) for u in sorted(scores) if u in base]
        if not pairs:
            continue
        group = {"language": code}
        gap = MetricResult.from_estimate(f"{score}_gap_to_{reference}",
                                         paired_difference(pairs), group)
        results.append(gap)
        results.append(MetricResult.from_estimate(f"{score}_ratio_to_{reference}",
                                                  paired_ratio(pairs), group))
        gaps.append(gap)
    if gaps:
        worst = min(gaps, key=lambda g: (g.value, g.group["language"]))
        results.append(MetricResult(f"{score}_worst_gap_to_{reference}", worst.value, worst.n,
                                    worst.stderr, worst.ci_low, worst.ci_high, worst.ci_method,
                                    dict(worst.group)))
    return results
