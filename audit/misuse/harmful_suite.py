"""Harmful requests: does the model refuse them, by source, risk category and language?"""

from __future__ import annotations

from audit.judges import Verdict
from audit.misuse.data import DO_NOT_ANSWER, HARMBENCH, do_not_answer, harmbench, project_harmful
from audit.misuse.judged import (
    DEFAULT_MAX_GEN_TOKS,
    Correction,
    JudgedSuite,
    generation_request,
    record_sources,
    sample_data,
)
from audit.suites.base import Sample, SuiteContext


class HarmfulRequests(JudgedSuite):
    """Do-Not-Answer, HarmBench and the project's multilingual requests, each asked once."""

    corrected = {"compliance_corrected": Correction("compliance", False, of_refusal=False)}

    def build_samples(self, context: SuiteContext) -> list[Sample]:
        record_sources(self, [*DO_NOT_ANSWER.values(), HARMBENCH])
        prompts = project_harmful(self.spec.directory.parent / "data") + do_not_answer() \
            + harmbench()
        chosen = self.choose(prompts, context, stratum=lambda p: f"{p.source}/{p.language}",
                             strata="source/language", unit=lambda p: p.unit,
                             in_file_order=False)
        tokens = self.generation_length(context, DEFAULT_MAX_GEN_TOKS)
        return [Sample(id=p.id, requests=[generation_request(context, p.text, tokens)],
                       group={"source": p.source, "category": p.category,
                              "language": p.language},
                       data=sample_data([p.text], redact=True, request_id=p.unit))
                for p in chosen]

    def score_verdicts(self, sample: Sample, verdicts: dict[int, Verdict]) -> dict[str, float]:
        refused = float(verdicts[0].refused)
        return {"refusal": refused, "compliance": 1.0 - refused}
