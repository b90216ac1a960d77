"""Capability: what the model knows and can do, per suite and per subject."""

from __future__ import annotations

from dashboard.family import family_page
from dashboard.ui import select_runs

family_page(select_runs(), "capability", "Capability",
            "How often the model gets questions with a known answer right. Compare each "
            "accuracy with its chance level, named in the metric's limits.")
