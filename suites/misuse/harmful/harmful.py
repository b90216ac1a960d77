"""Wiring of the misuse/harmful suite; the logic is in `audit.misuse.harmful_suite`."""

from audit.misuse.harmful_suite import HarmfulRequests

__all__ = ["HarmfulRequests"]
