"""The engine's numbers across processes: another process, started with the same thread
count, computing while a CPU-heavy process runs beside it, gives the same numbers to the bit;
a process with another thread count has another numerics identity
(tests/test_request_store.py checks that the shared request cache never serves one
identity's answers to another).

On the real SmolLM2 in float32 on CPU, with the request set of tests/engine_requests.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import torch

from tests.engine_requests import engine, engine_requests, run_all

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import json, sys
from audit.models.base import LoadOptions
from audit.registry import load_model
from tests.engine_requests import engine, engine_requests, run_all

model = load_model("packaged:smollm2-135m-instruct", LoadOptions(device="cpu"))
lm = engine(model, max_rows=int(sys.argv[1]))
requests = engine_requests(model)
results = None
if sys.argv[2] == "run":
    print("loaded", flush=True)
    sys.stdin.readline()  # the parent starts its CPU-heavy neighbour, then says go
    results = run_all(lm, requests)
print(json.dumps({"numerics": lm.describe()["numerics"], "results": results}))
"""
# A CPU-heavy neighbour: matrix products on every core for as long as the test needs.
HOG = """
import time, torch
a = torch.randn(512, 512)
end = time.time() + float(__import__("sys").argv[1])
while time.time() < end:
    a = torch.tanh(a @ a)
"""


def _child(threads: int, max_rows: int, neighbour: str | None = None) -> dict:
    """A new process with `threads` intra-op threads and an engine of `max_rows` rows: its
    numerics identity and, when a `neighbour` program is given, its results on the request
    set, computed while that program runs beside it (started once the child has loaded the
    model, so that only the computation shares the CPU). Without one the child runs nothing."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), PYTHONPATH=str(ROOT))
    mode = "run" if neighbour else "describe"
    with tempfile.TemporaryFile("w+") as log:
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(max_rows), mode], cwd=ROOT,
                                 env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=log, text=True)
        hog = None
        try:
            for line in child.stdout if neighbour else ():
                if line.strip() == "loaded":
                    hog = subprocess.Popen([sys.executable, "-c", neighbour, "1800"], env=dict(
                        os.environ, OMP_NUM_THREADS=str(os.cpu_count() or 2)))
                    time.sleep(1.0)
                    child.stdin.write("go\n")
                    child.stdin.flush()
                    break
            stdout, _ = child.communicate(timeout=1800)
        finally:
            child.kill()
            if hog is not None:
                hog.kill()
                hog.wait()
        log.seek(0)
        assert child.returncode == 0, log.read()[-3000:]
    assert hog is not None or not neighbour, "the child never said it had loaded the model"
    return json.loads(stdout.strip().splitlines()[-1])


def _as_json(results: dict) -> dict:
    """Results as they come back through JSON (tuples become lists; floats round-trip exactly)."""
    return json.loads(json.dumps(results))


def test_another_process_under_load_gives_the_same_numbers_to_the_bit(smollm2) -> None:
    threads = torch.get_num_threads()
    here = engine(smollm2)
    expected = _as_json(run_all(here, engine_requests(smollm2)))
    child = _child(threads, max_rows=3, neighbour=HOG)
    assert child["numerics"] == here.describe()["numerics"]
    assert child["results"] == expected


def test_another_thread_count_is_another_numerics_identity(smollm2) -> None:
    """A process with another thread count reports another numerics identity (fixed when
    its engine is built, so the child runs no request)."""
    threads = torch.get_num_threads()
    other = _child(1 if threads != 1 else 2, max_rows=32)
    assert other["numerics"] != engine(smollm2).describe()["numerics"]
