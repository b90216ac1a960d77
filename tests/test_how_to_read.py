"""The report's "How to read" states the evidence grades as `audit.evidence.grade` applies
them, for shares and for numbers in other units."""

from __future__ import annotations

from audit.evidence import DECISION_GRADE, SCREENING, grade
from audit.report.guide import HOW_TO_READ


def test_how_to_read_states_both_width_rules_that_grade_applies() -> None:
    evidence = next(line for line in HOW_TO_READ if line.startswith("Evidence:"))
    assert ("at least 100 items and an interval at most 20 points wide for a share or a score "
            "from -1 to 1, at most 20% of the value for other numbers") in evidence
    # A share: 20 points wide is decision-grade at 100 items, 21 is not.
    assert grade(100, 0.40, 0.60, 0.5, "proportion") == DECISION_GRADE
    assert grade(100, 0.40, 0.61, 0.5, "proportion") == SCREENING
    # A ratio of 2.0: an interval 0.375 wide (under 20% of the value) is, 0.5 wide is not.
    assert grade(100, 1.8125, 2.1875, 2.0, "ratio") == DECISION_GRADE
    assert grade(100, 1.75, 2.25, 2.0, "ratio") == SCREENING
    assert grade(99, 1.8125, 2.1875, 2.0, "ratio") == SCREENING
