"""Redaction of harmful-request outputs in anything meant for reading.

`samples.jsonl` keeps every response, so a run can be rescored and audited; reports, Markdown
and the dashboard's default views must not reprint what a model wrote in answer to a harmful
request. A sample is redacted when its `data.redact` is true, and, to fail safe, every
generated response of a misuse-family suite unless the suite marks it `data.redact: false`.
"""

from __future__ import annotations

from typing import Any


def should_redact(record: dict[str, Any], family: str) -> bool:
    """True when the sample's model output must not be shown in a readable report."""
    flag = (record.get("data") or {}).get("redact")
    if flag is not None:
        return bool(flag)
    return family == "misuse"


def redacted(text: str) -> str:
    """The placeholder shown instead of a harmful-request output."""
    return f"[redacted: harmful-request output, {len(text)} chars]"
