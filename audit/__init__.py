"""fm-audit: an evaluation and governance audit harness for foundation models."""

__version__ = "0.1.0"
