"""Build the report model from run folders and a policy.

Everything a report says is decided here, from what the run folder holds: metric definitions
come from each suite's `metric_info` (declared in its suite.yaml), areas from the suites'
families, languages from metric groups keyed `language` (ISO 639-3, with `tier` read from a
group key where a suite gives one). Renderers only lay the result out.
"""

from __future__ import annotations

import logging
import shlex
from datetime import datetime, timezone
from typing import Any

from audit import __version__
from audit.energy import DEFAULT_PUE, PUE_REASON, component_ranges
from audit.formatting import format_value, group_label, interval_text
from audit.policy import AREAS, GateResult, Light, Policy, evaluate_policy
from audit.redaction import hidden_in_reports, redaction_note
from audit.report.audit_card import declared_use
from audit.report.changes import summarise_changes
from audit.report.compare import MetricDelta, compare_runs
from audit.report.guide import AREA_MEANING, CROSSWALK, HOW_TO_READ, LIMITS, NOT_MEASURED
from audit.report.lineage import lineage
from audit.report.model import (
    AREA_TITLES,
    AreaSection,
    Bar,
    CardSection,
    Chart,
    Comparison,
    CrosswalkRow,
    EnergyComponent,
    EnergyRow,
    EnergySection,
    Example,
    Finding,
    LanguageRow,
    LanguageTable,
    MetricRow,
    ParityCharts,
    Report,
    RunReport,
    SignOffEntry,
)
from audit.report.safety_parity import parity_charts, safety_parity
from audit.report.summary import quantity, screening_banner
from audit.runfolder import Evidence, RunFolder, check_evidence
from audit.runfolder.signoff import check_signoffs

log = logging.getLogger(__name__)

LIGHT_ORDER = {"grey": 0, "green": 1, "amber": 2, "red": 3}
TIER_ORDER = {"high": 0, "mid": 1, "medium": 1, "low": 2}
EXAMPLES_PER_SUITE = 3
EXCERPT_CHARS = 600
MAX_GROUP_CHARTS = 4


def worst(lights: list[Light]) -> Light:
    """The most severe of several traffic lights (grey when there are none)."""
    return max(lights, key=LIGHT_ORDER.__getitem__, default="grey")


def _ci_text(row: MetricRow) -> str:
    if row.ci_low is None or row.ci_high is None:
        return f"n={row.n}"
    return f"95% CI {interval_text(row.ci_low, row.ci_high, row.unit)}, n={row.n}"


def metric_rows(results: dict[str, Any], gate: GateResult | None) -> list[MetricRow]:
    """Every reported value as a MetricRow, with the light of the policy rules that judge it."""
    lights: dict[tuple[str, str, tuple], list[tuple[Light, str]]] = {}
    for verdict in gate.verdicts if gate else []:
        key = (verdict.suite, verdict.metric, tuple(sorted(verdict.group.items())))
        lights.setdefault(key, []).append((verdict.light, f"{verdict.rule}: {verdict.status}"))
    rows = []
    for suite, entry in results["suites"].items():
        info = entry["metric_info"]
        for metric in entry["metrics"]:
            meta = info.get(metric["metric"], {})
            judged = lights.get((suite, metric["metric"], tuple(sorted(metric["group"].items()))),
                                [])
            rows.append(MetricRow(
                suite=suite, metric=metric["metric"], label=meta.get("label", metric["metric"]),
                description=meta.get("description", ""), family=meta.get("family", ""),
                area=entry["family"], unit=meta.get("unit", ""),
                better=meta.get("better", "higher"), value=metric["value"],
                ci_low=metric["ci_low"], ci_high=metric["ci_high"], n=metric["n"],
                ci_method=metric["ci_method"], group=dict(metric["group"]),
                target=meta.get("target"), formula=meta.get("formula", ""),
                implementation=meta.get("implementation", ""), limits=meta.get("limits", ""),
                light=worst([light for light, _ in judged]),
                verdict="; ".join(text for _, text in judged),
                headline=bool(meta.get("headline"))))
    return rows


def _chart(title: str, rows: list[MetricRow], label_of, gate: GateResult | None,
           policy: Policy | None, caption: str = "") -> Chart:
    """Bars for `rows`, with the target and the thresholds of rules that judged these rows."""
    first = rows[0]
    judged = {(r.suite, r.metric, tuple(sorted(r.group.items()))) for r in rows}
    references: list[tuple[float, str]] = []
    if first.target is not None:
        references.append((first.target, "target"))
    labels = {r.metric: r.label for r in rows}
    for rule in policy.rules if policy else []:
        hits = [v for v in (gate.verdicts if gate else []) if v.rule == rule.id
                and (v.suite, v.metric, tuple(sorted(v.group.items()))) in judged]
        if rule.threshold is not None and hits:
            which = f" ({labels[hits[0].metric]})" if len(labels) > 1 else ""
            references.append((rule.threshold, f"policy{which} {rule.op} "
                                                f"{format_value(rule.threshold, first.unit)}"))
    bars = [Bar(label=label_of(r), value=r.value, low=r.ci_low, high=r.ci_high, n=r.n,
                light=r.light) for r in rows]
    return Chart(title=title, unit=first.unit, better=first.better, bars=bars,
                 references=references, caption=caption)


def _suite_charts(suite: str, rows: list[MetricRow], gate: GateResult | None,
                  policy: Policy | None) -> list[Chart]:
    """Overall values of the suite's proportion metrics, then the first metrics by group."""
    charts = []
    overall = [r for r in rows if not r.group]
    proportions = [r for r in overall if r.unit == "proportion" and r.value is not None]
    if proportions:
        charts.append(_chart(f"{suite}: overall", proportions, lambda r: r.label, gate, policy,
                             "Bars are estimates; whiskers their 95% intervals."))
    for head in overall:
        dimensions = sorted({k for r in rows if r.metric == head.metric and len(r.group) == 1
                             for k in r.group})
        for dimension in dimensions:
            grouped = [r for r in rows if r.metric == head.metric and set(r.group) == {dimension}
                       and r.value is not None]
            if len(grouped) < 2 or len(charts) > MAX_GROUP_CHARTS:
                continue
            charts.append(_chart(f"{suite}: {head.label} by {dimension}", grouped,
                                 lambda r, d=dimension: r.group[d], gate, policy))
    return charts


def _excerpt(text: str) -> str:
    if len(text) <= EXCERPT_CHARS:
        return text
    return text[:EXCERPT_CHARS] + f" ... ({len(text) - EXCERPT_CHARS} more characters)"


def _response_text(record: dict[str, Any]) -> str:
    """The model's answer in words: generated text, or each option's log-likelihood with the
    correct option marked (when the sample records its index as `data.target`)."""
    responses = record.get("responses") or []
    target = str((record.get("data") or {}).get("target", ""))
    gold = int(target) if target.isdigit() else None
    parts = []
    for index, (request, response) in enumerate(
            zip(record.get("requests") or [], responses, strict=False)):
        args = request.get("args") or []
        if request.get("kind") == "generate_until":
            parts.append(str(response))
        elif request.get("kind") == "loglikelihood" and isinstance(response, list):
            continuation = str(args[1]).strip() if len(args) > 1 else ""
            mark = " (correct answer)" if index == gold else ""
            parts.append(f"{continuation}: log-likelihood {float(response[0]):.2f}{mark}")
        elif isinstance(response, (int, float)):
            parts.append(f"log-likelihood {float(response):.2f}")
        else:
            parts.append(str(response))
    return "\n".join(parts) if parts else "(no response recorded)"


def _examples(records: list[dict[str, Any]], family: str, first_metric: str | None
              ) -> list[Example]:
    """A few items per suite: failures first (they say most), then a success."""
    def score(record: dict[str, Any]) -> float | None:
        return (record.get("scores") or {}).get(first_metric) if first_metric else None

    failures = [r for r in records if score(r) == 0]
    others = [r for r in records if score(r) != 0]
    chosen = (failures[:EXAMPLES_PER_SUITE - 1] + others)[:EXAMPLES_PER_SUITE]
    examples = []
    for record in chosen:
        requests = record.get("requests") or [{}]
        prompt = str((requests[0].get("args") or [""])[0])
        response = _response_text(record)
        hide = hidden_in_reports(record, family)
        examples.append(Example(
            suite=record["suite"], item=str(record["id"]),
            group=group_label({k: str(v) for k, v in (record.get("group") or {}).items()}),
            prompt=_excerpt(prompt),
            response=redaction_note(response) if hide else _excerpt(response),
            scores=dict(record.get("scores") or {}), redacted=hide))
    return examples


def area_sections(results: dict[str, Any], rows: list[MetricRow],
                  samples: dict[str, list[dict[str, Any]]], gate: GateResult | None,
                  policy: Policy | None) -> list[AreaSection]:
    """One section per family present in the run, in the fixed area order."""
    sections = []
    for area in AREAS:
        suites = [name for name, entry in results["suites"].items() if entry["family"] == area]
        if not suites:
            continue
        area_rows = [r for r in rows if r.suite in suites]
        charts: list[Chart] = []
        examples: list[Example] = []
        limits: list[str] = []
        skipped: list[dict[str, str]] = []
        described = []
        for suite in suites:
            entry = results["suites"][suite]
            suite_rows = [r for r in area_rows if r.suite == suite]
            charts.extend(_suite_charts(suite, suite_rows, gate, policy))
            examples.extend(_examples(samples.get(suite, []), area,
                                      next(iter(entry["metric_info"]), None)))
            if entry.get("limits"):
                limits.append(f"{suite}: {entry['limits']}")
            limits.extend(f"{suite} / {r.label}: {r.limits}" for r in suite_rows
                          if not r.group and r.limits)
            skipped.extend({"suite": suite, **s} for s in entry.get("skipped", []))
            described.append({"name": suite, "description": entry["description"],
                              "n_samples": entry["n_samples"], "limit": entry.get("limit"),
                              "data": entry.get("data", [])})
        sections.append(AreaSection(
            area=area, title=AREA_TITLES[area], suites=described,
            overall=[r for r in area_rows if not r.group],
            by_group=[r for r in area_rows if r.group], charts=charts, examples=examples,
            limits=limits, skipped=skipped))
    return sections


def language_name(code: str) -> str:
    """English name of an ISO 639-3 language code (from pycountry's ISO 639-3 table), or the
    code itself when it is not a known code."""
    import pycountry

    found = pycountry.languages.get(alpha_3=code.lower()) if len(code) == 3 else None
    if found is None:
        return code
    return found.name.replace(" (individual language)", "").replace(" (macrolanguage)", "")


def language_label(code: str) -> str:
    """A language as charts label it: its English name and code, e.g. "Swahili (swh)"."""
    return f"{language_name(code)} ({code})"


def language_table(rows: list[MetricRow], samples: dict[str, list[dict[str, Any]]]
                   ) -> LanguageTable | None:
    """Per language, every metric reported by `language` group (tier from group keys)."""
    by_language = [r for r in rows if "language" in r.group and set(r.group) <= {"language",
                                                                                  "tier"}]
    if not by_language:
        return None
    columns: list[tuple[str, str, str, str]] = []
    families: list[str] = []
    for r in sorted(by_language, key=lambda r: AREAS.index(r.area) if r.area in AREAS
                    else len(AREAS)):
        column = (r.suite, r.metric, r.label, r.unit)
        if column not in columns:
            columns.append(column)
            families.append(r.area)
    tiers = {r.group["language"]: r.group["tier"] for r in by_language if "tier" in r.group}
    for records in samples.values():
        for record in records:
            group = record.get("group") or {}
            if "language" in group and "tier" in group:
                tiers.setdefault(str(group["language"]), str(group["tier"]))
    cells = {(r.group["language"], r.suite, r.metric): r for r in by_language}
    languages = sorted({r.group["language"] for r in by_language},
                       key=lambda code: (code != "eng",
                                         TIER_ORDER.get(tiers.get(code, ""), 3), code))
    table_rows = [LanguageRow(language=code, name=language_name(code),
                              tier=tiers.get(code, ""),
                              cells=[cells.get((code, suite, metric))
                                     for suite, metric, _, _ in columns])
                  for code in languages]
    return LanguageTable(columns=columns, rows=table_rows,
                         reference="eng" if "eng" in languages else None, families=families)


def energy_section(folder: RunFolder) -> EnergySection | None:
    """Energy per suite, normalised, with how each figure was obtained."""
    if not folder.has("energy.json"):
        return None
    energy = folder.read_json("energy.json")
    rows = []
    for suite, entry in energy["suites"].items():
        hardware = entry.get("hardware") or {}
        parts = [f"{hardware.get('cpu_model') or 'CPU'} x{hardware.get('cpu_count') or '?'}"]
        if hardware.get("gpu_model"):
            parts.append(f"{hardware['gpu_model']} x{hardware.get('gpu_count', 1)}")
        rows.append(EnergyRow(
            suite=suite, wh=entry["energy_kwh"] * 1000,
            gco2e=entry["emissions_kg_co2e"] * 1000, duration_s=entry["duration_s"],
            wh_per_1000_requests=entry.get("wh_per_1000_requests"),
            wh_per_1000_tokens=entry.get("wh_per_1000_tokens"),
            wh_per_correct_answer=entry.get("wh_per_correct_answer"),
            method=", ".join(f"{k}: {v}" for k, v in sorted(entry["method"].items())),
            hardware="; ".join(parts)))
    total = sum(r.wh for r in rows)
    entries = list(energy["suites"].values())
    ranges = [e.get("uncertainty") or component_ranges(e) for e in entries]
    components = []
    for component in ("cpu", "gpu", "ram"):
        wh = 1000 * sum(float(e.get(f"{component}_kwh") or 0.0) for e in entries)
        methods = sorted({str((e.get("method") or {}).get(component, "absent")) for e in entries})
        spans = [r[component] for r in ranges]
        known = all(s["low_kwh"] is not None and s["high_kwh"] is not None for s in spans)
        components.append(EnergyComponent(
            component=component.upper(), wh=wh, share=wh / total if total else None,
            method=" / ".join(methods) or "absent",
            low_wh=1000 * sum(s["low_kwh"] for s in spans) if known else None,
            high_wh=1000 * sum(s["high_kwh"] for s in spans) if known else None,
            basis=" ".join(dict.fromkeys(s["basis"] for s in spans))))
    gco2e = sum(r.gco2e for r in rows)
    countries = sorted({str(e.get("country_iso_code") or "?") for e in entries})
    grid = (f"{quantity(gco2e / total * 1000)} g CO2e per kWh ({', '.join(countries)}), "
            "CodeCarbon's average for the country's electricity mix, not a live grid value"
            if total else "no energy recorded")
    config = folder.read_json("run.json").get("config") or {}
    pue = float(config.get("pue") or DEFAULT_PUE)
    pue_note = ("not recorded in run.json (the run predates the setting), so 1.0: the "
                "computer's own energy only" if "pue" not in config
                else PUE_REASON if pue == DEFAULT_PUE else "declared in the run config")
    return EnergySection(rows=rows, total_wh=total, total_gco2e=gco2e,
                         note=energy.get("accuracy_note", ""), components=components,
                         grid=grid, pue=pue, pue_note=pue_note)


def _headline(area: str, rows: list[MetricRow]) -> MetricRow | None:
    """The value a summary sentence quotes: the first one a policy rule judges, else the first
    metric a suite declares its headline (`headline: true` in suite.yaml: a standard benchmark
    before a smoke test), else the first overall metric of the area's first suite."""
    overall = [r for r in rows if r.area == area and not r.group and r.value is not None]
    judged = [r for r in overall if r.verdict]
    declared = [r for r in overall if r.headline]
    return (judged or declared or overall or [None])[0]


def _policy_clause(area: str, gate: GateResult | None) -> tuple[str, Light]:
    verdicts = [v for v in (gate.verdicts if gate else []) if v.area == area]
    if not verdicts:
        return ("No policy rule covers this area." if gate else "No policy was applied."), "grey"
    counts = {status: sum(v.status == status for v in verdicts)
              for status in ("pass", "fail", "warn", "not evaluated", "insufficient evidence")}
    evaluated = len(verdicts) - counts["not evaluated"] - counts["insufficient evidence"]
    parts = [f"{counts['pass']} of {evaluated} checks pass"] if evaluated else []
    failing = sorted({v.rule for v in verdicts if v.status == "fail"})
    if failing:
        parts.append(f"failing: {', '.join(failing)}")
    if counts["warn"]:
        parts.append(f"{counts['warn']} warning(s)")
    if counts["not evaluated"]:
        parts.append(f"{counts['not evaluated']} rule(s) not evaluated (metric not in this run)")
    if counts["insufficient evidence"]:
        parts.append(f"{counts['insufficient evidence']} check(s) with insufficient evidence "
                     "(not passed)")
    text = "Policy: " + "; ".join(parts)
    return text + ".", worst([v.light for v in verdicts])


def findings(rows: list[MetricRow], areas: list[AreaSection], languages: LanguageTable | None,
             energy: EnergySection | None, gate: GateResult | None) -> list[Finding]:
    """One plain-language sentence per area, with its number, interval and traffic light."""
    present = {a.area: a for a in areas}
    found = []
    for area in AREAS:
        title = AREA_TITLES[area]
        if area == "energy":
            found.append(_energy_finding(energy))
            continue
        clause, light = _policy_clause(area, gate)
        meaning = AREA_MEANING[area]
        if area not in present:
            found.append(Finding(area, title, f"Not evaluated: no {area} suite was run. {clause}",
                                 "grey", f"area-{area}", meaning))
            continue
        head = _headline(area, rows)
        suites = present[area].suites
        scope = f"{len(suites)} suites" if len(suites) > 1 else f"the suite {suites[0]['name']}"
        if head is None:
            sentence = f"Measured with {scope}, which reported no values."
        else:
            sentence = (f"{head.label} was {format_value(head.value, head.unit)} "
                        f"({_ci_text(head)}) on {head.suite}"
                        + (f", one of {scope}" if len(suites) > 1 else "")
                        + f"; {_direction(head)}")
        if area == "multilingual" and languages is not None:
            sentence += " " + _worst_language(languages)
        found.append(Finding(area, title, f"{sentence} {clause}", light, f"area-{area}",
                             meaning))
    return found


def _direction(row: MetricRow) -> str:
    if row.better == "target" and row.target is not None:
        return f"the ideal is {format_value(row.target, row.unit)}."
    return f"{row.better} is better."


def _worst_language(table: LanguageTable) -> str:
    """The language furthest behind the reference on the table's first proportion column."""
    for index, (_, _, label, unit) in enumerate(table.columns):
        values = [(row.cells[index].value, row) for row in table.rows
                  if row.cells[index] is not None and row.cells[index].value is not None]
        if len(values) < 2 or unit != "proportion":
            continue
        better = next(row.cells[index].better for _, row in values)
        if better not in ("higher", "lower"):
            continue
        value, row = (min if better == "higher" else max)(values, key=lambda pair: pair[0])
        weakest = [r for v, r in values if v == value]
        if len(weakest) == len(values):
            return f"All {len(values)} languages tied on {label} at {format_value(value, unit)}."
        if len(weakest) > 1:
            names = ", ".join(f"{r.name} ({r.language})" for r in weakest)
            return f"Weakest languages on {label}, tied at {format_value(value, unit)}: {names}."
        return (f"Weakest language on {label}: {row.name} ({row.language}) at "
                f"{format_value(value, unit)}.")
    return ""


def _energy_finding(energy: EnergySection | None) -> Finding:
    if energy is None or not energy.rows:
        return Finding("energy", "Energy", "No energy was recorded for this run.", "grey",
                       "energy", AREA_MEANING["energy"])
    methods = sorted({r.method for r in energy.rows})
    per_request = [r.wh_per_1000_requests for r in energy.rows if r.wh_per_1000_requests]
    spread = (quantity(min(per_request)) if len(set(per_request)) == 1
              else f"from {quantity(min(per_request))} (lowest suite) to "
                   f"{quantity(max(per_request))} (highest suite; a range over suites, not an "
                   "interval)")
    rate = f", {spread} Wh per 1,000 requests" if per_request else ""
    return Finding("energy", "Energy",
                   f"The audit used {quantity(energy.total_wh)} Wh ({quantity(energy.total_gco2e)} "
                   "g CO2e)"
                   f"{rate}; method: {'; '.join(methods)}. Estimates may be off by up to "
                   "about 40%. No policy rule applies to energy.", "grey", "energy",
                   AREA_MEANING["energy"])


def model_card(run: dict[str, Any], results: dict[str, Any], rows: list[MetricRow],
               found: list[Finding], energy: EnergySection | None,
               declared: list[tuple[str, str]]) -> list[CardSection]:
    """The model-card section under the headings of Mitchell et al. (2019), with the declared
    use (`audit.report.audit_card`) and the risks this audit does not measure."""
    model = run["model"]
    extra = model.get("extra") or {}
    details = [("Model", model["uri"]), ("Architecture", str(model.get("architecture") or "?")),
               ("Parameters", f"{model['parameters']:,}" if model.get("parameters") else "?"),
               ("Precision and device", f"{model.get('dtype')} on {model.get('device')}"),
               ("Licence", str(model.get("licence") or "not recorded"))]
    details += [(f"Weights ({f.get('role') or 'file'})", f"sha256 {f['sha256']}")
                for f in model.get("files", [])]
    if extra.get("description"):
        details.append(("Description", str(extra["description"])))
    if extra.get("languages"):
        details.append(("Languages (declared)", str(extra["languages"])))
    factors = []
    for suite, entry in results["suites"].items():
        keys = sorted({k for m in entry["metrics"] for k in m["group"]})
        if keys:
            factors.append((suite, "results broken down by " + ", ".join(keys)))
    metrics = [(f"{r.label} ({r.suite})", f"{r.description} Formula: {r.formula}. "
                f"Better: {r.better}. Implementation: {r.implementation or 'not stated'}.")
               for r in rows if not r.group]
    data = []
    for suite, entry in results["suites"].items():
        for source in entry.get("data", []):
            bits = [source.get("source", ""), f"version {source['version']}"
                    if source.get("version") else "", f"licence {source.get('licence', '?')}",
                    f"sha256 {source['sha256']}" if source.get("sha256") else "",
                    f"cite: {source['citation']}" if source.get("citation") else ""]
            data.append((f"{source.get('name', suite)} ({suite})",
                         "; ".join(b for b in bits if b)))
    grouped = sum(1 for r in rows if r.group)
    quantitative = [("Disaggregated results",
                     f"{grouped} values broken down by group, each with n and a 95% interval; "
                     "see the area sections and the language table.")]
    ethical = [(f.title, f.sentence) for f in found if f.area in ("bias", "misuse")]
    caveats = [(r.label, r.limits) for r in rows if not r.group and r.limits]
    if energy is not None:
        caveats.append(("Energy", energy.note))
    return [
        CardSection("Model details", details),
        CardSection("Lineage", lineage(model) or [
            ("Lineage", "the run records one model, not a base model and an adapter")]),
        CardSection("Intended use", declared),
        CardSection("Factors", factors or [("Groups", "no grouped results in this run")]),
        CardSection("Metrics", metrics),
        CardSection("Evaluation data", data or [("Data", "no data sources recorded")]),
        CardSection("Training data", [("Training data",
                                       "Not examined by this audit; see the model's own "
                                       "documentation.")]),
        CardSection("Quantitative analyses", quantitative),
        CardSection("Ethical considerations", ethical),
        CardSection("Risks this audit does not measure", NOT_MEASURED),
        CardSection("Caveats and recommendations", caveats + [("General", LIMITS[1])]),
    ]


def rerun_command(run: dict[str, Any]) -> str:
    """The `fm-audit run` command that repeats this run's configuration."""
    config = run.get("config", {})
    parts = ["fm-audit", "run", "--model", config.get("model", run["model"]["uri"])]
    if run.get("suites"):
        parts += ["--suites", ",".join(run["suites"])]
    for flag, key in (("--profile", "profile"), ("--limit", "limit"), ("--seed", "seed"),
                      ("--device", "device"), ("--dtype", "dtype"),
                      ("--chat-template", "chat_template"), ("--num-fewshot", "num_fewshot"),
                      ("--country", "country_iso_code"), ("--judge", "judge")):
        if config.get(key) is not None:
            parts += [flag, str(config[key])]
    return shlex.join(parts)


def reproducibility(folder: RunFolder, run: dict[str, Any], evidence: Evidence
                    ) -> list[tuple[str, str]]:
    """Versions, seeds, hashes and dates that let a reader repeat and verify the run."""
    environment = run.get("environment", {})
    packages = environment.get("packages", {})
    config = run.get("config", {})
    items = [("Run id", run["run_id"]), ("Status", run["status"]),
             ("Started", run.get("created") or "?"), ("Finished", run.get("finished") or "?"),
             ("Recorded command", run.get("command", "")),
             ("Seed", str(config.get("seed", "?"))),
             ("Profile and limit", f"{config.get('profile', '?')}, limit "
                                   f"{config.get('limit') or 'none'}"),
             ("Python", str(environment.get("python", "?"))),
             ("Platform", str(environment.get("platform", "?"))),
             ("Device", str(environment.get("gpu") or f"CPU x{environment.get('cpu_count')}"))]
    items += [(name, str(version)) for name, version in sorted(packages.items()) if version]
    items += [(f"Weights sha256 ({f.get('role') or 'file'})", f["sha256"])
              for f in run["model"].get("files", [])]
    items.append(("Evidence integrity", evidence.detail))
    if evidence.verified:
        manifest = folder.manifest().sha256
        items += [(f"sha256 {name}", digest) for name, digest in sorted(manifest.items())
                  if name in ("results.json", "samples.jsonl", "run.json")]
    return items


def _crosswalk_status(here: bool, partly: str) -> tuple[str, str]:
    """(status, why): "not evidenced" when absent, "partly" with its reason, else evidenced."""
    if not here:
        return "not evidenced", "absent from this run"
    return ("partly", partly) if partly else ("evidenced", "")


def crosswalk(areas: list[AreaSection], found: list[Finding], gate: GateResult | None,
              energy: EnergySection | None, screening: bool = False, verified: bool = True
              ) -> list[CrosswalkRow]:
    """Each finding of this run against the governance provisions it is evidence for, marked
    evidenced, partly (a screening run, estimated energy, an unverified folder) or not
    evidenced (absent, or never examined by this audit)."""
    present = {a.area for a in areas}
    sentences = {f.area: f.sentence for f in found}
    screened = "screening run (quick profile or --limit): too few items to decide on" \
        if screening else ""
    rows = []
    for part, cards, eu, nist in CROSSWALK:
        partly = ""
        if part in AREA_TITLES:
            here = part in present if part != "energy" else energy is not None
            finding = sentences[part] if here else f"No {part} evidence in this run."
            anchor = f"area-{part}" if part != "energy" else "energy"
            partly = screened
            if part == "energy" and energy and any("estimated" in r.method for r in energy.rows):
                partly = "estimated by CodeCarbon's power model, not metered"
        elif part == "data":
            here, finding, anchor = bool(areas), "Evaluation data, sources and licences", \
                "model-card"
        elif part == "training-data":
            here, finding, anchor = False, "Training data: not examined by this audit", \
                "model-card"
        elif part == "privacy":
            here, finding, anchor = False, "Privacy and PII leakage: not measured", \
                "model-card"
        elif part == "limits":
            here, finding, anchor = True, "Limits of these measurements", "limits"
        elif part == "policy":
            here = gate is not None
            finding = (f"Policy gate '{gate.policy}': {'passed' if gate.passed else 'failed'}"
                       if gate else "No policy applied.")
            anchor = "gate"
        else:
            here, finding, anchor = True, "Versions, seeds, hashes, manifest check", \
                "reproducibility"
            partly = "" if verified else "the run folder does not match its manifest"
        status, why = _crosswalk_status(here, partly)
        if part in ("training-data", "privacy"):
            why = "no suite of this audit examines it"
        rows.append(CrosswalkRow(finding=finding, anchor=anchor, present=here,
                                 model_cards=cards, eu_ai_act=eu, nist_rmf=nist,
                                 status=status, why=why))
    return rows


def build_run_report(folder: RunFolder, policy: Policy | None = None,
                     policy_path: str = "") -> RunReport:
    """The report of one run folder, judged against `policy` when one is given."""
    run = folder.read_json("run.json")
    results = folder.read_json("results.json")
    gate = evaluate_policy(policy, results, policy_path) if policy else None
    samples: dict[str, list[dict[str, Any]]] = {}
    for record in folder.iter_samples():
        samples.setdefault(record["suite"], []).append(record)
    rows = metric_rows(results, gate)
    areas = area_sections(results, rows, samples, gate, policy)
    languages = language_table(rows, samples)
    energy = energy_section(folder)
    found = findings(rows, areas, languages, energy, gate)
    evidence = check_evidence(folder)
    return RunReport(
        run_id=run["run_id"], model_uri=run["model"]["uri"], status=run["status"],
        created=run.get("created", ""), suites=list(results["suites"]), findings=found,
        scorecard=[r for r in rows if not r.group], areas=areas, languages=languages,
        energy=energy, gate=gate,
        model_card=model_card(run, results, rows, found, energy,
                              declared_use(folder.path, run)),
        reproducibility=reproducibility(folder, run, evidence),
        rerun_command=rerun_command(run),
        crosswalk=crosswalk(areas, found, gate, energy, bool(screening_banner(run)),
                            evidence.verified),
        evidence_warning=evidence.warning(), screening=screening_banner(run),
        signoffs=signoff_entries(folder))


def signoff_entries(folder: RunFolder) -> list[SignOffEntry]:
    """The run's sign-offs, each checked against the folder as it is now."""
    entries = []
    for check in check_signoffs(folder):
        record = check.signoff
        entries.append(SignOffEntry(
            reviewer=record.reviewer if record else "(unreadable)",
            role=record.role if record else "", date=record.date if record else "",
            decision=record.decision if record else "", conditions=record.conditions
            if record else "", valid=check.valid, status=check.status()))
    return entries


def comparison_charts(deltas: list[MetricDelta], areas: dict[str, str] | None = None
                      ) -> list[Chart]:
    """Per (pair, suite, metric) with several groups: the deltas by group, with their CIs.

    At most `2 * MAX_GROUP_CHARTS`, taken in turn from each family (`areas` maps a suite to
    its family), per-language breakdowns first, so one family cannot fill them all.
    """
    areas = areas or {}
    members_of: dict[tuple[str, str, str, str], list[MetricDelta]] = {}
    for d in deltas:
        if d.delta is not None:
            members_of.setdefault((d.run_a, d.run_b, d.suite, d.metric), []).append(d)
    candidates = [(key, members) for key, members in members_of.items()
                  if len(members) >= 2 and members[0].unit == "proportion"]
    by_family: dict[str, list] = {}
    for key, members in sorted(candidates, key=lambda c: not any(
            "language" in d.group for d in c[1])):
        by_family.setdefault(areas.get(key[2], ""), []).append((key, members))
    families = sorted(by_family, key=lambda a: AREAS.index(a) if a in AREAS else len(AREAS))
    in_turn = [entry for rank in range(max(map(len, by_family.values()), default=0))
               for family in families if rank < len(by_family[family])
               for entry in [by_family[family][rank]]]
    charts = []
    for (run_a, run_b, suite, _), members in in_turn[:2 * MAX_GROUP_CHARTS]:
        charts.append(Chart(
            title=f"{members[0].label} ({suite}): {run_b} minus {run_a}",
            unit="difference", better=members[0].better,
            bars=[Bar(label=d.group_text, value=d.delta, low=d.ci_low, high=d.ci_high,
                      n=d.n_pairs, light=_delta_light(d)) for d in members],
            references=[(0.0, "no difference")],
            caption="Differences in percentage points on the items both runs answered; "
                    "whiskers are paired 95% intervals."))
    return charts


def _delta_light(delta: MetricDelta) -> Light:
    if not delta.significant or delta.improved is None:
        return "grey"
    return "green" if delta.improved else "red"


def parity_sections(folders: list[RunFolder], baseline: int) -> list[ParityCharts]:
    """For each run against the baseline: the cross-lingual safety parity charts of
    misuse/harmful's parallel requests (none when the two runs share none)."""
    base = folders[baseline]
    base_samples = list(base.iter_samples())
    sections = []
    for index, folder in enumerate(folders):
        if index == baseline:
            continue
        charts = parity_charts(safety_parity(base_samples, folder.iter_samples()),
                               base.run_id, folder.run_id, language_label)
        if charts:
            sections.append(ParityCharts(run=folder.run_id, charts=charts))
    return sections


def build_report(folders: list[RunFolder], policy: Policy | None = None,
                 policy_path: str = "", baseline: int = 0) -> Report:
    """The report of one or more runs; with several, the comparison against the baseline."""
    runs = [build_run_report(f, policy, policy_path) for f in folders]
    comparison = None
    if len(folders) > 1:
        deltas = compare_runs(folders, baseline)
        others = [run for i, run in enumerate(runs) if i != baseline]
        comparison = Comparison(baseline=folders[baseline].run_id,
                                others=[run.run_id for run in others],
                                deltas=deltas, charts=comparison_charts(deltas, {
                                    row.suite: row.area for run in runs
                                    for row in run.scorecard}),
                                summary=summarise_changes(deltas, runs[baseline], others,
                                                          language_name),
                                parity=parity_sections(folders, baseline))
    models = ", ".join(dict.fromkeys(r.model_uri for r in runs))
    return Report(
        title=f"Audit report: {models}",
        generated=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        tool_version=__version__, policy=policy.name if policy else "", runs=runs,
        comparison=comparison, how_to_read=HOW_TO_READ, limits=LIMITS)

