"""What `fm-audit run` prints: one progress line per suite and the summary, and none of the
libraries' own progress bars or download logs unless --verbose."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from audit.progress import RunProgress, duration

# Output of the libraries an audit drives, as they print it when left alone.
THIRD_PARTY = ("Generating", "Map", "Loading weights", "%|", "Downloading")
PROGRESS_LINE = re.compile(r"^\[(\d+)/(\d+)\] (\S+): (\d+) items? in .+; elapsed .+, "
                           r"(ETA ~.+ \(rough\)|done)$")


class FakeClock:
    """A clock the test advances by hand (a unit-test double for time.monotonic)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_duration_reads_like_a_person_would_write_it() -> None:
    assert duration(4.24) == "4.2 s"
    assert duration(185) == "3 min 05 s"
    assert duration(3725) == "1 h 02 min"


def test_progress_lines_count_suites_and_estimate_from_the_mean_suite_time() -> None:
    clock, stream = FakeClock(), io.StringIO()
    progress = RunProgress(4, stream=stream, clock=clock)
    progress.suite_skipped("a/resumed", "already complete in this run")
    progress.suite_started()
    clock.now += 10
    progress.suite_finished("b/first", 12)
    progress.suite_started()
    clock.now += 30
    progress.suite_finished("c/second", 1, "skipped: the model cannot serve its requests")
    progress.suite_started()
    clock.now += 2
    progress.suite_finished("d/last", 5)
    assert stream.getvalue().splitlines() == [
        "[1/4] a/resumed: already complete in this run",
        # two suites left, mean 10 s per computed suite so far
        "[2/4] b/first: 12 items in 10.0 s; elapsed 10.0 s, ETA ~20.0 s (rough)",
        # mean of 10 s and 30 s = 20 s, one suite left
        "[3/4] c/second: 1 item in 30.0 s, skipped: the model cannot serve its requests; "
        "elapsed 40.0 s, ETA ~20.0 s (rough)",
        "[4/4] d/last: 5 items in 2.0 s; elapsed 42.0 s, done",
    ]


@pytest.mark.slow
def test_run_prints_one_line_per_suite_and_no_library_output(tmp_path: Path) -> None:
    """A real quick run from the command line, with an empty datasets cache so that the
    datasets library would print its "Generating validation split" and "Map" bars."""
    env = dict(os.environ, HF_DATASETS_CACHE=str(tmp_path / "datasets-cache"))
    for name in ("HF_DATASETS_DISABLE_PROGRESS_BARS", "HF_HUB_DISABLE_PROGRESS_BARS",
                 "TQDM_DISABLE", "TRANSFORMERS_VERBOSITY", "DATASETS_VERBOSITY"):
        env.pop(name, None)
    suites = ["capability/boolq", "bias/winobias"]
    result = subprocess.run(
        [sys.executable, "-m", "audit.cli", "run", "--suites", ",".join(suites),
         "--limit", "3", "--device", "cpu", "--out", str(tmp_path / "reports"),
         "--run-id", "terminal"],
        capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    for text in THIRD_PARTY:
        assert text not in output, f"{text!r} printed:\n{output}"
    lines = [line for line in result.stderr.splitlines() if line.startswith("[")]
    matches = [PROGRESS_LINE.match(line) for line in lines]
    assert all(matches), lines
    assert [(m[1], m[2], m[3], m[4]) for m in matches] == [
        ("1", "2", suites[0], "3"), ("2", "2", suites[1], "3")]
    assert matches[0][5].startswith("ETA ~") and matches[1][5] == "done"
    assert result.stderr.splitlines() == ["Loading model packaged:smollm2-135m-instruct",
                                          *lines]
    assert "results (95% CI):" in result.stdout
    assert "Run folder:" in result.stdout
