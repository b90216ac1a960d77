"""Lineage of a fine-tuned model: the base it was built on and the adapter applied to it, each
with the sha256 recorded in run.json, so a reader can tell which weights were audited."""

from __future__ import annotations

from typing import Any

from audit.integrity import combined_sha256


def lineage(model: dict[str, Any]) -> list[tuple[str, str]]:
    """Label/value pairs of base and adapter for a `peft:` model's run.json record; empty for a
    model with no recorded lineage. Values are plain text from the run folder (untrusted)."""
    extra = model.get("extra") or {}
    base, adapter = extra.get("base"), extra.get("adapter")
    if model.get("scheme") != "peft" or not isinstance(base, dict) \
            or not isinstance(adapter, dict):
        return []
    base_files = [f for f in base.get("files") or [] if isinstance(f, dict)]
    digests = [str(f.get("sha256")) for f in base_files]
    pairs = [("Base model", str(base.get("uri") or "not recorded")),
             ("Base weights sha256", combined_sha256(digests) if digests else "not recorded")]
    if len(base_files) > 1:
        pairs.append(("Base weights", f"{len(base_files)} files; the sha256 above is that of "
                                      "their sha256 list, in order"))
    pairs.append(("Adapter", f"{adapter.get('directory') or 'not recorded'} "
                             f"({adapter.get('peft_type') or 'type not recorded'}"
                             f"{', merged into the base' if adapter.get('merged') else ''})"))
    for record in model.get("files") or []:
        role = str(record.get("role") or "") if isinstance(record, dict) else ""
        if role.startswith("adapter"):
            pairs.append((f"{role[0].upper()}{role[1:]} sha256",
                          f"{record.get('sha256')} ({record.get('path')})"))
    config = adapter.get("config")
    trained_on = config.get("base_model_name_or_path") if isinstance(config, dict) else None
    if trained_on:
        pairs.append(("Adapter trained on (its config says)", str(trained_on)))
    return pairs
