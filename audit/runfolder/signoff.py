"""A reviewer's sign-off on a run: who decided what, when, on which evidence and which report.

`sign_run` appends a record to `signoff.json` in the run folder: reviewer, role, decision
(approve, reject, or approve with conditions), the UTC date, the sha256 of `manifest.json`
(which holds the sha256 of every file the run wrote) and of each report file the reviewer
read. Those report files are copied under `signed/<n>/` first, so a report rendered later
(which then shows the sign-off) does not overwrite what was signed. `check_signoffs` compares
all of it with the folder as it is now, so a run changed after sign-off is shown as such.

This detects a change to the evidence or to the signed report after the sign-off; it is not a
cryptographic signature and does not prove who signed (anyone who can write the folder can
write `signoff.json`).
"""

from __future__ import annotations

import shutil
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from audit.errors import AuditError, SignOffError
from audit.integrity import sha256_file
from audit.runfolder.folder import RUN_ID_PATTERN, SCHEMA_VERSION, RunFolder
from audit.runfolder.verification import check_evidence

SIGNOFF_FILE = "signoff.json"
SIGNED_DIR = "signed"
DECISIONS = ("approve", "reject", "conditions")
REPORT_SUFFIXES = (".html", ".md", ".pdf")
MAX_FIELD = 200
MAX_CONDITIONS = 2000


@dataclass(frozen=True)
class SignOff:
    """One recorded decision, as `signoff.json` holds it."""

    reviewer: str
    role: str
    decision: str
    conditions: str
    date: str
    manifest_sha256: str
    reports: dict[str, str]
    """Path of each signed report copy (relative to the run folder) -> its sha256."""

    def to_dict(self) -> dict[str, Any]:
        return {"reviewer": self.reviewer, "role": self.role, "decision": self.decision,
                "conditions": self.conditions, "date": self.date,
                "manifest_sha256": self.manifest_sha256, "reports": self.reports}


@dataclass(frozen=True)
class SignOffCheck:
    """A sign-off checked against the folder now: `valid` when nothing it covers changed."""

    signoff: SignOff | None
    problems: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.signoff is not None and not self.problems

    def status(self) -> str:
        """One sentence: still valid, or what changed since the sign-off."""
        if self.valid:
            return ("VERIFIED: the run's files, its manifest and the signed report are "
                    "unchanged since this sign-off")
        return "CHANGED AFTER SIGN-OFF: " + "; ".join(self.problems)


def _clean_field(value: str | None, name: str, limit: int, required: bool = True) -> str:
    """A reviewer-given text: stripped, one line unless conditions, no control characters."""
    text = (value or "").strip()
    if required and not text:
        raise SignOffError(f"the sign-off needs a {name}",
                           fix=f"pass --{name} with a non-empty value.")
    if len(text) > limit:
        raise SignOffError(f"the {name} is {len(text)} characters long (at most {limit})",
                           fix=f"shorten --{name}.")
    allowed = "\n" if name == "conditions" else ""
    if any(unicodedata.category(c)[0] == "C" and c not in allowed for c in text):
        raise SignOffError(f"the {name} holds control characters",
                           fix=f"give --{name} as plain text.")
    return text


def _read(folder: RunFolder) -> list[Any]:
    """The raw records of signoff.json (empty when there is none)."""
    if not folder.has(SIGNOFF_FILE):
        return []
    records = folder.read_json(SIGNOFF_FILE).get("signoffs")
    if not isinstance(records, list):
        raise SignOffError(f"{folder.path / SIGNOFF_FILE} has no list of sign-offs",
                           fix="restore the file; fm-audit sign writes it.")
    return records


def sign_run(folder: RunFolder, reviewer: str, role: str, decision: str,
             conditions: str | None = None, report_stem: str = "report") -> SignOff:
    """Record a reviewer's decision on a verified, complete run and the report they read
    (`<report_stem>.html/.md/.pdf` in the run folder); return the record written."""
    reviewer = _clean_field(reviewer, "reviewer", MAX_FIELD)
    role = _clean_field(role, "role", MAX_FIELD)
    if decision not in DECISIONS:
        raise SignOffError(f"unknown decision {decision!r}",
                           fix=f"use one of {', '.join(DECISIONS)}.")
    conditions = _clean_field(conditions, "conditions", MAX_CONDITIONS,
                              required=decision == "conditions")
    if conditions and decision != "conditions":
        raise SignOffError(f"--conditions given with the decision {decision!r}",
                           fix="use --decision conditions, or drop --conditions.")
    if not RUN_ID_PATTERN.match(report_stem) or ".." in report_stem:
        raise SignOffError(f"invalid report name {report_stem!r}",
                           fix="give the file name stem of a report in the run folder, "
                               "e.g. report (no slashes, no '..').")
    evidence = check_evidence(folder)
    if not evidence.verified:
        raise SignOffError(f"run {folder.run_id} is not verified evidence: {evidence.detail}",
                           fix="sign only a complete run whose files match its manifest.")
    reports = [folder.path / f"{report_stem}{suffix}" for suffix in REPORT_SUFFIXES]
    reports = [path for path in reports if path.is_file()]
    if not reports:
        raise SignOffError(f"no {report_stem}.html, .md or .pdf in {folder.path} to sign",
                           fix=f"write the report the reviewer reads first: "
                               f"`fm-audit report {folder.run_id}` (add --pdf for a PDF).")
    records = _read(folder)
    target = folder.path / SIGNED_DIR / str(len(records) + 1)
    if target.exists():
        raise SignOffError(f"{target} exists but signoff.json does not list it",
                           fix="move it away (a sign-off was interrupted or edited by hand).")
    target.mkdir(parents=True)
    copies = {}
    for path in reports:
        shutil.copyfile(path, target / path.name)
        relative = f"{SIGNED_DIR}/{target.name}/{path.name}"
        copies[relative] = sha256_file(target / path.name)
    signoff = SignOff(reviewer=reviewer, role=role, decision=decision, conditions=conditions,
                      date=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                      manifest_sha256=sha256_file(folder.path / "manifest.json"),
                      reports=copies)
    folder.write_json(SIGNOFF_FILE, {"schema_version": SCHEMA_VERSION,
                                     "signoffs": [*records, signoff.to_dict()]})
    return signoff


def _parse(record: Any) -> SignOff | None:
    """A sign-off record from the (untrusted) file, or None when it is malformed."""
    text_keys = ("reviewer", "role", "decision", "conditions", "date", "manifest_sha256")
    if not (isinstance(record, dict) and all(isinstance(record.get(k), str) for k in text_keys)
            and isinstance(record.get("reports"), dict)
            and all(isinstance(k, str) and isinstance(v, str)
                    for k, v in record["reports"].items())):
        return None
    return SignOff(**{k: record[k] for k in text_keys}, reports=dict(record["reports"]))


def _report_problem(folder: RunFolder, relative: str, digest: str) -> str | None:
    path = (folder.path / relative).resolve()
    if not path.is_relative_to((folder.path / SIGNED_DIR).resolve()):
        return f"{relative} (not a signed copy under {SIGNED_DIR}/)"
    if not path.is_file():
        return f"{relative} (deleted)"
    if sha256_file(path) != digest:
        return f"{relative} (changed)"
    return None


def check_signoff(folder: RunFolder, record: Any) -> SignOffCheck:
    """One sign-off record against the folder now: manifest, run files, signed reports."""
    signoff = _parse(record)
    if signoff is None:
        return SignOffCheck(None, ["the sign-off record is malformed"])
    problems = []
    if not folder.has("manifest.json"):
        problems.append("manifest.json (deleted)")
    elif sha256_file(folder.path / "manifest.json") != signoff.manifest_sha256:
        problems.append("manifest.json (changed)")
    evidence = check_evidence(folder)
    if not evidence.verified:
        problems.append(evidence.detail)
    if not signoff.reports:
        problems.append("no signed report listed")
    problems += filter(None, (_report_problem(folder, relative, digest)
                              for relative, digest in signoff.reports.items()))
    return SignOffCheck(signoff, problems)


def check_signoffs(folder: RunFolder) -> list[SignOffCheck]:
    """Every sign-off of the run, checked; an unreadable signoff.json is one failed check."""
    try:
        records = _read(folder)
    except AuditError as exc:
        return [SignOffCheck(None, [f"{SIGNOFF_FILE} is unreadable: {exc.message}"])]
    return [check_signoff(folder, record) for record in records]
