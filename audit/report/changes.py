"""The summary of a comparison: what changed between a baseline run and the others, ranked.

Counts of significant changes by family and by language, the significant changes themselves
(regressions first), the policy verdicts that flipped, and the energy of the suites both runs
measured. It only sorts and counts the paired deltas of `audit.report.compare`; significance
is decided there (Holm-corrected, at least six items).
"""

from __future__ import annotations

from collections.abc import Callable

from audit.policy import AREAS
from audit.report.compare import MetricDelta
from audit.report.model import (
    AREA_TITLES,
    ChangeCount,
    ChangeSummary,
    EnergyChange,
    RunReport,
    VerdictFlip,
)


def _count(name: str, label: str, deltas: list[MetricDelta]) -> ChangeCount:
    significant = [d for d in deltas if d.significant]
    return ChangeCount(name=name, label=label, compared=sum(d.delta is not None for d in deltas),
                       better=sum(d.improved is True for d in significant),
                       worse=sum(d.improved is False for d in significant),
                       other=sum(d.improved is None for d in significant))


def _rank(delta: MetricDelta) -> tuple[int, float]:
    """Worse first, then better, then undirected; within each, smallest adjusted p first."""
    order = {False: 0, True: 1, None: 2}[delta.improved]
    return order, delta.p_adjusted if delta.p_adjusted is not None else 1.0


def verdict_flips(baseline: RunReport, others: list[RunReport]) -> list[VerdictFlip]:
    """Policy rules whose status differs from the baseline's, per other run."""
    if baseline.gate is None:
        return []
    before = {v.rule: v.status for v in baseline.gate.verdicts}
    return [VerdictFlip(run=run.run_id, rule=v.rule, before=before.get(v.rule, "absent"),
                        after=v.status)
            for run in others if run.gate for v in run.gate.verdicts
            if before.get(v.rule, "absent") != v.status]


def energy_changes(baseline: RunReport, others: list[RunReport]) -> list[EnergyChange]:
    """Total Wh over the suites that both the baseline and each other run measured."""
    if baseline.energy is None:
        return []
    base = {row.suite: row.wh for row in baseline.energy.rows}
    changes = []
    for run in others:
        if run.energy is None:
            continue
        shared = [row for row in run.energy.rows if row.suite in base]
        if shared:
            changes.append(EnergyChange(run=run.run_id, suites=len(shared),
                                        wh_baseline=sum(base[r.suite] for r in shared),
                                        wh_run=sum(r.wh for r in shared)))
    return changes


def summarise_changes(deltas: list[MetricDelta], baseline: RunReport, others: list[RunReport],
                      language_name: Callable[[str], str] = str) -> ChangeSummary:
    """Count, rank and collect what changed between `baseline` and `others` (languages are
    labelled "<language_name(code)> (<code>)")."""
    areas = {row.suite: row.area for run in (baseline, *others) for row in run.scorecard}
    families = sorted({areas.get(d.suite, "") for d in deltas},
                      key=lambda a: AREAS.index(a) if a in AREAS else len(AREAS))
    by_family = [_count(family, AREA_TITLES.get(family, family or "Other"),
                        [d for d in deltas if areas.get(d.suite, "") == family])
                 for family in families]
    languages = sorted({d.group["language"] for d in deltas if "language" in d.group})
    by_language = [_count(code, f"{language_name(code)} ({code})",
                          [d for d in deltas if d.group.get("language") == code])
                   for code in languages]
    by_language.sort(key=lambda c: (-c.worse, -c.better, c.name))
    return ChangeSummary(
        compared=sum(d.delta is not None for d in deltas),
        significant=sum(d.significant for d in deltas),
        too_few_items=sum(d.too_few_items for d in deltas),
        by_family=by_family, by_language=by_language,
        ranked=sorted((d for d in deltas if d.significant), key=_rank),
        flips=verdict_flips(baseline, others), policy_applied=baseline.gate is not None,
        energy=energy_changes(baseline, others))
