"""Values, intervals and result groups as text: one wording for the gate, reports and rescoring.

The policy writes these into a verdict's evidence and every report lays them out, so both
must say a value the same way; this module sits below both.
"""

from __future__ import annotations


def format_value(value: float | None, unit: str) -> str:
    """A value in its unit: proportions as percentages, differences of proportions in
    percentage points, anything else with three significant figures; a missing value (None,
    or NaN as pandas frames hold it) is 'n/a'."""
    if value is None or value != value:
        return "n/a"
    if unit == "proportion":
        return f"{100 * value:.1f}%"
    if unit == "proportion points":
        return f"{100 * value:+.1f} pts"
    return f"{value:.3g}"


def interval_text(low: float | None, high: float | None, unit: str) -> str:
    """A 95% interval as 'low to high' in the metric's unit, or 'n/a'."""
    if low is None or high is None or low != low or high != high:
        return "n/a"
    return f"{format_value(low, unit)} to {format_value(high, unit)}"


def group_label(group: dict[str, str]) -> str:
    """A group as readable text: 'overall', or 'language=fra, tier=low'."""
    if not group:
        return "overall"
    return ", ".join(f"{key}={value}" for key, value in sorted(group.items()))
