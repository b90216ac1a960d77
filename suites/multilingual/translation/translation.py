"""Wiring of the translation suite; the logic is in `audit.multilingual.translation_suite`."""

from audit.multilingual.translation_suite import TranslationSuite

__all__ = ["TranslationSuite"]
