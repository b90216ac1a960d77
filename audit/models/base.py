"""What every model plugin takes and returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from lm_eval.api.model import LM

from audit.errors import UnknownModelError
from audit.integrity import combined_sha256

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
        """The identity of the weights: the sha256 of the one recorded file, or of the list of
        every file's sha256 (an adapter and its base, sharded weights), so that a change to any
        file gives another identity."""
        if not self.files:
            return self.uri
        return combined_sha256([f["sha256"] for f in self.files])


@dataclass
class LoadedModel:
    """A model ready for suites: the lm-eval `LM`, its provenance and its tokenizer (if any)."""

    lm: LM
    provenance: ModelProvenance
    tokenizer: Any = None


def split_uri(uri: str) -> tuple[str, str]:
    """`scheme:target` -> (scheme, target), with an error that shows the expected form."""
    scheme, sep, target = uri.partition(":")
    if not sep or not scheme or not target:
        raise UnknownModelError(
            f"model URI {uri!r} is not of the form scheme:target",
            fix="write e.g. packaged:smollm2-135m-instruct, hf:./my-model or gguf:./model.gguf "
                "(see `fm-audit models`).",
        )
    return scheme, target
