"""The report model: one tree of plain dataclasses that every renderer reads.

`build_report` (audit/report/build.py) turns run folders and a policy into a `Report`; the HTML
and Markdown renderers and the dashboard only lay it out. Nothing here reads files or formats
numbers for a particular medium, so the three views cannot disagree about a finding.
Model output sits in `Example.prompt` / `Example.response` as untrusted text: every renderer
escapes it, and harmful-request outputs arrive here already redacted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from audit.policy import GateResult, Light
from audit.report.compare import MetricDelta

# Metric columns per per-language table: what fits an A4 landscape page at the print size.
LANGUAGE_COLUMNS = 6
AREA_TITLES = {"capability": "Capability", "bias": "Bias", "multilingual": "Multilingual",
               "misuse": "Misuse", "energy": "Energy"}


@dataclass
class MetricRow:
    """One measured value with its definition: what the scorecard and the area tables list."""

    suite: str
    metric: str
    label: str
    description: str
    family: str
    area: str
    unit: str
    better: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    ci_method: str
    group: dict[str, str] = field(default_factory=dict)
    target: float | None = None
    formula: str = ""
    implementation: str = ""
    limits: str = ""
    light: Light = "grey"
    verdict: str = ""
    headline: bool = False


@dataclass
class Bar:
    """One bar of a chart: a value with its 95% interval."""

    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    n: int = 0
    light: Light = "grey"


@dataclass
class Chart:
    """A bar chart with CI whiskers and optional reference lines (chance, target, threshold)."""

    title: str
    unit: str
    better: str
    bars: list[Bar]
    references: list[tuple[float, str]] = field(default_factory=list)
    caption: str = ""


@dataclass
class Example:
    """One item as the model saw and answered it (escaped by every renderer)."""

    suite: str
    item: str
    group: str
    prompt: str
    response: str
    scores: dict[str, float]
    redacted: bool = False


@dataclass
class AreaSection:
    """Everything about one area (capability, bias, multilingual, misuse) in one run."""

    area: str
    title: str
    suites: list[dict[str, Any]]
    overall: list[MetricRow]
    by_group: list[MetricRow]
    charts: list[Chart]
    examples: list[Example]
    limits: list[str]
    skipped: list[dict[str, str]]


@dataclass
class LanguageRow:
    language: str
    name: str
    tier: str
    cells: list[MetricRow | None]


@dataclass
class LanguageTable:
    """Per language (ISO 639-3), every metric grouped by language, with tier where known.

    `columns` are (suite, metric, label, unit); `families` names each column's family (area).
    """

    columns: list[tuple[str, str, str, str]]
    rows: list[LanguageRow]
    reference: str | None = None
    families: list[str] = field(default_factory=list)
    title: str = ""

    def parts(self, max_columns: int) -> list[LanguageTable]:
        """The table cut into tables of one family each and at most `max_columns` metric
        columns (so each fits a printed page), titled "<Family> (k of n)" where cut; a
        language without any value in a part is left out of it. Every cell is in one part."""
        families = self.families or [""] * len(self.columns)
        parts = []
        for family in dict.fromkeys(families):
            indices = [i for i, f in enumerate(families) if f == family]
            chunks = [indices[i:i + max_columns] for i in range(0, len(indices), max_columns)]
            for number, chunk in enumerate(chunks, 1):
                rows = [LanguageRow(row.language, row.name, row.tier,
                                    [row.cells[i] for i in chunk]) for row in self.rows]
                rows = [row for row in rows if any(cell is not None for cell in row.cells)]
                title = AREA_TITLES.get(family, family.capitalize() or "Metrics")
                if len(chunks) > 1:
                    title += f" ({number} of {len(chunks)})"
                parts.append(LanguageTable(columns=[self.columns[i] for i in chunk], rows=rows,
                                           reference=self.reference,
                                           families=[family] * len(chunk), title=title))
        return parts


@dataclass
class EnergyRow:
    suite: str
    wh: float
    gco2e: float
    duration_s: float
    wh_per_1000_requests: float | None
    wh_per_1000_tokens: float | None
    wh_per_correct_answer: float | None
    method: str
    hardware: str


@dataclass
class EnergyComponent:
    """One component's share of the run's energy and how it was obtained."""

    component: str
    wh: float
    share: float | None
    method: str
    low_wh: float | None = None
    high_wh: float | None = None
    """The range the power models give (equal to `wh` when measured); None: no range known."""
    basis: str = ""
    """Where the range comes from."""


@dataclass
class EnergySection:
    rows: list[EnergyRow]
    total_wh: float
    total_gco2e: float
    note: str
    components: list[EnergyComponent] = field(default_factory=list)
    grid: str = ""
    """Grid carbon intensity, its country and its source."""
    pue: float = 1.0
    pue_note: str = ""
    """Where the PUE comes from (declared in the run config, or the default and why)."""

    @property
    def facility_wh(self) -> float:
        """The IT energy times the PUE: what the building drew for the audit."""
        return self.total_wh * self.pue

    @property
    def range_wh(self) -> tuple[float, float] | None:
        """The IT energy's low and high ends over the components' ranges (worst case: all
        models off in the same direction), or None when a component has no range."""
        if any(c.low_wh is None or c.high_wh is None for c in self.components):
            return None
        return (sum(c.low_wh or 0.0 for c in self.components),
                sum(c.high_wh or 0.0 for c in self.components))


@dataclass
class Finding:
    """A headline sentence for one area, with its traffic light."""

    area: str
    title: str
    sentence: str
    light: Light
    anchor: str
    meaning: str = ""


@dataclass
class CardSection:
    """One heading of the model-card section (Mitchell et al. 2019), as label/text pairs."""

    heading: str
    items: list[tuple[str, str]]


@dataclass
class CrosswalkRow:
    """A finding and the governance provisions it is evidence for."""

    finding: str
    anchor: str
    present: bool
    model_cards: str
    eu_ai_act: str
    nist_rmf: str
    status: str = "evidenced"
    """evidenced, partly or not evidenced; `why` says what is missing."""
    why: str = ""


@dataclass
class SignOffEntry:
    """A reviewer's recorded decision and whether what it covers is unchanged since."""

    reviewer: str
    role: str
    date: str
    decision: str
    conditions: str
    valid: bool
    status: str


@dataclass
class RunReport:
    """The report of one run."""

    run_id: str
    model_uri: str
    status: str
    created: str
    suites: list[str]
    findings: list[Finding]
    scorecard: list[MetricRow]
    areas: list[AreaSection]
    languages: LanguageTable | None
    energy: EnergySection | None
    gate: GateResult | None
    model_card: list[CardSection]
    reproducibility: list[tuple[str, str]]
    rerun_command: str
    crosswalk: list[CrosswalkRow]
    evidence_warning: str = ""
    """Empty when the run folder matches its manifest; else what `check_evidence` found."""
    screening: str | None = None
    signoffs: list[SignOffEntry] = field(default_factory=list)


@dataclass
class ChangeCount:
    """How many compared values of one family (or one language) changed significantly."""

    name: str
    label: str
    compared: int
    better: int
    worse: int
    other: int
    """Significant changes with no better direction (a metric judged against a target)."""


@dataclass
class VerdictFlip:
    """A policy rule whose verdict differs between the baseline and another run."""

    run: str
    rule: str
    before: str
    after: str


@dataclass
class EnergyChange:
    """Energy of the suites both runs measured: one measurement each, so no interval."""

    run: str
    suites: int
    wh_baseline: float
    wh_run: float


@dataclass
class ChangeSummary:
    """What changed, ranked: the first thing a reader of a comparison sees."""

    compared: int
    significant: int
    too_few_items: int
    by_family: list[ChangeCount]
    by_language: list[ChangeCount]
    ranked: list[MetricDelta]
    """Significant changes: worse first, then better, then the rest; strongest first."""
    flips: list[VerdictFlip]
    policy_applied: bool
    energy: list[EnergyChange]


@dataclass
class ParityCharts:
    """Cross-lingual safety parity of one run against the baseline (misuse/harmful's
    parallel requests): charts with a row per language, see audit/report/safety_parity.py."""

    run: str
    charts: list[Chart]


@dataclass
class Comparison:
    """Runs against a baseline on their shared items."""

    baseline: str
    others: list[str]
    deltas: list[MetricDelta]
    charts: list[Chart]
    summary: ChangeSummary | None = None
    parity: list[ParityCharts] = field(default_factory=list)


@dataclass
class Report:
    """The whole document: one or more runs, their comparison, and the reading guides."""

    title: str
    generated: str
    tool_version: str
    policy: str
    runs: list[RunReport]
    comparison: Comparison | None
    how_to_read: list[str]
    limits: list[str]
