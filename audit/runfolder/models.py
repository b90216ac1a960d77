"""Typed models of every JSON file of a run folder; its JSON Schemas are generated from them.

The models say what a file must hold and no more: fields a renderer needs are typed, and
objects accept further keys (a newer fm-audit may add some), as the schemas always did.
`schema_documents()` turns them into the JSON Schemas that `folder.py` validates every read
and write against, and `python -m audit.runfolder.models` rewrites the committed copies in
`schemas/` (a test fails when they differ, so the models and the schemas cannot drift).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import GenerateJsonSchema

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"


class _Open(BaseModel):
    """A JSON object that may carry keys beyond those named here."""

    model_config = ConfigDict(extra="allow")


# run.json


class ModelFile(_Open):
    """One file the model was loaded from."""

    path: Any
    sha256: Any


class ModelRecord(_Open):
    """The model's provenance: its URI, scheme, name and files with sha256."""

    uri: str
    scheme: Any
    name: Any
    files: list[ModelFile]


class EngineRecord(_Open):
    """How fm-audit's engine computed the numbers."""

    numerics_version: str = None  # type: ignore[assignment]
    device: str = None  # type: ignore[assignment]
    loglikelihood: str = None  # type: ignore[assignment]
    settings: dict[str, Any] = None  # type: ignore[assignment]


class JudgeRecord(_Open):
    """The misuse suites' refusal judge."""

    spec: str = None  # type: ignore[assignment]
    name: str = None  # type: ignore[assignment]
    quality_on_test_split: dict[str, Any] = None  # type: ignore[assignment]


class RunRecord(_Open):
    """What was run: configuration, model provenance, environment, versions, seeds, status."""

    model_config = ConfigDict(extra="allow", title="fm-audit run.json")

    schema_version: int = Field(ge=1)
    run_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    status: Literal["running", "complete", "failed"]
    created: str
    finished: str | None = None
    error: str | None = None
    command: str = None  # type: ignore[assignment]
    config: dict[str, Any]
    model: ModelRecord
    environment: dict[str, Any]
    engine: EngineRecord | None = Field(
        None, description="How fm-audit's engine computed the numbers (null for other "
        "backends, e.g. a server): its numerics version (the shared request cache's key), "
        "log-likelihood path, device and batch limits.")
    suites: list[str] = None  # type: ignore[assignment]
    data_sources: dict[str, Any] = None  # type: ignore[assignment]
    judge: JudgeRecord | None = Field(
        None, description="The misuse suites' refusal judge (null when no misuse suite ran): "
        "its spec, name and version, how it was made, and its precision, recall and "
        "specificity on the test split of the labelled responses (value, n, 95% interval).")


# results.json


class MetricEntry(_Open):
    """One metric in one group: value, n, standard error, 95% CI and how it was computed."""

    metric: str
    value: float | None
    n: int = Field(ge=0)
    stderr: float | None
    ci_low: float | None
    ci_high: float | None
    ci_method: str
    evidence: Literal["decision-grade", "screening", "insufficient"] = None  # type: ignore[assignment]
    group: dict[str, str]


class Skipped(_Open):
    """A part of a suite that was not measured, and why."""

    what: Any
    reason: Any


class Sequential(_Open):
    """How a `--profile decision` run drew a suite (`audit/decision.py`): its design (absent:
    sequential, written before the fixed design), whether its metrics were controlled, the
    rule, the items used, and for a controlled suite the interval's method, the planned n
    (fixed design), what set the items used and the half-width each metric reached."""

    design: Literal["fixed", "sequential"] = None  # type: ignore[assignment]
    controlled: bool
    reason: str = None  # type: ignore[assignment]
    rule: str
    order: str = None  # type: ignore[assignment]
    items_used: int = Field(ge=0)
    items_available: int = Field(ge=0)
    maximum: int = Field(default=None, ge=0)  # type: ignore[assignment]
    method: str = None  # type: ignore[assignment]
    alpha: float = None  # type: ignore[assignment]
    precision: float = None  # type: ignore[assignment]
    chunk: int = Field(default=None, ge=1)  # type: ignore[assignment]
    reached: bool = None  # type: ignore[assignment]
    exhausted: bool = None  # type: ignore[assignment]
    planned: int | None = Field(default=None, ge=1)
    stopped_by: Literal["precision", "planned n", "decision maximum", "every item"] = None  # type: ignore[assignment]
    half_width: dict[str, float] = None  # type: ignore[assignment]
    interval_method: dict[str, str] = None  # type: ignore[assignment]
    sequence: list[str] = None  # type: ignore[assignment]


class SuiteResults(_Open):
    """Every metric of one suite, with the definitions of its metrics."""

    family: Literal["capability", "bias", "multilingual", "misuse"]
    description: str
    n_samples: int = Field(ge=0)
    limits: str = None  # type: ignore[assignment]
    correct_metric: str | None = None
    data: list[Any] = None  # type: ignore[assignment]
    skipped: list[Skipped] = None  # type: ignore[assignment]
    metric_info: dict[str, Any]
    metrics: list[MetricEntry]
    sequential: Sequential = None  # type: ignore[assignment]


class Results(_Open):
    """Every metric of every suite, with n, standard error and 95% confidence interval,
    overall and per group."""

    model_config = ConfigDict(extra="allow", title="fm-audit results.json")

    schema_version: int = Field(ge=1)
    run_id: str
    rescored: dict[str, Any] = None  # type: ignore[assignment]
    suites: dict[str, SuiteResults]


# samples.jsonl


class RequestRecord(_Open):
    """One model call an item made."""

    kind: Any
    args: Any


class SampleRecord(_Open):
    """One scored item: its requests (prompts), the model's responses and the scores."""

    model_config = ConfigDict(extra="allow", title="fm-audit samples.jsonl line")

    suite: str
    id: str
    group: dict[str, Any]
    data: dict[str, Any] = None  # type: ignore[assignment]
    requests: list[RequestRecord]
    responses: list[Any] | None
    scores: dict[str, Any]


# energy.json


class EnergyMethod(_Open):
    """Whether each component's energy was measured, estimated or absent."""

    cpu: Any
    gpu: Any
    ram: Any


class SuiteEnergy(_Open):
    """The energy of one suite, its emissions, and its cost per request and per token."""

    energy_kwh: float = Field(ge=0)
    cpu_kwh: float = None  # type: ignore[assignment]
    gpu_kwh: float = None  # type: ignore[assignment]
    ram_kwh: float = None  # type: ignore[assignment]
    emissions_kg_co2e: float = Field(ge=0)
    carbon_intensity_g_per_kwh: float | None = None
    duration_s: float = Field(ge=0)
    method: EnergyMethod
    hardware: dict[str, Any]
    country_iso_code: str = None  # type: ignore[assignment]
    n_requests: int = Field(ge=0)
    n_tokens: int | None = None
    n_correct: float | None = None
    wh_per_1000_requests: float | None
    wh_per_1000_tokens: float | None = None
    wh_per_correct_answer: float | None = None


class Energy(_Open):
    """Energy of each suite as tracked by CodeCarbon, with the method (measured or estimated)
    per component."""

    model_config = ConfigDict(extra="allow", title="fm-audit energy.json")

    schema_version: int = Field(ge=1)
    tool: str
    accuracy_note: str = None  # type: ignore[assignment]
    suites: dict[str, SuiteEnergy]


# manifest.json


class Manifest(_Open):
    """sha256 of the run's own files, written when the run completes."""

    model_config = ConfigDict(extra="allow", title="fm-audit manifest.json")

    schema_version: int = Field(ge=1)
    sha256: dict[str, str]


MODELS: dict[str, type[BaseModel]] = {
    "run.schema.json": RunRecord, "results.schema.json": Results,
    "sample.schema.json": SampleRecord, "energy.schema.json": Energy,
    "manifest.schema.json": Manifest}
"""Schema file name -> the model it is generated from."""


class _PlainSchema(GenerateJsonSchema):
    """JSON Schema as a validator reads it: no generated titles or defaults, and a nullable
    simple type written as a list of types ("number" or null)."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def default_schema(self, schema: Any) -> dict[str, Any]:
        return self.generate_inner(schema["schema"])

    def nullable_schema(self, schema: Any) -> dict[str, Any]:
        inner = self.generate_inner(schema["schema"])
        if isinstance(inner.get("type"), str):
            return {**inner, "type": [inner["type"], "null"]}
        return super().nullable_schema(schema)

    def generate(self, schema: Any, mode: Any = "validation") -> dict[str, Any]:
        return {"$schema": DIALECT, **super().generate(schema, mode)}


def schema_documents() -> dict[str, dict[str, Any]]:
    """Every run-folder JSON Schema, generated from its model, by file name."""
    return {name: model.model_json_schema(schema_generator=_PlainSchema)
            for name, model in MODELS.items()}


def schema_text(document: dict[str, Any]) -> str:
    """A schema as committed: indented JSON with a final newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    for file_name, generated in schema_documents().items():
        (SCHEMA_DIR / file_name).write_text(schema_text(generated), encoding="utf-8")
        print(f"wrote {SCHEMA_DIR / file_name}")
