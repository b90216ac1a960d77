"""Timing, memory sampling and score comparison for one backend on one workload."""

from __future__ import annotations

import os
import resource
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from lm_eval.api.model import LM

from benchmarks.workloads import Workload

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    """Resident set size of this process now (Linux), else its peak so far."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * PAGE
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class PeakRss:
    """Highest RSS seen while the block runs, sampled every 10 ms by a thread."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes())
            self._stop.wait(0.01)

    def __enter__(self) -> PeakRss:
        self.peak = rss_bytes()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())


@dataclass
class Trial:
    """One timed pass of one backend over one workload."""

    backend: str
    seconds: float
    cpu_seconds: float
    peak_rss_bytes: int
    responses: list[Any] = field(repr=False)


def run_trial(backend: str, lm: LM, workload: Workload) -> Trial:
    """Time `lm` on every request of the workload, once, in the calls a run makes: wall
    seconds, and CPU seconds of the whole process (all its threads; on a shared machine the
    CPU time is what load changes least, though a waiting thread that spins still counts)."""
    method = getattr(lm, workload.kind)
    with PeakRss() as memory:
        start, cpu_start = time.perf_counter(), time.process_time()
        responses = [r for call in workload.calls for r in method(call, disable_tqdm=True)]
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    return Trial(backend, seconds, cpu_seconds, memory.peak, responses)


def suite_scores(workload: Workload, responses: list[Any]) -> dict[str, dict[str, float]]:
    """Each capability suite's mean metrics computed from these responses by its own scorer."""
    answers = {tuple(i.args): r for i, r in zip(workload.instances, responses, strict=True)}
    scores: dict[str, dict[str, float]] = {}
    for name, (suite, samples) in workload.suites.items():
        for sample in samples:
            sample.responses = [list(answers[tuple(r.args)]) for r in sample.requests]
        suite.score(samples)
        metrics = sorted({k for s in samples for k in s.scores})
        scores[name] = {m: sum(s.scores[m] for s in samples) / len(samples) for m in metrics}
    return scores


def agreement(workload: Workload, engine: list[Any], stock: list[Any]) -> dict[str, Any]:
    """How far the engine's answers are from the stock backend's on the same requests."""
    if workload.kind == "generate_until":
        return {"identical_generations": sum(a == b for a, b in zip(engine, stock, strict=True)),
                "n": len(engine)}
    return {"max_abs_loglikelihood_difference": max(
                abs(a[0] - b[0]) for a, b in zip(engine, stock, strict=True)),
            "greedy_flags_differing": sum(a[1] != b[1] for a, b in zip(engine, stock, strict=True)),
            "n": len(engine),
            "scores_engine": suite_scores(workload, engine),
            "scores_hflm": suite_scores(workload, stock)}
