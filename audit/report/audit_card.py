"""What the model is for, as the people deploying it declare it: `audit-card.yaml`.

A run measures the model; it cannot know the intended use, the uses that are out of scope or
the deployment context. Those are declared in `audit-card.yaml` in the run folder (beside
run.json), and the report shows each as declared or "not declared". A run config's
`intended_use` is used when the card does not declare one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from audit.yamlfile import load_model_file

AUDIT_CARD = "audit-card.yaml"
NOT_DECLARED = "not declared"
MAX_TEXT = 4000


class AuditCard(BaseModel):
    """The declared purpose of the audited model: every field optional, plain text."""

    model_config = ConfigDict(extra="forbid")

    intended_use: str = Field("", max_length=MAX_TEXT)
    out_of_scope_use: str = Field("", max_length=MAX_TEXT)
    deployment_context: str = Field("", max_length=MAX_TEXT)


def declared_use(folder: Path, run: dict[str, Any]) -> list[tuple[str, str]]:
    """(heading, text) for intended use, out-of-scope use, deployment context and where they
    were declared; a missing field reads "not declared". A malformed card raises ConfigError
    naming the field and line."""
    path = Path(folder) / AUDIT_CARD
    card = load_model_file(AuditCard, path, "audit card") if path.is_file() else AuditCard()
    config_use = str((run.get("config") or {}).get("intended_use") or "")
    intended = card.intended_use.strip() or config_use.strip()
    sources = [AUDIT_CARD] if path.is_file() else []
    if config_use and not card.intended_use.strip():
        sources.append("the run config (intended_use)")
    return [("Intended use", intended or NOT_DECLARED),
            ("Out-of-scope use", card.out_of_scope_use.strip() or NOT_DECLARED),
            ("Deployment context", card.deployment_context.strip() or NOT_DECLARED),
            ("Declared in", " and ".join(sources) if sources else
             f"nowhere: write {AUDIT_CARD} in the run folder with intended_use, "
             "out_of_scope_use and deployment_context")]
