"""The multilingual representation suite: which languages a model serves, and how much worse.

Three parts run on the same parallel content in every language: sentences (tokenizer fertility
and bits per byte from `loglikelihood_rolling`), four-option questions (accuracy, gap to
English, chance-corrected parity) and open prompts answered by greedy generation (response
language fidelity). Token counts are taken at build time and kept in each sample, so the
whole suite rescores from `samples.jsonl` without the model.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict

import numpy as np

from audit.metrics import MetricResult
from audit.multilingual import fidelity as fid
from audit.multilingual import measures
from audit.multilingual.items import (
    REFERENCE,
    TIERS,
    Language,
    LanguageItems,
)
from audit.multilingual.parallel_suite import ParallelSetSuite
from audit.multilingual.text import (
    UNSPACED_SCRIPTS,
    count_bytes,
    count_characters,
    count_tokens,
    count_words,
)
from audit.stats import Estimate, estimate_mean, estimate_statistic
from audit.suites.base import Request, Sample, SuiteContext

PARTS = ("sentences", "questions", "prompts")
ANSWER_TOKENS = 48
Columns = Callable[[Sample], list[float]]


class MultilingualSuite(ParallelSetSuite):
    """Parallel sentences, questions and prompts in every language of the item set."""

    def build_samples(self, context: SuiteContext) -> list[Sample]:
        items = self.item_set()
        tokenizer = context.model.tokenizer if context.model is not None else None
        generation = {"until": [], "max_gen_toks": self.generation_length(context, ANSWER_TOKENS),
                      "do_sample": False}
        samples: list[Sample] = []
        parallel = [(part, item_id) for part in PARTS for item_id in sorted(items.shared_ids(part))]
        chosen = self.choose(parallel, context, stratum=lambda item: item[0], strata="part")
        for part in PARTS:
            ids = [item_id for chosen_part, item_id in chosen if chosen_part == part]
            for language_items in items.languages.values():
                for item_id in ids:
                    samples.append(_build(part, language_items, item_id, context, tokenizer,
                                          generation))
        return samples

    def score(self, samples: list[Sample]) -> None:
        names = fid.candidates([Language(**s.data["language"]) for s in samples])
        for sample in samples:
            part = sample.data["part"]
            responses = sample.responses or []
            if part == "sentences":
                bits = -float(responses[0]) / math.log(2)
                sample.scores = {"bits": bits, "bits_per_byte": bits / sample.data["bytes"]}
            elif part == "questions":
                logliks = [float(r[0]) for r in responses]
                sample.scores = {"mc_acc": float(int(np.argmax(logliks)) == sample.data["answer"])}
            else:
                sample.scores = _fidelity_scores(str(responses[0]), sample.data["prompt"],
                                                 Language(**sample.data["language"]), names)

    def metrics(self, samples: list[Sample]) -> list[MetricResult]:
        table = _Table(samples)
        self._skipped = []
        results: list[MetricResult] = []
        for language in table.languages():
            results.extend(self._language_metrics(table, language))
        results.extend(_summaries(table))
        parities = [r for r in results if r.metric == "parity" and "language" in r.group]
        if parities:
            worst = min(parities, key=lambda r: r.value)
            results.append(MetricResult("parity_worst", worst.value, worst.n, worst.stderr,
                                        worst.ci_low, worst.ci_high, worst.ci_method,
                                        dict(worst.group)))
        return results

    def _language_metrics(self, table: _Table, language: Language) -> list[MetricResult]:
        group = {"language": language.code, "tier": language.tier}
        out: list[MetricResult] = []

        def add(metric: str, estimate: Estimate) -> None:
            out.append(MetricResult.from_estimate(metric, estimate, group))

        code, relative = language.code, language.code != REFERENCE
        if table.has("sentences", code):
            if table.has_data("sentences", code, "tokens"):
                add("tokens_per_char", estimate_statistic(measures.ratio_of_sums, table.rows(
                    "sentences", code, _cols("tokens", "chars"))))
                if language.script in UNSPACED_SCRIPTS:
                    self._skip(f"tokens_per_word ({code})",
                               f"{language.name} is written without spaces between words, so "
                               "whitespace word counts are meaningless; see tokens per character.")
                else:
                    add("tokens_per_word", estimate_statistic(measures.ratio_of_sums, table.rows(
                        "sentences", code, _cols("tokens", "words"))))
                if relative:
                    add("token_premium", estimate_statistic(measures.ratio_of_sums, table.paired(
                        "sentences", code, _cols("tokens"))))
            else:
                self._skip(f"tokenizer fertility ({code})",
                           "the model exposes no tokenizer, so tokens cannot be counted.")
            add("bits_per_byte", estimate_statistic(
                measures.ratio_of_sums, table.rows("sentences", code, _cols("bits", "bytes"))))
            if relative:
                add("bits_premium", estimate_statistic(
                    measures.ratio_of_sums, table.paired("sentences", code, _cols("bits"))))
                add("bpb_vs_eng", estimate_statistic(measures.relative_ratio, table.paired(
                    "sentences", code, _cols("bits", "bytes"))))
        if table.has("questions", code):
            add("mc_acc", estimate_mean(table.column("questions", code, "mc_acc")))
            if relative:
                rows = table.paired("questions", code, _cols("mc_acc"))
                add("mc_gap", estimate_statistic(measures.mean_difference, rows))
                if math.isfinite(measures.parity(rows)):
                    add("parity", estimate_statistic(measures.parity, rows))
                else:
                    self._skip(f"parity ({code})", "English accuracy is at or below chance "
                               "(25%), so chance-corrected parity is undefined.")
        if table.has("prompts", code):
            out.extend(self._fidelity_metrics(table, language, group))
        return out

    def _fidelity_metrics(self, table: _Table, language: Language, group: dict[str, str]
                          ) -> list[MetricResult]:
        code = language.code
        out: list[MetricResult] = []

        def add(metric: str, estimate: Estimate) -> None:
            out.append(MetricResult.from_estimate(metric, estimate, group))

        if language.script != "Latn":
            add("script_fidelity", estimate_mean(table.column("prompts", code, "script_pass")))
        if not fid.line_measurable(language):
            weaker = " (only the weaker script check is reported)" \
                if language.script != "Latn" else ""
            self._skip(f"fidelity ({code})", f"lingua has no model for {language.name}; response "
                       f"language is not measurable with lingua{weaker}.")
            return out
        add("fidelity_line", estimate_mean(table.column("prompts", code, "line_pass")))
        add("fidelity", estimate_statistic(measures.fidelity,
                                           table.rows("prompts", code, _fidelity_cols)))
        if fid.word_measurable(language):
            add("fidelity_word", estimate_statistic(
                measures.word_rate, table.rows("prompts", code, _cols("word_pass"))))
        if code in fid.CLOSE_LANGUAGES:
            add("close_language_share",
                estimate_mean(table.column("prompts", code, "close_language")))
        add("detector_check", estimate_mean(table.column("prompts", code, "detector_check")))
        return out


def _cols(*keys: str) -> Columns:
    """Columns read from a sample's scores, else its data (NaN where absent)."""
    return lambda s: [float(s.scores.get(k, s.data.get(k, math.nan))) for k in keys]


def _fidelity_cols(sample: Sample) -> list[float]:
    return [sample.scores["line_pass"], sample.scores.get("word_pass", math.nan)]


# Metrics summarised by tier (and overall) as the mean over non-English languages:
# (part, columns, paired with English, statistic).
TIER_SUMMARY: dict[str, tuple[str, Columns, bool, measures.Statistic]] = {
    "token_premium": ("sentences", _cols("tokens"), True, measures.ratio_of_sums),
    "bits_premium": ("sentences", _cols("bits"), True, measures.ratio_of_sums),
    "mc_gap": ("questions", _cols("mc_acc"), True, measures.mean_difference),
    "parity": ("questions", _cols("mc_acc"), True, measures.parity),
    "fidelity": ("prompts", _fidelity_cols, False, measures.fidelity),
}


def _summary_eligible(metric: str, language: Language, table: _Table) -> bool:
    if metric == "token_premium":
        return table.has_data("sentences", language.code, "tokens")
    if metric == "fidelity":
        return fid.line_measurable(language)
    if metric == "parity":
        return math.isfinite(measures.parity(table.paired("questions", language.code,
                                                          _cols("mc_acc"))))
    return True


def _summaries(table: _Table) -> list[MetricResult]:
    """Tier and overall means over non-English languages, bootstrapped over shared items."""
    out: list[MetricResult] = []
    others = [lang for lang in table.languages() if lang.code != REFERENCE]
    for metric, (part, columns, paired, statistic) in TIER_SUMMARY.items():
        eligible = [lang for lang in others if table.has(part, lang.code)
                    and _summary_eligible(metric, lang, table)]
        for tier in (*TIERS, None):
            chosen = [lang for lang in eligible if tier is None or lang.tier == tier]
            if not chosen:
                continue
            stacked = np.stack([table.paired(part, lang.code, columns) if paired
                                else table.rows(part, lang.code, columns)
                                for lang in chosen], axis=1)
            group = {} if tier is None else {
                "tier": tier, "languages": ",".join(lang.code for lang in chosen)}
            out.append(MetricResult.from_estimate(metric, estimate_statistic(
                measures.across_languages(statistic), stacked), group))
    return out


class _Table:
    """Scored samples indexed by part, language and item id."""

    def __init__(self, samples: list[Sample]) -> None:
        self._by: dict[tuple[str, str], dict[str, Sample]] = defaultdict(dict)
        self._languages: dict[str, Language] = {}
        for sample in samples:
            language = Language(**sample.data["language"])
            self._languages[language.code] = language
            self._by[(sample.data["part"], language.code)][sample.data["item"]] = sample

    def languages(self) -> list[Language]:
        """English first, then by tier (high, mid, low) and code."""
        return sorted(self._languages.values(), key=lambda lang: (
            lang.code != REFERENCE, TIERS.index(lang.tier), lang.code))

    def has(self, part: str, code: str) -> bool:
        return bool(self._by.get((part, code)))

    def has_data(self, part: str, code: str, key: str) -> bool:
        return all(key in s.data for s in self._by[(part, code)].values())

    def column(self, part: str, code: str, key: str) -> list[float]:
        return [s.scores[key] for _, s in sorted(self._by[(part, code)].items())]

    def rows(self, part: str, code: str, columns: Columns) -> np.ndarray:
        return np.array([columns(s) for _, s in sorted(self._by[(part, code)].items())],
                        dtype=float)

    def paired(self, part: str, code: str, columns: Columns) -> np.ndarray:
        """Rows of `columns` in `code` followed by the same columns in English, per shared id."""
        mine, reference = self._by[(part, code)], self._by[(part, REFERENCE)]
        shared = sorted(set(mine) & set(reference))
        return np.array([columns(mine[i]) + columns(reference[i]) for i in shared], dtype=float)


def _fidelity_scores(response: str, prompt: str, language: Language, names: frozenset[str]
                     ) -> dict[str, float]:
    """Per-response fidelity scores; keys are absent where a check cannot be made."""
    scores: dict[str, float] = {}
    if language.script != "Latn":
        scores["script_pass"] = float(fid.script_pass(response, language.script))
    if fid.line_measurable(language):
        verdict = fid.line_verdict(response, language, names)
        scores["line_pass"] = float(verdict.passed)
        scores["close_language"] = float(verdict.via_close_language)
        scores["detector_check"] = float(fid.line_verdict(prompt, language, names).passed)
        if fid.word_measurable(language) and verdict.passed:
            scores["word_pass"] = float(fid.word_pass(response))
    return scores


def _build(part: str, items: LanguageItems, item_id: str, context: SuiteContext,
           tokenizer: object, generation: dict[str, object]) -> Sample:
    """One sample of `part` for one language and item."""
    language = items.language
    data: dict[str, object] = {"part": part, "item": item_id, "language": asdict(language)}
    group = {"language": language.code, "tier": language.tier, "part": part}
    sample_id = f"{part}/{language.code}/{item_id}"
    if part == "sentences":
        text = items.sentences[item_id]
        data.update(text=text, bytes=count_bytes(text), chars=count_characters(text),
                    words=count_words(text))
        if tokenizer is not None:
            data["tokens"] = count_tokens(tokenizer, text)
        return Sample(sample_id, [Request("loglikelihood_rolling", (text,))], group, data)
    if part == "questions":
        question = items.questions[item_id]
        data["answer"] = question.answer
        requests = [Request("loglikelihood", (question.question + "\n", choice))
                    for choice in question.choices]
        return Sample(sample_id, requests, group, data)
    prompt = items.prompts[item_id]
    data["prompt"] = prompt
    request = Request("generate_until", (context.format_chat(prompt), dict(generation)))
    return Sample(sample_id, [request], group, data)
