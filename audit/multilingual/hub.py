"""Standard parallel sets for online users: FLORES-200, Belebele and Global-MMLU.

Each loader reads a Hugging Face dataset by id (through `datasets`) and turns it into the
suite's own items, so every metric works on it unchanged: FLORES sentences become `sentences`;
Belebele (passage + question) and Global-MMLU questions become four-option `questions`. A
local directory laid out as `<dir>/<config>/<split>.jsonl` (or .json, .parquet, .csv) in the
same columns stands in for the hub id, which is how the loaders are tested offline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.errors import DatasetError
from audit.multilingual.items import LanguageItems, ParallelSet, Question, check_parallel

log = logging.getLogger(__name__)

FLORES = "openlanguagedata/flores_plus"
BELEBELE = "facebook/belebele"
GLOBAL_MMLU = "CohereLabs/Global-MMLU"
# Licence and citation of each standard set, recorded in run.json when it is used.
CARDS: dict[str, dict[str, str]] = {
    "flores": {"name": "FLORES-200", "licence": "CC-BY-SA-4.0",
               "citation": "NLLB Team et al. 2022, No Language Left Behind"},
    "belebele": {"name": "Belebele", "licence": "CC-BY-SA-4.0",
                 "citation": "Bandarkar et al. 2024, The Belebele Benchmark"},
    "global_mmlu": {"name": "Global-MMLU", "licence": "Apache-2.0",
                    "citation": "Singh et al. 2024, Global MMLU"},
}
LOCAL_FORMATS = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}
LETTERS = "ABCD"


@dataclass(frozen=True)
class HubCodes:
    """A language's config names: FLORES-style (code_Script) and Global-MMLU (ISO 639-1)."""

    flores: str
    mmlu: str | None


# Codes of the project's languages in the standard sets (None: not in Global-MMLU).
HUB_CODES: dict[str, HubCodes] = {
    "eng": HubCodes("eng_Latn", "en"), "spa": HubCodes("spa_Latn", "es"),
    "fra": HubCodes("fra_Latn", "fr"), "cmn": HubCodes("cmn_Hans", "zh"),
    "arb": HubCodes("arb_Arab", "ar"), "deu": HubCodes("deu_Latn", "de"),
    "hin": HubCodes("hin_Deva", "hi"), "ind": HubCodes("ind_Latn", "id"),
    "swh": HubCodes("swh_Latn", "sw"), "vie": HubCodes("vie_Latn", "vi"),
    "ben": HubCodes("ben_Beng", "bn"), "yor": HubCodes("yor_Latn", "yo"),
    "hau": HubCodes("hau_Latn", "ha"), "amh": HubCodes("amh_Ethi", "am"),
    "quy": HubCodes("quy_Latn", None), "npi": HubCodes("npi_Deva", "ne"),
}


def read_rows(source: str, config: str, split: str) -> list[dict[str, Any]]:
    """Rows of one config and split: from the hub by dataset id, or from a local mirror."""
    import datasets

    local = Path(source)
    try:
        if local.is_dir():
            files = sorted(f for f in (local / config).glob(f"{split}.*")
                           if f.suffix in LOCAL_FORMATS)
            if not files:
                raise DatasetError(f"no {config}/{split}.jsonl (or .parquet, .csv) in {source}",
                                   fix="lay the local copy out as <dir>/<config>/<split>.<ext>.")
            data = datasets.load_dataset(LOCAL_FORMATS[files[0].suffix],
                                         data_files=str(files[0]), split="train")
        else:
            data = datasets.load_dataset(source, config, split=split)
    except (OSError, ValueError, datasets.exceptions.DatasetNotFoundError) as exc:
        raise DatasetError(f"cannot load {source} ({config}, {split}): {exc}",
                           fix="check the dataset id, that you are online and have accepted "
                               "its terms on the hub, or point to a local copy.") from exc
    return [dict(row) for row in data]


def _codes(code: str) -> HubCodes:
    if code not in HUB_CODES:
        raise DatasetError(f"no standard-set code known for language {code!r}",
                           fix=f"add it to HUB_CODES in {__name__} or drop the language.")
    return HUB_CODES[code]


def flores_sentences(source: str, code: str, split: str = "devtest") -> dict[str, str]:
    """FLORES sentences of one language, keyed by their shared id (`text` or `sentence`)."""
    rows = read_rows(source, _codes(code).flores, split)
    return {f"flores-{row['id']}": row.get("text", row.get("sentence")) for row in rows}


def belebele_questions(source: str, code: str, split: str = "test") -> dict[str, Question]:
    """Belebele items as questions: the FLORES passage, then the question; answer from 1-4."""
    questions = {}
    for row in read_rows(source, _codes(code).flores, split):
        item_id = f"belebele-{row['link']}#{row['question_number']}"
        questions[item_id] = Question(
            item_id, f"{row['flores_passage']}\n{row['question']}",
            tuple(str(row[f"mc_answer{i}"]) for i in range(1, 5)),
            int(row["correct_answer_num"]) - 1)
    return questions


def global_mmlu_questions(source: str, code: str, split: str = "test") -> dict[str, Question]:
    """Global-MMLU questions of one language; answer letter A-D as a 0-based index."""
    mmlu = _codes(code).mmlu
    if mmlu is None:
        raise DatasetError(f"Global-MMLU has no {code}",
                           fix="leave the language out of a Global-MMLU run.")
    questions = {}
    for row in read_rows(source, mmlu, split):
        item_id = f"gmmlu-{row['sample_id']}"
        questions[item_id] = Question(
            item_id, str(row["question"]),
            tuple(str(row[f"option_{letter}"]) for letter in "abcd"),
            LETTERS.index(str(row["answer"]).strip().upper()))
    return questions


def standard_set(base: ParallelSet, flores: str | None = None, belebele: str | None = None,
                 global_mmlu: str | None = None, languages: list[str] | None = None
                 ) -> ParallelSet:
    """`base` with its sentences replaced by FLORES and/or its questions by Belebele and/or
    Global-MMLU (both: their questions together); prompts and language tags stay `base`'s.

    Ids are shared across languages in each standard set, so pairing with English holds.
    """
    codes = languages or list(base.languages)
    chosen: dict[str, LanguageItems] = {}
    for code in codes:
        if code not in base.languages:
            raise DatasetError(f"language {code!r} is not in {base.source}",
                               fix="choose languages that the base set tags.")
        original = base.languages[code]
        items = LanguageItems(original.language, dict(original.sentences),
                              dict(original.questions), dict(original.prompts))
        if flores:
            items.sentences = flores_sentences(flores, code)
        if belebele or global_mmlu:
            items.questions = {}
            if belebele:
                items.questions.update(belebele_questions(belebele, code))
            if global_mmlu:
                items.questions.update(global_mmlu_questions(global_mmlu, code))
        chosen[code] = items
    used = {"flores": flores, "belebele": belebele, "global_mmlu": global_mmlu}
    used = {key: source for key, source in used.items() if source}
    provenance = [dict(CARDS[key], source=source) for key, source in used.items()]
    provenance.append({"name": "fm-audit multilingual parallel set (prompts and any part "
                               "not replaced)", "source": base.source, "licence": "Apache-2.0"})
    result = ParallelSet(chosen, source=" + ".join(used.values()) or base.source,
                         provenance=provenance)
    for part in ("sentences", "questions"):
        counts = {code: len(getattr(items, part)) for code, items in chosen.items()}
        if len(set(counts.values())) > 1:
            log.warning("%s: languages hold different numbers of %s (%s); only shared ids "
                        "are used", result.source, part, counts)
    _keep_shared(result)
    check_parallel(result)
    return result


def _keep_shared(items: ParallelSet) -> None:
    """Drop items some language lacks, so every language holds the same ids."""
    for part in ("sentences", "questions"):
        shared = set(items.shared_ids(part))
        for language_items in items.languages.values():
            setattr(language_items, part,
                    {k: v for k, v in getattr(language_items, part).items() if k in shared})
