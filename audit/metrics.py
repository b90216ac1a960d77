"""What a metric is (display metadata) and what a measured value of it looks like.

Suites declare `MetricInfo` in their spec so the report and the dashboard render names,
directions and units without hard-coding them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from audit.stats import Estimate

Direction = Literal["higher", "lower", "target"]


@dataclass(frozen=True)
class MetricInfo:
    """A metric's definition: name, label, formula, unit, which direction is better, limits."""

    name: str
    label: str
    description: str
    formula: str
    unit: str = "proportion"
    better: Direction = "higher"
    target: float | None = None
    family: str = "accuracy"
    implementation: str = ""
    limits: str = ""
    headline: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class MetricResult:
    """One measured value: metric, value, n, stderr, 95% CI, and the group it covers."""

    metric: str
    value: float
    n: int
    stderr: float | None
    ci_low: float | None
    ci_high: float | None
    ci_method: str
    group: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_estimate(cls, metric: str, estimate: Estimate,
                      group: dict[str, str] | None = None) -> MetricResult:
        return cls(metric, estimate.value, estimate.n, estimate.stderr, estimate.ci_low,
                   estimate.ci_high, estimate.ci_method, dict(group or {}))

    def to_dict(self) -> dict[str, Any]:
        record = asdict(self)
        for key in ("value", "stderr", "ci_low", "ci_high"):
            value = record[key]
            if isinstance(value, float) and not math.isfinite(value):
                record[key] = None
        return record
