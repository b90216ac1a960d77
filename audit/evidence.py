"""How far a number's evidence goes: decision-grade, screening or insufficient.

Every threshold lives here. A metric is

- `insufficient` when it has no 95% interval or fewer than `MIN_N` items: the data cannot
  bound it;
- `decision-grade` when it rests on at least `DECISION_MIN_N` items and its interval is
  narrow: at most `DECISION_MAX_WIDTH` wide for a proportion, a difference of proportions
  (0.20 is 20 percentage points) or a score from -1 to 1; at most
  `DECISION_MAX_RELATIVE_WIDTH` times its value for any other unit;
- `screening` otherwise: worth a look, not a decision.

A run made with the quick profile or any `--limit` measures a sample of each suite chosen for
speed, so none of its metrics is decision-grade (`screening_run`), and every page that shows
it says `SCREENING_LABEL`. A policy rule needs `POLICY_MIN_N` items per value it judges unless
the rule sets its own `min_n`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from audit.metrics import MetricResult

Grade = Literal["decision-grade", "screening", "insufficient"]
DECISION_GRADE: Grade = "decision-grade"
SCREENING: Grade = "screening"
INSUFFICIENT: Grade = "insufficient"

MIN_N = 10
DECISION_MIN_N = 100
DECISION_MAX_WIDTH = 0.20
DECISION_MAX_RELATIVE_WIDTH = 0.20
POLICY_MIN_N = 30
ABSOLUTE_UNITS = frozenset({"proportion", "difference", "proportion points", "score (-1 to 1)"})
SCREENING_LABEL = "screening only, not decision-grade"


def grade(n: int, ci_low: float | None, ci_high: float | None, value: float | None,
          unit: str, screening: bool = False) -> Grade:
    """The grade of one metric from its n and interval width (see the module's docstring);
    at most `screening` when the run itself is a screening."""
    if ci_low is None or ci_high is None or n < MIN_N:
        return INSUFFICIENT
    width = ci_high - ci_low
    if unit in ABSOLUTE_UNITS:
        narrow = width <= DECISION_MAX_WIDTH
    else:
        narrow = value is not None and value != 0 and width <= DECISION_MAX_RELATIVE_WIDTH * abs(
            value)
    return DECISION_GRADE if n >= DECISION_MIN_N and narrow and not screening else SCREENING


def screening_run(profile: str | None, limit: int | None) -> bool:
    """True for a run made with the quick profile or a `--limit`."""
    return profile == "quick" or limit is not None


def screening_config(config: dict[str, Any]) -> bool:
    """`screening_run` for a run.json `config` record."""
    return screening_run(config.get("profile"), config.get("limit"))


def graded(metrics: list[MetricResult], units: dict[str, str], screening: bool
           ) -> list[dict[str, Any]]:
    """results.json metric records, each with its `evidence` grade (`units`: metric -> unit)."""
    records = []
    for metric in metrics:
        record = metric.to_dict()
        record["evidence"] = grade(record["n"], record["ci_low"], record["ci_high"],
                                   record["value"], units.get(metric.metric, ""), screening)
        records.append(record)
    return records
