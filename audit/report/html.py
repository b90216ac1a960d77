"""Render the report model as one self-contained HTML page (inline CSS and SVG, no scripts).

The page needs no network and no JavaScript, prints to PDF as shown, and treats every string
from a run folder as untrusted: all text passes through `html.escape`.
"""

from __future__ import annotations

from html import escape

from audit.formatting import format_value, interval_text
from audit.policy import GateResult, Light
from audit.report.compare import MIN_ITEMS_FOR_SIGNIFICANCE, SIGNIFICANCE_RULE, MetricDelta
from audit.report.energy_text import COMPONENT_HEADERS, component_cells, totals_sentences
from audit.report.model import (
    LANGUAGE_COLUMNS,
    AreaSection,
    CardSection,
    ChangeCount,
    ChangeSummary,
    Chart,
    Comparison,
    EnergySection,
    Example,
    LanguageTable,
    MetricRow,
    ParityCharts,
    Report,
    RunReport,
)
from audit.report.summary import difference_text, direction_text, quantity
from audit.report.svg import render_svg

# Significant changes listed in a comparison's summary; the rest are in the full table.
RANKED_ROWS = 25

CROSSWALK_LIGHTS: dict[str, Light] = {"evidenced": "green", "partly": "amber",
                                      "not evidenced": "red"}
LIGHT_WORDS = {"green": "meets policy", "amber": "uncertain or warning", "red": "fails policy",
               "grey": "no rule / not measured"}

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;margin:0 auto;
padding:24px;color:#1a1a1a;line-height:1.45}
h1{font-size:1.7em;margin-bottom:0}h2{border-bottom:2px solid #ddd;padding-bottom:4px;
margin-top:2em}h3{margin-top:1.4em}
table{border-collapse:collapse;width:100%;margin:8px 0 16px;font-size:.92em}
.table-wrap{max-width:100%;overflow-x:auto}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top;
overflow-wrap:break-word}
th{background:#f2f4f7}td.num{text-align:right;white-space:nowrap}
.light{display:inline-block;width:.9em;height:.9em;border-radius:50%;vertical-align:-.1em;
margin-right:4px;border:1px solid #0003}
.green{background:#2e7d32}.amber{background:#e0a100}.red{background:#c62828}
.grey{background:#9e9e9e}
.finding{padding:6px 0;border-bottom:1px solid #eee}.meta{color:#555;font-size:.9em}
.badge{display:inline-block;padding:2px 10px;border-radius:12px;color:#fff;font-weight:bold}
.badge.pass{background:#2e7d32}.badge.fail{background:#c62828}.badge.none{background:#777}
pre.out{white-space:pre-wrap;word-break:break-word;background:#f7f7f7;border:1px solid #e2e2e2;
padding:6px;margin:2px 0;font-size:.85em;max-height:16em;overflow:auto}
nav a{margin-right:12px}figure{margin:8px 0 16px}figcaption{color:#555;font-size:.85em}
code{background:#f2f2f2;padding:0 3px}.keep-lines{white-space:pre-wrap}.nowrap{white-space:nowrap}
.evidence-warning{background:#fdecea;border:2px solid #c62828;padding:8px 12px;color:#8e0000}
@page{size:A4;margin:12mm}@page wide{size:A4 landscape;margin:10mm}
@media print{nav{display:none}h2{page-break-before:auto}figure{page-break-inside:avoid}
pre.out{max-height:none}body{max-width:none;padding:0}.table-wrap{overflow:visible}
.languages{page:wide;break-before:page}.language-part{page:wide;break-before:page}
.languages .language-part:first-of-type{break-before:auto}
.languages h2{margin:0 0 2px;font-size:1.1em}.languages>p{margin:0;font-size:.8em}
.language-part h3{margin:2px 0}
.language-part table{font-size:.74em;margin:4px 0}
.language-part th,.language-part td{padding:1px 4px}
tr{break-inside:avoid}}
"""


def e(value: object) -> str:
    """Escaped text (also safe inside attribute values)."""
    return escape(str(value), quote=True)


def light(colour: Light) -> str:
    return (f'<span class="light {colour}" title="{e(LIGHT_WORDS[colour])}"></span>'
            f'<span class="meta">{e(LIGHT_WORDS[colour])}</span>')


def _ci(row: MetricRow) -> str:
    return interval_text(row.ci_low, row.ci_high, row.unit)


def _table(headers: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    """A table whose cells are already-escaped HTML."""
    numeric = numeric or set()
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    thead = f"<thead><tr>{head}</tr></thead>" if any(headers) else ""
    body = "".join("<tr>" + "".join(
        f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
        for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f'<div class="table-wrap"><table>{thead}<tbody>{body}</tbody></table></div>'


def _metric_table(rows: list[MetricRow], with_group: bool) -> str:
    headers = ["Suite", "Metric"] + (["Group"] if with_group else []) + \
        ["Value", "95% CI", "n", "Better", "Policy"]
    body = []
    for r in rows:
        cells = [e(r.suite), f'<span title="{e(r.description)}">{e(r.label)}</span>']
        if with_group:
            cells.append(e(", ".join(f"{k}={v}" for k, v in sorted(r.group.items()))))
        cells += [e(format_value(r.value, r.unit)), e(_ci(r)), e(r.n),
                  e(direction_text(r.better, r.target, r.unit)),
                  light(r.light) + (f"<br><span class='meta'>{e(r.verdict)}</span>"
                                    if r.verdict else "")]
        body.append(cells)
    offset = 1 if with_group else 0
    return _table(headers, body, {2 + offset, 3 + offset, 4 + offset})


def _figure(chart: Chart) -> str:
    caption = f"<figcaption>{e(chart.caption)}</figcaption>" if chart.caption else ""
    return f"<figure>{render_svg(chart)}{caption}</figure>"


def _examples(examples: list[Example]) -> str:
    if not examples:
        return ""
    rows = []
    for ex in examples:
        scores = ", ".join(f"{k}={v:g}" for k, v in ex.scores.items())
        rows.append([e(f"{ex.suite} #{ex.item}") + f"<br><span class='meta'>{e(ex.group)}</span>",
                     f'<pre class="out">{e(ex.prompt)}</pre>',
                     f'<pre class="out">{e(ex.response)}</pre>', e(scores)])
    return ("<h3>Example items</h3><p class='meta'>Quoted exactly as untrusted text; outputs to "
            "harmful requests are redacted.</p>"
            + _table(["Item", "Prompt", "Model output", "Scores"], rows))


def _area(section: AreaSection, prefix: str) -> str:
    parts = [f'<h2 id="{prefix}area-{e(section.area)}">{e(section.title)}</h2>', "<ul>"]
    for suite in section.suites:
        limit = f", limited to {suite['limit']} per task" if suite.get("limit") else ""
        parts.append(f"<li><b>{e(suite['name'])}</b>: {e(suite['description'])} "
                     f"<span class='meta'>({e(suite['n_samples'])} items{e(limit)})</span></li>")
    parts.append("</ul>")
    parts.append(_metric_table(section.overall, with_group=False))
    parts += [_figure(chart) for chart in section.charts]
    if section.by_group:
        parts.append("<details><summary>All values by group</summary>"
                     + _metric_table(section.by_group, with_group=True) + "</details>")
    if section.skipped:
        parts.append("<h3>Not run</h3><ul>" + "".join(
            f"<li>{e(s.get('suite', ''))}: {e(s.get('what', ''))}: {e(s.get('reason', ''))}</li>"
            for s in section.skipped) + "</ul>")
    if section.limits:
        parts.append("<h3>Limits of these numbers</h3><ul>"
                     + "".join(f"<li>{e(text)}</li>" for text in section.limits) + "</ul>")
    parts.append(_examples(section.examples))
    return "\n".join(parts)


def _language_part(table: LanguageTable) -> str:
    headers = ["Language", "Tier"] + [f"{label} ({suite})" for suite, _, label, _ in
                                      table.columns]
    rows = []
    for row in table.rows:
        cells = [f"{e(row.name)} <span class='meta'>({e(row.language)})</span>",
                 f"<span class='nowrap'>{e(row.tier or '')}</span>"]
        for cell in row.cells:
            if cell is None:
                cells.append("")
                continue
            cells.append(f'<span class="light {cell.light}"></span>'
                         f"{e(format_value(cell.value, cell.unit))}<br>"
                         f"<span class='meta'>{e(_ci(cell))}, n={cell.n}</span>")
        rows.append(cells)
    return (f'<section class="language-part"><h3>{e(table.title)}</h3>'
            + _table(headers, rows) + "</section>")


def _languages(table: LanguageTable, prefix: str) -> str:
    note = (f"Reference language: {e(table.reference)}. " if table.reference else "")
    return (f'<section class="languages"><h2 id="{prefix}languages">Per-language results</h2>'
            f'<p class="meta">{note}Tier is '
            "the language's resource level as recorded by the suite. One table per family, "
            f"at most {LANGUAGE_COLUMNS} metrics wide, so that each prints on one A4 page "
            "(landscape).</p>"
            + "".join(_language_part(part) for part in table.parts(LANGUAGE_COLUMNS))
            + "</section>")


def _energy(energy: EnergySection, prefix: str) -> str:
    rows = [[e(r.suite), e(quantity(r.wh)), e(quantity(r.gco2e)), e(f"{r.duration_s:.0f}"),
             e(quantity(r.wh_per_1000_requests)), e(quantity(r.wh_per_1000_tokens)),
             e(quantity(r.wh_per_correct_answer)),
             e(r.method), e(r.hardware)] for r in energy.rows]
    return (f'<h2 id="{prefix}energy">Energy</h2>'
            + "".join(f"<p>{e(line)}</p>" for line in totals_sentences(energy))
            + _table(["Suite", "Wh", "g CO2e", "Seconds", "Wh / 1,000 requests",
                      "Wh / 1,000 tokens", "Wh / correct answer", "Method", "Hardware"],
                     rows, {1, 2, 3, 4, 5, 6})
            + "<h3>Per component</h3>"
            + _table(COMPONENT_HEADERS,
                     [[e(cell) for cell in component_cells(c)] for c in energy.components],
                     {1, 2})
            + f"<p>Grid carbon intensity: {e(energy.grid)}.</p>"
            + f"<p class='meta'>{e(energy.note)}</p>")


def _gate(gate: GateResult, prefix: str) -> str:
    badge = ('<span class="badge pass">GATE PASSED</span>' if gate.passed
             else '<span class="badge fail">GATE FAILED</span>')
    counts = ", ".join(f"{n} {status}" for status, n in gate.counts().items() if n)
    rows = [[e(v.rule), light(v.light), e(v.status) + (" (warn only)" if v.severity == "warn"
                                                         else ""),
             e(v.description), e(v.evidence)] for v in gate.verdicts]
    return (f'<h2 id="{prefix}gate">Policy gate: {e(gate.policy)}</h2><p>{badge} '
            f"<span class='meta'>{e(counts)}; policy file {e(gate.policy_path)}</span></p>"
            + _table(["Rule", "Light", "Status", "What it requires", "Evidence"], rows))


def _signoff(run: RunReport, prefix: str) -> str:
    head = f'<h2 id="{prefix}signoff">Sign-off</h2>'
    if not run.signoffs:
        return (head + "<p>Not signed off. A reviewer records a decision with "
                f"<code>fm-audit sign {e(run.run_id)} --reviewer NAME --role ROLE --decision "
                "approve|reject|conditions [--conditions TEXT]</code>, after reading this "
                "report.</p>")
    rows = [[e(s.reviewer), e(s.role), e(s.date), f"<b>{e(s.decision)}</b>",
             f'<span class="keep-lines">{e(s.conditions)}</span>',
             f'<span class="light {"green" if s.valid else "red"}"></span>{e(s.status)}']
            for s in run.signoffs]
    return (head + "<p class='meta'>Each sign-off holds the sha256 of the run's manifest and "
            "of the report the reviewer read (kept under signed/); both are checked again "
            "now. This detects changes after the sign-off; it is not a cryptographic "
            "signature.</p>"
            + _table(["Reviewer", "Role", "Date (UTC)", "Decision", "Conditions",
                      "Checked now"], rows))


def _card(sections: list[CardSection], prefix: str) -> str:
    parts = [f'<h2 id="{prefix}model-card">Model card</h2><p class="meta">Headings of Mitchell '
             "et al. (2019), Model Cards for Model Reporting.</p>"]
    for section in sections:
        parts.append(f"<h3>{e(section.heading)}</h3>")
        parts.append(_table(["", ""], [[f"<b>{e(k)}</b>", e(v)] for k, v in section.items]))
    return "\n".join(parts)


def _delta_row(d: MetricDelta) -> list[str]:
    unit = d.unit

    def show(value: float | None) -> str:
        return e(format_value(value, unit))

    def diff(value: float | None) -> str:
        return e(difference_text(value, unit))

    mark = "too few items to tell" if d.too_few_items else ""
    if d.significant:
        colour = "green" if d.improved else "red" if d.improved is False else "grey"
        mark = f'<span class="light {colour}"></span>significant'
    return [e(d.run_b), e(d.suite), e(d.label), e(d.group_text), show(d.value_a),
            show(d.value_b), diff(d.delta),
            f"{diff(d.ci_low)} to {diff(d.ci_high)}" if d.ci_low is not None else "n/a",
            e(d.n_pairs), mark, f"<span class='meta'>{e(d.method)}</span>"]


def _direction(d: MetricDelta) -> str:
    if d.improved is None:
        return '<span class="light grey"></span>changed (no better direction)'
    return (f'<span class="light {"green" if d.improved else "red"}"></span>'
            + ("better" if d.improved else "<b>worse</b>"))


def _counts_table(first: str, counts: list[ChangeCount]) -> str:
    return _table([first, "Compared", "Significantly better", "Significantly worse",
                   "Significant, no direction"],
                  [[e(c.label), e(c.compared), e(c.better),
                    f"<b>{c.worse}</b>" if c.worse else "0", e(c.other)] for c in counts],
                  {1, 2, 3, 4})


def _change_summary(summary: ChangeSummary) -> str:
    parts = ['<h3 id="what-changed">What changed</h3>',
             f"<p><b>{summary.significant}</b> of {summary.compared} compared values changed "
             f"significantly ({summary.too_few_items} rest on fewer than "
             f"{MIN_ITEMS_FOR_SIGNIFICANCE} items and cannot be called either way). "
             f"{e(SIGNIFICANCE_RULE)}.</p>",
             "<h4>By family</h4>",
             _counts_table("Family", summary.by_family)]
    if summary.by_language:
        parts += ["<h4>By language</h4><p class='meta'>Languages with the most significant "
                  "regressions first.</p>",
                  _counts_table("Language", summary.by_language)]
    shown = summary.ranked[:RANKED_ROWS]
    parts.append("<h4>Significant changes, worse first</h4>")
    if shown:
        parts.append(_table(["Run", "Suite", "Metric", "Group", "Baseline", "Run value",
                             "Difference", "95% CI", "Pairs", "Direction"],
                            [_delta_row(d)[:9] + [_direction(d)] for d in shown],
                            {4, 5, 6, 7, 8}))
        if len(summary.ranked) > len(shown):
            parts.append(f"<p class='meta'>and {len(summary.ranked) - len(shown)} more in the "
                         "full table below.</p>")
    else:
        parts.append("<p>None: no difference passes the significance rule.</p>")
    parts.append("<h4>Policy verdicts that flipped</h4>")
    if not summary.policy_applied:
        parts.append("<p>No policy applied, so there are no verdicts to compare (use "
                     "<code>--policy</code>).</p>")
    elif summary.flips:
        parts.append(_table(["Run", "Rule", "Baseline verdict", "Run verdict"],
                            [[e(f.run), e(f.rule), e(f.before), f"<b>{e(f.after)}</b>"]
                             for f in summary.flips]))
    else:
        parts.append("<p>None: every rule has the same verdict in every run.</p>")
    if summary.energy:
        parts += ["<h4>Energy</h4>", _table(
            ["Run", "Suites in both", "Baseline Wh", "Run Wh", "Change"],
            [[e(c.run), e(c.suites), e(quantity(c.wh_baseline)), e(quantity(c.wh_run)),
              e(f"{c.wh_run - c.wh_baseline:+.3g} Wh"
                + (f" ({100 * (c.wh_run / c.wh_baseline - 1):+.0f}%)" if c.wh_baseline
                   else ""))] for c in summary.energy], {1, 2, 3, 4}),
            "<p class='meta'>One CodeCarbon measurement per run, so no interval: CodeCarbon's "
            "estimates may be off by up to ~40%, and a change smaller than that is not "
            "evidence of a difference.</p>"]
    return "\n".join(parts)


def _parity(section: ParityCharts) -> str:
    return (f"<h3>Cross-lingual safety parity: {e(section.run)}</h3>"
            "<p>The project's harmful requests are the same in every language, so each "
            "language is compared request by request: with the baseline, and with English. "
            "Small n per language: read the intervals before the values.</p>"
            + "".join(_figure(c) for c in section.charts))


def _comparison(comparison: Comparison) -> str:
    rows = [_delta_row(d) for d in comparison.deltas]
    parts = ['<h2 id="comparison">Comparison between runs</h2>'
             f"<p>Baseline: <b>{e(comparison.baseline)}</b>. Each value is the other run minus "
             "the baseline on the items both answered, with a paired 95% interval "
             "(green: better, red: worse).</p>"]
    if comparison.summary:
        parts.append(_change_summary(comparison.summary))
    parts += [_parity(section) for section in comparison.parity]
    if comparison.charts:
        parts.append("<h3>Charts per family and language</h3>"
                     + "".join(_figure(c) for c in comparison.charts))
    parts.append(f"<details><summary>Full table: all {len(rows)} comparisons</summary>"
                 + _table(["Run", "Suite", "Metric", "Group", "Baseline", "Run value",
                           "Difference", "95% CI", "Pairs", "", "Method"], rows,
                          {4, 5, 6, 7, 8}) + "</details>")
    return "\n".join(parts)


def _run(run: RunReport, index: int, several: bool) -> str:
    prefix = f"r{index}-" if several else ""
    parts = [f'<section id="{prefix}run">']
    if several:
        parts.append(f"<h1>Run {e(run.run_id)}: {e(run.model_uri)}</h1>")
    parts.append(_signoff(run, prefix))
    if run.gate:
        parts.append(_gate(run.gate, prefix))
    parts.append(f'<h2 id="{prefix}scorecard">Scorecard</h2>'
                 + _metric_table(run.scorecard, with_group=False))
    parts += [_area(section, prefix) for section in run.areas]
    if run.languages:
        parts.append(_languages(run.languages, prefix))
    if run.energy:
        parts.append(_energy(run.energy, prefix))
    parts.append(_card(run.model_card, prefix))
    parts.append(f'<h2 id="{prefix}crosswalk">Governance crosswalk</h2>'
                 "<p>Where each finding answers what a regulator or standard asks.</p>"
                 + _table(["Finding in this report", "Evidence", "Model Cards", "EU AI Act",
                           "NIST AI RMF (Measure)"],
                          [[f'<a href="#{prefix}{e(c.anchor)}">{e(c.finding)}</a>',
                            f'<span class="light {CROSSWALK_LIGHTS[c.status]}"></span>'
                            f"{e(c.status)}"
                            + (f"<br><span class='meta'>{e(c.why)}</span>" if c.why else ""),
                            e(c.model_cards), e(c.eu_ai_act), e(c.nist_rmf)]
                           for c in run.crosswalk]))
    parts.append(f'<h2 id="{prefix}reproducibility">Reproducibility</h2>'
                 f"<p>Rerun with: <code>{e(run.rerun_command)}</code></p>"
                 + _table(["", ""], [[f"<b>{e(k)}</b>", f"<code>{e(v)}</code>"]
                                     for k, v in run.reproducibility]))
    parts.append("</section>")
    return "\n".join(parts)


def _summary(report: Report) -> str:
    several = len(report.runs) > 1
    parts = ['<h2 id="summary">Executive summary</h2>']
    for index, run in enumerate(report.runs):
        prefix = f"r{index}-" if several else ""
        verdict = ""
        if run.gate:
            verdict = (' <span class="badge pass">gate passed</span>' if run.gate.passed
                       else ' <span class="badge fail">gate failed</span>')
        parts.append(f"<h3>{e(run.model_uri)} <span class='meta'>(run {e(run.run_id)}, "
                     f"{e(run.status)})</span>{verdict}</h3>")
        if run.screening:
            parts.append(f'<p class="finding"><b>{e(run.screening)}</b></p>')
        for finding in run.findings:
            parts.append(f'<div class="finding">{light(finding.light)} '
                         f'<b><a href="#{prefix}{e(finding.anchor)}">{e(finding.title)}</a>'
                         f"</b>: {e(finding.sentence)}<br><span class='meta'>"
                         f"{e(finding.meaning)}</span></div>")
    return "\n".join(parts)


def render_html(report: Report) -> str:
    """The whole report as one HTML document."""
    several = len(report.runs) > 1
    nav = ['<a href="#summary">Summary</a>', '<a href="#how-to-read">How to read this</a>']
    if report.comparison:
        nav.append('<a href="#comparison">Comparison</a>')
    nav += ['<a href="#limits">Limits</a>']
    if not several:
        nav += ['<a href="#signoff">Sign-off</a>', '<a href="#scorecard">Scorecard</a>',
                '<a href="#model-card">Model card</a>', '<a href="#crosswalk">Crosswalk</a>',
                '<a href="#reproducibility">Reproducibility</a>']
    policy = f"Policy: {e(report.policy)}. " if report.policy else "No policy applied. "
    body = [f"<h1>{e(report.title)}</h1>"]
    body += [f'<p class="evidence-warning"><strong>{e(run.evidence_warning)}</strong></p>'
             for run in report.runs if run.evidence_warning]
    body += [f'<p class="evidence-warning"><strong>Sign-off by {e(s.reviewer)} ({e(s.date)}) '
             f"of run {e(run.run_id)}: {e(s.status)}</strong></p>"
             for run in report.runs for s in run.signoffs if not s.valid]
    body += [f"<p class='meta'>Generated {e(report.generated)} by fm-audit "
             f"{e(report.tool_version)}. {policy}Runs: "
             f"{e(', '.join(r.run_id for r in report.runs))}.</p>",
             "<nav>" + "".join(nav) + "</nav>"]
    # A comparison opens with what changed; the runs' own summaries follow.
    if report.comparison:
        body.append(_comparison(report.comparison))
    body += [_summary(report), '<h2 id="how-to-read">How to read this report</h2><ul>'
             + "".join(f"<li>{e(p)}</li>" for p in report.how_to_read) + "</ul>"]
    body += [_run(run, index, several) for index, run in enumerate(report.runs)]
    body.append('<h2 id="limits">Limits of these measurements</h2><ul>'
                + "".join(f"<li>{e(p)}</li>" for p in report.limits) + "</ul>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'; img-src data:\">"
            f"<title>{e(report.title)}</title><style>{CSS}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")
