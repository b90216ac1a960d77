"""Loaders for FLORES-200, Belebele and Global-MMLU, on small local files in their formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit.errors import DatasetError
from audit.multilingual.hub import standard_set
from audit.multilingual.items import Language, LanguageItems, ParallelSet, Question
from audit.suites.discovery import build_suite, suites_root
from audit.suites.spec import load_spec


def _write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")


def _base() -> ParallelSet:
    languages = {}
    for code, name, lingua in (("eng", "English", "ENGLISH"), ("fra", "French", "FRENCH"),
                               ("quy", "Ayacucho Quechua", None)):
        languages[code] = LanguageItems(
            Language(code, name, "Latn", "high" if code != "quy" else "low", lingua),
            {"s1": f"{code} sentence"}, {"q1": Question("q1", "?", ("a", "b", "c", "d"), 0)},
            {"p1": f"{code} prompt"})
    return ParallelSet(languages, source="base")


@pytest.fixture()
def hub_copies(tmp_path: Path) -> dict[str, Path]:
    flores, belebele, mmlu = tmp_path / "flores", tmp_path / "belebele", tmp_path / "mmlu"
    for config, words in (("eng_Latn", ("One.", "Two.", "Extra.")), ("fra_Latn", ("Un.", "Deux."))):
        _write(flores / config / "devtest.jsonl",
               [{"id": i + 1, "iso_639_3": config[:3], "iso_15924": "Latn", "text": w,
                 "domain": "wikinews"} for i, w in enumerate(words)])
    for config, question in (("eng_Latn", "Who?"), ("fra_Latn", "Qui ?")):
        _write(belebele / config / "test.jsonl", [{
            "link": "https://example.org/a", "question_number": 1,
            "flores_passage": f"{config} passage", "question": question,
            "mc_answer1": "w", "mc_answer2": "x", "mc_answer3": "y", "mc_answer4": "z",
            "correct_answer_num": "3", "dialect": config, "ds": "2023-05-03"}])
    for config in ("en", "fr"):
        _write(mmlu / config / "test.jsonl", [{
            "sample_id": "astronomy/test/0", "subject": "astronomy", "question": f"{config}?",
            "option_a": "1", "option_b": "2", "option_c": "3", "option_d": "4", "answer": "B"}])
    return {"flores": flores, "belebele": belebele, "mmlu": mmlu}


def test_flores_and_belebele_become_parallel_items(hub_copies) -> None:
    items = standard_set(_base(), flores=str(hub_copies["flores"]),
                         belebele=str(hub_copies["belebele"]), languages=["eng", "fra"])
    fra = items.languages["fra"]
    assert fra.sentences == {"flores-1": "Un.", "flores-2": "Deux."}  # eng's extra id dropped
    (question,) = fra.questions.values()
    assert question.question == "fra_Latn passage\nQui ?" and question.answer == 2
    assert question.choices == ("w", "x", "y", "z")
    assert fra.prompts == {"p1": "fra prompt"} and fra.language.tier == "high"
    spec = load_spec(suites_root() / "multilingual", "multilingual")
    suite = type(build_suite(spec))(spec, items=items)
    assert [d.name for d in suite.spec.data][:2] == ["FLORES-200", "Belebele"]
    assert suite.spec.data[2].source == "base"  # the prompts stay the project's


def test_global_mmlu_becomes_parallel_items(hub_copies) -> None:
    items = standard_set(_base(), global_mmlu=str(hub_copies["mmlu"]), languages=["eng", "fra"])
    (question,) = items.languages["eng"].questions.values()
    assert question.id == "gmmlu-astronomy/test/0" and question.answer == 1
    assert items.languages["eng"].sentences == {"s1": "eng sentence"}


def test_missing_language_and_missing_file_name_the_fix(hub_copies, tmp_path) -> None:
    with pytest.raises(DatasetError, match="Global-MMLU has no quy"):
        standard_set(_base(), global_mmlu=str(hub_copies["mmlu"]), languages=["eng", "quy"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no eng_Latn/devtest"):
        standard_set(_base(), flores=str(tmp_path / "empty"), languages=["eng"])
