"""sha256 of files, and verification against pinned values."""

from __future__ import annotations

import hashlib
from pathlib import Path

from audit.errors import IntegrityError

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks so large weights do not fill memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def combined_sha256(digests: list[str]) -> str:
    """One identity for several files: the one digest itself, or the sha256 of the digests
    joined by newlines in order, so that a change to any file changes the identity."""
    if len(digests) == 1:
        return digests[0]
    return hashlib.sha256("\n".join(digests).encode()).hexdigest()


def verify_sha256(path: Path, expected: str, what: str) -> None:
    """Raise IntegrityError naming `what` when `path` does not hash to `expected`."""
    actual = sha256_file(path)
    if actual != expected:
        raise IntegrityError(
            f"{what}: sha256 mismatch for {path} (expected {expected}, got {actual}). "
            "The file is corrupt or was tampered with.",
            fix=f"delete {path} and run again to fetch a fresh copy; if it recurs, the pinned "
            "artefact changed upstream and the pin must be reviewed.",
        )
