"""The shared cross-run request cache: keys, concurrency, interrupted writes, executor use."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import torch
from lm_eval.api.model import LM

from audit.config import RunConfig
from audit.execution import RequestCache, execute
from audit.models.base import LoadedModel, ModelProvenance
from audit.request_store import SharedRequestStore, numerics_identity
from audit.runner import shared_store
from audit.suites.base import Request, Sample


class CountingLM(LM):
    """Test double for the executor (not about models): a log-likelihood that is minus the
    continuation's length, counting how many requests reach it."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def loglikelihood(self, requests):
        self.calls += len(requests)
        return [(-float(len(r.args[1])), True) for r in requests]

    def loglikelihood_rolling(self, requests):
        raise NotImplementedError

    def generate_until(self, requests):
        raise NotImplementedError


def _provenance(**changes) -> ModelProvenance:
    base = dict(uri="packaged:x", scheme="packaged", name="x", dtype="float32", device="cpu",
                files=[{"path": "w", "sha256": "ab" * 32}])
    return ModelProvenance(**(base | changes))


def _samples(n: int) -> list[Sample]:
    return [Sample(id=str(i), requests=[Request("loglikelihood", (f"Q{i}", " a" * (i % 5 + 1)))])
            for i in range(n)]


def test_identity_covers_weights_dtype_device_and_needs_hashed_weights() -> None:
    base = numerics_identity(_provenance())
    assert base != numerics_identity(_provenance(dtype="bfloat16"))
    assert base != numerics_identity(_provenance(device="cuda:0"))
    assert numerics_identity(_provenance(device="cuda:0")) == numerics_identity(
        _provenance(device="cuda:1"))
    assert numerics_identity(_provenance(files=[])) is None


def test_an_answer_is_never_served_to_another_cpu_thread_count(tmp_path: Path) -> None:
    """The thread count is part of the identity on a CPU (not on a GPU), so an answer stored
    by a process with one thread count is not found by a process with another."""
    threads = torch.get_num_threads()
    mine = numerics_identity(_provenance())
    gpu = numerics_identity(_provenance(device="cuda:0"))
    torch.set_num_threads(1 if threads != 1 else 2)
    try:
        theirs = numerics_identity(_provenance())
        assert numerics_identity(_provenance(device="cuda:0")) == gpu
    finally:
        torch.set_num_threads(threads)
    assert mine != theirs
    store = tmp_path / "store.sqlite"
    SharedRequestStore(theirs, store).put_many([("request", [-1.5, True])])
    assert SharedRequestStore(mine, store).get_many(["request"]) == {}
    assert SharedRequestStore(theirs, store).get_many(["request"]) == {"request": [-1.5, True]}


def test_identity_covers_every_weight_file() -> None:
    """An adapter's files come first and its base's after: swapping the base alone must give
    another identity, or one model's cached answers would serve another."""
    adapter = {"path": "adapter", "sha256": "cd" * 32}
    base, other_base = {"path": "w", "sha256": "ab" * 32}, {"path": "w", "sha256": "ef" * 32}
    assert numerics_identity(_provenance(files=[adapter, base])) != numerics_identity(
        _provenance(files=[adapter, other_base]))
    assert numerics_identity(_provenance(files=[adapter, base])) != numerics_identity(
        _provenance(files=[adapter]))


def test_a_second_run_reuses_the_store_and_executes_nothing(tmp_path: Path) -> None:
    store = SharedRequestStore("model-1", tmp_path / "store.sqlite")
    first, second = CountingLM(), CountingLM()
    samples = _samples(12)
    stats = execute(first, samples, RequestCache(tmp_path / "a.jsonl", "m"), store=store)
    assert (stats.n_executed, stats.n_from_store, first.calls) == (12, 0, 12)
    again = _samples(12)
    stats = execute(second, again, RequestCache(tmp_path / "b.jsonl", "m"), store=store)
    assert (stats.n_executed, stats.n_from_store, second.calls) == (0, 12, 0)
    assert [s.responses for s in again] == [s.responses for s in samples]
    assert len(RequestCache(tmp_path / "b.jsonl", "m")) == 12
    other = SharedRequestStore("model-2", tmp_path / "store.sqlite")
    assert other.get_many([r.key() for s in samples for r in s.requests]) == {}


def _writer(path: str, worker: int) -> None:
    store = SharedRequestStore("m", Path(path))
    for batch in range(20):
        store.put_many((f"req-{(worker * 7 + batch * 10 + i) % 150}", [float(i), True])
                       for i in range(10))
    store.close()


def test_concurrent_writers_leave_a_complete_readable_store(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_writer, args=(str(path), w)) for w in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    found = SharedRequestStore("m", path).get_many([f"req-{i}" for i in range(150)])
    assert len(found) == 150
    assert all(isinstance(v, list) and len(v) == 2 for v in found.values())


def _killed_mid_write(path: str) -> None:
    store = SharedRequestStore("m", Path(path))
    store.put_many([("committed", 1.0)])
    connection = store._connection
    connection.execute("BEGIN")
    connection.executemany("INSERT INTO responses (key, response) VALUES (?, ?)",
                           [(store.key(f"torn-{i}"), "2.0") for i in range(1000)])
    os._exit(9)  # dies inside the transaction, as a killed run would


def test_a_writer_killed_mid_transaction_leaves_no_partial_records(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    process = multiprocessing.get_context("fork").Process(target=_killed_mid_write,
                                                           args=(str(path),))
    process.start()
    process.join(timeout=120)
    assert process.exitcode == 9
    store = SharedRequestStore("m", path)
    assert store.get_many(["committed", "torn-0", "torn-999"]) == {"committed": 1.0}
    store.put_many([("after", 3.0)])
    assert store.get_many(["after"]) == {"after": 3.0}


def test_no_cache_setting_disables_the_store() -> None:
    model = LoadedModel(lm=CountingLM(), provenance=_provenance())
    assert shared_store(RunConfig(request_cache=False), model) is None
    assert shared_store(RunConfig(), LoadedModel(lm=CountingLM(),
                                                 provenance=_provenance(files=[]))) is None
