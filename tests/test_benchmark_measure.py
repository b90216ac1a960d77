"""The benchmark's timing of one trial: wall seconds and the process's CPU seconds apart, so that
a round slowed by other processes on a shared machine can be told from a round that worked."""

from __future__ import annotations

import time

from benchmarks.measure import run_trial
from benchmarks.workloads import Workload


class SleepingOrSpinningBackendDouble:
    """A test double for a backend (not a model): each request either sleeps or keeps the CPU
    busy for `seconds`, and answers with its own text."""

    def __init__(self, spin: bool, seconds: float) -> None:
        self.spin = spin
        self.seconds = seconds

    def generate_until(self, requests: list[str], disable_tqdm: bool = False) -> list[str]:
        for _ in requests:
            if self.spin:
                end = time.process_time() + self.seconds
                while time.process_time() < end:
                    pass
            else:
                time.sleep(self.seconds)
        return list(requests)


def test_a_trial_counts_cpu_seconds_apart_from_wall_seconds() -> None:
    workload = Workload("double", "generate_until", [], 0, {}, [["a", "b"], ["c"]])
    asleep = run_trial("sleeping", SleepingOrSpinningBackendDouble(False, 0.1), workload)
    busy = run_trial("spinning", SleepingOrSpinningBackendDouble(True, 0.1), workload)
    assert asleep.responses == busy.responses == ["a", "b", "c"]
    assert asleep.seconds >= 0.3 and asleep.cpu_seconds < 0.1
    assert busy.cpu_seconds >= 0.3 and busy.seconds >= busy.cpu_seconds - 0.05
