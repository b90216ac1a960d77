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


def test_generation_requests_are_handed_over_once_each_in_run_sized_calls() -> None:
    """Generation arguments carry a dict of options: the same request asked twice goes once,
    in first-seen order, and each suite's requests are cut into calls of the executor's size."""
    from audit.execution import CHUNK_SIZE
    from benchmarks.workloads import _as_a_run_calls

    options = {"until": [], "max_gen_toks": 8}
    first = [(f"prompt {i}", dict(options)) for i in range(CHUNK_SIZE + 2)]
    first.insert(3, ("prompt 1", {"max_gen_toks": 8, "until": []}))
    calls = _as_a_run_calls("generate_until", [first, [("other", dict(options))]])
    assert [len(call) for call in calls] == [CHUNK_SIZE, 2, 1]
    assert [i.args[0] for i in calls[0][:3]] == ["prompt 0", "prompt 1", "prompt 2"]
    assert calls[2][0].args == ("other", options)
