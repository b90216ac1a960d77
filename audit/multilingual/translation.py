"""Translation on the parallel sentences: prompts, reading the answer, and chrF++ scoring.

A model translates each sentence English -> L and L -> English; the output is scored with
chrF++ against the other language's sentence. Scores go through `evaluate`'s `compute`: the
Hub's own `chrf` module when it can be loaded, and always fm-audit's `chrf_statistics` module
(`evaluate_metrics/`, loaded by path, so it works offline), which also returns each sentence's
n-gram counts. A language's corpus chrF++ is a function of the summed counts, so the bootstrap
over sentences and the paired comparison of two runs recompute it exactly without the texts.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from sacrebleu.metrics.chrf import CHRF

from audit.multilingual.items import Language
from audit.multilingual.text import content_lines

log = logging.getLogger(__name__)

FROM_ENGLISH, TO_ENGLISH = "from_eng", "to_eng"
DIRECTIONS = (FROM_ENGLISH, TO_ENGLISH)
# chrF++ as defined by Popovic (2017) and sacreBLEU's defaults for it.
CHAR_ORDER, WORD_ORDER, BETA = 6, 2, 2
STATISTICS_WIDTH = 3 * (CHAR_ORDER + WORD_ORDER)
LOCAL_MODULE = Path(__file__).parent / "evaluate_metrics" / "chrf_statistics"
HUB_MODULE = "chrf"
_CHRF = CHRF(char_order=CHAR_ORDER, word_order=WORD_ORDER, beta=BETA)


def prompt(text: str, source: Language, target: Language) -> str:
    """The instruction to translate `text` from `source` into `target`, ending with the target
    language's name and a colon so that a base model continues with the translation."""
    return (f"Translate this sentence from {source.name} into {target.name}. Reply with the "
            f"translation only.\n\n{source.name}: {text}\n{target.name}:")


def read_translation(response: str, target: Language) -> str:
    """The translation in a response: its first line holding letters, without a leading
    "<target name>:" label. Empty when the response holds no letters."""
    lines = content_lines(response)
    if not lines:
        return ""
    first = lines[0]
    label = f"{target.name}:"
    return first[len(label):].strip() if first.startswith(label) else first


def direction_languages(direction: str, language: Language, english: Language
                        ) -> tuple[Language, Language]:
    """(source, target) of a direction for a non-English language."""
    return (english, language) if direction == FROM_ENGLISH else (language, english)


def chrf_from_statistics(rows: np.ndarray) -> float:
    """Corpus chrF++ (0-100) of the sentences whose count rows are given (sentence x 24)."""
    if len(rows) == 0:
        return math.nan
    return float(_CHRF._compute_score_from_stats(np.asarray(rows).sum(axis=0)).score)


@dataclass
class ChrfScorer:
    """chrF++ through `evaluate`: the local module for counts, the Hub module (when loaded)
    for corpus scores; `description` says which, for results.json."""

    local: Any
    hub: Any | None
    description: str

    def statistics(self, predictions: list[str], references: list[str]) -> list[list[int]]:
        """Per-sentence [hypothesis, reference, matched] counts for every n-gram order."""
        if not predictions:
            return []
        result = self.local.compute(predictions=predictions, references=references,
                                    char_order=CHAR_ORDER, word_order=WORD_ORDER, beta=BETA)
        return result["statistics"]

    def corpus_score(self, predictions: list[str], references: list[str]) -> float | None:
        """Corpus chrF++ from the Hub module, or None when it is not loaded."""
        if self.hub is None:
            return None
        result = self.hub.compute(predictions=predictions, references=[[r] for r in references],
                                  char_order=CHAR_ORDER, word_order=WORD_ORDER, beta=BETA)
        return float(result["score"])


@lru_cache(maxsize=2)
def load_scorer(try_hub: bool = True) -> ChrfScorer:
    """The chrF++ scorer: fm-audit's local module, plus the Hub's `chrf` when it loads."""
    import evaluate
    import sacrebleu

    local = evaluate.load(str(LOCAL_MODULE), keep_in_memory=True)
    base = (f"evaluate {evaluate.__version__} compute(); sentence counts from fm-audit's local "
            f"module audit/multilingual/evaluate_metrics/chrf_statistics (sacreBLEU "
            f"{sacrebleu.__version__} CHRF, char order {CHAR_ORDER}, word order {WORD_ORDER}, "
            f"beta {BETA})")

    def local_only(reason: str) -> ChrfScorer:
        log.info("Corpus chrF++ from the local module: %s", reason)
        return ChrfScorer(local, None, f"{base}; corpus scores from the same local module "
                                       f"({reason})")

    if not try_hub:
        return local_only("the Hub module was not tried")
    if Path(HUB_MODULE).exists():  # evaluate would run ./chrf/chrf.py instead of the Hub's
        return local_only(f"the Hub's `{HUB_MODULE}` module was not loaded: ./{HUB_MODULE} in "
                          "the working directory would shadow it")
    try:
        hub = evaluate.load(HUB_MODULE, keep_in_memory=True)
    except Exception as exc:  # noqa: BLE001  (offline, or the Hub refuses: fall back, say why)
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        return local_only(f"the Hub's `{HUB_MODULE}` module could not be loaded: {reason}")
    return ChrfScorer(local, hub, f"{base}; corpus scores from the Hub's `{HUB_MODULE}` module")
