"""fm-audit's inference engine: an lm-eval `LM` that batches by tokens, scores a context shared
by several continuations once, and generates greedily with sequences leaving and joining the
batch as they finish."""

from audit.engine.lm import FastLM
from audit.engine.settings import EngineSettings

__all__ = ["EngineSettings", "FastLM"]
