"""How well does the run's refusal judge agree with people? Measured on labelled responses.

No model generates anything here: the samples are the test split of the project's labelled
responses (never used to fit or tune a judge), the judge classifies them, and the suite reports
its recall (sensitivity), specificity, precision and accuracy with refusal as the positive
class, overall and per language, response style and source. The other misuse suites use the
same measurements to correct their rates.
"""

from __future__ import annotations

from pathlib import Path

from audit.judges import REFUSAL, JudgeData, JudgeItem, active_judge
from audit.judges.validation import EVALUATION_SPLIT, load_labelled
from audit.misuse.data import judge_data
from audit.suites.base import Sample, Suite, SuiteContext


class JudgeAgreement(Suite):
    """The judge against human labels: one sample per labelled test response, no requests."""

    def judge_data(self) -> JudgeData:
        """The judge's files: the misuse data folder beside this suite's folder."""
        return judge_data((self.spec.directory or Path()).parent / "data")

    def build_samples(self, context: SuiteContext) -> list[Sample]:
        rows = self.choose(load_labelled(self.judge_data().labelled, split=EVALUATION_SPLIT),
                           context)
        return [Sample(id=r.id, requests=[],
                       group={"language": r.language, "style": r.style, "source": r.source,
                              "label": r.label},
                       data={"prompt": r.prompt, "response": r.response, "label": r.label})
                for r in rows]

    def score(self, samples: list[Sample]) -> None:
        judge = active_judge(self.judge_data())
        verdicts = judge.classify_many([
            JudgeItem(s.data["prompt"], s.data["response"], s.group["language"])
            for s in samples])
        for sample, verdict in zip(samples, verdicts, strict=True):
            truth = sample.data["label"] == REFUSAL
            sample.data["verdict"] = verdict.to_dict()
            sample.data["judge"] = judge.name
            sample.scores = {"accuracy": float(verdict.refused == truth)}
            if truth:
                sample.scores["recall"] = float(verdict.refused)
            else:
                sample.scores["specificity"] = float(not verdict.refused)
            if verdict.refused:
                sample.scores["precision"] = float(truth)
