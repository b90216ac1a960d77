"""The suite spec: the `suite.yaml` in each suite folder, validated into a typed object."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from audit.data.packs import PACK_PREFIX, DataFile
from audit.families import Family
from audit.metrics import MetricInfo
from audit.suites.profile import Profile
from audit.yamlfile import load_model_file

SPEC_FILE = "suite.yaml"


class MetricSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str
    description: str
    formula: str
    unit: str = "proportion"
    better: Literal["higher", "lower", "target"] = "higher"
    target: float | None = None
    family: str = "accuracy"
    implementation: str = ""
    limits: str = ""
    headline: bool = False


class DataSource(BaseModel):
    """Where a suite's items come from: enough to cite and re-fetch them.

    `file: pack:<pack>/<member>` names a file of a data pack (audit/data/packs.py); task YAMLs
    refer to it by the same string, and its source, version and sha256 are then read from the
    pinned pack rather than written by hand.
    """

    model_config = ConfigDict(extra="forbid")

    name: str
    source: str = ""
    file: str = ""
    version: str = ""
    licence: str
    citation: str = ""
    url: str = ""
    sha256: str = ""

    def data_file(self) -> DataFile | None:
        """The data-pack file this source names, or None for files kept in the suite."""
        if not self.file.startswith(PACK_PREFIX):
            return None
        return DataFile.from_uri(self.file, dataset=self.name, licence=self.licence,
                                 citation=self.citation, url=self.url, sha256=self.sha256)

    def provenance(self) -> dict[str, Any]:
        """What run.json records: as declared, completed from the verified pack file."""
        record = self.model_dump()
        data_file = self.data_file()
        if data_file is not None:
            record.update(data_file.provenance())
        return record


class SuiteSpec(BaseModel):
    """A suite: what it measures, how it runs and which metrics it reports."""

    model_config = ConfigDict(extra="forbid")

    name: str = ""
    family: Family
    description: str
    kind: Literal["lm_eval", "python"]
    tasks: list[str] = Field(default_factory=list)
    implementation: str = ""
    group_by: list[str] = Field(default_factory=list)
    correct_metric: str | None = None
    metrics: dict[str, MetricSpec]
    data: list[DataSource] = Field(default_factory=list)
    limits: str = ""
    profiles: dict[str, Profile] = Field(default_factory=dict)
    directory: Path | None = Field(default=None, exclude=True)

    def metric_info(self) -> dict[str, MetricInfo]:
        return {name: MetricInfo(name=name, **spec.model_dump())
                for name, spec in self.metrics.items()}


def load_spec(folder: Path, name: str) -> SuiteSpec:
    """Read and validate `folder/suite.yaml`; the suite's name is its path under `suites/`."""
    spec = load_model_file(SuiteSpec, folder / SPEC_FILE, "suite spec")
    spec.name = spec.name or name
    spec.directory = folder
    return spec
