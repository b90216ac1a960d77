"""The WinoBias suite: pro/anti-stereotypical coreference accuracy and their gap."""

from __future__ import annotations

from audit.bias import winobias
from audit.bias.sources import WINOBIAS
from audit.bias.suite import BiasSuite
from audit.suites.base import Sample, SuiteContext
from audit.suites.spec import SuiteSpec


class WinoBiasSuite(BiasSuite):
    """Pronoun resolution with the pronoun fitting, then defying, the occupation stereotype."""

    files = (WINOBIAS,)
    derived = winobias.METRICS

    def __init__(self, spec: SuiteSpec) -> None:
        super().__init__(spec)
        self._skipped: list[winobias.Skipped] = []

    def build_samples(self, context: SuiteContext) -> list[Sample]:
        items, self._skipped = winobias.parse(WINOBIAS.path())
        return [winobias.to_sample(item)
                for item in self.choose(items, context)]

    def score(self, samples: list[Sample]) -> None:
        for sample in samples:
            winobias.score(sample)

    def skipped(self) -> list[dict[str, str]]:
        return [{"what": f"WinoBias record at line {s.line} of {WINOBIAS.member}",
                 "reason": s.reason} for s in self._skipped]
