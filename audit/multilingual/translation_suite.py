"""The translation suite: does the model write well in each language, and read it?

Each parallel sentence is translated by greedy generation English -> L and L -> English and
scored with corpus chrF++ against the other language's sentence, per language, per resource
tier and overall, beside a copy-the-source baseline (what an output that translates nothing
scores) and the response-language fidelity of the same outputs. Per-sentence n-gram counts are
kept in each sample, so the suite rescores and compares runs without the model.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from audit.metrics import MetricResult
from audit.multilingual import fidelity as fid
from audit.multilingual import measures
from audit.multilingual import translation as tr
from audit.multilingual.items import REFERENCE, TIERS, Language
from audit.multilingual.parallel_suite import ParallelSetSuite
from audit.stats import estimate_mean, estimate_statistic
from audit.suites.base import Request, Sample, SuiteContext

PART = "sentences"
ANSWER_TOKENS = 128
STATISTICS = {"chrf": "chrf_statistics", "copy_chrf": "copy_chrf_statistics"}


class TranslationSuite(ParallelSetSuite):
    """English -> L and L -> English translation of the parallel sentences, scored by chrF++."""

    def data_folder(self) -> Path:
        """The multilingual family's parallel set: `data/` beside this suite's folder."""
        return (self.spec.directory or Path()).parent / "data"

    def build_samples(self, context: SuiteContext) -> list[Sample]:
        items = self.item_set()
        english = items.languages[REFERENCE]
        chat = context.chat_enabled(default=True)
        generation = {"until": [] if chat else ["\n"], "do_sample": False,
                      "max_gen_toks": self.generation_length(context, ANSWER_TOKENS)}
        ids = self.choose(sorted(items.shared_ids(PART)), context, stratum=lambda _: PART,
                          strata="part")
        samples = []
        for code, language_items in items.languages.items():
            if code == REFERENCE:
                continue
            for direction in tr.DIRECTIONS:
                source, target = tr.direction_languages(direction, language_items.language,
                                                        english.language)
                texts = {REFERENCE: english.sentences, code: language_items.sentences}
                for item_id in ids:
                    text = texts[source.code][item_id]
                    request = Request("generate_until", (
                        context.format_chat(tr.prompt(text, source, target)), dict(generation)))
                    samples.append(Sample(
                        f"{direction}/{code}/{item_id}", [request],
                        {"language": code, "tier": language_items.language.tier,
                         "direction": direction},
                        {"direction": direction, "item": item_id,
                         "language": asdict(language_items.language),
                         "source_language": source.code, "target_language": asdict(target),
                         "source": text, "reference": texts[target.code][item_id]}))
        return samples

    def score(self, samples: list[Sample]) -> None:
        scorer = tr.load_scorer()
        targets = [Language(**s.data["target_language"]) for s in samples]
        outputs = [tr.read_translation(str((s.responses or [""])[0]), target)
                   for s, target in zip(samples, targets, strict=True)]
        references = [s.data["reference"] for s in samples]
        counts = scorer.statistics(outputs, references)
        copies = scorer.statistics([s.data["source"] for s in samples], references)
        names = fid.candidates(targets)
        for sample, target, output, mine, copied in zip(samples, targets, outputs, counts,
                                                        copies, strict=True):
            sample.data.update(translation=output, chrf_statistics=mine,
                               copy_chrf_statistics=copied)
            sample.scores = {"chrf_sentence": tr.chrf_from_statistics(np.array([mine])),
                             "copy_chrf_sentence": tr.chrf_from_statistics(np.array([copied]))}
            if fid.line_measurable(target):
                verdict = fid.line_verdict(output, target, names)
                sample.scores[f"fidelity_{sample.data['direction']}"] = float(verdict.passed)

    def metrics(self, samples: list[Sample]) -> list[MetricResult]:
        self._skipped = []
        scorer = tr.load_scorer()
        self._record_implementation(scorer.description)
        table = _Translations(samples)
        results: list[MetricResult] = []
        for language in table.languages():
            group = {"language": language.code, "tier": language.tier}
            for direction in tr.DIRECTIONS:
                members = table.samples(direction, language.code)
                if not members:
                    continue
                for kind, key in STATISTICS.items():
                    estimate = estimate_statistic(tr.chrf_from_statistics, _counts(members, key))
                    if kind == "chrf":
                        hub = scorer.corpus_score([s.data["translation"] for s in members],
                                                  [s.data["reference"] for s in members])
                        estimate = estimate if hub is None else replace(estimate, value=hub)
                    results.append(MetricResult.from_estimate(f"{kind}_{direction}", estimate,
                                                              group))
                results.extend(self._fidelity(direction, language, members, group))
        results.extend(_summaries(table))
        return results

    def statistic(self, metric: str, group: dict[str, str], samples: list[Sample]
                  ) -> float | None:
        """Corpus chrF++ (or its copy baseline) of `group`, recomputed from the samples' counts:
        one language, a tier's languages, or every language (averaged over languages)."""
        direction = next((d for d in tr.DIRECTIONS if metric.endswith(f"_{d}")), "")
        kind = metric[:-len(direction) - 1]
        if kind not in STATISTICS:
            return None
        table = _Translations(samples)
        codes = [group["language"]] if "language" in group else \
            group["languages"].split(",") if "languages" in group else \
            [lang.code for lang in table.languages()]
        values = [tr.chrf_from_statistics(_counts(table.samples(direction, code),
                                                  STATISTICS[kind])) for code in codes]
        return float(np.mean(values)) if values and all(map(math.isfinite, values)) else None

    def _fidelity(self, direction: str, language: Language, members: list[Sample],
                  group: dict[str, str]) -> list[MetricResult]:
        metric = f"fidelity_{direction}"
        target = Language(**members[0].data["target_language"])
        if not fid.line_measurable(target):
            self._skip(f"{metric} ({language.code})",
                       f"lingua has no model for {target.name}; the language of the "
                       "translations is not measurable.")
            return []
        return [MetricResult.from_estimate(
            metric, estimate_mean([s.scores[metric] for s in members]), group)]

    def _record_implementation(self, description: str) -> None:
        """Write which chrF++ module computed the scores into the metrics' implementation."""
        metrics = {name: spec.model_copy(update={"implementation": description})
                   if name.startswith(("chrf_", "copy_chrf_")) else spec
                   for name, spec in self.spec.metrics.items()}
        self.spec = self.spec.model_copy(update={"metrics": metrics})


def _counts(members: list[Sample], key: str) -> np.ndarray:
    """The sentences' count rows (sentence x 24), in item order."""
    rows = [s.data[key] for s in sorted(members, key=lambda s: s.data["item"])]
    return np.array(rows, dtype=float).reshape(len(rows), tr.STATISTICS_WIDTH)


def _summaries(table: _Translations) -> list[MetricResult]:
    """chrF++ and its baseline per tier and overall: the mean over the languages of their
    corpus scores, bootstrapped by resampling sentence ids jointly for every language."""
    out: list[MetricResult] = []
    statistic = measures.across_languages(tr.chrf_from_statistics)
    for direction in tr.DIRECTIONS:
        for tier in (*TIERS, None):
            chosen = [lang for lang in table.languages() if table.samples(direction, lang.code)
                      and (tier is None or lang.tier == tier)]
            if not chosen:
                continue
            group = {} if tier is None else {
                "tier": tier, "languages": ",".join(lang.code for lang in chosen)}
            for kind, key in STATISTICS.items():
                stacked = np.stack([_counts(table.samples(direction, lang.code), key)
                                    for lang in chosen], axis=1)
                out.append(MetricResult.from_estimate(
                    f"{kind}_{direction}", estimate_statistic(statistic, stacked), group))
    return out


class _Translations:
    """Scored samples by direction and language."""

    def __init__(self, samples: list[Sample]) -> None:
        self._by: dict[tuple[str, str], list[Sample]] = defaultdict(list)
        self._languages: dict[str, Language] = {}
        for sample in samples:
            language = Language(**sample.data["language"])
            self._languages[language.code] = language
            self._by[(sample.data["direction"], language.code)].append(sample)

    def languages(self) -> list[Language]:
        """By tier (high, mid, low), then code."""
        return sorted(self._languages.values(),
                      key=lambda lang: (TIERS.index(lang.tier), lang.code))

    def samples(self, direction: str, code: str) -> list[Sample]:
        return self._by.get((direction, code), [])
