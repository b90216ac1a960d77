"""Where fm-audit keeps downloaded artefacts, and where its suites and dashboard live."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir

CACHE_ENV = "FM_AUDIT_CACHE"


def cache_dir() -> Path:
    """Root of the artefact cache: `$FM_AUDIT_CACHE`, else the user cache directory."""
    root = os.environ.get(CACHE_ENV) or user_cache_dir("fm-audit")
    path = Path(root).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


BUNDLED = "_bundled"


def bundle_root() -> Path:
    """The folder that holds `suites/` and `dashboard/`.

    An installed wheel carries them inside the package, in `audit/_bundled/` (setup.py maps
    them there); a source checkout, editable install included, has them at its top, beside
    `audit/`. Callers use this one answer so both layouts behave the same.
    """
    package = Path(__file__).resolve().parent
    bundled = package / BUNDLED
    return bundled if bundled.is_dir() else package.parent
