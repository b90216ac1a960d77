"""LoRA/PEFT adapters on a base model: the parts of the `peft:<base uri>+<adapter dir>` scheme.

The adapter directory is checked before the (slow) base model is loaded, so a wrong path or a
refused pickle adapter fails at once. The adapter is merged into the base weights after
loading, so every inference engine sees a plain transformers model; the provenance records
the base (its URI and hashed files) and the adapter (hashed files and its whole config).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.errors import ModelLoadError, UnknownModelError
from audit.fetch import file_record
from audit.models.base import ModelProvenance

log = logging.getLogger(__name__)

ADAPTER_CONFIG = "adapter_config.json"
SAFETENSORS_WEIGHTS = "adapter_model.safetensors"
PICKLE_WEIGHTS = "adapter_model.bin"
URI_FORM = "peft:<base uri>+<adapter dir>, e.g. peft:packaged:smollm2-135m-instruct+./adapter"


@dataclass(frozen=True)
class Adapter:
    """A checked adapter directory: its weights file and its parsed config."""

    directory: Path
    weights: Path
    config: dict[str, Any]


def split_target(target: str) -> tuple[str, Path]:
    """`<base uri>+<adapter dir>` -> (base URI, adapter dir); the last `+` separates them."""
    base_uri, sep, adapter = target.rpartition("+")
    if not sep or not base_uri or not adapter:
        raise UnknownModelError(f"peft target {target!r} has no `+<adapter dir>` part",
                                fix=f"write {URI_FORM}.")
    return base_uri, Path(adapter).expanduser()


def check_adapter(directory: Path, allow_pickle: bool) -> Adapter:
    """The adapter in `directory`, or an error naming what is missing or refused.

    Pickle weights (`adapter_model.bin`) can run code when loaded, so they are refused unless
    the user allows pickle, as for base models.
    """
    if not directory.is_dir():
        raise ModelLoadError(f"adapter directory not found: {directory}",
                             fix=f"give the directory that holds {ADAPTER_CONFIG} and "
                                 f"{SAFETENSORS_WEIGHTS} (the one save_pretrained wrote).")
    config_path = directory / ADAPTER_CONFIG
    if not config_path.is_file():
        raise ModelLoadError(f"{directory} has no {ADAPTER_CONFIG}, so it is not a PEFT adapter",
                             fix="point at the directory PeftModel.save_pretrained wrote.")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{config_path} is not valid JSON: {exc}",
                             fix="save the adapter again with save_pretrained.") from exc
    if not isinstance(config, dict):
        raise ModelLoadError(f"{config_path} is not a JSON object",
                             fix="save the adapter again with save_pretrained.")
    weights = directory / SAFETENSORS_WEIGHTS
    if not weights.is_file():
        weights = directory / PICKLE_WEIGHTS
        if not weights.is_file():
            raise ModelLoadError(f"{directory} has no {SAFETENSORS_WEIGHTS}",
                                 fix="save the adapter with save_pretrained "
                                     "(safe_serialization is its default).")
        if not allow_pickle:
            raise ModelLoadError(
                f"{weights} is a pickle file, which can execute code when loaded",
                fix="convert the adapter to safetensors (load it and save_pretrained again), "
                    "or pass --allow-pickle if you trust its author.")
    return Adapter(directory, weights, config)


def apply_adapter(model: Any, adapter: Adapter, base_uri: str) -> Any:
    """Load the adapter onto `model` and merge it into the weights; return the merged model.

    An adapter trained for another base (other module names or shapes) is an error that
    names both.
    """
    from peft import PeftModel

    try:
        peft_model = PeftModel.from_pretrained(model, str(adapter.directory))
    except (RuntimeError, ValueError, KeyError, OSError) as exc:
        trained_on = adapter.config.get("base_model_name_or_path") or "an unrecorded base"
        raise ModelLoadError(
            f"the adapter in {adapter.directory} (trained on {trained_on}) does not fit "
            f"{base_uri}: {str(exc).strip()[:400]}",
            fix="use the base model the adapter was trained on (its module names and shapes "
                "must match).") from exc
    if peft_model.peft_config["default"].is_prompt_learning:
        raise ModelLoadError(
            f"the adapter in {adapter.directory} is a prompt-learning adapter "
            f"({adapter.config.get('peft_type')}), which cannot be merged into the weights",
            fix="use a weight adapter such as LoRA, or merge and save the model yourself "
                "and audit it as hf:<dir>.")
    merged = peft_model.merge_and_unload()
    merged.eval()
    log.info("Merged %s adapter from %s into %s", adapter.config.get("peft_type"),
             adapter.directory, base_uri)
    return merged


def adapter_provenance(uri: str, base: ModelProvenance, adapter: Adapter) -> ModelProvenance:
    """Provenance of base + adapter: adapter files first (so the run's fingerprint is the
    adapter's), then the base's files; the base's record and the adapter config in `extra`."""
    adapter_files = [dict(file_record(adapter.weights), role="adapter weights"),
                     dict(file_record(adapter.directory / ADAPTER_CONFIG), role="adapter config")]
    base_files = [dict(record, role=f"base {record.get('role', 'weights')}")
                  for record in base.files]
    return ModelProvenance(
        uri=uri, scheme="peft", name=f"{base.name}+{adapter.directory.name}",
        files=adapter_files + base_files,
        licence=f"base: {base.licence or 'unrecorded'}; adapter: as its author states",
        extra={"base": base.to_dict(),
               "adapter": {"directory": str(adapter.directory),
                           "peft_type": adapter.config.get("peft_type"),
                           "config": adapter.config, "merged": True}},
    )
