"""Requests exported for another machine come back as the same calls of the same requests, so a
GPU machine without the suites' data times exactly what a run on this machine would send."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from lm_eval.api.instance import Instance

from benchmarks.workloads import Workload, export_workloads, load_workloads


class CharacterTokenizerDouble:
    """A test double for a tokenizer (the code under test only counts tokens): one token a
    character."""

    def __call__(self, text: str) -> dict[str, list[int]]:
        return {"input_ids": [ord(c) for c in text]}


class EncodePairDouble:
    """A test double for the engine's `_encode_pair`: context and continuation as characters."""

    def _encode_pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        return [ord(c) for c in context], [ord(c) for c in continuation]


def _instances(kind: str, arguments: list[tuple]) -> list[Instance]:
    return [Instance(request_type=kind, doc={}, arguments=a, idx=0) for a in arguments]


def test_exported_workloads_load_as_the_same_calls(tmp_path: Path) -> None:
    scoring = [_instances("loglikelihood", [("Q: 2+2?", " 4"), ("Q: 2+2?", " 5")]),
               _instances("loglikelihood", [("Sky:", " blue")])]
    prompts = [_instances("generate_until", [("Hi.", {"until": ["\n\n"], "max_gen_toks": 4})])]
    workloads = [Workload("loglikelihood", "loglikelihood", [], 0, {}, scoring),
                 Workload("generation", "generate_until", [], 0, {}, prompts)]
    path = tmp_path / "requests.json.gz"
    export_workloads(workloads, path, {"limit": 3})

    model = SimpleNamespace(lm=EncodePairDouble(), tokenizer=CharacterTokenizerDouble())
    loaded, description = load_workloads(path, model)

    assert description == {"limit": 3}
    assert [w.name for w in loaded] == ["loglikelihood", "generation"]
    for original, back in zip(workloads, loaded, strict=True):
        assert [[i.args for i in call] for call in back.calls] == \
               [[i.args for i in call] for call in original.calls]
        assert all(i.request_type == original.kind for i in back.instances)
    assert loaded[0].input_tokens == len("Q: 2+2? 4") * 2 + len("Sky: blue")
    assert loaded[1].input_tokens == len("Hi.")
    assert loaded[1].instances[0].args[1] == {"until": ["\n\n"], "max_gen_toks": 4}
