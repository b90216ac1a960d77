"""A test double for the decision profile: a suite whose items are given 0/1 outcomes, drawn
through the real selection (`Suite.choose`) and stopped by the real `draw_until_precise`, with
no model (its `run` answers nothing and reports no work)."""

from __future__ import annotations

from audit.decision import DECISION, SequentialDraw, draw_until_precise
from audit.execution import ExecutionStats
from audit.suites.base import Sample, Suite, SuiteContext
from audit.suites.profile import Profile
from audit.suites.spec import MetricSpec, SuiteSpec

METRIC = "acc"


class OutcomeSuite(Suite):
    """Items `<stratum>/<k>` whose `acc` is a stored outcome; stratified by the id's prefix
    when `stratified`."""

    def __init__(self, outcomes: dict[str, float], stratified: bool, maximum: int) -> None:
        spec = SuiteSpec(
            name="test/outcomes", family="capability", description="stored outcomes",
            kind="python", correct_metric=METRIC,
            metrics={METRIC: MetricSpec(label="Accuracy", description="stored outcome",
                                        formula="mean of the stored 0/1 outcomes")},
            profiles={DECISION: Profile(limit=maximum)})
        super().__init__(spec)
        self.outcomes = outcomes
        self.stratified = stratified

    def build_samples(self, context: SuiteContext) -> list[Sample]:
        stratum = (lambda item: item.split("/")[0]) if self.stratified else None
        chosen = self.choose(list(self.outcomes), context, stratum=stratum, strata="prefix")
        return [Sample(id=item, requests=[]) for item in chosen]

    def score(self, samples: list[Sample]) -> None:
        for sample in samples:
            sample.scores = {METRIC: self.outcomes[sample.id]}


def replay(suite: Suite, seed: int, precision: float) -> SequentialDraw:
    """The decision profile's draw of `suite` with `seed`, as a run makes it."""
    context = SuiteContext(model=None, profile=DECISION, seed=seed)
    return draw_until_precise(suite, context, precision, lambda samples: ExecutionStats())
