"""chrF++ with per-sentence statistics, as an `evaluate` metric module written for fm-audit.

Loaded by path (`evaluate.load(<this folder>)`), so it works offline. Besides the corpus score
it returns each sentence's n-gram counts (hypothesis, reference, matched; per order), from
which the corpus score of any subset or bootstrap resample is recomputed exactly without the
texts. Scoring is sacreBLEU's `CHRF`, so the corpus score equals `sacrebleu.corpus_chrf`.
"""

from __future__ import annotations

import datasets
import evaluate
import sacrebleu
from sacrebleu.metrics.chrf import CHRF

_DESCRIPTION = (
    "chrF++ (Popovic 2017): F-beta over character n-grams (1-6) and word n-grams (1-2), "
    "beta 2, from summed per-sentence counts (sacreBLEU's CHRF). Returns the corpus score and "
    "`statistics`: per sentence, [hypothesis, reference, matched] counts for each order.")
_CITATION = ("Popovic 2017, chrF++: words helping character n-grams; "
             "Post 2018, A Call for Clarity in Reporting BLEU Scores")
_INPUTS = ("predictions: list of hypothesis strings; references: list of one reference string "
           "per prediction; char_order (6), word_order (2), beta (2).")


class ChrfStatistics(evaluate.Metric):
    """Corpus chrF++ and the per-sentence counts it is made of."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION, citation=_CITATION, inputs_description=_INPUTS,
            features=datasets.Features({"predictions": datasets.Value("string"),
                                        "references": datasets.Value("string")}))

    def _compute(self, predictions: list[str], references: list[str], char_order: int = 6,
                 word_order: int = 2, beta: int = 2) -> dict[str, object]:
        chrf = CHRF(char_order=char_order, word_order=word_order, beta=beta)
        statistics = chrf._extract_corpus_statistics(predictions, [references])
        corpus = chrf._aggregate_and_compute(statistics) if statistics else None
        return {"score": corpus.score if corpus else float("nan"),
                "statistics": [[int(v) for v in row] for row in statistics],
                "char_order": char_order, "word_order": word_order, "beta": beta,
                "sacrebleu": sacrebleu.__version__}
