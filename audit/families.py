"""The suite families, declared once: the spec, the policy, the report and the dashboard all
take their list from here, so a new family is added in one place."""

from __future__ import annotations

from typing import Literal, get_args

Family = Literal["capability", "bias", "multilingual", "misuse"]
#: The families in the order reports and the dashboard show them.
FAMILIES: tuple[str, ...] = get_args(Family)
