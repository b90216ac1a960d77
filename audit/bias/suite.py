"""The common shape of the bias suites: items from data files, the provenance of every pack
file read, and metrics derived from per-item rows.

A derived metric is declared once (which samples, which per-item rows, which statistic) and
serves both the reported value with its interval (`metrics`) and the point value that run
comparisons bootstrap over shared items (`statistic`), so the two can never disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from audit.data.packs import DataFile
from audit.metrics import MetricResult
from audit.stats import Estimate, estimate_mean, estimate_statistic
from audit.suites.base import Sample, Suite, grouped


def everything(samples: list[Sample]) -> list[Sample]:
    """The default selection: every sample."""
    return samples


def first_column_mean(rows: np.ndarray) -> float:
    """The share of ones in the first column (an accuracy over 0/1 rows)."""
    return float(rows[:, 0].mean())


@dataclass(frozen=True)
class Derived:
    """A metric computed from per-item rows of the samples it selects.

    A `share` (the mean of a 0/1 first column) gets a Clopper-Pearson interval; any other statistic
    a seeded bootstrap over items.
    """

    rows: Callable[[list[Sample]], np.ndarray]
    statistic: Callable[[np.ndarray], float] = first_column_mean
    select: Callable[[list[Sample]], list[Sample]] = everything
    share: bool = False

    def estimate(self, samples: list[Sample]) -> Estimate:
        """Value, n and 95% interval over `samples` (already selected)."""
        rows = self.rows(samples)
        if self.share:
            return estimate_mean([float(value) for value in rows[:, 0]])
        return estimate_statistic(self.statistic, rows)


def score_rows(*keys: str) -> Callable[[list[Sample]], np.ndarray]:
    """Rows made of the named per-sample scores, in order."""
    def rows(samples: list[Sample]) -> np.ndarray:
        return np.array([[s.scores[key] for key in keys] for s in samples],
                        dtype=float).reshape(-1, len(keys))
    return rows


class BiasSuite(Suite):
    """A bias suite: pack files' licence, citation and sha256 go into run.json next to the
    spec's own `data` entries, and `derived` metrics are reported and compared from rows."""

    files: ClassVar[tuple[DataFile, ...]] = ()
    derived: ClassVar[dict[str, Derived]] = {}

    def data_sources(self) -> list[dict[str, Any]]:
        return [file.provenance() for file in self.files] + super().data_sources()

    def metrics(self, samples: list[Sample]) -> list[MetricResult]:
        if not self.derived:
            return super().metrics(samples)
        results: list[MetricResult] = []
        for name, metric in self.derived.items():
            chosen = metric.select(samples)
            if chosen:
                results.extend(grouped(name, chosen, self.spec.group_by, metric.estimate))
        return results

    def statistic(self, metric: str, group: dict[str, str], samples: list[Sample]
                  ) -> float | None:
        derived = self.derived.get(metric)
        if derived is None:
            return None
        members = [s for s in derived.select(samples)
                   if all(s.group.get(key) == value for key, value in group.items())]
        if not members:
            return None
        value = derived.statistic(derived.rows(members))
        return None if np.isnan(value) else value
