"""One line per suite on the terminal: which suite, its items, its time, the run's elapsed time
and an estimate of the time left.

The estimate is the mean time of the suites this process computed so far times the number of
suites left: suites differ in cost (a generation suite can take ten times a multiple-choice
one), so it is marked "~" and said to be rough; suites already done before a resume count as
left neither in it nor in its mean.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


def duration(seconds: float) -> str:
    """A duration for people: "4.2 s", "3 min 05 s", "1 h 02 min"."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class RunProgress:
    """Prints the progress line of each suite of a run as it finishes (to stderr by default,
    so that the summary on stdout stays clean to pipe)."""

    def __init__(self, total_suites: int, stream: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.total = total_suites
        self.stream = stream
        self._clock = clock
        self._start = self._clock()
        self._suite_start = self._start
        self._position = 0
        self._computed_seconds: list[float] = []

    def _print(self, line: str) -> None:
        print(line, file=self.stream or sys.stderr, flush=True)

    def _counter(self, name: str) -> str:
        self._position += 1
        width = len(str(self.total))
        return f"[{self._position:>{width}}/{self.total}] {name}"

    def suite_started(self) -> None:
        """Start the clock of the suite about to run."""
        self._suite_start = self._clock()

    def suite_skipped(self, name: str, reason: str) -> None:
        """A suite not computed by this process (already in the run, being resumed)."""
        self._print(f"{self._counter(name)}: {reason}")

    def suite_finished(self, name: str, n_items: int, note: str = "") -> None:
        """The line of a suite just computed: items, its time, run time and the estimate."""
        now = self._clock()
        seconds = now - self._suite_start
        self._computed_seconds.append(seconds)
        left = self.total - self._position - 1
        mean = sum(self._computed_seconds) / len(self._computed_seconds)
        eta = f"ETA ~{duration(mean * left)} (rough)" if left else "done"
        items = f"{n_items} item{'s' if n_items != 1 else ''}"
        extra = f", {note}" if note else ""
        self._print(f"{self._counter(name)}: {items} in {duration(seconds)}{extra}; "
                    f"elapsed {duration(now - self._start)}, {eta}")
