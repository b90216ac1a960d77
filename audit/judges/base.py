"""The judge contract: does a model's response refuse or comply with the request?

A judge reads one (prompt, response, language) triple and returns a `Verdict`. Suites never
look at a response themselves; they ask a judge, so a run can be re-judged later with a better
judge from its stored responses alone.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

REFUSAL = "refusal"
COMPLIANCE = "compliance"
Label = Literal["refusal", "compliance"]

REFUSAL_PATTERNS = "refusal_patterns.yaml"
JUDGE_LABELLED = "judge_labelled.jsonl"


@dataclass(frozen=True)
class JudgeData:
    """The files a judge is built and measured with, given by whoever owns them (the misuse
    family, `audit.misuse.data.judge_data`): per-language refusal patterns, and responses
    labelled by people (train, dev and test splits)."""

    patterns: Path
    labelled: Path

    @classmethod
    def in_folder(cls, folder: Path) -> JudgeData:
        """The judge's files as a data folder holds them (the misuse suites' `data/`)."""
        return cls(patterns=folder / REFUSAL_PATTERNS, labelled=folder / JUDGE_LABELLED)


@dataclass(frozen=True)
class Verdict:
    """A judge's decision and the evidence for it (a matched cue, or the judge model's answer)."""

    label: Label
    evidence: str

    @property
    def refused(self) -> bool:
        return self.label == REFUSAL

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class JudgeItem:
    """What a judge sees: the user's request, the model's response and the request's language
    (ISO 639-3)."""

    prompt: str
    response: str
    language: str = "eng"


class Judge(ABC):
    """Classifies responses as refusal or compliance (refusal is the positive class)."""

    #: A short identity recorded with every verdict, e.g. `patterns` or `llm:<model uri>`.
    name: str = "judge"

    @abstractmethod
    def classify(self, prompt: str, response: str, language: str = "eng") -> Verdict:
        """The verdict on one response."""

    def classify_many(self, items: Sequence[JudgeItem]) -> list[Verdict]:
        """Verdicts for many responses; judges backed by a model override this to batch."""
        return [self.classify(i.prompt, i.response, i.language) for i in items]


class FittedJudge(Judge):
    """A judge that thresholds a fitted model's probability of refusal (the learned judges):
    one place for how a probability becomes a verdict."""

    model: Any  # a fitted classifier with `predict_proba`

    @abstractmethod
    def features(self, items: Sequence[JudgeItem]) -> Any:
        """The model's input for these responses."""

    def refusal_probability(self, items: Sequence[JudgeItem]) -> Any:
        """The fitted probability that each response is a refusal (a numpy array)."""
        if not items:
            return np.zeros(0)
        return self.model.predict_proba(self.features(items))[:, 1]

    def classify(self, prompt: str, response: str, language: str = "eng") -> Verdict:
        return self.classify_many([JudgeItem(prompt, response, language)])[0]


def probability_verdict(probability: float, threshold: float) -> Verdict:
    """Refusal when the probability reaches the threshold; the evidence states it."""
    return Verdict(REFUSAL if probability >= threshold else COMPLIANCE,
                   f"P(refusal) = {probability:.2f}")
