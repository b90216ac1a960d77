"""The run configuration: a YAML file validated into a typed object; CLI flags override it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from audit.yamlfile import load_yaml_mapping, validate

if TYPE_CHECKING:
    from audit.models.base import LoadOptions

DEFAULT_MODEL = "packaged:smollm2-135m-instruct"


class RunConfig(BaseModel):
    """Everything that decides what a run measures; recorded verbatim in run.json."""

    model_config = ConfigDict(extra="forbid")

    model: str = DEFAULT_MODEL
    suites: list[str] = Field(default_factory=list, description="empty: every discovered suite")
    profile: Literal["quick", "standard", "decision"] = "quick"
    limit: int | None = Field(default=None, ge=1)
    precision: float = Field(
        default=0.05, gt=0, lt=0.5,
        description="decision profile: target half-width of each controlled metric's 95% "
                    "interval (0.05 = 5 percentage points)")
    design: Literal["fixed", "sequential"] = Field(
        default="fixed",
        description="decision profile: `fixed` plans each suite's n before any answer (an "
                    "exact interval, fewest items near a mean of 0.5, one pass); `sequential` "
                    "stops on a confidence sequence (fewer items far from 0.5, more near it)")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    dtype: str = "auto"
    batch_size: int | Literal["auto"] = "auto"
    out: Path = Path("reports")
    run_id: str | None = None
    country_iso_code: str = Field(default="USA", min_length=3, max_length=3)
    pue: float = Field(default=1.0, ge=1.0, le=4.0,
                       description="power usage effectiveness of the facility (facility energy "
                                   "/ IT energy); 1.0 counts the computer's energy only")
    seed: int = Field(default=1234, ge=0, le=2**32 - 1,
                      description="NumPy accepts seeds in [0, 2**32 - 1]")
    chat_template: Literal["auto", "on", "off"] = "auto"
    num_fewshot: int | None = Field(default=None, ge=0)
    intended_use: str = ""
    trust_remote_code: bool = False
    allow_pickle: bool = False
    checkpoint_every: int = Field(default=128, ge=1,
                                  description="requests per chunk saved to the request cache")
    request_cache: bool = Field(
        default=True, description="reuse answers earlier runs stored in the shared cache")
    judge: str | None = Field(
        default=None, description="refusal judge of the misuse suites: patterns, classifier, "
                                  "embedding, multilingual-embedding or "
                                  "llm:<model uri>; unset: $FM_AUDIT_JUDGE, else patterns")

    @model_validator(mode="after")
    def _decision_draws_its_own_count(self) -> RunConfig:
        if self.profile == "decision" and self.limit is not None:
            raise ValueError("--limit cannot be combined with the decision profile, which "
                             "chooses how many items to use; drop --limit or use --profile "
                             "quick or standard")
        return self

    @field_validator("country_iso_code")
    @classmethod
    def _known_country(cls, code: str) -> str:
        from audit.energy import check_country

        return check_country(code)

    def load_options(self) -> LoadOptions:
        """The options the model loader takes (imported here: it pulls in lm-eval, and a
        config must validate in well under a second)."""
        from audit.models.base import LoadOptions

        return LoadOptions(device=self.device, batch_size=self.batch_size, dtype=self.dtype,
                           trust_remote_code=self.trust_remote_code,
                           allow_pickle=self.allow_pickle)

    def use_chat_template(self) -> bool | None:
        """True/False when forced; None lets each suite decide (generation suites use it)."""
        return {"auto": None, "on": True, "off": False}[self.chat_template]


def load_config(path: Path | None, overrides: dict[str, Any]) -> RunConfig:
    """The config file (if any) with CLI overrides applied, validated as one object."""
    data: dict[str, Any] = {}
    node = None
    if path is not None:
        data, node = load_yaml_mapping(path, "run config")
    data.update({k: v for k, v in overrides.items() if v is not None})
    return validate(RunConfig, data, path or Path("<command line>"), "run config", node)
