"""Cross-lingual safety parity of one run against a baseline (a fine-tune against its base).

The misuse/harmful suite asks the project's parallel requests in every language, so each
language can be read request by request: how often the baseline and the other run refused
the same requests, the paired change between the runs, and each run's paired gap to English.
Everything is computed from the two runs' scored samples, over the requests both runs asked:

- refusal per run and language: share of the requests refused, exact (Clopper-Pearson) 95%
  interval (`audit.stats.estimate_mean`);
- the change, run minus baseline, and each run's gap to English, language minus English: the
  paired MOVER interval of `audit.stats.paired_difference`, the method the suite's own
  `refusal_gap_to_eng` metric uses.

The report and the dashboard draw these rows; neither computes them itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from audit.policy import Light
from audit.report.model import Bar, Chart
from audit.stats import Estimate, estimate_mean, paired_difference

SUITE = "misuse/harmful"
PARALLEL_SOURCE = "project"
REFERENCE = "eng"
SCORE = "refusal"


@dataclass(frozen=True)
class LanguageParity:
    """One language: refusal in each run, their paired change, and each run's gap to English
    (None for English itself)."""

    language: str
    baseline: Estimate
    other: Estimate
    change: Estimate
    gap_baseline: Estimate | None
    gap_other: Estimate | None


def parallel_refusals(samples: Iterable[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """language -> request id -> 1.0 refused / 0.0 not, for the scored parallel requests of
    misuse/harmful in samples.jsonl records (other suites and sources are skipped)."""
    by_language: dict[str, dict[str, float]] = {}
    for record in samples:
        group = record.get("group") or {}
        scores = record.get("scores") or {}
        request = (record.get("data") or {}).get("request_id")
        if (record.get("suite") != SUITE or group.get("source") != PARALLEL_SOURCE
                or SCORE not in scores or not isinstance(request, str)):
            continue
        by_language.setdefault(str(group.get("language")), {})[request] = float(scores[SCORE])
    return by_language


def _gap(scores: dict[str, float], english: dict[str, float], shared: list[str]
         ) -> Estimate | None:
    units = [u for u in shared if u in english]
    return paired_difference([(scores[u], english[u]) for u in units]) if units else None


def safety_parity(baseline: Iterable[dict[str, Any]], other: Iterable[dict[str, Any]]
                  ) -> list[LanguageParity]:
    """Per language (English first, then by code), over the requests both runs asked in it:
    refusal in each run, the paired change (other minus baseline) and each run's paired gap
    to English over the requests asked in English too. Empty when the runs share no
    parallel harmful request."""
    before, after = parallel_refusals(baseline), parallel_refusals(other)
    english_before, english_after = before.get(REFERENCE, {}), after.get(REFERENCE, {})
    rows = []
    for language in sorted(set(before) & set(after), key=lambda c: (c != REFERENCE, c)):
        shared = sorted(set(before[language]) & set(after[language]))
        if not shared:
            continue
        a, b = before[language], after[language]
        english = language == REFERENCE
        rows.append(LanguageParity(
            language=language,
            baseline=estimate_mean([a[u] for u in shared]),
            other=estimate_mean([b[u] for u in shared]),
            change=paired_difference([(b[u], a[u]) for u in shared]),
            gap_baseline=None if english else _gap(a, english_before, shared),
            gap_other=None if english else _gap(b, english_after, shared)))
    return rows


def _bar(label: str, estimate: Estimate, light: Light = "grey") -> Bar:
    return Bar(label=label, value=estimate.value, low=estimate.ci_low, high=estimate.ci_high,
               n=estimate.n, light=light)


def _change_light(change: Estimate) -> Light:
    """Green where the whole interval is above zero (refuses more), red where below."""
    if change.ci_low is not None and change.ci_low > 0:
        return "green"
    if change.ci_high is not None and change.ci_high < 0:
        return "red"
    return "grey"


def parity_charts(rows: list[LanguageParity], baseline: str, other: str,
                  name: Callable[[str], str] = str) -> list[Chart]:
    """Three charts with a row per language: refusal in each run, the paired change, and each
    run's gap to English. `name` turns a language code into its label (e.g. "Swahili (swh)");
    run ids and language names are data, escaped by the SVG renderer."""
    if not rows:
        return []
    refusal = [bar for row in rows for bar in (
        _bar(f"{name(row.language)}: {baseline}", row.baseline),
        _bar(f"{name(row.language)}: {other}", row.other, "amber"))]
    change = [_bar(name(row.language), row.change, _change_light(row.change)) for row in rows]
    gaps = [bar for row in rows if row.gap_baseline and row.gap_other for bar in (
        _bar(f"{name(row.language)}: {baseline}", row.gap_baseline),
        _bar(f"{name(row.language)}: {other}", row.gap_other, "amber"))]
    charts = [
        Chart(title=f"Refusal of the same harmful requests by language: {baseline} and {other}",
              unit="proportion", better="higher", bars=refusal,
              caption="Share of the project's parallel harmful requests refused (as the run's "
                      "judge saw it), over the requests both runs asked in that language; "
                      "whiskers: exact 95% intervals."),
        Chart(title=f"Change in refusal by language: {other} minus {baseline} (paired)",
              unit="difference", better="higher", bars=change,
              references=[(0.0, "no change")],
              caption="Paired over the same requests; whiskers: paired 95% MOVER intervals "
                      "(Newcombe method 11). Green: refuses more, interval above zero.")]
    if gaps:
        charts.append(Chart(
            title=f"Refusal gap to English by language: {baseline} and {other}",
            unit="difference", better="higher", bars=gaps,
            references=[(0.0, "same as English")],
            caption="Language minus English on the same requests, in each run; whiskers: "
                    "paired 95% MOVER intervals. Below zero: refuses less than in English."))
    return charts


def parity_frames(rows: list[LanguageParity], baseline: str, other: str,
                  name: Callable[[str], str] = str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same numbers as `parity_charts`, as two frames for the dashboard's charts: refusal
    per language and run (value, ci_low, ci_high, n), and the differences (delta, ci_low,
    ci_high, n_pairs): the paired change, labelled "change", and each run's gap to English."""
    refusal = pd.DataFrame([
        {"language": name(row.language), "run": run, "value": estimate.value,
         "ci_low": estimate.ci_low, "ci_high": estimate.ci_high, "n": estimate.n,
         "unit": "proportion"}
        for row in rows for run, estimate in ((baseline, row.baseline), (other, row.other))])
    differences = [(f"change: {other} minus {baseline}", other, row.language, row.change)
                   for row in rows]
    differences += [("gap to English", run, row.language, gap) for row in rows
                    for run, gap in ((baseline, row.gap_baseline), (other, row.gap_other))
                    if gap is not None]
    deltas = pd.DataFrame([
        {"label": label, "group": name(language), "run": run, "delta": estimate.value,
         "ci_low": estimate.ci_low, "ci_high": estimate.ci_high, "n_pairs": estimate.n,
         "method": estimate.ci_method, "unit": "proportion"}
        for label, run, language, estimate in differences])
    return refusal, deltas
