"""Claim a run folder before any model loads: every check that needs no model, done first.

A new run's id, output directory and folder are checked and the folder created and locked; a
resumed run is opened, locked and its recorded configuration compared with the options given.
These import nothing heavy, so a mistake is reported in well under a second instead of after
the model has loaded; the runner then works inside the same (re-entrant) lock.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from audit.config import RunConfig
from audit.errors import ConfigError, RunFolderError
from audit.runfolder import RunFolder
from audit.runlock import LOCK_FILE, run_lock
from audit.yamlfile import validate

FLAG_NAMES = {"country_iso_code": "--country", "request_cache": "--no-cache"}


def new_run_id(model_uri: str) -> str:
    """A readable, sortable, unique id: time plus the model name."""
    name = model_uri.split(":", 1)[-1].rstrip("/").split("/")[-1]
    safe = "".join(c if c.isalnum() or c in "._-" else "-" for c in name)[:60].strip("-.")
    return f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S%f}-{safe or 'model'}"


def discard_if_empty(folder: RunFolder) -> None:
    """Remove a run folder that never got its run.json (e.g. the model failed to load)."""
    if folder.has("run.json"):
        return
    (folder.path / LOCK_FILE).unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        folder.path.rmdir()


@contextmanager
def claimed_run(config: RunConfig) -> Iterator[RunFolder]:
    """The new run folder `config.run_id` under `config.out`, created and locked for the
    block; removed again if the block fails before writing run.json."""
    if config.run_id is None:
        raise ConfigError("a new run needs its run id before it is claimed",
                          fix="set run_id (new_run_id makes one); this is a bug in the caller.")
    folder = RunFolder.create(config.out, config.run_id)
    try:
        with run_lock(folder.path):
            if folder.has("run.json"):
                raise RunFolderError(f"run folder {folder.path} already exists",
                                     fix="continue it with --resume, or choose another "
                                         "--run-id.")
            yield folder
    finally:
        discard_if_empty(folder)


@contextmanager
def resumable_run(run: str, reports_dir: Path, flags: dict[str, Any] | None = None
                  ) -> Iterator[tuple[RunFolder, dict[str, Any], RunConfig]]:
    """An interrupted run, locked for the block: its folder, its run.json and its config.

    `flags` are the run options given beside --resume (config keys; None = not given): one
    that differs from the recorded configuration is refused, since a resumed run measures
    what it began measuring.
    """
    folder = RunFolder.open(reports_dir, run)
    with run_lock(folder.path):
        recorded = folder.read_json("run.json")
        # A run recorded before `design` existed ran the sequential decision design.
        config = validate(RunConfig, {"design": "sequential", **recorded["config"]},
                          folder.path / "run.json", "recorded run config")
        conflicts = conflicting_flags(config, flags or {})
        if conflicts:
            raise ConfigError(
                f"--resume {folder.run_id} continues the run as it was configured, and these "
                f"options differ from it: {'; '.join(conflicts)}",
                fix="drop those options to continue the run, or start a new run (without "
                    "--resume) to measure with them.")
        if recorded["status"] == "complete" and folder.has("manifest.json"):
            raise RunFolderError(f"run {folder.run_id} is already complete",
                                 fix="start a new run instead of --resume.")
        yield folder, recorded, config


def conflicting_flags(recorded: RunConfig, flags: dict[str, Any]) -> list[str]:
    """The options in `flags` that would change the recorded configuration, each as
    `--flag value (the run has value)`. `out` only locates the run."""
    given = {k: v for k, v in flags.items() if v is not None and k != "out"}
    wanted = validate(RunConfig, dict(recorded.model_dump(), **given), Path("<command line>"),
                      "run options")
    return [f"{FLAG_NAMES.get(k, '--' + k.replace('_', '-'))}"
            + ("" if isinstance(given[k], bool) else f" {given[k]!r}")
            + f" (the run has {k}={getattr(recorded, k)!r})"
            for k in given if getattr(wanted, k) != getattr(recorded, k)]
