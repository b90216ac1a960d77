"""One error family for everything a user can get wrong.

Every error says what went wrong and how to fix it; the CLI prints the message without a
traceback and exits with status 2.
"""

from __future__ import annotations


class AuditError(Exception):
    """Base of all user-facing errors: a message that names the thing and the fix."""

    exit_code = 2

    def __init__(self, message: str, fix: str | None = None) -> None:
        self.message = message
        self.fix = fix
        super().__init__(message if fix is None else f"{message}\nFix: {fix}")


class UnknownModelError(AuditError):
    """A model URI whose scheme or name no plugin knows."""


class ModelLoadError(AuditError):
    """Weights or tokenizer files that are missing, corrupt or of a refused format."""


class IntegrityError(AuditError):
    """A downloaded or cached file whose sha256 does not match the pinned value."""


class FetchError(AuditError):
    """A pinned artefact that could not be downloaded."""


class ConfigError(AuditError):
    """A malformed run configuration, suite spec or policy file."""


class SuiteError(AuditError):
    """An unknown suite, or a suite whose items cannot be run."""


class DatasetError(AuditError):
    """A dataset that is empty, unreadable or lacks a field a suite needs."""


class RunFolderError(AuditError):
    """A run folder that is missing, incomplete, unwritable or of an unknown schema."""


class ReportError(AuditError):
    """A report that cannot be written or exported."""


class UnsupportedRequest(AuditError):
    """The model backend cannot serve a kind of request (e.g. prompt log-probabilities)."""


class SignOffError(AuditError):
    """A sign-off that cannot be recorded: a bad field, an unverified run, no report to sign."""
