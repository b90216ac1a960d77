"""Wiring of the misuse/injection suite; the logic is in `audit.misuse.injection_suite`."""

from audit.misuse.injection_suite import PromptInjection

__all__ = ["PromptInjection"]
