"""The common shape of the bias suites: items from data-pack files, a seeded subset, and the
provenance of every file read."""

from __future__ import annotations

from typing import Any, ClassVar

from audit.data.packs import DataFile
from audit.suites.base import Suite


class PackSuite(Suite):
    """A suite whose items come from data-pack files; their licence, citation and sha256 go
    into run.json next to the spec's own `data` entries."""

    files: ClassVar[tuple[DataFile, ...]] = ()

    def data_sources(self) -> list[dict[str, Any]]:
        return [file.provenance() for file in self.files] + super().data_sources()
