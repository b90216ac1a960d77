"""Wiring of the multilingual suite; the logic is in `audit.multilingual.multilingual_suite`."""

from audit.multilingual.multilingual_suite import MultilingualSuite

__all__ = ["MultilingualSuite"]
