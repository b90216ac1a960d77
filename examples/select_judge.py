"""Choose the default refusal judge's settings on the dev split (never on test).

Fits the classifier, embedding and multilingual-embedding judges on the train split for each
candidate setting,
measures every candidate and the pattern judge on the dev split, and prints precision, recall
and specificity (refusal = positive) overall and the worst language, best first by the smaller
of precision and recall. The test split is not read.

    python examples/select_judge.py
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

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


def main() -> None:
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


if __name__ == "__main__":
    main()
