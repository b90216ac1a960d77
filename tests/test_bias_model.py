"""The bias suites with the real SmolLM2: the direction of every metric on hand-made items
whose answer is known, and CrowS-Pairs checked against lm-eval's own crows_pairs task."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import lm_eval
import pytest
from lm_eval.api.instance import Instance

from audit.bias import bbq, crows_pairs, stereoset, winobias
from audit.bias.sources import CROWS_PAIRS
from audit.execution import RequestCache, execute
from audit.suites.base import Sample, Suite
from audit.suites.discovery import select
from audit.suites.profile import ItemBudget
from audit.suites.selection import select as select_items

pytestmark = pytest.mark.slow


def _run(suite_name: str, samples: list[Sample], model, tmp_path: Path) -> dict:
    """Execute with the real model, score with the suite, and return overall metric values."""
    suite: Suite = select([suite_name])[0]
    execute(model.lm, samples, RequestCache(tmp_path / "cache.jsonl", "test"), model.tokenizer)
    suite.score(samples)
    return {m.metric: m.value for m in suite.metrics(samples) if not m.group}


def test_crows_pairs_direction(smollm2, tmp_path) -> None:
    fluent, broken = "The cat sat on the mat.", "The cat sat on the qzv."
    prefer = crows_pairs.CrowsPair("fluent-more", "test", sent_more=fluent, sent_less=broken)
    avoid = crows_pairs.CrowsPair("fluent-less", "test", sent_more=broken, sent_less=fluent)
    first = _run("bias/crows_pairs", [crows_pairs.to_sample(prefer)], smollm2, tmp_path)
    second = _run("bias/crows_pairs", [crows_pairs.to_sample(avoid)], smollm2, tmp_path)
    assert first["pct_stereotype"] == 1.0 and second["pct_stereotype"] == 0.0
    assert first["likelihood_diff"] == pytest.approx(second["likelihood_diff"])
    close = crows_pairs.CrowsPair("close", "test", sent_more=fluent,
                                  sent_less="The cat sat on the rug.")
    nearly = _run("bias/crows_pairs", [crows_pairs.to_sample(close)], smollm2, tmp_path)
    assert 0.0 < nearly["likelihood_diff"] < first["likelihood_diff"]


def test_stereoset_direction(smollm2, tmp_path) -> None:
    good, odd, nonsense = ("The chef cooked a delicious meal.", "The chef cooked a purple meal.",
                           "The chef cooked a gravel meal.")
    stereotyped = stereoset.StereoItem("a", "chef", "test", "The chef cooked a BLANK meal.",
                                       (good, odd, nonsense))
    anti = stereoset.StereoItem("b", "chef", "test", "The chef cooked a BLANK meal.",
                                (odd, good, nonsense))
    meaningless = stereoset.StereoItem("c", "chef", "test", "The chef cooked a BLANK meal.",
                                       (odd, nonsense, good))
    tok = smollm2.tokenizer
    prefers = _run("bias/stereoset", [stereoset.to_sample(stereotyped, tok)], smollm2, tmp_path)
    assert prefers == {"lm_score": 1.0, "ss": 1.0, "icat": 0.0}
    both = _run("bias/stereoset", [stereoset.to_sample(stereotyped, tok),
                                   stereoset.to_sample(anti, tok)], smollm2, tmp_path)
    assert both == {"lm_score": 1.0, "ss": 0.5, "icat": 1.0}
    confused = _run("bias/stereoset", [stereoset.to_sample(meaningless, tok)], smollm2, tmp_path)
    assert confused["lm_score"] == 0.0


def _qa_item(item_id: str, condition: str, biased: int) -> bbq.BBQItem:
    """A question whose answer the model knows (Tom lives in the capital): option 0."""
    context = "Paris is the capital of France. Tom lives in Paris and Anna lives in Rome."
    options = ("Tom", "Anna", "Cannot be determined")
    gold = 2 if condition == "ambiguous" else 0
    return bbq.BBQItem(item_id, context, "Who lives in the capital of France?", options,
                       gold=gold, unknown=2, category="test", polarity="negative",
                       biased=biased, alignment="consistent" if biased == 0 else "inconsistent")


def test_bbq_bias_score_direction(smollm2, tmp_path) -> None:
    # The model answers "Tom": labelling Tom as the stereotyped answer must give +1, labelling
    # Anna must give -1; an "ambiguous" label makes that same answer wrong (accuracy 0).
    towards = [bbq.to_sample(_qa_item("t", "disambiguated", biased=0), "test"),
               bbq.to_sample(_qa_item("ta", "ambiguous", biased=0), "test")]
    values = _run("bias/bbq_style", towards, smollm2, tmp_path)
    assert values["acc_disambig"] == 1.0 and values["acc_ambig"] == 0.0
    assert values["bias_disambig"] == 1.0 and values["bias_ambig"] == 1.0
    away = [bbq.to_sample(_qa_item("a", "disambiguated", biased=1), "test"),
            bbq.to_sample(_qa_item("aa", "ambiguous", biased=1), "test")]
    values = _run("bias/bbq_style", away, smollm2, tmp_path)
    assert values["bias_disambig"] == -1.0 and values["bias_ambig"] == -1.0
    # Consistent item answered right, inconsistent item (gold: Anna) answered "Tom": gap +1.
    wrong = dataclasses.replace(_qa_item("w", "disambiguated", biased=0), gold=1,
                                alignment="inconsistent")
    gap = _run("bias/bbq_style", [towards[0], bbq.to_sample(wrong, "test")], smollm2, tmp_path)
    assert gap["acc_gap_disambig"] == 1.0


def test_winobias_gap_direction(smollm2, tmp_path) -> None:
    # The grammatical gender decides: "she" -> queen (correct in the pro version), "he" -> king.
    item = winobias.WinoItem("k", "The king thanked the queen because [MASK] had given him a "
                             "gift.", referent="queen", distractor="king", pro_pronoun="she",
                             anti_pronoun="he", occupation_gender="female")
    values = _run("bias/winobias", [winobias.to_sample(item)], smollm2, tmp_path)
    assert values == {"acc_pro": 1.0, "acc_anti": 0.0, "acc_gap": 1.0}


def test_crows_pairs_matches_lm_eval(smollm2, tmp_path) -> None:
    """Same items through lm-eval's crows_pairs_english task (its requests, its scoring) and
    through bias/crows_pairs: identical requests, log-likelihoods and per-pair scores."""
    from lm_eval.tasks import TaskManager
    from lm_eval.tasks._yaml_loader import load_yaml

    pairs = select_items(crows_pairs.parse(CROWS_PAIRS.path()),
                         ItemBudget("test", 3, "--limit", limit=10))
    data = tmp_path / "crows.jsonl"
    data.write_text("".join(json.dumps({"sent_more": p.sent_more, "sent_less": p.sent_less,
                                        "bias_type": p.bias_type}) + "\n" for p in pairs))
    config = load_yaml(Path(lm_eval.__file__).parent / "tasks" / "crows_pairs"
                       / "crows_pairs_english.yaml")
    config.pop("tag", None)
    config.update(task="crows_pairs_check", dataset_path="json", dataset_name=None,
                  dataset_kwargs={"data_files": {"test": str(data)}})
    task = TaskManager(include_defaults=False).load([config])["tasks"]["crows_pairs_check"]
    task.build_all_requests(limit=None, rank=0, world_size=1)
    theirs: dict[int, list[Instance]] = {}
    for instance in task.instances:
        theirs.setdefault(instance.doc_id, []).append(instance)
    responses = smollm2.lm.loglikelihood(task.instances, disable_tqdm=True)
    for instance, response in zip(task.instances, responses, strict=True):
        instance.resps = [response]

    ours = [crows_pairs.to_sample(pair) for pair in pairs]
    _run("bias/crows_pairs", ours, smollm2, tmp_path)
    for doc_id, sample in enumerate(ours):
        instances = sorted(theirs[doc_id], key=lambda i: i.idx)
        assert [tuple(r.args) for r in sample.requests] == [tuple(i.args) for i in instances]
        expected = task.process_results(instances[0].doc, [i.resps[0] for i in instances])
        assert sample.scores["pct_stereotype"] == expected["pct_stereotype"]
        assert math.isclose(sample.scores["likelihood_diff"], expected["likelihood_diff"],
                            rel_tol=1e-4, abs_tol=1e-4)
