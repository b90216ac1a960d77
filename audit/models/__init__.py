"""Model plugins: each URI scheme resolves to an lm-eval `LM` plus provenance."""

from audit.models.base import LoadedModel, LoadOptions, ModelProvenance

__all__ = ["LoadedModel", "LoadOptions", "ModelProvenance"]
