"""Render the report model as Markdown (for a repository, a ticket or a wiki).

Text from a run folder is untrusted: `md` turns HTML into entities and backslash-escapes every
Markdown punctuation mark, so model output can neither inject HTML nor form a link or image.
Charts appear as their tables (the HTML page carries the drawings).
"""

from __future__ import annotations

import re

from audit.formatting import format_value, interval_text
from audit.policy import GateResult
from audit.report.compare import MIN_ITEMS_FOR_SIGNIFICANCE, SIGNIFICANCE_RULE, MetricDelta
from audit.report.energy_text import COMPONENT_HEADERS, component_cells, totals_sentences
from audit.report.model import (
    LANGUAGE_COLUMNS,
    AreaSection,
    ChangeCount,
    ChangeSummary,
    Comparison,
    LanguageTable,
    MetricRow,
    ParityCharts,
    Report,
    RunReport,
)
from audit.report.summary import difference_text, direction_text, quantity

LIGHT_MARKS = {"green": "🟢 meets", "amber": "🟡 uncertain", "red": "🔴 fails", "grey": "⚪ —"}
_PUNCTUATION = re.compile(r"([\\`*_\[\]()#!|~])")
_BLOCK_START = re.compile(r"^(\s*)([-+]|\d+[.)])(?=\s|$)")
_LEADING_BLANKS = re.compile(r"\A[ \t]+")


def md(value: object) -> str:
    """Text made inert in Markdown: no HTML, no links, no emphasis; one line (for tables)."""
    text = _PUNCTUATION.sub(r"\\\1", str(value).replace("\r", ""))
    text = _BLOCK_START.sub(lambda m: m.group(1) + m.group(2)[:-1] + "\\" + m.group(2)[-1], text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # Leading blanks as character references: four spaces or a tab would open a code block.
    text = _LEADING_BLANKS.sub(lambda m: "".join(f"&#{ord(c)};" for c in m.group(0)), text)
    return text.replace("\n", "<br>")


def _table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _ci(row: MetricRow) -> str:
    return interval_text(row.ci_low, row.ci_high, row.unit)


def _metric_table(rows: list[MetricRow], with_group: bool) -> str:
    headers = ["Suite", "Metric"] + (["Group"] if with_group else []) + \
        ["Value", "95% CI", "n", "Better", "Policy"]
    body = []
    for r in rows:
        cells = [md(r.suite), md(r.label)]
        if with_group:
            cells.append(md(", ".join(f"{k}={v}" for k, v in sorted(r.group.items()))))
        better = direction_text(r.better, r.target, r.unit)
        cells += [md(format_value(r.value, r.unit)), md(_ci(r)), str(r.n), md(better),
                  LIGHT_MARKS[r.light] + (f" {md(r.verdict)}" if r.verdict else "")]
        body.append(cells)
    return _table(headers, body)


def _area(section: AreaSection) -> list[str]:
    lines = [f"## {md(section.title)}", ""]
    lines += [f"- **{md(s['name'])}**: {md(s['description'])} ({s['n_samples']} items)"
              for s in section.suites]
    lines += ["", _metric_table(section.overall, with_group=False), ""]
    if section.by_group:
        lines += ["By group:", "", _metric_table(section.by_group, with_group=True), ""]
    if section.limits:
        lines += ["Limits:", ""] + [f"- {md(text)}" for text in section.limits] + [""]
    if section.examples:
        lines += ["Example items (quoted as untrusted text; harmful-request outputs redacted):",
                  "", _table(["Item", "Prompt", "Model output", "Scores"], [
                      [md(f"{ex.suite} #{ex.item}"), md(ex.prompt), md(ex.response),
                       md(", ".join(f"{k}={v:g}" for k, v in ex.scores.items()))]
                      for ex in section.examples]), ""]
    return lines


def _languages(table: LanguageTable) -> list[str]:
    lines = ["## Per-language results", ""]
    for part in table.parts(LANGUAGE_COLUMNS):
        headers = ["Language", "Tier"] + [md(f"{label} ({suite})")
                                          for suite, _, label, _ in part.columns]
        rows = [[md(f"{row.name} ({row.language})"), md(row.tier)]
                + ["" if c is None else md(f"{format_value(c.value, c.unit)} [{_ci(c)}] n={c.n}")
                   for c in row.cells] for row in part.rows]
        lines += [f"### {md(part.title)}", "", _table(headers, rows), ""]
    return lines


def _gate(gate: GateResult) -> list[str]:
    status = "PASSED" if gate.passed else "FAILED"
    rows = [[md(v.rule), LIGHT_MARKS[v.light], md(v.status), md(v.evidence)]
            for v in gate.verdicts]
    return [f"## Policy gate: {md(gate.policy)}: **{status}**", "",
            _table(["Rule", "Light", "Status", "Evidence"], rows), ""]


def _significance(delta: MetricDelta) -> str:
    if delta.too_few_items:
        return "no: too few items to tell"
    return "yes" if delta.significant else "no"


def _counts(first: str, counts: list[ChangeCount]) -> str:
    return _table([first, "Compared", "Significantly better", "Significantly worse",
                   "Significant, no direction"],
                  [[md(c.label), str(c.compared), str(c.better), str(c.worse), str(c.other)]
                   for c in counts])


def _delta_cells(d: MetricDelta) -> list[str]:
    diff = difference_text
    return [md(d.run_b), md(d.suite), md(d.label), md(d.group_text),
            md(format_value(d.value_a, d.unit)), md(format_value(d.value_b, d.unit)),
            md(diff(d.delta, d.unit)),
            md(f"{diff(d.ci_low, d.unit)} to {diff(d.ci_high, d.unit)}")
            if d.ci_low is not None else "n/a", str(d.n_pairs)]


def _change_summary(summary: ChangeSummary) -> list[str]:
    lines = ["### What changed", "",
             f"{summary.significant} of {summary.compared} compared values changed "
             f"significantly ({summary.too_few_items} rest on fewer than "
             f"{MIN_ITEMS_FOR_SIGNIFICANCE} items and cannot be called either way). "
             f"{md(SIGNIFICANCE_RULE)}.", "", _counts("Family", summary.by_family), ""]
    if summary.by_language:
        lines += [_counts("Language", summary.by_language), ""]
    direction = {True: "better", False: "WORSE", None: "changed (no better direction)"}
    lines += ["Significant changes, worse first:", ""]
    lines += [_table(["Run", "Suite", "Metric", "Group", "Baseline", "Run value",
                      "Difference", "95% CI", "Pairs", "Direction"],
                     [_delta_cells(d) + [direction[d.improved]] for d in summary.ranked]), ""
              ] if summary.ranked else ["None: no difference passes the significance rule.", ""]
    if not summary.policy_applied:
        lines += ["Policy verdicts that flipped: no policy applied.", ""]
    elif summary.flips:
        lines += ["Policy verdicts that flipped:", "",
                  _table(["Run", "Rule", "Baseline verdict", "Run verdict"],
                         [[md(f.run), md(f.rule), md(f.before), md(f.after)]
                          for f in summary.flips]), ""]
    else:
        lines += ["Policy verdicts that flipped: none.", ""]
    lines += [f"Energy of {md(c.run)} on the {c.suites} suites both runs measured: "
              f"{quantity(c.wh_run)} Wh against {quantity(c.wh_baseline)} Wh (one measurement "
              "each, no interval)." for c in summary.energy]
    return lines + ([""] if summary.energy else [])


def _parity(section: ParityCharts) -> list[str]:
    """The parity charts as tables, one row per bar (a chart's 'difference' is in percentage
    points)."""
    lines = [f"### Cross-lingual safety parity: {md(section.run)}", ""]
    for chart in section.charts:
        unit = "proportion points" if chart.unit == "difference" else chart.unit
        lines += [f"**{md(chart.title)}**", "", _table(
            ["Row", "Value", "95% CI", "n"],
            [[md(bar.label), format_value(bar.value, unit),
              interval_text(bar.low, bar.high, unit), str(bar.n)] for bar in chart.bars]),
            "", md(chart.caption), ""]
    return lines


def _comparison(comparison: Comparison) -> list[str]:
    rows = [_delta_cells(d) + [_significance(d), md(d.method)] for d in comparison.deltas]
    lines = [f"## Comparison against {md(comparison.baseline)}", ""]
    if comparison.summary:
        lines += _change_summary(comparison.summary)
    for section in comparison.parity:
        lines += _parity(section)
    return lines + [f"### All {len(rows)} comparisons", "",
                    _table(["Run", "Suite", "Metric", "Group", "Baseline", "Run value",
                            "Difference", "95% CI", "Pairs", "Significant", "Method"], rows),
                    ""]


def _signoff(run: RunReport) -> list[str]:
    if not run.signoffs:
        return ["## Sign-off", "", "Not signed off. A reviewer records a decision with "
                f"`fm-audit sign {md(run.run_id)} --reviewer NAME --role ROLE --decision "
                "approve|reject|conditions [--conditions TEXT]`.", ""]
    return ["## Sign-off", "",
            _table(["Reviewer", "Role", "Date (UTC)", "Decision", "Conditions", "Checked now"],
                   [[md(s.reviewer), md(s.role), md(s.date), md(s.decision), md(s.conditions),
                     md(s.status)] for s in run.signoffs]), ""]


def _run(run: RunReport, several: bool) -> list[str]:
    lines = [f"# Run {md(run.run_id)}: {md(run.model_uri)}", ""] if several else []
    lines += _signoff(run)
    if run.gate:
        lines += _gate(run.gate)
    lines += ["## Scorecard", "", _metric_table(run.scorecard, with_group=False), ""]
    for section in run.areas:
        lines += _area(section)
    if run.languages:
        lines += _languages(run.languages)
    if run.energy:
        energy = run.energy
        lines += ["## Energy", ""]
        for line in totals_sentences(energy):
            lines += [md(line), ""]
        lines += [_table(["Suite", "Wh", "Wh / 1,000 requests", "Method"],
                         [[md(r.suite), quantity(r.wh), quantity(r.wh_per_1000_requests),
                           md(r.method)]
                          for r in energy.rows]), "",
                  _table(COMPONENT_HEADERS,
                         [[md(cell) for cell in component_cells(c)]
                          for c in energy.components]), "",
                  f"Grid carbon intensity: {md(energy.grid)}.", "",
                  md(energy.note), ""]
    lines += ["## Model card", ""]
    for section in run.model_card:
        lines += [f"### {md(section.heading)}", ""]
        lines += [f"- **{md(k)}**: {md(v)}" for k, v in section.items] + [""]
    lines += ["## Governance crosswalk", "",
              _table(["Finding", "Evidence", "Model Cards", "EU AI Act", "NIST AI RMF (Measure)"],
                     [[md(c.finding), md(c.status + (f": {c.why}" if c.why else "")),
                       md(c.model_cards), md(c.eu_ai_act), md(c.nist_rmf)]
                      for c in run.crosswalk]), ""]
    lines += ["## Reproducibility", "", f"Rerun with: {md(run.rerun_command)}", ""]
    lines += [f"- **{md(k)}**: {md(v)}" for k, v in run.reproducibility] + [""]
    return lines


def render_markdown(report: Report) -> str:
    """The whole report as a Markdown document."""
    several = len(report.runs) > 1
    lines = [f"# {md(report.title)}", ""]
    lines += [f"> **{md(run.evidence_warning)}**\n" for run in report.runs
              if run.evidence_warning]
    lines += [f"> **Sign-off by {md(s.reviewer)} ({md(s.date)}) of run {md(run.run_id)}: "
              f"{md(s.status)}**\n" for run in report.runs for s in run.signoffs if not s.valid]
    lines += [f"Generated {md(report.generated)} by fm-audit {md(report.tool_version)}. "
              + (f"Policy: {md(report.policy)}." if report.policy else "No policy applied."),
              ""]
    if report.comparison:  # a comparison opens with what changed
        lines += _comparison(report.comparison)
    lines += ["## Executive summary", ""]
    for run in report.runs:
        gate = ""
        if run.gate:
            gate = " (gate passed)" if run.gate.passed else " (gate FAILED)"
        lines += [f"### {md(run.model_uri)}, run {md(run.run_id)}{gate}", ""]
        if run.screening:
            lines += [f"**{md(run.screening)}**", ""]
        lines += [f"- {LIGHT_MARKS[f.light]} **{md(f.title)}**: {md(f.sentence)}"
                  for f in run.findings] + [""]
    lines += ["## How to read this report", ""] + [f"- {md(p)}" for p in report.how_to_read]
    lines.append("")
    for run in report.runs:
        lines += _run(run, several)
    lines += ["## Limits of these measurements", ""] + [f"- {md(p)}" for p in report.limits]
    return "\n".join(lines) + "\n"
