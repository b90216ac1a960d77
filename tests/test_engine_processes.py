"""The engine's numbers across processes: another process, started with the same thread count
while a CPU-heavy process runs beside it, gives the same numbers to the bit; a process with
another thread count has another numerics identity (tests/test_request_store.py checks that
the shared request cache never serves one identity's answers to another).

On the real SmolLM2 in float32 on CPU, with the request set of tests/engine_requests.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
results = run_all(lm, engine_requests(model))
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


def _child(threads: int, max_rows: int) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", CHILD, str(max_rows)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _as_json(results: dict) -> dict:
    """Results as they come back through JSON (tuples become lists; floats round-trip exactly)."""
    return json.loads(json.dumps(results))


def test_another_process_under_load_gives_the_same_numbers_to_the_bit(smollm2) -> None:
    threads = torch.get_num_threads()
    here = engine(smollm2)
    expected = _as_json(run_all(here, engine_requests(smollm2)))
    hog = subprocess.Popen([sys.executable, "-c", HOG, "1800"],
                           env=dict(os.environ, OMP_NUM_THREADS=str(os.cpu_count() or 2)))
    try:
        time.sleep(1.0)
        child = _child(threads, max_rows=3)
    finally:
        hog.kill()
        hog.wait()
    assert child["numerics"] == here.describe()["numerics"]
    assert child["results"] == expected


def test_another_thread_count_is_another_numerics_identity(smollm2) -> None:
    """A process with another thread count reports another numerics identity."""
    threads = torch.get_num_threads()
    other = _child(1 if threads != 1 else 2, max_rows=32)
    assert other["numerics"] != engine(smollm2).describe()["numerics"]
