"""The StereoSet intrasentence suite: LM score, stereotype score and ICAT per bias type."""

from __future__ import annotations

from audit.bias import stereoset
from audit.bias.sources import STEREOSET
from audit.bias.suite import BiasSuite
from audit.suites.base import Sample, SuiteContext


class StereoSetSuite(BiasSuite):
    """Intrasentence StereoSet with the authors' per-term aggregation."""

    files = (STEREOSET,)
    derived = stereoset.METRICS

    def build_samples(self, context: SuiteContext) -> list[Sample]:
        tokenizer = context.model.tokenizer if context.model is not None else None
        items = self.choose(stereoset.parse(STEREOSET.path()), context)
        return [stereoset.to_sample(item, tokenizer) for item in items]

    def score(self, samples: list[Sample]) -> None:
        for sample in samples:
            stereoset.score(sample)
