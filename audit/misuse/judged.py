"""What the misuse suites share: greedy generation requests, judging, and rates reported
both as observed and corrected for the judge's measured errors.

Each misuse suite (`audit/misuse/*_suite.py`, wired in `suites/misuse/`) subclasses
`JudgedSuite`: it builds samples whose requests are greedy generations of chat-formatted user
messages, and turns the judge's verdicts on the stored responses into per-sample scores.
Metrics named in `corrected` are reported with the Rogan-Gladen correction for the active
judge (`audit.judges.correction`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from audit.data.packs import DataFile
from audit.judges import Judge, JudgeData, JudgeItem, Verdict, active_judge
from audit.judges.correction import corrected_rate
from audit.judges.validation import judge_errors
from audit.metrics import MetricResult
from audit.misuse.data import judge_data
from audit.suites.base import Request, Sample, Suite, SuiteContext
from audit.suites.spec import DataSource

log = logging.getLogger(__name__)

DEFAULT_MAX_GEN_TOKS = 64


def generation_request(context: SuiteContext, user_message: str, max_gen_toks: int) -> Request:
    """A greedy generation for one user turn, chat-formatted for the model by default."""
    return Request("generate_until", (context.format_chat(user_message),
                                      {"until": [], "max_gen_toks": max_gen_toks,
                                       "do_sample": False}))


class Correction(NamedTuple):
    """A judge-corrected metric: the 0/1 score it corrects, whether that score marks a refusal
    (else a compliance), and whether the metric reports the refusal (else compliance) rate."""

    source: str
    source_is_refusal: bool
    of_refusal: bool


class JudgedSuite(Suite):
    """A generation suite whose responses a refusal judge classifies.

    Samples keep the raw user messages in `data["messages"]` (one per request) and their
    language in `group["language"]`; `score_verdicts` turns verdicts into scores. `corrected`
    names the metrics reported corrected for the judge, each with its `Correction`.
    """

    corrected: dict[str, Correction] = {}
    _judge: Judge | None = None

    def judge_data(self) -> JudgeData:
        """The judge's files: the misuse data folder beside this suite's folder."""
        return judge_data((self.spec.directory or Path()).parent / "data")

    @property
    def judge(self) -> Judge:
        """The judge used for scoring: set explicitly, else the process's active judge."""
        return self._judge or active_judge(self.judge_data())

    @judge.setter
    def judge(self, value: Judge) -> None:
        self._judge = value

    def judged_requests(self, sample: Sample) -> list[int]:
        """Indices of the sample's responses the judge reads (all by default)."""
        return list(range(len(sample.requests)))

    def score_verdicts(self, sample: Sample, verdicts: dict[int, Verdict]) -> dict[str, float]:
        """Per-sample scores from the verdicts on its judged responses."""
        raise NotImplementedError

    def score(self, samples: list[Sample]) -> None:
        """Judge every judged response in one batch, keep the verdicts, then score."""
        wanted = [(sample, index) for sample in samples for index in self.judged_requests(sample)]
        verdicts = self.judge.classify_many([
            JudgeItem(sample.data["messages"][index], str((sample.responses or [])[index]),
                      sample.group.get("language", "eng")) for sample, index in wanted])
        by_sample: dict[str, dict[int, Verdict]] = {}
        for (sample, index), verdict in zip(wanted, verdicts, strict=True):
            by_sample.setdefault(sample.id, {})[index] = verdict
        for sample in samples:
            found = by_sample.get(sample.id, {})
            sample.data["verdicts"] = {str(i): v.to_dict() for i, v in sorted(found.items())}
            sample.data["judge"] = self.judge.name
            sample.scores = self.score_verdicts(sample, found)

    def groups(self, samples: Sequence[Sample]) -> Iterable[tuple[dict[str, str], list[Sample]]]:
        """The samples overall, then per value of each `group_by` dimension."""
        yield {}, list(samples)
        for dimension in self.spec.group_by:
            for value in sorted({s.group.get(dimension) for s in samples} - {None}):
                yield {dimension: value}, [s for s in samples if s.group.get(dimension) == value]

    def metrics(self, samples: list[Sample]) -> list[MetricResult]:
        """Observed rates (with Clopper-Pearson intervals), then the judge-corrected ones."""
        results = super().metrics(samples)
        for metric, correction in self.corrected.items():
            if metric not in self.spec.metrics:
                continue
            source = correction.source
            scored = [s for s in samples if source in s.scores]
            for group, members in self.groups(scored):
                refused = [s.scores[source] if correction.source_is_refusal
                           else 1.0 - s.scores[source] for s in members]
                errors = judge_errors(self.judge, self.judge_data().labelled,
                                      {s.group.get("language", "eng") for s in members})
                results.append(MetricResult.from_estimate(metric, corrected_rate(
                    refused, errors, of_refusal=correction.of_refusal), group))
        return results


def sample_data(messages: list[str], redact: bool, **extra: Any) -> dict[str, Any]:
    """The `data` of a misuse sample: its user messages and whether its responses must be
    redacted in anything meant for reading (see `audit.redaction`)."""
    return {"messages": messages, "redact": redact, **extra}


def record_sources(suite: Suite, files: Iterable[DataFile]) -> None:
    """Add pack files' provenance (source, version, licence, citation, sha256) to the suite's
    data sources, which results.json records."""
    known = {source.source for source in suite.spec.data}
    for data_file in files:
        provenance = data_file.provenance()
        if provenance["source"] not in known:
            suite.spec.data.append(DataSource(**provenance))
            known.add(provenance["source"])
