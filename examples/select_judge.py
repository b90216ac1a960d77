"""Choose the refusal judges' settings without the test split.

Two comparisons, both printed best first by the smaller of precision and recall (refusal =
positive); the test split is not read.

- `dev` (the default): fits the classifier, embedding and multilingual-embedding judges on
  the train split for each candidate setting and measures every candidate and the pattern
  judge on the dev split, overall and in the worst language.
- `cv`: grouped cross-validation of `multilingual-embedding` candidates on train and dev
  together (dev alone, 172 rows, is too few to choose among many candidates): five folds by
  prompt group (`group` in the labelled file), so one request's rows never sit on both sides.
  In each fold the decision threshold is chosen inside the training part (by a grouped
  three-fold split of it, the threshold with the highest min(precision, recall)), then the
  model fitted on the whole training part judges the held-out fold. Prints the pooled
  held-out precision, recall and specificity, English's precision and recall, and recall per
  source. Candidates within `TIE` of the best min(precision, recall) (about two of the 399
  refusals) count as tied; among them the one with the highest recall on its worst source
  is chosen, since a feature that catches off-topic answers and echoes (constructed and
  SmolLM2 rows) carries the label's rule rather than the written styles. For the chosen one,
  prints the threshold the same rule as inside the folds picks on all of train and dev (the
  one the shipped settings use).

    python examples/select_judge.py            # dev
    python examples/select_judge.py cv
"""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
from sklearn.model_selection import GroupKFold

from audit.judges import MULTILINGUAL_EMBEDDING
from audit.judges.base import REFUSAL, Judge
from audit.judges.classifier import ClassifierJudge, ClassifierSettings
from audit.judges.embedder import Embedder, sentence_embedder
from audit.judges.embedding import EmbeddingJudge, EmbeddingSettings
from audit.judges.multilingual_embedder import multilingual_embedder
from audit.judges.patterns import PatternJudge
from audit.judges.validation import LabelledResponse, load_labelled
from audit.misuse.data import judge_data


def rates(judge: Judge, rows: list[LabelledResponse]) -> tuple[float, float, float]:
    """Precision, recall and specificity of `judge` on `rows`."""
    called = np.array([v.refused for v in judge.classify_many([r.item() for r in rows])])
    truth = np.array([r.label == REFUSAL for r in rows])
    precision = (called & truth).sum() / max(called.sum(), 1)
    recall = (called & truth).sum() / max(truth.sum(), 1)
    specificity = (~called & ~truth).sum() / max((~truth).sum(), 1)
    return float(precision), float(recall), float(specificity)


class RememberingEmbedder:
    """The embedder, asked once per distinct text however many candidates are fitted."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.name = embedder.name
        self.wheel = embedder.wheel
        self.known: dict[tuple[str, bool], np.ndarray] = {}

    def embed(self, texts: Sequence[str], request: bool = False) -> np.ndarray:
        """The vectors of `texts`, embedding only those not seen before."""
        new = sorted({t for t in texts if (t, request) not in self.known})
        for text, vector in zip(new, self.embedder.embed(new, request), strict=True):
            self.known[text, request] = vector
        return np.array([self.known[t, request] for t in texts]).reshape(len(texts), -1)


def dev_comparison() -> None:
    """Print the dev-split comparison, one line per candidate."""
    data = judge_data()
    train, dev = load_labelled(data.labelled, "train"), load_labelled(data.labelled, "dev")
    patterns = PatternJudge(data.patterns)
    candidates: list[tuple[str, Judge]] = [("patterns", patterns)]
    for c, word_ngrams in itertools.product((1.0, 3.0, 10.0), (False, True)):
        fitted = ClassifierJudge(train, patterns, ClassifierSettings(
            c=c, relevance_weight=3.0, word_ngrams=word_ngrams))
        for threshold, patterns_decide in itertools.product((0.4, 0.5, 0.6, 0.7),
                                                            (False, True)):
            settings = replace(fitted.settings, threshold=threshold,
                               patterns_decide=patterns_decide)
            candidates.append((f"classifier {settings}", fitted.with_decision(settings)))
    for kind, embedder in (("embedding", RememberingEmbedder(sentence_embedder())),
                           (MULTILINGUAL_EMBEDDING,
                            RememberingEmbedder(multilingual_embedder()))):
        for c, relevance, difference, threshold in itertools.product(
                (1.0, 2.0, 3.0, 5.0), (False, True), (False, True), (0.45, 0.5, 0.55)):
            settings = EmbeddingSettings(c=c, relevance=relevance,
                                         prompt_difference=difference, threshold=threshold)
            candidates.append((f"{kind} {settings}",
                               EmbeddingJudge(train, patterns, embedder, settings, kind)))
    lines = []
    for label, judge in candidates:
        precision, recall, specificity = rates(judge, dev)
        worst = min((min(rates(judge, [r for r in dev if r.language == lang])[:2]), lang)
                    for lang in sorted({r.language for r in dev}))
        lines.append((min(precision, recall), f"{label}: precision {precision:.3f} recall "
                      f"{recall:.3f} specificity {specificity:.3f}; worst language "
                      f"{worst[1]} min(P, R) {worst[0]:.3f}"))
    print(f"dev split: n = {len(dev)}; train split: n = {len(train)}")
    for _, line in sorted(lines, reverse=True):
        print(line)


THRESHOLDS = np.round(np.arange(0.2, 0.801, 0.025), 3)
OUTER_FOLDS, INNER_FOLDS = 5, 3
TIE = 0.005
SOURCES = ("written", "smollm2", "constructed")
#: Fits a judge on the given rows (one cross-validation candidate).
Builder = Callable[[list[LabelledResponse]], EmbeddingJudge]


def min_precision_recall(called: np.ndarray, truth: np.ndarray) -> float:
    """The smaller of precision and recall of boolean verdicts against boolean truth."""
    hits = (called & truth).sum()
    return float(min(hits / max(called.sum(), 1), hits / max(truth.sum(), 1)))


def best_threshold(probabilities: np.ndarray, truth: np.ndarray) -> float:
    """The threshold of `THRESHOLDS` with the highest min(precision, recall) (the highest
    such threshold on a tie)."""
    return float(max(THRESHOLDS, key=lambda t: (min_precision_recall(probabilities >= t,
                                                                     truth), t)))


def held_out_probabilities(rows: list[LabelledResponse], groups: np.ndarray, folds: int,
                           build: Builder) -> np.ndarray:
    """P(refusal) of every row from a judge fitted without its prompt group's fold."""
    probabilities = np.zeros(len(rows))
    for fit, held in GroupKFold(n_splits=folds).split(rows, groups=groups):
        judge = build([rows[i] for i in fit])
        probabilities[held] = judge.refusal_probability([rows[i].item() for i in held])
    return probabilities


def cross_validated_verdicts(rows: list[LabelledResponse], groups: np.ndarray,
                             build: Builder) -> np.ndarray:
    """Held-out verdicts of every row; each fold's threshold chosen inside its training part."""
    truth = np.array([r.label == REFUSAL for r in rows])
    called = np.zeros(len(rows), dtype=bool)
    for fit, held in GroupKFold(n_splits=OUTER_FOLDS).split(rows, groups=groups):
        inner = held_out_probabilities([rows[i] for i in fit], groups[fit], INNER_FOLDS, build)
        threshold = best_threshold(inner, truth[fit])
        judge = build([rows[i] for i in fit])
        called[held] = judge.refusal_probability([rows[i].item() for i in held]) >= threshold
    return called


def cv_comparison() -> None:
    """Print the grouped cross-validation of the multilingual-embedding candidates."""
    data = judge_data()
    rows = load_labelled(data.labelled, "train") + load_labelled(data.labelled, "dev")
    group_of = {record["id"]: record["group"] for record in map(
        json.loads, data.labelled.read_text(encoding="utf-8").splitlines())}
    groups = np.array([group_of[r.id] for r in rows])
    truth = np.array([r.label == REFUSAL for r in rows])
    english = np.array([r.language == "eng" for r in rows])
    patterns = PatternJudge(data.patterns)
    embedder = RememberingEmbedder(multilingual_embedder())
    features = {"difference": dict(prompt_difference=True),
                "difference+cues": dict(prompt_difference=True, text_cues=True),
                "difference+relative": dict(prompt_difference=True, relative_relevance=True),
                "difference+cues+relative": dict(prompt_difference=True, text_cues=True,
                                                 relative_relevance=True),
                "cosine+cues+relative": dict(relevance=True, text_cues=True,
                                             relative_relevance=True)}
    lines = []
    for (name, flags), c in itertools.product(features.items(), (3.0, 10.0, 30.0, 100.0)):
        settings = EmbeddingSettings(c=c, **flags)

        def build(fit: list[LabelledResponse], settings: EmbeddingSettings = settings
                  ) -> EmbeddingJudge:
            return EmbeddingJudge(fit, patterns, embedder, settings, MULTILINGUAL_EMBEDDING)

        called = cross_validated_verdicts(rows, groups, build)
        hits = called & truth
        precision, recall = hits.sum() / max(called.sum(), 1), hits.sum() / truth.sum()
        specificity = (~called & ~truth).sum() / (~truth).sum()
        english_hits = (hits & english).sum()
        source_recall = {source: (hits & chosen).sum() / max((truth & chosen).sum(), 1)
                         for source in SOURCES
                         for chosen in [np.array([r.source == source for r in rows])]}
        by_source = " ".join(f"{source} {value:.2f}" for source, value in source_recall.items())
        lines.append((min(precision, recall), min(source_recall.values()), settings, (
            f"{name}, C = {c:g}: precision {precision:.3f} recall {recall:.3f} specificity "
            f"{specificity:.3f}; eng precision "
            f"{english_hits / max((called & english).sum(), 1):.3f} recall "
            f"{english_hits / (truth & english).sum():.3f}; recall by source {by_source}")))
    print(f"grouped {OUTER_FOLDS}-fold cross-validation on train and dev: n = {len(rows)}, "
          f"{len(set(groups))} prompt groups")
    for *_, line in sorted(lines, key=lambda line: line[0], reverse=True):
        print(line)
    top = max(line[0] for line in lines)
    best = max((line for line in lines if line[0] >= top - TIE), key=lambda line: line[1])[2]
    every = held_out_probabilities(rows, groups, OUTER_FOLDS, lambda fit: EmbeddingJudge(
        fit, patterns, embedder, best, MULTILINGUAL_EMBEDDING))
    print(f"chosen: {best}; its threshold on all of train and dev: "
          f"{best_threshold(every, truth):.3f}")


if __name__ == "__main__":
    cv_comparison() if sys.argv[1:] == ["cv"] else dev_comparison()
