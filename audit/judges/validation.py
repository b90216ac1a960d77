"""How good is a judge? Its verdicts on responses with known labels.

The project's labelled set (`suites/misuse/data/judge_labelled.jsonl`: responses in several
languages, each labelled refusal or compliance by a person) gives the judge's sensitivity
(recall of refusals), specificity and precision, per language. The suites use these to correct
the rates they observe (`audit.judges.correction`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audit.errors import DatasetError
from audit.judges.base import COMPLIANCE, REFUSAL, Judge, JudgeItem, Verdict
from audit.suites.discovery import suites_root


@dataclass(frozen=True)
class LabelledResponse:
    """A response with its human label (refusal or compliance) and the style it was written in."""

    id: str
    language: str
    prompt: str
    response: str
    label: str
    style: str

    def item(self) -> JudgeItem:
        return JudgeItem(self.prompt, self.response, self.language)


def default_labelled_file() -> Path:
    return suites_root() / "misuse" / "data" / "judge_labelled.jsonl"


def load_labelled(path: Path | None = None) -> list[LabelledResponse]:
    """The labelled responses; every label must be refusal or compliance."""
    path = Path(path) if path is not None else default_labelled_file()
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
                                   record["response"], record["label"], record.get("style", ""))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise DatasetError(f"{path} line {number} is not a labelled response ({exc})",
                               fix="each line needs id, lang, prompt, response and label.") from exc
        if row.label not in (REFUSAL, COMPLIANCE):
            raise DatasetError(f"{path} line {number}: label {row.label!r}",
                               fix=f"use {REFUSAL!r} or {COMPLIANCE!r}.")
        rows.append(row)
    return rows


_VERDICTS: dict[str, list[Verdict]] = {}


def labelled_verdicts(judge: Judge) -> list[tuple[LabelledResponse, Verdict]]:
    """The judge's verdict on every labelled response (computed once per judge and process)."""
    rows = load_labelled()
    if judge.name not in _VERDICTS:
        _VERDICTS[judge.name] = judge.classify_many([r.item() for r in rows])
    return list(zip(rows, _VERDICTS[judge.name], strict=True))


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


def judge_errors(judge: Judge, languages: set[str] | None = None) -> JudgeErrors:
    """The judge's hits on labelled responses in `languages`; all labelled languages when none
    of them is labelled (or `languages` is None), so every group gets a correction."""
    pairs = labelled_verdicts(judge)
    known = {row.language for row, _ in pairs}
    wanted = (languages & known) if languages else set()
    if not wanted:
        wanted = known
    chosen = [(row, verdict) for row, verdict in pairs if row.language in wanted]
    on_refusals = np.array([v.refused for r, v in chosen if r.label == REFUSAL], dtype=float)
    on_compliances = np.array([not v.refused for r, v in chosen if r.label == COMPLIANCE],
                              dtype=float)
    return JudgeErrors(on_refusals, on_compliances, tuple(sorted(wanted)))
