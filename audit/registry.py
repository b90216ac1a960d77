"""The model registry: a model URI `scheme:target` resolves to a loaded model.

Built-in schemes live in `audit.models.schemes`; third parties add schemes through the
entry-point group `fm_audit.models`, whose entries are loader functions
`(target: str, options: LoadOptions) -> LoadedModel` decorated with `register_scheme`
or plain functions (then registered under the entry point's name).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points

from audit.errors import UnknownModelError
from audit.models.base import LoadedModel, LoadOptions

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "fm_audit.models"

Loader = Callable[[str, LoadOptions], LoadedModel]


@dataclass(frozen=True)
class Scheme:
    name: str
    loader: Loader
    help: str


_SCHEMES: dict[str, Scheme] = {}


def register_scheme(name: str, help: str = "") -> Callable[[Loader], Loader]:
    """Decorator: make `loader` serve URIs of the form `name:target`."""

    def decorator(loader: Loader) -> Loader:
        _SCHEMES[name] = Scheme(name, loader, help or (loader.__doc__ or "").strip())
        return loader

    return decorator


def schemes() -> dict[str, Scheme]:
    """All known schemes: built-in ones and those from installed plugins."""
    import audit.models.schemes  # noqa: F401  (registers the built-ins)
    import audit.models.servers  # noqa: F401

    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name not in _SCHEMES:
            loader = entry.load()
            _SCHEMES.setdefault(entry.name, Scheme(entry.name, loader,
                                                   (loader.__doc__ or "").strip()))
    return dict(_SCHEMES)


def split_uri(uri: str) -> tuple[str, str]:
    """`scheme:target` -> (scheme, target), with an error that shows the expected form."""
    scheme, sep, target = uri.partition(":")
    if not sep or not scheme or not target:
        raise UnknownModelError(
            f"model URI {uri!r} is not of the form scheme:target",
            fix="write e.g. packaged:smollm2-135m-instruct, hf:./my-model or gguf:./model.gguf "
                "(see `fm-audit models`).",
        )
    return scheme, target


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
