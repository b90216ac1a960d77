"""Whether a run folder is still the evidence its run wrote: one check for every reader.

`check_evidence` compares the run's own files with the sha256 that `manifest.json` recorded
when the run completed, and says plainly when that cannot be done (a run still running or
failed has no manifest yet; a complete run without one cannot be verified). Every command
that reads a run (report, compare, gate, show, rescore) and the dashboard call it and put a
warning first when the folder is not verified.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from audit.errors import AuditError
from audit.runfolder.folder import MANIFESTED, RunFolder

State = Literal["verified", "modified", "unverifiable", "incomplete"]


@dataclass(frozen=True)
class Evidence:
    """The outcome of the check: `state`, and a sentence saying what was found."""

    run_id: str
    state: State
    detail: str

    @property
    def verified(self) -> bool:
        return self.state == "verified"

    def warning(self) -> str:
        """One line for the top of any output; empty when the folder is verified."""
        if self.verified:
            return ""
        return f"WARNING: run {self.run_id} is not verified evidence: {self.detail}"


def _status(folder: RunFolder) -> str:
    try:
        return folder.run().status
    except AuditError as exc:
        return f"unreadable ({exc.message})"


def check_evidence(folder: RunFolder) -> Evidence:
    """Compare the run's files with its manifest (see the module docstring)."""
    status = _status(folder)
    if not folder.has("manifest.json"):
        if status == "complete":
            return Evidence(folder.run_id, "unverifiable",
                            "the run is complete but manifest.json is missing, so its files "
                            "cannot be checked (deleted, or the run was killed while finishing: "
                            "`fm-audit run --resume` writes it)")
        return Evidence(folder.run_id, "incomplete",
                        f"the run is {status}, not complete: no manifest yet, its files can "
                        "still change")
    try:
        recorded = folder.manifest().sha256
    except AuditError as exc:
        return Evidence(folder.run_id, "modified", f"manifest.json is unreadable: {exc.message}")
    problems = []
    for name in MANIFESTED:
        digest = recorded.get(name)
        present = folder.has(name)
        if digest is None and present:
            problems.append(f"{name} (added after the run completed)")
        elif digest is not None and not present:
            problems.append(f"{name} (deleted)")
        elif digest is not None and folder.sha256(name) != digest:
            problems.append(f"{name} (changed)")
    if status != "complete":
        problems.append(f"run.json says the run is {status}")
    if problems:
        return Evidence(folder.run_id, "modified",
                        "CHANGED since the run completed: " + ", ".join(problems))
    return Evidence(folder.run_id, "verified",
                    f"all {sum(1 for n in MANIFESTED if n in recorded)} files match "
                    "manifest.json")
