"""The base of suites that run on the parallel item set (the project's, or one built from
FLORES-200 and other standard sets by `audit.multilingual.hub.standard_set`)."""

from __future__ import annotations

from pathlib import Path

from audit.multilingual.items import ParallelSet, load_item_set
from audit.suites.base import Suite
from audit.suites.spec import DataSource, SuiteSpec


class ParallelSetSuite(Suite):
    """A suite over a `ParallelSet`; a set given here replaces the project's and its provenance
    replaces the spec's `data` entries, so run.json cites what was actually used."""

    def __init__(self, spec: SuiteSpec, items: ParallelSet | None = None) -> None:
        if items is not None and items.provenance:
            spec = spec.model_copy(update={"data": [DataSource(**p) for p in items.provenance]})
        super().__init__(spec)
        self._items = items
        self._skipped: list[dict[str, str]] = []

    def data_folder(self) -> Path:
        """Where the project's parallel set lives: `data/` beside the suite.yaml."""
        return (self.spec.directory or Path()) / "data"

    def item_set(self) -> ParallelSet:
        """The project's set, unless another (e.g. built from the hub) was given."""
        if self._items is None:
            self._items = load_item_set(self.data_folder())
        return self._items

    def skipped(self) -> list[dict[str, str]]:
        return list(self._skipped)

    def _skip(self, what: str, reason: str) -> None:
        self._skipped.append({"what": what, "reason": reason})
