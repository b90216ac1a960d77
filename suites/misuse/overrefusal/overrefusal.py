"""Wiring of the misuse/overrefusal suite; the logic is in `audit.misuse.overrefusal_suite`."""

from audit.misuse.overrefusal_suite import OverRefusal

__all__ = ["OverRefusal"]
