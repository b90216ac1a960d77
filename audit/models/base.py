"""What every model plugin takes and returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from lm_eval.api.model import LM

DeviceChoice = Literal["auto", "cpu", "cuda"]


@dataclass(frozen=True)
class LoadOptions:
    """User choices that apply to any model plugin."""

    device: DeviceChoice = "auto"
    batch_size: int | Literal["auto"] = "auto"
    dtype: str = "auto"
    trust_remote_code: bool = False
    allow_pickle: bool = False


@dataclass
class ModelProvenance:
    """Where a model's weights came from, recorded in run.json so a run can be traced."""

    uri: str
    scheme: str
    name: str
    files: list[dict[str, str]] = field(default_factory=list)
    parameters: int | None = None
    dtype: str | None = None
    device: str | None = None
    architecture: str | None = None
    licence: str | None = None
    chat_template: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def fingerprint(self) -> str:
        """A short identity of the weights: the sha256 of the first recorded file."""
        return self.files[0]["sha256"] if self.files else self.uri


@dataclass
class LoadedModel:
    """A model ready for suites: the lm-eval `LM`, its provenance and its tokenizer (if any)."""

    lm: LM
    provenance: ModelProvenance
    tokenizer: Any = None
