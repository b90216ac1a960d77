"""One writer per run folder: an OS lock that a second fm-audit process respects.

`fcntl.flock` on `<run>/.lock` is released by the kernel when the process ends in any way
(kill -9 included), so a crashed run never leaves a stale lock behind. The file keeps the
holder's process id only to name it in the message a second process gets.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from audit.errors import RunFolderError

LOCK_FILE = ".lock"
_held: dict[Path, int] = {}
"""Run folders this process holds, with how many nested blocks hold each."""


@contextmanager
def run_lock(folder: Path) -> Iterator[None]:
    """Hold the exclusive lock of the run folder `folder` for the duration of the block.

    Raises RunFolderError at once (no waiting) when another process holds it, so two
    `--resume` of one run cannot both write it. Re-entrant within a process: the command
    line takes the lock before the heavy imports, the runner takes it again.
    """
    key = Path(folder).resolve()
    if key in _held:
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    path = Path(folder) / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise RunFolderError(f"cannot create the lock file {path}: {exc.strerror}",
                             fix="choose a writable output directory with --out.") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise RunFolderError(
                f"run {Path(folder).name} is being written by another fm-audit process "
                f"(pid {holder})",
                fix="wait for that process to finish, or stop it; then `fm-audit run --resume "
                    f"{Path(folder).name}` continues the run.") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        _held[key] = 1
        try:
            yield
        finally:
            del _held[key]
    finally:
        os.close(fd)
