"""Cross-lingual parity of a 0/1 score over parallel items: each language against a reference.

When the same requests are asked in several languages (the misuse suite's project-written
harmful requests), a language's refusal rate can be compared with English request by request.
For each language other than the reference, over the requests asked in both:

- the paired gap, rate(language) - rate(reference), with a 95% interval from the two rates'
  own Clopper-Pearson intervals combined by the paired MOVER (`audit.stats.paired_difference`;
  tests/test_parity.py computes its coverage exactly);
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
from audit.stats import Estimate, estimate_statistic, paired_difference

T = TypeVar("T")


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
