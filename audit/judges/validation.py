"""How good is a judge? Its verdicts on responses with known labels.

The project's labelled set (`suites/misuse/data/judge_labelled.jsonl`: responses in several
languages, each labelled refusal or compliance by a person) is split by prompt into `train`
(what a learned judge is fitted on), `dev` (where judges and their settings are chosen) and
`test` (never tuned on). The test split gives the judge's sensitivity (recall of refusals),
specificity and precision, per language; the suites use these to correct the rates they
observe (`audit.judges.correction`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audit.errors import DatasetError
from audit.judges.base import COMPLIANCE, REFUSAL, Judge, JudgeItem, Verdict
from audit.stats import clopper_pearson_interval


@dataclass(frozen=True)
class LabelledResponse:
    """A response with its human label (refusal or compliance), the style it was written in,
    its split (train, dev or test) and where it came from (written, a model, or constructed)."""

    id: str
    language: str
    prompt: str
    response: str
    label: str
    style: str
    split: str
    source: str

    def item(self) -> JudgeItem:
        return JudgeItem(self.prompt, self.response, self.language)


SPLITS = ("train", "dev", "test")
#: The split every measurement of a judge's quality uses; no judge is tuned on it.
EVALUATION_SPLIT = "test"


def load_labelled(path: Path, split: str | None = None) -> list[LabelledResponse]:
    """The labelled responses in `path` (of one split, when `split` is given); every label
    must be refusal or compliance and every split train, dev or test."""
    path = Path(path)
    rows: list[LabelledResponse] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DatasetError(f"cannot read the judge's labelled set {path}: {exc.strerror}",
                           fix="restore suites/misuse/data/judge_labelled.jsonl.") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            row = LabelledResponse(record["id"], record["lang"], record["prompt"],
                                   record["response"], record["label"], record.get("style", ""),
                                   record["split"], record.get("source", ""))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise DatasetError(f"{path} line {number} is not a labelled response ({exc})",
                               fix="each line needs id, lang, prompt, response, label and "
                                   "split.") from exc
        if row.label not in (REFUSAL, COMPLIANCE):
            raise DatasetError(f"{path} line {number}: label {row.label!r}",
                               fix=f"use {REFUSAL!r} or {COMPLIANCE!r}.")
        if row.split not in SPLITS:
            raise DatasetError(f"{path} line {number}: split {row.split!r}",
                               fix=f"use one of {', '.join(SPLITS)}.")
        if split is None or row.split == split:
            rows.append(row)
    return rows


_VERDICTS: dict[tuple[str, Path], list[Verdict]] = {}


def labelled_verdicts(judge: Judge, labelled: Path) -> list[tuple[LabelledResponse, Verdict]]:
    """The judge's verdict on every response of the test split in `labelled` (computed once
    per judge, file and process)."""
    rows = load_labelled(labelled, split=EVALUATION_SPLIT)
    key = (judge.name, Path(labelled))
    if key not in _VERDICTS:
        _VERDICTS[key] = judge.classify_many([r.item() for r in rows])
    return list(zip(rows, _VERDICTS[key], strict=True))


@dataclass(frozen=True)
class JudgeErrors:
    """A judge's hits on labelled responses: 1/0 per true refusal (judged refusal?) and per
    true compliance (judged compliance?). Their means are sensitivity and specificity."""

    on_refusals: np.ndarray
    on_compliances: np.ndarray
    languages: tuple[str, ...]

    @property
    def sensitivity(self) -> float:
        return float(self.on_refusals.mean()) if len(self.on_refusals) else float("nan")

    @property
    def specificity(self) -> float:
        return float(self.on_compliances.mean()) if len(self.on_compliances) else float("nan")


def judge_errors(judge: Judge, labelled: Path, languages: set[str] | None = None
                 ) -> JudgeErrors:
    """The judge's hits on the responses of `labelled` in `languages`; all labelled languages
    when none of them is labelled (or `languages` is None), so every group gets a correction."""
    pairs = labelled_verdicts(judge, labelled)
    known = {row.language for row, _ in pairs}
    wanted = (languages & known) if languages else set()
    if not wanted:
        wanted = known
    chosen = [(row, verdict) for row, verdict in pairs if row.language in wanted]
    on_refusals = np.array([v.refused for r, v in chosen if r.label == REFUSAL], dtype=float)
    on_compliances = np.array([not v.refused for r, v in chosen if r.label == COMPLIANCE],
                              dtype=float)
    return JudgeErrors(on_refusals, on_compliances, tuple(sorted(wanted)))


def judge_quality(judge: Judge, labelled: Path
                  ) -> dict[str, dict[str, float | int | list[float]]]:
    """The judge's precision, recall (sensitivity) and specificity on the test split of
    `labelled`, each with its count and exact (Clopper-Pearson) 95% interval: what run.json
    records beside the judge's name."""
    return verdict_quality(labelled_verdicts(judge, labelled))


def verdict_quality(pairs: list[tuple[LabelledResponse, Verdict]]
                    ) -> dict[str, dict[str, float | int | list[float]]]:
    """Precision, recall and specificity (refusal = positive) of verdicts on labelled
    responses, each with its count and exact (Clopper-Pearson) 95% interval; NaN where no
    response counts."""
    truth = np.array([row.label == REFUSAL for row, _ in pairs], dtype=bool)
    called = np.array([verdict.refused for _, verdict in pairs], dtype=bool)
    quality: dict[str, dict[str, float | int | list[float]]] = {}
    for metric, hits, among in (("precision", truth & called, called),
                                ("recall", truth & called, truth),
                                ("specificity", ~truth & ~called, ~truth)):
        n = int(among.sum())
        successes = int(hits.sum())
        quality[metric] = {"value": successes / n if n else float("nan"), "n": n,
                           "ci95": list(clopper_pearson_interval(successes, n))}
    return quality
