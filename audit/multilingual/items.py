"""The parallel item set: the same sentences, questions and prompts in every language.

One JSON file per language (`<iso639-3>.json`). Items with the same id carry the same content
in every language, which is what makes per-language numbers comparable with English.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.errors import DatasetError

REFERENCE = "eng"
TIERS = ("high", "mid", "low")


@dataclass(frozen=True)
class Language:
    """A language of the set: ISO 639-3 code, name, ISO 15924 script, resource tier, lingua name."""

    code: str
    name: str
    script: str
    tier: str
    lingua: str | None = None


@dataclass(frozen=True)
class Question:
    """A multiple-choice question; `answer` is the 0-based index of the correct choice."""

    id: str
    question: str
    choices: tuple[str, ...]
    answer: int


@dataclass
class LanguageItems:
    """Everything the suite has in one language (any part may be empty)."""

    language: Language
    sentences: dict[str, str] = field(default_factory=dict)
    questions: dict[str, Question] = field(default_factory=dict)
    prompts: dict[str, str] = field(default_factory=dict)


@dataclass
class ParallelSet:
    """Items in several languages, keyed by ISO 639-3 code; English is the reference.

    `provenance` lists the datasets the items came from (fields of a suite's `data` entries)
    when they are not the suite's own.
    """

    languages: dict[str, LanguageItems]
    source: str
    provenance: list[dict[str, str]] = field(default_factory=list)

    def shared_ids(self, part: str) -> list[str]:
        """Ids of `part` ('sentences', 'questions', 'prompts') present in every language."""
        id_sets = [set(getattr(items, part)) for items in self.languages.values()]
        return sorted(set.intersection(*id_sets)) if id_sets else []


def _language(record: Any, path: Path) -> Language:
    try:
        language = Language(code=record["code"], name=record["name"], script=record["script"],
                            tier=record["tier"], lingua=record.get("lingua"))
    except (KeyError, TypeError) as exc:
        raise DatasetError(f"{path}: `language` needs code, name, script and tier ({exc})",
                           fix="complete the `language` block of that file.") from exc
    if language.tier not in TIERS:
        raise DatasetError(f"{path}: tier {language.tier!r} is not one of {TIERS}",
                           fix="set `language.tier` to high, mid or low.")
    return language


def load_language_file(path: Path) -> LanguageItems:
    """Read and check one `<code>.json` file of the parallel set."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
        language = _language(record["language"], path)
        items = LanguageItems(
            language=language,
            sentences={s["id"]: s["text"] for s in record["sentences"]},
            questions={q["id"]: Question(q["id"], q["question"], tuple(q["choices"]),
                                         int(q["answer"])) for q in record["questions"]},
            prompts={p["id"]: p["prompt"] for p in record["prompts"]})
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise DatasetError(f"cannot read multilingual item file {path}: {exc}",
                           fix="fix the JSON file (see suites/multilingual/data/README.md "
                               "for its format).") from exc
    if language.code != Path(path).stem:
        raise DatasetError(f"{path} declares language {language.code!r}",
                           fix="name each file after its ISO 639-3 code.")
    return items


def check_parallel(items: ParallelSet) -> None:
    """Every language must have the reference's ids and the same answer to each question."""
    reference = items.languages.get(REFERENCE)
    if reference is None:
        raise DatasetError(f"the multilingual set {items.source} has no {REFERENCE} file",
                           fix="English is the reference of every relative metric; add it.")
    for code, other in items.languages.items():
        for part in ("sentences", "questions", "prompts"):
            if set(getattr(other, part)) != set(getattr(reference, part)):
                raise DatasetError(f"{items.source}: {code} and {REFERENCE} differ in which "
                                   f"{part} they hold",
                                   fix="give every language the same item ids.")
        for qid, question in other.questions.items():
            expected = reference.questions[qid]
            if question.answer != expected.answer or \
                    len(question.choices) != len(expected.choices):
                raise DatasetError(f"{items.source}: question {qid} in {code} differs from "
                                   f"{REFERENCE} in its answer or number of choices",
                                   fix="keep choices in the same order in every language.")


def load_item_set(folder: Path) -> ParallelSet:
    """Load every `<code>.json` in `folder` and check that the files are parallel."""
    files = sorted(Path(folder).glob("*.json"))
    if not files:
        raise DatasetError(f"no language files in {folder}",
                           fix="restore suites/multilingual/data/ from the repository.")
    items = ParallelSet({f.stem: load_language_file(f) for f in files}, source=str(folder))
    check_parallel(items)
    return items
