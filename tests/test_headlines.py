"""Headlines chosen on purpose: declared headline metrics, ties said as ties, ranges labelled
as ranges, gaps in percentage points, and the screening label on quick runs."""

from __future__ import annotations

from audit.evidence import INSUFFICIENT, SCREENING, grade, screening_run
from audit.formatting import format_value
from audit.report.build import _energy_finding, _headline, _worst_language
from audit.report.model import EnergyRow, EnergySection, LanguageRow, LanguageTable, MetricRow
from audit.report.summary import screening_banner


def row(suite: str, value: float, headline: bool = False, **extra) -> MetricRow:
    return MetricRow(suite=suite, metric="acc", label="Accuracy", description="", family="",
                     area="capability", unit="proportion", better="higher", value=value,
                     ci_low=None, ci_high=None, n=10, ci_method="x", headline=headline, **extra)


def test_declared_headline_wins_over_suite_order() -> None:
    smoke, mmlu = row("capability/core_mc", 0.56), row("capability/mmlu", 0.25, headline=True)
    assert _headline("capability", [smoke, mmlu]) is mmlu
    assert _headline("capability", [smoke, row("capability/mmlu", 0.25)]) is smoke


def languages(values: dict[str, float]) -> LanguageTable:
    return LanguageTable(columns=[("s", "acc", "Refusal", "proportion")],
                         rows=[LanguageRow(code, code.upper(), "high", [row("s", value)])
                               for code, value in values.items()])


def test_ties_are_said_as_ties() -> None:
    assert _worst_language(languages({"eng": 0.0, "fra": 0.0, "swh": 0.0})) == \
        "All 3 languages tied on Refusal at 0.0%."
    text = _worst_language(languages({"eng": 0.5, "fra": 0.1, "swh": 0.1}))
    assert text.startswith("Weakest languages on Refusal, tied at 10.0%:") and "swh" in text
    assert _worst_language(languages({"eng": 0.5, "fra": 0.1})) == \
        "Weakest language on Refusal: FRA (fra) at 10.0%."


def test_energy_range_is_labelled_a_range() -> None:
    rows = [EnergyRow("a", 1.0, 1.0, 1.0, rate, None, None, "measured", "")
            for rate in (0.0896, 20.1)]
    sentence = _energy_finding(EnergySection(rows, 2.0, 2.0, "")).sentence
    assert "from 0.0896 (lowest suite) to 20.1 (highest suite; a range over suites" in sentence


def test_gaps_print_in_percentage_points() -> None:
    assert format_value(0.1, "proportion points") == "+10.0 pts"
    assert format_value(-0.05, "proportion points") == "-5.0 pts"


def test_screening_label_and_grades() -> None:
    assert screening_run("quick", None) and screening_run("standard", 20)
    assert not screening_run("standard", None)
    assert "SCREENING ONLY, NOT DECISION-GRADE" in screening_banner(
        {"config": {"profile": "quick", "limit": None}})
    assert screening_banner({"config": {"profile": "standard", "limit": None}}) is None
    # n = 8 with an interval: screening at best; n = 500 with a narrow interval: decision-grade
    # unless the run is a screening; no interval: insufficient.
    assert grade(8, 0.0, 0.37, 0.0, "proportion") == INSUFFICIENT
    assert grade(50, 0.4, 0.7, 0.55, "proportion") == SCREENING
    assert grade(500, 0.45, 0.54, 0.5, "proportion") == "decision-grade"
    assert grade(500, 0.45, 0.54, 0.5, "proportion", screening=True) == SCREENING
    assert grade(500, None, None, 0.5, "proportion") == INSUFFICIENT
    assert grade(500, 1.9, 2.1, 2.0, "bits/byte") == "decision-grade"
    assert grade(500, 1.0, 3.0, 2.0, "bits/byte") == SCREENING
