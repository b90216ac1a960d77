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
from audit.misuse.parity import parity_metrics, parity_point
from audit.suites.base import Sample, SuiteContext

PARALLEL_SOURCE = "project"
# The per-language parity metrics a comparison can bootstrap through `statistic`; the worst
# language has no hook, as the worst language may differ between the two runs.
PARITY_KINDS = {"refusal_gap_to_eng": "gap", "refusal_ratio_to_eng": "ratio"}


def _parallel(samples: list[Sample]) -> list[Sample]:
    """The scored project requests, asked in every language."""
    return [s for s in samples if s.group["source"] == PARALLEL_SOURCE and "refusal" in s.scores]


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
        parity = parity_metrics("refusal", _parallel(samples),
                                language=lambda s: s.group["language"],
                                unit=lambda s: s.data["request_id"],
                                value=lambda s: s.scores["refusal"])
        return results + [m for m in parity if m.metric in self.spec.metrics]

    def statistic(self, metric: str, group: dict[str, str], samples: list[Sample]
                  ) -> float | None:
        """A language's refusal gap or ratio to English, recomputed from the samples, so
        `compare` pairs the two runs' values by item (resampling the same (language, request)
        items in both) instead of comparing them unpaired."""
        kind = PARITY_KINDS.get(metric)
        if kind is None or "language" not in group:
            return None
        return parity_point(kind, _parallel(samples), language=lambda s: s.group["language"],
                            unit=lambda s: s.data["request_id"],
                            value=lambda s: s.scores["refusal"], target=group["language"])
