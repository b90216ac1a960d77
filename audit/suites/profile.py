"""A suite's run profiles (`profiles:` in suite.yaml), typed, and how a run resolves one.

A profile says how many items a run draws and how long generated answers may be. `limit` is
a number of items per suite; `per_stratum` a number per stratum of the suite's draw (an
lm-eval task, a part of the multilingual suite), either one number for every stratum or a
mapping from stratum to number (strata not named are run whole). `--limit N` overrides the
profile's counts with N items per suite. `ItemBudget` is the result, resolved once per suite
per run and recorded in results.json under `selection`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator


class Profile(BaseModel):
    """One named profile of a suite: how many items to draw, how many tokens to generate."""

    model_config = ConfigDict(extra="forbid")

    limit: PositiveInt | None = Field(default=None, description="items per suite")
    per_stratum: PositiveInt | dict[str, PositiveInt] | None = Field(
        default=None, description="items per stratum: one number for all, or per stratum")
    max_gen_toks: PositiveInt | None = Field(
        default=None, description="most new tokens per generated answer")

    @model_validator(mode="after")
    def _one_count(self) -> Profile:
        if self.limit is not None and self.per_stratum is not None:
            raise ValueError("set either `limit` (items per suite) or `per_stratum` (items "
                             "per stratum), not both")
        return self


Origin = Literal["--limit", "profile", "all items", "sequential"]


@dataclass(frozen=True)
class ItemBudget:
    """How many items a run draws from one suite, and with which seed: a profile resolved
    against the run's `--limit` and `--seed`."""

    profile: str
    seed: int
    origin: Origin
    limit: int | None = None
    per_stratum: int | dict[str, int] | None = None

    def count(self, stratum: str) -> int | None:
        """Most items of `stratum` (None: no cap for that stratum)."""
        if isinstance(self.per_stratum, dict):
            return self.per_stratum.get(stratum)
        return self.per_stratum

    def takes_all(self, available: int) -> bool:
        """Whether the run uses every one of `available` items (nothing is cut)."""
        if self.limit is not None:
            return self.limit >= available
        return self.per_stratum is None

    def record(self, available: int, used: int, method: str,
               strata: str | None = None) -> dict[str, Any]:
        """What results.json keeps of the selection: profile, counts, seed, items available
        and used, and how they were drawn."""
        return {"profile": self.profile, "origin": self.origin, "limit": self.limit,
                "per_stratum": self.per_stratum, "seed": self.seed, "strata": strata,
                "method": method if used < available else "all items",
                "items_available": available, "items_used": used}


def resolve_budget(profiles: dict[str, Profile], name: str, limit: int | None,
                   seed: int) -> ItemBudget:
    """The budget of a run with profile `name`: `--limit` (items per suite) wins over the
    profile's counts; a profile the suite does not declare runs every item."""
    if limit is not None:
        return ItemBudget(name, seed, "--limit", limit=limit)
    profile = profiles.get(name, Profile())
    if profile.limit is None and profile.per_stratum is None:
        return ItemBudget(name, seed, "all items")
    return ItemBudget(name, seed, "profile", limit=profile.limit,
                      per_stratum=profile.per_stratum)
