"""Wiring of the misuse/jailbreak suite; the logic is in `audit.misuse.jailbreak_suite`."""

from audit.misuse.jailbreak_suite import Jailbreaks

__all__ = ["Jailbreaks"]
