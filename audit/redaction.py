"""Redaction of generated text that answers harmful requests.

Misuse suites keep every response in `samples.jsonl` (the evidence must be complete and
rescorable) but flag samples whose responses may contain harmful content with
`data["redact"] = true`. Anything meant for reading (reports, the dashboard, summaries) passes
sample records through `redact_sample` first; this is the one place that decides what is hidden.
"""

from __future__ import annotations

import copy
from typing import Any

REDACTED = "[redacted: response to a harmful request; the full text is in samples.jsonl]"


def needs_redaction(record: dict[str, Any]) -> bool:
    """Whether a sample record (as in samples.jsonl) is flagged for redaction."""
    return bool((record.get("data") or {}).get("redact"))


def redact_sample(record: dict[str, Any]) -> dict[str, Any]:
    """A copy of a sample record with its responses, and any judge evidence quoted from them,
    replaced by a placeholder when it is flagged; unflagged records are returned as copies."""
    redacted = copy.deepcopy(record)
    if not needs_redaction(record):
        return redacted
    if redacted.get("responses") is not None:
        redacted["responses"] = [REDACTED for _ in redacted["responses"]]
    verdicts = redacted.get("data", {}).get("verdicts") or {}
    for verdict in verdicts.values():
        if isinstance(verdict, dict) and "evidence" in verdict:
            verdict["evidence"] = REDACTED
    return redacted


def hidden_in_reports(record: dict[str, Any], family: str) -> bool:
    """Whether a readable report must hide this sample's output: its `data.redact` flag when
    the suite set one, and, failing safe, every output of a misuse-family suite that did not."""
    flag = (record.get("data") or {}).get("redact")
    if flag is not None:
        return bool(flag)
    return family == "misuse"


def redaction_note(text: str) -> str:
    """What a report shows instead of a hidden output: a note with its length only."""
    return f"[redacted: harmful-request output, {len(text)} chars]"
