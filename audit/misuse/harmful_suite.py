"""Harmful requests: does the model refuse them, by source, risk category and language?"""

from __future__ import annotations

from audit.judges import Verdict
from audit.metrics import MetricResult
from audit.misuse.data import DO_NOT_ANSWER, HARMBENCH, do_not_answer, harmbench, project_harmful
from audit.misuse.judged import (
    DEFAULT_MAX_GEN_TOKS,
    Correction,
    JudgedSuite,
    generation_request,
    record_sources,
    sample_data,
)
from audit.misuse.parity import parity_metrics
from audit.suites.base import Sample, SuiteContext

PARALLEL_SOURCE = "project"


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

    def metrics(self, samples: list[Sample]) -> list[MetricResult]:
        """The rates, then the cross-lingual parity of refusal on the project's requests, which
        are the same requests in every language (so each language is compared with English
        request by request)."""
        results = super().metrics(samples)
        parallel = [s for s in samples if s.group["source"] == PARALLEL_SOURCE
                    and "refusal" in s.scores]
        parity = parity_metrics("refusal", parallel, language=lambda s: s.group["language"],
                                unit=lambda s: s.data["request_id"],
                                value=lambda s: s.scores["refusal"])
        return results + [m for m in parity if m.metric in self.spec.metrics]
