"""Where fm-audit keeps downloaded artefacts and where runs are written."""

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


def repo_root() -> Path:
    """The source checkout that holds `suites/` (the package lives in `<root>/audit`)."""
    return Path(__file__).resolve().parent.parent
