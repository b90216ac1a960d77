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

A zero-width interval is never written: every method in `audit.stats` gives either a
positive-width interval or none, and no reported metric is constant by definition (values
relative to the reference language are not reported for the reference itself), so a
zero-width interval can only be a method that lost its sampling uncertainty (e.g. a bootstrap
whose resamples mostly agree). `graded` withholds such an interval, says so in `ci_method` and
logs a warning; the metric is then graded `insufficient`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from audit.metrics import MetricResult

log = logging.getLogger(__name__)

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
NONE_ZERO_WIDTH = ("none: the method gave a zero-width interval, which cannot hold 95% of "
                   "the sampling uncertainty, so it was withheld")


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
    """results.json metric records, each with its `evidence` grade (`units`: metric -> unit);
    a zero-width interval is withheld (see the module's docstring)."""
    records = []
    for metric in metrics:
        record = metric.to_dict()
        if record["ci_low"] is not None and record["ci_low"] == record["ci_high"]:
            log.warning("%s %s (n=%d): zero-width 95%% interval [%s, %s] (%s) withheld",
                        metric.metric, metric.group or "overall", record["n"],
                        record["ci_low"], record["ci_high"], record["ci_method"])
            record.update(ci_low=None, ci_high=None, ci_method=NONE_ZERO_WIDTH)
        record["evidence"] = grade(record["n"], record["ci_low"], record["ci_high"],
                                   record["value"], units.get(metric.metric, ""), screening)
        records.append(record)
    return records
